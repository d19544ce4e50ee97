"""Day plans saved from the database: working hours, household windows, priorities,
unplanned reasons, replacing a plan, and which cases a plan may take."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User
from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.utils import timezone, translation
from factories import (
    CaseFactory,
    ChildFactory,
    HouseholdFactory,
    HouseholdWindowFactory,
    SubdistrictFactory,
    UserFactory,
    ZoneAssignmentFactory,
    make,
)

from field.models import (
    Case,
    CaseProgress,
    Household,
    Precision,
    RoutePlan,
    RouteStatus,
    RouteStop,
    SearchOutcome,
    Team,
    TravelMode,
    UnplannedReason,
    Visit,
)
from field.services.routes import priority_of, route_path, route_plan_create
from field.services.teams import team_area_assign
from geo.algorithms.routing import Priority
from geo.models import District, Subdistrict


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    # Refusals are matched in English; the pages show them in Thai.
    with translation.override("en"):
        yield


pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 1, 15)
# 0.001 degree is about 110 m here (5 N): a few minutes' ride between houses.
STEP = 0.001


def _at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), timezone.get_current_timezone())


@dataclass
class RouteWorld:
    tambon: Subdistrict
    base: Point
    other_tambon: Subdistrict


@pytest.fixture
def world(persona_districts: tuple[District, District], team_a: Team, member_a: User) -> RouteWorld:
    """Team A holds a whole tambon of district A and sets out from its centre; a
    second tambon of the district is nobody's."""
    tambon = make(SubdistrictFactory, district=persona_districts[0])
    other = make(SubdistrictFactory, district=persona_districts[0])
    team_area_assign(team=team_a, subdistrict=tambon, by=None)
    x, y = tambon.geom.centroid.coords
    team_a.base_point = Point(x, y, srid=4326)
    team_a.save()
    return RouteWorld(tambon=tambon, base=team_a.base_point, other_tambon=other)


def _case(
    tambon: Subdistrict,
    dx: float,
    *,
    progress: str = CaseProgress.NEW,
    located: bool = True,
) -> Case:
    x, y = tambon.geom.centroid.coords
    household = make(
        HouseholdFactory,
        subdistrict=tambon,
        precision=Precision.GIVEN if located else Precision.UNRESOLVED,
        point=Point(x + dx, y + STEP, srid=4326) if located else None,
    )
    return make(CaseFactory, child=make(ChildFactory, household=household), progress=progress)


def _visited(case: Case, by: User, at: dt.datetime) -> Case:
    Visit.objects.create(case=case, by=by, at=at, outcome=SearchOutcome.NOT_FOUND)
    return case


def _plan(team: Team, starts: dt.time, ends: dt.time, **kwargs: object) -> RoutePlan:
    return route_plan_create(
        team=team,
        day=DAY,
        mode=TravelMode.MOTORCYCLE,
        starts=starts,
        ends=ends,
        by=None,
        seconds=0.2,
        **kwargs,  # type: ignore[arg-type]
    )


def _stops(plan: RoutePlan) -> list[RouteStop]:
    return list(plan.stops.order_by("member_id", "sequence"))


def test_the_plan_keeps_to_the_working_hours(world: RouteWorld, team_a: Team) -> None:
    cases = [_case(world.tambon, i * STEP) for i in range(6)]
    plan = _plan(team_a, dt.time(8, 0), dt.time(10, 0))

    stops = _stops(plan)
    # Three 30-minute visits and the rides between fit two hours; a fourth does not.
    assert len(stops) == 3
    assert [s.sequence for s in stops] == [1, 2, 3]
    assert stops[0].arrives >= dt.time(8, 0)
    assert stops[-1].leaves <= dt.time(10, 0)
    for before, after in zip(stops, stops[1:], strict=False):
        assert after.arrives >= before.leaves
    for stop in stops:
        assert (dt.datetime.combine(DAY, stop.leaves) - dt.datetime.combine(DAY, stop.arrives)) == (
            dt.timedelta(minutes=30)
        )
    unplanned = plan.unplanned.all()
    assert {u.reason for u in unplanned} == {UnplannedReason.NOT_ENOUGH_TIME}
    assert {s.case_id for s in stops} | {u.case_id for u in unplanned} == {c.pk for c in cases}
    assert plan.solver["routes"][0]["back"] <= 10 * 3600
    assert plan.created_by is None and plan.status == RouteStatus.PLANNED


def test_a_household_window_is_kept(world: RouteWorld, team_a: Team) -> None:
    evening = _case(world.tambon, STEP)
    make(
        HouseholdWindowFactory,
        household=evening.child.household,
        opens=dt.time(14, 0),
        closes=dt.time(15, 0),
    )
    others = [_case(world.tambon, -i * STEP) for i in range(1, 3)]
    plan = _plan(team_a, dt.time(8, 0), dt.time(16, 0))

    by_case = {s.case_id: s for s in _stops(plan)}
    assert set(by_case) == {evening.pk, *(c.pk for c in others)}
    assert by_case[evening.pk].arrives >= dt.time(14, 0)
    assert by_case[evening.pk].leaves <= dt.time(15, 0)


def test_a_window_outside_the_day_is_unplanned_with_its_reason(
    world: RouteWorld, team_a: Team
) -> None:
    evening = _case(world.tambon, STEP)
    make(HouseholdWindowFactory, household=evening.child.household)  # 17:00-19:00
    plan = _plan(team_a, dt.time(8, 0), dt.time(16, 0))

    assert not _stops(plan)
    [row] = plan.unplanned.all()
    assert (row.case_id, row.reason) == (evening.pk, UnplannedReason.TIME_WINDOW)
    assert "17:00-19:00" in row.detail


def test_new_cases_come_before_overdue_before_routine(
    world: RouteWorld, team_a: Team, member_a: User
) -> None:
    # The routine cases are nearest the base, the new ones farthest: only the
    # priorities can put the new ones in.
    routine = [
        _visited(
            _case(world.tambon, i * STEP / 4, progress=CaseProgress.VISITED),
            member_a,
            _at(DAY - dt.timedelta(days=2), 10),
        )
        for i in range(3)
    ]
    overdue = [
        _visited(
            _case(world.tambon, 2 * STEP + i * STEP / 4, progress=CaseProgress.FOUND),
            member_a,
            _at(DAY - dt.timedelta(days=30), 10),
        )
        for i in range(3)
    ]
    new = [_case(world.tambon, 4 * STEP + i * STEP / 4) for i in range(3)]
    # Four visits fit: the three new ones and one overdue.
    plan = _plan(team_a, dt.time(8, 0), dt.time(10, 30))

    planned = {s.case_id for s in _stops(plan)}
    assert {c.pk for c in new} <= planned
    assert len(planned & {c.pk for c in overdue}) == 1
    assert not planned & {c.pk for c in routine}
    reasons = dict(plan.unplanned.values_list("case_id", "reason"))
    assert all(reasons[c.pk] == UnplannedReason.NOT_ENOUGH_TIME for c in routine)


def test_priority_of_defines_overdue_by_the_follow_up_days(
    settings: pytest.FixtureRequest,
) -> None:
    settings.FOLLOW_UP_DAYS = 14  # type: ignore[attr-defined]
    tz = timezone.get_current_timezone()
    day = DAY
    old = dt.datetime.combine(day - dt.timedelta(days=15), dt.time(9), tz)
    recent = dt.datetime.combine(day - dt.timedelta(days=13), dt.time(9), tz)
    assert priority_of(CaseProgress.NEW, None, day) == Priority.NEW
    assert priority_of(CaseProgress.VISITED, old, day) == Priority.OVERDUE
    assert priority_of(CaseProgress.FOUND, old, day) == Priority.OVERDUE
    assert priority_of(CaseProgress.VISITED, recent, day) == Priority.ROUTINE
    assert priority_of(CaseProgress.RESOLVED, old, day) == Priority.ROUTINE
    # Days are Bangkok's: 06:00 on 1 January there is still 31 December in UTC, as
    # the database returns it, yet exactly 14 days before the 15th.
    early = dt.datetime(2025, 12, 31, 23, 0, tzinfo=dt.UTC)
    assert priority_of(CaseProgress.VISITED, early, day) == Priority.ROUTINE
    assert priority_of(CaseProgress.VISITED, early - dt.timedelta(hours=7), day) == (
        Priority.OVERDUE
    )
    settings.FOLLOW_UP_DAYS = 10  # type: ignore[attr-defined]
    assert priority_of(CaseProgress.VISITED, recent, day) == Priority.OVERDUE


def test_a_household_without_a_location_is_unplanned(world: RouteWorld, team_a: Team) -> None:
    placed = _case(world.tambon, STEP)
    lost = _case(world.tambon, 0, located=False)
    plan = _plan(team_a, dt.time(8, 0), dt.time(16, 0))

    assert [s.case_id for s in _stops(plan)] == [placed.pk]
    assert list(plan.unplanned.values_list("case_id", "reason")) == [
        (lost.pk, UnplannedReason.NO_LOCATION)
    ]


def test_a_far_household_is_beyond_the_working_hours(world: RouteWorld, team_a: Team) -> None:
    far = _case(world.tambon, 0.5)  # about 55 km away, 70 km by road
    plan = _plan(team_a, dt.time(8, 0), dt.time(10, 0))
    assert list(plan.unplanned.values_list("case_id", "reason")) == [
        (far.pk, UnplannedReason.BEYOND_WORKING_HOURS)
    ]


def test_a_new_plan_replaces_the_old_one_and_keeps_it(world: RouteWorld, team_a: Team) -> None:
    cases = [_case(world.tambon, i * STEP) for i in range(3)]
    first = _plan(team_a, dt.time(8, 0), dt.time(16, 0))
    second = _plan(team_a, dt.time(9, 0), dt.time(16, 0), service_minutes=20)

    first.refresh_from_db()
    assert first.status == RouteStatus.REPLACED
    assert second.status == RouteStatus.PLANNED
    assert first.stops.count() == second.stops.count() == len(cases)
    assert min(s.arrives for s in second.stops.all()) >= dt.time(9, 0)
    assert RoutePlan.objects.filter(team=team_a, day=DAY, status=RouteStatus.PLANNED).count() == 1
    # Another day is another plan: nothing replaced.
    other = route_plan_create(
        team=team_a,
        day=DAY + dt.timedelta(days=1),
        mode=TravelMode.WALK,
        starts=dt.time(8, 0),
        ends=dt.time(16, 0),
        by=None,
        seconds=0.1,
    )
    second.refresh_from_db()
    assert second.status == other.status == RouteStatus.PLANNED


def test_a_plan_takes_only_the_cases_of_the_teams_areas(
    world: RouteWorld, team_a: Team, team_b: Team, field_world: object
) -> None:
    mine = _case(world.tambon, STEP)
    elsewhere = _case(world.other_tambon, STEP)
    plan = _plan(team_a, dt.time(8, 0), dt.time(16, 0))

    taken = {s.case_id for s in plan.stops.all()} | {u.case_id for u in plan.unplanned.all()}
    assert mine.pk in taken
    assert elsewhere.pk not in taken
    # field_world's cases of team A's other tambon are its too; team B's are not.
    assert not taken & {c.pk for c in field_world.cases_b}  # type: ignore[attr-defined]
    assert {c.pk for c in field_world.cases_a} <= taken  # type: ignore[attr-defined]


def test_every_member_is_a_route_from_the_base(
    world: RouteWorld, team_a: Team, member_a: User
) -> None:
    second = make(UserFactory, username="member_a2")
    team_a.members.add(second)
    for i in range(10):
        _case(world.tambon, (i - 5) * STEP)
    plan = _plan(team_a, dt.time(8, 0), dt.time(10, 0))

    members = {s.member_id for s in plan.stops.all()}
    assert members == {member_a.pk, second.pk}
    assert [r["member"] for r in plan.solver["routes"]] == sorted([member_a.pk, second.pk])
    assert plan.solver["start"] == [round(world.base.x, 6), round(world.base.y, 6)]
    for member in members:
        sequences = list(plan.stops.filter(member_id=member).values_list("sequence", flat=True))
        assert sorted(sequences) == list(range(1, len(sequences) + 1))


def test_a_volunteer_plans_from_home_with_the_zone_cases(
    world: RouteWorld, volunteer: User
) -> None:
    record = volunteer.volunteer
    x, y = record.home.coords
    homes = [
        make(
            HouseholdFactory,
            subdistrict=world.other_tambon,
            point=Point(x + i * STEP, y, srid=4326),
        )
        for i in range(1, 4)
    ]
    cases = [make(CaseFactory, child=make(ChildFactory, household=h)) for h in homes]
    for household in homes[:2]:
        make(ZoneAssignmentFactory, household=household, volunteer=record)
    plan = route_plan_create(
        volunteer=record,
        day=DAY,
        mode=TravelMode.WALK,
        starts=dt.time(13, 0),
        ends=dt.time(17, 0),
        by=volunteer,
        seconds=0.1,
    )
    stops = _stops(plan)
    assert {s.case_id for s in stops} == {cases[0].pk, cases[1].pk}
    assert {s.member_id for s in stops} == {volunteer.pk}
    assert plan.solver["start"] == [round(x, 6), round(y, 6)]
    assert plan.team is None and plan.created_by == volunteer


@pytest.mark.parametrize("problem", ["no base", "no members", "no cases", "inactive", "both"])
def test_a_plan_is_refused_clearly(
    problem: str, world: RouteWorld, team_a: Team, member_a: User, volunteer: User
) -> None:
    _case(world.tambon, STEP)
    kwargs: dict[str, object] = {"team": team_a}
    expected = ""
    if problem == "no base":
        team_a.base_point = None
        team_a.save()
        expected = "base"
    elif problem == "no members":
        team_a.members.clear()
        expected = "members"
    elif problem == "no cases":
        Case.objects.all().delete()
        expected = "open cases"
    elif problem == "inactive":
        record = volunteer.volunteer
        record.active_to = DAY - dt.timedelta(days=1)
        record.active_from = DAY - dt.timedelta(days=100)
        record.save()
        kwargs = {"volunteer": record}
        expected = "active"
    else:
        kwargs["volunteer"] = volunteer.volunteer
        expected = "not both"
    with pytest.raises(ValidationError, match=expected):
        route_plan_create(
            day=DAY,
            mode=TravelMode.CAR,
            starts=dt.time(8, 0),
            ends=dt.time(16, 0),
            by=None,
            **kwargs,  # type: ignore[arg-type]
        )
    assert not RoutePlan.objects.exists()


def test_the_path_goes_out_from_the_base_and_back() -> None:
    assert route_path((1.0, 2.0), []) == []
    assert route_path((1.0, 2.0), [(3.0, 4.0), (5.0, 6.0)]) == [
        (1.0, 2.0),
        (3.0, 4.0),
        (5.0, 6.0),
        (1.0, 2.0),
    ]


def test_household_is_the_whereabouts_when_the_child_moved(world: RouteWorld, team_a: Team) -> None:
    moved = _case(world.other_tambon, STEP)
    x, y = world.tambon.geom.centroid.coords
    now_here = make(HouseholdFactory, subdistrict=world.tambon, point=Point(x - STEP, y, srid=4326))
    Case.objects.filter(pk=moved.pk).update(whereabouts=now_here)
    plan = _plan(team_a, dt.time(8, 0), dt.time(16, 0))
    [stop] = _stops(plan)
    assert (stop.case_id, stop.household_id) == (moved.pk, now_here.pk)
    assert isinstance(stop.household, Household)
