"""What the tablet app is sent: the sync cursor, the case querysets behind it,
and a volunteer's zone.

A cursor is the server time of a sync, less a margin: ``Case.updated_at`` is set
from the application's clock before the transaction that writes it commits, so a
visit saved while a sync runs may carry a time earlier than that sync's, yet be
invisible to it. Going back ``CURSOR_OVERLAP`` sends such a case again next time
rather than never; the tablet replaces a case it already has, so a repeat costs
a few bytes and loses nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib.gis.db.models import Collect, GeometryField
from django.contrib.gis.geos import GEOSGeometry, Point
from django.core.exceptions import PermissionDenied
from django.db.models import Func, Prefetch, QuerySet, prefetch_related_objects
from django.utils import timezone

from field.models import AuditAction, AuditObject, Case, Household, Role, School, Visit, Volunteer
from field.selectors import MAP_DIGITS, User, get_team_case, team_cases, user_area
from field.services.audit import audit_record, case_tambon
from geo.models import Village

_VISITS = Prefetch("visits", queryset=Visit.objects.select_related("by").order_by("at", "pk"))
_UNUSED_GEOMETRIES = (
    "child__household__subdistrict__geom",
    "child__household__village__area",
    "child__household__village__point",
    "child__household__given_point",
    "whereabouts__subdistrict__geom",
    "whereabouts__given_point",
)
# About 11 m: invisible at the zoom an area is drawn at, and it cuts a real
# tambon's boundary from thousands of vertices to hundreds.
AREA_SIMPLIFY_DEGREES = 0.0001
# A zone is drawn around its households with this margin, so that a house on the
# edge shows inside it, with the lane in front of it.
ZONE_MARGIN_M = 150
# Far longer than any visit upload's transaction takes.
CURSOR_OVERLAP = dt.timedelta(minutes=1)


def cursor_make(now: dt.datetime | None = None) -> str:
    return ((now or timezone.now()) - CURSOR_OVERLAP).astimezone(dt.UTC).isoformat()


def cursor_read(cursor: str | None) -> dt.datetime | None:
    """The time a cursor stands for; None (a full sync) for none, a garbled one, or
    one from the future, which only a server clock set back could have made."""
    if not cursor:
        return None
    try:
        since = dt.datetime.fromisoformat(cursor)
    except ValueError:
        return None
    if timezone.is_naive(since) or since > timezone.now():
        return None
    return since


def _with_payload(cases: QuerySet[Case]) -> QuerySet[Case]:
    """``cases`` with all the serializer reads: a fixed number of queries for any
    number of cases."""
    return (
        cases.select_related(
            "child__household__village",
            "child__household__subdistrict",
            "whereabouts__subdistrict",
        )
        # A tambon's boundary runs to thousands of vertices: read per case, it would
        # outweigh everything else the sync sends.
        .defer(*_UNUSED_GEOMETRIES)
        .prefetch_related(_VISITS)
    )


def member_cases(user: User, *, since: dt.datetime | None = None) -> QuerySet[Case]:
    """The member's open cases, with what the payload needs; only those changed
    after ``since`` when given."""
    cases = team_cases(user, open_only=True)
    if since is not None:
        cases = cases.filter(updated_at__gt=since)
    return _with_payload(cases).order_by("pk")


def member_case_ids(user: User) -> list[int]:
    return list(team_cases(user, open_only=True).order_by("pk").values_list("pk", flat=True))


def member_case(user: User, pk: int) -> Case:
    """One case of the member's areas (Http404 for any other), with its visits.
    Recorded in the audit log as a view of the case."""
    case = get_team_case(user, pk)
    prefetch_related_objects([case], _VISITS)
    audit_record(
        user=user,
        action=AuditAction.VIEW,
        obj_kind=AuditObject.CASE,
        obj_id=case.pk,
        tambon=case_tambon(case),
    )
    return case


# --- a volunteer's zone -----------------------------------------------------------------


class _ZoneShape(Func):
    """The convex hull of the zone's household points, widened by ``ZONE_MARGIN_M``
    on the sphere (degrees would widen it less in latitude than in longitude), then
    simplified. NULL for a zone with no placed household."""

    template = (
        "ST_SimplifyPreserveTopology(ST_Buffer(ST_ConvexHull(%(expressions)s)::geography, "
        f"{ZONE_MARGIN_M})::geometry, {AREA_SIMPLIFY_DEGREES})"
    )
    output_field = GeometryField(srid=4326)


@dataclass(frozen=True)
class Zone:
    volunteer: Volunteer
    shape: GEOSGeometry | None
    households: list[dict[str, Any]]
    """id, house_no, moo, village_name, lon, lat: the zone's placed households."""
    villages: QuerySet[Village]
    """The villages of the tambons the zone's households are registered in."""
    schools: QuerySet[School]
    """The schools of the volunteer's district, and of the districts of their zone."""


def member_zone(user: User) -> Zone | None:
    """The volunteer's own zone as it is now; None for a team member. The
    households are read through the scope, so nothing outside the zone is sent."""
    scope = user_area(user)
    if not scope.in_field:
        raise PermissionDenied
    if scope.role != Role.VOLUNTEER or scope.volunteer is None:
        return None
    volunteer = Volunteer.objects.select_related("village__subdistrict").get(pk=scope.volunteer)
    households = Household.objects.filter(scope.households())
    shape = households.filter(point__isnull=False).aggregate(shape=_ZoneShape(Collect("point")))
    rows = list(
        households.order_by("village_id", "moo", "house_no", "pk").values(
            "pk", "house_no", "moo", "village__name", "subdistrict_id", "point"
        )
    )
    tambons = {row["subdistrict_id"] for row in rows if row["subdistrict_id"]}
    districts = {code[:4] for code in tambons}
    if volunteer.village is not None:
        districts.add(volunteer.village.subdistrict.district_id)
    return Zone(
        volunteer=volunteer,
        shape=shape["shape"],
        households=[
            {
                "id": row["pk"],
                "house_no": row["house_no"],
                "moo": row["moo"],
                "village_name": row["village__name"],
                "lon": _rounded(row["point"], 0),
                "lat": _rounded(row["point"], 1),
            }
            for row in rows
        ],
        villages=Village.objects.filter(subdistrict_id__in=tambons).defer("area").order_by("code"),
        schools=School.objects.filter(subdistrict__district_id__in=districts).order_by(
            "name", "code"
        ),
    )


def _rounded(point: Point | None, axis: int) -> float | None:
    return None if point is None else round(point.coords[axis], MAP_DIGITS)
