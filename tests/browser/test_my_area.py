"""A search team member works offline on a tablet (Chromium at 1280×800, touch):
the cases of their team's area, visits recorded with no connection, a reload with
no connection five days later, and the queue uploaded once, and only once, when the
signal returns; then the coordinator sees the visits in the team's progress."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.db.models import Max
from django.utils import timezone, translation
from factories import TEST_PASSWORD
from playwright.sync_api import Browser, BrowserContext, Page, expect
from pytest_django.live_server_helper import LiveServer

from browser.conftest import SCREENSHOTS, tablet_context, wait_for_js
from field.models import Household, Precision, Team, Visit
from field.templatetags.thai_dates import thaidate

pytestmark = [pytest.mark.browser]
# Five days of field work out of signal. In milliseconds: the clock's "hh:mm:ss"
# takes two-digit hours only.
OFFLINE_FOR_MS = 5 * 24 * 3600 * 1000
AREA_STROKE = "#0b3d91"

Screenshot = Callable[[str], Path]


def _tablet(browser: Browser, live_server: LiveServer, blocked: list[str]) -> BrowserContext:
    """A touch tablet whose service worker may install: the app works offline by it."""
    return tablet_context(browser, live_server, blocked, has_touch=True, service_workers="allow")


@pytest.fixture
def page(browser: Browser, live_server: LiveServer, blocked_requests: list[str]) -> Iterator[Page]:
    """The conftest's tablet page, with a touch screen: the app is used by tapping."""
    context = _tablet(browser, live_server, blocked_requests)
    page = context.new_page()
    yield page
    context.close()


def _log_in(page: Page, live_server: LiveServer, user: User, next_path: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/?next={next_path}")
    page.locator("input[name=username]").fill(user.get_username())
    page.locator("input[name=password]").fill(TEST_PASSWORD)
    page.get_by_role("button", name="เข้าสู่ระบบ").click()


def _ready(page: Page) -> None:
    expect(page.locator("body[data-ready=true]")).to_have_count(1)


def _areas_drawn(page: Page) -> int:
    """The team's area polygons on the map (Leaflet draws them with the area's stroke)."""
    return page.locator(f'#map path[stroke="{AREA_STROKE}"]').count()


def _areas_kept(page: Page) -> int:
    """The area features the tablet holds in IndexedDB."""
    count: int = page.evaluate(
        """() => new Promise((resolve, reject) => {
          const user = document.getElementById("tablet-app").dataset.user;
          const open = indexedDB.open("takhai-my-area-" + user);
          open.onerror = () => reject(open.error);
          open.onsuccess = () => {
            const get = open.result.transaction("meta").objectStore("meta").get("area");
            get.onsuccess = () => {
              open.result.close();
              resolve(get.result ? get.result.value.areas.features.length : 0);
            };
          };
        })"""
    )
    return count


def _record(
    page: Page, case_id: int, outcome: str, resolution: str = "", house: bool = False
) -> None:
    page.locator(f".case-row[data-case='{case_id}']").tap()
    form = page.locator("#visit-form")
    form.locator("select[name=outcome]").select_option(outcome)
    if resolution:
        form.locator("select[name=resolution]").select_option(resolution)
    else:
        expect(form.locator("select[name=resolution]")).to_be_hidden()
    form.locator("textarea[name=note]").fill(f"test {outcome}")
    if house:
        form.locator("input[name=house_here]").check()
    form.locator("button[type=submit]").tap()
    expect(page.locator("#case-visits .visit.pending")).to_have_count(1)
    page.locator("#back").tap()


def test_a_member_records_visits_offline_and_they_upload_once(
    browser: Browser,
    live_server: LiveServer,
    page: Page,
    member_a: User,
    coordinator: User,
    team_a: Team,
    field_world: object,
    screenshot: Screenshot,
    blocked_requests: list[str],
) -> None:
    world = field_world
    cases_a = world.cases_a  # type: ignore[attr-defined]
    cases_b = world.cases_b  # type: ignore[attr-defined]
    context = page.context
    # The page's clock, faked from its first load so that days can pass offline
    # (the service worker and Chromium's HTTP cache keep the real clock).
    page.clock.install()
    house = cases_a[2].child.household
    # Standing a few metres from the registered point of the third household.
    context.grant_permissions(["geolocation"], origin=live_server.url)
    context.set_geolocation(
        {"longitude": house.point.x + 0.00005, "latitude": house.point.y, "accuracy": 6}
    )

    _log_in(page, live_server, member_a, "/my-area/")
    page.wait_for_url("**/my-area/")
    _ready(page)
    # The first visit installs the service worker; the reload is its first page.
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    _ready(page)
    wait_for_js(page, "() => navigator.serviceWorker.controller !== null")

    rows = page.locator(".case-row")
    expect(rows).to_have_count(len(cases_a))
    shown = {int(n) for n in rows.evaluate_all("rows => rows.map(r => r.dataset.case)")}
    assert shown == {case.pk for case in cases_a}
    assert not shown & {case.pk for case in cases_b}
    # On the map: households alone, or counted in a cluster of close ones.
    on_map = page.evaluate(
        """() => document.querySelectorAll("path.household").length +
        [...document.querySelectorAll(".marker-cluster span")]
          .reduce((sum, span) => sum + Number(span.textContent), 0)"""
    )
    assert on_map == len(cases_a)
    areas = _areas_drawn(page)
    assert areas == _areas_kept(page) == 1
    expect(page.locator("#net")).to_have_attribute("data-online", "true")
    screenshot("1-online")

    context.set_offline(True)
    expect(page.locator("#net")).to_have_attribute("data-online", "false")
    _record(page, cases_a[0].pk, "found_at_address", resolution="non_formal")
    _record(page, cases_a[1].pk, "not_found")
    _record(page, cases_a[2].pk, "not_found", house=True)
    expect(page.locator("#queue")).to_have_attribute("data-count", "3")
    expect(page.locator(f".case-row[data-case='{cases_a[0].pk}']")).to_have_attribute(
        "data-progress", "resolved"
    )
    expect(page.locator(f".case-row[data-case='{cases_a[1].pk}']")).to_have_attribute(
        "data-progress", "visited"
    )
    screenshot("2-offline-queue")

    # Days without signal: nothing the tablet keeps may expire on a timer (a
    # deployment elsewhere lost its offline maps after 24 hours).
    before = page.evaluate("Date.now()")
    page.clock.fast_forward(OFFLINE_FOR_MS)
    page.reload()
    _ready(page)
    assert page.evaluate("Date.now()") - before >= OFFLINE_FOR_MS
    expect(rows).to_have_count(len(cases_a))
    expect(page.locator("#queue")).to_have_attribute("data-count", "3")
    expect(page.locator("#net")).to_have_attribute("data-online", "false")
    expect(page.locator(f'#map path[stroke="{AREA_STROKE}"]')).to_have_count(areas)
    assert _areas_kept(page) == areas
    expect(page.locator(f".case-row[data-case='{cases_a[0].pk}']")).to_have_attribute(
        "data-progress", "resolved"
    )
    page.locator(f".case-row[data-case='{cases_a[2].pk}']").tap()
    expect(page.locator("#case-visits .visit.pending")).to_have_count(1)
    screenshot("3-offline-reloaded")
    page.locator("#back").tap()

    context.set_offline(False)
    expect(page.locator("#queue")).to_have_attribute("data-count", "0", timeout=20_000)
    expect(page.locator(f".case-row[data-case='{cases_a[0].pk}'] .badge.pending")).to_have_count(0)
    screenshot("4-synced")

    def _visits() -> list[tuple[int, str, str, bool]]:
        return sorted(
            Visit.objects.filter(case__in=cases_a).values_list(
                "case_id", "outcome", "resolution", "house_here"
            )
        )

    expected = sorted(
        [
            (cases_a[0].pk, "found_at_address", "non_formal", False),
            (cases_a[1].pk, "not_found", "", False),
            (cases_a[2].pk, "not_found", "", True),
        ]
    )
    assert _visits() == expected
    assert Visit.objects.filter(case__in=cases_a, client_id__isnull=False).count() == 3
    moved = Household.objects.get(pk=house.pk)
    assert moved.precision == Precision.FIELD_GPS
    assert moved.point is not None
    assert moved.point.x == pytest.approx(house.point.x + 0.00005)

    # Another sync changes nothing on the server.
    page.locator("#sync-now").tap()
    expect(page.locator("body[data-syncing]")).to_have_count(0)
    page.wait_for_timeout(500)
    expect(page.locator("body[data-syncing]")).to_have_count(0)
    assert _visits() == expected
    # Only map tiles were asked of the outside world, and the map drew without them.
    assert all("tile.openstreetmap.org" in url for url in blocked_requests), blocked_requests

    # The coordinator, on their own device, sees the team's progress follow.
    office = _tablet(browser, live_server, blocked_requests)
    try:
        desk = office.new_page()
        _log_in(desk, live_server, coordinator, "/teams/")
        desk.wait_for_url("**/teams/")
        row = desk.locator(f'#teams-table tr[data-team="{team_a.pk}"]')
        # One case found and placed in non-formal education, two visited and not found.
        expect(row.locator('[data-count="open"]')).to_have_text(str(len(cases_a)))
        expect(row.locator('[data-count="visited"]')).to_have_text("2")
        expect(row.locator('[data-count="found"]')).to_have_text("0")
        expect(row.locator('[data-count="resolved"]')).to_have_text("1")
        received = Visit.objects.filter(by=member_a).aggregate(last=Max("received_at"))["last"]
        member_a.profile.refresh_from_db()
        last_sync = member_a.profile.last_sync_at
        # The tablet synced after its upload, so the sync is the later of the two.
        assert received is not None and last_sync is not None and last_sync >= received
        with translation.override("th"):
            synced = thaidate(last_sync, "j M Y H:i")
            # In the Buddhist era, as Thai offices read dates.
            assert str(timezone.localtime(last_sync).year + 543) in synced
        member = row.locator("li", has_text=member_a.get_full_name() or member_a.get_username())
        expect(member.locator("small")).to_have_text(synced)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        desk.screenshot(path=str(SCREENSHOTS / "test_my_area-5-coordinator.png"), full_page=True)
    finally:
        office.close()
    assert all("tile.openstreetmap.org" in url for url in blocked_requests), blocked_requests
