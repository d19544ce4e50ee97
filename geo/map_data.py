"""Boundary GeoJSON for the maps: public data, simplified to the zoom it is drawn at.

Each polygon comes back simplified to half a pixel at the requested zoom, with
coordinates rounded to a quarter pixel, so the national view stays a few dozen
kilobytes whatever the resolution of the stored polygons.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from django.contrib.gis.db.models.functions import AsGeoJSON, GeomOutputGeoFunc, PointOnSurface
from django.contrib.gis.geos import Polygon
from django.db.models import CharField, F, FloatField, Func, Value

from geo.models import AreaLevel, District, Province, Subdistrict

BBox = tuple[float, float, float, float]

# Leaflet's tiles are 256 px, so one pixel at zoom z spans 360 / (256 * 2**z) degrees
# of longitude. In Web Mercator a pixel spans fewer degrees of latitude, by cos(lat):
# at Thailand's 5–21° N, at most 7% fewer, too little to matter here.
TILE_SIZE = 256
# The source files carry 6 decimals (about 11 cm); more would only be noise.
MAX_DIGITS = 6


@dataclass(frozen=True)
class Level:
    model: type[Province] | type[District] | type[Subdistrict]
    parent_field: str | None
    # Below this zoom the request is refused: 7,425 tambons for the whole country
    # would be megabytes of lines a pixel apart. One zoom below where the home map
    # switches, so another page may start a level early.
    min_zoom: int


LEVELS: dict[str, Level] = {
    AreaLevel.PROVINCE: Level(Province, None, 0),
    AreaLevel.DISTRICT: Level(District, "province_id", 7),
    AreaLevel.SUBDISTRICT: Level(Subdistrict, "district_id", 9),
}


def pixel_degrees(zoom: int) -> float:
    return 360 / (TILE_SIZE * 2.0**zoom)


def simplify_tolerance(zoom: int) -> float:
    """Half a pixel: no line moves by more than that, so none moves by a whole pixel.

    Each polygon is simplified alone, so neighbours no longer share every vertex; at
    half a pixel the gaps and overlaps this opens between them cannot be seen.
    """
    return pixel_degrees(zoom) / 2


def coordinate_digits(zoom: int) -> int:
    """Decimals that round a coordinate by at most a quarter of a pixel at ``zoom``."""
    return min(MAX_DIGITS, max(0, math.ceil(-math.log10(simplify_tolerance(zoom)))))


class SimplifyPreserveTopology(GeomOutputGeoFunc):
    # Plain ST_Simplify can collapse a small tambon to nothing or make its ring cross
    # itself; this variant keeps every polygon a valid polygon.
    function = "ST_SimplifyPreserveTopology"
    arity = 2


class _Multi(GeomOutputGeoFunc):
    # GEOS hands back a one-part MultiPolygon as a Polygon; clients get one type.
    function = "ST_Multi"
    arity = 1


class _X(Func):
    function = "ST_X"
    output_field = FloatField()


class _Y(Func):
    function = "ST_Y"
    output_field = FloatField()


def boundary_feature_collection(*, level: Level, bbox: BBox, zoom: int) -> str:
    """The areas of ``level`` that meet ``bbox``, as GeoJSON text, in one query.

    PostGIS writes each geometry as GeoJSON text and it is spliced in as it is:
    parsing and re-serialising thousands of coordinates would cost more than the
    query. Properties: code, name_th, name_en, parent (the code of the area above,
    null for a province) and label, a [lon, lat] inside the area for its name.
    """
    digits = coordinate_digits(zoom)
    envelope = Polygon.from_bbox(bbox)
    envelope.srid = 4326
    parent = F(level.parent_field) if level.parent_field else Value(None, output_field=CharField())
    rows = (
        level.model.objects.filter(geom__intersects=envelope)
        .annotate(
            shape=AsGeoJSON(
                _Multi(SimplifyPreserveTopology("geom", simplify_tolerance(zoom))),
                precision=digits,
            ),
            parent=parent,
            label_x=_X(PointOnSurface("geom")),
            label_y=_Y(PointOnSurface("geom")),
        )
        .values_list("code", "name_th", "name_en", "parent", "label_x", "label_y", "shape")
    )
    features = []
    for code, name_th, name_en, parent_code, label_x, label_y, shape in rows:
        properties = {
            "code": code,
            "name_th": name_th,
            "name_en": name_en,
            "parent": parent_code,
            "label": [round(label_x, digits), round(label_y, digits)],
        }
        features.append(
            f'{{"type":"Feature","id":{_compact_json(code)},'
            f'"properties":{_compact_json(properties)},"geometry":{shape}}}'
        )
    return '{"type":"FeatureCollection","features":[' + ",".join(features) + "]}"


def _compact_json(value: object) -> str:
    # ensure_ascii=False: a Thai letter is 3 bytes in UTF-8, 6 as a \u escape.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
