"""The tablet API for children who moved or were found twice: the new upload
fields, the case following the child to another team's tablets, and the
``whereabouts`` of the case object."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest
from conftest import FieldWorld
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from field.models import Case, CaseLink, Precision, SearchOutcome, TeamArea, Visit
from field.registry.ids import national_id_check_digit
from geo.boundaries import rebuild_subdistrict_cells

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(field_world: FieldWorld) -> FieldWorld:
    rebuild_subdistrict_cells([field_world.whole_a.code, field_world.split_b.code])
    TeamArea.objects.update(assigned_at=timezone.now() - dt.timedelta(days=30))
    return field_world


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _visit(case: Case, **fields: Any) -> dict[str, Any]:
    return {
        "client_id": str(uuid.uuid4()),
        "case": case.pk,
        "at": timezone.now().isoformat(),
        "outcome": SearchOutcome.MOVED_AWAY,
        "lon": None,
        "lat": None,
        "house_here": False,
        **fields,
    }


def _post(client: Client, visits: list[dict[str, Any]]) -> Any:
    return client.post(
        reverse("api-sync-visits"), json.dumps({"visits": visits}), content_type="application/json"
    )


def _sync(client: Client, **query: str) -> Any:
    response = client.get(reverse("api-sync"), query)
    assert response.status_code == 200
    return response.json()


def _west(world: FieldWorld) -> tuple[float, float]:
    x0, y0, x1, y1 = world.split_b.geom.extent
    return x0 + 0.0015, (y0 + y1) / 2 + 0.001


def test_a_child_moved_into_team_bs_area_goes_to_team_bs_tablets(
    world: FieldWorld, member_a: User, member_b: User
) -> None:
    Case.objects.update(updated_at=timezone.now() - dt.timedelta(days=1))
    a, b = _client(member_a), _client(member_b)
    cursor_a, cursor_b = _sync(a)["cursor"], _sync(b)["cursor"]
    case = world.cases_a[0]
    lon, lat = _west(world)
    [result] = _post(a, [_visit(case, moved_lon=lon, moved_lat=lat, detail="บ้านยาย")]).json()[
        "results"
    ]
    assert result["status"] == "saved"

    assert case.pk not in _sync(a, since=cursor_a)["case_ids"]
    assert a.get(reverse("api-case", args=[case.pk])).status_code == 404
    changed = _sync(b, since=cursor_b)
    assert case.pk in changed["case_ids"]
    [sent] = [one for one in changed["cases"] if one["id"] == case.pk]
    assert sent["whereabouts"] == {
        "address": "บ้านยาย",
        "subdistrict": world.split_b.code,
        "subdistrict_name": world.split_b.name_th,
        "lon": round(lon, 5),
        "lat": round(lat, 5),
        "precision": Precision.FIELD_GPS,
    }
    # The registry's household is still sent as the household; the visit history too.
    assert sent["household"]["subdistrict"] == world.whole_a.code
    assert [v["outcome"] for v in sent["visits"]] == ["moved_away"]
    assert [one["id"] for one in b.get(reverse("api-cases")).json()].count(case.pk) == 1
    detail = b.get(reverse("api-case", args=[case.pk])).json()
    assert detail["whereabouts"]["subdistrict"] == world.split_b.code
    assert Case.objects.filter(child=case.child).count() == 1


def test_a_case_not_moved_has_no_whereabouts(world: FieldWorld, member_a: User) -> None:
    cases = _sync(_client(member_a))["cases"]
    assert cases and all(one["whereabouts"] is None for one in cases)


def test_a_tambon_alone_places_the_new_home(
    world: FieldWorld, member_b: User, member_a: User
) -> None:
    case = world.cases_b[0]
    [result] = _post(
        _client(member_b),
        [_visit(case, outcome="found_elsewhere", moved_subdistrict=world.whole_a.code)],
    ).json()["results"]
    assert result["status"] == "saved"
    [sent] = [one for one in _sync(_client(member_a))["cases"] if one["id"] == case.pk]
    assert sent["whereabouts"]["precision"] == Precision.TAMBON
    assert sent["whereabouts"]["subdistrict"] == world.whole_a.code


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"moved_subdistrict": "12345"}, "moved_subdistrict"),
        ({"moved_subdistrict": "1234x6"}, "moved_subdistrict"),
        ({"moved_lon": "east"}, "moved_lon"),
        ({"found_id": "1" * 21}, "found_id"),
    ],
)
def test_malformed_new_fields_are_400_and_name_the_field(
    world: FieldWorld, member_a: User, fields: dict[str, Any], field: str
) -> None:
    response = _post(_client(member_a), [_visit(world.cases_a[0], **fields)])
    assert response.status_code == 400
    assert field in json.dumps(response.json())
    assert not Visit.objects.exists()


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"outcome": "not_found", "moved_subdistrict": "__tambon__"}, "moved away"),
        ({"moved_subdistrict": "999999"}, "unknown tambon"),
        ({"moved_lon": 200.0, "moved_lat": 5.0}, "longitude"),
    ],
)
def test_a_new_home_that_cannot_be_used_refuses_that_visit_only(
    world: FieldWorld, member_a: User, fields: dict[str, Any], reason: str
) -> None:
    fields = {k: world.whole_a.code if v == "__tambon__" else v for k, v in fields.items()}
    bad = _visit(world.cases_a[0], **fields)
    good = _visit(world.cases_a[1], outcome="not_found")
    results = _post(_client(member_a), [bad, good]).json()["results"]
    assert [r["status"] for r in results] == ["refused", "saved"]
    assert reason in results[0]["reason"]


def test_an_id_read_on_the_documents_links_two_cases(world: FieldWorld, member_b: User) -> None:
    other = world.cases_a[0]
    first12 = "110170012345"
    found = first12 + str(national_id_check_digit(first12))
    child = other.child
    child.key = child.national_id = found
    child.id_kind = "thai_id"
    child.save()
    typed = f" {found[:1]}-{found[1:]} "
    visit = _visit(world.cases_b[0], outcome="found_elsewhere", found_id=typed)
    client = _client(member_b)
    assert _post(client, [visit]).json()["results"][0]["status"] == "saved"
    assert _post(client, [{**visit, "client_id": str(uuid.uuid4())}]).status_code == 200
    [link] = CaseLink.objects.all()
    assert {link.case_id, link.other_id} == {other.pk, world.cases_b[0].pk}


def _queries(client: Client) -> tuple[int, Any]:
    with CaptureQueriesContext(connection) as queries:
        body = _sync(client)
    return len(queries), body


def test_sync_queries_do_not_grow_with_moved_cases(
    world: FieldWorld, member_a: User, member_b: User
) -> None:
    b = _client(member_b)
    lon, lat = _west(world)
    a = _client(member_a)
    assert _post(a, [_visit(world.cases_a[0], moved_lon=lon, moved_lat=lat)]).status_code == 200
    few, body = _queries(b)
    assert sum(one["whereabouts"] is not None for one in body["cases"]) == 1
    for i, case in enumerate(world.cases_a[1:]):
        moved = _visit(case, moved_lon=lon + 0.0002 * (i + 1), moved_lat=lat)
        assert _post(a, [moved]).status_code == 200
    many, body = _queries(b)
    assert sum(one["whereabouts"] is not None for one in body["cases"]) == len(world.cases_a)
    assert many == few
