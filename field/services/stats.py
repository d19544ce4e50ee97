"""Precomputed counts per area and academic year (``AreaStat``) for the national map.

The officials' map shows 7,425 tambons over a million cases: counting children and
cases per request would read all of them every time. These functions keep one row
per tambon, district and province, and one for the whole country, and bring them
up to date in set-based SQL.

What is counted, for an academic year Y:

- **Children** (ChildYear of Y, as the funnel counts them, at the child's registry
  household): ``children_in_window`` (every row: the funnel's "population"),
  ``compulsory_age`` (aged 6-15), and one count per status: ``enrolled``,
  ``dropped_out``, ``never_enrolled``, ``graduated``, ``in_review``.
- **The year's cases**: opened for Y or an earlier year, and open now or closed on
  or after the first day of Y (16 May). A case stays open from year to year while
  the child is unreached, so "opened for Y" alone would miss most open cases; one
  closed before Y began was last year's work. A case lies at its whereabouts when
  the field reported one, else at its child's registry household
  (``team_selectors.lying_in``).

  - ``cases_open``: open now.
  - ``cases_visited``, ``cases_found``, ``cases_resolved``: open cases whose
    progress is visited (not found), found (what becomes of the child not decided),
    resolved: the team overview's buckets (``team_selectors._progress_counts``),
    so the map agrees with it.
  - ``cases_brought_back``: a case of the year, open or closed, with a visit that
    recorded "returned to school" (``Resolution.RETURNED_TO_SCHOOL``). Narrower than
    "resolved", which also takes non-formal and vocational education, deaths and
    duplicates; and it survives the case's closing, which follows when the next
    register shows the child enrolled.
- **Access to school** (ChildYear of Y at the registry household, every status):
  ``age_primary``, children aged 6-11 (age at the start of Y), and ``far_primary``,
  those of them living farther than ``settings.SCHOOL_DISTANCE_PRIMARY_M`` from the
  nearest school teaching primary; ``age_secondary``, children aged 12-17, and
  ``far_secondary``, those farther than ``settings.SCHOOL_DISTANCE_SECONDARY_M``
  from the nearest school teaching their stage: lower secondary for 12-14, upper
  secondary or vocational for 15-17. Children of 3-5 (pre-primary: not compulsory,
  and nearly every primary school has a pre-primary class) and of 18 are left out.
  So are children whose household has no point (its place is not known well
  enough to measure a distance) and schools with no point. A level that no located
  school teaches is infinitely far. Distances are metres on the ground
  (geography), "farther than" is strictly more: the shortest of the distances to
  the few schools of the level nearest by degrees (``_CANDIDATES``).
- **Households** where an open case of the year lies: ``unreached_households``;
  ``unreached_in_zone``, those in a volunteer's zone now (a ZoneAssignment not
  ended); ``unreached_in_team_area``, those a team holds now: a current whole-tambon
  TeamArea of their tambon, or a current cluster area of their tambon whose
  interior holds their point (``AreaScope._team_households``, ``_holder_team``).

Tambon rows are counted from those rows; district and province rows are sums of
their tambon rows. Children and cases whose household has no tambon are in no
tambon, district or province row, only in the country row (level ``country``,
code ``TH``), which holds every count in full. An area with nothing to count
(no child in the window, no open case, nobody brought back) has no row.

**Incremental refresh.** A full refresh reads every child and case of the year:
seconds on a national data set, too slow after every visit. What changes between
two runs touches a few tambons, and every count of a tambon depends on that
tambon's rows only, so recounting just those tambons and summing the districts,
provinces and country again from the tambon rows gives exactly what a full refresh
would. ``stats_changed_tambons`` finds them from timestamps the field writes
already:

- ``Case.updated_at``, moved by every write to a case and by every visit; the case
  is recounted in every tambon it has lain in (registry household, whereabouts, and
  every household a visit reported it moved to), so a move empties the old place too;
- ``TeamArea.assigned_at`` and ``ended_at``; ``ZoneAssignment.started_at`` and
  ``ended_at`` (the household's tambon).

ChildYear rows carry no timestamp: ``find_unreached`` rewrites a year whole, and a
registry import may move households and children. Schools carry none either, and a
school import moves the distances of every tambon near a school it adds, moves or
drops. So ``stats_refresh_changed`` runs a full refresh when there was a
reconciliation or an import of any kind (schools included) since its last run, or
when there was no run yet. A household's point corrected by a visit moves its
case's ``updated_at``, so its tambon is recounted. Changing the distance settings
needs a full refresh. Redrawing a tambon's village clusters
(``geo.services.clusters_replace``) leaves no timestamp either: refresh in full
after it. The unplaced (no tambon) counts of the country row are recounted on
every run, since no tambon code names them.

**What the map publishes.** Each refresh also writes, for every area it counted
that has areas below it on the map (the country, provinces, districts), what
``/gaps/`` publishes one level down: the quantities after suppression with the
settings' k (``AreaPublication``, see ``stats_publish``). A refresh of some
tambons rewrites those of their district, province and the country only, the
areas whose counts it changed. Changing ``TAKHAI_SUPPRESS_K`` leaves the rows of
the old k unread until the next refresh; tiles suppress on request meanwhile.

``AreaStatRun`` keeps, per year, when the last full or changed-tambons refresh
started; the next one looks for changes from a few minutes before then, because a
write stamps its time before it commits and may become visible after a run that
started later.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Collection
from dataclasses import asdict, dataclass
from typing import Any, Final

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from field.models import (
    AREA_STAT_COUNTS,
    AreaPublication,
    AreaStat,
    AreaStatRun,
    CaseProgress,
    CaseStatus,
    ChildStatus,
    ImportRun,
    Reconciliation,
    Resolution,
    SchoolLevel,
    StatLevel,
)
from field.services.reconcile import reference_date
from geo.models import District, Province, Subdistrict

COUNTRY_CODE: Final = "TH"
# Writes stamp their time before they commit; looking back this far from the last
# run's start catches one that committed after that run read the tables.
CHANGE_OVERLAP: Final = dt.timedelta(minutes=10)
# Two refreshes of one year at once would each delete rows the other writes.
_LOCK_NAMESPACE: Final = 0x5441_4B48  # "TAKH"

_PARENT_LEVELS: Final = ((StatLevel.DISTRICT, 4), (StatLevel.PROVINCE, 2))
_COLUMNS: Final = ", ".join(AREA_STAT_COUNTS)
# Every other count is a part of one of these three.
_NOT_EMPTY: Final = "(children_in_window + cases_open + cases_brought_back) > 0"


@dataclass(frozen=True)
class _Band:
    """Ages (at the start of the year, inclusive) and the schools that teach them."""

    name: str
    youngest: int
    oldest: int
    levels: tuple[SchoolLevel, ...]
    secondary: bool


_BANDS: Final = (
    _Band("primary", 6, 11, (SchoolLevel.PRIMARY,), secondary=False),
    _Band("lower_secondary", 12, 14, (SchoolLevel.LOWER_SECONDARY,), secondary=True),
    _Band(
        "upper_secondary",
        15,
        17,
        (SchoolLevel.UPPER_SECONDARY, SchoolLevel.VOCATIONAL),
        secondary=True,
    ),
)
# The nearest schools by degrees (the index's order) that are measured on the
# ground. A longitude degree is shorter than a latitude degree in Thailand (by 3% at
# 15 N, 7% at 20 N), so the nearest by degrees may not be the nearest by metres;
# but every school ranked before the nearest by metres lies within 3-7% beyond it.
# Missing it would take eight schools of the level in that thin ring, and would
# then make the distance a few per cent too long: a count changes only if the
# limit falls inside that ring too. Ranking by metres in the index would need a
# second, geography index on the schools.
_CANDIDATES: Final = 8


@dataclass(frozen=True)
class StatsRefresh:
    academic_year: int
    full: bool
    tambons_recounted: int
    """Tambons whose rows were recounted from children and cases (full: every one
    with something to count)."""
    rows_written: int
    rows_deleted: int
    seconds: float
    refreshed_at: dt.datetime

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["refreshed_at"] = self.refreshed_at.isoformat()
        return data


def _year_start(academic_year: int) -> dt.datetime:
    day = reference_date(academic_year)
    return dt.datetime.combine(day, dt.time(0), tzinfo=timezone.get_default_timezone())


# The SQL below is put together from column names and fixed fragments of this
# module only; every value goes in as a parameter (hence the S608 exemptions).

_BAND_ROWS: Final = ", ".join(
    f"(%(band{i})s, %(youngest{i})s, %(oldest{i})s, %(levels{i})s::varchar[], "
    f"%(metres{i})s, %(secondary{i})s)"
    for i in range(len(_BANDS))
)


def _aggregate_sql(subset: bool) -> str:
    """One row per tambon code ('' for no tambon) into the temporary table
    ``stat_tambon``; with ``subset``, only the tambons of ``%(codes)s`` and ''."""
    case_place = "CASE WHEN k.whereabouts_id IS NULL THEN h.{0} ELSE w.{0} END"
    tambon = case_place.format("subdistrict_id")
    case_filter = f"AND ({tambon} IS NULL OR {tambon} = ANY(%(codes)s))" if subset else ""
    child_filter = (
        "AND (h.subdistrict_id IS NULL OR h.subdistrict_id = ANY(%(codes)s))" if subset else ""
    )
    return f"""
        INSERT INTO stat_tambon (code, {_COLUMNS})
        WITH children AS (
            SELECT COALESCE(h.subdistrict_id, '') AS code,
                count(*) AS children_in_window,
                count(*) FILTER (WHERE y.compulsory) AS compulsory_age,
                count(*) FILTER (WHERE y.status = %(enrolled)s) AS enrolled,
                count(*) FILTER (WHERE y.status = %(dropped_out)s) AS dropped_out,
                count(*) FILTER (WHERE y.status = %(never_enrolled)s) AS never_enrolled,
                count(*) FILTER (WHERE y.status = %(graduated)s) AS graduated,
                count(*) FILTER (WHERE y.status = %(review)s) AS in_review
            FROM field_childyear y
            JOIN field_child c ON c.id = y.child_id
            JOIN field_household h ON h.id = c.household_id
            WHERE y.academic_year = %(year)s {child_filter}
            GROUP BY 1
        ),
        bands (band, youngest, oldest, levels, metres, secondary) AS (
            VALUES {_BAND_ROWS}
        ),
        -- Children of one band at one point counted together: most households of
        -- a registry are placed at their village's point, so this measures a few
        -- thousand points, not a hundred thousand households.
        placed AS (
            SELECT COALESCE(h.subdistrict_id, '') AS code, h.point, b.band,
                count(*) AS children
            FROM field_childyear y
            JOIN field_child c ON c.id = y.child_id
            JOIN field_household h ON h.id = c.household_id
            JOIN bands b ON y.age BETWEEN b.youngest AND b.oldest
            WHERE y.academic_year = %(year)s AND h.point IS NOT NULL {child_filter}
            GROUP BY 1, 2, 3
        ),
        -- No located school of the level at all (a NULL minimum) is far.
        -- Materialised: two filters read ``far``, and an inlined CTE would measure
        -- every point twice.
        measured AS MATERIALIZED (
            SELECT p.code, p.children, b.secondary, COALESCE((
                SELECT min(ST_Distance(n.point::geography, p.point::geography))
                FROM (
                    SELECT s.point FROM field_school s
                    WHERE s.point IS NOT NULL AND s.levels && b.levels
                    ORDER BY s.point <-> p.point
                    LIMIT %(candidates)s
                ) AS n
            ) > b.metres, true) AS far
            FROM placed p
            JOIN bands b USING (band)
        ),
        access AS (
            SELECT code,
                sum(children) FILTER (WHERE NOT secondary) AS age_primary,
                sum(children) FILTER (WHERE NOT secondary AND far) AS far_primary,
                sum(children) FILTER (WHERE secondary) AS age_secondary,
                sum(children) FILTER (WHERE secondary AND far) AS far_secondary
            FROM measured
            GROUP BY code
        ),
        cases AS (
            SELECT k.id, k.status, k.progress,
                COALESCE({tambon}, '') AS code,
                {case_place.format("id")} AS household_id,
                {case_place.format("point")} AS point
            FROM field_case k
            JOIN field_child c ON c.id = k.child_id
            JOIN field_household h ON h.id = c.household_id
            LEFT JOIN field_household w ON w.id = k.whereabouts_id
            WHERE k.academic_year <= %(year)s
              AND (k.status = %(open)s OR k.closed_at >= %(start)s) {case_filter}
        ),
        case_counts AS (
            SELECT code,
                count(*) FILTER (WHERE status = %(open)s) AS cases_open,
                count(*) FILTER (WHERE status = %(open)s AND progress = %(visited)s)
                    AS cases_visited,
                count(*) FILTER (WHERE status = %(open)s AND progress = %(found)s)
                    AS cases_found,
                count(*) FILTER (WHERE status = %(open)s AND progress = %(resolved)s)
                    AS cases_resolved,
                count(*) FILTER (WHERE EXISTS (
                    SELECT 1 FROM field_visit v
                    WHERE v.case_id = cases.id AND v.resolution = %(returned)s
                )) AS cases_brought_back
            FROM cases
            GROUP BY code
        ),
        households AS (
            SELECT DISTINCT household_id, code, point FROM cases WHERE status = %(open)s
        ),
        household_counts AS (
            SELECT u.code,
                count(*) AS unreached_households,
                count(*) FILTER (WHERE EXISTS (
                    SELECT 1 FROM field_zoneassignment z
                    WHERE z.household_id = u.household_id AND z.ended_at IS NULL
                )) AS unreached_in_zone,
                count(*) FILTER (WHERE EXISTS (
                    SELECT 1 FROM field_teamarea t
                    LEFT JOIN geo_villagecluster g ON g.id = t.cluster_id
                    WHERE t.ended_at IS NULL AND t.subdistrict_id = u.code
                      AND (t.cluster_id IS NULL OR ST_Contains(g.area, u.point))
                )) AS unreached_in_team_area
            FROM households u
            GROUP BY u.code
        ),
        codes AS (
            SELECT code FROM children
            UNION SELECT code FROM case_counts
            UNION SELECT code FROM household_counts
        )
        SELECT a.code, {", ".join(f"COALESCE({name}, 0)" for name in AREA_STAT_COUNTS)}
        FROM codes a
        LEFT JOIN children USING (code)
        LEFT JOIN case_counts USING (code)
        LEFT JOIN household_counts USING (code)
        LEFT JOIN access USING (code)
    """  # noqa: S608


def _band_parameters() -> dict[str, Any]:
    primary_m = settings.SCHOOL_DISTANCE_PRIMARY_M
    secondary_m = settings.SCHOOL_DISTANCE_SECONDARY_M
    params: dict[str, Any] = {"candidates": _CANDIDATES}
    for i, band in enumerate(_BANDS):
        params |= {
            f"band{i}": band.name,
            f"youngest{i}": band.youngest,
            f"oldest{i}": band.oldest,
            f"levels{i}": [level.value for level in band.levels],
            f"metres{i}": secondary_m if band.secondary else primary_m,
            f"secondary{i}": band.secondary,
        }
    return params


def _parameters(academic_year: int, codes: list[str]) -> dict[str, Any]:
    return _band_parameters() | {
        "year": academic_year,
        "start": _year_start(academic_year),
        "codes": codes,
        "open": CaseStatus.OPEN.value,
        "visited": CaseProgress.VISITED.value,
        "found": CaseProgress.FOUND.value,
        "resolved": CaseProgress.RESOLVED.value,
        "returned": Resolution.RETURNED_TO_SCHOOL.value,
        "enrolled": ChildStatus.ENROLLED.value,
        "dropped_out": ChildStatus.DROPPED_OUT.value,
        "never_enrolled": ChildStatus.NEVER_ENROLLED.value,
        "graduated": ChildStatus.GRADUATED.value,
        "review": ChildStatus.REVIEW.value,
    }


_UPDATE_SET: Final = ", ".join(
    f"{name} = EXCLUDED.{name}" for name in (*AREA_STAT_COUNTS, "refreshed_at")
)
_CONFLICT: Final = f"ON CONFLICT (academic_year, level, code) DO UPDATE SET {_UPDATE_SET}"


def _refresh(academic_year: int, tambons: Collection[str] | None) -> StatsRefresh:
    started = time.monotonic()
    now = timezone.now()
    subset = tambons is not None
    codes = sorted(set(tambons)) if tambons is not None else []
    params = _parameters(academic_year, codes) | {"now": now, "tambon": StatLevel.TAMBON.value}
    written = deleted = 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_NAMESPACE, academic_year])
        # Dropped first: a second refresh in one transaction (tests, a caller's
        # atomic block) would otherwise find the first one's table.
        cursor.execute("DROP TABLE IF EXISTS stat_tambon")
        cursor.execute(
            "CREATE TEMPORARY TABLE stat_tambon (code text PRIMARY KEY, "
            + ", ".join(f"{name} integer NOT NULL" for name in AREA_STAT_COUNTS)
            + ") ON COMMIT DROP"
        )
        if not subset:
            # A full refresh follows an import or a reconciliation, which rewrote
            # these tables; planning a million-row count on statistics from before
            # (autovacuum may not have come by yet) picks nested loops over them.
            cursor.execute(
                "ANALYZE field_childyear, field_child, field_household, field_case, field_school"
            )
        cursor.execute(_aggregate_sql(subset), params)

        in_scope = "AND code = ANY(%(codes)s)" if subset else ""
        cursor.execute(
            f"""
            DELETE FROM field_areastat s
            WHERE academic_year = %(year)s AND level = %(tambon)s {in_scope}
              AND NOT EXISTS (
                  SELECT 1 FROM stat_tambon t WHERE t.code = s.code AND {_NOT_EMPTY})
            """,  # noqa: S608
            params,
        )
        deleted += cursor.rowcount
        cursor.execute(
            f"""
            INSERT INTO field_areastat (academic_year, level, code, {_COLUMNS}, refreshed_at)
            SELECT %(year)s, %(tambon)s, code, {_COLUMNS}, %(now)s
            FROM stat_tambon WHERE code <> '' AND {_NOT_EMPTY}
            {_CONFLICT}
            """,  # noqa: S608
            params,
        )
        written += cursor.rowcount
        recounted = cursor.rowcount if not subset else len(codes)

        sums = ", ".join(f"sum({name})::integer" for name in AREA_STAT_COUNTS)
        for level, digits in _PARENT_LEVELS:
            parents = sorted({code[:digits] for code in codes})
            level_params = params | {"level": level.value, "digits": digits, "parents": parents}
            in_parents = "AND left(code, %(digits)s) = ANY(%(parents)s)" if subset else ""
            cursor.execute(
                f"""
                INSERT INTO field_areastat (academic_year, level, code, {_COLUMNS}, refreshed_at)
                SELECT %(year)s, %(level)s, left(code, %(digits)s), {sums}, %(now)s
                FROM field_areastat
                WHERE academic_year = %(year)s AND level = %(tambon)s {in_parents}
                GROUP BY left(code, %(digits)s)
                {_CONFLICT}
                """,  # noqa: S608
                level_params,
            )
            written += cursor.rowcount
            in_parents = "AND s.code = ANY(%(parents)s)" if subset else ""
            cursor.execute(
                f"""
                DELETE FROM field_areastat s
                WHERE s.academic_year = %(year)s AND s.level = %(level)s {in_parents}
                  AND NOT EXISTS (
                      SELECT 1 FROM field_areastat t
                      WHERE t.academic_year = s.academic_year AND t.level = %(tambon)s
                        AND left(t.code, %(digits)s) = s.code)
                """,  # noqa: S608
                level_params,
            )
            deleted += cursor.rowcount

        # The tambon rows plus the unplaced: the country holds every child and case.
        cursor.execute(
            f"""
            INSERT INTO field_areastat (academic_year, level, code, {_COLUMNS}, refreshed_at)
            SELECT %(year)s, %(country)s, %(country_code)s,
                {", ".join(f"COALESCE(sum({name}), 0)::integer" for name in AREA_STAT_COUNTS)},
                %(now)s
            FROM (
                SELECT {_COLUMNS} FROM field_areastat
                WHERE academic_year = %(year)s AND level = %(tambon)s
                UNION ALL
                SELECT {_COLUMNS} FROM stat_tambon WHERE code = ''
            ) AS every_place
            {_CONFLICT}
            """,  # noqa: S608
            params | {"country": StatLevel.COUNTRY.value, "country_code": COUNTRY_CODE},
        )
        written += cursor.rowcount
        cursor.execute("DROP TABLE stat_tambon")
    above = None if not subset else {"", *(c[:2] for c in codes), *(c[:4] for c in codes)}
    stats_publish(academic_year=academic_year, areas=above)
    return StatsRefresh(
        academic_year=academic_year,
        full=not subset,
        tambons_recounted=recounted,
        rows_written=written,
        rows_deleted=deleted,
        seconds=round(time.monotonic() - started, 3),
        refreshed_at=now,
    )


def _record_run(result: StatsRefresh, started_at: dt.datetime) -> None:
    AreaStatRun.objects.update_or_create(
        academic_year=result.academic_year,
        defaults={
            "started_at": started_at,
            "finished_at": max(timezone.now(), started_at),
            "full": result.full,
            "tambons": result.tambons_recounted,
            "seconds": result.seconds,
        },
    )


@transaction.atomic
def stats_refresh(*, academic_year: int, tambons: Collection[str] | None = None) -> StatsRefresh:
    """Recounts ``academic_year``'s area statistics: every area (``tambons`` None),
    or the tambons given and the districts, provinces and country above them.

    One transaction: the map never shows a tambon recounted beside a stale district.
    A full refresh also marks the year up to date for ``stats_refresh_changed``;
    a refresh of chosen tambons does not, since it leaves other changes out.
    """
    if not 2500 <= academic_year <= 2700:
        raise ValueError(f"academic year {academic_year} is not a Buddhist-era year (e.g. 2568)")
    started_at = timezone.now()
    result = _refresh(academic_year, tambons)
    if tambons is None:
        _record_run(result, started_at)
    return result


_CHILD_LEVEL: Final[dict[int, type[Province] | type[District] | type[Subdistrict]]] = {
    0: Province,
    2: District,
    4: Subdistrict,
}
_LEVEL_OF_LENGTH: Final = {0: StatLevel.COUNTRY, 2: StatLevel.PROVINCE, 4: StatLevel.DISTRICT}
_CHILD_STAT_LEVEL: Final = {0: StatLevel.PROVINCE, 2: StatLevel.DISTRICT, 4: StatLevel.TAMBON}


def stats_publish(*, academic_year: int, areas: Collection[str] | None = None) -> int:
    """Writes what the gap map publishes below each of ``areas`` (codes of the
    country ``""``, provinces and districts; None: every one), as ``gap_layer``
    suppresses it for a user who may open the area whole, with the settings' k.
    Areas with no counts get no row (and lose an old one). Returns the rows written.

    Called by every refresh; on its own after counts were written some other way.
    """
    # Imported here: the selectors read the counts this module writes.
    from field.gap_selectors import _quantities, _suppressed

    k: int = settings.SUPPRESS_K
    year_rows = AreaStat.objects.filter(academic_year=academic_year)
    if areas is not None:
        # Only the areas asked for and the rows one level below them: an
        # incremental refresh republishes three areas, not the country.
        near = Q(pk__in=[])
        for parent in areas:
            near |= Q(level=_LEVEL_OF_LENGTH[len(parent)], code=parent or COUNTRY_CODE)
            near |= Q(level=_CHILD_STAT_LEVEL[len(parent)], code__startswith=parent)
        year_rows = year_rows.filter(near)
    counted: dict[tuple[str, str], tuple[dt.datetime, dict[str, int]]] = {}
    children_counts: dict[str, dict[str, int]] = {}
    for level, code, refreshed_at, *values in year_rows.values_list(
        "level", "code", "refreshed_at", *AREA_STAT_COUNTS
    ):
        counts = dict(zip(AREA_STAT_COUNTS, values, strict=True))
        if level != StatLevel.TAMBON:
            counted[(level, code)] = (refreshed_at, counts)
        if level != StatLevel.COUNTRY:
            children_counts[code] = counts
    wanted = (
        {"", *(code for (_level, code) in counted if code != COUNTRY_CODE)}
        if areas is None
        else set(areas)
    )
    children: dict[str, list[str]] = {}
    for length, model in _CHILD_LEVEL.items():
        below = [parent for parent in wanted if len(parent) == length]
        if not below:
            continue
        prefixes = Q(pk__in=[])
        for parent in below:
            prefixes |= Q(code__startswith=parent)
        for code in model.objects.filter(prefixes).values_list("code", flat=True).order_by("code"):
            children.setdefault(code[:length], []).append(code)
    zeros = dict.fromkeys(AREA_STAT_COUNTS, 0)
    rows: list[AreaPublication] = []
    for parent in sorted(wanted):
        level = _LEVEL_OF_LENGTH[len(parent)]
        stat = counted.get((level.value, parent or COUNTRY_CODE))
        if stat is None:
            continue
        refreshed_at, total = stat
        listed = {code: children_counts.get(code, zeros) for code in children.get(parent, [])}
        rows.append(
            AreaPublication(
                academic_year=academic_year,
                level=level,
                code=parent or COUNTRY_CODE,
                k=k,
                areas=_suppressed(
                    {code: _quantities(counts) for code, counts in listed.items()},
                    _quantities(total),
                    partial=False,
                    k=k,
                )[0],
                refreshed_at=refreshed_at,
            )
        )
    with connection.cursor() as cursor:
        # Areas whose counts are gone (nothing left to count) publish nothing.
        cursor.execute(
            f"""
            DELETE FROM {AreaPublication._meta.db_table} p
            WHERE p.academic_year = %s AND NOT EXISTS (
                SELECT 1 FROM {AreaStat._meta.db_table} s
                WHERE s.academic_year = p.academic_year AND s.level = p.level
                  AND s.code = p.code)
            """,  # noqa: S608
            [academic_year],
        )
    AreaPublication.objects.bulk_create(
        rows,
        batch_size=500,
        update_conflicts=True,
        unique_fields=["academic_year", "level", "code"],
        update_fields=["k", "areas", "refreshed_at"],
    )
    return len(rows)


def stats_changed_tambons(*, since: dt.datetime) -> set[str]:
    """The tambons whose counts may have changed since ``since``: where a case
    written since lies or ever lay, and where a team area or a volunteer's zone
    assignment started or ended since. Children's statuses (``find_unreached``)
    and imports are not seen here (see the module docstring)."""
    if timezone.is_naive(since):
        raise ValueError("since must be timezone-aware")
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH changed AS (
                SELECT id, child_id, whereabouts_id FROM field_case WHERE updated_at >= %(since)s
            )
            SELECT h.subdistrict_id
            FROM changed k
            JOIN field_child c ON c.id = k.child_id
            JOIN field_household h ON h.id = c.household_id
            UNION
            SELECT w.subdistrict_id
            FROM changed k JOIN field_household w ON w.id = k.whereabouts_id
            UNION
            SELECT m.subdistrict_id
            FROM changed k
            JOIN field_visit v ON v.case_id = k.id
            JOIN field_household m ON m.id = v.moved_to_id
            UNION
            SELECT subdistrict_id FROM field_teamarea
            WHERE assigned_at >= %(since)s OR ended_at >= %(since)s
            UNION
            SELECT h.subdistrict_id
            FROM field_zoneassignment z JOIN field_household h ON h.id = z.household_id
            WHERE z.started_at >= %(since)s OR z.ended_at >= %(since)s
            """,
            {"since": since},
        )
        return {code for (code,) in cursor.fetchall() if code}


@transaction.atomic
def stats_refresh_changed(*, academic_year: int) -> StatsRefresh:
    """Brings ``academic_year``'s statistics up to date, recounting only the tambons
    changed since the last run (``AreaStatRun``); in full when there was none, or
    when a reconciliation or an import has run since."""
    if not 2500 <= academic_year <= 2700:
        raise ValueError(f"academic year {academic_year} is not a Buddhist-era year (e.g. 2568)")
    started_at = timezone.now()
    with connection.cursor() as cursor:
        # Taken before reading the last run, so two callers cannot both start from it.
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_NAMESPACE, academic_year])
    last = AreaStatRun.objects.filter(academic_year=academic_year).first()
    tambons: set[str] | None = None
    if last is not None:
        since = last.started_at - CHANGE_OVERLAP
        rewritten = (
            Reconciliation.objects.filter(at__gte=since).exists()
            or ImportRun.objects.filter(finished_at__gte=since).exists()
        )
        if not rewritten:
            tambons = stats_changed_tambons(since=since)
    result = _refresh(academic_year, tambons)
    _record_run(result, started_at)
    return result
