"""Benchmark: home-visit day plans on the demo data, ours against VROOM level 5.

Usage (from the repository root, against the demo database; reads it, and the district
batch creates RoutePlan rows for one day that it deletes again):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/takhai DJANGO_DEBUG=true \\
        .venv/bin/python bench/demo_routes.py [--seeds 3] [--sizes 20 40 80] [--batch-runs 3]

(a) Day plans. Stops are the demo's real open cases (at their whereabouts, else their
household's point), with their real priorities (``priority_of`` on the plan's day),
drawn at random (per seed) from one search team's area; the team's 1 to 4 members all
start from the team's base. At 20 stops the volunteers whose zone holds at least 20
open cases add one-member instances from their homes. The demo has no household
windows, so seeded ones are added: 15 % of the households only 17:00-19:00, 10 % only
09:00-12:00. Working hours 09:00-19:00, 30 minutes per visit, motorcycle, circuity 1.3.
Methods, each through ``plan_day`` on the same instance in the same run:

- ``vroom-5``: VROOM alone at exploration level 5 (``seconds=0``), one thread.
- ``vroom-1``: the same at level 1.
- ``ours``: the default (VROOM level 1, PyVRP polish, balance pass).

As in bench/day_plans.py, a method is compared with ``vroom-5`` first on the visits
served per priority (better/equal/worse, lexicographically), then on travel time where
both serve the same visits. Spread is the largest member's day over the team mean, on
instances with 2-4 members.

(b) District batch: ``plan_routes --district 4001 --volunteers --json`` (every team
and active volunteer of the district, default hours 08:30-16:30) on a day without
plans, timed as the command reports it; the plans it made are deleted afterwards.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import random
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
os.environ.setdefault("DJANGO_DEBUG", "true")

import django  # noqa: E402

django.setup()

from day_plans import Result, print_comparison  # noqa: E402
from django.core.management import call_command  # noqa: E402

from field.models import Role, RoutePlan, Team, Volunteer  # noqa: E402
from field.selectors import AreaScope  # noqa: E402
from field.services.routes import _cases, priority_of, team_base  # noqa: E402
from geo.algorithms.routing import (  # noqa: E402
    DayPlan,
    Member,
    Point,
    Stop,
    TimeWindow,
    at,
    plan_day,
)

DAY = dt.date(2026, 12, 1)
Pool = list[tuple[int, int, Point, int]]  # case, household, point, priority


def _pool(scope: AreaScope) -> Pool:
    pool = []
    for t in _cases(scope):
        if t.point is None:
            continue
        priority = int(priority_of(t.case.progress, getattr(t.case, "last_visit", None), DAY))
        pool.append((t.case.pk, t.household_id, Point(t.point.x, t.point.y), priority))
    return pool


def _stops(pool: Pool, n: int, seed: int) -> list[Stop]:
    rnd = random.Random(seed * 1000 + n)
    chosen = rnd.sample(pool, n)
    windows: dict[int, tuple[TimeWindow, ...]] = {}
    stops = []
    for case, household, point, priority in chosen:
        if household not in windows:
            w = random.Random(household).random()
            windows[household] = (
                (TimeWindow(at(17), at(19)),)
                if w < 0.15
                else (TimeWindow(at(9), at(12)),)
                if w < 0.25
                else ()
            )
        stops.append(Stop(case, point, priority=priority, windows=windows[household]))
    return stops


def _served(plan: DayPlan, priority: dict[object, int]) -> tuple[int, int, int]:
    by: dict[int, int] = defaultdict(int)
    for r in plan.routes:
        for v in r.visits:
            by[priority[v.stop_id]] += 1
    return (by[0], by[1], by[2])


def day_plans(sizes: list[int], seeds: int) -> None:
    teams: list[tuple[str, Point, Pool]] = []
    for team in Team.objects.order_by("name"):
        where = team_base(team)
        if where is None:
            continue
        scope = AreaScope(user_id=0, role=Role.TEAM_MEMBER, province=None, teams=(team.pk,))
        teams.append((team.name, Point(where.x, where.y), _pool(scope)))
    volunteers: list[tuple[str, Point, Pool]] = []
    for v in Volunteer.objects.order_by("pk"):
        scope = AreaScope(
            user_id=v.user_id or 0, role=Role.VOLUNTEER, province=None, volunteer=v.pk
        )
        volunteers.append((v.name, Point(v.home.x, v.home.y), _pool(scope)))
    print("teams:", ", ".join(f"{name} ({len(pool)} open cases)" for name, _, pool in teams))

    methods: dict[str, Callable[[list[Stop], list[Member]], DayPlan]] = {
        "vroom-1": lambda s, m: plan_day(s, m, seconds=0, vroom_level=1, balance=False),
        "vroom-5": lambda s, m: plan_day(s, m, seconds=0, vroom_level=5, balance=False),
        "ours": lambda s, m: plan_day(s, m),
    }
    for n in sizes:
        instances: list[tuple[list[Stop], list[Member]]] = []
        for _, base, pool in teams:
            if len(pool) < n:
                continue
            for members in (1, 2, 3, 4):
                for seed in range(seeds):
                    crew = [Member(f"m{k}", base, at(9), at(19)) for k in range(members)]
                    instances.append((_stops(pool, n, seed + members * 100), crew))
        volunteer_count = 0
        for _, home, pool in volunteers:
            if len(pool) >= n:
                volunteer_count += 1
                instances.append((_stops(pool, n, 0), [Member("v", home, at(9), at(19))]))
        rows: dict[str, list[Result]] = defaultdict(list)
        for stops, crew in instances:
            priority: dict[object, int] = {s.id: s.priority for s in stops}
            for name, run in methods.items():
                t = time.perf_counter()
                plan = run(stops, crew)
                elapsed = time.perf_counter() - t
                rows[name].append(
                    (
                        _served(plan, priority),
                        plan.travel_seconds,
                        elapsed,
                        plan.workload_spread,
                        len(crew),
                        plan.working_spread,
                    )
                )
        print(
            f"\n#### {n} stops ({len(instances)} instances: teams x members 1-4 x {seeds} seeds"
            f", {volunteer_count} volunteers)\n"
        )
        print_comparison(rows, "vroom-5", ratio_max=True, spread_fallback=True)


def district_batch(district: str, runs: int) -> None:
    if RoutePlan.objects.filter(day=DAY).exists():
        raise SystemExit(f"plans exist for {DAY}: pick another day for the batch")
    print(f"\n#### District batch: plan_routes --district {district} --volunteers, {DAY}\n")
    print("| run | plans | skipped | visits | unplanned | command seconds | wall seconds |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for run in range(1, runs + 1):
        out = io.StringIO()
        t = time.perf_counter()
        try:
            call_command(
                "plan_routes",
                "--date",
                DAY.isoformat(),
                "--district",
                district,
                "--volunteers",
                "--json",
                stdout=out,
            )
            wall = time.perf_counter() - t
            result = json.loads(out.getvalue())
        finally:
            deleted, _ = RoutePlan.objects.filter(day=DAY).delete()
        plans = result["plans"]
        print(
            f"| {run} | {len(plans)} | {len(result['skipped'])} "
            f"| {sum(p['visits'] for p in plans)} | {sum(p['unplanned'] for p in plans)} "
            f"| {result['seconds']:.2f} | {wall:.2f} |",
            flush=True,
        )
    print(f"(plans of {DAY} deleted after each run; last delete removed {deleted} rows)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs="+", default=[20, 40, 80])
    parser.add_argument("--district", default="4001")
    parser.add_argument("--batch-runs", type=int, default=3)
    args = parser.parse_args()
    day_plans(args.sizes, args.seeds)
    if args.batch_runs:
        district_batch(args.district, args.batch_runs)


if __name__ == "__main__":
    main()
