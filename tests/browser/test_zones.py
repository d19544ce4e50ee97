"""A coordinator draws volunteer zones on a tablet (Chromium at 1280×800, touch):
a first rebalance previewed and applied, two households tapped on the map and
moved to the other volunteer, one of them unlocked, a second rebalance whose
preview leaves the locked one alone, and the change log of it all."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import ZoneWorld
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from browser.conftest import log_in
from field.models import Volunteer, ZoneAction, ZoneAssignment, ZoneChange

pytestmark = [pytest.mark.browser]


def _current() -> dict[int, tuple[int, bool]]:
    return {
        row.household_id: (row.volunteer_id, row.locked)
        for row in ZoneAssignment.objects.filter(ended_at__isnull=True)
    }


def test_a_coordinator_moves_locks_rebalances_previews_and_applies(
    live_server: LiveServer,
    touch_page: Page,
    shot: Callable[[str], Path],
    coordinator: User,
    zone_world: ZoneWorld,
    blocked_requests: list[str],
) -> None:
    page = touch_page
    world = zone_world
    url = f"/zones/{world.district.code}/"

    log_in(page, live_server, coordinator.get_username(), url)
    expect(page.locator("body[data-zones-ready=true]")).to_have_count(1)
    # Nine households, all in no zone yet: red.
    expect(page.locator("#zone-map path[data-household]")).to_have_count(9)
    expect(page.locator("#zone-map path[data-uncovered=true]")).to_have_count(9)
    shot("1-no-zones")

    # First rebalance: the preview lists eight households and changes nothing.
    page.get_by_role("button", name="จัดสมดุลใหม่: ดูตัวอย่าง").tap()
    expect(page.locator("#preview-moves tbody tr")).to_have_count(8)
    assert ZoneAssignment.objects.count() == 0
    shot("2-first-preview")
    page.get_by_role("button", name="ใช้การเปลี่ยนแปลงนี้").tap()
    expect(page.locator(".messages[role=status]")).to_contain_text("8")
    expect(page.locator("#zone-map path[data-zone]")).to_have_count(2)
    expect(page.locator("#zone-map path[data-uncovered=true]")).to_have_count(1)
    first = _current()
    assert {v for v, _locked in first.values()} == {world.west.pk, world.east.pk}

    # Two west households tapped on the map, moved to the east volunteer.
    picked = [h.pk for h in world.west_homes[2:]]
    for household in picked:
        page.locator(f'#zone-map path[data-household="{household}"]').tap()
    expect(page.locator("#households")).to_have_value(",".join(str(h) for h in picked))
    page.locator("#volunteer").select_option(str(world.east.pk))
    shot("3-two-selected")
    page.get_by_role("button", name="ย้ายไปยังอาสาสมัครนี้").tap()
    expect(page.locator(".messages[role=status]")).to_contain_text("2")
    assert all(_current()[h] == (world.east.pk, True) for h in picked)

    # Unlock the first of them: the next rebalance may take it back west.
    page.locator(f'#zone-map path[data-household="{picked[0]}"]').tap()
    page.get_by_role("button", name="ปลดล็อก", exact=True).tap()
    expect(page.locator(".messages[role=status]")).to_contain_text("1")
    assert _current()[picked[0]] == (world.east.pk, False)
    assert _current()[picked[1]] == (world.east.pk, True)

    page.get_by_role("button", name="จัดสมดุลใหม่: ดูตัวอย่าง").tap()
    rows = page.locator("#preview-moves tbody tr")
    expect(page.locator("#preview")).to_be_visible()
    shown = [int(v) for v in rows.evaluate_all("rows => rows.map(r => r.dataset.household)")]
    assert picked[1] not in shown  # locked: never in a preview
    shot("4-second-preview")
    page.get_by_role("button", name="ใช้การเปลี่ยนแปลงนี้").tap()
    expect(page.locator(".messages[role=status]")).to_be_visible()
    assert _current()[picked[1]] == (world.east.pk, True)
    for household in shown:
        assert _current()[household][0] != first.get(household, (None,))[0] or household in picked

    # The log names who did what.
    log = page.locator("#changes tbody tr")
    expect(log.first).to_contain_text(coordinator.first_name)
    actions = set(ZoneChange.objects.values_list("action", flat=True))
    assert {ZoneAction.REBALANCE, ZoneAction.MOVE, ZoneAction.UNLOCK} <= actions
    page.locator("#changes").scroll_into_view_if_needed()
    shot("5-applied-and-logged")

    # Where to recruit: the far village, whose household no one reaches.
    page.locator("#recruit").fill("1")
    page.get_by_role("button", name="เสนอหมู่บ้าน").tap()
    expect(page.locator(".recruit-list li")).to_contain_text(world.far_village.name)
    shot("6-recruit")
    assert blocked_requests == [] or all("tile" in url for url in blocked_requests)


def test_a_coordinator_adds_a_volunteer_by_tapping_the_home_on_the_map(
    live_server: LiveServer,
    touch_page: Page,
    shot: Callable[[str], Path],
    coordinator: User,
    zone_world: ZoneWorld,
) -> None:
    page = touch_page
    url = f"/zones/{zone_world.district.code}/volunteers/new/"
    log_in(page, live_server, coordinator.get_username(), url)

    page.locator("#id_name").fill("นางสาวอาสา แตะแผนที่")
    page.locator("#id_kind").select_option("local_sage")
    page.locator("#id_village").select_option(zone_world.far_village.code)
    page.locator("#id_active_from").fill("2026-06-01")
    box = page.locator("#home-map").bounding_box()
    assert box is not None
    page.touchscreen.tap(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    expect(page.locator("#home-map")).to_have_attribute(
        "data-home", re.compile(r"^\d+\.\d+,\d+\.\d+$")
    )
    shot("7-new-volunteer")
    picked = page.locator("#home-map").get_attribute("data-home") or ""
    lat, lon = (float(v) for v in picked.split(","))
    page.get_by_role("button", name="บันทึก", exact=True).tap()

    expect(page.locator(".messages[role=status]")).to_contain_text("นางสาวอาสา แตะแผนที่")
    added = Volunteer.objects.get(name="นางสาวอาสา แตะแผนที่")
    assert (round(added.home.y, 6), round(added.home.x, 6)) == (lat, lon)
    expect(page.locator(f'#volunteers tr[data-volunteer="{added.pk}"]')).to_be_visible()
