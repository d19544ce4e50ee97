"""Reads for the coordinator's route pages: the plans of the teams and volunteers they
manage, and one plan with what its map, route sheet and GPX file show.

Every function starts from ``manager_scope`` (coordinators and administrators): a
plan names children and their addresses. A team's plan is in scope when the team is
(``teams_in_scope``: its district); a volunteer's when the volunteer's village lies
in one of the coordinator's districts (their province when none are listed). A plan
outside the scope is not found (Http404), so that guessing ids tells nothing.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections import defaultdict
from dataclasses import dataclass, field
from functools import reduce

from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.models import User as UserModel
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils.translation import get_language

from field.models import Profile, RoutePlan, RouteStatus, RouteStop, RouteUnplanned, Volunteer
from field.selectors import AreaScope, User
from field.services.routes import route_path, team_base
from field.team_selectors import manager_scope, teams_in_scope


def volunteers_in_scope(scope: AreaScope) -> QuerySet[Volunteer]:
    """The volunteers living in the scope's districts (every one for an administrator).
    A volunteer with no village lies in no district: only an administrator sees them."""
    volunteers = Volunteer.objects.all()
    if scope.province is None:
        return volunteers
    codes = scope.districts or (scope.province,)
    return volunteers.filter(
        reduce(operator.or_, (Q(village__subdistrict__code__startswith=c) for c in codes))
    )


def get_volunteer(user: User, pk: int) -> Volunteer:
    """One volunteer the user manages; Http404 for any other."""
    volunteer = volunteers_in_scope(manager_scope(user)).select_related("user").filter(pk=pk)
    found = volunteer.first()
    if found is None:
        raise Http404
    return found


def _plans(scope: AreaScope) -> QuerySet[RoutePlan]:
    return RoutePlan.objects.filter(
        Q(team__in=teams_in_scope(scope)) | Q(volunteer__in=volunteers_in_scope(scope))
    )


def plans_for_user(user: User, *, day: dt.date | None = None) -> QuerySet[RoutePlan]:
    """The current (PLANNED) plans the user may open, of ``day`` when given, with
    their counts (``visits``, ``unplanned_count``) and ``distance``; one query."""
    plans = _plans(manager_scope(user)).filter(status=RouteStatus.PLANNED)
    if day is not None:
        plans = plans.filter(day=day)
    return (
        plans.select_related("team", "volunteer")
        .annotate(
            visits=Count("stops", distinct=True),
            unplanned_count=Count("unplanned", distinct=True),
        )
        .order_by("-day", "team__name", "volunteer__name", "pk")
    )


def get_plan(user: User, pk: int) -> RoutePlan:
    """One plan the user may open, current or replaced; Http404 for any other."""
    plan = (
        _plans(manager_scope(user))
        .select_related("team__base_school", "volunteer__user")
        .defer("team__base_school__levels")
        .filter(pk=pk)
        .first()
    )
    if plan is None:
        raise Http404
    return plan


# --- one plan ---------------------------------------------------------------------------


@dataclass
class MemberRoute:
    """One member's route: their stops in order, the path and the day's totals."""

    index: int
    user: AbstractBaseUser | None
    name: str
    phone: str
    stops: list[RouteStop] = field(default_factory=list)
    departure: int = 0
    back: int = 0
    distance_m: int = 0

    @property
    def letter(self) -> str:
        """A, B, ...: tells members' stops apart on a shared map and in a GPX file."""
        return chr(ord("A") + self.index % 26)

    @property
    def duration_s(self) -> int:
        return self.back - self.departure if self.stops else 0

    def path(self, base: tuple[float, float]) -> list[tuple[float, float]]:
        return route_path(base, [point_of(stop) for stop in self.stops])


@dataclass
class PlanDetail:
    plan: RoutePlan
    base: tuple[float, float]
    members: list[MemberRoute]
    unplanned: list[RouteUnplanned]
    replaced_by: int | None = None

    @property
    def subject(self) -> str:
        return self.plan.team.name if self.plan.team else self.plan.volunteer.name  # type: ignore[union-attr]

    @property
    def visits(self) -> int:
        return sum(len(m.stops) for m in self.members)

    @property
    def distance_m(self) -> int:
        return sum(m.distance_m for m in self.members)

    @property
    def duration_s(self) -> int:
        """The longest member's day, from leaving the base to being back."""
        return max((m.duration_s for m in self.members), default=0)

    @property
    def extent(self) -> tuple[float, float, float, float]:
        points = [self.base] + [point_of(s) for m in self.members for s in m.stops]
        lons = [p[0] for p in points]
        lats = [p[1] for p in points]
        return (min(lons), min(lats), max(lons), max(lats))


def point_of(stop: RouteStop) -> tuple[float, float]:
    point = stop.household.point
    # Stops are made only for households with a point (NO_LOCATION otherwise), and
    # a placed household is never unplaced again; the fallback only satisfies types.
    return (float(point.x), float(point.y)) if point is not None else (0.0, 0.0)


def tambon_name(stop: RouteStop) -> str:
    subdistrict = stop.household.subdistrict
    if subdistrict is None:
        return ""
    english = (get_language() or "").startswith("en")
    return subdistrict.name_en if english and subdistrict.name_en else subdistrict.name_th


def plan_detail(user: User, pk: int) -> PlanDetail:
    """A plan with its members' routes and its unplanned cases: a fixed number of
    queries (scope, plan, stops, unplanned, members; the newer plan of a replaced one)
    whatever its size."""
    plan = get_plan(user, pk)
    stops = list(
        RouteStop.objects.filter(plan=plan)
        .select_related("case__child", "household__subdistrict", "household__village")
        .defer("household__subdistrict__geom")
        .order_by("member_id", "sequence")
    )
    unplanned = list(
        RouteUnplanned.objects.filter(plan=plan)
        .select_related("case__child__household", "case__whereabouts")
        .order_by("reason", "case_id")
    )
    routes = plan.solver.get("routes", [])
    volunteer = plan.volunteer
    people: list[tuple[int | None, AbstractBaseUser | None, str, str]]
    if volunteer is not None:
        people = [(volunteer.user_id, volunteer.user, volunteer.name, volunteer.phone)]
    else:
        # Members as they were when planned (the JSON), with their names and phones now;
        # a member since removed from the team keeps their route.
        ids = [row.get("member") for row in routes]
        users = {
            u.pk: u
            for u in UserModel.objects.filter(pk__in=[i for i in ids if i]).select_related(
                "profile"
            )
        }
        people = []
        for member_id in ids:
            member = users.get(member_id)
            if member is None:
                people.append((member_id, None, str(member_id or ""), ""))
                continue
            profile = _profile(member)
            name = member.get_full_name() or member.get_username()
            people.append((member_id, member, name, profile.phone if profile else ""))
    grouped: dict[int | None, list[RouteStop]] = defaultdict(list)
    for stop in stops:
        grouped[stop.member_id].append(stop)
    members = [
        MemberRoute(
            index=index,
            user=member,
            name=name,
            phone=phone,
            stops=grouped.get(member_id, []),
            departure=int(route.get("departure", 0)),
            back=int(route.get("back", 0)),
            distance_m=int(route.get("distance_m", 0)),
        )
        for index, ((member_id, member, name, phone), route) in enumerate(
            zip(people, routes or [{}], strict=False)
        )
    ]
    base = plan.solver.get("start")
    if base:
        origin = (float(base[0]), float(base[1]))
    else:
        point = plan.team and team_base(plan.team) or (volunteer.home if volunteer else None)
        origin = (float(point.x), float(point.y)) if point is not None else (0.0, 0.0)
    newer = None
    if plan.status == RouteStatus.REPLACED:
        newer = (
            RoutePlan.objects.filter(
                Q(team=plan.team) if plan.team_id else Q(volunteer=plan.volunteer),
                day=plan.day,
                status=RouteStatus.PLANNED,
            )
            .values_list("pk", flat=True)
            .first()
        )
    return PlanDetail(
        plan=plan, base=origin, members=members, unplanned=unplanned, replaced_by=newer
    )


def _profile(user: AbstractBaseUser) -> Profile | None:
    try:
        profile = user.profile  # type: ignore[attr-defined]
    except Profile.DoesNotExist:
        return None
    return profile if isinstance(profile, Profile) else None
