"""The coordinator's route pages: who may open them, planning from the form, the map
page's data and query count, the GPX file and the printable route sheet."""

from __future__ import annotations

import datetime as dt
import json
import re
from html import unescape
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from django.contrib.auth.models import User
from django.contrib.gis.geos import Point
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from factories import (
    CaseFactory,
    ChildFactory,
    DistrictFactory,
    HouseholdFactory,
    ProfileFactory,
    ProvinceFactory,
    SubdistrictFactory,
    UserFactory,
    ZoneAssignmentFactory,
    make,
)

from field.models import Precision, Role, RoutePlan, RouteStatus, Team, TravelMode
from field.services.routes import route_plan_create
from field.services.teams import team_area_assign
from geo.models import District, Subdistrict

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 1, 15)
STEP = 0.001
GPX = "{http://www.topografix.com/GPX/1/1}"


def _client(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


@pytest.fixture
def tambon(
    persona_districts: tuple[District, District], team_a: Team, member_a: User
) -> Subdistrict:
    """Team A's whole tambon, with its base at the centre."""
    found = make(SubdistrictFactory, district=persona_districts[0])
    team_area_assign(team=team_a, subdistrict=found, by=None)
    x, y = found.geom.centroid.coords
    team_a.base_point = Point(x, y, srid=4326)
    team_a.save()
    return found


def _cases(tambon: Subdistrict, n: int, start: int = 0) -> list[int]:
    x, y = tambon.geom.centroid.coords
    ids = []
    for i in range(start, start + n):
        household = make(
            HouseholdFactory,
            subdistrict=tambon,
            address=f"{i + 1} หมู่ 2 บ้านทดสอบ",
            point=Point(x + (i % 5) * STEP, y + (i // 5) * STEP, srid=4326),
        )
        ids.append(make(CaseFactory, child=make(ChildFactory, household=household)).pk)
    return ids


def _plan(team: Team, **kwargs: Any) -> RoutePlan:
    return route_plan_create(
        team=team,
        day=DAY,
        mode=TravelMode.MOTORCYCLE,
        starts=dt.time(8, 0),
        ends=dt.time(16, 0),
        by=None,
        seconds=0.1,
        **kwargs,
    )


@pytest.fixture
def plan(tambon: Subdistrict, team_a: Team) -> RoutePlan:
    _cases(tambon, 4)
    lost = make(HouseholdFactory, subdistrict=tambon, precision=Precision.UNRESOLVED)
    make(CaseFactory, child=make(ChildFactory, household=lost))
    return _plan(team_a)


@pytest.fixture
def stranger() -> User:
    """A coordinator of another province."""
    province = make(ProvinceFactory)
    make(DistrictFactory, province=province)
    user = make(UserFactory, username="stranger")
    make(ProfileFactory, user=user, role=Role.COORDINATOR, province=province)
    return user


def _urls(plan: RoutePlan) -> list[str]:
    return [
        reverse("field-routes"),
        reverse("field-route", args=[plan.pk]),
        reverse("field-route-print", args=[plan.pk]),
        reverse("field-route-gpx", args=[plan.pk]),
    ]


@pytest.mark.parametrize("persona", ["member_a", "volunteer", "official"])
def test_other_roles_are_refused(
    request: pytest.FixtureRequest, persona: str, plan: RoutePlan
) -> None:
    client = _client(request.getfixturevalue(persona))
    for url in _urls(plan):
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("field-routes"), {}).status_code == 403


def test_anonymous_users_are_sent_to_log_in(client: Client, plan: RoutePlan) -> None:
    for url in _urls(plan):
        assert client.get(url).status_code == 302


def test_a_plan_outside_the_scope_is_not_found(
    stranger: User, plan: RoutePlan, team_a: Team
) -> None:
    client = _client(stranger)
    for url in _urls(plan)[1:]:
        assert client.get(url).status_code == 404, url
    assert client.get(reverse("field-route", args=[plan.pk + 1000])).status_code == 404
    # Nor may they plan for a team they do not manage.
    response = client.post(
        reverse("field-routes"),
        {
            "target": f"t{team_a.pk}",
            "day": "2026-01-15",
            "mode": "car",
            "starts": "08:00",
            "ends": "16:00",
            "service_minutes": "30",
        },
    )
    assert response.status_code == 400
    assert not RoutePlan.objects.exclude(pk=plan.pk).exists()
    assert plan.pk not in [p.pk for p in response.context["plans"]]


def test_the_coordinator_plans_a_day_from_the_form(
    coordinator: User, tambon: Subdistrict, team_a: Team
) -> None:
    cases = _cases(tambon, 3)
    client = _client(coordinator)
    page = client.get(reverse("field-routes"))
    assert page.status_code == 200
    assert f'value="t{team_a.pk}"' in page.content.decode()
    assert reverse("field-routes") in page.content.decode()  # the nav link

    response = client.post(
        reverse("field-routes"),
        {
            "target": f"t{team_a.pk}",
            "day": "2026-01-15",
            "mode": "walk",
            "starts": "08:30",
            "ends": "12:00",
            "service_minutes": "20",
        },
    )
    plan = RoutePlan.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("field-route", args=[plan.pk])
    assert (plan.team, plan.day, plan.mode, plan.service_minutes) == (
        team_a,
        DAY,
        TravelMode.WALK,
        20,
    )
    assert plan.created_by == coordinator
    assert sorted(plan.stops.values_list("case_id", flat=True)) == sorted(cases)

    listed = client.get(reverse("field-routes"), {"day": "2026-01-15"})
    assert [p["plan"].pk for p in listed.context["plans"]] == [plan.pk]
    assert client.get(reverse("field-routes")).context["plans"] == []


def test_a_refused_plan_says_why(coordinator: User, team_a: Team, tambon: Subdistrict) -> None:
    response = _client(coordinator).post(
        reverse("field-routes"),
        {
            "target": f"t{team_a.pk}",
            "day": "2026-01-15",
            "mode": "car",
            "starts": "08:00",
            "ends": "16:00",
            "service_minutes": "30",
        },
    )
    assert response.status_code == 400
    assert "ไม่มีกรณีที่เปิดอยู่ให้เยี่ยม" in response.content.decode()  # no open cases
    assert not RoutePlan.objects.exists()


def test_the_map_page_shows_the_stops_in_order_and_the_totals(
    coordinator: User, plan: RoutePlan
) -> None:
    response = _client(coordinator).get(reverse("field-route", args=[plan.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    data = response.context["page_data"]
    [member] = data["members"]
    stops = list(plan.stops.order_by("sequence"))
    assert [s["sequence"] for s in member["stops"]] == [1, 2, 3, 4]
    assert [s["arrives"] for s in member["stops"]] == [s.arrives.strftime("%H:%M") for s in stops]
    # The path leaves the base, passes every stop in order and comes back.
    assert member["path"][0] == member["path"][-1] == data["base"]
    assert member["path"][1:-1] == [[s["lat"], s["lon"]] for s in member["stops"]]
    assert response.context["totals"]["visits"] == "4"
    assert 'data-total="distance"' in body
    assert 'data-reason="no_location"' in body
    assert "/static/leaflet/leaflet.js" in body
    assert (
        json.loads(
            re.search(
                r'<script id="route-data" type="application/json">(.*?)</script>', body, re.S
            )[1]  # type: ignore[index]
        )["members"][0]["stops"][0]["sequence"]
        == 1
    )


def test_the_map_page_reads_a_fixed_number_of_queries(
    coordinator: User, tambon: Subdistrict, team_a: Team
) -> None:
    client = _client(coordinator)
    _cases(tambon, 2)
    small = _plan(team_a)
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("field-route", args=[small.pk])).status_code == 200
    team_a.members.add(make(UserFactory))
    _cases(tambon, 10, start=2)
    large = _plan(team_a)
    assert large.stops.count() == 12
    for name in ("field-route", "field-route-print", "field-route-gpx"):
        with CaptureQueriesContext(connection) as many:
            assert client.get(reverse(name, args=[large.pk])).status_code == 200
        assert len(many) <= len(few) + 1, name  # +1: the plan page's session save
    # A replaced plan reads one more: where its successor is.
    small.refresh_from_db()
    assert small.status == RouteStatus.REPLACED
    replaced = client.get(reverse("field-route", args=[small.pk]))
    assert replaced.context["detail"].replaced_by == large.pk


def test_the_gpx_file_has_the_waypoints_in_order_and_a_route(
    coordinator: User, plan: RoutePlan
) -> None:
    response = _client(coordinator).get(reverse("field-route-gpx", args=[plan.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/gpx+xml"
    assert "attachment" in response["Content-Disposition"]
    root = ET.fromstring(response.content)  # noqa: S314 - our own response, not untrusted
    assert root.tag == f"{GPX}gpx" and root.get("version") == "1.1"
    stops = list(plan.stops.order_by("sequence").select_related("household"))
    waypoints = root.findall(f"{GPX}wpt")
    assert [w.findtext(f"{GPX}name") for w in waypoints] == ["1", "2", "3", "4"]
    assert [w.findtext(f"{GPX}desc") for w in waypoints] == [s.household.address for s in stops]
    for wpt, stop in zip(waypoints, stops, strict=True):
        point = stop.household.point
        assert point is not None
        assert float(wpt.get("lon", "")) == pytest.approx(point.x, abs=1e-6)
        assert float(wpt.get("lat", "")) == pytest.approx(point.y, abs=1e-6)
    [route] = root.findall(f"{GPX}rte")
    points = route.findall(f"{GPX}rtept")
    assert len(points) == len(stops) + 2  # from the base and back
    assert points[0].attrib == points[-1].attrib


def test_the_route_sheet_prints_the_addresses_and_needs_nothing_outside(
    coordinator: User, plan: RoutePlan
) -> None:
    response = _client(coordinator).get(reverse("field-route-print", args=[plan.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    for stop in plan.stops.select_related("household"):
        assert stop.household.address in body
    assert "@media print" not in body  # the print rules live in the stylesheet
    assert "/static/field/routes.css" in body
    srcdoc = re.search(r'srcdoc="([^"]*)"', body)
    assert srcdoc is not None
    inner = unescape(srcdoc[1])
    assert "/static/leaflet/leaflet.js" in inner
    assert "L.polyline" in inner and "L.marker" in inner
    # No CDN, no tile server: the sheet prints offline.
    for document in (body, inner):
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", document)
        assert "cdn" not in document.lower()
    # A blank column for the family's phone, which the registry does not have.
    assert "โทรศัพท์ครอบครัว" in body  # the blank "Family phone" column


def test_a_volunteer_plan_is_in_scope_of_the_district_coordinator(
    coordinator: User, volunteer: User, stranger: User
) -> None:
    record = volunteer.volunteer
    record.phone = "0812345678"
    record.save()
    assert record.village is not None
    x, y = record.home.coords
    household = make(
        HouseholdFactory,
        subdistrict=record.village.subdistrict,
        point=Point(x + STEP, y, srid=4326),
    )
    make(CaseFactory, child=make(ChildFactory, household=household))
    make(ZoneAssignmentFactory, household=household, volunteer=record)
    plan = route_plan_create(
        volunteer=record,
        day=DAY,
        mode=TravelMode.WALK,
        starts=dt.time(8, 0),
        ends=dt.time(12, 0),
        by=None,
        seconds=0.1,
    )
    sheet = _client(coordinator).get(reverse("field-route-print", args=[plan.pk]))
    assert sheet.status_code == 200
    assert "0812345678" in sheet.content.decode()
    assert household.address in sheet.content.decode()
    assert _client(stranger).get(reverse("field-route", args=[plan.pk])).status_code == 404
    page = _client(coordinator).get(reverse("field-routes"))
    assert f'value="v{record.pk}"' in page.content.decode()
