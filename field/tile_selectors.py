"""The officials' gap map as Mapbox vector tiles: one layer, ``areas``, at the level
the zoom calls for (provinces below z7, districts z7-9, tambons from z10), each
area with its code, names, the indicator's value and class.

**The same numbers as ``/gaps/layer.json``.** A tile may show areas of several
parents (districts of two provinces at z8). Each parent's children are suppressed
together with the parent's own row, exactly as ``gap_layer`` does when that parent
is open (``field.gap_selectors._suppressed``, same inputs, same ``partial`` rule),
so a tile publishes nothing the layer withholds, and the two cannot be subtracted
from each other. For the same reason the class of an area is the class
``gap_layer`` gives it among its siblings (breaks fitted per parent), not one
fitted over the tile: a tile boundary must not change a colour. A user whose
scope is one province sees that province at low zooms with the value ``gap_layer``
gives its "whole area" row, and no class (one area has no classes).

**Read, not suppressed, per request.** Suppressing a district's tambons takes a
few milliseconds and a tile over a city holds a dozen districts, so tiles read
what ``field.services.stats`` publishes at each refresh (``AreaPublication``,
the same ``_suppressed`` with the same inputs). A tile falls back to counting and
suppressing on request when one of its parents has no current publication (k
changed, counts written without one) or when the user may open only part of a
parent (a coordinator narrowed to some districts of a province).

Queries: the scope (once per request), the ETag's, the publications (and, on
fallback, the counts), the tile.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection

from field.gap_selectors import (
    CLASSES,
    INDICATORS,
    QUANTITIES,
    TOTAL,
    UNPLACED,
    Method,
    _counts_sql,
    _quantities,
    _rate,
    _suppressed,
)
from field.models import AREA_STAT_COUNTS, AreaPublication, AreaStat, StatLevel
from field.selectors import AreaScope, User, user_area
from geo.algorithms.classify import breaks, class_of
from geo.models import District, Province, Subdistrict

LAYER: Final = "areas"
EXTENT: Final = 4096
# Part of the tile, in its own units, drawn beyond its edge so that borders
# do not show seams between tiles.
BUFFER: Final = 64
# Bumped when what a tile holds changes for the same counts (new properties,
# other tolerances): browsers holding an old tile then miss the ETag.
TILE_VERSION: Final = "1"
MAX_ZOOM: Final = 16


@dataclass(frozen=True)
class TileLevel:
    model: type[Province] | type[District] | type[Subdistrict]
    code_length: int
    parent_length: int
    parent_level: StatLevel


_PROVINCES: Final = TileLevel(Province, 2, 0, StatLevel.COUNTRY)
_DISTRICTS: Final = TileLevel(District, 4, 2, StatLevel.PROVINCE)
_TAMBONS: Final = TileLevel(Subdistrict, 6, 4, StatLevel.DISTRICT)


def tile_level(zoom: int) -> TileLevel:
    """Provinces below z7, districts z7-9, tambons from z10: about the zooms at
    which ``/gaps/`` opens the country, a province and a district."""
    if zoom < 7:
        return _PROVINCES
    if zoom < 10:
        return _DISTRICTS
    return _TAMBONS


def tolerance(zoom: int) -> float:
    """Half a screen pixel at ``zoom``, in degrees. Simplifying in degrees, before
    the transform to web Mercator, spares transforming every vertex of the
    full-resolution polygons; half a pixel is invisible once drawn."""
    return 360.0 / (256 * 2.0**zoom) / 2


def tile_valid(z: int, x: int, y: int) -> bool:
    return 0 <= z <= MAX_ZOOM and 0 <= x < 2**z and 0 <= y < 2**z


# --- the ETag -------------------------------------------------------------------------


def tile_etag(*, user: User, year: int | None, indicator: str, method: Method) -> str:
    """Changes whenever a tile of these parameters could: the counts of the year
    (their latest refresh), the year chosen by default, the scope, k. One query
    after the scope; PermissionDenied as ``user_area``."""
    scope = _map_scope(user)
    stat = AreaStat._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT chosen.year,
                (SELECT max(refreshed_at) FROM {stat} WHERE academic_year = chosen.year)
            FROM (
                SELECT COALESCE(%(year)s::integer, (SELECT max(academic_year) FROM {stat})) AS year
            ) AS chosen
            """,  # noqa: S608
            {"year": year},
        )
        chosen, refreshed = cursor.fetchone() or (None, None)
    key = ":".join(
        str(part)
        for part in (
            TILE_VERSION,
            chosen,
            refreshed.isoformat() if refreshed else "",
            indicator,
            method,
            settings.SUPPRESS_K,
            scope.province or "",
            ",".join(scope.districts),
        )
    )
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _map_scope(user: User) -> AreaScope:
    scope = user_area(user)
    if scope.in_field:
        # Team members and volunteers browse no area, as on /gaps/.
        raise PermissionDenied
    return scope


# --- the values -----------------------------------------------------------------------


@dataclass(frozen=True)
class TileArea:
    value: float | None
    withheld: bool
    klass: int | None


def _envelope_sql() -> str:
    # The tile and its buffer in the boundaries' SRID, for the spatial index: a
    # web Mercator rectangle is a longitude-latitude rectangle too.
    return f"ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => {BUFFER / EXTENT}), 4326)"


def _counts_query(level: TileLevel, *, root_mode: bool) -> str:
    """Every child of every parent that has a child in the tile (suppression needs
    all siblings, not only those drawn), and each parent's own row."""
    stat = AreaStat._meta.db_table
    table = level.model._meta.db_table
    parent = f"left(a.code, {level.parent_length})"
    # In root mode the features are the parents themselves (the user's province);
    # the children are only there to suppress its row as gap_layer does.
    hit_table = level.model._meta.db_table if not root_mode else Province._meta.db_table
    return f"""
        WITH chosen AS (
            SELECT COALESCE(%(year)s::integer, (SELECT max(academic_year) FROM {stat})) AS year
        ),
        parents AS (
            SELECT DISTINCT left(h.code, {level.parent_length}) AS code
            FROM {hit_table} h
            WHERE h.geom && {_envelope_sql()} AND h.code LIKE %(prefix)s
        )
        SELECT 'area' AS kind, a.code, {parent}, (SELECT year FROM chosen), {_counts_sql("s")}
        FROM {table} a
        JOIN parents p ON p.code = {parent}
        LEFT JOIN {stat} s ON s.academic_year = (SELECT year FROM chosen)
            AND s.level = %(level)s AND s.code = a.code
        UNION ALL
        SELECT 'total', p.code, p.code, (SELECT year FROM chosen), {_counts_sql("t")}
        FROM parents p
        LEFT JOIN {stat} t ON t.academic_year = (SELECT year FROM chosen)
            AND t.level = %(parent_level)s
            AND t.code = CASE WHEN p.code = '' THEN 'TH' ELSE p.code END
    """  # noqa: S608


def _publications_query(level: TileLevel, *, root_mode: bool) -> str:
    """Per parent with an area in the tile, its publication when it is current
    (written at its counts' last refresh, with today's k); NULL otherwise."""
    stat = AreaStat._meta.db_table
    publication = AreaPublication._meta.db_table
    hit_table = level.model._meta.db_table if not root_mode else Province._meta.db_table
    return f"""
        WITH chosen AS (
            SELECT COALESCE(%(year)s::integer, (SELECT max(academic_year) FROM {stat})) AS year
        ),
        parents AS (
            SELECT DISTINCT left(h.code, {level.parent_length}) AS code
            FROM {hit_table} h
            WHERE h.geom && {_envelope_sql()} AND h.code LIKE %(prefix)s
        )
        SELECT (SELECT year FROM chosen), p.code, pub.areas::text
        FROM parents p
        LEFT JOIN {stat} s ON s.academic_year = (SELECT year FROM chosen)
            AND s.level = %(parent_level)s
            AND s.code = CASE WHEN p.code = '' THEN 'TH' ELSE p.code END
        LEFT JOIN {publication} pub ON pub.academic_year = s.academic_year
            AND pub.level = s.level AND pub.code = s.code
            AND pub.refreshed_at = s.refreshed_at AND pub.k = %(k)s
    """  # noqa: S608


def _from_publications(
    scope: AreaScope,
    rows: list[tuple[int | None, str, str | None]],
    *,
    root_mode: bool,
) -> dict[str, dict[str, dict[str, int | None]]] | None:
    """Per parent the published quantities of its children and TOTAL, from the
    publications: None when any parent needs counting on request instead."""
    result: dict[str, dict[str, dict[str, int | None]]] = {}
    for _year, parent, text in rows:
        if text is None:
            return None
        areas: dict[str, dict[str, int | None]] = json.loads(text)
        if any(set(QUANTITIES) - set(counts) for counts in areas.values()):
            return None
        if root_mode:
            if scope.may_open(parent):
                result[parent] = areas
            continue
        children = [code for code in areas if code not in (TOTAL, UNPLACED)]
        openable = [code for code in children if scope.may_open(code)]
        if len(openable) != len(children):
            if openable:
                return None
            continue
        if children:
            result[parent] = areas
    return result


def _values(
    published: Mapping[str, Mapping[str, Mapping[str, int | None]]],
    *,
    indicator: str,
    method: Method,
    root_mode: bool,
) -> dict[str, TileArea]:
    """Per parent's published quantities, each drawn area's value and class."""
    chosen_indicator = INDICATORS[indicator]
    result: dict[str, TileArea] = {}
    for parent, areas in published.items():
        values = {code: _rate(counts, chosen_indicator) for code, counts in areas.items()}
        if root_mode:
            value, withheld = values[TOTAL]
            result[parent] = TileArea(value, withheld, None)
            continue
        children = [code for code in areas if code not in (TOTAL, UNPLACED)]
        bounds = breaks([values[code][0] for code in children], method=method, classes=CLASSES)
        for code in children:
            value, withheld = values[code]
            result[code] = TileArea(value, withheld, class_of(value, bounds))
    return result


def _published(
    scope: AreaScope,
    listed: Mapping[str, Mapping[str, Mapping[str, int]]],
    totals: Mapping[str, Mapping[str, int]],
    *,
    parent_length: int,
    indicator: str,
    method: Method,
    root_mode: bool,
) -> dict[str, TileArea]:
    """Per parent, what gap_layer publishes with that parent open, suppressed now."""
    k: int = settings.SUPPRESS_K
    published: dict[str, dict[str, dict[str, int | None]]] = {}
    for parent, total in totals.items():
        published[parent], _unplaced = _suppressed(
            listed.get(parent, {}),
            total,
            partial=bool(scope.districts) and parent_length == 2,
            k=k,
        )
    return _values(published, indicator=indicator, method=method, root_mode=root_mode)


def _tile_query(level: TileLevel) -> str:
    table = level.model._meta.db_table
    return f"""
        WITH published AS (
            SELECT * FROM unnest(
                %(codes)s::text[], %(values)s::double precision[],
                %(withheld)s::boolean[], %(classes)s::integer[]
            ) AS v(code, value, withheld, klass)
        ),
        features AS (
            SELECT a.code, a.name_th, a.name_en, v.value, v.withheld, v.klass AS "class",
                ST_AsMVTGeom(
                    ST_Transform(ST_SimplifyPreserveTopology(a.geom, %(tolerance)s), 3857),
                    ST_TileEnvelope(%(z)s, %(x)s, %(y)s), {EXTENT}, {BUFFER}, true
                ) AS geom
            FROM {table} a
            JOIN published v ON v.code = a.code
            WHERE a.geom && {_envelope_sql()}
        )
        SELECT ST_AsMVT(features, '{LAYER}', {EXTENT}, 'geom')
        FROM features WHERE geom IS NOT NULL
    """  # noqa: S608


def gap_tile(
    *, user: User, z: int, x: int, y: int, year: int | None, indicator: str, method: Method
) -> bytes:
    """The tile ``z/x/y`` of the gap map for ``user``: b"" when no area of the
    user's scope lies in it. KeyError for an unknown indicator; PermissionDenied
    for roles that browse no area."""
    INDICATORS[indicator]  # fail before any query
    scope = _map_scope(user)
    level = tile_level(z)
    # A province's own users cannot open the country, whose suppression would
    # involve the other provinces: their province stands alone, as the "whole
    # area" row of its own layer.
    root_mode = level is _PROVINCES and scope.province is not None
    counted = _DISTRICTS if root_mode else level
    params: dict[str, Any] = {
        "year": year,
        "z": z,
        "x": x,
        "y": y,
        "prefix": scope.root + "%",
        "level": _stat_level(counted).value,
        "parent_level": counted.parent_level.value,
    }
    areas: dict[str, TileArea] | None = None
    if not (scope.districts and counted.parent_length == 2):
        with connection.cursor() as cursor:
            cursor.execute(
                _publications_query(counted, root_mode=root_mode),
                params | {"k": settings.SUPPRESS_K},
            )
            rows = cursor.fetchall()
        if not rows or rows[0][0] is None:
            return b""  # no area of the scope here, or no counts yet
        published = _from_publications(scope, rows, root_mode=root_mode)
        if published is not None:
            areas = _values(published, indicator=indicator, method=method, root_mode=root_mode)
    if areas is None:
        areas = _counted(
            scope, counted, params, indicator=indicator, method=method, root_mode=root_mode
        )
    if not areas:
        return b""
    codes = sorted(areas)
    params |= {
        "codes": codes,
        "values": [_finite(areas[c].value) for c in codes],
        "withheld": [areas[c].withheld for c in codes],
        "classes": [areas[c].klass for c in codes],
        "tolerance": tolerance(z),
    }
    with connection.cursor() as cursor:
        cursor.execute(_tile_query(level), params)
        row = cursor.fetchone()
    return bytes(row[0]) if row and row[0] is not None else b""


def _counted(
    scope: AreaScope,
    counted: TileLevel,
    params: Mapping[str, Any],
    *,
    indicator: str,
    method: Method,
    root_mode: bool,
) -> dict[str, TileArea]:
    """The tile's areas from their counts, suppressed on request."""
    with connection.cursor() as cursor:
        cursor.execute(_counts_query(counted, root_mode=root_mode), params)
        rows = cursor.fetchall()
    listed: dict[str, dict[str, dict[str, int]]] = {}
    totals: dict[str, dict[str, int]] = {}
    for kind, code, parent, _year, *counts in rows:
        quantities = _quantities(dict(zip(AREA_STAT_COUNTS, counts, strict=True)))
        if kind == TOTAL:
            totals[parent] = quantities
        elif scope.may_open(code):
            listed.setdefault(parent, {})[code] = quantities
    if root_mode:
        totals = {code: total for code, total in totals.items() if scope.may_open(code)}
    else:
        totals = {parent: totals[parent] for parent in listed}
    return _published(
        scope,
        listed,
        totals,
        parent_length=counted.parent_length,
        indicator=indicator,
        method=method,
        root_mode=root_mode,
    )


def _stat_level(level: TileLevel) -> StatLevel:
    return {2: StatLevel.PROVINCE, 4: StatLevel.DISTRICT, 6: StatLevel.TAMBON}[level.code_length]


def _finite(value: float | None) -> float | None:
    return value if value is None or math.isfinite(value) else None
