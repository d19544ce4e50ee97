"""A member's tablet whose session ended keeps its queue through a new log-in; a
tablet revoked by the coordinator wipes everything it keeps of Takhai at its next
contact."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from accounts.models import Device
from accounts.services import device_revoke
from browser.test_my_area import _log_in, _ready, _record, _tablet
from field.models import Visit

pytestmark = [pytest.mark.browser]

# What the tablet keeps of Takhai: databases, caches, storage keys, workers.
KEPT = """async () => ({
  databases: (await indexedDB.databases()).map((d) => d.name).filter((n) => n.startsWith("takhai")),
  caches: await caches.keys(),
  storage: Object.keys(localStorage).filter((k) => k.startsWith("takhai")),
  workers: (await navigator.serviceWorker.getRegistrations()).length,
})"""


@pytest.fixture
def page(browser: Browser, live_server: LiveServer, blocked_requests: list[str]) -> Iterator[Page]:
    context = _tablet(browser, live_server, blocked_requests)
    page = context.new_page()
    yield page
    context.close()


def _start(page: Page, live_server: LiveServer, member: User) -> None:
    _log_in(page, live_server, member, "/my-area/")
    page.wait_for_url("**/my-area/")
    _ready(page)
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")


def test_an_ended_session_keeps_the_queue_through_a_new_log_in(
    live_server: LiveServer, page: Page, member_a: User, field_world: object
) -> None:
    cases = field_world.cases_a  # type: ignore[attr-defined]
    _start(page, live_server, member_a)
    page.context.set_offline(True)
    _record(page, cases[0].pk, "not_found")
    expect(page.locator("#queue")).to_have_attribute("data-count", "1")

    # The session ends while the tablet is out of signal (idle, the day's limit).
    Session.objects.all().delete()
    page.context.set_offline(False)
    page.locator("#sync-now").tap()
    expect(page.locator("#log-in-again")).to_be_visible()
    expect(page.locator("#notice")).to_contain_text("เข้าสู่ระบบอีกครั้ง")
    expect(page.locator("#queue")).to_have_attribute("data-count", "1")
    assert not Visit.objects.exists()

    page.locator("#log-in-again a").tap()
    page.locator("input[name=username]").fill("member_a")
    from factories import TEST_PASSWORD

    page.locator("input[name=password]").fill(TEST_PASSWORD)
    page.get_by_role("button", name="เข้าสู่ระบบ").tap()
    page.wait_for_url("**/my-area/")
    _ready(page)
    expect(page.locator("#queue")).to_have_attribute("data-count", "0", timeout=20_000)
    assert Visit.objects.filter(case=cases[0]).count() == 1


def test_a_revoked_tablet_wipes_what_it_keeps(
    live_server: LiveServer, page: Page, member_a: User, coordinator: User, field_world: object
) -> None:
    cases = field_world.cases_a  # type: ignore[attr-defined]
    _start(page, live_server, member_a)
    expect(page.locator(".case-row")).to_have_count(len(cases))
    kept = page.evaluate(KEPT)
    assert kept["databases"] and kept["caches"] and kept["storage"] and kept["workers"]
    device_id = page.evaluate("localStorage.getItem('takhai-device-id')")
    device = Device.objects.get(device_id=device_id)
    assert device.user == member_a

    device_revoke(device=device, by=coordinator)
    page.locator("#sync-now").tap()
    expect(page.locator("body[data-wiped=true]")).to_have_count(1)
    expect(page.locator("#notice")).to_contain_text("เพิกถอน")
    expect(page.locator(".tablet-main")).to_be_hidden()
    assert page.evaluate(KEPT) == {"databases": [], "caches": [], "storage": [], "workers": 0}
    device.refresh_from_db()
    assert device.wiped_at is not None
    # The session it synced with is gone: the pages ask for a log-in again.
    page.goto(f"{live_server.url}/my-area/")
    expect(page.locator("input[name=username]")).to_be_visible()
