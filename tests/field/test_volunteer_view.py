"""A volunteer's view of their own zone: the tablet app's page and API scoped to the
households of the zone, visits judged by the zone they were recorded in, and
nothing outside it."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from conftest import FieldWorld
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.gis.geos import GEOSGeometry, Point
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from factories import (
    CaseFactory,
    ChildFactory,
    HouseholdFactory,
    ProfileFactory,
    SchoolFactory,
    UserFactory,
    VolunteerFactory,
    ZoneAssignmentFactory,
    make,
)

from field.models import (
    Case,
    CaseStatus,
    CloseReason,
    Household,
    Role,
    SearchOutcome,
    Visit,
    Volunteer,
    ZoneAssignment,
)
from field.selectors import home_for, user_area

pytestmark = pytest.mark.django_db


@dataclass
class Zones:
    """The volunteer's zone: the first two of team A's cases and a household with no
    case; another volunteer's zone: the third. Team B's cases and the unassigned
    ones lie in no zone."""

    own: Volunteer
    other: Volunteer
    cases: list[Case]
    others_cases: list[Case]
    outside: list[Case]
    quiet: Household
    """In the zone, with no open case."""


def _assign(household: Household, volunteer: Volunteer, **fields: Any) -> ZoneAssignment:
    return make(ZoneAssignmentFactory, household=household, volunteer=volunteer, **fields)


@pytest.fixture
def zones(field_world: FieldWorld, volunteer: User) -> Zones:
    own = Volunteer.objects.get(user=volunteer)
    other = make(VolunteerFactory, village=own.village)
    cases = field_world.cases_a[:2]
    for case in cases:
        _assign(case.child.household, own)
    _assign(field_world.cases_a[2].child.household, other)
    x, y = field_world.whole_a.geom.centroid.coords
    quiet = make(
        HouseholdFactory, subdistrict=field_world.whole_a, point=Point(x, y + 0.001, srid=4326)
    )
    _assign(quiet, own)
    # A closed case in a zone household is no work of the zone's.
    closed = make(CaseFactory, child=make(ChildFactory, household=cases[0].child.household))
    Case.objects.filter(pk=closed.pk).update(
        status=CaseStatus.CLOSED, closed_at=timezone.now(), close_reason=CloseReason.FOUND_ENROLLED
    )
    return Zones(
        own=own,
        other=other,
        cases=cases,
        others_cases=field_world.cases_a[2:],
        outside=field_world.cases_b + field_world.cases_unassigned,
        quiet=quiet,
    )


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _english_page(user: User) -> str:
    client = _client(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get(reverse("field-my-area"))
    assert response.status_code == 200
    return response.content.decode()


def _get(client: Client, name: str, *args: int) -> Any:
    response = client.get(reverse(name, args=args))
    assert response.status_code == 200, response.content
    return response.json()


def _visit(case: Case, at: dt.datetime | None = None) -> dict[str, Any]:
    return {
        "client_id": str(uuid.uuid4()),
        "case": case.pk,
        "at": (at or timezone.now()).isoformat(),
        "outcome": SearchOutcome.NOT_FOUND,
        "note": "nobody home",
    }


def _post(client: Client, visits: list[dict[str, Any]]) -> list[dict[str, Any]]:
    response = client.post(
        reverse("api-sync-visits"), json.dumps({"visits": visits}), content_type="application/json"
    )
    assert response.status_code == 200, response.content
    results: list[dict[str, Any]] = response.json()["results"]
    return results


def _ids(cases: list[Case]) -> list[int]:
    return sorted(case.pk for case in cases)


# --- who ------------------------------------------------------------------------------------


def test_a_volunteer_is_scoped_to_their_own_record_and_starts_in_their_zone(
    zones: Zones, volunteer: User
) -> None:
    scope = user_area(volunteer)
    assert scope.role == Role.VOLUNTEER and scope.volunteer == zones.own.pk
    assert scope.in_field and not scope.may_manage and not scope.teams
    assert home_for(volunteer) == "field-my-area"


def test_a_volunteer_login_with_no_volunteer_linked_is_refused(db: None) -> None:
    login = make(UserFactory, username="unlinked")
    make(ProfileFactory, user=login, role=Role.VOLUNTEER)
    with pytest.raises(PermissionDenied):
        user_area(login)
    client = _client(login)
    assert client.get(reverse("field-my-area")).status_code == 403
    for name in ("api-area", "api-sync", "api-cases"):
        assert client.get(reverse(name)).status_code == 403, name


# --- the page ---------------------------------------------------------------------------------


def test_the_page_says_my_zone_and_nothing_of_teams(zones: Zones, volunteer: User) -> None:
    body = _english_page(volunteer)
    assert '<html lang="en">' in body
    assert "<title>My zone" in body and "· My zone</h1>" in body
    assert 'id="zone-summary"' in body
    assert "My area" not in body and "team" not in body.lower()


def test_a_team_member_keeps_my_area(field_world: FieldWorld, member_a: User) -> None:
    body = _english_page(member_a)
    assert "· My area</h1>" in body and "My zone" not in body
    assert 'id="zone-summary"' not in body


# --- the API ----------------------------------------------------------------------------------


def test_the_sync_holds_exactly_the_open_cases_of_the_zone(zones: Zones, volunteer: User) -> None:
    body = _get(_client(volunteer), "api-sync")
    assert body["full"] is True
    assert body["case_ids"] == _ids(zones.cases)
    assert sorted(case["id"] for case in body["cases"]) == _ids(zones.cases)
    assert sorted(case["id"] for case in _get(_client(volunteer), "api-cases")) == _ids(zones.cases)


def test_the_other_volunteer_sees_only_their_own_zone(zones: Zones, volunteer: User) -> None:
    login = make(UserFactory, username="volunteer_2")
    make(ProfileFactory, user=login, role=Role.VOLUNTEER)
    Volunteer.objects.filter(pk=zones.other.pk).update(user=login)
    body = _get(_client(login), "api-sync")
    assert body["case_ids"] == _ids(zones.others_cases)


def test_a_case_outside_the_zone_is_404(zones: Zones, volunteer: User) -> None:
    client = _client(volunteer)
    assert _get(client, "api-case", zones.cases[0].pk)["id"] == zones.cases[0].pk
    for other in zones.others_cases + zones.outside:
        assert client.get(reverse("api-case", args=[other.pk])).status_code == 404, other.pk


def test_an_upload_for_a_zone_case_is_saved_with_no_team(zones: Zones, volunteer: User) -> None:
    client = _client(volunteer)
    own, others = zones.cases[0], [zones.others_cases[0], zones.outside[0]]
    results = _post(client, [_visit(own), *(_visit(case) for case in others)])
    assert [r["status"] for r in results] == ["saved", "refused", "refused"]
    assert {r["reason"] for r in results[1:]} == {"this case is not in your area"}
    visit = Visit.objects.get(case=own)
    assert visit.by_id == volunteer.pk and visit.team_id is None
    assert not Visit.objects.filter(case__in=others).exists()


def test_a_visit_recorded_before_the_household_moved_to_another_volunteer_still_uploads(
    zones: Zones, volunteer: User
) -> None:
    client = _client(volunteer)
    case = zones.cases[1]
    household = case.child.household
    recorded = timezone.now() - dt.timedelta(hours=2)
    moved_at = timezone.now() - dt.timedelta(hours=1)
    ZoneAssignment.objects.filter(household=household, ended_at__isnull=True).update(
        ended_at=moved_at
    )
    _assign(household, zones.other, started_at=moved_at)

    assert client.get(reverse("api-case", args=[case.pk])).status_code == 404
    assert case.pk not in _get(client, "api-sync")["case_ids"]
    before, after = _visit(case, at=recorded), _visit(case, at=moved_at + dt.timedelta(minutes=5))
    results = _post(client, [before, after])
    assert [r["status"] for r in results] == ["saved", "refused"]
    [visit] = Visit.objects.filter(case=case)
    assert str(visit.client_id) == before["client_id"] and visit.team_id is None


def test_the_area_gives_the_zone_its_shape_home_villages_and_schools(
    zones: Zones, volunteer: User, field_world: FieldWorld
) -> None:
    own_school = make(SchoolFactory, subdistrict=zones.own.village.subdistrict)  # type: ignore[union-attr]
    make(SchoolFactory, subdistrict=field_world.split_b)  # district B: not the volunteer's
    body = _get(_client(volunteer), "api-area")
    assert body["teams"] == []
    zone = body["zone"]
    assert zone["id"] == zones.own.pk and zone["name"] == zones.own.name
    assert zone["base"] == [round(zones.own.home.x, 5), round(zones.own.home.y, 5)]
    households = {row["id"]: row for row in zone["households"]}
    in_zone = [case.child.household for case in zones.cases] + [zones.quiet]
    assert set(households) == {house.pk for house in in_zone}

    [feature] = body["areas"]["features"]
    assert feature["properties"]["volunteer"] == zones.own.pk
    shape = GEOSGeometry(json.dumps(feature["geometry"]), srid=4326)
    assert shape.geom_type == "Polygon"
    for house in in_zone:
        assert house.point is not None
        assert shape.contains(house.point)
        # The margin keeps a house on the hull's edge well inside the shape.
        assert shape.boundary.distance(house.point) > 0.001
    outside = zones.outside[0].child.household.point
    assert outside is not None and not shape.contains(outside)
    # Widened by about 150 m, not a kilometre: 0.0025 degrees is some 275 m.
    x0, y0, x1, y1 = shape.extent
    points = [house.point for house in in_zone if house.point is not None]
    assert x0 > min(p.x for p in points) - 0.0025 and x1 < max(p.x for p in points) + 0.0025
    assert y0 > min(p.y for p in points) - 0.0025 and y1 < max(p.y for p in points) + 0.0025

    villages = {v["properties"]["code"] for v in body["villages"]["features"]}
    assert villages == set(field_world.whole_a.villages.values_list("code", flat=True))
    assert [school["code"] for school in body["schools"]] == [own_school.code]


def test_an_empty_zone_has_no_shape_and_no_cases(field_world: FieldWorld, volunteer: User) -> None:
    client = _client(volunteer)
    body = _get(client, "api-area")
    assert body["areas"]["features"] == [] and body["zone"]["households"] == []
    assert body["zone"]["base"] is not None
    assert _get(client, "api-sync")["case_ids"] == []


def test_the_sync_queries_do_not_grow_with_the_cases(
    zones: Zones, volunteer: User, field_world: FieldWorld, django_assert_max_num_queries: Any
) -> None:
    client = _client(volunteer)
    _post(client, [_visit(case) for case in zones.cases])

    def counted() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as queries:
            body = _get(client, "api-sync")
        return len(queries), len(body["cases"])

    small, n = counted()
    assert n == len(zones.cases)
    x, y = field_world.whole_a.geom.centroid.coords
    more = []
    for i in range(25):
        point = Point(x + 0.0001 * (i % 5), y - 0.0001 * (i // 5), srid=4326)
        house = make(HouseholdFactory, subdistrict=field_world.whole_a, point=point)
        _assign(house, zones.own)
        more.append(make(CaseFactory, child=make(ChildFactory, household=house)))
    _post(client, [_visit(case) for case in more[:10]])
    large, n = counted()
    assert n == len(zones.cases) + 25
    assert large == small
    with django_assert_max_num_queries(10):
        _get(client, "api-sync")
    with django_assert_max_num_queries(10):
        _get(client, "api-area")
