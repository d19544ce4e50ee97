"""Who may open each route, and what personal data it can answer with.

One row per URL name of ``project/urls.py`` (the admin site by its namespace).
``tests/test_scope_walk.py`` walks every route as every persona and holds each to
its row: a role not listed is refused (a redirect to log in, 403 or 404), an id
or area outside the user's scope is refused (403 or 404, never 200), and no
answer carries personal data the ``data`` column does not allow. A route with no
row fails that test, and so does a row with no route: declare a new route here
when you add it.

The scope itself is decided in one place, ``field.selectors.user_area``; this
table only says which of its answers a route may give.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum

from django.urls import URLPattern, URLResolver, get_resolver

from field.models import Role

ANONYMOUS = "anonymous"
"""Not logged in: the pseudo-role of a request with no session."""


class Data(StrEnum):
    """What a route may return about people."""

    NONE = "none"
    """No personal data: code, boundaries, forms, redirects."""
    AGGREGATES = "aggregates"
    """Counts per area or grid cell, small ones withheld; never a name, an ID or a point."""
    AREA = "area"
    """Names, IDs, addresses and points of the user's area (``AreaScope.households``)."""
    OWN_TEAM = "own team"
    """A search team member's cases: their teams' current areas."""
    OWN_ZONE = "own zone"
    """A volunteer's cases: their own zone."""
    OWN_FILES = "own files"
    """Import runs the user uploaded (or an operator ran), with their reports."""
    EVERYTHING = "everything"
    """Every record: the administrators' admin site."""


ADMINISTRATOR = Role.ADMINISTRATOR.value
COORDINATOR = Role.COORDINATOR.value
TEAM_MEMBER = Role.TEAM_MEMBER.value
VOLUNTEER = Role.VOLUNTEER.value
OFFICIAL = Role.OFFICIAL.value

ROLES = (ADMINISTRATOR, COORDINATOR, TEAM_MEMBER, VOLUNTEER, OFFICIAL, ANONYMOUS)
EVERYONE = frozenset(ROLES)
LOGGED_IN = EVERYONE - {ANONYMOUS}
MANAGERS = frozenset({ADMINISTRATOR, COORDINATOR})
OVERSEERS = MANAGERS | {OFFICIAL}
IN_FIELD = frozenset({TEAM_MEMBER, VOLUNTEER})

GET = frozenset({"GET"})
POST = frozenset({"POST"})
GET_POST = GET | POST


@dataclass(frozen=True)
class RouteScope:
    roles: frozenset[str]
    """Who may open the route (``ROLES``); everyone else is refused."""
    data: frozenset[Data]
    """The personal data it may return, at most."""
    methods: frozenset[str] = GET
    """The methods it answers; a route without GET is write-only."""


def _scope(roles: frozenset[str], *data: Data, methods: frozenset[str] = GET) -> RouteScope:
    return RouteScope(roles=roles, data=frozenset(data), methods=methods)


FIELD_CASES = (Data.OWN_TEAM, Data.OWN_ZONE)

ROUTE_SCOPES: dict[str, RouteScope] = {
    # project/urls.py
    # A GET only redirects back, setting nothing.
    "set_language": _scope(EVERYONE, Data.NONE, methods=GET_POST),
    "login": _scope(EVERYONE, Data.NONE, methods=GET_POST),
    "logout": _scope(EVERYONE, Data.NONE, methods=POST),
    "healthz": _scope(EVERYONE, Data.NONE),
    # accounts/urls.py: the devices of the members and volunteers of the area
    "accounts-devices": _scope(MANAGERS, Data.AREA),
    "accounts-device-revoke": _scope(MANAGERS, Data.AREA, methods=POST),
    # The admin site's own login and logout forms (the rest: NAMESPACE_SCOPES).
    "admin:login": _scope(EVERYONE, Data.NONE, methods=GET_POST),
    "admin:logout": _scope(EVERYONE, Data.NONE, methods=GET_POST),
    # field/api/urls.py: the tablet's API
    "api-area": _scope(IN_FIELD, *FIELD_CASES),
    "api-sync": _scope(IN_FIELD, *FIELD_CASES),
    "api-sync-visits": _scope(IN_FIELD, *FIELD_CASES, methods=POST),
    "api-today": _scope(IN_FIELD, *FIELD_CASES),
    "api-today-stops": _scope(IN_FIELD, *FIELD_CASES, methods=POST),
    "api-cases": _scope(IN_FIELD, *FIELD_CASES),
    "api-case": _scope(IN_FIELD, *FIELD_CASES),
    "api-schema": _scope(EVERYONE, Data.NONE),
    # geo/urls.py: public boundaries
    "home": _scope(EVERYONE, Data.NONE),
    "geo-boundaries": _scope(EVERYONE, Data.NONE),
    # field/urls.py
    "field-start": _scope(LOGGED_IN, Data.NONE),
    "field-imports": _scope(MANAGERS, Data.OWN_FILES, methods=GET_POST),
    "field-import-run": _scope(MANAGERS, Data.OWN_FILES),
    "field-import-progress": _scope(MANAGERS, Data.OWN_FILES),
    "field-import-problems": _scope(MANAGERS, Data.OWN_FILES),
    "field-funnel": _scope(OVERSEERS, Data.AGGREGATES),
    # Coordinators get household points, officials grid cells of counts.
    "field-funnel-households": _scope(OVERSEERS, Data.AREA, Data.AGGREGATES),
    "field-funnel-reconcile": _scope(MANAGERS, Data.NONE, methods=POST),
    "field-gaps": _scope(OVERSEERS, Data.AGGREGATES),
    "field-gap-layer": _scope(OVERSEERS, Data.AGGREGATES),
    "field-gap-schools": _scope(OVERSEERS, Data.AGGREGATES),
    "field-reviews": _scope(MANAGERS, Data.AREA),
    "field-review-decide": _scope(MANAGERS, Data.AREA, methods=POST),
    "field-teams": _scope(MANAGERS, Data.AREA),
    "field-team": _scope(MANAGERS, Data.AREA, methods=GET_POST),
    "field-case-link": _scope(MANAGERS, Data.AREA, methods=POST),
    "field-team-propose": _scope(MANAGERS, Data.AREA, methods=GET_POST),
    "field-clusters": _scope(MANAGERS, Data.AREA, methods=GET_POST),
    "field-zone-index": _scope(MANAGERS, Data.AREA),
    "field-zones": _scope(MANAGERS, Data.AREA, methods=GET_POST),
    "field-volunteer-new": _scope(MANAGERS, Data.AREA, methods=GET_POST),
    "field-volunteer-edit": _scope(MANAGERS, Data.AREA, methods=GET_POST),
    "field-routes": _scope(MANAGERS, Data.AREA, methods=GET_POST),
    "field-route": _scope(MANAGERS, Data.AREA),
    "field-route-print": _scope(MANAGERS, Data.AREA),
    "field-route-gpx": _scope(MANAGERS, Data.AREA),
    # The tablet's shell carries no personal data; cases come from the API.
    "field-my-area": _scope(IN_FIELD, Data.NONE),
    "field-sw": _scope(EVERYONE, Data.NONE),
    "field-manifest": _scope(EVERYONE, Data.NONE),
    # Who did what to which record: their area's events for coordinators.
    "field-audit": _scope(MANAGERS, Data.AREA),
    "field-campaigns": _scope(MANAGERS, Data.AREA, methods=GET_POST),
    "field-campaign": _scope(MANAGERS, Data.AREA),
    "field-campaign-visit-done": _scope(MANAGERS, Data.AREA, methods=POST),
    # field/dashboard_urls.py, field/tile_urls.py, field/export_urls.py
    "field-dashboard": _scope(OVERSEERS, Data.AGGREGATES),
    "field-gap-tile": _scope(OVERSEERS, Data.AGGREGATES),
    "field-gap-export": _scope(OVERSEERS, Data.AGGREGATES),
    "field-dashboard-export": _scope(OVERSEERS, Data.AGGREGATES),
}

# Every route of a namespace at once. Django's admin site lets in staff users
# only (``is_staff``), whom only administrators are made.
NAMESPACE_SCOPES: dict[str, RouteScope] = {
    "admin": _scope(frozenset({ADMINISTRATOR}), Data.EVERYTHING, methods=GET_POST),
}


@dataclass(frozen=True)
class Route:
    name: str
    """The URL name with its namespaces (``admin:index``); "" for an unnamed route."""
    namespace: str
    pattern: str
    """The full pattern, for messages."""
    entry: URLPattern


def routes(
    patterns: Sequence[URLPattern | URLResolver] | None = None,
    namespaces: tuple[str, ...] = (),
    prefix: str = "",
) -> Iterator[Route]:
    """Every route of the URLconf, through every ``include``."""
    if patterns is None:
        patterns = get_resolver().url_patterns
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = namespaces + ((entry.namespace,) if entry.namespace else ())
            yield from routes(entry.url_patterns, inner, prefix + str(entry.pattern))
        else:
            name = ":".join((*namespaces, entry.name)) if entry.name else ""
            yield Route(
                name=name,
                namespace=namespaces[0] if namespaces else "",
                pattern=prefix + str(entry.pattern),
                entry=entry,
            )


def scope_of(route: Route) -> RouteScope | None:
    """The declaration that covers ``route``: its name's, else its namespace's."""
    if route.name in ROUTE_SCOPES:
        return ROUTE_SCOPES[route.name]
    return NAMESPACE_SCOPES.get(route.namespace)


def undeclared() -> list[str]:
    """The routes no declaration covers (an unnamed one by its pattern)."""
    return sorted(r.name or f"<unnamed {r.pattern}>" for r in routes() if scope_of(r) is None)


def unused() -> list[str]:
    """The declarations that cover no route."""
    found = list(routes())
    names = {r.name for r in found}
    spaces = {r.namespace for r in found}
    return sorted(
        [name for name in ROUTE_SCOPES if name not in names]
        + [f"{space}:*" for space in NAMESPACE_SCOPES if space not in spaces]
    )
