"""The national case for the officials' maps: tops a bench database up to a number of
cases (1,000,000 by default) spread over every province.

Usage (from the repository root, after ``bench/registry_pipeline.py`` has filled the
database; only in a database whose name contains "bench"):

    DJANGO_DEBUG=true DATABASE_URL=postgres://postgres@127.0.0.1:5432/takhai_bench \\
        .venv/bin/python bench/national_cases.py [--cases 1000000] [--year 2568]

``bench/official_maps.py --cases N`` calls it before measuring. It counts the cases
already there (``find_unreached`` opened ~45,000 on the pipeline's data) and adds
the rest, each with a child of its own, so a second run adds nothing. All in SQL
(``INSERT ... SELECT generate_series``), in one transaction: 174 s for 954,533
cases on 2 shared cores (docs/benchmarks.md).

What it writes, for academic year Y (default 2568), deterministic (PostgreSQL's
``hashint8extended`` of the case's number and ``--seed``):

- **Where.** The new cases go to the tambons in proportion to the children of
  Y's age window the pipeline placed there (its households follow the villages,
  Bangkok six times as dense), which stands for the child population; with no
  such children, one share per tambon. So every province and every tambon with
  children gets cases (each tambon's count is the difference of the rounded-down
  cumulative shares, in code order, so they add up to the number asked for).
- **Households**, one for four of five children (every fifth child shares the
  household of the one before): at one of the tambon's villages, the village's
  point (precision ``village``), as 97% of the pipeline's are; a tambon without a
  village gets its point on surface (``tambon``). Keys ``bench-national:<n>``.
- **Children**: a valid 13-digit Thai ID (office ``00`` + province, which no real
  office has, so no clash with the pipeline's), Thai names from the demo's lists,
  a birth date giving the age drawn below, provenance an ``ImportRun`` of kind
  population named ``bench/national_cases.py``, dated at the year's start (as
  old data: an import finished less than 10 minutes before a refresh would turn
  the next ``stats_refresh_changed`` into a full one).
- **ChildYear** of Y: ``dropped_out`` (60%, ages 7-18, older more likely) or
  ``never_enrolled`` (40%, ages 3-17, younger more likely); ``compulsory`` for
  6-15; ``enrolled`` for the children brought back whose case is closed.
- **Cases** of Y (opened 16 May-15 June), in this mix: 55% open and not visited
  (``new``); 20% open, ``visited`` (a visit not found, or moved away); 8% open,
  ``found`` (found at the address); 10% open, ``resolved`` (found, with a
  resolution: returned to school half the time, then non-formal, vocational, not
  returning); 7% closed as ``found_enrolled`` a month after a visit that brought
  the child back to school. One visit per visited case, by the user
  ``bench-national-cases``, within the year; ``progress`` is what
  ``field.services.cases.progress_of`` gives for it.

The tables are ``ANALYZE``d afterwards. The pipeline (``reset_tables``) empties
all of this with the registry; a later ``find_unreached`` of Y would reclassify
the generated children from their (absent) registers: never enrolled.
``--remove`` deletes everything it generated (and nothing else).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
os.environ.setdefault("DJANGO_DEBUG", "true")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from field.demo.names import BOYS, GIRLS, SURNAMES  # noqa: E402
from field.models import Case, ImportKind, ImportRun, ImportStatus  # noqa: E402
from field.registry.names import name_key  # noqa: E402
from field.services.reconcile import reference_date  # noqa: E402

FILE_NAME = "bench/national_cases.py"
KEY_PREFIX = "bench-national:"
USERNAME = "bench-national-cases"
DEFAULT_CASES = 1_000_000
SEED = 20261122


def check_database() -> None:
    name = str(connection.settings_dict["NAME"])
    if "bench" not in name:
        sys.exit(
            f"refusing to add a million cases to {name!r}: use a database whose name "
            "contains 'bench' (DATABASE_URL=.../takhai_bench)"
        )


def _year_start(year: int) -> dt.datetime:
    return dt.datetime.combine(
        reference_date(year), dt.time(0), tzinfo=timezone.get_default_timezone()
    )


def _run(year: int) -> ImportRun:
    """The generated rows' provenance, dated at the year's start: what it stands for
    was imported before the year's cases were opened, and an import finished less
    than ``stats.CHANGE_OVERLAP`` before a refresh would make the next
    ``stats_refresh_changed`` a full one."""
    start = _year_start(year)
    run, _ = ImportRun.objects.update_or_create(
        kind=ImportKind.POPULATION,
        file_name=FILE_NAME,
        defaults={
            "sha256": hashlib.sha256(FILE_NAME.encode()).hexdigest(),
            "started_at": start,
            "finished_at": start,
            "status": ImportStatus.DONE,
        },
    )
    return run


def _user() -> User:
    user, _ = User.objects.get_or_create(username=USERNAME, defaults={"is_active": False})
    return user


# Every number drawn for case n is r(n, k), uniform in [0, 1): a hash, so the same
# case gets the same draws whatever else the run generates.
_R = "((hashint8extended({n}, %(seed)s + {k}) & 4294967295)::float8 / 4294967296.0)"


def r(n: str, k: int) -> str:
    return _R.format(n=n, k=k)


_PLAN_SQL = f"""
CREATE TEMPORARY TABLE nc_plan ON COMMIT DROP AS
WITH counted AS (
    SELECT h.subdistrict_id AS code, count(*)::bigint AS w
    FROM field_childyear y
    JOIN field_child c ON c.id = y.child_id
    JOIN field_household h ON h.id = c.household_id
    WHERE y.academic_year = %(year)s AND c.run_id <> %(run)s AND h.subdistrict_id IS NOT NULL
    GROUP BY 1
),
weights AS (
    SELECT s.code, CASE WHEN %(by_tambon)s THEN 1 ELSE COALESCE(c.w, 0) END AS w
    FROM geo_subdistrict s LEFT JOIN counted c ON c.code = s.code
),
cumulative AS (
    SELECT code, sum(w) OVER (ORDER BY code) - w AS before, sum(w) OVER (ORDER BY code) AS upto,
        sum(w) OVER () AS total
    FROM weights
),
ranges AS (
    SELECT code, floor(%(need)s::numeric * before / total)::bigint AS lo,
        floor(%(need)s::numeric * upto / total)::bigint AS hi
    FROM cumulative
),
numbered AS (
    -- i: 1..need in this run; n: the case's number over all runs (the ID's digits).
    SELECT code, i, %(offset)s + i AS n, i - lo AS in_tambon
    FROM ranges, generate_series(lo + 1, hi) AS i
),
drawn AS (
    SELECT *,
        -- Every fifth child of a tambon lives with the one before.
        CASE WHEN in_tambon %% 5 = 0 THEN i - 1 ELSE i END AS owner,
        {r("n", 1)} AS r_case,
        {r("n", 2)} AS r_age,
        {r("n", 3)} AS r_sex,
        {r("n", 4)} AS r_first,
        {r("n", 5)} AS r_last,
        {r("n", 6)} AS r_day,
        {r("n", 7)} AS r_visit,
        {r("n", 8)} AS r_detail,
        {r("n", 10)} AS r_years
    FROM numbered
)
SELECT d.*,
    CASE WHEN r_case < 0.55 THEN 'new' WHEN r_case < 0.75 THEN 'visited'
         WHEN r_case < 0.83 THEN 'found' ELSE 'resolved' END AS progress,
    r_case >= 0.93 AS closed,
    CASE WHEN r_case >= 0.93 OR r_age < 0.6 THEN 'dropped_out' ELSE 'never_enrolled' END AS kind
FROM drawn d
"""

_HOUSEHOLDS_SQL = f"""
WITH villages AS (
    SELECT subdistrict_id AS code, array_agg(code ORDER BY code) AS codes
    FROM geo_village GROUP BY subdistrict_id
),
owners AS (
    SELECT p.i, p.n, p.code,
        v.codes[1 + floor({r("p.n", 9)} * cardinality(v.codes))::int] AS village
    FROM nc_plan p LEFT JOIN villages v ON v.code = p.code
    WHERE p.owner = p.i
)
INSERT INTO field_household
    (id, key, house_no, moo, address, subdistrict_id, village_id, point, precision,
     given_point, located_at)
SELECT %(household_base)s + o.i, %(prefix)s || o.n, (1 + o.n %% 400)::text, vl.moo,
    (1 + o.n %% 400)::text || COALESCE(' หมู่ ' || vl.moo, '') || ' ต.' || s.name_th
        || ' อ.' || d.name_th || ' จ.' || pr.name_th,
    o.code, o.village,
    COALESCE(vl.point, ST_PointOnSurface(s.geom)),
    CASE WHEN vl.code IS NULL THEN 'tambon' ELSE 'village' END,
    NULL, NULL
FROM owners o
JOIN geo_subdistrict s ON s.code = o.code
JOIN geo_district d ON d.code = s.district_id
JOIN geo_province pr ON pr.code = d.province_id
LEFT JOIN geo_village vl ON vl.code = o.village
"""

# A Thai ID: type 1, office "00" + province, the case number in 7 digits, check digit.
_ID12 = "'100' || left(p.code, 2) || lpad(p.n::text, 7, '0')"
_WEIGHTED = " + ".join(f"substr(x.id12, {k}, 1)::int * {14 - k}" for k in range(1, 13))
_CHECK = f"((11 - ({_WEIGHTED}) %% 11) %% 10)::text"

_CHILDREN_SQL = f"""
INSERT INTO field_child
    (id, key, national_id, id_kind, title, first_name, last_name, name_key, sex,
     birth_date, nationality, household_id, digest, run_id)
SELECT %(child_base)s + p.i, x.id12 || y.digit, x.id12 || y.digit, 'thai_id',
    CASE WHEN a.age < 15 THEN CASE WHEN x.sex = 'M' THEN 'ด.ช.' ELSE 'ด.ญ.' END
         ELSE CASE WHEN x.sex = 'M' THEN 'นาย' ELSE 'นางสาว' END END,
    x.first, x.last, x.first_key || ' ' || x.last_key, x.sex,
    (%(day)s::date - make_interval(years => a.age))::date - floor(p.r_day * 360)::int,
    'ไทย', %(household_base)s + p.owner,
    md5(%(prefix)s || p.n), %(run)s
FROM nc_plan p
CROSS JOIN LATERAL (
    SELECT CASE WHEN p.kind = 'never_enrolled' THEN 3 + floor(p.r_years * p.r_years * 15)
                ELSE 18 - floor(p.r_years * p.r_years * 12) END::int AS age
) AS a
CROSS JOIN LATERAL (
    SELECT {_ID12} AS id12,
        CASE WHEN p.r_sex < 0.52 THEN 'M' ELSE 'F' END AS sex,
        CASE WHEN p.r_sex < 0.52
             THEN (%(boys)s::text[])[1 + floor(p.r_first * %(n_boys)s)::int]
             ELSE (%(girls)s::text[])[1 + floor(p.r_first * %(n_girls)s)::int] END AS first,
        CASE WHEN p.r_sex < 0.52
             THEN (%(boy_keys)s::text[])[1 + floor(p.r_first * %(n_boys)s)::int]
             ELSE (%(girl_keys)s::text[])[1 + floor(p.r_first * %(n_girls)s)::int] END
            AS first_key,
        (%(surnames)s::text[])[1 + floor(p.r_last * %(n_surnames)s)::int] AS last,
        (%(surname_keys)s::text[])[1 + floor(p.r_last * %(n_surnames)s)::int] AS last_key
) AS x
CROSS JOIN LATERAL (SELECT {_CHECK} AS digit) AS y
"""

_CHILD_YEARS_SQL = """
INSERT INTO field_childyear (academic_year, child_id, status, age, compulsory)
SELECT %(year)s, c.id, CASE WHEN p.closed THEN 'enrolled' ELSE p.kind END, a.age,
    a.age BETWEEN %(young)s AND %(old)s
FROM nc_plan p
JOIN field_child c ON c.id = %(child_base)s + p.i
CROSS JOIN LATERAL (
    SELECT date_part('year', age(%(day)s::date, c.birth_date))::int AS age
) AS a
"""

# Opened in the year's first month; the visit 1-300 days later; a closed case
# closed 30 days after its visit.
_CASES_SQL = """
INSERT INTO field_case
    (id, child_id, kind, status, academic_year, opened_at, closed_at, close_reason, note,
     progress, updated_at, whereabouts_id)
SELECT %(case_base)s + p.i, %(child_base)s + p.i, p.kind,
    CASE WHEN p.closed THEN 'closed' ELSE 'open' END, %(year)s, t.opened,
    CASE WHEN p.closed THEN t.visited + interval '30 days' END,
    CASE WHEN p.closed THEN 'found_enrolled' ELSE '' END, '', p.progress,
    CASE WHEN p.closed THEN t.visited + interval '30 days'
         WHEN p.progress = 'new' THEN t.opened ELSE t.visited END,
    NULL
FROM nc_plan p
CROSS JOIN LATERAL (
    SELECT %(start)s::timestamptz + floor(p.r_day * 30) * interval '1 day'
            + floor(p.r_detail * 36000) * interval '1 second' AS opened
) AS o
CROSS JOIN LATERAL (
    SELECT o.opened, o.opened + (1 + floor(p.r_visit * 300)) * interval '1 day' AS visited
) AS t
"""

_VISITS_SQL = """
INSERT INTO field_visit
    (case_id, by_id, at, point, subdistrict_id, village_id, outcome, note, client_id,
     received_at, accuracy_m, house_here, resolution, school_id, detail, team_id,
     moved_to_id, found_id)
SELECT k.id, %(user)s, k.at, NULL, h.subdistrict_id, h.village_id,
    CASE WHEN p.progress = 'visited' THEN
             CASE WHEN p.r_detail < 0.8 THEN 'not_found' ELSE 'moved_away' END
         ELSE 'found_at_address' END,
    '', NULL, k.at, NULL, false,
    CASE WHEN p.closed THEN 'returned_to_school'
         WHEN p.progress <> 'resolved' THEN ''
         WHEN p.r_detail < 0.5 THEN 'returned_to_school'
         WHEN p.r_detail < 0.75 THEN 'non_formal'
         WHEN p.r_detail < 0.9 THEN 'vocational'
         ELSE 'not_returning' END,
    NULL, '', NULL, NULL, ''
FROM nc_plan p
CROSS JOIN LATERAL (
    SELECT c.id, CASE WHEN p.closed THEN c.closed_at - interval '30 days' ELSE c.updated_at END
        AS at
    FROM field_case c WHERE c.id = %(case_base)s + p.i
) AS k
JOIN field_household h ON h.id = %(household_base)s + p.owner
WHERE p.progress <> 'new'
"""


def _max_id(cursor: Any, table: str) -> int:
    cursor.execute(f"SELECT COALESCE(max(id), 0) FROM {table}")  # noqa: S608
    return int(cursor.fetchone()[0])


def _reset_sequence(cursor: Any, table: str) -> None:
    cursor.execute(
        f"SELECT setval(pg_get_serial_sequence(%s, 'id'), "  # noqa: S608
        f"(SELECT COALESCE(max(id), 1) FROM {table}))",
        [table],
    )


def top_up(cases: int = DEFAULT_CASES, year: int = 2568, seed: int = SEED) -> dict[str, Any]:
    """Adds cases until there are ``cases`` in all; returns what was done."""
    check_database()
    started = time.perf_counter()
    existing = Case.objects.count()
    need = cases - existing
    run = _run(year)
    generated: dict[str, Any] = {
        "cases_before": existing,
        "cases_added": max(0, need),
        "seconds": 0.0,
    }
    if need <= 0:
        print(f"{existing:,} cases already: none added", flush=True)
        return generated
    user = _user()
    boys, girls, surnames = sorted(BOYS), sorted(GIRLS), sorted(SURNAMES)
    steps: dict[str, float] = {}
    with transaction.atomic(), connection.cursor() as cursor:
        # Explicit ids, taken above the largest: nothing else writes a bench database.
        cursor.execute(
            "LOCK TABLE field_household, field_child, field_childyear, field_case, field_visit "
            "IN SHARE ROW EXCLUSIVE MODE"
        )
        cursor.execute("SELECT count(*) FROM field_child WHERE run_id = %s", [run.pk])
        offset = int(cursor.fetchone()[0])
        cursor.execute(
            "SELECT count(*) FROM field_childyear y JOIN field_child c ON c.id = y.child_id "
            "WHERE y.academic_year = %s AND c.run_id <> %s",
            [year, run.pk],
        )
        by_tambon = int(cursor.fetchone()[0]) == 0
        young, old = settings.COMPULSORY_AGES
        params: dict[str, Any] = {
            "year": year,
            "run": run.pk,
            "user": user.pk,
            "need": need,
            "offset": offset,
            "seed": seed,
            "by_tambon": by_tambon,
            "prefix": KEY_PREFIX,
            "day": reference_date(year),
            "start": _year_start(year),
            "young": young,
            "old": old,
            "household_base": _max_id(cursor, "field_household"),
            "child_base": _max_id(cursor, "field_child"),
            "case_base": _max_id(cursor, "field_case"),
            "boys": boys,
            "girls": girls,
            "surnames": surnames,
            "boy_keys": [name_key(n, "") for n in boys],
            "girl_keys": [name_key(n, "") for n in girls],
            "surname_keys": [name_key(n, "") for n in surnames],
            "n_boys": len(boys),
            "n_girls": len(girls),
            "n_surnames": len(surnames),
        }
        for name, sql in (
            ("plan", _PLAN_SQL),
            ("households", _HOUSEHOLDS_SQL),
            ("children", _CHILDREN_SQL),
            ("child_years", _CHILD_YEARS_SQL),
            ("cases", _CASES_SQL),
            ("visits", _VISITS_SQL),
        ):
            step = time.perf_counter()
            cursor.execute(sql, params)
            generated[name] = cursor.rowcount
            steps[name] = round(time.perf_counter() - step, 1)
            print(f"  {name}: {cursor.rowcount:,} rows, {steps[name]} s", flush=True)
            if name == "plan":
                cursor.execute("ANALYZE nc_plan")
        for table in ("field_household", "field_child", "field_case", "field_visit"):
            _reset_sequence(cursor, table)
        ImportRun.objects.filter(pk=run.pk).update(imported=offset + need, rows_read=offset + need)
    step = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "ANALYZE field_household, field_child, field_childyear, field_case, field_visit"
        )
    steps["analyze"] = round(time.perf_counter() - step, 1)
    generated["steps_seconds"] = steps
    generated["seconds"] = round(time.perf_counter() - started, 1)
    generated["weights"] = "tambons" if by_tambon else "children in the window"
    print(f"added {need:,} cases ({existing:,} before) in {generated['seconds']} s", flush=True)
    return generated


def remove() -> int:
    """Deletes every generated case, visit, child year, child and household."""
    check_database()
    run = ImportRun.objects.filter(kind=ImportKind.POPULATION, file_name=FILE_NAME).first()
    if run is None:
        return 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE nc_children ON COMMIT DROP AS "
            "SELECT id, household_id FROM field_child WHERE run_id = %s",
            [run.pk],
        )
        cursor.execute(
            "DELETE FROM field_visit WHERE case_id IN (SELECT k.id FROM field_case k "
            "JOIN nc_children c ON c.id = k.child_id)"
        )
        cursor.execute("DELETE FROM field_case WHERE child_id IN (SELECT id FROM nc_children)")
        removed = int(cursor.rowcount)
        cursor.execute("DELETE FROM field_childyear WHERE child_id IN (SELECT id FROM nc_children)")
        cursor.execute("DELETE FROM field_child WHERE id IN (SELECT id FROM nc_children)")
        cursor.execute("DELETE FROM field_household WHERE key LIKE %s", [KEY_PREFIX + "%"])
        run.delete()
    print(f"removed {removed:,} generated cases", flush=True)
    return removed


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--cases", type=int, default=DEFAULT_CASES, help="cases in all")
    parser.add_argument("--year", type=int, default=2568)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument(
        "--remove", action="store_true", help="delete what earlier runs generated, and stop"
    )
    args = parser.parse_args()
    if args.remove:
        remove()
    else:
        top_up(args.cases, args.year, args.seed)


if __name__ == "__main__":
    main()
