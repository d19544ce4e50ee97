"""Schools on the officials' gap map: ``/gaps/schools.json``.

Schools are institutions, not people, but the map follows the rule for points all
the same: below ``POINT_ZOOM`` the server sends a grid of cells, each with its
count of schools and how many of them teach primary and secondary (the same level
groups as the access counts of ``field.services.stats``), never the schools. From
``POINT_ZOOM`` it sends the schools in the box: code, name, affiliation, levels,
students and point. Either way at most ``MAX_FEATURES`` features, with
``truncated`` set when there were more.

Only the schools of the user's area (``user_area``): a school lies in the tambon
recorded for it, so a user scoped to a province or some districts sees the schools
with a tambon there; an administrator sees every located school, with a tambon or
not. Team members and volunteers get PermissionDenied, as on ``/gaps/``.

Queries: the scope (once per request), then one, however many schools.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from django.core.exceptions import PermissionDenied
from django.db import connection

from field.models import School, SchoolLevel
from field.selectors import AreaScope, User, user_area

POINT_ZOOM: Final = 10
"""From this zoom the schools themselves; below it, cells."""
MAX_FEATURES: Final = 10_000
CELL_PIXELS: Final = 64
"""A cell is about this many screen pixels wide at the zoom asked for."""
PRIMARY_LEVELS: Final = (SchoolLevel.PRIMARY.value,)
SECONDARY_LEVELS: Final = (
    SchoolLevel.LOWER_SECONDARY.value,
    SchoolLevel.UPPER_SECONDARY.value,
    SchoolLevel.VOCATIONAL.value,
)
_DIGITS: Final = 5
"""Decimals of a school's point: about a metre."""

Box = tuple[float, float, float, float]


def cell_size(zoom: int) -> float:
    """The side of a cell in degrees: ``CELL_PIXELS`` of a 256-pixel tile at ``zoom``."""
    return 360.0 / 2.0**zoom * CELL_PIXELS / 256


@dataclass(frozen=True)
class SchoolCell:
    box: Box
    schools: int
    primary: int
    secondary: int


@dataclass(frozen=True)
class SchoolPoint:
    code: str
    name: str
    affiliation: str
    levels: list[str]
    students: int
    lon: float
    lat: float

    @property
    def primary(self) -> bool:
        return any(level in PRIMARY_LEVELS for level in self.levels)

    @property
    def secondary(self) -> bool:
        return any(level in SECONDARY_LEVELS for level in self.levels)


@dataclass(frozen=True)
class SchoolLayer:
    zoom: int
    bbox: Box
    cell: float | None
    """Degrees; None when the layer holds schools."""
    truncated: bool
    cells: list[SchoolCell] = field(default_factory=list)
    schools: list[SchoolPoint] = field(default_factory=list)


def _scope_sql(scope: AreaScope) -> tuple[str, dict[str, Any]]:
    if scope.province is None:
        return "", {}
    if scope.districts:
        return "AND left(s.subdistrict_id, 4) = ANY(%(districts)s)", {
            "districts": list(scope.districts)
        }
    return "AND s.subdistrict_id LIKE %(prefix)s", {"prefix": scope.province + "%"}


def _box(box: Box) -> dict[str, float]:
    return dict(zip(("west", "south", "east", "north"), box, strict=True))


def _cells(where: str, params: dict[str, Any], zoom: int, bbox: Box) -> SchoolLayer:
    size = cell_size(zoom)
    west, south, east, north = bbox
    # The box grown to whole cells, so that a cell on its edge counts all its schools.
    grown = (
        (west // size) * size,
        (south // size) * size,
        -((-east) // size) * size,
        -((-north) // size) * size,
    )
    sql = f"""
        SELECT floor(ST_X(s.point) / %(size)s)::integer AS gx,
            floor(ST_Y(s.point) / %(size)s)::integer AS gy,
            count(*),
            count(*) FILTER (WHERE s.levels && %(primary)s::varchar[]),
            count(*) FILTER (WHERE s.levels && %(secondary)s::varchar[])
        FROM {School._meta.db_table} s
        WHERE {where}
        GROUP BY 1, 2
        ORDER BY 1, 2
        LIMIT %(limit)s
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            params
            | _box(grown)
            | {
                "size": size,
                "primary": list(PRIMARY_LEVELS),
                "secondary": list(SECONDARY_LEVELS),
            },
        )
        rows = cursor.fetchall()
    cells = [
        SchoolCell(
            box=(
                round(gx * size, _DIGITS),
                round(gy * size, _DIGITS),
                round((gx + 1) * size, _DIGITS),
                round((gy + 1) * size, _DIGITS),
            ),
            schools=schools,
            primary=primary,
            secondary=secondary,
        )
        for gx, gy, schools, primary, secondary in rows[:MAX_FEATURES]
    ]
    return SchoolLayer(
        zoom=zoom, bbox=bbox, cell=size, truncated=len(rows) > MAX_FEATURES, cells=cells
    )


def _points(where: str, params: dict[str, Any], zoom: int, bbox: Box) -> SchoolLayer:
    sql = f"""
        SELECT s.code, s.name, s.affiliation, s.levels, s.students,
            ST_X(s.point), ST_Y(s.point)
        FROM {School._meta.db_table} s
        WHERE {where}
        ORDER BY s.code
        LIMIT %(limit)s
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params | _box(bbox))
        rows = cursor.fetchall()
    schools = [
        SchoolPoint(
            code=code,
            name=name,
            affiliation=affiliation,
            levels=list(levels),
            students=students,
            lon=round(lon, _DIGITS),
            lat=round(lat, _DIGITS),
        )
        for code, name, affiliation, levels, students, lon, lat in rows[:MAX_FEATURES]
    ]
    return SchoolLayer(
        zoom=zoom, bbox=bbox, cell=None, truncated=len(rows) > MAX_FEATURES, schools=schools
    )


def school_layer(*, user: User, bbox: Box, zoom: int) -> SchoolLayer:
    """The schools of the user's area in ``bbox`` (west, south, east, north, degrees):
    cells below ``POINT_ZOOM``, schools from it. PermissionDenied for roles that
    open no area map. Queries: the scope, then one."""
    scope = user_area(user)
    if scope.in_field:
        raise PermissionDenied
    in_scope, params = _scope_sql(scope)
    # Table names come from the models and the scope's fragment from _scope_sql;
    # values are parameters.
    where = (
        "s.point IS NOT NULL "
        "AND s.point && ST_MakeEnvelope(%(west)s, %(south)s, %(east)s, %(north)s, 4326) " + in_scope
    )
    params |= {"limit": MAX_FEATURES + 1}
    if zoom < POINT_ZOOM:
        return _cells(where, params, zoom, bbox)
    return _points(where, params, zoom, bbox)


def school_layer_json(layer: SchoolLayer) -> dict[str, Any]:
    """GeoJSON: cells as polygons with their counts, or schools as points."""
    features: list[dict[str, Any]]
    if layer.cell is not None:
        features = [
            {
                "type": "Feature",
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [
                        [
                            [cell.box[0], cell.box[1]],
                            [cell.box[2], cell.box[1]],
                            [cell.box[2], cell.box[3]],
                            [cell.box[0], cell.box[3]],
                            [cell.box[0], cell.box[1]],
                        ]
                    ],
                },
                "properties": {
                    "schools": cell.schools,
                    "primary": cell.primary,
                    "secondary": cell.secondary,
                },
            }
            for cell in layer.cells
        ]
    else:
        features = [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [school.lon, school.lat]},
                "properties": {
                    "code": school.code,
                    "name": school.name,
                    "affiliation": school.affiliation,
                    "levels": school.levels,
                    "students": school.students,
                    "primary": school.primary,
                    "secondary": school.secondary,
                },
            }
            for school in layer.schools
        ]
    return {
        "type": "FeatureCollection",
        "kind": "cells" if layer.cell is not None else "schools",
        "zoom": layer.zoom,
        "bbox": list(layer.bbox),
        "cell": layer.cell,
        "pointZoom": POINT_ZOOM,
        "limit": MAX_FEATURES,
        "truncated": layer.truncated,
        "features": features,
    }
