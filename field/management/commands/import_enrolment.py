from typing import Any

from django.core.management.base import CommandParser

from field.management.commands._importing import ImportCommand
from field.models import Affiliation, ImportKind


class Command(ImportCommand):
    help = (
        "Imports one affiliation's enrolment register (CSV or XLSX); prints a summary, "
        "or JSON with --json."
    )
    kind = ImportKind.ENROLMENT

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--affiliation",
            required=True,
            choices=Affiliation.values,
            help="whose register: "
            + ", ".join(f"{c} ({label})" for c, label in Affiliation.choices),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        super().handle(*args, **options)
