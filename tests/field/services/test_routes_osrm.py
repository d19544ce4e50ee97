"""Day plans with road distances from OSRM (``settings.OSRM_URL``), against a fake OSRM
server on localhost, and the fall-back to great-circle distances when it fails."""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import User
from django.contrib.gis.geos import Point
from factories import CaseFactory, ChildFactory, HouseholdFactory, SubdistrictFactory, make
from fake_http import Answer, serving

from field.models import Case, Precision, RoutePlan, Team, TravelMode
from field.services.routes import route_plan_create
from field.services.teams import team_area_assign
from geo.algorithms.routing import DEFAULT_SPEEDS_KMH
from geo.algorithms.routing import TravelMode as Mode
from geo.models import District, Subdistrict

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 1, 15)
STEP = 0.001
# The fake road between any two different points: 7 km, whatever the straight line.
ROAD_M = 7000.0


@pytest.fixture
def osrm_url() -> Iterator[tuple[str, list[str], dict[str, int]]]:
    """A fake OSRM server: every pair of different points is ROAD_M apart. Set
    ``status["code"]`` to make it answer with an HTTP error."""
    requests: list[str] = []
    status = {"code": 200}

    def answer(path: str) -> Answer:
        requests.append(path)
        if status["code"] != 200:
            return status["code"], {"code": "InvalidQuery", "message": "broken on purpose"}
        coords = urlsplit(path).path.split("/", 4)[4].split(";")
        grid = [[0.0 if i == j else ROAD_M for j in range(len(coords))] for i in range(len(coords))]
        return 200, {
            "code": "Ok",
            "distances": grid,
            "durations": [[v / 10 for v in row] for row in grid],
        }

    with serving(answer) as url:
        yield url, requests, status


@pytest.fixture
def tambon(
    persona_districts: tuple[District, District], team_a: Team, member_a: User
) -> Subdistrict:
    tambon = make(SubdistrictFactory, district=persona_districts[0])
    team_area_assign(team=team_a, subdistrict=tambon, by=None)
    x, y = tambon.geom.centroid.coords
    team_a.base_point = Point(x, y, srid=4326)
    team_a.save()
    return tambon


def _case(tambon: Subdistrict, dx: float) -> Case:
    x, y = tambon.geom.centroid.coords
    household = make(
        HouseholdFactory,
        subdistrict=tambon,
        precision=Precision.GIVEN,
        point=Point(x + dx, y + STEP, srid=4326),
    )
    return make(CaseFactory, child=make(ChildFactory, household=household))


def _plan(team: Team) -> RoutePlan:
    return route_plan_create(
        team=team,
        day=DAY,
        mode=TravelMode.MOTORCYCLE,
        starts=dt.time(8, 0),
        ends=dt.time(16, 0),
        by=None,
        seconds=0.1,
    )


def test_the_plan_uses_osrms_road_distances(
    settings: Any,
    osrm_url: tuple[str, list[str], dict[str, int]],
    tambon: Subdistrict,
    team_a: Team,
) -> None:
    url, requests, _ = osrm_url
    settings.OSRM_URL = url
    cases = [_case(tambon, i * STEP) for i in range(1, 3)]
    plan = _plan(team_a)

    assert len(requests) == 1 and requests[0].startswith("/table/v1/driving/")
    assert plan.solver["travel"] == "osrm"
    assert "travel_error" not in plan.solver
    stops = list(plan.stops.order_by("sequence"))
    assert {s.case_id for s in stops} == {c.pk for c in cases}
    # Base -> stop -> stop -> base: three fake roads of 7 km, at the motorcycle's speed.
    assert [s.distance_m for s in stops] == [7000, 7000]
    assert plan.solver["distance_m"] == 21_000
    leg_s = math.ceil(ROAD_M / (DEFAULT_SPEEDS_KMH[Mode.MOTORCYCLE] / 3.6))
    assert plan.solver["travel_s"] == 3 * leg_s


def test_a_failing_osrm_falls_back_to_great_circle(
    settings: Any,
    osrm_url: tuple[str, list[str], dict[str, int]],
    tambon: Subdistrict,
    team_a: Team,
    caplog: pytest.LogCaptureFixture,
) -> None:
    url, requests, status = osrm_url
    settings.OSRM_URL = url
    status["code"] = 500
    cases = [_case(tambon, i * STEP) for i in range(1, 3)]
    with caplog.at_level(logging.WARNING, logger="field.services.routes"):
        plan = _plan(team_a)

    assert requests
    assert plan.solver["travel"] == "great-circle"
    assert "HTTP 500" in plan.solver["travel_error"]
    assert any("OSRM" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    stops = list(plan.stops.all())
    assert {s.case_id for s in stops} == {c.pk for c in cases}
    # Great-circle legs of about 110-150 m times 1.3, nothing like the fake 7 km roads.
    assert all(s.distance_m < 1000 for s in stops)


def test_an_unreachable_osrm_falls_back(settings: Any, tambon: Subdistrict, team_a: Team) -> None:
    settings.OSRM_URL = "http://127.0.0.1:9"  # nothing listens on the discard port
    _case(tambon, STEP)
    plan = _plan(team_a)
    assert plan.solver["travel"] == "great-circle"
    assert "not reachable" in plan.solver["travel_error"]
    assert plan.stops.count() == 1


def test_without_osrm_url_the_plan_is_great_circle(
    settings: Any, tambon: Subdistrict, team_a: Team
) -> None:
    settings.OSRM_URL = ""
    _case(tambon, STEP)
    plan = _plan(team_a)
    assert plan.solver["travel"] == "great-circle"
    assert "travel_error" not in plan.solver
