"""Benchmark: every TSPLIB instance of the shared folder through ``solve_tsplib``.

Usage (from the repository root; no database):

    .venv/bin/python bench/tsplib.py [--dir /work/shared/data/tsplib] [--seconds 1.8]

Each instance runs through the command itself (``call_command`` in this process,
with ``--json``), so what is measured is what ``manage.py solve_tsplib`` does. The
optimal lengths come from the folder's README.md table. Prints one row per instance
(gap to the optimum, seconds as the command reports them) and the goals' verdict:
gap <= 1 % and < 2 s on every instance.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
from io import StringIO
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
os.environ.setdefault("DJANGO_DEBUG", "true")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

DEFAULT_DIR = Path("/work/shared/data/tsplib")


def optima(folder: Path) -> dict[str, int]:
    table: dict[str, int] = {}
    for line in (folder / "README.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 4 and re.fullmatch(r"\d+", cells[-1]):
            table[cells[0]] = int(cells[-1])
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--seconds", type=float, default=1.8)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    best = optima(args.dir)
    files = sorted(p for p in args.dir.iterdir() if p.suffix in (".tsp", ".vrp"))
    rows = []
    print("| instance | nodes | optimum | length | gap | seconds | solver |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for path in files:
        out = StringIO()
        call_command(
            "solve_tsplib",
            str(path),
            "--json",
            "--seconds",
            str(args.seconds),
            "--seed",
            str(args.seed),
            stdout=out,
        )
        result = json.loads(out.getvalue())
        opt = best.get(path.stem)
        gap = 100.0 * (result["length"] - opt) / opt if opt else float("nan")
        rows.append((path.stem, gap, result["seconds"]))
        print(
            f"| {path.stem} | {result['nodes']} | {opt or '?'} | {result['length']} "
            f"| {gap:.2f} % | {result['seconds']:.2f} | {result['solver']} |",
            flush=True,
        )
    gaps = [g for _, g, _ in rows]
    times = [t for _, _, t in rows]
    print()
    print(
        f"instances {len(rows)}; gap mean {statistics.mean(gaps):.2f} %, max {max(gaps):.2f} %; "
        f"seconds median {statistics.median(times):.2f}, max {max(times):.2f}"
    )
    print(f"goal gap <= 1 %: {'met' if max(gaps) <= 1.0 else 'NOT met'}")
    print(f"goal < 2 s per instance: {'met' if max(times) < 2.0 else 'NOT met'}")


if __name__ == "__main__":
    main()
