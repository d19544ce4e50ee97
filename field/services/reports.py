"""The report of an import run as a CSV file the sender can open in Excel."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TextIO

from field.models import ImportRun
from field.registry.tables import defuse


def write_run_report_to(run: ImportRun, handle: TextIO) -> None:
    writer = csv.writer(handle)
    writer.writerow(["file", "row", "field", "severity", "reason"])
    for problem in run.problems.order_by("row", "pk").iterator(chunk_size=5000):
        writer.writerow(
            [
                defuse(run.file_name),
                str(problem.row),
                defuse(problem.field),
                problem.severity,
                defuse(problem.reason),
            ]
        )


def write_run_report(run: ImportRun, path: Path) -> None:
    # UTF-8 with BOM: without it Excel opens Thai text garbled.
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        write_run_report_to(run, handle)
