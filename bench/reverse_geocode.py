"""Benchmark: assign 1,000,000 household points to Thailand's 7,425 tambons.

Usage (from the repository root, after scripts/demo or scripts/test has installed):

    .venv/bin/python bench/reverse_geocode.py [--points 1000000] [--repeat 5]

Points are clustered around generated villages (about ten per tambon, households
within a few hundred metres, as in a civil register), in register order (or
``--order shuffled``). Each method counts points per tambon; all run in this one
process, in turn, and the median of the repeats is reported, because these
machines are noisy:

- ours: ``geo.selectors.count_by_subdistrict`` (grid cells found by arithmetic
  and a hash join, ``SubdistrictCell``; exact border rule);
- naive SQL: a join of points to whole tambon polygons with ST_Contains (GiST);
- subdivided SQL: the same join over ``ST_Subdivide``d pieces (GiST), the usual
  PostGIS recipe;
- geopandas: ``sjoin`` in memory, reported alone and with the time to load the
  points from the database, which the SQL methods do not need.

It works in tables named ``bench_*`` in the configured database and drops them at
the end; boundaries are imported first if the database has none.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
os.environ.setdefault("DJANGO_DEBUG", "true")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.gis.db import models  # noqa: E402
from django.db import connection  # noqa: E402

from geo.boundaries import import_boundaries  # noqa: E402
from geo.db_plans import explain, index_scans  # noqa: E402
from geo.models import Subdistrict  # noqa: E402
from geo.selectors import count_by_subdistrict, count_by_subdistrict_sql  # noqa: E402


class BenchPoint(models.Model):
    geom = models.PointField(srid=4326)

    class Meta:
        app_label = "geo"
        managed = False
        db_table = "bench_point"


def sql(statement: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])
        return cursor.fetchall() if cursor.description else []


def ensure_boundaries() -> None:
    if Subdistrict.objects.count() == 7425:
        return
    files = [settings.BOUNDARIES_DIR / f"tha_adm{n}.geojson" for n in (1, 2, 3)]
    print(f"importing boundaries from {settings.BOUNDARIES_DIR}", file=sys.stderr)
    import_boundaries(files)


def subdivide() -> None:
    sql("DROP TABLE IF EXISTS bench_subdivided")
    sql(
        "CREATE TABLE bench_subdivided AS SELECT code, ST_Subdivide(geom, 64) AS geom "
        "FROM geo_subdistrict"
    )
    sql("CREATE INDEX ON bench_subdivided USING gist (geom)")
    sql("ANALYZE bench_subdivided")


def generate(points: int, order: str) -> None:
    """Villages inside each tambon, then households scattered around villages."""
    sql("DROP TABLE IF EXISTS bench_point, bench_village")
    sql("SELECT setseed(0.2568)")
    sql(
        "CREATE TABLE bench_village AS "
        "SELECT code, (ST_Dump(ST_GeneratePoints(geom, 10, 2568))).geom AS g FROM geo_subdistrict"
    )
    villages = sql("SELECT count(*) FROM bench_village")[0][0]
    per_village = points / int(villages)
    # Box-Muller normal offsets, sigma about 300 m. "register" keeps households
    # village by village, as civil-registration files list them; "shuffled" is the
    # adversarial order.
    sql(
        "CREATE TABLE bench_point AS "
        "SELECT row_number() OVER () AS id, g AS geom FROM ("
        " SELECT ST_SetSRID(ST_MakePoint("
        "   ST_X(v.g) + 0.0028 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()),"
        "   ST_Y(v.g) + 0.0027 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())), 4326) g"
        " FROM bench_village v"
        " CROSS JOIN LATERAL generate_series(1, floor(%s + random())::int)"
        f" ORDER BY {'random()' if order == 'shuffled' else 'v.code, random()'} LIMIT %s) t",
        [per_village, points],
    )
    sql("ALTER TABLE bench_point ADD PRIMARY KEY (id)")
    sql("VACUUM ANALYZE bench_point")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def timed(run: Callable[[], object], repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--order", choices=["register", "shuffled"], default="register")
    parser.add_argument("--keep", action="store_true", help="keep the bench_* tables")
    args = parser.parse_args()

    ensure_boundaries()
    start = time.perf_counter()
    generate(args.points, args.order)
    subdivide()
    generated = time.perf_counter() - start
    total = sql("SELECT count(*) FROM bench_point")[0][0]
    parts = sql("SELECT count(*) FROM bench_subdivided")[0][0]
    cells = sql("SELECT count(*), count(*) FILTER (WHERE whole) FROM geo_subdistrictcell")[0]
    print(
        f"{total} points around {sql('SELECT count(*) FROM bench_village')[0][0]} villages "
        f"in {generated:.1f} s; {parts} tambon pieces",
        file=sys.stderr,
    )

    queryset = BenchPoint._default_manager.all()
    ours_sql, ours_params = count_by_subdistrict_sql(queryset, "geom")
    plan_indexes = sorted(index_scans(explain(ours_sql, ours_params)))

    methods: dict[str, Callable[[], object]] = {
        "ours (count_by_subdistrict)": lambda: count_by_subdistrict(queryset, "geom"),
        "naive SQL join": lambda: dict(
            sql(
                "SELECT s.code, count(*) FROM bench_point p "
                "LEFT JOIN geo_subdistrict s ON ST_Contains(s.geom, p.geom) GROUP BY s.code"
            )
        ),
        "subdivided SQL join": lambda: dict(
            sql(
                "SELECT part.code, count(*) FROM bench_point p "
                "LEFT JOIN bench_subdivided part ON ST_Contains(part.geom, p.geom) GROUP BY 1"
            )
        ),
    }
    results: dict[str, dict[str, float]] = {}
    counts: dict[str, dict[object, object]] = {}
    for name, run in methods.items():
        seconds, result = timed(run, args.repeat)
        counts[name] = result  # type: ignore[assignment]
        results[name] = {"seconds": seconds, "points_per_s": total / seconds}
        print(f"{name}: {seconds:.3f} s", file=sys.stderr)

    gpd_seconds, load_seconds = geopandas_sjoin(args.repeat)
    if gpd_seconds is not None and load_seconds is not None:
        end_to_end = gpd_seconds + load_seconds
        results["geopandas sjoin, points loaded from the database"] = {
            "seconds": end_to_end,
            "points_per_s": total / end_to_end,
        }
        results["geopandas sjoin in memory"] = {
            "seconds": gpd_seconds,
            "points_per_s": total / gpd_seconds,
            "load_seconds": load_seconds,
        }

    ours = results["ours (count_by_subdistrict)"]["seconds"]
    others = {k: v["seconds"] for k, v in results.items() if not k.startswith("ours")}
    best_other = min(others.values())
    from_db = {k: v for k, v in others.items() if "in memory" not in k}
    best_from_db = min(from_db.values())
    ours_counts = counts["ours (count_by_subdistrict)"]
    outside = ours_counts.get(None, 0)
    report = {
        "date": date.today().isoformat(),  # noqa: DTZ011
        "machine": f"{os.cpu_count()} cores, {cpu_model()}, PostgreSQL {connection.pg_version}",  # type: ignore[attr-defined]
        "points": total,
        "order": args.order,
        "subdivided_pieces": parts,
        "outside_every_tambon": outside,
        "plan_indexes": plan_indexes,
        "methods": results,
        "cells": cells[0],
        "whole_cells": cells[1],
        "ratio_ours_to_best_other": ours / best_other,
        "ratio_ours_to_best_from_database": ours / best_from_db,
    }
    print(json.dumps(report, indent=2, default=str))
    print(markdown(report))
    if not args.keep:
        sql("DROP TABLE IF EXISTS bench_point, bench_village, bench_subdivided")


def geopandas_sjoin(repeat: int) -> tuple[float | None, float | None]:
    try:
        import geopandas as gpd
        import shapely
    except ImportError:
        print("geopandas is not installed: skipped", file=sys.stderr)
        return None, None
    start = time.perf_counter()
    rows = sql("SELECT ST_X(geom), ST_Y(geom) FROM bench_point")
    xy = [(float(x), float(y)) for x, y in rows]
    points = gpd.GeoDataFrame(geometry=shapely.points(xy), crs=4326)
    tambons = gpd.GeoDataFrame(
        [
            {"code": c, "geometry": shapely.from_wkb(bytes(g))}
            for c, g in sql("SELECT code, ST_AsBinary(geom) FROM geo_subdistrict")
        ],
        crs=4326,
    )
    load = time.perf_counter() - start

    def run() -> object:
        joined = gpd.sjoin(points, tambons, how="left", predicate="within")
        return joined["code"].value_counts(dropna=False)

    seconds, _ = timed(run, repeat)
    print(f"geopandas sjoin: {seconds:.3f} s (loading took {load:.1f} s)", file=sys.stderr)
    return seconds, load


def markdown(report: dict[str, object]) -> str:
    lines = [
        f"Reverse geocoding, {report['points']:,} points in {report['order']} order, "
        f"{report['date']}, {report['machine']}",
        "",
        "| method | median s | points/s |",
        "| --- | --- | --- |",
    ]
    for name, figures in report["methods"].items():  # type: ignore[attr-defined]
        lines.append(f"| {name} | {figures['seconds']:.3f} | {figures['points_per_s']:,.0f} |")
    lines.append("")
    lines.append(f"ratio ours / best other: {report['ratio_ours_to_best_other']:.3f}")
    lines.append(
        "ratio ours / best other starting from the database: "
        f"{report['ratio_ours_to_best_from_database']:.3f}"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
