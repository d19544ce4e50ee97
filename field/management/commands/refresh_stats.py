"""refresh_stats: bring the per-area statistics of the national map up to date."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from field.services.stats import stats_refresh, stats_refresh_changed


class Command(BaseCommand):
    help = (
        "Recounts the per-area statistics (AreaStat) of an academic year: only the tambons "
        "changed since the last run, or every area with --full. Prints what it did, or JSON "
        "with --json."
    )
    # As for the other data commands: the URL checks would load every page's code.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--academic-year", type=int, required=True, help="Buddhist era, e.g. 2568"
        )
        parser.add_argument(
            "--full", action="store_true", help="recount every area, not only the changed ones"
        )
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        year = options["academic_year"]
        try:
            if options["full"]:
                result = stats_refresh(academic_year=year)
            else:
                result = stats_refresh_changed(academic_year=year)
        except ValueError as error:
            raise CommandError(str(error)) from None
        if options["json"]:
            self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False))
            return
        how = "full refresh" if result.full else "changed tambons only"
        self.stdout.write(
            f"academic year {result.academic_year}, {how}: "
            f"{result.tambons_recounted:,} tambons recounted, "
            f"{result.rows_written:,} rows written, {result.rows_deleted:,} deleted "
            f"in {result.seconds:.2f} s"
        )
