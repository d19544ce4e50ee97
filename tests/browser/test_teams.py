"""A coordinator gives search team A the east cluster, then sees team B refused
the same cluster: Chromium at 1280×800 with touch."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import FieldWorld
from django.conf import settings
from django.contrib.auth.models import User
from factories import TEST_PASSWORD
from playwright.sync_api import Browser, Page, Route, expect
from pytest_django.live_server_helper import LiveServer

from browser.conftest import SCREENSHOTS, TABLET, BlockedRequests
from field.models import Team, TeamArea
from geo.models import District

pytestmark = [pytest.mark.browser]


@pytest.fixture
def touch_page(
    browser: Browser, live_server: LiveServer, blocked_requests: BlockedRequests
) -> Iterator[Page]:
    """The shared tablet page, with a touch screen: taps, not clicks, and Leaflet's
    touch controls."""
    context = browser.new_context(
        viewport=TABLET, locale="th-TH", timezone_id="Asia/Bangkok", has_touch=True
    )
    context.set_default_timeout(15_000)

    def only_the_live_server(route: Route) -> None:
        if route.request.url.startswith(live_server.url):
            route.continue_()
        else:
            blocked_requests.append(route.request.url)
            route.abort()

    context.route("**/*", only_the_live_server)
    yield context.new_page()
    context.close()


@pytest.fixture
def shot(touch_page: Page) -> Callable[[str], Path]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> Path:
        path = SCREENSHOTS / f"test_teams-{name}.png"
        touch_page.screenshot(path=str(path), full_page=True)
        return path

    return take


def test_a_coordinator_assigns_a_cluster_and_is_refused_a_second_holder(
    live_server: LiveServer,
    touch_page: Page,
    shot: Callable[[str], Path],
    coordinator: User,
    field_world: FieldWorld,
    persona_districts: tuple[District, District],
    team_a: Team,
    team_b: Team,
    blocked_requests: list[str],
) -> None:
    page = touch_page
    # Team A works the east of split_b too: both teams are district B's here.
    for team in (team_a, team_b):
        team.district = persona_districts[1]
        team.save()
    east = field_world.east

    page.goto(f"{live_server.url}/accounts/login/?next=/teams/{team_a.pk}/")
    page.locator("input[name=username]").fill(coordinator.get_username())
    page.locator("input[name=password]").fill(TEST_PASSWORD)
    page.get_by_role("button", name="เข้าสู่ระบบ").tap()

    expect(page.get_by_role("heading", level=1)).to_have_text(team_a.name)
    expect(page.locator("#team-map .leaflet-interactive")).to_have_count(2)
    row = page.locator(f'tr[data-place="c{east.pk}"]')
    expect(row.locator(".holder")).to_have_text("")
    shot("1-team-a")

    row.locator('button[name="assign"]').tap()

    expect(page.locator(".messages[role=status]")).to_be_visible()
    expect(row.locator(".holder")).to_have_text(team_a.name)
    expect(row).to_have_class("cluster mine")
    shot("2-east-assigned")
    assert TeamArea.objects.get(cluster=east, ended_at__isnull=True).team == team_a

    # The list offers team B only "End" for a place another team holds; the map
    # offers to assign it anyway, and the server says who holds it.
    page.goto(f"{live_server.url}/teams/{team_b.pk}/")
    page.locator(f'#team-map path[data-place="c{east.pk}"]').tap()
    popup = page.locator(".leaflet-popup .map-popup")
    expect(popup).to_contain_text(team_a.name)
    shot("3-map-popup")
    popup.get_by_role("button").tap()

    refusal = page.locator(".messages[role=alert]")
    expect(refusal).to_contain_text(team_a.name)
    expect(page.locator(f'tr[data-place="c{east.pk}"] .holder')).to_have_text(team_a.name)
    shot("4-team-b-refused")
    assert TeamArea.objects.filter(cluster=east, ended_at__isnull=True).count() == 1

    tile_host = urlsplit(settings.TILE_URL).hostname
    assert {urlsplit(url).hostname for url in blocked_requests} <= {tile_host}
