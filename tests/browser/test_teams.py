"""A coordinator divides a tambon of three clusters between search teams A and B,
one cluster from the list and one from the map, then sees team B refused the
cluster team A holds: Chromium at 1280×800 with touch."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import FieldWorld
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.gis.geos import Point
from factories import (
    TEST_PASSWORD,
    CaseFactory,
    ChildFactory,
    HouseholdFactory,
    SubdistrictFactory,
    VillageFactory,
    make,
)
from playwright.sync_api import Locator, Page, expect
from pytest_django.live_server_helper import LiveServer

from field.models import Team, TeamArea
from geo.models import District, Subdistrict, VillageCluster
from geo.services import clusters_replace

pytestmark = [pytest.mark.browser]


@dataclass(frozen=True)
class SharedTambon:
    tambon: Subdistrict
    north: VillageCluster
    middle: VillageCluster
    south: VillageCluster


@pytest.fixture
def shared_tambon(
    field_world: FieldWorld,
    persona_districts: tuple[District, District],
    team_a: Team,
    team_b: Team,
) -> SharedTambon:
    """A tambon of district B cut into three clusters, one village and one open
    case each, with both teams made district B's so that either may be given any."""
    for team in (team_a, team_b):
        team.district = persona_districts[1]
        team.save()
    tambon = make(SubdistrictFactory, district=persona_districts[1])
    x0, y0, x1, y1 = tambon.geom.extent
    centre = (x0 + x1) / 2
    groups = {}
    # Bands from north to south: each village's Voronoi cell is a wide strip, easy
    # to tap on the map whatever its zoom.
    for name, y in (("เหนือ", y1 - 0.0015), ("กลาง", (y0 + y1) / 2), ("ใต้", y0 + 0.0015)):
        village = make(VillageFactory, subdistrict=tambon, point=Point(centre, y, srid=4326))
        household = make(
            HouseholdFactory,
            subdistrict=tambon,
            village=village,
            point=Point(centre + 0.001, y, srid=4326),
        )
        make(CaseFactory, child=make(ChildFactory, household=household))
        groups[name] = [village]
    north, middle, south = clusters_replace(subdistrict=tambon, groups=groups)
    return SharedTambon(tambon, north, middle, south)


def _holder(page: Page, cluster: VillageCluster) -> Locator:
    return page.locator(f'tr[data-place="c{cluster.pk}"] .holder')


def test_a_coordinator_gives_clusters_to_two_teams_and_is_refused_an_overlap(
    live_server: LiveServer,
    touch_page: Page,
    shot: Callable[[str], Path],
    coordinator: User,
    shared_tambon: SharedTambon,
    team_a: Team,
    team_b: Team,
    blocked_requests: list[str],
) -> None:
    page = touch_page
    north, middle, south = shared_tambon.north, shared_tambon.middle, shared_tambon.south

    page.goto(f"{live_server.url}/accounts/login/?next=/teams/{team_a.pk}/")
    page.locator("input[name=username]").fill(coordinator.get_username())
    page.locator("input[name=password]").fill(TEST_PASSWORD)
    page.get_by_role("button", name="เข้าสู่ระบบ").tap()

    expect(page.get_by_role("heading", level=1)).to_have_text(team_a.name)
    # split_b's two clusters and the shared tambon's three.
    expect(page.locator("#team-map .leaflet-interactive")).to_have_count(5)
    for cluster in (north, middle, south):
        expect(_holder(page, cluster)).to_have_text("")
    shot("1-team-a")

    # Team A's cluster from the list.
    page.locator(f'tr[data-place="c{north.pk}"] button[name="assign"]').tap()
    expect(page.locator(".messages[role=status]")).to_contain_text(north.name)
    expect(_holder(page, north)).to_have_text(team_a.name)
    expect(page.locator(f'tr[data-place="c{north.pk}"]')).to_have_class("cluster mine")
    shot("2-north-to-team-a")

    # Team B's from the map: the popup says the middle cluster is free.
    page.goto(f"{live_server.url}/teams/{team_b.pk}/")
    page.locator(f'#team-map path[data-place="c{middle.pk}"]').tap()
    popup = page.locator(".leaflet-popup .map-popup")
    expect(popup).to_contain_text(middle.name)
    expect(popup).not_to_contain_text(team_a.name)
    shot("3-map-popup-middle")
    popup.get_by_role("button").tap()

    expect(page.locator(".messages[role=status]")).to_contain_text(middle.name)
    expect(_holder(page, north)).to_have_text(team_a.name)
    expect(_holder(page, middle)).to_have_text(team_b.name)
    expect(_holder(page, south)).to_have_text("")
    expect(page.locator(f'tr[data-place="c{middle.pk}"]')).to_have_class("cluster mine")
    expect(page.locator(f'tr[data-place="c{north.pk}"]')).to_have_class("cluster")
    shot("4-middle-to-team-b")
    held = TeamArea.objects.filter(subdistrict=shared_tambon.tambon, ended_at__isnull=True)
    assert sorted(held.values_list("cluster_id", "team_id")) == sorted(
        [(north.pk, team_a.pk), (middle.pk, team_b.pk)]
    )

    # The list offers team B only "End" for team A's cluster; the map offers to
    # assign it anyway, and the server says who holds it.
    expect(page.locator(f'tr[data-place="c{north.pk}"] button[name="assign"]')).to_have_count(0)
    page.locator(f'#team-map path[data-place="c{north.pk}"]').tap()
    expect(popup).to_contain_text(team_a.name)
    shot("5-map-popup-north")
    popup.get_by_role("button").tap()

    refusal = page.locator(".messages[role=alert]")
    expect(refusal).to_contain_text(team_a.name)
    expect(_holder(page, north)).to_have_text(team_a.name)
    expect(_holder(page, middle)).to_have_text(team_b.name)
    shot("6-team-b-refused")
    assert sorted(held.values_list("cluster_id", "team_id")) == sorted(
        [(north.pk, team_a.pk), (middle.pk, team_b.pk)]
    )

    # The overview lists each cluster under its own team.
    page.goto(f"{live_server.url}/teams/")
    areas_a = page.locator(f'tr[data-team="{team_a.pk}"] td').nth(2)
    areas_b = page.locator(f'tr[data-team="{team_b.pk}"] td').nth(2)
    expect(areas_a).to_contain_text(north.name)
    expect(areas_a).not_to_contain_text(middle.name)
    expect(areas_b).to_contain_text(middle.name)
    expect(areas_b).not_to_contain_text(north.name)
    shot("7-overview")

    tile_host = urlsplit(settings.TILE_URL).hostname
    assert {urlsplit(url).hostname for url in blocked_requests} <= {tile_host}
