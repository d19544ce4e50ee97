"""Benchmark: the officials' maps at national scale (``/gaps/layer.json`` and the
vector tiles ``/gaps/tiles/<z>/<x>/<y>.mvt``) over the registry pipeline's data.

Usage (from the repository root, after ``bench/registry_pipeline.py`` has filled
the database; only in a database whose name contains "bench", because it rewrites
the year's AreaStat rows and touches ~100 cases):

    DJANGO_DEBUG=true DATABASE_URL=postgres://postgres@127.0.0.1:5432/takhai_bench \\
        .venv/bin/python bench/official_maps.py [--year 2568] [--repeat 20] [--json FILE]

It measures, once each, a full ``stats_refresh`` and a ``stats_refresh_changed``
after ~100 cases spread over the provinces were written to (their ``updated_at``
moved, as any write does); then, through Django's test Client against the real
database (session, middleware, view, serialisation; no network):

- ``/gaps/layer.json`` at the country, the most populated province and district;
- tiles at z5, z8 and z11 over the populated areas (every tile of a 1920x1080
  viewport centred on the most populated province, district and tambon, so
  ``features per view`` is what a browser would draw there), uncached (the whole
  computation) and cached (a revalidation answered 304 from the ETag).

Times are p50/p95 over every request of a kind (``--repeat`` rounds); sizes are
the bodies as sent (no gzip: the server adds none). The data is whatever the
pipeline left: the counts of children and cases are printed, not generated.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
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
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402

from field.models import AreaStat, Case, ChildYear, Profile, Role, StatLevel  # noqa: E402
from field.services.stats import stats_refresh, stats_refresh_changed  # noqa: E402

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


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--year", type=int, default=2568)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args()
    check_database()
    data = {
        "children": ChildYear.objects.filter(academic_year=args.year).count(),
        "cases": Case.objects.count(),
        "open_cases": Case.objects.filter(status="open").count(),
    }
    print(
        f"{connection.settings_dict['NAME']}: {data['children']:,} children in {args.year}, "
        f"{data['cases']:,} cases ({data['open_cases']:,} open)",
        flush=True,
    )
    refreshed = refresh(args.year)
    print(json.dumps(refreshed), flush=True)
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
    print(table(rows))
    report = {
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "database": connection.settings_dict["NAME"],
        "k": settings.SUPPRESS_K,
        "data": data,
        "refresh": refreshed,
        "requests": rows,
    }
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
