"""``manage.py check_gazetteer``: where the DOPA code list and the boundary tables differ."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Sequence
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from geo.gazetteer import DiffRow, GazetteerDiff, compare_with_boundaries

_COLUMNS = ("level", "code", "Thai", "English", "note")


def _width(text: str) -> int:
    # Thai vowel and tone marks sit above or below a letter and take no column.
    return sum(0 if unicodedata.category(c) in ("Mn", "Me", "Cf") else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def _table(rows: Sequence[DiffRow]) -> list[str]:
    cells = [_COLUMNS, *((r.level, r.code, r.name_th, r.name_en, r.note) for r in rows)]
    widths = [max(_width(row[i]) for row in cells) for i in range(len(_COLUMNS) - 1)]
    return [
        "  ".join([*(_pad(cell, w) for cell, w in zip(row, widths, strict=False)), row[-1]])
        for row in cells
    ]


class Command(BaseCommand):
    help = (
        "Compare the current DOPA code list (geothai) with the boundary tables: codes "
        "only in one of them, with names and what became of abolished codes."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
        parser.add_argument(
            "--fail-on-difference",
            action="store_true",
            help="exit with status 1 when any code is on one side only",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        diff = compare_with_boundaries()
        if options["json"]:
            self.stdout.write(json.dumps(diff.as_dict(), ensure_ascii=False, indent=2))
        else:
            self._write_report(diff)
        if options["fail_on_difference"] and diff.has_differences:
            total = len(diff.only_in_gazetteer) + len(diff.only_in_boundaries)
            raise CommandError(f"{total} codes differ", returncode=1)

    def _write_report(self, diff: GazetteerDiff) -> None:
        version = diff.gazetteer_version
        self.stdout.write(f"Gazetteer (geothai {version}) against the boundary tables")
        for lv in diff.levels:
            self.stdout.write(
                f"  {lv.level:<11} {lv.gazetteer_count:>5} in the gazetteer, "
                f"{lv.boundary_count:>5} in the boundaries, {lv.in_both:>5} in both"
            )
        self._write_side("Only in the gazetteer (no polygon)", diff.only_in_gazetteer)
        self._write_side("Only in the boundaries (not a current code)", diff.only_in_boundaries)

    def _write_side(self, title: str, rows: Sequence[DiffRow]) -> None:
        self.stdout.write("")
        self.stdout.write(self.style.MIGRATE_HEADING(f"{title}: {len(rows)}"))
        if rows:
            self.stdout.write("\n".join(_table(rows)))
