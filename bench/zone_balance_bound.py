"""How many zones can any assignment put in their fair band? A bound for the benchmark.

Usage (from the repository root; no database unless --demo; takes a minute or
more on the province):

    .venv/bin/python bench/zone_balance_bound.py [--case province] [--time-limit 60]

For the benchmark's generated cases (and the demo's districts, with --demo), it
builds the zones with ``build_zones``, counts the zones outside their fair band
(the fair load, ±5 %, stretched to the nearest whole load where the band holds
none: ``ZoneMetrics.within_whole_fair``), and solves, per group of volunteers
whose reach overlaps (directly or through others), a mixed integer program
that ignores contiguity and compactness:

- every household goes to at most one volunteer whose limit it is within,
  households within each volunteer's capacity;
- as many households covered as any such assignment can cover (the builder
  covers that many: coverage comes first);
- minimise the number of volunteers whose load is outside their band (a 0/1
  variable per volunteer relaxes its band constraints by a big M).

Households with the same weight and the same set of volunteers in reach are
interchangeable here, so they are counted together: a variable is how many of
such a class go to one volunteer. With integer counts the program is exact for
assignments that respect reach and capacity: its optimum is the fewest zones out
of band that any such assignment, contiguous or not, can have. HiGHS reports a
proven lower bound even when stopped by the time limit, so the output is:

- ``impossible``: zones out of band in every assignment (the proven lower bound),
- ``best without contiguity``: the fewest out of band in an assignment HiGHS found,
- ``ours``: the builder's count.

Zones ``ours - best`` are then achievable without contiguity but not reached by
the builder; if the two bounds differ, the rest is undecided.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse import coo_array, csr_array, hstack, vstack
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from volunteer_zones import demo_case, generate  # noqa: E402

from geo.algorithms.zones import Household, Volunteer, build_zones  # noqa: E402

TOLERANCE = 0.05


def bands(
    homes: list[Household], people: list[Volunteer]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[list[int]]]:
    """Per volunteer its component label, band low and high (as the metrics count
    them), and per household the volunteers in reach (all of them)."""
    x = np.array([h.x for h in homes])
    y = np.array([h.y for h in homes])
    w = np.array([h.weight for h in homes], dtype=np.float64)
    tree = cKDTree(np.column_stack([x, y]))
    reach: list[list[int]] = [[] for _ in homes]
    for v, p in enumerate(people):
        for i in tree.query_ball_point([p.x, p.y], p.max_distance):
            reach[i].append(v)
    rows = [r[0] for r in reach for _ in r[1:]]
    cols = [c for r in reach for c in r[1:]]
    count = len(people)
    graph = coo_array((np.ones(len(rows)), (rows, cols)), shape=(count, count))
    _n, label = connected_components(graph, directed=False)
    first = np.array([r[0] if r else -1 for r in reach])
    reached = first >= 0
    load = np.bincount(label[first[reached]], weights=w[reached], minlength=label.max() + 1)
    members = np.bincount(label, minlength=label.max() + 1)
    fair = load[label] / members[label]
    low = np.minimum(fair * (1 - TOLERANCE), np.floor(fair))
    high = np.maximum(fair * (1 + TOLERANCE), np.ceil(fair))
    return label, low, high, reach


def component_bound(
    volunteers: list[int],
    classes: list[tuple[tuple[int, ...], int, int]],
    people: list[Volunteer],
    low: np.ndarray,
    high: np.ndarray,
    time_limit: float,
) -> tuple[int, int]:
    """(proven lower bound, best found) on the zones out of band in one component.

    ``classes``: (volunteers in reach, weight, households) of interchangeable
    households."""
    index = {v: k for k, v in enumerate(volunteers)}
    pairs = [(c, index[v]) for c, (reach, _w, _n) in enumerate(classes) for v in reach]
    nv, nc, npairs = len(volunteers), len(classes), len(pairs)
    pc = np.array([c for c, _v in pairs], dtype=np.int64)
    pv = np.array([v for _c, v in pairs], dtype=np.int64)
    cw = np.array([w for _r, w, _n in classes], dtype=np.float64)
    cn = np.array([n for _r, _w, n in classes], dtype=np.float64)
    cap = np.array([people[v].capacity for v in volunteers], dtype=np.float64)
    lo = low[volunteers]
    hi = high[volunteers]
    cols = np.arange(npairs)
    per_class = csr_array((np.ones(npairs), (pc, cols)), shape=(nc, npairs))
    per_volunteer = csr_array((np.ones(npairs), (pv, cols)), shape=(nv, npairs))
    load = csr_array((cw[pc], (pv, cols)), shape=(nv, npairs))

    # The most households any assignment covers: a transportation problem,
    # whose optimum is whole, so the LP gives it exactly.
    cover = linprog(
        -np.ones(npairs),
        A_ub=vstack([per_class, per_volunteer]).tocsr(),
        b_ub=np.concatenate([cn, cap]),
        bounds=(0, None),
        method="highs",
    )
    most = math.floor(-cover.fun + 1e-6)

    # Variables: the pair counts, then one 0/1 per volunteer (1 = out of band).
    # Big M: the heaviest load the volunteer could take.
    reachable = np.bincount(pv, weights=cw[pc] * cn[pc], minlength=nv)
    big = np.maximum(reachable, hi) + 1.0
    z = csr_array((big, (np.arange(nv), np.arange(nv))), shape=(nv, nv))
    matrix = vstack(
        [
            hstack([per_class, csr_array((nc, nv))]),
            hstack([per_volunteer, csr_array((nv, nv))]),
            hstack([csr_array(np.ones((1, npairs))), csr_array((1, nv))]),
            hstack([load, -z]),  # load - M z <= high
            hstack([load, z]),  # load + M z >= low
        ]
    ).tocsr()
    lower = np.concatenate([np.zeros(nc), np.zeros(nv), [most], np.full(nv, -np.inf), lo])
    upper = np.concatenate([cn, cap, [np.inf], hi, np.full(nv, np.inf)])
    result = milp(
        np.concatenate([np.zeros(npairs), np.ones(nv)]),
        constraints=LinearConstraint(matrix, lower, upper),
        integrality=np.ones(npairs + nv),
        bounds=Bounds(np.zeros(npairs + nv), np.concatenate([cn[pc], np.ones(nv)])),
        options={"time_limit": time_limit},
    )
    found = round(result.fun) if result.x is not None else nv
    proven = getattr(result, "mip_dual_bound", None)
    bound = found if result.status == 0 else math.ceil((proven or 0.0) - 1e-6)
    return max(bound, 0), found


def run(name: str, homes: list[Household], people: list[Volunteer], time_limit: float) -> None:
    start = time.perf_counter()
    label, low, high, reach = bands(homes, people)
    zones = build_zones(homes, people)
    index = {p.id: v for v, p in enumerate(people)}
    loads = np.zeros(len(people))
    for h in homes:
        if h.id in zones.assignment:
            loads[index[zones.assignment[h.id]]] += h.weight
    out = (loads < low - 1e-9) | (loads > high + 1e-9)

    by_component: dict[int, dict[tuple[tuple[int, ...], int], int]] = defaultdict(
        lambda: defaultdict(int)
    )
    for h, r in zip(homes, reach, strict=True):
        if r:
            by_component[int(label[r[0]])][(tuple(sorted(r)), h.weight)] += 1
    impossible = best = ours = 0
    unsolved = 0
    for comp in range(int(label.max()) + 1):
        volunteers = np.flatnonzero(label == comp).tolist()
        ours_here = int(out[volunteers].sum())
        ours += ours_here
        classes = [(r, w, n) for (r, w), n in sorted(by_component.get(comp, {}).items())]
        if not classes:
            # No household in reach: load 0, out of band only if the band excludes 0.
            here = int(np.sum(low[volunteers] > 0))
            impossible += here
            best += here
            continue
        lower, found = component_bound(volunteers, classes, people, low, high, time_limit)
        unsolved += lower < found
        impossible += lower
        best += found
    print(
        f"{name}: {len(people)} zones in {int(label.max()) + 1} groups of overlapping reach; "
        f"outside their fair band: ours {ours}, best without contiguity {best}, "
        f"impossible (proven) {impossible}"
        + (f"; {unsolved} groups stopped at the time limit" if unsolved else "")
        + f" ({time.perf_counter() - start:.0f} s)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--case", choices=["district", "province", "both", "none"], default="both")
    parser.add_argument(
        "--demo", metavar="DISTRICT", help="also the demo's district (needs the DB)"
    )
    parser.add_argument(
        "--time-limit", type=float, default=60.0, help="seconds per group for HiGHS"
    )
    args = parser.parse_args()
    if args.demo:
        run(f"demo {args.demo}", *demo_case(args.demo), args.time_limit)
    cases = {
        "district": (600, 60, 15_000.0, 12, 1),
        "province": (50_000, 600, 100_000.0, 400, 2),
    }
    for case, params in cases.items():
        if args.case in (case, "both"):
            run(case, *generate(*params), args.time_limit)


if __name__ == "__main__":
    main()
