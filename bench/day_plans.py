"""Benchmark: home-visit day plans, VROOM and PyVRP against ours (VROOM + PyVRP).

Usage (from the repository root; no database):

    .venv/bin/python bench/day_plans.py [--seeds 5] [--sizes 20 40 80]

Seeded instances in a 15 x 15 km district around 100.5° E, 15.0° N: 10 villages,
households scattered around their village (sd 400 m); the team's base is the
village nearest the district centre. Each instance has 20, 40 or 80 stops and 1 to
4 members (motorcycle, 30 km/h, circuity 1.3), working hours 09:00-19:00, 30 minutes
per visit; 25 % new cases, 25 % overdue follow-ups, the rest routine; 15 % of the
households can be visited only 17:00-19:00, 10 % only 09:00-12:00.

Every method runs through ``plan_day`` on the same instance, so travel and
schedules are evaluated alike:

- ``vroom-L``: VROOM alone at exploration level L (``seconds=0``), one thread.
- ``pyvrp-B``: PyVRP alone from its own start, budget B seconds.
- ``ours``: the default (VROOM level 1, PyVRP polish, balance pass).
- ``ours-nobal``: the same without the balance pass.

A plan first serves as many visits of each priority as it can, most urgent first,
then minimises travel. So each method is compared with VROOM at level 5 first on
the visits served per priority (better, equal, worse), and on travel time only
where both serve the same visits per priority. Workload spread is the largest
member's day (leaving to back, waits included) over the team mean.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Mapping

from geo.algorithms.routing import DayPlan, Member, Point, Stop, TimeWindow, at, plan_day

CENTRE = Point(100.5, 15.0)
M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON = 111_320.0 * math.cos(math.radians(15.0))


def offset(x_m: float, y_m: float) -> Point:
    return Point(CENTRE.lon + x_m / M_PER_DEG_LON, CENTRE.lat + y_m / M_PER_DEG_LAT)


def instance(n: int, members: int, seed: int) -> tuple[list[Stop], list[Member]]:
    rnd = random.Random(seed * 1000 + n * 10 + members)
    villages = [(rnd.uniform(-7500, 7500), rnd.uniform(-7500, 7500)) for _ in range(10)]
    base_v = min(villages, key=lambda v: math.hypot(*v))
    base = offset(*base_v)
    stops = []
    for i in range(n):
        vx, vy = rnd.choice(villages)
        point = offset(vx + rnd.gauss(0, 400), vy + rnd.gauss(0, 400))
        u = rnd.random()
        priority = 0 if u < 0.25 else 1 if u < 0.5 else 2
        w = rnd.random()
        windows: tuple[TimeWindow, ...] = ()
        if w < 0.15:
            windows = (TimeWindow(at(17), at(19)),)
        elif w < 0.25:
            windows = (TimeWindow(at(9), at(12)),)
        stops.append(Stop(i, point, priority=priority, windows=windows))
    team = [Member(f"m{k}", base, at(9), at(19)) for k in range(members)]
    return stops, team


def served(plan: DayPlan) -> tuple[int, int, int]:
    # Served count per priority, most urgent first: compared lexicographically.
    by: dict[int, int] = defaultdict(int)
    for r in plan.routes:
        for v in r.visits:
            by[PRIORITY[v.stop_id]] += 1
    return (by[0], by[1], by[2])


PRIORITY: dict[object, int] = {}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = max(0, math.ceil(q * len(ordered)) - 1)
    return ordered[k]


# (served per priority, travel seconds, solve seconds, workload spread, members,
#  spread among the members with visits)
Result = tuple[tuple[int, int, int], int, float, float, int, float]


def print_comparison(
    results: Mapping[str, list[Result]],
    reference: str,
    *,
    ratio_max: bool = False,
    spread_fallback: bool = False,
) -> None:
    """The Markdown table comparing every method with ``reference``: visits served per
    priority (better, equal, worse), travel ratio where both serve the same visits
    (also its maximum with ``ratio_max``), solve times and workload spread (teams of
    several; ``spread_fallback`` prints 1.00 when there are none)."""
    ref = results[reference]
    stats = "median, mean, max" if ratio_max else "median, mean"
    print(
        f"| method | served (mean) | vs {reference} better/equal/worse | travel ratio, equal "
        f"served ({stats}) | time p50 | time p95 | spread p50 / max (teams) "
        "| spread of members with visits p50 / max |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, rows in results.items():
        better = equal = worse = 0
        ratios = []
        for (sv, tr, *_), (rsv, rtr, *_) in zip(rows, ref, strict=True):
            if sv > rsv:
                better += 1
            elif sv < rsv:
                worse += 1
            else:
                equal += 1
                ratios.append(tr / rtr if rtr else 1.0)
        times = [r[2] for r in rows]
        spreads = [r[3] for r in rows if r[4] > 1]
        working = [r[5] for r in rows if r[4] > 1]
        if spread_fallback and not spreads:
            spreads = working = [1.0]
        ratio_text = "-"
        if ratios:
            ratio_text = f"{statistics.median(ratios):.3f}, {statistics.mean(ratios):.3f}"
            if ratio_max:
                ratio_text += f", {max(ratios):.3f}"
        print(
            f"| {name} | {statistics.mean(sum(r[0]) for r in rows):.1f} "
            f"| {better}/{equal}/{worse} | {ratio_text} "
            f"| {statistics.median(times):.3f} | {pct(times, 0.95):.3f} "
            f"| {statistics.median(spreads):.2f} / {max(spreads):.2f} "
            f"| {statistics.median(working):.2f} / {max(working):.2f} |",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--sizes", type=int, nargs="+", default=[20, 40, 80])
    parser.add_argument("--members", type=int, nargs="+", default=[1, 2, 3, 4])
    args = parser.parse_args()

    methods: dict[str, Callable[[list[Stop], list[Member]], DayPlan]] = {
        "vroom-1": lambda s, m: plan_day(s, m, seconds=0, vroom_level=1, balance=False),
        "vroom-3": lambda s, m: plan_day(s, m, seconds=0, vroom_level=3, balance=False),
        "vroom-5": lambda s, m: plan_day(s, m, seconds=0, vroom_level=5, balance=False),
        "pyvrp-0.5": lambda s, m: plan_day(s, m, seconds=0.5, vroom_level=0, balance=False),
        "pyvrp-2": lambda s, m: plan_day(s, m, seconds=2.0, vroom_level=0, balance=False),
        "ours-nobal": lambda s, m: plan_day(s, m, balance=False),
        "ours": lambda s, m: plan_day(s, m),
    }
    for n in args.sizes:
        results: dict[str, list[Result]] = defaultdict(list)
        for members in args.members:
            for seed in range(args.seeds):
                stops, team = instance(n, members, seed)
                PRIORITY.clear()
                PRIORITY.update({s.id: s.priority for s in stops})
                for name, run in methods.items():
                    t = time.perf_counter()
                    plan = run(stops, team)
                    elapsed = time.perf_counter() - t
                    results[name].append(
                        (
                            served(plan),
                            plan.travel_seconds,
                            elapsed,
                            plan.workload_spread,
                            members,
                            plan.working_spread,
                        )
                    )
        ref = results["vroom-5"]
        print(
            f"\n### {n} stops ({len(ref)} instances: {args.seeds} seeds x members {args.members})\n"
        )
        print_comparison(results, "vroom-5")


if __name__ == "__main__":
    main()
