"""A coordinator opens a tambon's cluster page from a team's page, asks for a
proposal by open cases, saves it and sees the clusters on the map: Chromium at
1280×800 with touch."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import _open_cases
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.gis.geos import Point
from factories import TEST_PASSWORD, SubdistrictFactory, VillageFactory, make
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from field.models import Team
from geo.models import District, Subdistrict, Village, VillageCluster

pytestmark = [pytest.mark.browser]

# Open cases of the six villages, west to east then south to north.
OPEN = (4, 7, 2, 0, 9, 5)


@pytest.fixture
def tambon(persona_districts: tuple[District, District], team_a: Team) -> Subdistrict:
    """A tambon of team A's district: six villages on a 3 × 2 grid, ``OPEN`` cases
    in a row of houses by each."""
    tambon = make(SubdistrictFactory, district=persona_districts[0])
    x0, y0, x1, y1 = tambon.geom.extent
    for n, count in enumerate(OPEN):
        x = x0 + (n % 3 + 0.5) * (x1 - x0) / 3
        y = y0 + (n // 3 + 0.5) * (y1 - y0) / 2
        village = make(VillageFactory, subdistrict=tambon, point=Point(x, y, srid=4326))
        _open_cases(tambon, x - count * 0.0001, y + 0.0003, count, village)
    return tambon


def test_a_coordinator_saves_proposed_clusters_and_sees_them_on_the_map(
    live_server: LiveServer,
    touch_page: Page,
    shot: Callable[[str], Path],
    coordinator: User,
    tambon: Subdistrict,
    team_a: Team,
    blocked_requests: list[str],
) -> None:
    page = touch_page
    page.goto(f"{live_server.url}/accounts/login/?next=/teams/{team_a.pk}/")
    page.locator("input[name=username]").fill(coordinator.get_username())
    page.locator("input[name=password]").fill(TEST_PASSWORD)
    page.get_by_role("button", name="เข้าสู่ระบบ").tap()

    expect(page.get_by_role("heading", level=1)).to_have_text(team_a.name)
    page.locator(f'tr[data-place="t{tambon.code}"] a.clusters-link').tap()
    expect(page).to_have_url(f"{live_server.url}/teams/clusters/{tambon.code}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("กลุ่มบ้าน")
    expect(page.locator("#villages tbody tr")).to_have_count(6)
    expect(page.locator("#clusters-map path[data-village]")).to_have_count(6)
    expect(page.locator("#clusters-map path[data-cluster]")).to_have_count(0)
    shot("1-no-clusters")

    page.locator("#target").fill("10")
    page.get_by_role("button", name="เสนอการแบ่งกลุ่มบ้าน").tap()
    expect(page.locator("#proposal-note")).to_be_visible()
    inputs = page.locator("#villages input[type=text]")
    values = [inputs.nth(i).input_value() for i in range(6)]
    assert all(values)
    names = sorted(set(values))
    assert len(names) >= 2
    totals = page.locator("#cluster-totals [data-count=open]")
    assert sum(int(totals.nth(i).inner_text()) for i in range(totals.count())) == sum(OPEN)
    # Proposed, not saved: the villages are coloured, the map has no areas yet.
    assert not VillageCluster.objects.filter(subdistrict=tambon).exists()
    expect(page.locator("#clusters-map path[data-cluster]")).to_have_count(0)
    shot("2-proposal")

    page.locator("#save-clusters").tap()
    expect(page.locator(".messages[role=status]")).to_contain_text(f"{len(names)} กลุ่มบ้าน")
    expect(page.locator("#clusters-map path[data-cluster]")).to_have_count(len(names))
    expect(page.locator("#saved-clusters tbody tr")).to_have_count(len(names))
    saved = {
        c.name: c for c in VillageCluster.objects.filter(subdistrict=tambon, area__isnull=False)
    }
    assert sorted(saved) == names
    for village, name in zip(
        Village.objects.filter(subdistrict=tambon).order_by("code"), values, strict=True
    ):
        assert village.cluster_id == saved[name].pk
    shot("3-saved")

    # A tap on a cluster's area names it.
    page.locator(f'#clusters-map path[data-cluster="{names[0]}"]').first.tap()
    expect(page.locator(".leaflet-tooltip")).to_contain_text(names[0])
    shot("4-tap-cluster")

    tile_host = urlsplit(settings.TILE_URL).hostname
    assert {urlsplit(url).hostname for url in blocked_requests} <= {tile_host}
