"""A search team member's "Today" on a tablet (Chromium at 1280×800, touch): the
numbered route of the day on the map, then, with no connection, a stop skipped and
one done, the rest of the route re-ordered and re-timed on the device; back online,
the changes upload once and the server's route matches the device's."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from conftest import FieldWorld
from django.contrib.auth.models import User
from django.contrib.gis.geos import Point
from django.utils import timezone
from factories import (
    CaseFactory,
    ChildFactory,
    HouseholdFactory,
    HouseholdWindowFactory,
    RoutePlanFactory,
    RouteStopFactory,
    make,
)
from playwright.sync_api import Browser, Page, Request, expect
from pytest_django.live_server_helper import LiveServer

from browser.conftest import SCREENSHOTS, tablet_context, wait_for_js
from browser.test_my_area import _log_in, _ready
from field.models import RoutePlan, RouteStop, StopState, Team

pytestmark = [pytest.mark.browser]

BANGKOK = dt.timezone(dt.timedelta(hours=7))


@pytest.fixture
def page(browser: Browser, live_server: LiveServer, blocked_requests: list[str]) -> Iterator[Page]:
    """A touch tablet whose service worker may install: the app works offline by it."""
    context = tablet_context(
        browser, live_server, blocked_requests, has_touch=True, service_workers="allow"
    )
    yield context.new_page()
    context.close()


def _stop_case(world: FieldWorld, dx: float) -> Point:
    x0, y0, _x1, y1 = world.whole_a.geom.extent
    return Point(x0 + dx, (y0 + y1) / 2 + (0.0006 if dx > 0.005 else 0), srid=4326)


@pytest.fixture
def route(field_world: FieldWorld, team_a: Team, member_a: User) -> dict[str, RouteStop]:
    """Team A's plan of today, from its base at the east of the tambon: member_a's
    four stops P (far west), Q, R, U, planned in a zigzag."""
    team_a.base_point = _stop_case(field_world, 0.009)
    team_a.save()
    plan = make(RoutePlanFactory, team=team_a, starts=dt.time(8), ends=dt.time(17))
    stops = {}
    for sequence, (name, dx) in enumerate(
        (("P", 0.002), ("Q", 0.008), ("R", 0.006), ("U", 0.004)), start=1
    ):
        household = make(
            HouseholdFactory, subdistrict=field_world.whole_a, point=_stop_case(field_world, dx)
        )
        case = make(CaseFactory, child=make(ChildFactory, household=household))
        stops[name] = make(
            RouteStopFactory,
            plan=plan,
            member=member_a,
            case=case,
            sequence=sequence,
            arrives=dt.time(8 + sequence, 30),
            leaves=dt.time(9 + sequence, 0),
            distance_m=700,
        )
    return stops


def _shown(page: Page) -> dict[int, tuple[int, str, str]]:
    """The Today list as drawn: stop id -> (sequence, state, what its line says)."""
    rows = page.locator(".today-stop").evaluate_all(
        """rows => rows.map(r => [r.dataset.stop, r.dataset.sequence, r.dataset.state,
             r.querySelector('.stop-meta').textContent])"""
    )
    return {int(stop): (int(seq), state, meta) for stop, seq, state, meta in rows}


def _markers(page: Page) -> list[tuple[str, str, str]]:
    """The route's markers on the map: (sequence, state, label)."""
    marks: list[list[str]] = page.locator("#map .route-stop span").evaluate_all(
        "spans => spans.map(s => [s.dataset.sequence, s.dataset.state, s.textContent])"
    )
    return sorted((seq, state, text) for seq, state, text in marks)


def test_a_member_follows_todays_route_offline_and_the_server_agrees(
    live_server: LiveServer,
    page: Page,
    member_a: User,
    route: dict[str, RouteStop],
    blocked_requests: list[str],
) -> None:
    p, q, r, u = route["P"], route["Q"], route["R"], route["U"]
    context = page.context
    posts: list[str] = []

    def count_posts(request: Request) -> None:
        if request.method == "POST" and "/api/v1/today/stops/" in request.url:
            posts.append(request.url)

    page.on("request", count_posts)
    # The field's morning, on the plan's day, whatever the hour the test runs at.
    page.clock.install(time=dt.datetime.combine(timezone.localdate(), dt.time(9, 0), BANGKOK))

    _log_in(page, live_server, member_a, "/my-area/")
    page.wait_for_url("**/my-area/")
    _ready(page)
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    _ready(page)
    wait_for_js(page, "() => navigator.serviceWorker.controller !== null")

    page.locator("#tab-today").tap()
    expect(page.locator("#today-view")).to_be_visible()
    expect(page.locator(".today-stop")).to_have_count(4)
    assert _markers(page) == [(str(n), "planned", str(n)) for n in (1, 2, 3, 4)]
    expect(page.locator("#map path.route-path")).to_have_count(1)
    planned = _shown(page)
    assert {stop: seq for stop, (seq, _, _) in planned.items()} == {
        p.pk: 1,
        q.pk: 2,
        r.pk: 3,
        u.pk: 4,
    }
    assert "12:30" in planned[u.pk][2]
    expect(page.locator("#today-totals")).to_contain_text("4")
    _screenshot(page, "1-today-online")

    context.set_offline(True)
    expect(page.locator("#net")).to_have_attribute("data-online", "false")
    page.locator(f".today-stop[data-stop='{q.pk}'] .stop-skip").tap()
    expect(page.locator(f".today-stop[data-stop='{q.pk}']")).to_have_attribute(
        "data-state", "skipped"
    )
    page.locator(f".today-stop[data-stop='{p.pk}'] .stop-done").tap()
    expect(page.locator(f".today-stop[data-stop='{p.pk}']")).to_have_attribute("data-state", "done")
    expect(page.locator("#queue")).to_have_attribute("data-count", "2")
    offline = _shown(page)
    # Marked first, in the order marked; then from P, the nearest first: U, then R.
    assert {stop: seq for stop, (seq, _, _) in offline.items()} == {
        q.pk: 1,
        p.pk: 2,
        u.pk: 3,
        r.pk: 4,
    }
    # U was planned for 12:30; from P at nine it is minutes away.
    assert offline[u.pk][2] != planned[u.pk][2]
    assert "09:" in offline[u.pk][2]
    assert _markers(page) == [
        ("1", "skipped", "✕"),
        ("2", "done", "✓"),
        ("3", "planned", "3"),
        ("4", "planned", "4"),
    ]
    expect(page.locator("#map path.route-path")).to_have_count(1)
    expect(page.locator("#map path.route-done-path")).to_have_count(1)
    expect(page.locator("#today-counts")).to_contain_text("1")
    _screenshot(page, "2-offline-changed")

    # Still offline, the app reloaded: the route is the device's, as changed.
    page.reload()
    _ready(page)
    page.locator("#tab-today").tap()
    assert {stop: seq for stop, (seq, _, _) in _shown(page).items()} == {
        q.pk: 1,
        p.pk: 2,
        u.pk: 3,
        r.pk: 4,
    }
    expect(page.locator("#queue")).to_have_attribute("data-count", "2")
    _screenshot(page, "3-offline-reloaded")
    assert posts == []

    context.set_offline(False)
    expect(page.locator("#queue")).to_have_attribute("data-count", "0", timeout=20_000)
    stops = {s.pk: s for s in RouteStop.objects.filter(plan=p.plan)}
    assert {pk: s.state for pk, s in stops.items()} == {
        p.pk: StopState.DONE,
        q.pk: StopState.SKIPPED,
        r.pk: StopState.PLANNED,
        u.pk: StopState.PLANNED,
    }
    assert {pk: s.sequence for pk, s in stops.items()} == {q.pk: 1, p.pk: 2, u.pk: 3, r.pk: 4}
    # The device adopted the server's re-plan: its times are the server's.
    synced = _shown(page)
    assert {stop: seq for stop, (seq, _, _) in synced.items()} == {
        pk: s.sequence for pk, s in stops.items()
    }
    assert f"{stops[u.pk].arrives:%H:%M}" in synced[u.pk][2]
    _screenshot(page, "4-synced")

    page.locator("#sync-now").tap()
    expect(page.locator("body[data-syncing]")).to_have_count(0)
    page.wait_for_timeout(500)
    assert len(posts) == 1
    assert RoutePlan.objects.get(pk=p.plan_id).stops.filter(state=StopState.DONE).count() == 1
    # Nothing but map tiles was asked for outside the server (and none was sent).
    assert all("tile" in url for url in blocked_requests)


def test_offline_the_route_keeps_to_when_people_are_home(
    live_server: LiveServer, page: Page, member_a: User, route: dict[str, RouteStop]
) -> None:
    """R's family is home only before 08:40, U's from 13:00. At nine, offline, P is
    marked done: R can no longer be met, so it goes last and says so; U stays
    on the route, with the hours it is home."""
    p, q, r, u = route["P"], route["Q"], route["R"], route["U"]
    make(
        HouseholdWindowFactory,
        household=r.case.child.household,
        opens=dt.time(8),
        closes=dt.time(8, 40),
    )
    make(
        HouseholdWindowFactory,
        household=u.case.child.household,
        opens=dt.time(13),
        closes=dt.time(16),
    )
    page.clock.install(time=dt.datetime.combine(timezone.localdate(), dt.time(9, 0), BANGKOK))
    _log_in(page, live_server, member_a, "/my-area/")
    page.wait_for_url("**/my-area/")
    _ready(page)
    page.locator("#tab-today").tap()
    expect(page.locator(".today-stop")).to_have_count(4)
    expect(page.locator(f".today-stop[data-stop='{u.pk}'] .stop-meta")).to_contain_text(
        "13:00–16:00"
    )

    page.context.set_offline(True)
    expect(page.locator("#net")).to_have_attribute("data-online", "false")
    page.locator(f".today-stop[data-stop='{p.pk}'] .stop-done").tap()
    expect(page.locator(f".today-stop[data-stop='{p.pk}']")).to_have_attribute("data-state", "done")
    shown = _shown(page)
    # Without the windows the route would go P, U, R, Q. R's hours are over: it
    # goes last, marked; U stays next (nearest), its visit waiting for 13:00.
    assert {stop: seq for stop, (seq, _, _) in shown.items()} == {
        p.pk: 1,
        u.pk: 2,
        q.pk: 3,
        r.pk: 4,
    }
    # U is minutes away; its visit waits for the family, and the line says when.
    expect(page.locator(f".today-stop[data-stop='{u.pk}'] .stop-meta")).to_contain_text(
        "เยี่ยม 13:00"
    )
    assert "09:" in shown[u.pk][2]
    expect(page.locator(f".today-stop[data-stop='{r.pk}'] .stop-late")).to_have_count(1)
    expect(page.locator(".stop-late")).to_have_count(1)
    _screenshot(page, "5-offline-windows")


def _screenshot(page: Page, name: str) -> None:
    """test-results/screenshots/test_today-<name>.png: the conftest's ``shot`` takes
    its own touch page, not this one with a service worker."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"test_today-{name}.png"))
