"""The gap map's vector tiles: ``/gaps/tiles/<z>/<x>/<y>.mvt``.

The same roles as ``/gaps/``. Tiles are cached by the browser for a few minutes
and revalidated by an ETag that changes with the counts' refresh, so panning back
over the map costs a 304 and one small query, never the tile again.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseNotFound
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.views.decorators.http import condition, require_safe

from field.gap_views import GapQuery
from field.tile_selectors import gap_tile as select_gap_tile
from field.tile_selectors import tile_etag, tile_valid

CONTENT_TYPE = "application/vnd.mapbox-vector-tile"
# Counts change when refresh_stats runs (cron, or after a day's syncs): five
# minutes of staleness is nothing next to that, and saves the revalidations.
MAX_AGE = 300


def _etag(request: HttpRequest, z: int, x: int, y: int) -> str | None:
    query = GapQuery(request.GET)
    if not query.is_valid():
        return None
    return tile_etag(
        user=request.user,
        year=query.cleaned_data["year"],
        indicator=query.cleaned_data["indicator"] or "unreached",
        method=query.cleaned_data["method"] or "natural",
    )


def _private_cache(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Caching headers on every answer, 304 included. Private: a tile holds what
    one user's scope allows."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        patch_cache_control(response, private=True, max_age=MAX_AGE)
        patch_vary_headers(response, ("Cookie",))
        return response

    return wrapped


# Logged in before the ETag, which needs the user's scope: an anonymous request
# goes to the login page, a team member gets 403 even with a stale ETag.
@login_required
@require_safe
@_private_cache
@condition(etag_func=_etag)
def gap_tile(request: HttpRequest, z: int, x: int, y: int) -> HttpResponse:
    if not tile_valid(z, x, y):
        return HttpResponseNotFound()
    query = GapQuery(request.GET)
    if not query.is_valid():
        return HttpResponseBadRequest(query.errors.as_text())
    body = select_gap_tile(
        user=request.user,
        z=z,
        x=x,
        y=y,
        year=query.cleaned_data["year"],
        indicator=query.cleaned_data["indicator"] or "unreached",
        method=query.cleaned_data["method"] or "natural",
    )
    # 204 outside the user's areas: nothing to draw, and nothing to decode.
    return HttpResponse(body, status=200 if body else 204, content_type=CONTENT_TYPE)
