"""Benchmark: the officials' maps at national scale (``/gaps/layer.json``, the vector
tiles ``/gaps/tiles/<z>/<x>/<y>.mvt`` and ``/gaps/`` in Chromium) over one million cases.

Usage (from the repository root, after ``bench/registry_pipeline.py`` has filled the
database; only in a database whose name contains "bench", because it adds cases,
rewrites the year's AreaStat rows and touches ~150 cases). The whole benchmark:

    DJANGO_DEBUG=true DATABASE_URL=postgres://postgres@127.0.0.1:5432/takhai_bench \\
        .venv/bin/python bench/official_maps.py --cases 1000000 [--year 2568] \\
        [--repeat 20] [--tti-repeat 9] [--json FILE]

1. ``--cases N`` first tops the database up to N cases in all, over every province
   (``bench/national_cases.py``: children, households, child years, cases, visits; a
   second run adds nothing). Without it, the data is whatever is there.
2. It measures, once each, a full ``stats_refresh`` and a ``stats_refresh_changed``
   after ~150 cases spread over the provinces were written to (their ``updated_at``
   moved, as any write does). The second one runs in full (and says so) when an
   import or a reconciliation finished less than ``CHANGE_OVERLAP`` before the first.
3. Through Django's test Client against the real database (session, middleware,
   view, serialisation; no network):

   - ``/gaps/layer.json`` at the country, the most populated province and district;
   - tiles at z5, z8 and z11 over the populated areas (every tile of a 1920x1080
     viewport centred on the most populated province, district and tambon, so
     ``features per view`` is what a browser would draw there), uncached (the whole
     computation) and cached (a revalidation answered 304 from the ETag).

   Times are p50/p95 over every request of a kind (``--repeat`` rounds); sizes are
   the bodies as sent (no gzip: the server adds none).
4. Time to interactive of ``/gaps/`` in headless Chromium (``bench/gaps_interactive.py``;
   ``--tti-repeat 0`` skips it): gunicorn serves the app on a free local port, an
   administrator and an official of the most populated province log in, and each of
   ``--tti-repeat`` cold loads (a new browser context) of the country, the province,
   the district and the official's view is timed from navigation start to
   ``body[data-gaps-ready="true"]``, with the areas drawn; so are clicks on the map
   from the country to the province and on to the district. Requests off the local
   server (the base map's tiles) are aborted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
os.environ.setdefault("DJANGO_DEBUG", "true")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402
from national_cases import top_up  # noqa: E402

from field.models import (  # noqa: E402
    AreaStat,
    Case,
    CaseProgress,
    ChildYear,
    Profile,
    Role,
    StatLevel,
    Visit,
)
from field.services.stats import (  # noqa: E402
    CHANGE_OVERLAP,
    stats_refresh,
    stats_refresh_changed,
)

VIEWPORT = (1920, 1080)
TOUCHED = 100


def check_database() -> None:
    name = str(connection.settings_dict["NAME"])
    if "bench" not in name:
        sys.exit(
            f"refusing to rewrite the statistics of {name!r}: use a database whose name "
            "contains 'bench' (DATABASE_URL=.../takhai_bench)"
        )


# --- a Mapbox vector tile's feature count, without a library -----------------------


def _varint(data: bytes, at: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, at


def _messages(data: bytes) -> list[tuple[int, bytes]]:
    """The length-delimited fields of one message (others skipped)."""
    out: list[tuple[int, bytes]] = []
    at = 0
    while at < len(data):
        key, at = _varint(data, at)
        wire = key & 7
        if wire == 0:
            _, at = _varint(data, at)
        elif wire == 2:
            length, at = _varint(data, at)
            out.append((key >> 3, data[at : at + length]))
            at += length
        else:
            at += 8 if wire == 1 else 4
    return out


def tile_codes(tile: bytes) -> list[str]:
    """The ``code`` of every feature of every layer."""
    codes: list[str] = []
    for _, layer in _messages(tile):
        parts = _messages(layer)
        keys = [v.decode() for n, v in parts if n == 3]
        values = [_messages(v) for n, v in parts if n == 4]
        code_key = keys.index("code")
        for feature in (v for n, v in parts if n == 2):
            for n, tags in _messages(feature):
                if n != 2:
                    continue
                ids, at = [], 0
                while at < len(tags):
                    tag, at = _varint(tags, at)
                    ids.append(tag)
                for k, i in zip(ids[::2], ids[1::2], strict=True):
                    if k == code_key:
                        codes.append(values[i][0][1].decode())
    return codes


# --- where to look -------------------------------------------------------------------


def _top(level: StatLevel, year: int) -> str:
    row = (
        AreaStat.objects.filter(academic_year=year, level=level)
        .order_by("-children_in_window")
        .values_list("code", flat=True)
        .first()
    )
    if row is None:
        sys.exit(f"no {level} AreaStat rows for {year}")
    return row


def _centre(code: str) -> tuple[float, float]:
    table = {2: "geo_province", 4: "geo_district", 6: "geo_subdistrict"}[len(code)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_PointOnSurface(geom) AS c "
            f"FROM {table} WHERE code = %s) AS p",
            [code],
        )
        x, y = cursor.fetchone()
    return float(x), float(y)


def viewport_tiles(lon: float, lat: float, z: int) -> list[tuple[int, int, int]]:
    """The tiles of a VIEWPORT-sized map centred on (lon, lat) at zoom ``z``."""
    n = 2**z
    px = (lon + 180) / 360 * n * 256
    py = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n * 256
    half_w, half_h = VIEWPORT[0] / 2, VIEWPORT[1] / 2
    xs = range(int((px - half_w) // 256), int((px + half_w) // 256) + 1)
    ys = range(int((py - half_h) // 256), int((py + half_h) // 256) + 1)
    return [(z, x, y) for x in xs for y in ys if 0 <= x < n and 0 <= y < n]


# --- measuring -------------------------------------------------------------------------


def _timed(call: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


def _summary(times: list[float]) -> dict[str, float]:
    return {
        "n": len(times),
        "p50_ms": round(statistics.median(times) * 1000, 1),
        "p95_ms": round(_p(times, 0.95) * 1000, 1),
        "max_ms": round(max(times) * 1000, 1),
    }


def _user() -> User:
    user, _ = User.objects.get_or_create(
        username="bench-official-maps", defaults={"is_superuser": True, "is_staff": True}
    )
    Profile.objects.update_or_create(user=user, defaults={"role": Role.ADMINISTRATOR})
    return user


def measure_layers(
    client: Client, year: int, areas: dict[str, str], repeat: int
) -> list[dict[str, Any]]:
    rows = []
    url = reverse("field-gap-layer")
    for label, code in areas.items():
        query: dict[str, str | int] = {"year": year, **({"area": code} if code else {})}
        client.get(url, query)  # the first read of the polygons from disk is not the map's
        times, size, features = [], 0, 0
        for _ in range(repeat):
            elapsed, response = _timed(lambda q=query: client.get(url, q))  # type: ignore[misc]
            if response.status_code != 200:
                sys.exit(f"{url} {query}: {response.status_code}")
            times.append(elapsed)
            size = len(response.content)
            features = len(json.loads(response.content)["features"])
            reset_queries()
        rows.append(
            {
                "what": f"layer.json, {label}",
                "area": code or "TH",
                **_summary(times),
                "bytes": size,
                "max_bytes": size,
                "features_per_view": features,
            }
        )
    return rows


def measure_tiles(
    client: Client, year: int, centres: dict[int, tuple[str, tuple[float, float]]], repeat: int
) -> list[dict[str, Any]]:
    rows = []
    for z, (code, centre) in centres.items():
        tiles = viewport_tiles(*centre, z)
        urls = [reverse("field-gap-tile", kwargs={"z": t[0], "x": t[1], "y": t[2]}) for t in tiles]
        for url in urls:
            client.get(url, {"year": year})  # warm the buffers, as above
        uncached, cached, sizes, etags, codes = [], [], [], {}, set()
        for _ in range(repeat):
            for url in urls:
                elapsed, response = _timed(lambda u=url: client.get(u, {"year": year}))  # type: ignore[misc]
                if response.status_code not in (200, 204):
                    sys.exit(f"{url}: {response.status_code}")
                uncached.append(elapsed)
                sizes.append(len(response.content))
                etags[url] = response["ETag"]
                codes.update(tile_codes(response.content))
            for url in urls:
                elapsed, response = _timed(
                    lambda u=url, tag=etags[url]: client.get(  # type: ignore[misc]
                        u, {"year": year}, headers={"if-none-match": tag}
                    )
                )
                if response.status_code != 304:
                    sys.exit(f"{url} revalidated: {response.status_code}")
                cached.append(elapsed)
            reset_queries()
        per_view = sizes[: len(urls)]
        rows.append(
            {
                "what": f"tiles z{z}, uncached",
                "area": code,
                "tiles_per_view": len(urls),
                **_summary(uncached),
                "bytes": sum(per_view),
                "max_bytes": max(sizes),
                "features_per_view": len(codes),
            }
        )
        rows.append(
            {
                "what": f"tiles z{z}, cached (304)",
                "area": code,
                "tiles_per_view": len(urls),
                **_summary(cached),
                "bytes": 0,
                "max_bytes": 0,
                "features_per_view": len(codes),
            }
        )
    return rows


def refresh(year: int) -> dict[str, Any]:
    full_seconds, full = _timed(lambda: stats_refresh(academic_year=year))
    # ~TOUCHED cases, a few per province: a day's syncs across the country.
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH ranked AS (
                SELECT c.id, row_number() OVER (
                    PARTITION BY left(h.subdistrict_id, 2) ORDER BY c.id
                ) AS n, count(*) OVER () AS total
                FROM field_case c
                JOIN field_child ch ON ch.id = c.child_id
                JOIN field_household h ON h.id = ch.household_id
                WHERE c.status = 'open' AND h.subdistrict_id IS NOT NULL
            )
            UPDATE field_case SET updated_at = now()
            WHERE id IN (SELECT id FROM ranked WHERE n <= %s)
            """,
            [max(1, math.ceil(TOUCHED / 77))],
        )
        touched = cursor.rowcount
    changed_seconds, changed = _timed(lambda: stats_refresh_changed(academic_year=year))
    if changed.full:
        print(
            "warning: the incremental refresh ran in full: an import or a reconciliation "
            f"finished less than {CHANGE_OVERLAP} before the full one (wait, and run again)",
            flush=True,
        )
    return {
        "full_seconds": round(full_seconds, 2),
        "full_tambons": full.tambons_recounted,
        "full_rows": full.rows_written,
        "cases_touched": touched,
        "incremental_seconds": round(changed_seconds, 2),
        "incremental_full": changed.full,
        "incremental_tambons": changed.tambons_recounted,
    }


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| request | area | tiles per view | n | p50 ms | p95 ms | max ms | bytes per view "
        "| largest body | features per view |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['what']} | {r['area']} | {r.get('tiles_per_view', 1)} | {r['n']} "
            f"| {r['p50_ms']} | {r['p95_ms']} | {r['max_ms']} | {r['bytes']:,} "
            f"| {r['max_bytes']:,} | {r['features_per_view']:,} |"
        )
    return "\n".join(lines)


def _official(province: str, password: str) -> User:
    user, _ = User.objects.get_or_create(username="bench-official-province")
    user.set_password(password)
    user.save(update_fields=["password"])
    Profile.objects.update_or_create(
        user=user, defaults={"role": Role.OFFICIAL, "province_id": province}
    )
    return user


def interactive(year: int, province: str, district: str, repeat: int) -> dict[str, Any]:
    """Time to interactive of ``/gaps/`` in Chromium (``bench/gaps_interactive.py``)."""
    from gaps_interactive import run

    admin_password = secrets.token_urlsafe(16)
    admin = _user()
    admin.set_password(admin_password)
    admin.save(update_fields=["password"])
    official_password = secrets.token_urlsafe(16)
    official = _official(province, official_password)
    # Playwright's sync API runs an event loop in this thread, and Django refuses ORM
    # calls from such a thread: every query of this process is done by now.
    connection.close()
    return run(
        {
            "admin": (admin.username, admin_password),
            "official": (official.username, official_password),
        },
        [
            {
                "label": "/gaps/, administrator: the country",
                "user": "admin",
                "area": "",
                "shows": "TH",
            },
            {
                "label": "/gaps/?area=, administrator: the province",
                "user": "admin",
                "area": province,
            },
            {
                "label": "/gaps/?area=, administrator: the district",
                "user": "admin",
                "area": district,
            },
            {
                "label": "/gaps/, official of the province: its scope",
                "user": "official",
                "area": "",
                "shows": province,
            },
        ],
        [province, district],
        repeat,
    )


def tti_table(result: dict[str, Any]) -> str:
    lines = [
        "| view | area | n | ready p50 ms | ready p95 ms | max ms | drawn p50 ms "
        "| drawn p95 ms | features drawn | HTML | DOMContentLoaded | layer.json |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in result["views"]:
        layer = (
            f"{r['layerStart_p50_ms']:,}-{r['layerEnd_p50_ms']:,}" if "layerEnd_p50_ms" in r else ""
        )
        lines.append(
            f"| {r['what']} | {r['area']} | {r['n']} | {r['p50_ms']:,} | {r['p95_ms']:,} "
            f"| {r['max_ms']:,} | {r['drawn_p50_ms']:,} | {r['drawn_p95_ms']:,} "
            f"| {r['features_drawn']:,} | {r.get('html_p50_ms', '')} "
            f"| {r.get('dom_p50_ms', '')} | {layer} |"
        )
    return "\n".join(lines)


def case_counts(year: int) -> dict[str, int]:
    progress = dict(
        Case.objects.filter(status="open").values_list("progress").annotate(n=Count("id"))
    )
    return {
        "children": ChildYear.objects.filter(academic_year=year).count(),
        "cases": Case.objects.count(),
        "open_cases": Case.objects.filter(status="open").count(),
        **{f"open_{key}": int(progress.get(key, 0)) for key in CaseProgress.values},
        "closed_cases": Case.objects.filter(status="closed").count(),
        "visits": Visit.objects.count(),
        "provinces_with_cases": AreaStat.objects.filter(
            academic_year=year, level=StatLevel.PROVINCE, cases_open__gt=0
        ).count(),
        "tambons_with_cases": AreaStat.objects.filter(
            academic_year=year, level=StatLevel.TAMBON, cases_open__gt=0
        ).count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--year", type=int, default=2568)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument(
        "--cases",
        type=int,
        default=0,
        help="first top the database up to this many cases (bench/national_cases.py)",
    )
    parser.add_argument(
        "--tti-repeat",
        type=int,
        default=9,
        help="cold loads of each /gaps/ view in Chromium (0: no browser)",
    )
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args()
    check_database()
    load_at_start = [round(x, 2) for x in os.getloadavg()]
    print(f"load average {load_at_start}", flush=True)
    generated = top_up(args.cases, args.year) if args.cases else None
    refreshed = refresh(args.year)
    print(json.dumps(refreshed), flush=True)
    data = case_counts(args.year)
    print(
        f"{connection.settings_dict['NAME']}: {data['children']:,} children in {args.year}, "
        f"{data['cases']:,} cases ({data['open_cases']:,} open), "
        f"in {data['provinces_with_cases']} provinces and {data['tambons_with_cases']:,} tambons",
        flush=True,
    )
    province = _top(StatLevel.PROVINCE, args.year)
    district = _top(StatLevel.DISTRICT, args.year)
    tambon = _top(StatLevel.TAMBON, args.year)
    # The test client calls itself "testserver", which production settings refuse.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    client = Client()
    client.force_login(_user())
    rows = measure_layers(
        client, args.year, {"country": "", "province": province, "district": district}, args.repeat
    )
    print(table(rows), flush=True)
    rows += measure_tiles(
        client,
        args.year,
        {
            5: (province, _centre(province)),
            8: (district, _centre(district)),
            11: (tambon, _centre(tambon)),
        },
        max(1, args.repeat // 5),
    )
    print()
    print(table(rows), flush=True)
    report: dict[str, Any] = {
        "date": dt.date.today().isoformat(),  # noqa: DTZ011
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average_at_start": load_at_start,
        },
        "database": connection.settings_dict["NAME"],
        "k": settings.SUPPRESS_K,
        "generated": generated,
        "data": data,
        "refresh": refreshed,
        "requests": rows,
    }
    if args.tti_repeat > 0:
        print(f"\ntime to interactive, {args.tti_repeat} cold loads each:", flush=True)
        report["interactive"] = interactive(args.year, province, district, args.tti_repeat)
        print()
        print(tti_table(report["interactive"]))
        print(
            f"requests off the server, aborted: {report['interactive']['blocked_requests']} "
            f"({', '.join(report['interactive']['blocked_hosts']) or 'none'})"
        )
    report["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print(f"load average {report['machine']['load_average_at_end']}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
