"""The home map page and the boundary GeoJSON it draws.

The map shows one administrative level at a time, chosen by zoom (``ZOOM_BANDS``):
provinces below zoom 8, districts at 8 and 9, tambons from 10. Each request for
boundaries names a level, a bounding box and the zoom it will be drawn at; the
geometry comes back simplified to half a pixel at that zoom, so the national view
stays a few dozen kilobytes whatever the resolution of the stored polygons.
"""

from __future__ import annotations

import math
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import conditional_page, require_safe
from leaflet import app_settings as leaflet_settings

from geo.map_data import LEVELS, BBox, Level, boundary_feature_collection, pixel_degrees
from geo.models import AreaLevel

# Boundaries are public data with no personal data in them; a day is short next to
# how often they change (a few tambons a year).
BOUNDARY_MAX_AGE = 86400
MAX_ZOOM = 22
# Wider than any screen (a 4K monitor is 3840 CSS px) with room for padding; a box
# wider than this at its zoom asks for far more than anyone can look at.
MAX_REQUEST_PIXELS = 8192


# Thailand's extent (west, south, east, north), which the home map opens on. A
# constant rather than a query: the country does not move, and a test database
# holding one province should still open on the national view.
THAILAND_BBOX: BBox = (97.34, 5.61, 105.64, 20.47)

# The zoom from which the home map shows each level.
ZOOM_BANDS: tuple[tuple[AreaLevel, int], ...] = (
    (AreaLevel.PROVINCE, 0),
    (AreaLevel.DISTRICT, 8),
    (AreaLevel.SUBDISTRICT, 10),
)


class BBoxField(forms.Field):
    """``w,s,e,n`` in degrees (EPSG:4326), as Leaflet's ``getBounds().toBBoxString()``."""

    def to_python(self, value: Any) -> BBox | None:
        if value in self.empty_values:
            return None
        try:
            w, s, e, n = (float(part) for part in str(value).split(","))
        except ValueError as exc:
            raise forms.ValidationError(_("Give four numbers: west,south,east,north.")) from exc
        if not all(math.isfinite(v) for v in (w, s, e, n)):
            raise forms.ValidationError(_("Coordinates must be finite numbers."))
        if not (-180 <= w < e <= 180 and -90 <= s < n <= 90):
            raise forms.ValidationError(
                _("West must be less than east and south less than north, within ±180 and ±90.")
            )
        return (w, s, e, n)


class BoundaryQuery(forms.Form):
    bbox = BBoxField()
    zoom = forms.IntegerField(min_value=0, max_value=MAX_ZOOM)

    def __init__(self, data: Any, *, level: Level) -> None:
        super().__init__(data)
        self.level = level

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        bbox, zoom = cleaned.get("bbox"), cleaned.get("zoom")
        if bbox is None or zoom is None:
            return cleaned
        if zoom < self.level.min_zoom:
            self.add_error(
                "zoom", _("This level needs zoom %(zoom)d or more.") % {"zoom": self.level.min_zoom}
            )
        elif max(bbox[2] - bbox[0], bbox[3] - bbox[1]) > MAX_REQUEST_PIXELS * pixel_degrees(zoom):
            self.add_error(
                "bbox",
                _("The box is wider than %(pixels)d pixels at this zoom.")
                % {"pixels": MAX_REQUEST_PIXELS},
            )
        return cleaned

    def first_error(self) -> tuple[str, str]:
        field, messages = next(iter(self.errors.items()))
        return field, str(messages[0])


def _bad_parameter(parameter: str, message: str) -> JsonResponse:
    return JsonResponse({"error": message, "parameter": parameter}, status=400)


# gzip is safe here (no secret in the response to leak through compression) and
# shrinks boundary text about five times for tablets on a weak signal. The ETag is
# a hash of the body: it spares the transfer, not the query.
@gzip_page
@conditional_page
@require_safe
def boundaries(request: HttpRequest, level: str) -> HttpResponse:
    spec = LEVELS.get(level)
    if spec is None:
        return _bad_parameter("level", _("Level must be one of: %s.") % ", ".join(LEVELS))
    query = BoundaryQuery(request.GET, level=spec)
    if not query.is_valid():
        return _bad_parameter(*query.first_error())
    body = boundary_feature_collection(level=spec, **query.cleaned_data)
    response = HttpResponse(body, content_type="application/geo+json; charset=utf-8")
    patch_cache_control(response, public=True, max_age=BOUNDARY_MAX_AGE)
    return response


def _zoom_bands() -> list[dict[str, Any]]:
    """The levels of the home map, each with the zooms it is shown at."""
    map_min_zoom = int(leaflet_settings["MIN_ZOOM"] or 0)
    map_max_zoom = int(leaflet_settings["MAX_ZOOM"] or MAX_ZOOM)
    bands = []
    for index, (level, min_zoom) in enumerate(ZOOM_BANDS):
        first = max(min_zoom, map_min_zoom)
        last = ZOOM_BANDS[index + 1][1] - 1 if index + 1 < len(ZOOM_BANDS) else map_max_zoom
        zooms = _("zoom %(first)d–%(last)d") % {"first": first, "last": last}
        bands.append(
            {
                "level": level.value,
                "label": str(level.label),
                "minZoom": min_zoom,
                "zooms": zooms,
                "url": reverse("geo-boundaries", args=[level.value]),
            }
        )
    return bands


def _home_page_data(levels: list[dict[str, Any]]) -> dict[str, Any]:
    """What home.js needs, handed over through json_script."""
    return {
        "language": get_language(),
        "map": _leaflet_options(),
        # Leaflet's order: [[south, west], [north, east]].
        "bounds": [[THAILAND_BBOX[1], THAILAND_BBOX[0]], [THAILAND_BBOX[3], THAILAND_BBOX[2]]],
        "levels": levels,
        "strings": {
            "loading": _("Loading boundaries…"),
            "loadFailed": _("Could not load the boundaries. Move the map to try again."),
        },
    }


def _leaflet_options() -> dict[str, Any]:
    """LEAFLET_CONFIG in the shape django-leaflet's ``L.Map.djangoMap`` reads.

    The ``leaflet_map`` template tag would write the same options into an inline
    script; the page keeps its script in home.js instead.
    """
    return {
        "center": leaflet_settings["DEFAULT_CENTER"],
        "zoom": leaflet_settings["DEFAULT_ZOOM"],
        "minzoom": leaflet_settings["MIN_ZOOM"],
        "maxzoom": leaflet_settings["MAX_ZOOM"],
        "layers": [(str(label), url, attrs) for label, url, attrs in leaflet_settings["TILES"]],
        "overlays": [],
        "attributionprefix": str(leaflet_settings["ATTRIBUTION_PREFIX"]),
        "scale": leaflet_settings.get("SCALE"),
        "resetview": False,
    }


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    levels = _zoom_bands()
    return render(
        request, "geo/home.html", {"levels": levels, "page_data": _home_page_data(levels)}
    )
