"""What the import commands share: arguments, the summary and the exit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from field.models import ImportKind, ImportRun, ImportStatus, ProblemSeverity
from field.services.imports import import_file

SHOWN_PROBLEMS = 20
COUNTS = ("imported", "unchanged", "rejected", "duplicates", "unresolved", "warnings")


def run_summary(run: ImportRun) -> dict[str, Any]:
    return {
        "run": run.pk,
        "file": run.file_name,
        "kind": run.kind,
        "affiliation": run.affiliation or None,
        "status": run.status,
        "rows": run.rows_read,
        **{name: getattr(run, name) for name in COUNTS},
        "error": run.error or None,
        "report": f"python manage.py import_report {run.pk}",
    }


class ImportCommand(BaseCommand):
    kind: ImportKind
    with_affiliation = False
    # The system checks import every page's code (the route solver, the map
    # libraries) to check the URLs: two seconds a file, for a province's dozen
    # files, spent checking what the server's start has already checked.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="CSV (UTF-8 or TIS-620) or XLSX")
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        parser.add_argument(
            "--report", type=Path, help="also write the rows' problems to this CSV file"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        run = import_file(kind=self.kind, path=path, affiliation=options.get("affiliation") or "")
        if options["report"]:
            from field.services.reports import write_run_report

            write_run_report(run, options["report"])
        summary = run_summary(run)
        if options["json"]:
            self.stdout.write(json.dumps(summary, ensure_ascii=False))
        else:
            self._print(run, summary)
        if run.status == ImportStatus.FAILED and not options["json"]:
            raise CommandError(f"{run.file_name} was not imported: {run.error}")

    def _print(self, run: ImportRun, summary: dict[str, Any]) -> None:
        counts = ", ".join(f"{summary[name]:,} {name}" for name in COUNTS)
        self.stdout.write(f"{run.file_name}: {summary['rows']:,} rows read; {counts}")
        problems = run.problems.order_by("row", "pk")[:SHOWN_PROBLEMS]
        for problem in problems:
            mark = "ERROR" if problem.severity == ProblemSeverity.ERROR else "warning"
            self.stdout.write(
                f"  {run.file_name}, row {problem.row}, {problem.field or '-'}: "
                f"{mark}: {problem.reason}"
            )
        more = run.problems.count() - len(problems)
        if more > 0:
            self.stdout.write(f"  ... and {more:,} more (--report FILE writes them all)")
