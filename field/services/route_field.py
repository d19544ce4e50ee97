"""What a member changes on their route during the day, often offline: a stop
done, skipped, back to visit, a case added; then the rest of the route re-planned.

The tablet queues each change with an id of its own and uploads the queue as many
times as it takes. A change is a state at a time, applied only when newer than what
the stop holds, so a retry, or an old change arriving after a newer one, never
undoes anything: last change made wins, not last change uploaded.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from django.contrib.auth.models import User
from django.contrib.gis.geos import Point
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from field.models import Case, RoutePlan, RouteStatus, RouteStop, StopState
from field.services.routes import travel_matrix
from field.today_selectors import (
    case_to_add,
    member_plan,
    member_stop,
    plan_origin,
    plan_stops,
    road_metres,
    seconds_of,
    time_of,
    today,
    travel_seconds,
)
from geo.algorithms import routing

# A tablet's clock may run fast; a change dated further ahead is kept at this much
# ahead, or it would outrank every real change after it.
CLOCK_SKEW = dt.timedelta(minutes=10)
# Above any sequence a day's route reaches: new sequences are written in two steps
# through this range, since the unique constraint is checked row by row.
_SEQUENCE_SHIFT = 10_000


class ChangeStatus(StrEnum):
    SAVED = "saved"
    DUPLICATE = "duplicate"
    SUPERSEDED = "superseded"
    REFUSED = "refused"


@dataclass(frozen=True)
class StopChange:
    """One change queued on a tablet: a stop's new state (the stop by id, or by its
    case for a stop the tablet added offline and knows no id of), or a case added."""

    client_id: uuid.UUID
    at: dt.datetime
    stop: int | None = None
    case: int | None = None
    state: str = ""
    add_case: int | None = None


@dataclass(frozen=True)
class ChangeResult:
    client_id: str
    status: ChangeStatus
    stop: int | None = None
    reason: str = ""


def _when(at: dt.datetime) -> dt.datetime:
    return min(at, timezone.now() + CLOCK_SKEW)


def route_stop_mark(*, stop: RouteStop, state: str, at: dt.datetime, by: User) -> ChangeStatus:
    """Set ``stop`` to ``state`` as of ``at``, unless the stop holds a newer change."""
    if stop.member_id != by.pk:
        raise PermissionDenied
    if state not in StopState.values:
        raise ValueError(state)
    at = _when(at)
    if stop.state_at is not None and at <= stop.state_at:
        return ChangeStatus.DUPLICATE if stop.state == state else ChangeStatus.SUPERSEDED
    if stop.state == state:
        return ChangeStatus.DUPLICATE
    stop.state = state
    stop.state_at = at
    stop.save(update_fields=["state", "state_at"])
    return ChangeStatus.SAVED


def route_stop_add(
    *, plan: RoutePlan, case: Case, at: dt.datetime, by: User
) -> tuple[RouteStop | None, ChangeStatus, str]:
    """Add ``case`` to the end of ``by``'s route (the re-plan then places it); the
    stop already there when it was added before, or skipped and now wanted again."""
    existing = RouteStop.objects.filter(plan=plan, case=case).first()
    if existing is not None:
        if existing.member_id != by.pk:
            return None, ChangeStatus.REFUSED, "The case is on another member's route."
        status = route_stop_mark(stop=existing, state=StopState.PLANNED, at=at, by=by)
        return existing, status, ""
    household = case.whereabouts or case.child.household
    last = RouteStop.objects.filter(plan=plan, member=by).aggregate(
        sequence=Max("sequence"), leaves=Max("leaves")
    )
    leaves = last["leaves"] or plan.starts
    stop = RouteStop.objects.create(
        plan=plan,
        member=by,
        case=case,
        household=household,
        sequence=(last["sequence"] or 0) + 1,
        # Placeholders until the re-plan that follows every upload times it.
        arrives=leaves,
        leaves=leaves,
        distance_m=0,
        state=StopState.PLANNED,
        state_at=_when(at),
        added_in_field=True,
    )
    return stop, ChangeStatus.SAVED, ""


def _day_seconds(plan: RoutePlan, now: dt.datetime) -> int:
    """``now`` as seconds into the plan's day: its start before the day, past
    midnight after it."""
    local = timezone.localtime(now)
    if local.date() < plan.day:
        return seconds_of(plan.starts)
    if local.date() > plan.day:
        return 24 * 3600
    return max(seconds_of(plan.starts), seconds_of(local.time()))


def _lonlat(point: Point) -> routing.Point:
    return routing.Point(float(point.x), float(point.y))


def _leg(
    plan: RoutePlan, matrix: routing.TravelMatrix | None, a: Point | None, b: Point | None
) -> tuple[int, int]:
    """Metres and seconds from ``a`` to ``b``: the road matrix's when the re-plan has
    one, so the stops the solver could not fit are timed on the same roads."""
    if matrix is None or a is None or b is None:
        metres = road_metres(plan, a, b)
        return metres, travel_seconds(plan, metres)
    metres_ab, seconds_ab = matrix.between([_lonlat(a), _lonlat(b)])
    return int(metres_ab[0, 1]), int(seconds_ab[0, 1])


def _solver_stop(plan: RoutePlan, stop: RouteStop, point: Point) -> routing.Stop:
    windows = tuple(
        routing.TimeWindow(seconds_of(w.opens), seconds_of(w.closes))
        for w in stop.household.windows.all()
    )
    return routing.Stop(
        id=stop.pk,
        point=_lonlat(point),
        service=plan.service_minutes * 60,
        windows=windows,
    )


def route_replan(
    *, plan: RoutePlan, member: User, position: Point | None, now: dt.datetime, by: User
) -> list[RouteStop]:
    """Re-order ``member``'s remaining stops from ``position`` (else the last stop
    done, else the start) at ``now`` with the solver, and time them; the stops done
    or skipped keep their times and come first, in the order they were marked.

    A stop the solver cannot fit into the working day, or with no location, keeps
    its place after the others with the times it would take anyway.

    Travel comes from the day planner's source (``field.services.routes.travel_matrix``):
    road distances from ``settings.OSRM_URL`` when set, else, or when OSRM fails (a
    warning is logged), great circle times the plan's circuity."""
    if member.pk != by.pk:
        raise PermissionDenied
    stops = plan_stops(member, plan, windows=True)
    visited = sorted(
        (s for s in stops if s.state != StopState.PLANNED),
        key=lambda s: (s.state_at or timezone.now(), s.sequence),
    )
    remaining = [s for s in stops if s.state == StopState.PLANNED]
    origin = plan_origin(plan)
    done = [s for s in visited if s.state == StopState.DONE and s.household.point is not None]
    here = position
    if here is None:
        here = done[-1].household.point if done else origin
    placed = [s for s in remaining if s.household.point is not None]
    if here is None and placed:
        here = placed[0].household.point
    start = _day_seconds(plan, now)
    routed: list[RouteStop] = []
    matrix: routing.TravelMatrix | None = None
    if placed and here is not None:
        home = origin or here
        mode = routing.TravelMode(plan.mode)
        costs = routing.CostModel(circuity=plan.circuity)
        solver_stops = [
            _solver_stop(plan, s, s.household.point)  # type: ignore[arg-type]
            for s in placed
        ]
        matrix, _source = travel_matrix(
            [_lonlat(here), _lonlat(home), *(s.point for s in solver_stops)], mode, costs
        )
        result = routing.replan(
            solver_stops,
            routing.Member(
                id=member.pk,
                start=_lonlat(home),
                shift_start=seconds_of(plan.starts),
                shift_end=seconds_of(plan.ends),
                end=_lonlat(home),
            ),
            _lonlat(here),
            min(start, 24 * 3600 - 1),
            mode=mode,
            costs=costs,
            matrix=matrix,
        )
        by_id = {s.pk: s for s in placed}
        for visit in result.routes[0].visits if result.routes else ():
            stop = by_id.pop(int(visit.stop_id))
            stop.arrives = time_of(visit.arrival)
            stop.leaves = time_of(visit.end)
            stop.distance_m = visit.travel_metres
            routed.append(stop)
            here = stop.household.point
            start = visit.end
        late = list(by_id.values())
    else:
        late = placed
    for stop in late:
        metres, seconds = _leg(plan, matrix, here, stop.household.point)
        stop.distance_m = metres
        stop.arrives = time_of(start + seconds)
        start = seconds_of(stop.arrives) + plan.service_minutes * 60
        stop.leaves = time_of(start)
        here = stop.household.point
        routed.append(stop)
    for stop in remaining:
        if stop.household.point is None:
            stop.arrives = stop.leaves = time_of(start)
            stop.distance_m = 0
            routed.append(stop)
    ordered = visited + routed
    shown = {s.pk for s in ordered}
    # Stops whose case left the member's area stay in the table, after the others.
    hidden = list(
        RouteStop.objects.filter(plan=plan, member=member)
        .exclude(pk__in=shown)
        .order_by("sequence")
        .only("pk", "sequence")
    )
    everything = ordered + hidden
    RouteStop.objects.filter(pk__in=[s.pk for s in everything]).update(
        sequence=F("sequence") + _SEQUENCE_SHIFT
    )
    for number, stop in enumerate(everything, start=1):
        stop.sequence = number
    RouteStop.objects.bulk_update(ordered, ["sequence", "arrives", "leaves", "distance_m"])
    if hidden:
        RouteStop.objects.bulk_update(hidden, ["sequence"])
    return ordered


def route_changes_apply(
    *,
    user: User,
    day: dt.date | None,
    changes: Sequence[StopChange],
    position: Point | None,
    now: dt.datetime | None,
) -> tuple[RoutePlan | None, list[ChangeResult]]:
    """Apply a tablet's queued changes to the member's plan of ``day`` (today by
    default), oldest first, each on its own, then re-plan the rest of the route.
    None for the plan when the member has none that day: every change is refused."""
    now = now or timezone.now()
    plan = member_plan(user, day or today())
    if plan is None:
        return None, [
            ChangeResult(str(c.client_id), ChangeStatus.REFUSED, reason=_("No plan for the day."))
            for c in changes
        ]
    results: dict[uuid.UUID, ChangeResult] = {}
    with transaction.atomic():
        # One upload at a time per plan: two tablets of one member re-numbering the
        # same route at once would trip over each other's sequences.
        plan = (
            RoutePlan.objects.select_for_update(of=("self",))
            .select_related("team__base_school", "volunteer")
            .get(pk=plan.pk)
        )
        if plan.status != RouteStatus.PLANNED:
            return None, [
                ChangeResult(str(c.client_id), ChangeStatus.REFUSED, reason=_("Plan replaced."))
                for c in changes
            ]
        for change in sorted(changes, key=lambda c: c.at):
            results[change.client_id] = _apply(plan, user, change)
        route_replan(plan=plan, member=user, position=position, now=now, by=user)
    return plan, [results[c.client_id] for c in changes]


def _apply(plan: RoutePlan, user: User, change: StopChange) -> ChangeResult:
    client_id = str(change.client_id)
    if change.add_case is not None:
        case = case_to_add(user, change.add_case)
        if case is None:
            return ChangeResult(
                client_id, ChangeStatus.REFUSED, reason=_("Not a case of your area.")
            )
        stop, status, reason = route_stop_add(plan=plan, case=case, at=change.at, by=user)
        return ChangeResult(client_id, status, stop.pk if stop else None, reason)
    try:
        stop = member_stop(user, plan, pk=change.stop, case=change.case)
    except RouteStop.DoesNotExist:
        return ChangeResult(client_id, ChangeStatus.REFUSED, reason=_("Not a stop of your route."))
    status = route_stop_mark(stop=stop, state=change.state, at=change.at, by=user)
    return ChangeResult(client_id, status, stop.pk)
