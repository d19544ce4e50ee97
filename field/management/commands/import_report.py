"""import_report RUN: the problems of an import run as CSV (file, row, field, severity, reason)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from field.models import ImportRun
from field.services.reports import write_run_report, write_run_report_to


class Command(BaseCommand):
    help = "Writes the report of an import run as CSV, to standard output or --output FILE."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("run", type=int, help="the run number the import printed")
        parser.add_argument("--output", type=Path, help="a file (UTF-8 with BOM, for Excel)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            run = ImportRun.objects.get(pk=options["run"])
        except ImportRun.DoesNotExist:
            raise CommandError(f"there is no import run {options['run']}") from None
        if options["output"]:
            write_run_report(run, options["output"])
        else:
            # The CSV writer ends its own lines.
            self.stdout.ending = ""
            write_run_report_to(run, self.stdout)  # type: ignore[arg-type]
