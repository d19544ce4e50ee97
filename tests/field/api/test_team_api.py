"""The tablet app's API: scope by team, sync cursors, visit uploads, the area,
other roles refused, and a number of queries that does not grow with the cases."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest
from conftest import FieldWorld
from django.contrib.auth.models import User
from django.contrib.gis.geos import Point
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from factories import CaseFactory, ChildFactory, HouseholdFactory, make

from field.api.serializers import MAX_VISITS_PER_UPLOAD
from field.models import Case, SearchOutcome, Visit, Volunteer
from field.registry.ids import IdentifierKind
from field.services.teams import team_area_end

pytestmark = pytest.mark.django_db


@pytest.fixture
def unlinked_volunteer(volunteer: User) -> User:
    """A volunteer login whose volunteer record is not linked to it (yet)."""
    Volunteer.objects.filter(user=volunteer).update(user=None)
    return User.objects.get(pk=volunteer.pk)


MEMBER_URLS = ("api-area", "api-sync", "api-cases")


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _get(client: Client, name: str, **query: str) -> Any:
    response = client.get(reverse(name), query)
    assert response.status_code == 200, response.content
    return response.json()


def _visit(case: Case, at: dt.datetime | None = None, **fields: Any) -> dict[str, Any]:
    return {
        "client_id": str(uuid.uuid4()),
        "case": case.pk,
        "at": (at or timezone.now()).isoformat(),
        "outcome": SearchOutcome.NOT_FOUND,
        "resolution": "",
        "school": None,
        "detail": "",
        "note": "nobody home",
        "lon": None,
        "lat": None,
        "accuracy_m": None,
        "house_here": False,
        **fields,
    }


def _post(client: Client, visits: list[dict[str, Any]]) -> Any:
    return client.post(
        reverse("api-sync-visits"), json.dumps({"visits": visits}), content_type="application/json"
    )


def _ids(cases: list[Case]) -> list[int]:
    return sorted(case.pk for case in cases)


def _backdate(world: FieldWorld) -> None:
    """As if the cases had been opened yesterday, before any sync of the test."""
    Case.objects.update(updated_at=timezone.now() - dt.timedelta(days=1))


# --- scope -----------------------------------------------------------------------------


def test_full_sync_holds_only_the_members_own_cases(
    field_world: FieldWorld, member_a: User, member_b: User
) -> None:
    for member, own in ((member_a, field_world.cases_a), (member_b, field_world.cases_b)):
        body = _get(_client(member), "api-sync")
        assert body["full"] is True
        assert body["case_ids"] == _ids(own)
        assert sorted(case["id"] for case in body["cases"]) == _ids(own)


def test_case_object_carries_child_household_and_visits(
    field_world: FieldWorld, member_b: User
) -> None:
    case = field_world.cases_b[0]
    child = case.child
    child.title, child.id_kind, child.national_id = "ด.ช.", IdentifierKind.G_CODE, "G12345678901"
    child.birth_date = dt.date(2015, 1, 1)
    child.save()
    client = _client(member_b)
    assert _post(client, [_visit(case)]).status_code == 200

    response = client.get(reverse("api-case", args=[case.pk]))
    body = response.json()
    assert body["id"] == case.pk and body["status"] == "open" and body["progress"] == "visited"
    assert body["child"]["name"] == f"ด.ช.{child.first_name} {child.last_name}"
    assert body["child"]["g_code"] == "G12345678901"
    assert body["child"]["national_id"] is None
    today = timezone.localdate()
    assert body["child"]["age"] == today.year - 2015 - ((today.month, today.day) < (1, 1))
    household = body["household"]
    assert household["subdistrict"] == field_world.split_b.code
    assert household["subdistrict_name"] == field_world.split_b.name_th
    assert household["village"] == case.child.household.village_id
    assert household["village_name"] == case.child.household.village.name  # type: ignore[union-attr]
    assert isinstance(household["lon"], float) and isinstance(household["lat"], float)
    [visit] = body["visits"]
    assert visit["by"] == "member_b" and visit["outcome"] == "not_found"
    assert visit["team"] is not None


def test_list_and_detail_are_scoped_and_guessed_ids_give_404(
    field_world: FieldWorld, member_a: User, member_b: User
) -> None:
    client = _client(member_a)
    listed = _get(client, "api-cases")
    assert sorted(case["id"] for case in listed) == _ids(field_world.cases_a)
    own = field_world.cases_a[0]
    assert client.get(reverse("api-case", args=[own.pk])).status_code == 200
    for other in field_world.cases_b + field_world.cases_unassigned:
        assert client.get(reverse("api-case", args=[other.pk])).status_code == 404
    assert client.get(reverse("api-case", args=[10**9])).status_code == 404
    listed_b = _get(_client(member_b), "api-cases")
    assert sorted(case["id"] for case in listed_b) == _ids(field_world.cases_b)


def test_area_gives_the_teams_areas_villages_and_choices(
    field_world: FieldWorld, member_a: User, member_b: User, team_b: Any
) -> None:
    with translation.override("th"):
        body = _get(_client(member_b), "api-area")
    assert [team["id"] for team in body["teams"]] == [team_b.pk]
    assert body["teams"][0]["base"] is None
    areas = body["areas"]
    assert areas["type"] == "FeatureCollection"
    [feature] = areas["features"]
    assert feature["properties"]["subdistrict"] == field_world.split_b.code
    assert feature["properties"]["cluster"] == field_world.west.pk
    assert feature["properties"]["cluster_name"] == field_world.west.name
    assert feature["geometry"]["type"] in ("Polygon", "MultiPolygon")
    flat = json.dumps(feature["geometry"]["coordinates"])
    assert all(
        len(n.split(".")[-1]) <= 5 for n in flat.replace("[", "").replace("]", "").split(",")
    )
    villages = body["villages"]["features"]
    assert {v["properties"]["code"] for v in villages} == set(
        field_world.split_b.villages.values_list("code", flat=True)
    )
    assert villages[0]["geometry"]["type"] == "Point"
    with translation.override("th"):
        assert {"value": "not_found", "label": str(SearchOutcome.NOT_FOUND.label)} in body[
            "outcomes"
        ]
    assert any(r["value"] == "returned_to_school" for r in body["resolutions"])

    body_a = _get(_client(member_a), "api-area")
    [feature_a] = body_a["areas"]["features"]
    assert feature_a["properties"]["subdistrict"] == field_world.whole_a.code
    assert feature_a["properties"]["cluster"] is None
    assert feature_a["geometry"] is not None


# --- uploads ------------------------------------------------------------------------------


def test_same_visit_twice_is_saved_then_duplicate(field_world: FieldWorld, member_a: User) -> None:
    client = _client(member_a)
    visit = _visit(field_world.cases_a[0])
    first = _post(client, [visit]).json()["results"]
    second = _post(client, [visit]).json()["results"]
    assert first[0]["status"] == "saved" and first[0]["client_id"] == visit["client_id"]
    assert second[0]["status"] == "duplicate" and second[0]["visit"] == first[0]["visit"]
    assert Visit.objects.filter(client_id=visit["client_id"]).count() == 1


def test_visit_for_another_teams_case_is_refused(field_world: FieldWorld, member_a: User) -> None:
    client = _client(member_a)
    others = [field_world.cases_b[0], field_world.cases_unassigned[0]]
    own = field_world.cases_a[0]
    results = _post(client, [_visit(case) for case in [*others, own]]).json()["results"]
    assert [r["status"] for r in results] == ["refused", "refused", "saved"]
    assert all(r["reason"] for r in results[:2])
    assert not Visit.objects.filter(case__in=others).exists()


def test_malformed_uploads_are_400_and_name_the_field(
    field_world: FieldWorld, member_a: User
) -> None:
    client = _client(member_a)
    url = reverse("api-sync-visits")
    bad_json = client.post(url, "{not json", content_type="application/json")
    assert bad_json.status_code == 400
    missing = _visit(field_world.cases_a[0])
    del missing["outcome"]
    response = _post(client, [missing])
    assert response.status_code == 400
    assert "outcome" in json.dumps(response.json())
    naive = _visit(field_world.cases_a[0], at=dt.datetime(2026, 1, 1, 9, 0))  # noqa: DTZ001
    response = _post(client, [naive])
    assert response.status_code == 400 and "at" in json.dumps(response.json())
    no_visits = client.post(url, "{}", content_type="application/json")
    assert no_visits.status_code == 400 and "visits" in no_visits.json()
    too_many = [_visit(field_world.cases_a[0])] * (MAX_VISITS_PER_UPLOAD + 1)
    assert _post(client, too_many).status_code == 400
    assert not Visit.objects.exists()


def test_upload_needs_the_csrf_token(field_world: FieldWorld, member_a: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(member_a)
    visit = _visit(field_world.cases_a[0])
    body = json.dumps({"visits": [visit]})
    url = reverse("api-sync-visits")
    refused = client.post(url, body, content_type="application/json")
    assert refused.status_code == 403
    client.get(reverse("api-sync"))  # any page of the site hands out the cookie
    token = client.cookies.get("csrftoken")
    if token is None:
        client.get(reverse("login"))
        token = client.cookies["csrftoken"]
    accepted = client.post(url, body, content_type="application/json", HTTP_X_CSRFTOKEN=token.value)
    assert accepted.status_code == 200
    assert accepted.json()["results"][0]["status"] == "saved"


# --- incremental sync --------------------------------------------------------------------


def test_incremental_sync_returns_only_cases_changed_after_the_cursor(
    field_world: FieldWorld, member_a: User
) -> None:
    _backdate(field_world)
    client = _client(member_a)
    first = _get(client, "api-sync")
    assert len(first["cases"]) == len(field_world.cases_a)
    unchanged = _get(client, "api-sync", since=first["cursor"])
    assert unchanged["full"] is False and unchanged["cases"] == []
    assert unchanged["case_ids"] == _ids(field_world.cases_a)

    changed = field_world.cases_a[1]
    assert _post(client, [_visit(changed)]).status_code == 200
    later = _get(client, "api-sync", since=first["cursor"])
    assert later["full"] is False
    assert [case["id"] for case in later["cases"]] == [changed.pk]
    assert later["cases"][0]["progress"] == "visited"
    assert len(later["cases"][0]["visits"]) == 1


@pytest.mark.parametrize("cursor", ["garbage", "2026-01-01T00:00:00", "2999-01-01T00:00:00+00:00"])
def test_an_unusable_cursor_gives_a_full_sync(
    field_world: FieldWorld, member_a: User, cursor: str
) -> None:
    body = _get(_client(member_a), "api-sync", since=cursor)
    assert body["full"] is True and len(body["cases"]) == len(field_world.cases_a)


def test_ended_area_drops_its_cases_but_earlier_visits_still_upload(
    field_world: FieldWorld, member_b: User
) -> None:
    client = _client(member_b)
    before = _get(client, "api-sync")
    case = field_world.cases_b[0]
    recorded = timezone.now()
    team_area_end(area=field_world.areas["b"], at=recorded + dt.timedelta(milliseconds=1))

    after = _get(client, "api-sync", since=before["cursor"])
    assert after["case_ids"] == []
    assert client.get(reverse("api-case", args=[case.pk])).status_code == 404
    [result] = _post(client, [_visit(case, at=recorded)]).json()["results"]
    assert result["status"] == "saved"
    # Within the clock skew allowed, but after the end: no longer the team's case.
    after_end = recorded + dt.timedelta(seconds=2)
    late = _post(client, [_visit(case, at=after_end)]).json()["results"]
    assert late[0]["status"] == "refused"


# --- other roles -----------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["coordinator", "official", "unlinked_volunteer"])
def test_other_roles_are_refused(
    field_world: FieldWorld, persona: str, request: pytest.FixtureRequest
) -> None:
    client = _client(request.getfixturevalue(persona))
    for name in MEMBER_URLS:
        assert client.get(reverse(name)).status_code == 403, name
    assert client.get(reverse("api-case", args=[field_world.cases_a[0].pk])).status_code == 403
    assert _post(client, [_visit(field_world.cases_a[0])]).status_code == 403
    assert not Visit.objects.exists()


def test_a_volunteer_with_no_zone_gets_nothing(field_world: FieldWorld, volunteer: User) -> None:
    """A volunteer is let in (their own zone: test_volunteer_view), but team A's
    cases, in no zone of theirs, stay out of reach."""
    client = _client(volunteer)
    assert _get(client, "api-sync")["case_ids"] == []
    assert _get(client, "api-area")["teams"] == []
    assert client.get(reverse("api-case", args=[field_world.cases_a[0].pk])).status_code == 404
    [result] = _post(client, [_visit(field_world.cases_a[0])]).json()["results"]
    assert (result["status"], result["reason"]) == ("refused", "this case is not in your area")
    assert not Visit.objects.exists()


def test_anonymous_is_refused(field_world: FieldWorld) -> None:
    client = Client()
    for name in MEMBER_URLS:
        assert client.get(reverse(name)).status_code in (401, 403), name
    assert client.get(reverse("api-case", args=[field_world.cases_a[0].pk])).status_code in (
        401,
        403,
    )
    assert _post(client, [_visit(field_world.cases_a[0])]).status_code in (401, 403)


# --- queries -------------------------------------------------------------------------------


def _more_cases(world: FieldWorld, n: int) -> None:
    x, y = world.whole_a.geom.centroid.coords
    for i in range(n):
        point = Point(x + 0.0001 * (i % 20), y - 0.0001 * (i // 20), srid=4326)
        household = make(HouseholdFactory, subdistrict=world.whole_a, point=point)
        make(CaseFactory, child=make(ChildFactory, household=household))


def _queries(client: Client, name: str, *args: int) -> tuple[int, Any]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse(name, args=args))
    assert response.status_code == 200
    return len(queries), response.json()


def test_queries_do_not_grow_with_the_cases(field_world: FieldWorld, member_a: User) -> None:
    client = _client(member_a)
    for case in field_world.cases_a:
        assert _post(client, [_visit(case)]).status_code == 200
    small = {name: _queries(client, name)[0] for name in ("api-sync", "api-cases")}
    _more_cases(field_world, 27)
    for case in Case.objects.filter(child__household__subdistrict=field_world.whole_a)[:10]:
        assert _post(client, [_visit(case)]).status_code == 200
    for name, count in small.items():
        queries, body = _queries(client, name)
        cases = body["cases"] if name == "api-sync" else body
        assert len(cases) == 30
        assert queries == count, name


def test_sync_query_budget(
    field_world: FieldWorld, member_a: User, django_assert_max_num_queries: Any
) -> None:
    client = _client(member_a)
    _more_cases(field_world, 27)
    with django_assert_max_num_queries(10):
        assert client.get(reverse("api-sync")).status_code == 200
    with django_assert_max_num_queries(10):
        assert client.get(reverse("api-area")).status_code == 200
    with django_assert_max_num_queries(10):
        assert client.get(reverse("api-case", args=[field_world.cases_a[0].pk])).status_code == 200


# --- schema -------------------------------------------------------------------------------


def test_schema_lists_the_endpoints(member_a: User) -> None:
    response = _client(member_a).get(reverse("api-schema"), {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    for path in (
        "/api/v1/area/",
        "/api/v1/sync/",
        "/api/v1/sync/visits/",
        "/api/v1/cases/",
        "/api/v1/cases/{id}/",
    ):
        assert path in schema["paths"], path


def test_a_sync_is_noted_for_the_coordinator_even_with_nothing_to_upload(
    field_world: FieldWorld, member_a: User
) -> None:
    before = timezone.now()
    _get(_client(member_a), "api-sync")
    member_a.profile.refresh_from_db()
    assert member_a.profile.last_sync_at is not None
    assert member_a.profile.last_sync_at >= before
