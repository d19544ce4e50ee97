"""Benchmark: the registry pipeline, from files to cases, against PostgreSQL's COPY.

Usage (from the repository root, in a database of its own, because it empties the
registry tables, the schools and the villages):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/takhai_bench \\
        .venv/bin/python bench/registry_pipeline.py [--rows 1000000] [--enrolment 900000]
        [--repeat 1] [--parallel] [--keep DIR] [--save]

It generates (``bench/registry_data.py``, seeded, not timed) villages, schools,
a population extract and the enrolment registers of 2567 and 2568 on the real
tambons of the database, with known faults and the truth of every row. Then, for
each repeat, from empty registry tables:

1. the pipeline, through the real management commands, one subprocess each,
   timed one by one with the peak memory (max RSS) of each process:
   ``import_villages``, ``import_schools``, ``import_population``,
   ``import_enrolment`` per affiliation, ``find_unreached --academic-year 2568``;
   with ``--parallel``, a second run imports the registers while the population
   imports (two cores; they are independent until ``find_unreached``);
2. the baseline: PostgreSQL's own ``COPY`` of the same files into bare tables of
   text columns (no index, no constraint), through psycopg2.

After the last run it checks the database against the truth: matching
precision and recall of register rows (overall and per fault), each child's
class for 2568, and how many households are placed at a village or better.
Medians of the repeats are reported; these machines are shared and noisy.
Peak memory is that of the command processes; PostgreSQL's own is not counted.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import platform
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
os.environ.setdefault("DJANGO_DEBUG", "true")

import django  # noqa: E402

django.setup()

import shapely  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from registry_data import (  # noqa: E402
    ACADEMIC_YEAR,
    CLASSES,
    FAULT_BIT,
    SEED,
    Tambon,
    be_to_iso,
    generate,
    generator_version,
    postcode,
    row_key,
)

from geo.boundaries import import_boundaries  # noqa: E402
from geo.models import Subdistrict  # noqa: E402

REGISTRY_TABLES = (
    "field_visit",
    "field_case",
    "field_childyear",
    "field_matchreview",
    "field_enrolment",
    "field_child",
    "field_household",
    "field_importproblem",
    "field_importrun",
    "field_reconciliation",
    "field_school",
    "geo_village",
    "geo_villagecluster",
)
GOAL_RATIO = 5.0
GOAL_SECONDS = 60.0
GOAL_RSS_MB = 2048.0
GOAL_MATCHING = 0.99
GOAL_VILLAGE_SHARE = 0.95
PLACED_AT_VILLAGE_OR_BETTER = ("field_gps", "given", "village")
TIME = Path("/usr/bin/time")
EXAMPLES = 10
BARE_COLUMNS = {"villages": 4, "schools": 8, "population": 15, "enrolment": 9}


@dataclass
class Step:
    name: str
    seconds: float
    rows: int
    max_rss_mb: float
    output: dict[str, Any] | None = None
    reading_s: float | None = None
    """An import's two phases, from its ImportRun: reading the file into staging..."""
    applying_s: float | None = None
    """...and the one transaction that applies it."""


@dataclass
class Run:
    mode: str
    steps: list[Step] = field(default_factory=list)
    seconds: float = 0.0
    """Wall time of the whole pipeline; in parallel mode less than the sum of steps."""


# --- data -----------------------------------------------------------------------------


def ensure_boundaries() -> None:
    if Subdistrict.objects.count() == 7425:
        return
    files = [settings.BOUNDARIES_DIR / f"tha_adm{n}.geojson" for n in (1, 2, 3)]
    print(f"importing boundaries from {settings.BOUNDARIES_DIR}", file=sys.stderr)
    import_boundaries(files)


def tambons_from_database() -> list[Tambon]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.code, s.name_th, d.code, d.name_th, p.code, p.name_th, ST_AsBinary(s.geom) "
            "FROM geo_subdistrict s JOIN geo_district d ON d.code = s.district_id "
            "JOIN geo_province p ON p.code = d.province_id ORDER BY s.code"
        )
        rows = cursor.fetchall()
    return [
        Tambon(
            code=code,
            name=name,
            district_code=district,
            district_name=district_name,
            province_code=province,
            province_name=province_name,
            postcode=postcode(code),
            geom=shapely.from_wkb(bytes(wkb)),
        )
        for code, name, district, district_name, province, province_name, wkb in rows
    ]


def prepare_data(args: argparse.Namespace) -> tuple[Path, dict[str, Any], bool]:
    """(directory, truth, whether to delete the directory at the end). A kept
    directory made with the same sizes and seed is reused as it is."""
    if args.keep is not None:
        directory = Path(args.keep)
        truth_path = directory / "truth.json"
        if truth_path.exists():
            truth = json.loads(truth_path.read_text(encoding="utf-8"))
            made_with = (
                truth["population_rows"],
                truth["enrolment_rows"],
                truth["seed"],
                truth.get("generator"),
            )
            if made_with == (args.rows, args.enrolment, args.seed, generator_version()):
                print(f"reusing the files in {directory}", file=sys.stderr)
                return directory, truth, False
    directory = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="takhai-bench-"))
    start = time.perf_counter()
    generate(
        tambons_from_database(), directory, rows=args.rows, enrolment=args.enrolment, seed=args.seed
    )
    truth = json.loads((directory / "truth.json").read_text(encoding="utf-8"))
    print(f"generated {directory} in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return directory, truth, args.keep is None


def enrolment_files(truth: dict[str, Any]) -> list[tuple[str, str, int]]:
    """(file name, affiliation, rows), largest first: they run in that order."""
    files = [
        (name, info["affiliation"], len(info["true_ids"])) for name, info in truth["files"].items()
    ]
    return sorted(files, key=lambda f: -f[2])


def reset_tables() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_name = ANY(%s)",
            [list(REGISTRY_TABLES)],
        )
        present = [name for (name,) in cursor.fetchall()]
        if present:
            cursor.execute(f"TRUNCATE {', '.join(present)} RESTART IDENTITY CASCADE")


# --- the pipeline -------------------------------------------------------------------------


def command_env() -> dict[str, str]:
    env = dict(os.environ)
    # Without DEBUG Django keeps no log of queries, as in production.
    env["DJANGO_DEBUG"] = "false"
    if not env.get("DJANGO_SECRET_KEY") and not env.get("DJANGO_SECRET_KEY_FILE"):
        env["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(50)
    return env


def run_command(name: str, arguments: Sequence[str], rows: int) -> Step:
    """One management command in its own process: wall time, peak memory and its
    JSON output.

    The peak comes from ``/usr/bin/time -v``, not from ``wait4``: a child that
    Python starts with vfork reports the parent's own peak as part of its
    ``ru_maxrss`` (exec keeps the high-water mark of the memory it replaces), so
    every step would seem to take at least what this process holds."""
    with tempfile.TemporaryDirectory() as scratch:
        out, err, usage = (Path(scratch) / n for n in ("out", "err", "usage"))
        argv = [sys.executable, str(ROOT / "manage.py"), *arguments]
        if TIME.exists():
            argv = [str(TIME), "-v", "-o", str(usage), *argv]
        with out.open("wb") as stdout, err.open("wb") as stderr:
            start = time.perf_counter()
            returncode = subprocess.call(
                argv, cwd=ROOT, env=command_env(), stdout=stdout, stderr=stderr
            )
            seconds = time.perf_counter() - start
        text = out.read_text(encoding="utf-8", errors="replace")
        if returncode != 0:
            problem = err.read_text(encoding="utf-8", errors="replace")[-3000:]
            raise RuntimeError(f"{' '.join(arguments)} exited with {returncode}:\n{problem}")
        peak_kib = 0
        if usage.exists():
            for line in usage.read_text().splitlines():
                if "Maximum resident set size" in line:
                    peak_kib = int(line.rsplit(":", 1)[1])
    output = None
    for line in reversed(text.strip().splitlines()):
        try:
            output = json.loads(line)
            break
        except ValueError:
            continue
    if isinstance(output, dict) and output.get("status") == "failed":
        print(f"{name}: the file was refused: {output.get('error')}", file=sys.stderr)
    return Step(name, seconds, rows, peak_kib / 1024, output)


class PhaseWatch:
    """Notes when each import run begins to apply its file, and when it is done.

    ImportRun records when a run started and when it finished, but not when it
    began to apply, and its ``finished_at`` is written before the commit, which
    for a million rows is no small part; so a thread polls the runs' status and
    keeps when each status was first seen (a quarter-second resolution is plenty
    for phases of seconds to minutes)."""

    INTERVAL = 0.25

    def __init__(self) -> None:
        self.seen: dict[tuple[int, str], float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> PhaseWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _poll(self) -> None:
        try:
            while not self._stop.wait(self.INTERVAL):
                with connection.cursor() as cursor:
                    cursor.execute("SELECT id, status FROM field_importrun")
                    now = time.time()
                    for pk, status in cursor.fetchall():
                        self.seen.setdefault((pk, status), now)
        finally:
            connection.close()  # this thread's own connection

    def phases(self, steps: list[Step]) -> None:
        """Reading: from the run's start to the first sight of "applying";
        applying: from then to the first sight of "done", the commit included."""
        by_name = {s.name: s for s in steps}
        with connection.cursor() as cursor:
            cursor.execute("SELECT id, kind, affiliation, started_at FROM field_importrun")
            for pk, kind, affiliation, started in cursor.fetchall():
                step = by_name.get(f"import_{kind} {affiliation}".strip())
                applying = self.seen.get((pk, "applying"))
                done = self.seen.get((pk, "done"))
                if step is None or applying is None or done is None:
                    continue
                step.reading_s = max(0.0, applying - started.timestamp())
                step.applying_s = max(0.0, done - applying)


def run_pipeline(directory: Path, truth: dict[str, Any], *, parallel: bool) -> Run:
    with PhaseWatch() as watch:
        run = _run_pipeline(directory, truth, parallel=parallel)
    watch.phases(run.steps)
    return run


def _run_pipeline(directory: Path, truth: dict[str, Any], *, parallel: bool) -> Run:
    run = Run("parallel" if parallel else "sequential")
    start = time.perf_counter()
    run.steps.append(
        run_command(
            "import_villages",
            ["import_villages", str(directory / "villages.csv"), "--json"],
            truth["villages"],
        )
    )
    run.steps.append(
        run_command(
            "import_schools",
            ["import_schools", str(directory / "schools.csv"), "--json"],
            truth["schools"],
        )
    )

    def population() -> Step:
        return run_command(
            "import_population",
            ["import_population", str(directory / "population.csv"), "--json"],
            truth["population_rows"],
        )

    def registers() -> list[Step]:
        return [
            run_command(
                f"import_enrolment {affiliation}",
                ["import_enrolment", str(directory / name), "--affiliation", affiliation, "--json"],
                rows,
            )
            for name, affiliation, rows in enrolment_files(truth)
        ]

    if parallel:
        results: dict[str, Any] = {}
        errors: list[BaseException] = []

        def keep(key: str, work: Callable[[], object]) -> None:
            try:
                results[key] = work()
            except BaseException as error:  # re-raised below, in the main thread
                errors.append(error)

        thread = threading.Thread(target=keep, args=("registers", registers))
        thread.start()
        keep("population", population)
        thread.join()
        if errors:
            raise errors[0]
        run.steps.append(results["population"])
        run.steps.extend(results["registers"])
    else:
        run.steps.append(population())
        run.steps.extend(registers())
    run.steps.append(
        run_command(
            "find_unreached",
            ["find_unreached", "--academic-year", str(ACADEMIC_YEAR), "--json"],
            truth["population_rows"],
        )
    )
    run.seconds = time.perf_counter() - start
    return run


def startup_seconds() -> float:
    """What starting Python and Django costs each command, before any work."""
    return run_command("startup", ["shell", "-c", "pass"], 0).seconds


# --- the baseline -----------------------------------------------------------------------


def copy_baseline(directory: Path, truth: dict[str, Any]) -> list[Step]:
    """COPY of every file the pipeline reads, each committed, into bare text tables."""
    files = [
        ("villages.csv", "villages", truth["villages"]),
        ("schools.csv", "schools", truth["schools"]),
        ("population.csv", "population", truth["population_rows"]),
    ] + [(name, "enrolment", rows) for name, _, rows in enrolment_files(truth)]
    steps = []
    with connection.cursor() as cursor:
        for table, width in BARE_COLUMNS.items():
            cursor.execute(f"DROP TABLE IF EXISTS bench_copy_{table}")
            columns = ", ".join(f"c{i} text" for i in range(width))
            cursor.execute(f"CREATE TABLE bench_copy_{table} ({columns})")
    # Django's connection is in autocommit mode: each COPY commits on its own.
    for name, table, rows in files:
        start = time.perf_counter()
        # HEADER skips the first line whole, the BOM of population.csv with it.
        with connection.cursor() as cursor, (directory / name).open("rb") as handle:
            cursor.copy_expert(
                f"COPY bench_copy_{table} FROM STDIN WITH (FORMAT csv, HEADER true)", handle
            )
        steps.append(Step(f"COPY {name}", time.perf_counter() - start, rows, 0.0))
    with connection.cursor() as cursor:
        for table in BARE_COLUMNS:
            cursor.execute(f"DROP TABLE bench_copy_{table}")
    return steps


# --- quality -----------------------------------------------------------------------------


def truth_by_key(directory: Path, truth: dict[str, Any]) -> dict[str, tuple[str, int]]:
    """Register rows by (year, school, names, birth date as written) -> (true ID, faults)."""
    found: dict[str, tuple[str, int]] = {}
    for name, info in truth["files"].items():
        with (directory / name).open(encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle)
            next(reader)
            for record, true_id, faults in zip(
                reader, info["true_ids"], info["faults"], strict=True
            ):
                _, first, last, birth, school, _, _, year, _ = record
                found[f"{year}|{row_key(school, first, last, be_to_iso(birth))}"] = (
                    true_id,
                    faults,
                )
    return found


def matching_quality(directory: Path, truth: dict[str, Any]) -> dict[str, Any]:
    expected = truth_by_key(directory, truth)
    stats: dict[str, Counter[str]] = {}
    seen: set[str] = set()
    unmapped: list[list[str]] = []
    misses: list[dict[str, Any]] = []

    def count(group: str, what: str) -> None:
        stats.setdefault(group, Counter())[what] += 1

    # A server-side cursor: 900,000 rows need not be in memory at once.
    with connection.chunked_cursor() as cursor:
        cursor.execute(
            "SELECT e.academic_year, e.school_code, e.first_name, e.last_name, e.birth_date, "
            "e.national_id, e.match_method, c.national_id FROM field_enrolment e "
            "LEFT JOIN field_child c ON c.id = e.child_id"
        )
        while batch := cursor.fetchmany(20_000):
            for year, school, first, last, birth, written, method, child_id in batch:
                birth_iso = birth.isoformat() if birth else ""
                key = f"{year}|{row_key(school, first, last, birth_iso)}"
                if key not in expected:
                    unmapped.append([str(year), school, first, last, birth_iso, written])
                    continue
                seen.add(key)
                true_id, faults = expected[key]
                for group in groups_of(faults):
                    count(group, "stored")
                    if method == "review":
                        count(group, "review")
                    if child_id is not None:
                        count(group, "assigned")
                        count(group, "correct" if child_id == true_id else "wrong")
                findable = not faults & FAULT_BIT["not_in_population"]
                if child_id != true_id and (findable or child_id is not None):
                    misses.append(
                        {
                            "row": [str(year), school, first, last, birth_iso, written],
                            "faults": fault_names(faults),
                            "true_id": true_id,
                            "matched_to": child_id,
                            "method": method,
                        }
                    )
    absent = []
    for key, (true_id, faults) in expected.items():
        for group in groups_of(faults):
            count(group, "rows")
            if not faults & FAULT_BIT["not_in_population"]:
                count(group, "findable")
            if key not in seen:
                count(group, "absent")
        if key not in seen:
            absent.append({"key": key, "true_id": true_id, "faults": fault_names(faults)})
    table = {}
    for group in ["all", "clean", *FAULT_BIT]:
        c = stats.get(group, Counter())
        table[group] = {
            "rows": c["rows"],
            "stored": c["stored"],
            "absent": c["absent"],
            "assigned": c["assigned"],
            "correct": c["correct"],
            "wrong": c["wrong"],
            "review": c["review"],
            "precision": c["correct"] / c["assigned"] if c["assigned"] else None,
            # Only rows whose child is in the population can be found; every
            # assigned row counts for precision.
            "recall": c["correct"] / c["findable"] if c["findable"] else None,
        }
    # Examples, so that a miss can be looked up in the files and the database.
    return {
        "unmapped_database_rows": len(unmapped),
        "by_fault": table,
        "examples": {
            "unmapped_database_rows": unmapped[:EXAMPLES],
            "absent_rows": absent[:EXAMPLES],
            "misses": misses[: 4 * EXAMPLES],
        },
    }


def fault_names(faults: int) -> list[str]:
    return [name for name, bit in FAULT_BIT.items() if faults & bit]


def groups_of(faults: int) -> list[str]:
    groups = ["all"]
    if not faults:
        groups.append("clean")
    groups += [name for name, bit in FAULT_BIT.items() if faults & bit]
    return groups


def classification_quality(truth: dict[str, Any]) -> dict[str, Any]:
    expected = {i: name for name in CLASSES for i in truth["classes"][name]}
    found: dict[str, str] = {}
    blank: Counter[str] = Counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.national_id, y.status FROM field_childyear y "
            "JOIN field_child c ON c.id = y.child_id WHERE y.academic_year = %s",
            [ACADEMIC_YEAR],
        )
        for national_id, status in cursor.fetchall():
            if national_id:
                found[national_id] = status
            else:
                blank[status] += 1
    table: dict[str, Any] = {}
    for name in CLASSES:
        got = Counter(found.get(i, "missing") for i in truth["classes"][name])
        total = len(truth["classes"][name])
        table[name] = {
            "children": total,
            "agree": got[name],
            "share": got[name] / total if total else None,
            "as": dict(sorted(got.items())),
        }
    extra = Counter(status for i, status in found.items() if i not in expected)
    agree = sum(row["agree"] for row in table.values())
    return {
        "by_class": table,
        "overall_share": agree / max(len(expected), 1),
        "not_in_truth_window": dict(extra),
        "without_id": {
            "expected_never_enrolled": truth["never_enrolled_without_id"],
            "found": dict(blank),
        },
    }


def household_quality(truth: dict[str, Any]) -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT precision, count(*) FROM field_household GROUP BY precision")
        by_precision = dict(cursor.fetchall())
        wrong_tambon = resolved = 0
        misspelled = truth["misspelled_tambons"]
        cursor.execute(
            "SELECT c.national_id, h.subdistrict_id FROM field_child c "
            "JOIN field_household h ON h.id = c.household_id WHERE c.national_id = ANY(%s)",
            [[m["national_id"] for m in misspelled]],
        )
        placed = dict(cursor.fetchall())
    for m in misspelled:
        got = placed.get(m["national_id"])
        if got == m["tambon"]:
            resolved += 1
        elif got is not None:
            wrong_tambon += 1
    total = sum(by_precision.values())
    good = sum(by_precision.get(p, 0) for p in PLACED_AT_VILLAGE_OR_BETTER)
    return {
        "households": total,
        "expected_households": truth["households"],
        "by_precision": by_precision,
        "village_or_better": good / total if total else 0.0,
        "expected_village_or_better": truth["population"]["expected_village_or_better"],
        "misspelled_tambons": {
            "households": len(misspelled),
            "resolved": resolved,
            "wrong_tambon": wrong_tambon,
        },
    }


# --- report ------------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def memory_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024**2
    except OSError:
        pass
    return 0.0


def median_steps(runs: list[Run]) -> list[dict[str, Any]]:
    names = [s.name for s in runs[0].steps]
    rows = []
    for i, name in enumerate(names):
        seconds = statistics.median(r.steps[i].seconds for r in runs)
        step = runs[0].steps[i]
        rows.append(
            {
                "step": name,
                "seconds": seconds,
                "rows": step.rows,
                "rows_per_s": step.rows / seconds if seconds and step.rows else None,
                "max_rss_mb": max(r.steps[i].max_rss_mb for r in runs),
                "reading_s": median_of([r.steps[i].reading_s for r in runs]),
                "applying_s": median_of([r.steps[i].applying_s for r in runs]),
                "output": runs[-1].steps[i].output,
            }
        )
    return rows


def median_of(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def seconds_or_dash(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def percent(value: float | None) -> str:
    # Three decimals: at a million rows, 17 misses are 99.998%, not "100.00%".
    return "-" if value is None else f"{100 * value:.3f}%"


def markdown(report: dict[str, Any]) -> str:
    lines = [
        f"Registry pipeline, {report['rows']:,} population rows, {report['enrolment']:,} "
        f"register rows, {report['date']}, {report['machine']}, median of {report['repeat']}",
        "",
        f"Code: {report['code']}",
        "",
    ]
    for mode, figures in report["pipeline"].items():
        lines += [
            f"Pipeline ({mode}):",
            "",
            "| step | wall s | reading s | applying s | rows | rows/s | peak RSS MB |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for s in figures["steps"]:
            rate = f"{s['rows_per_s']:,.0f}" if s["rows_per_s"] else "-"
            lines.append(
                f"| {s['step']} | {s['seconds']:.2f} | {seconds_or_dash(s['reading_s'])} | "
                f"{seconds_or_dash(s['applying_s'])} | {s['rows']:,} | {rate} | "
                f"{s['max_rss_mb']:.0f} |"
            )
        lines.append(
            f"| **whole pipeline** | **{figures['seconds']:.2f}** | | | | | "
            f"**{figures['max_rss_mb']:.0f}** |"
        )
        lines.append("")
    lines.append(f"Start-up of one command (Python + Django, no work): {report['startup_s']:.2f} s")
    lines += ["", "Baseline, PostgreSQL COPY into bare text tables:", ""]
    lines += ["| file | wall s | rows | rows/s |", "| --- | --- | --- | --- |"]
    for s in report["copy"]["steps"]:
        lines.append(
            f"| {s['step']} | {s['seconds']:.2f} | {s['rows']:,} | {s['rows_per_s']:,.0f} |"
        )
    lines.append(f"| **all files** | **{report['copy']['seconds']:.2f}** | | |")
    lines.append("")
    for mode, figures in report["pipeline"].items():
        lines.append(f"Ratio pipeline ({mode}) / COPY: **{figures['ratio_to_copy']:.1f}×**")
    quality = report["quality"]
    lines += [
        "",
        "Matching of register rows (assigned: the row has a child; review rows count as "
        "unassigned; recall over rows whose child is in the population):",
        "",
        "| rows | n | stored | assigned | correct | wrong | review | precision | recall |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for group, m in quality["matching"]["by_fault"].items():
        lines.append(
            f"| {group} | {m['rows']:,} | {m['stored']:,} | {m['assigned']:,} | "
            f"{m['correct']:,} | {m['wrong']:,} | {m['review']:,} | {percent(m['precision'])} | "
            f"{percent(m['recall'])} |"
        )
    unmapped = quality["matching"]["unmapped_database_rows"]
    lines.append(f"\nDatabase rows the benchmark could not map to a generated row: {unmapped:,}")
    examples = quality["matching"]["examples"]
    if examples["misses"]:
        lines += [
            "",
            "Rows not matched to their child (year, school, names, birth, ID as stored):",
            "",
        ]
        for miss in examples["misses"][:EXAMPLES]:
            lines.append(
                f"- {' / '.join(miss['row'])}: {', '.join(miss['faults']) or 'no fault'}; "
                f"method {miss['method'] or '-'}, matched to {miss['matched_to']}, "
                f"truth {miss['true_id']}"
            )
    lines += [
        "",
        f"Classification of children for {ACADEMIC_YEAR}:",
        "",
        "| true class | children | same class | share | what the pipeline said |",
        "| --- | --- | --- | --- | --- |",
    ]
    classes = quality["classification"]
    for name, c in classes["by_class"].items():
        said = ", ".join(f"{k} {v:,}" for k, v in c["as"].items())
        lines.append(
            f"| {name} | {c['children']:,} | {c['agree']:,} | {percent(c['share'])} | {said} |"
        )
    lines.append(f"\nOverall agreement: {percent(classes['overall_share'])}")
    lines.append(f"Children with a class the truth leaves out: {classes['not_in_truth_window']}")
    lines.append(f"Children without an ID: {classes['without_id']}")
    h = quality["households"]
    lines += [
        "",
        f"Households: {h['households']:,} (generated {h['expected_households']:,}); by precision "
        f"{h['by_precision']}; village or better {percent(h['village_or_better'])} "
        f"(the files allow {percent(h['expected_village_or_better'])}); misspelled tambons "
        f"{h['misspelled_tambons']}",
        "",
        "Goals:",
        "",
    ]
    for goal in report["goals"]:
        lines.append(f"- {'PASS' if goal['pass'] else 'FAIL'}: {goal['goal']} ({goal['value']})")
    return "\n".join(lines)


def goals(report: dict[str, Any]) -> list[dict[str, Any]]:
    best = min(report["pipeline"].values(), key=lambda f: f["seconds"])
    rss = max(f["max_rss_mb"] for f in report["pipeline"].values())
    matching = report["quality"]["matching"]["by_fault"]["all"]
    village = report["quality"]["households"]["village_or_better"]
    precision = matching["precision"] or 0.0
    recall = matching["recall"] or 0.0
    return [
        {
            "goal": f"pipeline at most {GOAL_RATIO:.0f}× COPY ({best['mode']})",
            "value": f"{best['ratio_to_copy']:.1f}×",
            "pass": best["ratio_to_copy"] <= GOAL_RATIO,
        },
        {
            "goal": f"pipeline under {GOAL_SECONDS:.0f} s ({best['mode']})",
            "value": f"{best['seconds']:.1f} s",
            "pass": best["seconds"] < GOAL_SECONDS,
        },
        {
            "goal": f"peak memory under {GOAL_RSS_MB:.0f} MB",
            "value": f"{rss:.0f} MB",
            "pass": rss < GOAL_RSS_MB,
        },
        {
            "goal": f"matching precision at least {GOAL_MATCHING}",
            "value": f"{precision:.4f}",
            "pass": precision >= GOAL_MATCHING,
        },
        {
            "goal": f"matching recall at least {GOAL_MATCHING}",
            "value": f"{recall:.4f}",
            "pass": recall >= GOAL_MATCHING,
        },
        {
            "goal": f"at least {GOAL_VILLAGE_SHARE:.0%} of households at village level or better",
            "value": percent(village),
            "pass": village >= GOAL_VILLAGE_SHARE,
        },
    ]


def code_version() -> dict[str, Any]:
    """The commit, and a digest of the sources the commands run: a working tree
    that changes during a run (the importers are being written) shows here."""
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True
    ).stdout
    digest = hashlib.sha256()
    for path in sorted([*ROOT.glob("field/**/*.py"), *ROOT.glob("geo/**/*.py")]):
        digest.update(path.relative_to(ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    return {
        "commit": head,
        "uncommitted_paths": len(status.splitlines()),
        "sources_sha256": digest.hexdigest()[:16],
    }


def check_database(force: bool) -> None:
    name = str(connection.settings_dict["NAME"])
    if "bench" not in name and not force:
        sys.exit(
            f"refusing to empty the registry tables of {name!r}: use a database whose name "
            "contains 'bench' (DATABASE_URL=.../takhai_bench), or --force"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="population rows")
    parser.add_argument("--enrolment", type=int, default=900_000, help="register rows, all files")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument(
        "--parallel",
        action="store_true",
        help="also run with the registers imported while the population imports",
    )
    parser.add_argument("--keep", metavar="DIR", help="generate into DIR and keep it (reused)")
    parser.add_argument("--save", action="store_true", help="write bench/results/*.json")
    parser.add_argument("--force", action="store_true", help="run on a database not named *bench*")
    args = parser.parse_args()

    check_database(args.force)
    ensure_boundaries()
    directory, truth, delete = prepare_data(args)
    try:
        report = benchmark(args, directory, truth)
    finally:
        if delete:
            shutil.rmtree(directory, ignore_errors=True)
    print(json.dumps(report, indent=1, ensure_ascii=False, default=str))
    print()
    print(markdown(report))
    if args.save:
        results = ROOT / "bench" / "results"
        results.mkdir(exist_ok=True)
        path = results / f"registry_pipeline-{report['date']}.json"
        path.write_text(json.dumps(report, indent=1, ensure_ascii=False, default=str) + "\n")
        print(f"\nsaved {path.relative_to(ROOT)}", file=sys.stderr)


def benchmark(args: argparse.Namespace, directory: Path, truth: dict[str, Any]) -> dict[str, Any]:
    code = code_version()
    modes = [False, True] if args.parallel else [False]
    runs: dict[str, list[Run]] = {}
    copies: list[list[Step]] = []
    for repeat in range(args.repeat):
        for parallel in modes:
            reset_tables()
            run = run_pipeline(directory, truth, parallel=parallel)
            runs.setdefault(run.mode, []).append(run)
            print(
                f"repeat {repeat + 1}, {run.mode}: {run.seconds:.1f} s "
                + ", ".join(f"{s.name} {s.seconds:.1f}" for s in run.steps),
                file=sys.stderr,
            )
        copies.append(copy_baseline(directory, truth))
        print(
            f"repeat {repeat + 1}, COPY: {sum(s.seconds for s in copies[-1]):.1f} s",
            file=sys.stderr,
        )
    # The last run in the database is checked; every mode imports the same files.
    quality = {
        "matching": matching_quality(directory, truth),
        "classification": classification_quality(truth),
        "households": household_quality(truth),
    }
    copy_seconds = statistics.median(sum(s.seconds for s in c) for c in copies)
    copy_steps = [
        {
            "step": copies[0][i].name,
            "seconds": (sec := statistics.median(c[i].seconds for c in copies)),
            "rows": copies[0][i].rows,
            "rows_per_s": copies[0][i].rows / sec,
        }
        for i in range(len(copies[0]))
    ]
    pipeline = {}
    for mode, mode_runs in runs.items():
        seconds = statistics.median(r.seconds for r in mode_runs)
        pipeline[mode] = {
            "mode": mode,
            "seconds": seconds,
            "all_seconds": [r.seconds for r in mode_runs],
            "max_rss_mb": max(s.max_rss_mb for r in mode_runs for s in r.steps),
            "ratio_to_copy": seconds / copy_seconds,
            "steps": median_steps(mode_runs),
        }
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
    report: dict[str, Any] = {
        "date": date.today().isoformat(),  # noqa: DTZ011
        "machine": f"{os.cpu_count()} cores, {cpu_model()}, {memory_gib():.0f} GiB, "
        f"PostgreSQL {pg_version}, Python {platform.python_version()}",
        "rows": truth["population_rows"],
        "enrolment": truth["enrolment_rows"],
        "repeat": args.repeat,
        "seed": truth["seed"],
        "code": code,
        "startup_s": startup_seconds(),
        "pipeline": pipeline,
        "copy": {"seconds": copy_seconds, "steps": copy_steps},
        "quality": quality,
        "truth": {
            k: v for k, v in truth.items() if k not in ("classes", "files", "misspelled_tambons")
        },
    }
    report["goals"] = goals(report)
    if code_version() != code:
        report["code"]["changed_during_run"] = True
        print("warning: the sources changed during the run", file=sys.stderr)
    return report


if __name__ == "__main__":
    main()
