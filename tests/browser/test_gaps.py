"""The gap map in Chromium at 1280×800, on Khon Kaen's real boundaries: the
country choropleth, down to a province, a district and its tambons, another
indicator, the table below following, and the breadcrumb back up."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from factories import TEST_ACADEMIC_YEAR, ProfileFactory, UserFactory, make
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from browser.conftest import log_in
from field.models import AREA_STAT_COUNTS, AreaStat, Role, StatLevel
from geo.models import Province, Subdistrict

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("khon_kaen_boundaries")]

THAI = re.compile(r"[\u0E00-\u0E7F]")
DISTRICT = "4001"  # Mueang Khon Kaen


def _tambon_counts(code: str) -> dict[str, int]:
    """Made-up but varied counts per tambon, from its code; every few tambons have a
    small count to withhold, and a few have open cases that nobody covers."""
    n = int(code)
    dropped, never = 3 + n % 17, (n * 7) % 23
    enrolled = 400 + (n * 13) % 600
    open_cases = dropped + never
    visited, found = open_cases // 3, open_cases // 4
    homes = max(open_cases - 2, 0)
    covered = n % 4 != 0
    return {
        "children_in_window": enrolled + dropped + never,
        "compulsory_age": enrolled // 2,
        "enrolled": enrolled,
        "dropped_out": dropped,
        "never_enrolled": never,
        "graduated": 0,
        "in_review": 0,
        "cases_open": open_cases,
        "cases_visited": visited,
        "cases_found": found,
        "cases_resolved": 0,
        "cases_brought_back": n % 9,
        "unreached_households": homes,
        "unreached_in_zone": homes // 2 if covered else 0,
        "unreached_in_team_area": homes // 3 if covered else 0,
    }


def _refresh_made_up_stats() -> None:
    now = timezone.now()
    rows: dict[tuple[str, str], dict[str, int]] = {}
    for code in Subdistrict.objects.filter(code__startswith="40").values_list("code", flat=True):
        counts = _tambon_counts(code)
        for level, key in (
            (StatLevel.TAMBON, code),
            (StatLevel.DISTRICT, code[:4]),
            (StatLevel.PROVINCE, code[:2]),
            (StatLevel.COUNTRY, "TH"),
        ):
            total = rows.setdefault((level.value, key), dict.fromkeys(AREA_STAT_COUNTS, 0))
            for name in AREA_STAT_COUNTS:
                total[name] += counts.get(name, 0)
    AreaStat.objects.bulk_create(
        AreaStat(
            academic_year=TEST_ACADEMIC_YEAR,
            level=level,
            code=code,
            refreshed_at=now,
            **counts,
        )
        for (level, code), counts in rows.items()
    )


@pytest.fixture
def administrator(live_server: LiveServer) -> User:
    user = make(UserFactory, username="gap_admin")
    make(ProfileFactory, user=user, role=Role.ADMINISTRATOR)
    _refresh_made_up_stats()
    return user


def _ready(page: Page, area: str, indicator: str = "unreached") -> None:
    expect(page.locator("body")).to_have_attribute("data-gaps-ready", "true")
    expect(page.locator("body")).to_have_attribute("data-gaps-area", area)
    expect(page.locator("body")).to_have_attribute("data-gaps-indicator", indicator)


def test_an_administrator_drills_down_the_gap_map_and_switches_indicator(
    live_server: LiveServer,
    touch_page: Page,
    shot: Callable[[str], Path],
    administrator: User,
    blocked_requests: list[str],
) -> None:
    page = touch_page
    log_in(page, live_server, administrator.get_username(), "/gaps/")
    _ready(page, "")
    provinces = Province.objects.count()
    expect(page.locator("#gap-map path[data-area]")).to_have_count(provinces)
    expect(page.locator("#gap-legend-classes li").first).to_be_visible()
    expect(page.locator("#gap-table tbody tr")).to_have_count(provinces)
    expect(page.locator("h1")).to_contain_text("แผนที่ช่องว่าง")
    shot("1-country")

    page.locator('#gap-map path[data-area="40"]').dispatch_event("click")
    _ready(page, "40")
    districts = Subdistrict.objects.filter(code__startswith="40").values("district").distinct()
    expect(page.locator("#gap-map path[data-area]")).to_have_count(districts.count())
    expect(page.locator("#gap-trail a")).to_have_text(["ประเทศไทย"])
    shot("2-province")

    page.locator(f'#gap-map path[data-area="{DISTRICT}"]').dispatch_event("click")
    _ready(page, DISTRICT)
    tambons = Subdistrict.objects.filter(code__startswith=DISTRICT).count()
    expect(page.locator("#gap-map path[data-area]")).to_have_count(tambons)
    expect(page.locator("#gap-table tbody tr")).to_have_count(tambons)
    assert THAI.search(page.locator("#gap-table tbody tr").first.inner_text())
    assert "area=4001" in page.url
    page.locator(f'#gap-map path[data-area="{DISTRICT}01"]').hover()
    tooltip = page.locator(".leaflet-tooltip", has_text=re.compile("ต่อ 1,000.*จาก"))
    expect(tooltip).to_have_count(1)
    shot("3-tambons")

    page.locator("#gap-indicator").select_option("zone_coverage")
    _ready(page, DISTRICT, "zone_coverage")
    expect(page.locator("#gap-caption")).to_contain_text("เขตอาสาสมัคร")
    first = page.locator("#gap-table tbody tr").first
    expect(first).to_have_class(re.compile("uncovered"))
    expect(page.locator("#gap-col-numerator")).to_have_text("อยู่ในเขตของอาสาสมัคร")
    shot("4-zone-coverage")

    page.locator('#gap-trail a[data-area="40"]').click()
    _ready(page, "40", "zone_coverage")
    expect(page.locator("#gap-map path[data-area]")).to_have_count(districts.count())
    assert blocked_requests == [] or all("tile" in url for url in blocked_requests)


@pytest.fixture
def khon_kaen_official(live_server: LiveServer) -> User:
    user = make(UserFactory, username="gap_official")
    make(ProfileFactory, user=user, role=Role.OFFICIAL, province=Province.objects.get(code="40"))
    _refresh_made_up_stats()
    return user


def test_an_official_opens_their_province_and_receives_only_areas(
    live_server: LiveServer,
    touch_page: Page,
    shot: Callable[[str], Path],
    khon_kaen_official: User,
) -> None:
    """An official's widest view is their province; everything the page fetches is
    about areas: codes, names, counts and polygons, never a household or a child."""
    page = touch_page
    layers: list[dict[str, object]] = []
    page.on(
        "response",
        lambda r: layers.append(r.json()) if "/gaps/layer.json" in r.url and r.ok else None,
    )
    log_in(page, live_server, khon_kaen_official.get_username(), "/gaps/")
    _ready(page, "40")
    districts = Subdistrict.objects.filter(code__startswith="40").values("district").distinct()
    expect(page.locator("#gap-map path[data-area]")).to_have_count(districts.count())
    expect(page.locator("#gap-trail a")).to_have_count(0)
    page.locator(f'#gap-map path[data-area="{DISTRICT}"]').dispatch_event("click")
    _ready(page, DISTRICT)
    shot("5-official-district")
    assert layers
    for layer in layers:
        features = layer["features"]
        assert isinstance(features, list)
        for feature in features:
            assert feature["geometry"]["type"] in {"Polygon", "MultiPolygon"}
            assert not {"national_id", "first_name", "household", "point"} & set(
                feature["properties"]
            )
