"""A coordinator opens a school's home-visit campaign and sees it on the map: the
school, every household in its teacher's colour (hollow once visited), and the
chosen day's routes with numbered stops. Chromium at 1280×800 with touch."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.gis.geos import Point
from factories import HouseholdFactory, SchoolFactory, SubdistrictFactory, enrolled_child, make
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from browser.conftest import log_in
from field.models import Campaign, TravelMode
from field.services.campaigns import campaign_plan, campaign_visit_mark
from geo.models import District

pytestmark = [pytest.mark.browser]
YEAR = 2568
MONDAY = dt.date(2030, 6, 3)
# Around the school, about 100-600 m away in every direction.
OFFSETS = [
    (0.002, 0.001),
    (0.003, -0.002),
    (-0.002, -0.003),
    (-0.003, 0.002),
    (0.0, 0.004),
    (0.004, 0.003),
    (-0.004, -0.001),
    (0.001, -0.005),
    (-0.001, 0.005),
    (0.005, -0.001),
]


@pytest.fixture
def campaign(persona_districts: tuple[District, District]) -> Campaign:
    tambon = make(SubdistrictFactory, district=persona_districts[0])
    x, y = tambon.geom.centroid.coords
    school = make(
        SchoolFactory, name="โรงเรียนบ้านแผนที่", subdistrict=tambon, point=Point(x, y, srid=4326)
    )
    for i, (dx, dy) in enumerate(OFFSETS):
        household = make(
            HouseholdFactory,
            subdistrict=tambon,
            address=f"{20 + i} หมู่ 4 บ้านแผนที่",
            point=Point(x + dx, y + dy, srid=4326),
        )
        enrolled_child(school, household, YEAR)
    campaign = campaign_plan(
        school=school,
        academic_year=YEAR,
        first_day=MONDAY,
        last_day=MONDAY + dt.timedelta(days=1),
        teachers=["ครูแดง", "ครูเขียว"],
        mode=TravelMode.MOTORCYCLE,
        starts=dt.time(15, 30),
        ends=dt.time(18, 30),
        service_minutes=20,
        by=None,
    )
    first = campaign.visits.order_by("day", "teacher_id", "sequence").first()
    assert first is not None
    campaign_visit_mark(visit=first, at=dt.datetime(2030, 6, 3, 9, tzinfo=dt.UTC), by=None)
    return campaign


def test_the_campaign_map_draws_the_school_households_and_routes(
    live_server: LiveServer,
    touch_page: Page,
    shot: Callable[[str], Path],
    coordinator: User,
    campaign: Campaign,
    blocked_requests: list[str],
) -> None:
    page = touch_page
    visits = list(campaign.visits.order_by("day", "teacher_id", "sequence"))
    assert len(visits) == len(OFFSETS)
    days = sorted({v.day for v in visits})
    # The first day still has visits to make, so the map opens on it.
    first_day = [v for v in visits if v.day == days[0]]
    log_in(page, live_server, coordinator.get_username(), f"/campaigns/{campaign.pk}/")

    expect(page.get_by_role("heading", level=1)).to_contain_text("โรงเรียนบ้านแผนที่")
    expect(page.locator("#campaign-map path.campaign-school")).to_have_count(1)
    expect(page.locator("#campaign-map path.campaign-household")).to_have_count(len(visits))
    expect(page.locator("#campaign-map path.campaign-household.visited")).to_have_count(1)
    expect(page.locator("#campaign-map-day")).to_have_value(days[0].isoformat())
    expect(page.locator("#campaign-map .campaign-stop")).to_have_count(len(first_day))
    teachers = {v.teacher_id for v in first_day}
    expect(page.locator("#campaign-map path.campaign-path")).to_have_count(len(teachers))
    expect(page.locator("#campaign-map .route-number.visited")).to_have_count(1)
    # Each teacher's stops are numbered from 1 in route order.
    for index, teacher in enumerate(campaign.teachers.order_by("pk")):
        mine = [v for v in first_day if v.teacher_id == teacher.pk]
        for visit in mine:
            marker = page.locator(f'#campaign-map [data-stop="{index}-{visit.sequence}"]')
            expect(marker).to_have_text(str(visit.sequence))
    # The tooltip of a stop gives its teacher, arrival and address, as the list does.
    stop = first_day[-1]
    teacher_index = list(campaign.teachers.order_by("pk")).index(stop.teacher)
    page.locator(f'#campaign-map [data-stop="{teacher_index}-{stop.sequence}"]').hover()
    tip = page.locator(".leaflet-tooltip")
    expect(tip).to_contain_text(stop.teacher.name)
    expect(tip).to_contain_text(stop.arrives.strftime("%H:%M"))
    expect(tip).to_contain_text(stop.household.address)
    page.locator("#campaign-map").scroll_into_view_if_needed()
    shot("1-campaign-map")

    if len(days) > 1:
        page.locator("#campaign-map-day").select_option(days[1].isoformat())
        second = [v for v in visits if v.day == days[1]]
        expect(page.locator("#campaign-map .campaign-stop")).to_have_count(len(second))
    page.locator("#campaign-map-day").select_option("")
    expect(page.locator("#campaign-map .campaign-stop")).to_have_count(0)
    expect(page.locator("#campaign-map path.campaign-path")).to_have_count(0)
    expect(page.locator("#campaign-map path.campaign-household")).to_have_count(len(visits))

    # Opening a day in the list shows that day on the map.
    page.locator(f'details.campaign-day[data-day="{days[0].isoformat()}"] summary').tap()
    expect(page.locator("#campaign-map-day")).to_have_value(days[0].isoformat())
    expect(page.locator("#campaign-map .campaign-stop")).to_have_count(len(first_day))

    tile_host = urlsplit(settings.TILE_URL).hostname
    assert {urlsplit(url).hostname for url in blocked_requests} <= {tile_host}
