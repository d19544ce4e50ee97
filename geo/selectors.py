"""Reads about places: reverse geocoding and the areas below an area.

Reverse geocoding rule (the same in every function here):
1. A point is in the tambon whose polygon covers it, border included. For a point
   and a polygon that is ``ST_Intersects``, which PostGIS answers by a fast
   point-in-polygon test, on the subdivided pieces found through their GiST index.
2. A point on a border shared by two tambons goes to the lower tambon code, so the
   answer never depends on row order.
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
from django.db.models import CharField, F, Func, Model, OuterRef, QuerySet, Subquery

from geo.models import AreaLevel, District, Province, Subdistrict, SubdistrictPart, Village

PARTS_TABLE = SubdistrictPart._meta.db_table

# One point (pts.g) -> its tambon code by rules 1 and 2. Used by every selector so
# the rule lives in one place. min() rather than ORDER BY ... LIMIT 1: no sort per
# point, and no plan that walks codes in order.
_LATERAL_HIT = f"""
LEFT JOIN LATERAL (
    SELECT min(part.subdistrict_id) AS code
    FROM {PARTS_TABLE} part
    WHERE ST_Intersects(part.geom, pts.g)
) hit ON true
"""  # noqa: S608


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


def subdistrict_at(point_ref: str) -> Subquery:
    """An expression for a row's tambon code, for ``annotate()`` and ``update()``.

    ``Household.objects.update(subdistrict_id=subdistrict_at("point"))`` places
    every row in one statement, each through the parts' GiST index.
    """
    # MIN as a plain Func: Django adds no GROUP BY, so the subquery is one row.
    lowest = Func(F("subdistrict_id"), function="MIN", output_field=CharField())
    parts = SubdistrictPart.objects.filter(geom__intersects=OuterRef(point_ref))
    return Subquery(parts.annotate(code=lowest).values("code"))


def _points_sql(queryset: QuerySet[Any], point_field: str) -> tuple[str, tuple[Any, ...]]:
    inner, params = queryset.values_list(point_field).query.sql_with_params()
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
        f"SELECT hit.code, count(*) FROM pts {_LATERAL_HIT} GROUP BY hit.code"
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
SELECT pts.ord, hit.code FROM pts {_LATERAL_HIT}
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
    WHERE ST_DWithin(s.geom::geography, pts.g::geography, %s)
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
                [[lookup[i][0] for i in missed], [lookup[i][1] for i in missed], missed, snap],
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


def level_of(code: str) -> AreaLevel:
    levels = {2: AreaLevel.PROVINCE, 4: AreaLevel.DISTRICT, 6: AreaLevel.SUBDISTRICT}
    if len(code) not in levels or not code.isdigit():
        raise ValueError(f"{code!r} is not a DOPA code of a province, district or tambon")
    return levels[len(code)]
