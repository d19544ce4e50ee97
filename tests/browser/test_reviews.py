"""A coordinator works through the match reviews: twins a letter apart and a
register row whose ID was mistyped, in Chromium at 1280×800."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from factories import (
    TEST_PASSWORD,
    ChildFactory,
    EnrolmentFactory,
    MatchReviewFactory,
    SubdistrictFactory,
    make,
)
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from field.models import MatchMethod, MatchReview, ReviewStatus
from geo.models import District

pytestmark = [pytest.mark.browser]

Screenshot = Callable[[str], Path]


def _log_in(page: Page, live_server: LiveServer, user: User, next_path: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/?next={next_path}")
    page.locator("input[name=username]").fill(user.get_username())
    page.locator("input[name=password]").fill(TEST_PASSWORD)
    page.get_by_role("button", name="เข้าสู่ระบบ").click()


def _reviews(district: District) -> tuple[MatchReview, MatchReview]:
    tambon = make(SubdistrictFactory, district=district, name_th="บ้านเป็ด")
    born = dt.date(2016, 3, 15)
    twins = [
        make(
            ChildFactory,
            title="ด.ญ.",
            first_name=first,
            last_name="ศรีสุข",
            national_id=national_id,
            birth_date=born,
            household__subdistrict=tambon,
            household__house_no="12",
            household__moo=4,
        )
        for first, national_id in (("กานดา", "1409900112233"), ("กานต์ดา", "1409900112241"))
    ]
    twins_row = make(
        EnrolmentFactory,
        first_name="ด.ญ.กานดา",
        last_name="ศรีสุข",
        birth_date=born,
        school_name="โรงเรียนบ้านหนองเป็ด",
        school_code="1040050123",
        grade="ป.3",
    )
    first = make(
        MatchReviewFactory,
        enrolment=twins_row,
        candidates=[{"child": twins[0].pk, "score": 100.0}, {"child": twins[1].pk, "score": 94.0}],
    )
    loose = make(
        ChildFactory,
        title="ด.ช.",
        first_name="ธนพล",
        last_name="ใจดี",
        national_id="1409900334455",
        birth_date=dt.date(2014, 8, 2),
        household__subdistrict=tambon,
        household__house_no="45/2",
        household__moo=7,
    )
    mistyped = make(
        EnrolmentFactory,
        first_name="ด.ช.ธนพน",
        last_name="ใจดี",
        national_id="1409900334465",
        id_kind="invalid",
        birth_date=dt.date(2014, 2, 8),
        school_name="โรงเรียนชุมชนบ้านเป็ด",
        school_code="1040050456",
        grade="ป.5",
    )
    second = make(
        MatchReviewFactory, enrolment=mistyped, candidates=[{"child": loose.pk, "score": 83.5}]
    )
    return first, second


def test_a_coordinator_decides_a_match_review(
    live_server: LiveServer,
    page: Page,
    coordinator: User,
    persona_districts: tuple[District, District],
    screenshot: Screenshot,
    blocked_requests: list[str],
) -> None:
    twins, mistyped = _reviews(persona_districts[0])

    _log_in(page, live_server, coordinator, "/reviews/")
    expect(page.get_by_role("heading", level=1)).to_have_text("ตรวจสอบการจับคู่")
    expect(page.locator("section.review")).to_have_count(2)
    expect(page.locator(".page-nav [aria-current=page]")).to_have_text("ตรวจสอบการจับคู่ (2)")
    screenshot("1-list")

    row = page.locator(f"#review-{mistyped.pk}")
    expect(row).to_contain_text("1409900334465")
    row.get_by_role("button", name="คนนี้").click()

    expect(page.locator(".messages")).to_contain_text("บันทึกแล้ว: ด.ช.ธนพน ใจดี คือ ธนพล ใจดี")
    expect(page.locator("section.review")).to_have_count(1)
    # The twins stay for a person to tell apart.
    expect(page.locator(f"#review-{twins.pk}").get_by_role("button", name="คนนี้")).to_have_count(2)
    screenshot("2-decided")
    mistyped.refresh_from_db()
    assert mistyped.status == ReviewStatus.CONFIRMED
    assert mistyped.enrolment.match_method == MatchMethod.REVIEWED
    assert blocked_requests == []
