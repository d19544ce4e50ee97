"""Time to interactive of the officials' gap map (``/gaps/``) in headless Chromium.

Called by ``bench/official_maps.py`` (``--tti-repeat N``, 0 to skip); not a script of
its own. The app is served as a deployment serves it: ``collectstatic`` with the
manifest storage into a temporary directory (whitenoise), ``gunicorn project.wsgi``
with 2 workers, DEBUG off, on a free port of 127.0.0.1, from the benchmark's
database. Debian's Chromium (/usr/bin/chromium, or $TAKHAI_CHROMIUM) is driven by
Playwright, which never downloads a browser.

Each user logs in once through ``/accounts/login/`` (the form's button,
"เข้าสู่ระบบ"); every measured load then opens a **new browser context** holding
only that session cookie (empty HTTP cache: the HTML, Leaflet, the scripts and
``/gaps/layer.json`` all come from the server), at 1920x1080. The time to
interactive is, in the page's own clock, from navigation start to
``document.body.dataset.gapsReady === "true"`` (set by ``gaps.js`` once the layer
is drawn and the table filled), and "drawn" to the end of the frame after it.
Features drawn are the SVG paths of the areas (Leaflet's overlay pane) at that
moment. Medians of the HTML's arrival, DOMContentLoaded and ``layer.json``'s
request and arrival are kept too.

Views, ``repeat`` cold loads each, after one load of each that is not counted (the
gunicorn workers' first requests):

- an administrator (national scope): ``/gaps/`` (the country, its provinces),
  ``/gaps/?area=<province>`` and ``/gaps/?area=<district>`` (the most populated);
  then, in the page of the country, a click on the province on the map and, in
  the province, on the district: from the click to ready again;
- an official whose scope is that province: ``/gaps/`` (its districts).

**Nothing leaves the machine.** The base map's tiles (``TILE_URL``, OpenStreetMap
by default) and any other request not to the local server are aborted by a
Playwright route on the context, and counted; Leaflet draws the areas without its
tiles. A route intercepts every request, local ones too (a round trip to the
driver each, about a millisecond).
"""

from __future__ import annotations

import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
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
VIEWPORT = {"width": 1920, "height": 1080}
SERVER_WORKERS = 2  # as the Dockerfile and scripts/demo run it
GOAL_INTERACTIVE_MS = 3000
# Also kept from each load, ms from navigation start: the HTML received,
# DOMContentLoaded, and /gaps/layer.json asked for and received.
STEPS = ("html", "dom", "layerStart", "layerEnd")
# Installed before the page's scripts: every time gaps.js says the map is ready,
# when (ms from navigation start), for which area, and how many area paths are
# drawn; "drawn" once the frame after it is done.
MARKER_JS = """
(() => {
  const marks = [];
  window.__gaps = marks;
  new MutationObserver((records) => {
    const body = document.body;
    if (!body || body.dataset.gapsReady !== "true") return;
    if (!records.some((r) => r.target === body && r.oldValue !== "true")) return;
    const page = performance.getEntriesByType("navigation")[0];
    const layers = performance.getEntriesByType("resource")
      .filter((entry) => new URL(entry.name).pathname.endsWith("/layer.json"));
    const layer = layers[layers.length - 1];
    const mark = {
      ready: performance.now(),
      area: body.dataset.gapsArea || "",
      paths: document.querySelectorAll("#gap-map .leaflet-overlay-pane path").length,
      html: page.responseEnd,
      dom: page.domContentLoadedEventEnd,
      layerStart: layer ? layer.startTime : null,
      layerEnd: layer ? layer.responseEnd : null,
    };
    marks.push(mark);
    requestAnimationFrame(() => setTimeout(() => { mark.drawn = performance.now(); }));
  }).observe(document, { subtree: true, attributes: true, attributeOldValue: true,
                         attributeFilter: ["data-gaps-ready"] });
})();
"""
# In the page: clicks the area ``code`` on the map, and returns the click's time.
CLICK_JS = """
(code) => {
  const path = document.querySelector(`#gap-map .leaflet-overlay-pane path[data-area="${code}"]`);
  if (!path) return null;
  const at = performance.now();
  path.dispatchEvent(new MouseEvent("click", { bubbles: true, cancelable: true, view: window }));
  return at;
}
"""


def served_app() -> Any:
    """The WSGI application for gunicorn (``gaps_interactive:served_app()``), with its
    static files collected into $TAKHAI_BENCH_STATIC_ROOT (a directory of the
    benchmark's own: the usual STATIC_ROOT may serve a running demo)."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application

    settings.STATIC_ROOT = os.environ["TAKHAI_BENCH_STATIC_ROOT"]
    call_command("collectstatic", interactive=False, verbosity=0)
    return get_wsgi_application()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def app_server(workdir: Path) -> Iterator[str]:
    """gunicorn serving DATABASE_URL at a free local port, DEBUG off; stopped on exit."""
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        # Plain HTTP on 127.0.0.1, as scripts/demo serves it: no redirect to HTTPS.
        "TAKHAI_HTTPS": "false",
        "TAKHAI_BENCH_STATIC_ROOT": str(workdir / "static"),
        "DJANGO_LOG_LEVEL": "WARNING",
    }
    log_path = workdir / "gunicorn.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "gaps_interactive:served_app()",
                "--pythonpath",
                str(ROOT / "bench"),
                "--preload",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(SERVER_WORKERS),
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 180
            while True:
                if server.poll() is not None:
                    sys.exit(f"gunicorn exited:\n{log_path.read_text()[-3000:]}")
                try:
                    # An http:// URL of the server started above, never a user's.
                    with urllib.request.urlopen(f"{url}/accounts/login/", timeout=30) as answer:  # noqa: S310
                        if answer.status == 200:
                            break
                except (urllib.error.URLError, OSError):
                    pass
                if time.monotonic() > deadline:
                    sys.exit("gunicorn did not answer within 3 minutes")
                time.sleep(0.5)
            yield url
        finally:
            server.terminate()
            server.wait(timeout=30)


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, -(-95 * len(ordered) // 100) - 1)]


def _summary(
    ready: list[float], drawn: list[float], paths: list[int], steps: dict[str, list[float]]
) -> dict[str, Any]:
    return {
        **{f"{step}_p50_ms": round(statistics.median(v)) for step, v in steps.items() if v},
        "n": len(ready),
        "p50_ms": round(statistics.median(ready)),
        "p95_ms": round(_p95(ready)),
        "max_ms": round(max(ready)),
        "drawn_p50_ms": round(statistics.median(drawn)),
        "drawn_p95_ms": round(_p95(drawn)),
        "features_drawn": max(paths),
        "runs_ms": [round(t) for t in ready],
    }


def measure(
    url: str,
    logins: dict[str, tuple[str, str]],
    views: list[dict[str, str]],
    clicks: list[str],
    repeat: int,
) -> dict[str, Any]:
    """``repeat`` cold loads of every view; ``logins`` maps a user label to its
    username and password; each view is {"label", "user", "area"} ("" for the
    user's own scope); ``clicks`` are areas opened one after the other by a click
    on the map, starting from the administrator's country view."""
    from playwright.sync_api import Browser, BrowserContext, Page, Route, sync_playwright

    blocked: list[str] = []
    rows: list[dict[str, Any]] = []

    def only_this_server(route: Route) -> None:
        if route.request.url.startswith(url + "/"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    def new_context(browser: Browser, state: Any) -> BrowserContext:
        context = browser.new_context(
            storage_state=state,
            viewport=VIEWPORT,  # type: ignore[arg-type]
            locale="th-TH",
            timezone_id="Asia/Bangkok",
        )
        context.set_default_timeout(120_000)
        context.route("**/*", only_this_server)
        context.add_init_script(MARKER_JS)
        return context

    def ready_mark(page: Page, count: int) -> dict[str, Any]:
        # Polled from here: wait_for_function evaluates a string in the page, which
        # the app's Content-Security-Policy (script-src 'self') forbids. The times
        # are the page's own, so the polling does not add to them.
        deadline = time.monotonic() + 120
        while True:
            marks: list[dict[str, Any]] = page.evaluate("() => window.__gaps || []")
            if len(marks) >= count and marks[count - 1].get("drawn") is not None:
                return marks[count - 1]
            if time.monotonic() > deadline:
                sys.exit(f"{page.url}: not ready within 2 minutes ({marks})")
            page.wait_for_timeout(20)

    def load(browser: Browser, state: Any, area: str) -> tuple[dict[str, Any], Page]:
        context = new_context(browser, state)
        page = context.new_page()
        query = f"?area={area}" if area else ""
        # "commit": returns at once, so that nothing of the load waits on Playwright.
        page.goto(f"{url}/gaps/{query}", wait_until="commit")
        mark = ready_mark(page, 1)
        status = page.locator("#gap-status")
        if status.is_visible():
            sys.exit(f"/gaps/{query}: {status.text_content()}")
        return mark, page

    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            states: dict[str, Any] = {}
            for label, (username, password) in logins.items():
                context = browser.new_context(locale="th-TH")
                context.set_default_timeout(120_000)
                context.route("**/*", only_this_server)
                page = context.new_page()
                page.goto(f"{url}/accounts/login/")
                page.locator("input[name=username]").fill(username)
                page.locator("input[name=password]").fill(password)
                page.get_by_role("button", name="เข้าสู่ระบบ").click()
                page.wait_for_url(lambda address: "/accounts/login/" not in address)
                states[label] = context.storage_state()
                context.close()
            for view in views:
                _, page = load(browser, states[view["user"]], view["area"])  # not counted
                page.context.close()
                ready: list[float] = []
                drawn: list[float] = []
                paths: list[int] = []
                steps: dict[str, list[float]] = {name: [] for name in STEPS}
                for _ in range(repeat):
                    mark, page = load(browser, states[view["user"]], view["area"])
                    ready.append(mark["ready"])
                    drawn.append(mark["drawn"])
                    paths.append(mark["paths"])
                    for step in STEPS:
                        if mark.get(step) is not None:
                            steps[step].append(mark[step])
                    page.context.close()
                rows.append(
                    {"what": view["label"], "area": view.get("shows") or view["area"]}
                    | _summary(ready, drawn, paths, steps)
                )
                print(f"  {view['label']}: {rows[-1]}", flush=True)
            times: dict[str, tuple[list[float], list[float], list[int]]] = {
                code: ([], [], []) for code in clicks
            }
            for round_ in range(repeat + 1):
                _, page = load(browser, states["admin"], "")
                for count, code in enumerate(clicks, start=2):
                    at = page.evaluate(CLICK_JS, code)
                    if at is None:
                        sys.exit(f"no area {code} drawn to click")
                    mark = ready_mark(page, count)
                    if mark["area"] != code:
                        sys.exit(f"clicked {code}, the page opened {mark['area']!r}")
                    if round_:  # the first round is not counted
                        times[code][0].append(mark["ready"] - at)
                        times[code][1].append(mark["drawn"] - at)
                        times[code][2].append(mark["paths"])
                page.context.close()
            for code in clicks:
                rows.append(
                    {"what": f"click on the map to {code} (from the click)", "area": code}
                    | _summary(*times[code], {})
                )
                print(f"  {rows[-1]['what']}: {rows[-1]}", flush=True)
        finally:
            browser.close()
    return {
        "views": rows,
        "blocked_requests": len(blocked),
        "blocked_hosts": sorted({u.split("/")[2] for u in blocked if "//" in u}),
    }


def run(
    logins: dict[str, tuple[str, str]],
    views: list[dict[str, str]],
    clicks: list[str],
    repeat: int,
) -> dict[str, Any]:
    """Serves the app and measures; see ``measure``."""
    with tempfile.TemporaryDirectory(prefix="takhai-bench-") as workdir:
        with app_server(Path(workdir)) as url:
            return measure(url, logins, views, clicks, repeat)
