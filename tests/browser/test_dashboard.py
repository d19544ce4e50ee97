"""The officials' dashboard in Chromium at 1280×800, on Khon Kaen's real
boundaries: an official opens it, sees the funnel, the weekly chart drawn, the
tambon tables and the reasons; changes the kind and the year; and prints it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from factories import (
    TEST_ACADEMIC_YEAR,
    CaseFactory,
    ChildFactory,
    HouseholdFactory,
    ProfileFactory,
    UserFactory,
    make,
)
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from browser.conftest import SCREENSHOTS, log_in
from field.models import (
    AREA_STAT_COUNTS,
    AreaStat,
    CaseKind,
    Resolution,
    Role,
    SearchOutcome,
    StatLevel,
    Visit,
)
from geo.models import Province, Subdistrict

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("khon_kaen_boundaries")]

BANGKOK = ZoneInfo("Asia/Bangkok")
YEARS = (TEST_ACADEMIC_YEAR, TEST_ACADEMIC_YEAR - 1)


def _tambon_counts(code: str, year: int) -> dict[str, int]:
    """Made-up but varied counts per tambon; a few small ones to withhold."""
    n = int(code) + year
    dropped, never = 3 + n % 17, (n * 7) % 23
    enrolled = 400 + (n * 13) % 600
    open_cases = dropped + never
    return {
        "children_in_window": enrolled + dropped + never,
        "enrolled": enrolled,
        "dropped_out": dropped,
        "never_enrolled": never,
        "cases_open": open_cases,
        "cases_visited": open_cases // 3,
        "cases_found": open_cases // 4,
        "cases_brought_back": n % 9,
    }


def _made_up_stats() -> None:
    now = timezone.now()
    rows: dict[tuple[int, str, str], dict[str, int]] = {}
    codes = Subdistrict.objects.filter(code__startswith="40").values_list("code", flat=True)
    for year in YEARS:
        for code in codes:
            counts = _tambon_counts(code, year)
            for level, key in (
                (StatLevel.TAMBON, code),
                (StatLevel.DISTRICT, code[:4]),
                (StatLevel.PROVINCE, code[:2]),
                (StatLevel.COUNTRY, "TH"),
            ):
                total = rows.setdefault(
                    (year, level.value, key), dict.fromkeys(AREA_STAT_COUNTS, 0)
                )
                for name in AREA_STAT_COUNTS:
                    total[name] += counts.get(name, 0)
    AreaStat.objects.bulk_create(
        AreaStat(academic_year=year, level=level, code=code, refreshed_at=now, **counts)
        for (year, level, code), counts in rows.items()
    )


def _cases_and_visits() -> None:
    """Cases in two tambons of Mueang Khon Kaen, opened over six weeks and visited
    a few at a time, so that the weekly chart has a shape (and a withheld week)."""
    by = make(UserFactory)
    tambons = list(Subdistrict.objects.filter(code__startswith="4001").order_by("code")[:2])
    start = dt.datetime(2025, 6, 2, 9, 0, tzinfo=BANGKOK)
    for week in range(6):
        for i in range(6 + week * 2):
            tambon = tambons[i % 2]
            household = make(HouseholdFactory, subdistrict=tambon)
            kind = CaseKind.DROPPED_OUT if i % 3 else CaseKind.NEVER_ENROLLED
            at = start + dt.timedelta(weeks=week, days=i % 5)
            case = make(
                CaseFactory, child=make(ChildFactory, household=household), kind=kind, opened_at=at
            )
            visits = 1 if week == 5 and i > 1 else 2
            for v in range(visits):
                found = v == 1
                Visit.objects.create(
                    case=case,
                    by=by,
                    at=at + dt.timedelta(weeks=1 + v),
                    outcome=SearchOutcome.FOUND_AT_ADDRESS if found else SearchOutcome.NOT_FOUND,
                    resolution=(
                        (Resolution.RETURNED_TO_SCHOOL if i % 2 else Resolution.NOT_RETURNING)
                        if found
                        else ""
                    ),
                )


@pytest.fixture
def khon_kaen_official(live_server: LiveServer) -> User:
    user = make(UserFactory, username="dash_official")
    make(ProfileFactory, user=user, role=Role.OFFICIAL, province=Province.objects.get(code="40"))
    _made_up_stats()
    _cases_and_visits()
    return user


def test_an_official_reads_the_dashboard_filters_it_and_prints_it(
    live_server: LiveServer,
    touch_page: Page,
    shot: Callable[[str], Path],
    khon_kaen_official: User,
    blocked_requests: list[str],
) -> None:
    page = touch_page
    log_in(page, live_server, khon_kaen_official.get_username(), "/dashboard/")
    expect(page.locator(".funnel-bar")).to_have_count(6)
    population = AreaStat.objects.get(
        academic_year=YEARS[0], level="province", code="40"
    ).children_in_window
    expect(page.locator('.bar-value[data-key="population"]')).to_have_text(f"{population:,}")
    expect(page.locator("#dashboard-chart")).to_have_attribute("data-drawn", "true")
    # Chart.js drew something: the canvas holds pixels that are not blank.
    painted = page.evaluate(
        """() => {
            const c = document.getElementById('dashboard-chart');
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0;
            for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
            return n;
        }"""
    )
    assert painted > 1000
    expect(page.locator("#table-most tbody tr")).to_have_count(10)
    expect(page.locator("#table-rate tbody tr")).to_have_count(10)
    expect(page.locator(".reasons-table tbody tr").first).to_be_visible()
    assert page.locator(".withheld").count() > 0
    expect(page.locator("#dashboard-affiliation")).to_have_value("")
    shot("1-province")

    page.locator("#dashboard-kind").select_option(CaseKind.NEVER_ENROLLED.value)
    page.wait_for_url("**kind=never_enrolled**")
    expect(page.locator("#dashboard-chart")).to_have_attribute("data-drawn", "true")
    expect(page.locator("#dashboard-kind")).to_have_value(CaseKind.NEVER_ENROLLED.value)
    shot("2-never-enrolled")

    page.locator("#dashboard-year").select_option(str(YEARS[1]))
    page.wait_for_url(f"**year={YEARS[1]}**")
    earlier = AreaStat.objects.get(
        academic_year=YEARS[1], level="province", code="40"
    ).children_in_window
    expect(page.locator('.bar-value[data-key="population"]')).to_have_text(f"{earlier:,}")
    expect(page.locator("#dashboard-kind")).to_have_value(CaseKind.NEVER_ENROLLED.value)
    shot("3-earlier-year")

    page.goto(f"{live_server.url}/dashboard/?area=4001&year={YEARS[0]}")
    expect(page.locator("h1")).to_contain_text("เมืองขอนแก่น")
    page.locator(".tambon-table tbody a").first.click()
    page.wait_for_url("**area=4001**")
    expect(page.locator("#dashboard-chart")).to_have_attribute("data-drawn", "true")
    shot("4-tambon")

    page.goto(f"{live_server.url}/dashboard/?area=40&year={YEARS[0]}")
    expect(page.locator("#dashboard-chart")).to_have_attribute("data-drawn", "true")
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
    expect(page.locator(".page-nav")).to_be_hidden()
    expect(page.locator("#dashboard-filters")).to_be_hidden()
    expect(page.locator(".weekly-table tbody tr").first).to_be_visible()
    shot("5-print")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.pdf(path=str(SCREENSHOTS / "test_dashboard-print.pdf"), format="A4")
    assert blocked_requests == []
