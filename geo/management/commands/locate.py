from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterator
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError, CommandParser

from geo.selectors import locate_points

# Enough to amortise the round trip; small enough that output starts at once.
BATCH = 5000


def _parse(text: str, where: str) -> tuple[float, float]:
    parts = [p.strip() for p in text.replace("\t", ",").split(",")]
    if len(parts) != 2:
        raise ValueError(f"{where}: expected 'lon,lat', got {text!r}")
    try:
        lon, lat = float(parts[0]), float(parts[1])
    except ValueError:
        raise ValueError(f"{where}: {text!r} is not two numbers") from None
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise ValueError(f"{where}: {text!r} is not a finite coordinate")
    return lon, lat


class Command(BaseCommand):
    help = (
        "Print the tambon, district and province of a point as JSON (null outside "
        "Thailand). 'locate -' reads lon,lat lines and writes one JSON object per line."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("lon", help="longitude, or - to read lon,lat lines from stdin")
        parser.add_argument("lat", nargs="?", help="latitude")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["lon"] == "-":
            self._stream(sys.stdin, self.stdout)
            return
        if options["lat"] is None:
            raise CommandError("give LON LAT, or - to read lon,lat lines from stdin")
        try:
            point = _parse(f"{options['lon']},{options['lat']}", "arguments")
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        [found] = locate_points([point])
        self.stdout.write(json.dumps(found.as_dict() if found else None, ensure_ascii=False))

    def _stream(self, source: TextIO, out: Any) -> None:
        """One output line per input line, in order; a bad line answers with an error
        object instead of stopping the run, so line N of the output is line N of the input."""
        for batch in _batches(source):
            points = [p for p in batch if isinstance(p, tuple)]
            found = iter(locate_points(points))
            for item in batch:
                if isinstance(item, str):
                    out.write(json.dumps({"error": item}, ensure_ascii=False))
                else:
                    located = next(found)
                    out.write(
                        json.dumps(located.as_dict() if located else None, ensure_ascii=False)
                    )


def _batches(source: TextIO) -> Iterator[list[tuple[float, float] | str]]:
    batch: list[tuple[float, float] | str] = []
    for number, line in enumerate(source, start=1):
        if not line.strip():
            batch.append(f"line {number}: empty")
        else:
            try:
                batch.append(_parse(line.strip(), f"line {number}"))
            except ValueError as exc:
                batch.append(str(exc))
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch
