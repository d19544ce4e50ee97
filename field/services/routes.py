"""Day plans of home visits: which open cases a search team or a volunteer visits on a
day, in which order and when (``geo.algorithms.routing.plan_day``), saved as a
``RoutePlan`` with its ``RouteStop`` and ``RouteUnplanned`` rows.

What a plan takes in:

- **Cases.** A team's are the open cases lying in its current areas, a volunteer's
  those of their zone (``AreaScope.cases``). A case lies at its whereabouts, else at
  its child's registry household; a household with no point cannot be routed and is
  listed as ``NO_LOCATION``. Every case is a stop of its own, even with a sibling in
  the same house: each child is a conversation of its own with the family, and the
  solver chains the two at no travel.
- **Priorities.** New cases (never visited) first, then overdue follow-ups, then the
  rest. A follow-up is overdue when the case was visited or the child found but not
  yet resolved (``CaseProgress.VISITED`` or ``FOUND``) and its latest visit is more than
  ``settings.FOLLOW_UP_DAYS`` (``TAKHAI_FOLLOW_UP_DAYS``, 14) days before the plan's
  day. Resolved cases still open and recent follow-ups are routine.
- **Windows.** A household's ``HouseholdWindow`` rows: the whole visit fits inside one.
- **Members.** Each team member is a route from the team's base (``Team.base_point``,
  else its school's point) and back; a volunteer starts and ends at home.
- **Travel.** Great-circle metres times the circuity factor (``settings.ROUTE_CIRCUITY``,
  ``TAKHAI_ROUTE_CIRCUITY``, unless the plan gives one), at the mode's speed. When
  ``settings.OSRM_URL`` (``OSRM_URL``) is set, road metres from that OSRM server
  (``geo.osrm``) at the mode's speed instead: the speeds are door-to-door averages
  (parking, finding the house), which OSRM's free-flow durations are not, and the
  server knows one profile only. If OSRM fails the plan falls back to great-circle ×
  circuity, logs a warning and says so in ``RoutePlan.solver`` (``travel``,
  ``travel_error``).

Distances are metres on the sphere (WGS 84 radius, the solver's haversine), not UTM:
the plan is a guess at road distance, and the circuity factor dwarfs the difference.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.gis.geos import Point as GeosPoint
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from field.models import (
    Case,
    CaseProgress,
    CaseStatus,
    HouseholdWindow,
    Role,
    RoutePlan,
    RouteStatus,
    RouteStop,
    RouteUnplanned,
    Team,
    TravelMode,
    UnplannedReason,
    Visit,
    Volunteer,
)
from field.selectors import AreaScope
from geo import osrm
from geo.algorithms import routing

logger = logging.getLogger(__name__)

# RouteUnplanned.detail holds at most this many characters.
DETAIL_MAX = 200
# Plans span one working day; a day shorter than this is a typing mistake.
MIN_DAY_MINUTES = 30


def seconds_of(value: dt.time) -> int:
    return value.hour * 3600 + value.minute * 60 + value.second


def time_of(seconds: int) -> dt.time:
    # The solver keeps every visit inside the working day, so this never passes midnight.
    seconds = max(0, min(seconds, 24 * 3600 - 1))
    return dt.time(seconds // 3600, seconds % 3600 // 60, seconds % 60)


def team_base(team: Team) -> GeosPoint | None:
    """Where a team sets out from: its own base point, else its school's."""
    if team.base_point is not None:
        return team.base_point
    if team.base_school is not None and team.base_school.point is not None:
        return team.base_school.point
    return None


def priority_of(progress: str, last_visit: dt.datetime | None, day: dt.date) -> routing.Priority:
    """New before overdue follow-ups before the rest (see the module's docstring)."""
    if progress == CaseProgress.NEW:
        return routing.Priority.NEW
    if progress in (CaseProgress.VISITED, CaseProgress.FOUND):
        # Days count in Bangkok: a visit at 06:00 there is the day before in UTC.
        due = dt.datetime.combine(
            day - dt.timedelta(days=int(settings.FOLLOW_UP_DAYS)),
            dt.time(),
            timezone.get_current_timezone(),
        )
        if last_visit is None or last_visit < due:
            return routing.Priority.OVERDUE
    return routing.Priority.ROUTINE


@dataclass(frozen=True)
class _Target:
    case: Case
    household_id: int
    point: GeosPoint | None


def _cases(scope: AreaScope) -> list[_Target]:
    last = Visit.objects.filter(case=OuterRef("pk")).values("case").annotate(m=Max("at"))
    cases = (
        Case.objects.filter(scope.cases(), status=CaseStatus.OPEN)
        .select_related("child__household", "whereabouts")
        .annotate(last_visit=Subquery(last.values("m")[:1]))
        .order_by("pk")
    )
    targets = []
    for case in cases:
        household = case.whereabouts or case.child.household
        targets.append(_Target(case, household.pk, household.point))
    return targets


def _windows(household_ids: set[int]) -> dict[int, tuple[routing.TimeWindow, ...]]:
    found: dict[int, list[routing.TimeWindow]] = defaultdict(list)
    for window in HouseholdWindow.objects.filter(household_id__in=household_ids).order_by("opens"):
        found[window.household_id].append(
            routing.TimeWindow(seconds_of(window.opens), seconds_of(window.closes))
        )
    return {k: tuple(v) for k, v in found.items()}


def _lonlat(point: GeosPoint) -> routing.Point:
    return routing.Point(lon=float(point.x), lat=float(point.y))


def _pk(user: User | None) -> int | None:
    return None if user is None else int(user.pk)


def _clip(text: str) -> str:
    return text if len(text) <= DETAIL_MAX else text[: DETAIL_MAX - 1] + "…"


def travel_matrix(
    points: list[routing.Point], mode: routing.TravelMode, costs: routing.CostModel
) -> tuple[routing.TravelMatrix | None, dict[str, str]]:
    """Road travel from ``settings.OSRM_URL`` when set, else None (great-circle ×
    circuity); the second value says which for the plan's ``solver`` record."""
    url = str(settings.OSRM_URL)
    if not url:
        return None, {"travel": "great-circle"}
    try:
        road = osrm.table(url, points, profile=osrm.profile_for(mode.value))
    except osrm.OsrmError as error:
        logger.warning("OSRM at %s failed, planning with great-circle distances: %s", url, error)
        return None, {"travel": "great-circle", "travel_error": _clip(str(error))}
    seconds = costs.durations(road.metres, mode)
    return routing.TravelMatrix(road.points, road.metres, seconds), {"travel": "osrm"}


@transaction.atomic
def route_plan_create(
    *,
    team: Team | None = None,
    volunteer: Volunteer | None = None,
    day: dt.date,
    mode: TravelMode,
    starts: dt.time,
    ends: dt.time,
    service_minutes: int = 30,
    circuity: float | None = None,
    by: User | None,
    seconds: float | None = None,
) -> RoutePlan:
    """Plans ``day`` for ``team`` or ``volunteer`` (one of them) and saves it.

    A PLANNED plan of the same team or volunteer and day is kept as REPLACED. Refused
    (ValidationError) without a base or home, without members, or without open cases.
    ``seconds`` is the solver's budget (default: grows with the number of stops).
    """
    circuity = float(settings.ROUTE_CIRCUITY) if circuity is None else circuity
    if not 1.0 <= circuity <= 3.0:
        raise ValidationError(_("The circuity factor must be between 1.0 and 3.0."))
    if not 5 <= service_minutes <= 240:
        raise ValidationError(_("A visit takes from 5 to 240 minutes."))
    shift = (seconds_of(starts), seconds_of(ends))
    if shift[1] - shift[0] < MIN_DAY_MINUTES * 60:
        raise ValidationError(_("The working day must end at least 30 minutes after it starts."))

    member_users: list[User | None]
    if team is not None and volunteer is None:
        base = team_base(team)
        if base is None:
            raise ValidationError(
                _("Team %(team)s has no base: set its base point or school first.")
                % {"team": team.name}
            )
        member_users = list(team.members.order_by("pk"))
        if not member_users:
            raise ValidationError(_("Team %(team)s has no members.") % {"team": team.name})
        scope = AreaScope(user_id=0, role=Role.TEAM_MEMBER, province=None, teams=(team.pk,))
    elif volunteer is not None and team is None:
        base = volunteer.home
        if volunteer.active_from > day or (volunteer.active_to and volunteer.active_to < day):
            raise ValidationError(
                _("%(volunteer)s is not an active volunteer on that day.")
                % {"volunteer": volunteer.name}
            )
        member_users = [volunteer.user]
        scope = AreaScope(
            user_id=volunteer.user_id or 0,
            role=Role.VOLUNTEER,
            province=None,
            volunteer=volunteer.pk,
        )
    else:
        raise ValidationError(_("Plan for a team or for a volunteer, not both."))

    targets = _cases(scope)
    if not targets:
        raise ValidationError(_("There are no open cases to visit."))
    windows = _windows({t.household_id for t in targets})
    service = service_minutes * 60
    stops = [
        routing.Stop(
            id=t.case.pk,
            point=_lonlat(t.point),
            service=service,
            priority=priority_of(t.case.progress, getattr(t.case, "last_visit", None), day),
            windows=windows.get(t.household_id, ()),
        )
        for t in targets
        if t.point is not None
    ]
    start = _lonlat(base)
    members = [
        routing.Member(id=index, start=start, shift_start=shift[0], shift_end=shift[1])
        for index in range(len(member_users))
    ]
    costs = routing.CostModel(circuity=circuity)
    travel_mode = routing.TravelMode(mode)
    matrix, travel = (
        travel_matrix([start, *(s.point for s in stops)], travel_mode, costs)
        if stops
        else (None, {"travel": "great-circle"})
    )
    result = (
        routing.plan_day(
            stops, members, mode=travel_mode, costs=costs, seconds=seconds, matrix=matrix
        )
        if stops
        else routing.DayPlan(
            tuple(routing.Route(m.id, (), shift[0], shift[0], 0, 0, 0, 0) for m in members),
            (),
            "none",
            0.0,
        )
    )

    old = RoutePlan.objects.select_for_update().filter(
        status=RouteStatus.PLANNED, day=day, team=team, volunteer=volunteer
    )
    # The replaced plan goes first: the partial unique index allows one PLANNED row.
    old.update(status=RouteStatus.REPLACED)
    plan = RoutePlan(
        team=team,
        volunteer=volunteer,
        day=day,
        mode=mode,
        starts=starts,
        ends=ends,
        service_minutes=service_minutes,
        circuity=circuity,
        created_by=by,
        solver={
            "solver": result.solver,
            "seconds": round(result.seconds, 3),
            **travel,
            "start": [round(start.lon, 6), round(start.lat, 6)],
            "distance_m": result.distance_metres,
            "travel_s": result.travel_seconds,
            "spread": round(result.workload_spread, 3),
            "routes": [
                {
                    "member": _pk(member_users[int(route.member_id)]),
                    "departure": route.departure,
                    "back": route.back,
                    "distance_m": route.distance_metres,
                    "travel_s": route.travel_seconds,
                    "service_s": route.service_seconds,
                    "wait_s": route.wait_seconds,
                }
                for route in result.routes
            ],
        },
    )
    plan.full_clean()
    plan.save()

    by_case = {t.case.pk: t for t in targets}
    rows = []
    for route in result.routes:
        user = member_users[int(route.member_id)]
        for sequence, visit in enumerate(route.visits, start=1):
            target = by_case[int(visit.stop_id)]
            rows.append(
                RouteStop(
                    plan=plan,
                    member=user,
                    case=target.case,
                    household_id=target.household_id,
                    sequence=sequence,
                    # When to be at the door: a wait for the household's window
                    # comes before it, so the sheet never sends anyone too early.
                    arrives=time_of(visit.start),
                    leaves=time_of(visit.end),
                    distance_m=visit.travel_metres,
                )
            )
    RouteStop.objects.bulk_create(rows)
    missing = [
        RouteUnplanned(
            plan=plan,
            case=t.case,
            reason=UnplannedReason.NO_LOCATION,
            # The reason says it all; details are the solver's, and there was none.
            detail="",
        )
        for t in targets
        if t.point is None
    ]
    missing += [
        RouteUnplanned(
            plan=plan,
            case=by_case[int(u.stop_id)].case,
            reason=UnplannedReason(u.reason.value),
            detail=_clip(u.detail),
        )
        for u in result.unplanned
    ]
    RouteUnplanned.objects.bulk_create(missing)
    return plan


def route_path(
    base: tuple[float, float], stops: list[tuple[float, float]]
) -> list[tuple[float, float]]:
    """The travel path of one member as (lon, lat): from the base through each stop in
    order and back. Straight segments: the costs are straight lines too (times the
    circuity factor), and no road network is loaded."""
    if not stops:
        return []
    return [base, *stops, base]
