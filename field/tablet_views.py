"""The field's tablet app: a search team member's "My area", a volunteer's "My
zone" (the same app, scoped to their zone). Its page, service worker and web app
manifest.

The page is an app shell: it carries no personal data, only the code and the
translated strings, so that the copy the service worker keeps serves every
later visit, offline too. Cases come from the JSON API (/api/v1/) and live in
the tablet's IndexedDB between connections.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_safe

from field.models import CaseKind, CaseProgress, Precision, Role, StopState
from field.selectors import user_area

# What the shell needs to start with no connection: served cache-first by the
# service worker, so a change here must come with a change of the worker (its
# version is a digest of these files).
SHELL_STATIC = (
    "leaflet/leaflet.css",
    "leaflet/leaflet.js",
    "leaflet/images/marker-icon.png",
    "leaflet/images/layers.png",
    "markercluster/MarkerCluster.css",
    "markercluster/MarkerCluster.Default.css",
    "markercluster/leaflet.markercluster.js",
    "field/tablet/tablet.css",
    "field/tablet/db.js",
    "field/tablet/device.js",
    "field/tablet/rule.js",
    "field/tablet/route.js",
    "field/tablet/sync.js",
    "field/tablet/text.js",
    "field/tablet/app.js",
    "field/icons/icon-192.png",
    "field/icons/icon-512.png",
)
# Map tiles kept for offline use, oldest dropped first beyond this many
# (about 60 MB of 20 kB tiles: a few tambons at every street-level zoom).
TILE_CACHE_LIMIT = 3000


def _strings() -> dict[str, Any]:
    """The app's visible strings, translated here so that the script has no
    catalogue of its own."""
    return {
        "online": _("Online"),
        "offline": _("Offline"),
        "queue": _("Waiting to sync: %(n)s"),
        "lastSync": _("Last sync: %(time)s"),
        "neverSynced": _("Not synced yet"),
        "syncing": _("Syncing…"),
        "syncFailed": _("Sync failed: %(reason)s"),
        "signedOut": _("Your session has ended: log in again to sync."),
        "revoked": _(
            "This device was revoked by a coordinator: its data has been removed. "
            "Ask your coordinator before using it again."
        ),
        "refused": _("A visit was refused by the server: %(reason)s"),
        "noCases": _("No cases to show."),
        "cases": _("%(n)s cases"),
        "km": _("%(d)s km"),
        "m": _("%(d)s m"),
        "age": _("%(n)s years"),
        "waiting": _("waiting to sync"),
        "noVisits": _("No visits yet."),
        "saved": _("Visit saved on this tablet."),
        "needFix": _("No GPS position yet."),
        "fix": _("GPS ±%(m)s m"),
        "noFix": _("No GPS position"),
        "newHomeSet": _("New home set from GPS ±%(m)s m"),
        "newHomeNone": _("No new home set: the visit is saved without one."),
        "choose": _("Choose…"),
        "none": _("—"),
        "zone": _("Zone of %(name)s: %(n)s households"),
        "household": _("House %(house_no)s"),
        "home": _("Home"),
        "noRoute": _("No route planned for you today."),
        "routeTotals": _("%(n)s visits · %(distance)s · %(duration)s, back by %(back)s"),
        "routeCounts": _("Done: %(done)s · Skipped: %(skipped)s · To visit: %(remaining)s"),
        "arrives": _("Arrive %(time)s"),
        "hoursMinutes": _("%(h)s h %(m)s min"),
        "minutes": _("%(m)s min"),
        "stopDone": _("Done"),
        "stopSkip": _("Skip"),
        "stopUndo": _("Undo"),
        "stopStates": dict(StopState.choices),
        "addedInField": _("added in the field"),
        "stopWindows": _("home %(times)s"),
        "visitAt": _("visit %(time)s"),
        "stopLate": _("cannot be reached while someone is home"),
        "addedToday": _("Added to today's route."),
        "routeBase": _("Start and end of the route"),
        "routeRefused": _("A route change was refused by the server: %(reason)s"),
        "labels": {
            "progress": _("Progress"),
            "kind": _("Kind"),
            "age": _("Age"),
            "birthDate": _("Birth date"),
            "nationalId": _("National ID"),
            "gCode": _("G code"),
            "address": _("Address"),
            "precision": _("Location"),
            "note": _("Note"),
            "livesNow": _("Lives now"),
        },
        "progress": dict(CaseProgress.choices),
        "kinds": dict(CaseKind.choices),
        "precisions": dict(Precision.choices),
    }


@login_required
@require_safe
@ensure_csrf_cookie
def my_area(request: HttpRequest) -> HttpResponse:
    scope = user_area(request.user)
    if not scope.in_field:
        raise PermissionDenied
    response = render(
        request,
        "field/my_area.html",
        {
            "zone": scope.role == Role.VOLUNTEER,
            "strings": _strings(),
            "tile_url": settings.TILE_URL,
            "tile_attribution": settings.TILE_ATTRIBUTION,
            "sw_url": reverse("field-sw"),
        },
    )
    # The worker fetches the page first and falls back on its own copy; a copy
    # in the HTTP cache would only hide a new version from it.
    patch_cache_control(response, private=True, no_cache=True)
    return response


def _version(urls: list[str]) -> str:
    """A digest of the shell's files: a new one changes sw.js, which is what makes
    browsers install the new worker and refresh the precache."""
    digest = hashlib.sha256()
    for name in SHELL_STATIC:
        digest.update(name.encode())
        found = finders.find(name)
        if isinstance(found, str):
            with open(found, "rb") as file:
                digest.update(file.read())
    digest.update(json.dumps(urls).encode())
    return digest.hexdigest()[:16]


def _script_json(value: Any) -> str:
    """``value`` as a JavaScript literal that no string in it can end early."""
    return json.dumps(value).replace("<", "\\u003c")


@require_safe
def service_worker(request: HttpRequest) -> HttpResponse:
    precache = [static(name) for name in SHELL_STATIC]
    config = {
        "version": _version(precache),
        "precache": precache,
        "shell": reverse("field-my-area"),
        "staticPrefix": settings.STATIC_URL,
        "tilePrefix": settings.TILE_URL.split("{", 1)[0],
        "tileLimit": TILE_CACHE_LIMIT,
    }
    body = render_to_string(
        "field/sw.js",
        {"config": _script_json(config)},
        request=request,
    )
    response = HttpResponse(body, content_type="application/javascript; charset=utf-8")
    # Served from the root for its scope to cover /my-area/ and the API.
    response["Service-Worker-Allowed"] = "/"
    # Checked on every visit, so a new version reaches tablets at their next connection.
    patch_cache_control(response, no_cache=True, max_age=0)
    return response


@require_safe
def manifest(request: HttpRequest) -> HttpResponse:
    icons = [
        {"src": static(f"field/icons/icon-{n}.png"), "sizes": f"{n}x{n}", "type": "image/png"}
        for n in (192, 512)
    ]
    data = {
        "name": "ตาข่าย",
        "short_name": "ตาข่าย",
        "lang": "th",
        "start_url": reverse("field-my-area"),
        "scope": "/",
        "display": "standalone",
        "orientation": "landscape",
        "background_color": "#ffffff",
        "theme_color": "#0b3d91",
        "icons": icons,
    }
    return JsonResponse(
        data, content_type="application/manifest+json", json_dumps_params={"ensure_ascii": False}
    )
