"""Names from registry files and forms that hold HTML: on every map they show as
the characters typed, never as markup. A child named ``<img src=x id=pwn>`` must
not put an image (or its onerror) on a team member's tablet or a coordinator's
page: the tooltip's text holds the literal ``<img`` and no element ``#pwn`` exists.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import ZoneWorld
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

from browser.conftest import log_in
from field.models import Team, Volunteer
from field.services.teams import team_area_assign
from geo.models import District

pytestmark = [pytest.mark.browser]

IMG = "<img src=x id=pwn>"
BOLD = "<b>bold</b>"

Screenshot = Callable[[str], Path]


def _no_markup(page: Page) -> None:
    assert page.evaluate("() => document.getElementById('pwn')") is None
    assert page.locator(".leaflet-tooltip img, .leaflet-tooltip b").count() == 0


def _hover_tooltip(page: Page, target: Locator) -> str:
    """Hovers ``target``, and the text of the tooltip it opens."""
    page.mouse.move(0, 0)
    expect(page.locator(".leaflet-tooltip")).to_have_count(0)
    target.hover()
    tooltip = page.locator(".leaflet-tooltip")
    expect(tooltip).to_have_count(1)
    text: str = tooltip.evaluate("node => node.textContent")
    return text


def test_html_in_names_is_text_on_the_tablet(
    live_server: LiveServer,
    page: Page,
    screenshot: Screenshot,
    member_a: User,
    team_a: Team,
    persona_districts: tuple[District, District],
) -> None:
    tambon = make(SubdistrictFactory, district=persona_districts[0])
    cx, cy = tambon.geom.centroid.coords
    team_area_assign(team=team_a, subdistrict=tambon, by=None)
    village = make(
        VillageFactory, subdistrict=tambon, name=BOLD, point=Point(cx, cy - 0.003, srid=4326)
    )
    # Some 330 m apart: drawn one by one, not counted in a cluster.
    for dx, name in ((-0.003, IMG), (0.003, BOLD)):
        household = make(
            HouseholdFactory,
            subdistrict=tambon,
            village=village,
            point=Point(cx + dx, cy, srid=4326),
        )
        make(CaseFactory, child=make(ChildFactory, household=household, first_name=name))

    page.goto(f"{live_server.url}/accounts/login/?next=/my-area/")
    page.locator("input[name=username]").fill(member_a.get_username())
    page.locator("input[name=password]").fill(TEST_PASSWORD)
    page.get_by_role("button", name="เข้าสู่ระบบ").click()
    expect(page.locator("body[data-ready=true]")).to_have_count(1)
    markers = page.locator("#map path.household")
    expect(markers).to_have_count(2)

    texts = [_hover_tooltip(page, markers.nth(i)) for i in range(2)]
    assert any(IMG in t for t in texts), texts
    assert any(BOLD in t for t in texts), texts
    _no_markup(page)
    # The case list shows the same names as text.
    expect(page.locator(".case-row", has_text=IMG)).to_have_count(1)

    # The village: its name in the tooltip, as typed.
    village_marker = page.locator('#map path[stroke="#333"][fill="#fff"]')
    expect(village_marker).to_have_count(1)
    assert BOLD in _hover_tooltip(page, village_marker)
    _no_markup(page)
    markers.nth(0).hover()
    screenshot("tablet")
    _no_markup(page)


def test_html_in_names_is_text_on_the_zones_map(
    live_server: LiveServer,
    touch_page: Page,
    shot: Screenshot,
    coordinator: User,
    zone_world: ZoneWorld,
) -> None:
    page = touch_page
    world = zone_world
    Volunteer.objects.filter(pk=world.east.pk).update(name=IMG)
    Volunteer.objects.filter(pk=world.west.pk).update(name=BOLD)
    for household in world.east_homes:
        household.house_no = household.address = IMG
        household.save(update_fields=["house_no", "address"])

    log_in(page, live_server, coordinator.get_username(), f"/zones/{world.district.code}/")
    expect(page.locator("body[data-zones-ready=true]")).to_have_count(1)

    home = page.locator(f'#zone-map [data-home="{world.east.pk}"]')
    assert IMG in _hover_tooltip(page, home)
    _no_markup(page)
    west_home = page.locator(f'#zone-map [data-home="{world.west.pk}"]')
    assert BOLD in _hover_tooltip(page, west_home)
    _no_markup(page)
    house = page.locator(f'#zone-map path[data-household="{world.east_homes[0].pk}"]')
    assert IMG in _hover_tooltip(page, house)
    _no_markup(page)
    home.hover()
    shot("zones")
    _no_markup(page)
