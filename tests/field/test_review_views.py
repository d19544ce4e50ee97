"""The match review pages: who sees which review, what a coordinator is shown,
what deciding writes, and what the list costs in queries."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from factories import (
    ChildFactory,
    DistrictFactory,
    EnrolmentFactory,
    MatchReviewFactory,
    ProfileFactory,
    ProvinceFactory,
    SubdistrictFactory,
    UserFactory,
    make,
)

from field.models import Child, MatchMethod, MatchReview, ReviewStatus, Role
from geo.models import District, Subdistrict

Districts = tuple[District, District]
pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module", autouse=True)
def _thai_catalog() -> None:
    """Compiles the Thai catalog if it is missing or older than its source."""
    po = Path(settings.BASE_DIR) / "locale" / "th" / "LC_MESSAGES" / "django.po"
    mo = po.with_suffix(".mo")
    if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
        call_command("compilemessages", locale=["th"], ignore_patterns=[".venv", "node_modules"])


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def tambon(persona_districts: Districts) -> Subdistrict:
    return make(SubdistrictFactory, district=persona_districts[0], name_th="ตำบลบ้านเรา")


@pytest.fixture
def elsewhere() -> Subdistrict:
    """A tambon of another province."""
    return make(SubdistrictFactory, district=make(DistrictFactory, province=make(ProvinceFactory)))


def _child(tambon: Subdistrict, **fields: Any) -> Child:
    return make(ChildFactory, household__subdistrict=tambon, **fields)


def _review(*children: Child, **fields: Any) -> MatchReview:
    scores = (96.0, 91.5, 84.0)
    candidates = [{"child": c.pk, "score": s} for c, s in zip(children, scores, strict=False)]
    return make(MatchReviewFactory, candidates=candidates, **fields)


def _decide(client: Client, review: MatchReview, choice: str) -> Any:
    return client.post(reverse("field-review-decide", args=[review.pk]), {"child": choice})


def _other_coordinator(elsewhere: Subdistrict) -> User:
    user = make(UserFactory, username="coordinator_elsewhere")
    make(ProfileFactory, user=user, role=Role.COORDINATOR, province=elsewhere.district.province)
    return user


# --- who may open what --------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "status"),
    [("coordinator", 200), ("official", 403), ("member_a", 403), ("volunteer", 403)],
)
def test_the_list_by_role(
    persona: str, status: int, tambon: Subdistrict, request: pytest.FixtureRequest
) -> None:
    review = _review(_child(tambon), _child(tambon))
    client = _client(request.getfixturevalue(persona))
    assert client.get(reverse("field-reviews")).status_code == status
    decided = _decide(client, review, "none")
    assert decided.status_code == (302 if status == 200 else 403)


def test_anonymous_visitors_are_sent_to_log_in(client: Client, tambon: Subdistrict) -> None:
    review = _review(_child(tambon))
    for response in (client.get(reverse("field-reviews")), _decide(client, review, "none")):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    review.refresh_from_db()
    assert review.status == ReviewStatus.OPEN


def test_a_coordinator_of_another_province_cannot_see_or_decide(
    coordinator: User, tambon: Subdistrict, elsewhere: Subdistrict
) -> None:
    ours = _review(_child(tambon, first_name="ลูกบ้านเรา"), _child(tambon))
    theirs = _review(_child(elsewhere, first_name="ลูกบ้านเขา"), _child(elsewhere))
    client = _client(_other_coordinator(elsewhere))

    html = client.get(reverse("field-reviews")).content.decode()
    assert "ลูกบ้านเขา" in html and "ลูกบ้านเรา" not in html
    assert _decide(client, ours, "none").status_code == 404
    ours.refresh_from_db()
    assert ours.status == ReviewStatus.OPEN
    assert _decide(_client(coordinator), theirs, "none").status_code == 404


def test_a_candidate_outside_the_area_is_shown_without_a_name(
    coordinator: User, tambon: Subdistrict, elsewhere: Subdistrict
) -> None:
    outside = _child(elsewhere, first_name="ลูกบ้านเขา", national_id="1101700099991")
    review = _review(_child(tambon, first_name="ลูกบ้านเรา"), outside)
    client = _client(coordinator)

    html = client.get(reverse("field-reviews")).content.decode()
    assert "ลูกบ้านเรา" in html
    assert "ลูกบ้านเขา" not in html and "1101700099991" not in html
    assert "เด็กที่มีทะเบียนบ้านนอกพื้นที่ของคุณ" in html
    assert f'value="{outside.pk}"' not in html

    # Not from the page either: the child's id typed into the request.
    response = _decide(client, review, str(outside.pk))
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.status == ReviewStatus.OPEN
    page = client.get(response["Location"]).content.decode()
    assert "เด็กคนนี้ไม่อยู่ในรายชื่อที่อาจตรงกับแถวนี้" in page


# --- the list -----------------------------------------------------------------------


def test_the_list_shows_the_row_as_written_and_its_candidates(
    coordinator: User, tambon: Subdistrict
) -> None:
    first = _child(
        tambon,
        title="ด.ช.",
        first_name="สมชาย",
        last_name="ใจดี",
        national_id="1101700012345",
        household__house_no="45/2",
        household__moo=3,
    )
    second = _child(tambon, first_name="สมชัย", last_name="ใจดี")
    enrolment = make(
        EnrolmentFactory,
        first_name="สมชาย",
        last_name="ใจดีี",
        national_id="1101700012346",
        id_kind="invalid",
        school_name="โรงเรียนบ้านหนองบัว",
        school_code="1040100001",
        grade="ป.3",
    )
    _review(first, second, enrolment=enrolment)

    response = _client(coordinator).get(reverse("field-reviews"))
    html = response.content.decode()

    assert response.status_code == 200
    assert "ตรวจสอบการจับคู่" in html
    for text in ("สมชาย ใจดีี", "1101700012346", "โรงเรียนบ้านหนองบัว", "1040100001", "ป.3", "สพฐ."):
        assert text in html, text
    assert "ด.ช.สมชาย ใจดี" in html and "สมชัย ใจดี" in html
    assert "1101700012345" in html
    assert "45/2 หมู่ 3" in html and "ตำบลบ้านเรา" in html
    assert "96.0" in html and "91.5" in html
    assert html.count('name="child"') == 3  # two candidates and "none of them"
    assert "การตัดสินจะมีผลเมื่อตรวจสอบทะเบียนครั้งถัดไป" in html
    assert f'href="{reverse("field-funnel")}"' in html
    assert f'{reverse("field-reviews")}"' in html and "(1)" in html  # the nav's count


def test_the_list_is_newest_first_and_open_only(coordinator: User, tambon: Subdistrict) -> None:
    now = timezone.now()
    _review(_child(tambon), enrolment__first_name="แถวเก่า", created_at=now - timedelta(days=2))
    _review(_child(tambon), enrolment__first_name="แถวใหม่", created_at=now)
    decided = _review(_child(tambon), enrolment__first_name="แถวตัดสินแล้ว")
    client = _client(coordinator)
    _decide(client, decided, "none")
    client.get(reverse("field-reviews"))  # reads the decision's message

    html = client.get(reverse("field-reviews")).content.decode()
    assert html.index("แถวใหม่") < html.index("แถวเก่า")
    assert "แถวตัดสินแล้ว" not in html

    rejected = client.get(reverse("field-reviews"), {"status": "rejected"}).content.decode()
    assert "แถวตัดสินแล้ว" in rejected and "แถวใหม่" not in rejected
    assert 'name="child"' not in rejected  # decided rows have no buttons
    assert client.get(reverse("field-reviews"), {"status": "nope"}).status_code == 400


def test_the_nav_links_to_the_reviews_for_coordinators_only(
    coordinator: User, official: User
) -> None:
    link = f'href="{reverse("field-reviews")}"'
    assert link in _client(coordinator).get(reverse("field-funnel")).content.decode()
    assert link not in _client(official).get(reverse("field-funnel")).content.decode()


def _queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("field-reviews"))
    assert response.status_code == 200
    return len(captured)


# Session, user, scope, the count, the page of reviews, their candidates, and the
# header's profile.
def test_the_list_costs_the_same_queries_for_3_or_15_reviews(
    coordinator: User, tambon: Subdistrict, django_assert_max_num_queries: Any
) -> None:
    client = _client(coordinator)
    for _ in range(3):
        _review(_child(tambon), _child(tambon), _child(tambon))
    few = _queries(client)
    for _ in range(12):
        _review(_child(tambon), _child(tambon), _child(tambon))
    with django_assert_max_num_queries(7):
        many = _queries(client)
    assert few == many


# --- deciding -----------------------------------------------------------------------


def test_choosing_a_candidate_matches_the_row(coordinator: User, tambon: Subdistrict) -> None:
    first, second = _child(tambon), _child(tambon, first_name="คนที่ถูก", last_name="จริง")
    review = _review(first, second, enrolment__first_name="แถวนี้")
    client = _client(coordinator)

    response = _decide(client, review, str(second.pk))

    assert response.status_code == 302 and response["Location"] == reverse("field-reviews")
    review.refresh_from_db()
    enrolment = review.enrolment
    assert (review.status, review.decided_by) == (ReviewStatus.CONFIRMED, coordinator)
    assert (enrolment.child_id, enrolment.match_method) == (second.pk, MatchMethod.REVIEWED)
    assert enrolment.match_score == 91.5
    page = client.get(response["Location"]).content.decode()
    assert "บันทึกแล้ว: แถวนี้ ทดสอบ คือ คนที่ถูก จริง" in page


def test_none_of_them_rejects_the_candidates(coordinator: User, tambon: Subdistrict) -> None:
    review = _review(_child(tambon), _child(tambon))
    client = _client(coordinator)
    response = _decide(client, review, "none")
    review.refresh_from_db()
    assert review.status == ReviewStatus.REJECTED and review.decided_at is not None
    assert review.enrolment.child is None
    assert review.enrolment.match_method == MatchMethod.REVIEWED
    assert "ไม่ตรงกับเด็กคนใดในรายชื่อ" in client.get(response["Location"]).content.decode()


def test_deciding_twice_shows_an_error(coordinator: User, tambon: Subdistrict) -> None:
    first = _child(tambon)
    review = _review(first, _child(tambon))
    client = _client(coordinator)
    _decide(client, review, str(first.pk))
    client.get(reverse("field-reviews"))  # reads the first decision's message

    response = _decide(client, review, "none")

    assert response.status_code == 302
    review.refresh_from_db()
    assert review.status == ReviewStatus.CONFIRMED and review.enrolment.child_id == first.pk
    assert "แถวนี้ได้รับการตัดสินไปแล้ว" in client.get(response["Location"]).content.decode()


def test_a_child_not_among_the_candidates_is_refused(
    coordinator: User, tambon: Subdistrict
) -> None:
    review = _review(_child(tambon), _child(tambon))
    stranger = _child(tambon)
    client = _client(coordinator)

    response = _decide(client, review, str(stranger.pk))

    review.refresh_from_db()
    assert review.status == ReviewStatus.OPEN and review.enrolment.child is None
    assert "เด็กคนนี้ไม่อยู่ในรายชื่อที่อาจตรงกับแถวนี้" in client.get(response["Location"]).content.decode()
    assert _decide(client, review, "somebody").status_code == 400


def test_deciding_keeps_the_page_and_needs_the_csrf_token(
    coordinator: User, tambon: Subdistrict
) -> None:
    review = _review(_child(tambon))
    url = reverse("field-review-decide", args=[review.pk])
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(coordinator)
    assert strict.post(url, {"child": "none"}).status_code == 403
    review.refresh_from_db()
    assert review.status == ReviewStatus.OPEN

    response = _client(coordinator).post(url, {"child": "none", "page": "2"})
    assert response["Location"] == reverse("field-reviews") + "?page=2"
