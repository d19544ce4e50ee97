"""Debian's Chromium, driven by Playwright's sync API, at a 10" tablet's size.

Playwright's own browser download is never used (no `playwright install`): the
system Chromium is launched through ``executable_path``. Every request that does
not go to the live server is aborted and recorded, so a test can assert that the
page needs nothing from outside (field tablets are often offline).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connections
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    Route,
    ViewportSize,
    sync_playwright,
)
from pytest_django.live_server_helper import LiveServer

# Playwright's sync API runs an event loop in the test's thread, and Django refuses
# ORM calls from a thread with a running loop. The ORM calls here (fixtures loading
# boundaries) do not overlap the browser's, so the guard only gets in the way.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("TAKHAI_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TABLET: ViewportSize = {"width": 1280, "height": 800}
SCREENSHOTS = Path(settings.BASE_DIR) / "test-results" / "screenshots"


class BlockedRequests(list[str]):
    """URLs the page asked for outside the live server, all of them aborted."""


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    # Playwright's sync API runs on greenlets and Django keys its connections by
    # context: a connection left open on one side would be stranded there and keep
    # the test database from being dropped at the end of the run.
    connections.close_all()
    with sync_playwright() as driver:
        yield driver
    connections.close_all()


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not at {CHROMIUM} (apt-get install chromium)")
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def blocked_requests() -> BlockedRequests:
    return BlockedRequests()


def tablet_context(
    browser: Browser, live_server: LiveServer, blocked: list[str], **options: Any
) -> BrowserContext:
    """A Thai tablet's browser context (locale th-TH, 1280x800) that can reach the
    live server only; ``options`` go to ``new_context`` (``has_touch=True``, ...)."""
    context = browser.new_context(
        viewport=TABLET, locale="th-TH", timezone_id="Asia/Bangkok", **options
    )
    context.set_default_timeout(15_000)
    own = live_server.url

    def only_the_live_server(route: Route) -> None:
        if route.request.url.startswith(own):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", only_the_live_server)
    return context


@pytest.fixture
def page(
    browser: Browser, live_server: LiveServer, blocked_requests: BlockedRequests
) -> Iterator[Page]:
    """A page on a Thai tablet that can reach the live server only."""
    context = tablet_context(browser, live_server, blocked_requests)
    yield context.new_page()
    context.close()


@pytest.fixture
def touch_page(
    browser: Browser, live_server: LiveServer, blocked_requests: BlockedRequests
) -> Iterator[Page]:
    """The same with a touch screen: taps, not clicks, and Leaflet's touch controls."""
    context = tablet_context(browser, live_server, blocked_requests, has_touch=True)
    yield context.new_page()
    context.close()


def _screenshot_path(request: pytest.FixtureRequest, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"{request.module.__name__.rsplit('.', 1)[-1]}-{name}.png"


@pytest.fixture
def shot(touch_page: Page, request: pytest.FixtureRequest) -> Callable[[str], Path]:
    """``shot("name")``: the whole touch page, as test-results/screenshots/<module>-<name>.png."""

    def take(name: str) -> Path:
        path = _screenshot_path(request, name)
        touch_page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def screenshot(page: Page, request: pytest.FixtureRequest) -> Iterator[Callable[[str], Path]]:
    """``screenshot("name")`` saves test-results/screenshots/<module>-<name>.png."""

    def take(name: str) -> Path:
        path = _screenshot_path(request, name)
        page.screenshot(path=str(path))
        return path

    yield take


def log_in(page: Page, live_server: LiveServer, username: str, next_path: str) -> None:
    """Log in through the login form, as a person does, with a tap, landing on
    ``next_path``."""
    from factories import TEST_PASSWORD

    page.goto(f"{live_server.url}/accounts/login/?next={next_path}")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(TEST_PASSWORD)
    page.get_by_role("button", name="เข้าสู่ระบบ").tap()


def wait_for_js(page: Page, predicate: str, arg: Any = None, timeout_ms: int = 30_000) -> None:
    """Waits until the JavaScript function ``predicate`` (``"arg => ..."``) is true.

    Polled from Python: ``page.wait_for_function`` polls in the page with
    ``new Function``, which the site's Content-Security-Policy (no ``eval``)
    refuses whenever the condition is not already true at the first try.
    """
    import time

    deadline = time.monotonic() + timeout_ms / 1000
    while not page.evaluate(predicate, arg):
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout_ms} ms: {predicate}")
        page.wait_for_timeout(50)
