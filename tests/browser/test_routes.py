"""A coordinator plans team A's day and sees the numbered stops and the path on the
map, then opens the route sheet: Chromium at 1280×800 with touch."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import FieldWorld
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.gis.geos import Point
from factories import CaseFactory, ChildFactory, HouseholdFactory, make
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from browser.conftest import log_in
from field.models import RoutePlan, RouteStatus, Team

pytestmark = [pytest.mark.browser]


@pytest.fixture
def team_day(field_world: FieldWorld, team_a: Team, member_a: User) -> list[int]:
    """Team A's whole tambon with eight open cases spread around its base."""
    tambon = field_world.whole_a
    x, y = tambon.geom.centroid.coords
    team_a.base_point = Point(x, y, srid=4326)
    team_a.save()
    offsets = [(0.002, 0.001), (0.003, -0.002), (-0.002, -0.003), (-0.003, 0.002), (0.0, 0.003)]
    for i, (dx, dy) in enumerate(offsets):
        household = make(
            HouseholdFactory,
            subdistrict=tambon,
            address=f"{10 + i} หมู่ 3 บ้านเส้นทาง",
            point=Point(x + dx, y + dy, srid=4326),
        )
        make(CaseFactory, child=make(ChildFactory, household=household))
    return [c.pk for c in field_world.cases_a]


def test_a_coordinator_plans_team_a_and_sees_the_route(
    live_server: LiveServer,
    touch_page: Page,
    shot: Callable[[str], Path],
    coordinator: User,
    team_a: Team,
    team_day: list[int],
    blocked_requests: list[str],
) -> None:
    page = touch_page
    log_in(page, live_server, coordinator.get_username(), "/routes/")
    expect(page.locator("#plan-form")).to_be_visible()
    page.locator("#id_target").select_option(f"t{team_a.pk}")
    page.locator("#id_day").fill("2026-01-15")
    page.locator("#id_mode").select_option("motorcycle")
    page.locator("#id_starts").fill("08:00")
    page.locator("#id_ends").fill("16:00")
    shot("1-form")
    page.locator("#plan-button").tap()

    expect(page.get_by_role("heading", level=1)).to_contain_text(team_a.name)
    plan = RoutePlan.objects.get(team=team_a, status=RouteStatus.PLANNED)
    stops = plan.stops.count()
    assert stops == 8  # five new households and field_world's three
    expect(page.locator("#route-map .route-marker")).to_have_count(stops)
    expect(page.locator('#route-map path[data-route="A"]')).to_have_count(1)
    for n in range(1, stops + 1):
        expect(page.locator(f'#route-map [data-stop="{n}"]')).to_have_text(str(n))
    expect(page.locator(".stop-list li")).to_have_count(stops)
    expect(page.locator('[data-total="visits"]')).to_have_text(str(stops))
    first = plan.stops.get(sequence=1)
    expect(page.locator('.stop-list li[data-sequence="1"] .stop-time')).to_contain_text(
        first.arrives.strftime("%H:%M")
    )
    # The tooltip of stop 1 gives its arrival time and address.
    page.locator('#route-map [data-stop="1"]').hover()
    expect(page.locator(".leaflet-tooltip")).to_contain_text(first.arrives.strftime("%H:%M"))
    shot("2-plan-map")

    page.goto(f"{live_server.url}/routes/{plan.pk}/print/")
    frame = page.frame_locator("iframe.sheet-map")
    expect(frame.locator(".route-number")).to_have_count(stops)
    # The path and the base's circle.
    expect(frame.locator("path.leaflet-interactive")).to_have_count(2)
    expect(page.locator(".sheet-table tbody tr")).to_have_count(stops)
    shot("3-route-sheet")

    tile_host = urlsplit(settings.TILE_URL).hostname
    assert {urlsplit(url).hostname for url in blocked_requests} <= {tile_host}
