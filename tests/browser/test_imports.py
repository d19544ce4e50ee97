"""A coordinator of Khon Kaen imports a population extract with mistakes in it,
reads the report, reconciles the registries and looks at the funnel and its map,
in Chromium at 1280×800."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.utils import timezone
from factories import (
    TEST_PASSWORD,
    ImportProblemFactory,
    ImportRunFactory,
    ProfileFactory,
    UserFactory,
    make,
    population_csv,
)
from factories import thai_national_id as valid_id
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from browser.conftest import wait_for_js
from field.forms import current_academic_year
from field.models import ImportRun, ImportStatus, Role
from geo.models import District, Province

pytestmark = [pytest.mark.browser]

Screenshot = Callable[[str], Path]
MUEANG = ("เมืองขอนแก่น", "ขอนแก่น")


def _born(age: int, day: str = "15/03") -> str:
    """A Buddhist-era birth date of a child ``age`` years old this academic year."""
    return f"{day}/{current_academic_year() - age}"


def _rows() -> list[tuple[str, ...]]:
    """Ten children of Mueang Khon Kaen, three with a mistake a registry clerk makes."""
    good = [
        # ID, first, last, sex, born, house, moo, tambon, lat, lon
        (
            "110170010001",
            "ด.ช.ก้องภพ",
            "ศรีสุข",
            "ชาย",
            _born(7),
            "12",
            "1",
            "ในเมือง",
            "16.4301",
            "102.8302",
        ),
        (
            "110170010002",
            "ด.ญ.กานดา",
            "ศรีสุข",
            "หญิง",
            _born(9),
            "12",
            "1",
            "ในเมือง",
            "16.4301",
            "102.8302",
        ),
        (
            "110170010003",
            "ด.ช.ธนา",
            "ใจดี",
            "ชาย",
            _born(12),
            "45/2",
            "3",
            "ในเมือง",
            "16.4352",
            "102.8251",
        ),
        ("110170010004", "ด.ญ.พิมพ์", "มั่นคง", "หญิง", _born(16), "8", "5", "ศิลา", "", ""),
        ("110170010005", "ด.ช.อาทิตย์", "บุญมา", "ชาย", _born(4), "101", "2", "พระลับ", "", ""),
        ("110170010006", "ด.ญ.มะลิ", "บุญมา", "หญิง", _born(10), "7", "6", "บ้านเปด", "", ""),
        ("110170010007", "ด.ช.ภูมิ", "แก้วกล้า", "ชาย", _born(8), "3", "4", "ทุ่งมะขามป้อม", "", ""),
    ]
    rows: list[tuple[str, ...]] = [(valid_id(row[0]), *row[1:8], *MUEANG, *row[8:]) for row in good]
    wrong_check = valid_id("110170010008")
    wrong_check = wrong_check[:12] + str((int(wrong_check[12]) + 1) % 10)
    rows += [
        (wrong_check, "ด.ช.สมปอง", "ดีงาม", "ชาย", _born(11), "9", "1", "ในเมือง", *MUEANG, "", ""),
        (valid_id("110170010009"), "ด.ญ.ดาว", "ดีงาม", "หญิง", f"31/02/{current_academic_year() - 9}",
         "9", "1", "ในเมือง", *MUEANG, "", ""),
    ]  # fmt: skip
    return rows


@pytest.fixture
def kk_coordinator(live_server: LiveServer, khon_kaen_boundaries: None) -> User:
    user = make(UserFactory, username="kk_coordinator", first_name="สมศรี")
    make(
        ProfileFactory,
        user=user,
        role=Role.COORDINATOR,
        province=Province.objects.get(code="40"),
    )
    return user


def _log_in(page: Page, live_server: LiveServer, user: User, next_path: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/?next={next_path}")
    page.locator("input[name=username]").fill(user.get_username())
    page.locator("input[name=password]").fill(TEST_PASSWORD)
    page.get_by_role("button", name="เข้าสู่ระบบ").click()


def test_a_coordinator_imports_reads_the_report_and_sees_the_funnel(
    live_server: LiveServer,
    page: Page,
    kk_coordinator: User,
    screenshot: Screenshot,
    blocked_requests: list[str],
    tmp_path: Path,
) -> None:
    extract = tmp_path / "ประชากร-เมืองขอนแก่น.csv"
    extract.write_bytes(population_csv(_rows()))

    _log_in(page, live_server, kk_coordinator, "/imports/")
    expect(page.locator("h1")).to_have_text("นำเข้าทะเบียน")
    expect(page.locator("#affiliation-field")).to_be_hidden()  # only for enrolment
    page.locator("select[name=kind]").select_option("enrolment")
    expect(page.locator("#affiliation-field")).to_be_visible()
    page.locator("select[name=kind]").select_option("population")
    page.locator("input[type=file]").set_input_files(str(extract))
    screenshot("1-upload-form")
    page.get_by_role("button", name="นำเข้า", exact=True).click()

    # The run page: done, with the rejected rows first in the report.
    run = ImportRun.objects.get()
    page.wait_for_url(f"**/imports/{run.pk}/")
    expect(page.locator("h1")).to_have_text(extract.name)
    expect(page.locator("#run-status-label")).to_have_text("เสร็จแล้ว")
    assert run.status == ImportStatus.DONE and run.by == kk_coordinator
    assert (run.imported, run.rejected) == (7, 2)
    expect(page.locator('[data-count="imported"]')).to_have_text("7")
    expect(page.locator('[data-count="rejected"]')).to_have_text("2")
    report = page.locator("table.problems tbody tr")
    expect(report.first).to_contain_text("national_id")
    expect(report.nth(1)).to_contain_text("birth_date")
    expect(report.first.locator("td").nth(2)).to_have_text("ไม่รับแถวนี้")
    tambon_rows = page.locator("table.problems tbody tr", has_text="subdistrict")
    assert tambon_rows.count() >= 2  # the near spelling and the unknown tambon
    expect(page.locator("table.problems")).to_contain_text("บ้านเปด")
    expect(page.locator("table.problems")).to_contain_text("ทุ่งมะขามป้อม")
    with page.expect_download() as download:
        page.get_by_role("link", name="ดาวน์โหลดรายงาน (CSV)").click()
    assert download.value.suggested_filename == f"import-{run.pk}-problems.csv"
    screenshot("2-run-report")

    # The funnel has nothing until the registries are reconciled, from its own button.
    page.get_by_role("link", name="เด็กนอกระบบการศึกษา").click()
    expect(page.locator(".empty-state")).to_contain_text("ยังไม่ได้ตรวจสอบทะเบียน")
    page.get_by_role("button", name="ตรวจสอบทะเบียน", exact=True).click()
    expect(page.locator(".messages")).to_contain_text(str(current_academic_year()))
    expect(page.locator(".reconcile-bar")).to_contain_text("เด็กอายุ 3–18 ปี")

    # Province level: one row for Mueang, one for the household with no tambon.
    table = page.locator("table.funnel-table")
    expect(page.locator("h1")).to_have_text("เด็กนอกระบบการศึกษา: ขอนแก่น")
    mueang = table.locator("tbody tr", has_text="เมืองขอนแก่น")
    expect(mueang.locator("td").first).to_have_text("6")  # in the 3-18 window
    expect(table.locator("tbody tr.unplaced")).to_contain_text("ไม่ทราบตำบล")
    expect(table.locator("tfoot td").first).to_have_text("7")
    # Five households with a point: two from given coordinates, three placed in their tambon.
    wait_for_js(page, "() => document.getElementById('funnel-map').dataset.households === '5'")
    screenshot("3-funnel-province")
    page.locator("#funnel-map").scroll_into_view_if_needed()
    screenshot("4-funnel-province-map")

    # Down to the district: its tambons, and circles on the map.
    mueang.get_by_role("link", name="เมืองขอนแก่น").click()
    expect(page.locator("h1")).to_have_text("เด็กนอกระบบการศึกษา: เมืองขอนแก่น")
    expect(table.locator("tbody tr", has_text="ในเมือง").locator("td").first).to_have_text("3")
    wait_for_js(page, "() => document.getElementById('funnel-map').dataset.households === '5'")
    wait_for_js(
        page,
        "() => document.querySelectorAll('path.household').length > 0"
        " || document.querySelectorAll('.marker-cluster').length > 0",
    )
    assert District.objects.filter(code="4001").exists()
    screenshot("5-funnel-district")
    page.locator("#funnel-map").scroll_into_view_if_needed()
    screenshot("6-funnel-district-map")

    # Nothing but map tiles was asked of another host, and those were refused.
    tile_host = urlsplit(settings.TILE_URL).hostname
    assert {urlsplit(url).hostname for url in blocked_requests} <= {tile_host}
    assert not re.search(r"unpkg|cdnjs|jsdelivr|googleapis", " ".join(blocked_requests))


def test_the_run_page_follows_an_import_until_it_finishes(
    live_server: LiveServer, page: Page, coordinator: User, screenshot: Screenshot
) -> None:
    run = make(
        ImportRunFactory,
        by=coordinator,
        file_name="ประชากร-ทั้งจังหวัด.csv",
        status=ImportStatus.READING,
        finished_at=None,
        size=1_000_000,
        bytes_read=100_000,
        rows_read=1_000,
    )
    _log_in(page, live_server, coordinator, f"/imports/{run.pk}/")
    expect(page.locator("#run-rows")).to_have_text("1000")
    bar = page.locator("#run-progress")
    expect(bar).to_have_attribute("style", "width: 10%")

    # The page asks every second; no reload while the import runs.
    ImportRun.objects.filter(pk=run.pk).update(
        status=ImportStatus.APPLYING, bytes_read=600_000, rows_read=6_000, imported=5_990
    )
    expect(page.locator("#run-rows")).to_have_text("6000")
    expect(page.locator("#run-status-label")).to_have_text("กำลังบันทึก")
    expect(page.locator('[data-count="imported"]')).to_have_text("5990")
    wait_for_js(page, "() => document.getElementById('run-progress').style.width === '60%'")
    screenshot("7-run-in-progress")

    # Finished: the page reloads and shows the report instead of the bar.
    make(ImportProblemFactory, run=run, row=4_321, reason="check digit does not match")
    ImportRun.objects.filter(pk=run.pk).update(
        status=ImportStatus.DONE, finished_at=timezone.now(), bytes_read=1_000_000, rejected=1
    )
    expect(page.locator("table.problems tbody tr")).to_have_count(1)
    expect(bar).to_have_count(0)
    expect(page.locator("#run-status-label")).to_have_text("เสร็จแล้ว")
