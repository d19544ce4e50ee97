"""The audit log's page: a coordinator reads their area's events and no other's,
administrators all of them, field roles and officials nothing; filters, pages,
and a number of queries that does not grow with the log."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from factories import DistrictFactory, ProfileFactory, ProvinceFactory, UserFactory, make

from field.models import AuditAction, AuditEvent, AuditObject, Role
from field.services.audit import AuditItem, audit_record, audit_records
from geo.models import District, Province

pytestmark = pytest.mark.django_db
Districts = tuple[District, District]


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def administrator(db: None) -> User:
    user = make(UserFactory, username="admin")
    make(ProfileFactory, user=user, role=Role.ADMINISTRATOR)
    return user


@pytest.fixture
def stranger(db: None) -> User:
    """A coordinator of another province."""
    province = make(ProvinceFactory)
    make(DistrictFactory, province=province)
    user = make(UserFactory, username="stranger")
    make(ProfileFactory, user=user, role=Role.COORDINATOR, province=province)
    return user


def _record(
    user: User | None, tambon: str, action: AuditAction = AuditAction.VIEW, obj_id: int = 1
) -> AuditEvent:
    return audit_record(
        user=user, action=action, obj_kind=AuditObject.CASE, obj_id=obj_id, tambon=tambon
    )


def _shown(client: Client, **query: str) -> list[AuditEvent]:
    response = client.get(reverse("field-audit"), query)
    assert response.status_code == 200
    return list(response.context["page"])


def test_a_coordinator_reads_the_events_of_their_area(
    coordinator: User, member_a: User, persona_districts: Districts
) -> None:
    tambon = f"{persona_districts[0].code}01"
    mine = _record(member_a, tambon)
    _record(member_a, "990101")
    _record(None, "")
    response = _client(coordinator).get(reverse("field-audit"))
    assert list(response.context["page"]) == [mine]
    html = response.content.decode()
    assert "member_a" in html and tambon in html


def test_a_coordinator_of_another_area_sees_none_of_them(
    stranger: User, member_a: User, persona_districts: Districts, persona_province: Province
) -> None:
    _record(member_a, f"{persona_districts[0].code}01")
    _record(member_a, persona_province.code, AuditAction.EXPORT)
    assert _shown(_client(stranger)) == []


def test_a_coordinator_narrowed_to_a_district_sees_that_district_only(
    member_a: User, persona_districts: Districts, persona_province: Province
) -> None:
    narrowed = make(UserFactory, username="narrowed")
    make(
        ProfileFactory,
        user=narrowed,
        role=Role.COORDINATOR,
        province=persona_province,
        districts=[persona_districts[0]],
    )
    inside = _record(member_a, f"{persona_districts[0].code}01")
    _record(member_a, f"{persona_districts[1].code}01")
    # An export of the whole province holds the other district too.
    _record(member_a, persona_province.code, AuditAction.EXPORT)
    assert _shown(_client(narrowed)) == [inside]


def test_an_administrator_reads_every_event(administrator: User, member_a: User) -> None:
    events = [_record(member_a, "990101"), _record(None, "")]
    assert set(_shown(_client(administrator))) == set(events)


@pytest.mark.parametrize("persona", ["member_a", "volunteer", "official"])
def test_field_roles_and_officials_are_refused(
    persona: str, request: pytest.FixtureRequest
) -> None:
    user = request.getfixturevalue(persona)
    assert _client(user).get(reverse("field-audit")).status_code == 403


def test_anonymous_is_sent_to_log_in(db: None) -> None:
    response = Client().get(reverse("field-audit"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_filters_by_days_user_and_action(
    coordinator: User, member_a: User, member_b: User, persona_districts: Districts
) -> None:
    tambon = f"{persona_districts[0].code}01"
    viewed = _record(member_a, tambon)
    edited = _record(member_b, tambon, AuditAction.EDIT)
    client = _client(coordinator)
    assert _shown(client, user="MEMBER_A") == [viewed]
    assert _shown(client, action="edit") == [edited]
    today = timezone.localdate()
    assert set(_shown(client, since=str(today), until=str(today))) == {viewed, edited}
    tomorrow = today + dt.timedelta(days=1)
    assert _shown(client, since=str(tomorrow)) == []
    assert _shown(client, until=str(today - dt.timedelta(days=1))) == []


def test_the_page_is_linked_from_the_coordinators_navigation(coordinator: User) -> None:
    html = _client(coordinator).get(reverse("field-reviews")).content.decode()
    assert reverse("field-audit") in html


def _many(user: User, tambon: str, n: int) -> None:
    audit_records(
        user=user,
        items=[
            AuditItem(action=AuditAction.VIEW, obj_kind=AuditObject.CASE, obj_id=i, tambon=tambon)
            for i in range(n)
        ],
    )


def test_the_page_costs_the_same_queries_for_a_few_events_or_many(
    coordinator: User,
    member_a: User,
    persona_districts: Districts,
    django_assert_num_queries: Any,
) -> None:
    tambon = f"{persona_districts[0].code}01"
    client = _client(coordinator)
    _many(member_a, tambon, 3)
    # Session, user, the scope, the count and the page.
    with django_assert_num_queries(5):
        client.get(reverse("field-audit"), {"action": "view"})
    _many(member_a, tambon, 250)
    with django_assert_num_queries(5):
        response = client.get(reverse("field-audit"), {"action": "view", "page": "2"})
    assert len(response.context["page"]) == 100
    assert "action=view&amp;page=3" in response.content.decode()
