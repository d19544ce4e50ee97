"""A member's "Today": their route of the day's plan, as the tablet draws it.

Every read is scoped: the plan must be one of the member's teams' (a volunteer's
own), only the stops of their own route are read, and of those only the ones
whose case lies in their area now (``AreaScope.cases``): a case reassigned to
another team since the plan was made leaves the route without a trace.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Any

from django.contrib.gis.geos import Point
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from field.models import (
    AuditObject,
    Case,
    Role,
    RoutePlan,
    RouteStatus,
    RouteStop,
    StopState,
)
from field.selectors import User, team_cases, user_area
from field.services.audit import audit_seen
from geo.algorithms import routing

# Coordinates sent to the tablet: about a metre, plenty for a house on a map.
LONLAT_DIGITS = 5
LAST_SECOND = 24 * 3600 - 1


def today(now: dt.datetime | None = None) -> dt.date:
    """The field's date: Asia/Bangkok's, whatever the server's clock zone."""
    return timezone.localdate(now)


def seconds_of(value: dt.time) -> int:
    return value.hour * 3600 + value.minute * 60 + value.second


def time_of(seconds: int) -> dt.time:
    # A route that runs past midnight is clamped: a TimeField cannot say "tomorrow",
    # and such a stop is already marked as beyond the working day by its time.
    seconds = max(0, min(int(seconds), LAST_SECOND))
    return dt.time(seconds // 3600, seconds % 3600 // 60, seconds % 60)


def clock(value: dt.time | int) -> str:
    seconds = value if isinstance(value, int) else seconds_of(value)
    seconds = max(0, min(seconds, LAST_SECOND))
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def member_plan(user: User, day: dt.date) -> RoutePlan | None:
    """The PLANNED plan of ``day`` the member works in: their team's (the one with a
    route for them first, for a member of several teams) or the volunteer's own."""
    scope = user_area(user)
    if not scope.in_field:
        raise PermissionDenied
    if scope.role == Role.VOLUNTEER:
        if scope.volunteer is None:
            return None
        whose = Q(volunteer_id=scope.volunteer)
    else:
        whose = Q(team_id__in=scope.teams)
    mine = RouteStop.objects.filter(plan=OuterRef("pk"), member_id=user.pk)
    return (
        RoutePlan.objects.filter(whose, day=day, status=RouteStatus.PLANNED)
        .select_related("team__base_school", "volunteer")
        .annotate(mine=Exists(mine))
        .order_by("-mine", "pk")
        .first()
    )


def plan_stops(user: User, plan: RoutePlan, *, windows: bool = False) -> list[RouteStop]:
    """The member's own stops of ``plan`` whose case lies in their area now, in
    order; ``windows``: with their households' visiting hours, for the solver."""
    scope = user_area(user)
    stops = (
        RouteStop.objects.filter(plan=plan, member_id=user.pk)
        .filter(scope.cases("case__"))
        .select_related("household__village")
        .defer("household__village__area", "household__given_point")
        .order_by("sequence", "pk")
    )
    if windows:
        stops = stops.prefetch_related("household__windows")
    return list(stops)


def member_stop(user: User, plan: RoutePlan, *, pk: int | None, case: int | None) -> RouteStop:
    """One of the member's stops of ``plan``, by its id or its case; DoesNotExist
    for any other, whether it exists or not."""
    lookup = Q(pk=pk) if pk is not None else Q(case_id=case)
    return (
        RouteStop.objects.filter(plan=plan, member_id=user.pk)
        .filter(lookup)
        .filter(user_area(user).cases("case__"))
        .get()
    )


def case_to_add(user: User, pk: int) -> Case | None:
    """An open case of the member's area, with where the child lives now; None for
    any other."""
    return (
        team_cases(user, open_only=True)
        .select_related("child__household", "whereabouts")
        .defer("child__household__given_point", "whereabouts__given_point")
        .filter(pk=pk)
        .first()
    )


def plan_origin(plan: RoutePlan) -> Point | None:
    """Where the plan's routes start and end: the team's base (its school when no
    point was set) or the volunteer's home."""
    if plan.volunteer is not None:
        return plan.volunteer.home
    team = plan.team
    if team is None:
        return None
    if team.base_point is not None:
        return team.base_point
    return team.base_school.point if team.base_school is not None else None


def lonlat(point: Point | None) -> list[float] | None:
    if point is None:
        return None
    return [round(point.x, LONLAT_DIGITS), round(point.y, LONLAT_DIGITS)]


def road_metres(plan: RoutePlan, a: Point | None, b: Point | None) -> int:
    """The solver's distance between two points (great circle times circuity)."""
    if a is None or b is None:
        return 0
    costs = routing.CostModel(circuity=plan.circuity)
    metres = costs.distances([routing.Point(a.x, a.y), routing.Point(b.x, b.y)])
    return int(metres[0, 1])


def travel_seconds(plan: RoutePlan, metres: int) -> int:
    speed = routing.CostModel(circuity=plan.circuity).speed_kmh(routing.TravelMode(plan.mode))
    return math.ceil(metres / (speed / 3.6))


def totals(plan: RoutePlan, stops: Sequence[RouteStop], end: Point | None) -> dict[str, Any]:
    """The day's distance, time on the road and visits, skipped stops left out; the
    tablet's route.js counts them the same way offline."""
    kept = [s for s in stops if s.state != StopState.SKIPPED]
    if not kept:
        return {
            "distance_m": 0,
            "duration_s": 0,
            "visits": 0,
            "done": 0,
            "skipped": len(stops),
            "remaining": 0,
            "departs": None,
            "back": None,
        }
    back_m = road_metres(plan, kept[-1].household.point, end)
    departs = seconds_of(kept[0].arrives) - travel_seconds(plan, kept[0].distance_m)
    back = seconds_of(kept[-1].leaves) + travel_seconds(plan, back_m)
    return {
        "distance_m": sum(s.distance_m for s in kept) + back_m,
        "duration_s": max(0, back - departs),
        "visits": len(kept),
        "done": sum(s.state == StopState.DONE for s in stops),
        "skipped": len(stops) - len(kept),
        "remaining": sum(s.state == StopState.PLANNED for s in stops),
        "departs": clock(max(0, departs)),
        "back": clock(back),
    }


def _address(stop: RouteStop) -> str:
    house = stop.household
    village = house.village.name if house.village is not None else ""
    parts = [house.address or house.house_no, village]
    return " ".join(part for part in parts if part)


def stop_payload(stop: RouteStop) -> dict[str, Any]:
    point = stop.household.point
    return {
        "id": stop.pk,
        "sequence": stop.sequence,
        "case": stop.case_id,
        "household": stop.household_id,
        "address": _address(stop),
        "lon": round(point.x, LONLAT_DIGITS) if point is not None else None,
        "lat": round(point.y, LONLAT_DIGITS) if point is not None else None,
        "arrives": clock(stop.arrives),
        "leaves": clock(stop.leaves),
        "distance_m": stop.distance_m,
        "state": stop.state,
        "state_at": stop.state_at.isoformat() if stop.state_at is not None else None,
        "added_in_field": stop.added_in_field,
        # The tablet's offline re-plan keeps visits inside these, as the server's does.
        "windows": [
            {"opens": clock(w.opens), "closes": clock(w.closes)}
            for w in stop.household.windows.all()
        ],
    }


def today_payload(user: User, plan: RoutePlan | None) -> dict[str, Any]:
    """``{"plan": ...}`` as ``GET /api/v1/today/`` sends it; ``{"plan": None}`` for none.
    The households it shows (their addresses) are recorded in the audit log, one
    event per tambon."""
    if plan is None:
        return {"plan": None}
    stops = plan_stops(user, plan, windows=True)
    audit_seen(
        user=user,
        obj_kind=AuditObject.HOUSEHOLD,
        tambons=[stop.household.subdistrict_id for stop in stops],
        what=f"today plan={plan.pk}",
    )
    origin = plan_origin(plan)
    if origin is None and stops:
        origin = stops[0].household.point
    costs = routing.CostModel(circuity=plan.circuity)
    return {
        "plan": {
            "id": plan.pk,
            "day": plan.day.isoformat(),
            "mode": plan.mode,
            "speed_kmh": costs.speed_kmh(routing.TravelMode(plan.mode)),
            "circuity": plan.circuity,
            "service_minutes": plan.service_minutes,
            "starts": clock(plan.starts),
            "ends": clock(plan.ends),
            "start": lonlat(origin),
            "end": lonlat(origin),
            "stops": [stop_payload(stop) for stop in stops],
            "totals": totals(plan, stops, origin),
        }
    }
