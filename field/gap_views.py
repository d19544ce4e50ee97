"""The officials' gap map: ``/gaps/`` and the layer it draws, ``/gaps/layer.json``.

Officials, coordinators and administrators; search team members and volunteers
get 403, as on the funnel. Reads go through ``field.gap_selectors``, which scopes
them with ``user_area`` and ``resolve_area``.
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
