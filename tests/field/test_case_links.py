"""Children found twice on the coordinators' team page: the link shown to the
coordinators of both cases, and "same child: keep this case"."""

from __future__ import annotations

import uuid

import pytest
from conftest import FieldWorld
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from factories import DistrictFactory, ProfileFactory, ProvinceFactory, UserFactory, make

from field.models import Case, CaseLink, CaseStatus, CloseReason, Role
from field.registry.ids import national_id_check_digit
from field.services.sync import UploadStatus, VisitUpload, visits_upload
from geo.models import District

pytestmark = pytest.mark.django_db


def _client(user: User, language: str = "en") -> Client:
    client = Client()
    # The site is Thai unless the language switch's cookie says otherwise.
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    client.force_login(user)
    return client


def _coordinator(username: str, province: object, districts: list[District]) -> User:
    user = make(UserFactory, username=username)
    make(ProfileFactory, user=user, role=Role.COORDINATOR, province=province, districts=districts)
    return user


@pytest.fixture
def coordinators(persona_districts: tuple[District, District]) -> tuple[User, User]:
    """The coordinator of district A only, and the one of district B only."""
    a, b = persona_districts
    return (
        _coordinator("coordinator_a", a.province, [a]),
        _coordinator("coordinator_b", b.province, [b]),
    )


@pytest.fixture
def stranger() -> User:
    """A coordinator of another province: sees neither case."""
    province = make(ProvinceFactory)
    return _coordinator("stranger", province, [make(DistrictFactory, province=province)])


@pytest.fixture
def link(field_world: FieldWorld, member_b: User) -> CaseLink:
    """Team B's member found their case's child holding the ID of team A's case's child."""
    first12 = "110170012345"
    found = first12 + str(national_id_check_digit(first12))
    child = field_world.cases_a[0].child
    child.key = child.national_id = found
    child.id_kind = "thai_id"
    child.save()
    [result] = visits_upload(
        user=member_b,
        visits=[
            VisitUpload(
                client_id=uuid.uuid4(),
                case=field_world.cases_b[0].pk,
                at=timezone.now(),
                outcome="found_elsewhere",
                found_id=found,
            )
        ],
    )
    assert result.status == UploadStatus.SAVED
    return CaseLink.objects.get()


def _shown(user: User) -> list[int]:
    response = _client(user).get(reverse("field-teams"))
    assert response.status_code == 200
    return [row.link.pk for row in response.context["overview"].links]


def test_both_coordinators_see_the_link_with_names_of_their_own_case_only(
    field_world: FieldWorld, link: CaseLink, coordinators: tuple[User, User], stranger: User
) -> None:
    coordinator_a, coordinator_b = coordinators
    assert _shown(coordinator_a) == [link.pk]
    assert _shown(coordinator_b) == [link.pk]
    assert _shown(stranger) == []
    case_a, case_b = field_world.cases_a[0], field_world.cases_b[0]
    html = _client(coordinator_a).get(reverse("field-teams")).content.decode()
    assert f'data-link="{link.pk}"' in html
    assert case_a.child.first_name in html and case_b.child.first_name not in html
    assert html.count('name="keep"') == 2
    html_b = _client(coordinator_b).get(reverse("field-teams")).content.decode()
    assert case_b.child.first_name in html_b and case_a.child.first_name not in html_b
    assert "Same child: keep this case" in html_b
    thai = _client(coordinator_b, "th").get(reverse("field-teams")).content.decode()
    assert "เด็กคนเดียวกัน: เก็บกรณีนี้ไว้" in thai and "เด็กที่พบซ้ำสองครั้ง" in thai


def test_keeping_a_case_closes_the_other_and_resolves_the_link(
    field_world: FieldWorld, link: CaseLink, coordinators: tuple[User, User]
) -> None:
    coordinator_b = coordinators[1]
    keep, drop = field_world.cases_b[0], field_world.cases_a[0]
    client = _client(coordinator_b)
    response = client.post(reverse("field-case-link", args=[link.pk]), {"keep": keep.pk})
    assert response.status_code == 302 and response["Location"] == reverse("field-teams")
    drop.refresh_from_db()
    keep.refresh_from_db()
    assert (drop.status, drop.close_reason) == (CaseStatus.CLOSED, CloseReason.DUPLICATE)
    assert keep.status == CaseStatus.OPEN
    link.refresh_from_db()
    assert (link.kept_id, link.resolved_by_id) == (keep.pk, coordinator_b.pk)
    assert _shown(coordinator_b) == [] and _shown(coordinators[0]) == []
    # A second decision changes nothing.
    again = client.post(reverse("field-case-link", args=[link.pk]), {"keep": drop.pk}, follow=True)
    assert "already resolved" in again.content.decode()
    keep.refresh_from_db()
    assert keep.status == CaseStatus.OPEN


def test_a_coordinator_who_sees_neither_case_is_refused(
    field_world: FieldWorld, link: CaseLink, stranger: User, official: User, member_a: User
) -> None:
    url = reverse("field-case-link", args=[link.pk])
    keep = {"keep": field_world.cases_a[0].pk}
    assert _client(stranger).post(url, keep).status_code == 404
    assert _client(official).post(url, keep).status_code == 403
    assert _client(member_a).post(url, keep).status_code == 403
    assert not Case.objects.filter(status=CaseStatus.CLOSED).exists()
    link.refresh_from_db()
    assert link.resolved_at is None


def test_keep_must_name_one_of_the_two_cases(
    field_world: FieldWorld, link: CaseLink, coordinators: tuple[User, User]
) -> None:
    client = _client(coordinators[0])
    url = reverse("field-case-link", args=[link.pk])
    for keep in ("", "x", str(field_world.cases_a[1].pk)):
        assert client.post(url, {"keep": keep}).status_code == 400
    assert client.get(url).status_code == 405
    assert not Case.objects.filter(status=CaseStatus.CLOSED).exists()


def test_a_link_moves_with_a_case_that_moved(
    field_world: FieldWorld, link: CaseLink, coordinators: tuple[User, User]
) -> None:
    """A case lies where its child lives now: once team A's case is found living
    in district B, district A's coordinator no longer sees the link."""
    case_a = field_world.cases_a[0]
    home = field_world.cases_b[1].child.household
    Case.objects.filter(pk=case_a.pk).update(whereabouts=home)
    assert _shown(coordinators[1]) == [link.pk]
    assert _shown(coordinators[0]) == []


def test_a_link_with_no_visit_recorded_still_shows(
    field_world: FieldWorld, link: CaseLink, coordinators: tuple[User, User]
) -> None:
    # The visit is optional on the model (a link made by a coordinator or an import).
    CaseLink.objects.filter(pk=link.pk).update(found_by=None)
    assert _shown(coordinators[0]) == [link.pk]
    html = _client(coordinators[0]).get(reverse("field-teams")).content.decode()
    assert "Found by" not in html
