"""The server's re-plan of "Today" (``route_replan``) travels on the day planner's
roads: OSRM's table when ``settings.OSRM_URL`` is set, great circle times circuity
without it or when OSRM fails. A fake OSRM server on localhost puts the houses in
the opposite order to the straight line, so the order shows which source was used."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from conftest import FieldWorld
from django.contrib.auth.models import User
from django.contrib.gis.geos import Point
from django.utils import timezone
from factories import RoutePlanFactory, RouteStopFactory, make
from fake_http import Answer, serving

from field.models import RoutePlan, RouteStop, Team
from field.services.route_field import route_replan

pytestmark = pytest.mark.django_db
BANGKOK = dt.timezone(dt.timedelta(hours=7))
# The fake road: this many metres per step between two marks.
STEP_M = 1000


@dataclass
class FakeOsrm:
    """Every point sits at a mark on one imaginary road; the road distance between two
    points is STEP_M per mark between them. ``code`` other than 200 breaks it."""

    url: str
    requests: list[str] = field(default_factory=list)
    marks: dict[tuple[float, float], int] = field(default_factory=dict)
    code: int = 200

    def mark(self, point: Point, at: int) -> None:
        self.marks[round(point.x, 5), round(point.y, 5)] = at


@pytest.fixture
def osrm() -> Iterator[FakeOsrm]:
    fake = FakeOsrm(url="")

    def answer(path: str) -> Answer:
        fake.requests.append(path)
        if fake.code != 200:
            return fake.code, {"code": "InvalidQuery", "message": "broken on purpose"}
        coords = urlsplit(path).path.split("/", 4)[4].split(";")
        at = [
            fake.marks.get((round(float(x), 5), round(float(y), 5)), 100)
            for x, y in (c.split(",") for c in coords)
        ]
        grid = [[float(STEP_M * abs(a - b)) for b in at] for a in at]
        return 200, {
            "code": "Ok",
            "distances": grid,
            "durations": [[v / 10 for v in row] for row in grid],
        }

    with serving(answer) as url:
        fake.url = url
        yield fake


@dataclass(frozen=True)
class Day:
    plan: RoutePlan
    position: Point
    cases: list[int]


@pytest.fixture
def day(field_world: FieldWorld, team_a: Team, member_a: User, osrm: FakeOsrm) -> Day:
    """member_a's three stops 22 m apart going east, the member west of them and the
    base east: the straight line says first, second, third; the fake roads (marks
    member 0, third 1, second 2, first 3, base 4) say the opposite."""
    cases = field_world.cases_a
    first = cases[0].child.household.point
    assert first is not None
    position = Point(first.x - 0.001, first.y, srid=4326)
    team_a.base_point = Point(first.x + 0.002, first.y, srid=4326)
    team_a.save()
    plan = make(RoutePlanFactory, team=team_a)
    for n, case in enumerate(cases, start=1):
        make(RouteStopFactory, plan=plan, member=member_a, case=case, sequence=n)
    osrm.mark(position, 0)
    for mark, case in zip((3, 2, 1), cases, strict=True):
        point = case.child.household.point
        assert point is not None
        osrm.mark(point, mark)
    osrm.mark(team_a.base_point, 4)
    return Day(plan, position, [c.pk for c in cases])


def _at(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(timezone.localdate(), dt.time(hour, minute), tzinfo=BANGKOK)


def _replan(day: Day, member: User, now: dt.datetime) -> list[RouteStop]:
    route_replan(plan=day.plan, member=member, position=day.position, now=now, by=member)
    return list(RouteStop.objects.filter(plan=day.plan, member=member).order_by("sequence"))


def test_with_osrm_the_replan_follows_the_roads(
    settings: Any, osrm: FakeOsrm, day: Day, member_a: User
) -> None:
    settings.OSRM_URL = osrm.url

    stops = _replan(day, member_a, _at(9))

    assert len(osrm.requests) == 1 and osrm.requests[0].startswith("/table/v1/driving/")
    assert [s.case_id for s in stops] == day.cases[::-1]
    assert [s.distance_m for s in stops] == [STEP_M, STEP_M, STEP_M]
    # Timed as the day planner times OSRM's metres: at the motorcycle's door-to-door
    # 30 km/h (120 s per km), not OSRM's free-flow durations (100 s here).
    assert stops[0].arrives == dt.time(9, 2)


def test_stops_past_the_working_day_are_timed_on_the_roads_too(
    settings: Any, osrm: FakeOsrm, day: Day, member_a: User
) -> None:
    settings.OSRM_URL = osrm.url

    stops = _replan(day, member_a, _at(16, 50))  # ten minutes left: no visit fits

    assert osrm.requests
    # Kept in their order, each leg measured on the fake roads: mark 0 to 3, 3 to 2, 2 to 1.
    assert [s.case_id for s in stops] == day.cases
    assert [s.distance_m for s in stops] == [3 * STEP_M, STEP_M, STEP_M]


def test_a_failing_osrm_falls_back_to_great_circle(
    settings: Any, osrm: FakeOsrm, day: Day, member_a: User, caplog: pytest.LogCaptureFixture
) -> None:
    settings.OSRM_URL = osrm.url
    osrm.code = 500

    with caplog.at_level(logging.WARNING, logger="field.services.routes"):
        stops = _replan(day, member_a, _at(9))

    assert osrm.requests
    assert any("OSRM" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    assert [s.case_id for s in stops] == day.cases
    # 111 m to the first house, then 22 m legs, times 1.3: nothing like the fake roads.
    assert all(s.distance_m < 200 for s in stops)


def test_without_osrm_url_the_replan_is_great_circle(
    settings: Any, osrm: FakeOsrm, day: Day, member_a: User
) -> None:
    settings.OSRM_URL = ""

    stops = _replan(day, member_a, _at(9))

    assert not osrm.requests
    assert [s.case_id for s in stops] == day.cases
    assert all(s.distance_m < 200 for s in stops)
