"""The gap map in Chromium at 1280×800, on Khon Kaen's real boundaries: the
country choropleth, down to a province, a district and its tambons, another
indicator, the table below following, and the breadcrumb back up; access to
school, with the schools and their catchments over it."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.contrib.gis.geos import Point
from django.utils import timezone
from factories import TEST_ACADEMIC_YEAR, ProfileFactory, SchoolFactory, UserFactory, make
from openpyxl import load_workbook  # type: ignore[import-untyped]
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from browser.conftest import log_in
from field.models import AREA_STAT_COUNTS, AreaStat, Role, SchoolLevel, StatLevel
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
    primary, secondary = enrolled * 3 // 8, enrolled * 3 // 8
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
        "age_primary": primary,
        "far_primary": (n * 37) % (primary // 4),
        "age_secondary": secondary,
        "far_secondary": (n * 53) % (secondary // 3),
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


def _schools_in(district: str) -> int:
    """A primary school and a secondary one in every tambon of ``district``, a few
    hundred metres apart; returns how many."""
    made = 0
    for tambon in Subdistrict.objects.filter(code__startswith=district):
        x, y = tambon.geom.point_on_surface.coords
        for dx, levels in (
            (0.0, [SchoolLevel.PREPRIMARY, SchoolLevel.PRIMARY]),
            (0.004, [SchoolLevel.LOWER_SECONDARY, SchoolLevel.UPPER_SECONDARY]),
        ):
            make(
                SchoolFactory,
                subdistrict=tambon,
                point=Point(x + dx, y, srid=4326),
                levels=levels,
                students=150,
            )
            made += 1
    return made


def test_an_official_sees_access_to_school_with_schools_and_catchments(
    live_server: LiveServer,
    touch_page: Page,
    shot: Callable[[str], Path],
    khon_kaen_official: User,
) -> None:
    """Far from a primary school, per district of Khon Kaen and per tambon of
    Mueang Khon Kaen; the schools as cells at the province's zoom, then, with a
    tambon of Mueang Khon Kaen brought close (a tap on it), the schools
    themselves with a 3 km circle round each primary one and a 5 km circle round
    each secondary one."""
    page = touch_page
    _schools_in(DISTRICT)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if "/gaps/schools.json" in r.url else None)
    log_in(page, live_server, khon_kaen_official.get_username(), "/gaps/")
    _ready(page, "40")
    page.locator("#gap-indicator").select_option("far_primary")
    _ready(page, "40", "far_primary")
    expect(page.locator("#gap-legend-note")).to_contain_text("3 กม.")
    assert requests == []  # no schools asked for until chosen

    # The province: schools counted in cells, no circles.
    overlays = page.locator(".leaflet-control-layers-overlays input")
    expect(overlays).to_have_count(2)
    overlays.nth(0).check()
    overlays.nth(1).check()
    body = page.locator("body")
    expect(body).to_have_attribute("data-schools-ready", "true")
    expect(body).to_have_attribute("data-schools-kind", "cells")
    expect(page.locator("#gap-map path.school-cell").first).to_be_attached()
    expect(page.locator("#gap-map .school-cell-count").first).to_be_visible()
    expect(page.locator("#gap-schools-status")).to_be_visible()
    expect(page.locator("#gap-map path.catchment")).to_have_count(0)
    shot("6-schools-cells")

    page.locator(f'#gap-map path[data-area="{DISTRICT}"]').dispatch_event("click")
    _ready(page, DISTRICT, "far_primary")
    expect(page.locator("#gap-col-denominator")).not_to_be_empty()
    tambon = f"{DISTRICT}01"
    page.locator(f'#gap-map path[data-area="{tambon}"]').dispatch_event("click")
    expect(body).to_have_attribute("data-gaps-focus", tambon)
    expect(body).to_have_attribute("data-schools-focus", tambon)
    expect(body).to_have_attribute("data-schools-ready", "true")
    expect(body).to_have_attribute("data-schools-kind", "schools")
    assert int(body.get_attribute("data-schools-zoom") or 0) >= 10
    schools = page.locator("#gap-map path.school")
    expect(schools.first).to_be_attached()
    drawn = schools.count()
    primary = page.locator("#gap-map path.catchment-primary")
    secondary = page.locator("#gap-map path.catchment-secondary")
    # Half the schools teach primary, half secondary: one circle each.
    assert drawn >= 2
    assert primary.count() + secondary.count() == drawn
    assert primary.count() >= 1 and secondary.count() >= 1
    assert all("zoom=1" in url and "bbox=" in url for url in requests[-1:])
    schools.first.dispatch_event("mouseover")
    expect(page.locator(".leaflet-tooltip", has_text="โรงเรียนทดสอบ")).to_have_count(1)
    schools.first.dispatch_event("mouseout")
    shot("7-schools-catchments")

    # Catchments off: the circles go, the schools stay.
    overlays.nth(1).uncheck()
    expect(primary).to_have_count(0)
    expect(schools).to_have_count(drawn)


def test_a_national_official_drills_to_a_tambon_and_downloads_what_they_see(
    live_server: LiveServer,
    touch_page: Page,
    shot: Callable[[str], Path],
    tmp_path: Path,
) -> None:
    """An official with the whole country (no province: EEF, the ministry) goes from
    the country to a tambon, switches indicator, and takes the table away as XLSX,
    which says what it is: the area, the filters and the suppression rule."""
    user = make(UserFactory, username="gap_national")
    make(ProfileFactory, user=user, role=Role.OFFICIAL, province=None, national=True)
    _refresh_made_up_stats()
    page = touch_page
    log_in(page, live_server, user.get_username(), "/gaps/")
    _ready(page, "")
    expect(page.locator("#gap-map path[data-area]")).to_have_count(Province.objects.count())
    page.locator('#gap-map path[data-area="40"]').dispatch_event("click")
    _ready(page, "40")
    page.locator(f'#gap-map path[data-area="{DISTRICT}"]').dispatch_event("click")
    _ready(page, DISTRICT)
    tambon = Subdistrict.objects.filter(code__startswith=DISTRICT).order_by("code").first()
    assert tambon is not None
    page.locator(f'#gap-map path[data-area="{tambon.code}"]').dispatch_event("click")
    expect(page.locator(f'#gap-table tbody tr[data-area="{tambon.code}"]')).to_be_visible()
    page.locator("#gap-indicator").select_option("found")
    _ready(page, DISTRICT, "found")
    shot("8-national-official-tambon")

    with page.expect_download() as download:
        page.get_by_role("link", name="Excel (XLSX)").click()
    name = download.value.suggested_filename
    assert name.endswith(".xlsx")
    download.value.save_as(tmp_path / name)
    book = load_workbook(tmp_path / name, read_only=True)
    text = " ".join(
        str(cell)
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
        for cell in row
        if cell is not None
    )
    assert tambon.name_th in text and "เมืองขอนแก่น" in text
    assert "found" in text or "พบตัว" in text  # the indicator chosen
    assert "5" in text and ("x" in text or "ปกปิด" in text)  # k and the mark of a withheld cell
    for personal in ("national_id", "first_name", "last_name", "household"):
        assert personal not in text
