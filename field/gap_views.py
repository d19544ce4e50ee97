"""The officials' gap map: ``/gaps/``, the layer it draws, ``/gaps/layer.json``,
and the schools over it, ``/gaps/schools.json``.

Officials, coordinators and administrators; search team members and volunteers
get 403, as on the funnel. Reads go through ``field.gap_selectors`` and
``field.school_layer_selectors``, which scope them with ``user_area`` (and
``resolve_area``).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_safe

from field.forms import FunnelQuery
from field.gap_selectors import (
    INDICATORS,
    METHODS,
    QUANTITY_LABELS,
    indicator_choices,
    layer_json,
)
from field.gap_selectors import gap_layer as select_gap_layer
from field.models import Affiliation, SchoolLevel
from field.school_layer_selectors import POINT_ZOOM, school_layer, school_layer_json
from field.selectors import resolve_area, user_area


class GapQuery(FunnelQuery):
    indicator = forms.ChoiceField(choices=[(key, key) for key in INDICATORS], required=False)
    method = forms.ChoiceField(choices=[(m, m) for m in METHODS], required=False)


def _page_data(area_code: str, root: str, query: GapQuery) -> dict[str, Any]:
    """What gaps.js needs, handed over through json_script."""
    return {
        "layerUrl": reverse("field-gap-layer"),
        "area": area_code,
        "root": root,
        "year": query.cleaned_data["year"],
        "indicator": query.cleaned_data["indicator"] or "unreached",
        "method": query.cleaned_data["method"] or "natural",
        "quantities": {key: str(label) for key, label in QUANTITY_LABELS.items()},
        "tiles": {"url": settings.TILE_URL, "attribution": settings.TILE_ATTRIBUTION},
        "schools": {
            "url": reverse("field-gap-schools"),
            "pointZoom": POINT_ZOOM,
            # Metres on the ground, as the access counts measure them.
            "distances": {
                "primary": settings.SCHOOL_DISTANCE_PRIMARY_M,
                "secondary": settings.SCHOOL_DISTANCE_SECONDARY_M,
            },
            "affiliations": {str(value): str(label) for value, label in Affiliation.choices},
            "levels": {str(value): str(label) for value, label in SchoolLevel.choices},
        },
        "strings": {
            "thailand": _("Thailand"),
            "withheld": _("withheld"),
            "noValue": _("no data"),
            "loading": _("Loading…"),
            "loadFailed": _("Could not load the map."),
            "noYear": _("No counts yet: run refresh_stats for an academic year."),
            "uncovered": _("open cases, no zone or team"),
            "unplaced": _("No tambon recorded"),
            "total": _("Whole area"),
            "of": _("of"),
            "drill": _("Click an area to open it."),
            "levels": {
                "province": _("Provinces"),
                "district": _("Districts"),
                "tambon": _("Tambons"),
            },
            "schools": pgettext("map layer", "Schools"),
            "catchments": _("Catchments"),
            "catchmentPrimary": _("primary, %(km)s km"),
            "catchmentSecondary": _("secondary, %(km)s km"),
            "zoomForSchools": _("Zoom in to see the schools themselves and their catchments."),
            "schoolsInCell": _("schools"),
            "teachPrimary": _("teach primary"),
            "teachSecondary": _("teach secondary"),
            "students": _("Students"),
            "truncated": _("Too many schools to draw here: zoom in to see them all."),
            "schoolsFailed": _("Could not load the schools."),
        },
    }


@login_required
@require_safe
def gaps_page(request: HttpRequest) -> HttpResponse:
    query = GapQuery(request.GET)
    if not query.is_valid():
        return HttpResponseBadRequest(_("Give an area code of 2, 4 or 6 digits and a B.E. year."))
    scope = user_area(request.user)
    area = resolve_area(scope, query.cleaned_data["area"] or None)
    return render(
        request,
        "field/gaps.html",
        {
            "scope": scope,
            "area": area,
            "indicators": indicator_choices(),
            "page_data": _page_data(area.code, scope.root, query),
        },
    )


@login_required
@require_safe
def gap_layer(request: HttpRequest) -> HttpResponse:
    query = GapQuery(request.GET)
    if not query.is_valid():
        return JsonResponse({"error": query.errors.get_json_data()}, status=400)
    layer = select_gap_layer(
        user=request.user,
        area_code=query.cleaned_data["area"] or None,
        year=query.cleaned_data["year"],
        indicator=query.cleaned_data["indicator"] or "unreached",
        method=query.cleaned_data["method"] or "natural",
    )
    response = JsonResponse(layer_json(layer), content_type="application/geo+json")
    add_never_cache_headers(response)
    return response


class SchoolQuery(forms.Form):
    bbox = forms.CharField()
    zoom = forms.IntegerField(min_value=0, max_value=20)

    def clean_bbox(self) -> tuple[float, float, float, float]:
        parts = str(self.cleaned_data["bbox"]).split(",")
        try:
            west, south, east, north = (float(part) for part in parts)
        except ValueError:
            raise forms.ValidationError(_("Give the box as west,south,east,north.")) from None
        if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
            raise forms.ValidationError(_("Give the box as west,south,east,north."))
        return west, south, east, north


@login_required
@require_safe
def gap_schools(request: HttpRequest) -> HttpResponse:
    """Schools of the user's area in the box: cells below zoom 10, schools from it."""
    query = SchoolQuery(request.GET)
    if not query.is_valid():
        return JsonResponse({"error": query.errors.get_json_data()}, status=400)
    layer = school_layer(
        user=request.user, bbox=query.cleaned_data["bbox"], zoom=query.cleaned_data["zoom"]
    )
    response = JsonResponse(school_layer_json(layer), content_type="application/geo+json")
    add_never_cache_headers(response)
    return response
