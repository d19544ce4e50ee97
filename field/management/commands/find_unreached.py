"""find_unreached: the population minus every register, as cases."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from field.services.reconcile import reconcile

_SHOWN = (
    ("in_window", "children in the age window"),
    ("compulsory_age", "  of whom of compulsory age (6-15)"),
    ("enrolled", "enrolled"),
    ("dropped_out", "dropped out (ออกกลางคัน)"),
    ("never_enrolled", "never enrolled (ตกหล่น)"),
    ("graduated", "finished school"),
    ("review", "waiting for a match review"),
    ("opened", "cases opened"),
    ("closed", "cases closed"),
    ("open_cases", "cases open now"),
    ("matched_by_name", "register rows matched by name and birth date"),
    ("sent_to_review", "register rows sent to review"),
)


class Command(BaseCommand):
    help = (
        "Reconciles the population with every enrolment register for an academic year: "
        "classes children, opens and closes cases. Prints a summary, or JSON with --json."
    )
    # As for the import commands: the URL checks would load every page's code.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--academic-year", type=int, required=True, help="Buddhist era, e.g. 2568"
        )
        parser.add_argument("--min-age", type=int, help="default: TAKHAI_TARGET_MIN_AGE (3)")
        parser.add_argument("--max-age", type=int, help="default: TAKHAI_TARGET_MAX_AGE (18)")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            run = reconcile(
                academic_year=options["academic_year"],
                min_age=options["min_age"],
                max_age=options["max_age"],
            )
        except ValueError as error:
            raise CommandError(str(error)) from None
        counts = run.counts
        if options["json"]:
            self.stdout.write(json.dumps(counts, ensure_ascii=False))
            return
        self.stdout.write(
            f"academic year {counts['academic_year']}, ages {counts['age_window'][0]}-"
            f"{counts['age_window'][1]} on {counts['reference_date']}:"
        )
        for key, label in _SHOWN:
            self.stdout.write(f"  {counts[key]:>9,}  {label}")
