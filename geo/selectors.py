"""Reads about places: reverse geocoding and the areas below an area.

Reverse geocoding rule (the same in every function here):
1. A point is in the tambon whose polygon covers it, border included
   (``ST_Intersects``, a point-in-polygon test).
2. A point on a border shared by two tambons goes to the lower tambon code, so the
   answer never depends on row order.

Both are answered from ``SubdistrictCell``: the point's grid cell is found by
arithmetic and a btree or hash join; a cell wholly inside one tambon needs no
geometry test; in a shared cell, a piece owns a point it intersects unless the
point also touches ``lower``, the cell's pieces of lower-coded tambons. Pieces
of one cell meet only along their edges, so exactly one piece owns each point
of the land: no per-point sort or grouping is needed.
3. ``locate_points`` only: a point inside no tambon but within
   ``settings.GEOCODE_SNAP_METRES`` of one (the published polygons are simplified,
   so shore and border villages can fall just outside) goes to the nearest, with
   ``snapped_m`` set to the distance in metres on the ground (geography).
4. Anything else (the sea, a neighbouring country) has no tambon: ``None``.
District and province follow from the tambon's code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import CharField, Func, Model, QuerySet, TextField

from geo.models import District, Province, Subdistrict, SubdistrictCell, Village

CELLS_TABLE = SubdistrictCell._meta.db_table
# A degree of longitude is at least 103 km up to 21° N (Thailand's north); a box of
# metres / 100,000 degrees therefore always holds the snapping distance.
METRES_PER_DEGREE_AT_LEAST = 100_000
CELL_SIZE = SubdistrictCell.SIZE_DEGREES


def _owning_cell(point: str) -> str:
    """SQL: cell piece ``c`` owns the point expression ``point`` (rules 1 and 2).

    The one place the rule is written; every selector below uses it.
    """
    return (
        f"c.i = floor(ST_X({point}) / {CELL_SIZE})::int"
        f" AND c.j = floor(ST_Y({point}) / {CELL_SIZE})::int"
        f" AND (c.whole OR (ST_Intersects(c.geom, {point})"
        f" AND (c.lower IS NULL OR NOT ST_Intersects(c.lower, {point}))))"
    )


_LEFT_JOIN_OWNER = f"LEFT JOIN {CELLS_TABLE} c ON {_owning_cell('pts.g')}"


@dataclass(frozen=True)
class PlaceName:
    code: str
    name_th: str
    name_en: str


@dataclass(frozen=True)
class Location:
    subdistrict: PlaceName
    district: PlaceName
    province: PlaceName
    snapped_m: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "subdistrict": vars(self.subdistrict),
            "district": vars(self.district),
            "province": vars(self.province),
            "snapped_m": self.snapped_m,
        }


def subdistrict_at_sql(point: str) -> str:
    """SQL: the tambon code of the point expression ``point``, or NULL (rules 1, 2).

    For set-based SQL elsewhere (the registry importer); ``point`` must be an
    expression of trusted SQL, never user input.
    """
    # LIMIT 1 only guards against overlapping source polygons; see rule 2.
    return f"(SELECT c.subdistrict_id FROM {CELLS_TABLE} c WHERE {_owning_cell(point)} LIMIT 1)"  # noqa: S608


class SubdistrictAt(Func):
    """An expression for a row's tambon code, for ``annotate()`` and ``update()``.

    ``Household.objects.update(subdistrict_id=SubdistrictAt("point"))`` places
    every row in one statement.
    """

    output_field = CharField()

    def as_sql(  # type: ignore[override]
        self, compiler: Any, connection: Any, **extra_context: Any
    ) -> tuple[str, tuple[Any, ...]]:
        point_sql, point_params = compiler.compile(self.source_expressions[0])
        point = f"({point_sql})"
        condition = _owning_cell(point)
        # LIMIT 1 only guards against overlapping source polygons; see rule 2.
        sql = f"(SELECT c.subdistrict_id FROM {CELLS_TABLE} c WHERE {condition} LIMIT 1)"  # noqa: S608
        return sql, tuple(point_params) * condition.count(point)


class _Geometry(Func):
    """The geometry as it is: Django would select it ``::bytea``, and every use of
    the column below would then parse the WKB again."""

    template = "%(expressions)s"
    output_field = TextField()


def _points_sql(queryset: QuerySet[Any], point_field: str) -> tuple[str, tuple[Any, ...]]:
    points = queryset.annotate(takhai_point=_Geometry(point_field)).values_list("takhai_point")
    inner, params = points.query.sql_with_params()
    # `inner` is SQL that Django compiled, its values kept apart in `params`.
    return f"SELECT pts_in.* FROM ({inner}) AS pts_in(g)", params  # noqa: S608


def count_by_subdistrict_sql(
    queryset: QuerySet[Any], point_field: str
) -> tuple[str, tuple[Any, ...]]:
    """The SQL of ``count_by_subdistrict``, for EXPLAIN and the benchmark."""
    points, params = _points_sql(queryset, point_field)
    sql = (
        # Not MATERIALIZED: a materialised CTE would rule out a parallel plan.
        f"WITH pts AS ({points}) "  # noqa: S608
        f"SELECT c.subdistrict_id, count(*) FROM pts {_LEFT_JOIN_OWNER} GROUP BY 1"
    )
    return sql, params


def count_by_subdistrict(queryset: QuerySet[Any], point_field: str) -> dict[str | None, int]:
    """How many rows of ``queryset`` lie in each tambon; ``None`` counts those in none.

    One statement whatever the size: the points never come to Python.
    """
    sql, params = count_by_subdistrict_sql(queryset, point_field)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {code: count for code, count in cursor.fetchall()}


_NAMES_SQL = """
SELECT s.code, s.name_th, s.name_en, d.code, d.name_th, d.name_en, p.code, p.name_th, p.name_en
FROM geo_subdistrict s
JOIN geo_district d ON d.code = s.district_id
JOIN geo_province p ON p.code = d.province_id
WHERE s.code = ANY(%s)
"""

_LOCATE_SQL = f"""
WITH pts AS MATERIALIZED (
    SELECT ord, ST_SetSRID(ST_MakePoint(lon, lat), 4326) AS g
    FROM unnest(%s::float8[], %s::float8[]) WITH ORDINALITY AS t(lon, lat, ord)
)
SELECT pts.ord, c.subdistrict_id FROM pts {_LEFT_JOIN_OWNER}
"""  # noqa: S608

_SNAP_SQL = """
WITH pts AS MATERIALIZED (
    SELECT ord, ST_SetSRID(ST_MakePoint(lon, lat), 4326) AS g
    FROM unnest(%s::float8[], %s::float8[], %s::bigint[]) AS t(lon, lat, ord)
)
SELECT pts.ord, near.code, near.metres
FROM pts
CROSS JOIN LATERAL (
    SELECT s.code, ST_Distance(s.geom::geography, pts.g::geography) AS metres
    FROM geo_subdistrict s
    -- The box first, through the GiST index; the exact test on the ground after.
    WHERE s.geom && ST_Expand(pts.g, %s)
      AND ST_DWithin(s.geom::geography, pts.g::geography, %s)
    ORDER BY metres, s.code
    LIMIT 1
) near
"""


def _valid_lonlat(lon: float, lat: float) -> bool:
    return -180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0


def locate_points(points: Sequence[tuple[float, float]]) -> list[Location | None]:
    """Reverse-geocodes (lon, lat) pairs, in order, in at most three queries.

    Pairs that are not coordinates (NaN, out of range) come back as ``None``.
    """
    usable = [
        (i, lon, lat) for i, (lon, lat) in enumerate(points, start=1) if _valid_lonlat(lon, lat)
    ]
    codes: dict[int, tuple[str, float | None]] = {}
    with connection.cursor() as cursor:
        cursor.execute(_LOCATE_SQL, [[p[1] for p in usable], [p[2] for p in usable]])
        ords = [p[0] for p in usable]
        missed = []
        for ord_, code in cursor.fetchall():
            original = ords[ord_ - 1]
            if code is None:
                missed.append(original)
            else:
                codes[original] = (code, None)
        snap = settings.GEOCODE_SNAP_METRES
        if missed and snap > 0:
            lookup = {i: (lon, lat) for i, lon, lat in usable}
            cursor.execute(
                _SNAP_SQL,
                [
                    [lookup[i][0] for i in missed],
                    [lookup[i][1] for i in missed],
                    missed,
                    snap / METRES_PER_DEGREE_AT_LEAST,
                    snap,
                ],
            )
            for original, code, metres in cursor.fetchall():
                codes[original] = (code, round(float(metres), 1))
        names = _names_for({code for code, _ in codes.values()}, cursor)
    return [
        Location(*names[codes[i][0]], snapped_m=codes[i][1]) if i in codes else None
        for i in range(1, len(points) + 1)
    ]


def _names_for(codes: set[str], cursor: Any) -> dict[str, tuple[PlaceName, PlaceName, PlaceName]]:
    if not codes:
        return {}
    cursor.execute(_NAMES_SQL, [sorted(codes)])
    return {
        row[0]: (PlaceName(*row[0:3]), PlaceName(*row[3:6]), PlaceName(*row[6:9]))
        for row in cursor.fetchall()
    }


def locate(lon: float, lat: float) -> Location | None:
    return locate_points([(lon, lat)])[0]


def nearest_village_sql(subdistrict: str, point: str) -> str:
    """SQL: the code of the village of tambon ``subdistrict`` (an SQL expression)
    nearest to ``point`` (an SQL expression), or NULL when it has none.

    A point's village, by the rule the coordinators use: the nearest village
    point of its own tambon (DOPA publishes village points, not areas). Both
    arguments must be trusted SQL, never user input.
    """
    return (
        f"(SELECT v.code FROM {Village._meta.db_table} v "  # noqa: S608
        f"WHERE v.subdistrict_id = {subdistrict} ORDER BY v.point <-> {point} LIMIT 1)"
    )


def village_at(subdistrict: str, lon: float, lat: float) -> str | None:
    point = "ST_SetSRID(ST_MakePoint(%s, %s), 4326)"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {nearest_village_sql('%s', point)}", [subdistrict, lon, lat])
        row = cursor.fetchone()
    return row[0] if row else None


def children_of(code: str) -> QuerySet[Any]:
    """The areas one level below an area: provinces for "", districts of a province,
    tambons of a district, villages of a tambon."""
    child: dict[int, tuple[type[Model], str]] = {
        0: (Province, ""),
        2: (District, "province_id"),
        4: (Subdistrict, "district_id"),
        6: (Village, "subdistrict_id"),
    }
    if len(code) not in child or not (code == "" or code.isdigit()):
        raise ValueError(f"{code!r} is not a DOPA code of a province, district or tambon")
    model, parent_field = child[len(code)]
    queryset = model._default_manager.all()
    return queryset.filter(**{parent_field: code}) if parent_field else queryset
