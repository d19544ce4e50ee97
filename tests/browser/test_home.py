"""The home map in Chromium at 1280×800, on Khon Kaen's real boundaries."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from browser.conftest import wait_for_js
from geo.models import District, Province, Subdistrict

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("khon_kaen_boundaries")]

THAI = re.compile(r"[\u0E00-\u0E7F]")
Screenshot = Callable[[str], Path]


def _wait_for_areas(page: Page, level: str) -> int:
    """Waits until areas of ``level`` are drawn (and only them); returns how many."""
    wait_for_js(
        page,
        "level => document.querySelectorAll('path.leaflet-interactive.area-' + level).length > 0"
        " && document.querySelectorAll('path.leaflet-interactive:not(.area-' + level + ')')"
        ".length === 0",
        arg=level,
    )
    return page.locator("path.leaflet-interactive").count()


def _labels(page: Page) -> list[str]:
    return page.locator(".area-label").all_inner_texts()


def _label_centre(page: Page, text: str) -> tuple[float, float]:
    # Labels let the pointer through to their area, so a pointer there is on the area.
    box = page.locator(".area-label span", has_text=text).first.bounding_box()
    assert box is not None
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def _hover_label(page: Page, text: str) -> None:
    page.mouse.move(*_label_centre(page, text))


def _click_label(page: Page, text: str) -> None:
    page.mouse.click(*_label_centre(page, text))


def test_home_map_goes_down_the_levels_and_switches_language(
    live_server: LiveServer, page: Page, screenshot: Screenshot, blocked_requests: list[str]
) -> None:
    page.goto(live_server.url + "/")

    # The national view (Khon Kaen alone, or every province if another test loaded them).
    assert _wait_for_areas(page, "province") == Province.objects.count()
    expect(page.locator(".legend-level")).to_have_text("ระดับ: จังหวัด")
    expect(page.locator(".area-label span", has_text="ขอนแก่น")).to_be_visible()
    _hover_label(page, "ขอนแก่น")
    expect(page.locator("#legend-area .area-name")).to_have_text("ขอนแก่น")
    screenshot("1-provinces-th")

    # A tap on a province zooms to it, and the map shows its districts.
    _click_label(page, "ขอนแก่น")
    assert _wait_for_areas(page, "district") >= District.objects.filter(province="40").count()
    expect(page.locator(".legend-level")).to_have_text("ระดับ: อำเภอ")
    district_names = set(District.objects.values_list("name_th", flat=True))
    assert "เมืองขอนแก่น" in _labels(page)
    assert set(_labels(page)) <= district_names
    screenshot("2-districts-th")

    # One zoom closer: tambons.
    page.locator(".leaflet-control-zoom-in").click()
    assert _wait_for_areas(page, "subdistrict") > 20
    expect(page.locator(".legend-level")).to_have_text("ระดับ: ตำบล")
    tambon_labels = _labels(page)
    assert tambon_labels
    assert set(tambon_labels) <= set(Subdistrict.objects.values_list("name_th", flat=True))
    view = urlsplit(page.url).fragment
    screenshot("3-subdistricts-th")

    # English: the page reloads at the same place, with English names.
    page.get_by_role("button", name="English").click()
    page.wait_for_url(re.compile(r"#" + re.escape(view) + "$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert _wait_for_areas(page, "subdistrict") > 20
    expect(page.locator(".legend-level")).to_have_text("Level: Subdistrict")
    english_labels = _labels(page)
    assert english_labels
    assert not any(THAI.search(label) for label in english_labels)
    assert set(english_labels) <= set(Subdistrict.objects.values_list("name_en", flat=True))
    screenshot("4-subdistricts-en")

    # A link to another place, opened in the same tab, moves the map there.
    page.evaluate("location.hash = '#7/16.4300/102.8300'")
    assert _wait_for_areas(page, "province") >= 1
    expect(page.locator(".legend-level")).to_have_text("Level: Province")

    # Nothing but map tiles was asked of another host, and those were refused.
    tile_host = urlsplit(settings.TILE_URL).hostname
    assert blocked_requests, "the base map should have asked for tiles"
    assert {urlsplit(url).hostname for url in blocked_requests} == {tile_host}
