"""Benchmark: volunteer zones, ours against the nearest volunteer and PySAL's SKATER.

Usage (from the repository root; no database unless --demo):

    .venv/bin/python bench/volunteer_zones.py [--repeat 3] [--demo 4001]

With ``--demo 4001`` it first runs the demo's district 4001 (needs DATABASE_URL
and the demo loaded): the target households and active volunteers exactly as
the zone page gives them to the builder.

Two generated (seeded) cases in planar metres: a district (600 households, 60
volunteers, 12 villages over 15 x 15 km) and a province (50,000 households, 600
volunteers, 400 villages grouped around 50 market towns over 100 x 100 km).
Households are scattered around their village (sd 400 m) with 1 + Poisson(0.5)
open cases; volunteers are recruited in each village in proportion to its
households and live near its centre (sd 300 m), with a 3 km limit and a
capacity of 1.6 times the mean households per volunteer.

Methods: "nearest" gives every household to its nearest volunteer in reach,
ignoring capacity; "skater" (spopt.region.Skater on the households' coordinates,
Delaunay contiguity, one region per volunteer, regions then matched to
volunteers by the Hungarian method on centroid distance; households then beyond
their volunteer's limit count as uncovered and unreported) on the district only,
as it is quadratic in households; "ours" is geo.algorithms.zones.build_zones.
The update step adds 10 % new households (each within ~150 m of a random
existing one) and removes one volunteer, and rebuilds from the previous assignment. Times are
medians of --repeat runs, in this process.

After the table, one line per case compares the households ours covers with
the most any assignment within reach and capacity can cover (a maximum flow).
bench/zone_balance_bound.py bounds how many zones any assignment can put in
their fair band.

"Zones in ±5 %" counts loads within 5 % of the mean; "or whole" also counts the
whole load nearest the mean on a side where that band holds no whole number
(loads are whole cases: see ZoneMetrics.within_whole). SKATER runs once, in a
child process given up after --skater-limit seconds; numba does not speed it
up (its time goes to spopt's own Python loops), so it is not a dependency.
"""

from __future__ import annotations

import argparse
import multiprocessing
import queue
import statistics
import time
import warnings
from collections import Counter
from collections.abc import Callable, Hashable
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import csr_array
from scipy.sparse.csgraph import maximum_flow
from scipy.spatial import cKDTree

from geo.algorithms.zone_metrics import ZoneMetrics, churn, measure
from geo.algorithms.zones import ALL_FULL, BEYOND_REACH, Household, Volunteer, build_zones

Assignment = dict[Hashable, Hashable]


def generate(
    households: int, volunteers: int, side: float, villages: int, seed: int
) -> tuple[list[Household], list[Volunteer]]:
    rng = np.random.default_rng(seed)
    towns = rng.uniform(0.1 * side, 0.9 * side, (max(1, villages // 8), 2))
    centres = towns[rng.integers(0, len(towns), villages)] + rng.normal(0, side / 25, (villages, 2))
    sizes = rng.lognormal(0, 0.6, villages)
    village = rng.choice(villages, households, p=sizes / sizes.sum())
    xy = centres[village] + rng.normal(0, 400, (households, 2))
    cases = 1 + rng.poisson(0.5, households)
    homes = [
        Household(i, float(x), float(y), int(k))
        for i, ((x, y), k) in enumerate(zip(xy, cases, strict=True))
    ]
    share = np.bincount(village, minlength=villages) / households * volunteers
    per = np.floor(share).astype(int)
    per[np.argsort(-(share - per))[: volunteers - per.sum()]] += 1
    capacity = int(1.6 * households / volunteers)
    people: list[Volunteer] = []
    for v, k in enumerate(per.tolist()):
        for _ in range(k):
            x, y = centres[v] + rng.normal(0, 300, 2)
            people.append(Volunteer(f"v{len(people)}", float(x), float(y), capacity))
    return homes, people


def nearest(homes: list[Household], people: list[Volunteer]) -> tuple[Assignment, list[Hashable]]:
    tree = cKDTree([(p.x, p.y) for p in people])
    dist, idx = tree.query([(h.x, h.y) for h in homes], k=1)
    assignment: Assignment = {}
    uncovered = []
    for h, d, i in zip(homes, dist.tolist(), idx.tolist(), strict=True):
        if d <= people[i].max_distance:
            assignment[h.id] = people[i].id
        else:
            uncovered.append(h.id)
    return assignment, uncovered


def skater(homes: list[Household], people: list[Volunteer]) -> tuple[Assignment, list[Hashable]]:
    import geopandas as gpd
    from libpysal.weights import Delaunay
    from spopt.region import Skater

    coords = np.array([(h.x, h.y) for h in homes])
    # Households placed at their village's point share it; libpysal's Delaunay
    # weights fail on repeated (or nearly repeated) points, so the repeats are
    # spread over a grid of 1 m steps around it.
    _unique, first, inverse = np.unique(coords, axis=0, return_index=True, return_inverse=True)
    repeats = np.flatnonzero(first[inverse.reshape(-1)] != np.arange(len(coords)))
    steps = np.arange(1, len(repeats) + 1)
    coords[repeats] += np.column_stack([steps % 20, steps // 20]).astype(float)
    frame = gpd.GeoDataFrame(
        {"x": coords[:, 0], "y": coords[:, 1]},
        geometry=gpd.points_from_xy(coords[:, 0], coords[:, 1]),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = Delaunay(coords)
        model = Skater(frame, w, ["x", "y"], n_clusters=len(people))
        model.solve()
    labels = np.asarray(model.labels_)
    regions = np.unique(labels)
    centre = np.array([coords[labels == r].mean(axis=0) for r in regions])
    homes_xy = np.array([(p.x, p.y) for p in people])
    cost = np.hypot(
        centre[:, None, 0] - homes_xy[None, :, 0], centre[:, None, 1] - homes_xy[None, :, 1]
    )
    rows, cols = linear_sum_assignment(cost)
    owner = {int(regions[r]): people[c].id for r, c in zip(rows, cols, strict=True)}
    return {h.id: owner[int(label)] for h, label in zip(homes, labels.tolist(), strict=True)}, []


def _skater_worker(
    homes: list[Household], people: list[Volunteer], out: multiprocessing.Queue[Any]
) -> None:
    start = time.perf_counter()
    try:
        result = skater(homes, people)
    except Exception as error:  # noqa: BLE001 - reported to the parent, which prints it
        out.put((time.perf_counter() - start, error))
        return
    out.put((time.perf_counter() - start, result))


def skater_within(
    homes: list[Household], people: list[Volunteer], limit: float
) -> tuple[float, tuple[Assignment, list[Hashable]]] | None:
    """One SKATER run in a child process, given up after ``limit`` seconds."""
    out: multiprocessing.Queue[Any] = multiprocessing.Queue()
    child = multiprocessing.Process(target=_skater_worker, args=(homes, people, out))
    child.start()
    try:
        seconds, result = out.get(timeout=limit)
    except queue.Empty:
        return None
    finally:
        child.terminate()
        child.join()
    if isinstance(result, Exception):
        raise RuntimeError(f"SKATER failed: {result!r}") from result
    return seconds, result


def ours(homes: list[Household], people: list[Volunteer]) -> tuple[Assignment, list[Hashable]]:
    zones = build_zones(homes, people)
    return zones.assignment, list(zones.uncovered)


def timed(
    method: Callable[[list[Household], list[Volunteer]], Any],
    homes: list[Household],
    people: list[Volunteer],
    repeat: int,
) -> tuple[float, Any]:
    times = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = method(homes, people)
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def row(name: str, seconds: float, m: ZoneMetrics, extra: str = "") -> str:
    return (
        f"| {name} | {seconds:.2f} s | {m.max_over_mean:.2f} | {100 * m.worst_off_mean:.0f} % "
        f"| {100 * m.within_tolerance:.0f} % | {100 * m.within_whole:.0f} % "
        f"| {100 * m.worst_off_fair:.0f} % | {100 * m.within_tolerance_fair:.0f} % "
        f"| {100 * m.within_whole_fair:.0f} % | {100 * m.accounted:.2f} % "
        f"| {100 * m.covered:.2f} % | {m.over_capacity} | {m.mean_distance:.0f} m "
        f"| {m.max_distance:.0f} m | {100 * m.contiguous:.1f} % | {m.compactness:.2f} |{extra}"
    )


HEADER = (
    "| case, method | time | max/mean | worst off mean | zones in ±5 % | zones in ±5 % or whole "
    "| worst off fair | zones in ±5 % of fair | zones in ±5 % or whole, fair | accounted "
    "| covered | over capacity | mean dist | max dist | contiguous | compactness | churn |\n"
    + "| --- " * 17
    + "|"
)


def most_coverable(homes: list[Household], people: list[Volunteer]) -> int:
    """The most households any assignment within reach and capacity covers: a
    maximum flow, source -> household (1) -> volunteer in reach -> sink (capacity)."""
    n, m = len(homes), len(people)
    source, sink = 0, n + m + 1
    tree = cKDTree([(h.x, h.y) for h in homes])
    rows = [source] * n
    cols = list(range(1, n + 1))
    for j, p in enumerate(people):
        inside = tree.query_ball_point((p.x, p.y), p.max_distance)
        rows.extend(1 + i for i in inside)
        cols.extend([1 + n + j] * len(inside))
    caps = [1] * len(rows) + [p.capacity for p in people]
    rows.extend(1 + n + j for j in range(m))
    cols.extend([sink] * m)
    graph = csr_array((np.array(caps, dtype=np.int32), (rows, cols)), shape=(sink + 1, sink + 1))
    return int(maximum_flow(graph, source, sink).flow_value)


def demo_case(district: str) -> tuple[list[Household], list[Volunteer]]:
    """The demo's district ``district`` as the zone page gives it to the builder: its
    households with open cases and its active volunteers, in UTM metres (needs the
    demo database: DATABASE_URL, and ``scripts/demo`` run once)."""
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    os.environ.setdefault("DJANGO_DEBUG", "true")
    django.setup()
    from field.zone_selectors import load_zones
    from geo.models import District

    zones = load_zones(District.objects.get(code=district))
    return zones.builder_households(), zones.builder_volunteers()


def run_case(
    case: str,
    homes: list[Household],
    people: list[Volunteer],
    *,
    repeat: int,
    skater_limit: float | None,
    seed: int,
) -> str:
    """Prints the case's rows; returns a line on its coverage against the most
    any assignment could cover."""
    if skater_limit is not None:
        # Run once: a single SKATER solve takes minutes.
        done = skater_within(homes, people, skater_limit)
        if done is None:
            print(f"| {case}, skater | did not finish in {skater_limit:.0f} s |")
        else:
            m = measure(homes, people, *done[1])
            print(row(f"{case}, skater (1 run)", done[0], m, " |"), flush=True)
    methods: list[tuple[str, Callable[..., Any]]] = [("nearest", nearest), ("ours", ours)]
    for name, method in methods:
        seconds, (assignment, uncovered) = timed(method, homes, people, repeat)
        m = measure(homes, people, assignment, uncovered)
        print(row(f"{case}, {name}", seconds, m, " |"), flush=True)

    first = build_zones(homes, people)
    reported = Counter(first.uncovered.values())
    note = (
        f"{case}: {len(homes)} households, {len(first.assignment)} covered by ours, "
        f"most any assignment within reach and capacity covers (max flow): "
        f"{most_coverable(homes, people)}; uncovered: {reported[BEYOND_REACH]} beyond reach, "
        f"{reported[ALL_FULL]} all full"
    )
    # New cases turn up where people live: beside a random existing household.
    rng = np.random.default_rng(seed + 100)
    new = [
        Household(10**7 + i, h.x + dx, h.y + dy, h.weight)
        for i, (k, (dx, dy)) in enumerate(
            zip(
                rng.choice(len(homes), len(homes) // 10, replace=False).tolist(),
                rng.normal(0, 150, (len(homes) // 10, 2)).tolist(),
                strict=True,
            )
        )
        for h in [homes[k]]
    ]
    left = [p for p in people if p.id != people[len(people) // 2].id]
    update = homes + new

    def rebuild(
        hs: list[Household], ps: list[Volunteer], previous: Assignment = first.assignment
    ) -> Any:
        return build_zones(hs, ps, previous=previous)

    seconds, second = timed(rebuild, update, left, repeat)
    m = measure(update, left, second.assignment, second.uncovered)
    rate = churn(first.assignment, second.assignment, [h.id for h in homes])
    print(row(f"{case}, ours after +10 % / -1", seconds, m, f" {100 * rate:.1f} % |"), flush=True)
    return note


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--skater-limit", type=float, default=600.0, help="seconds before SKATER is given up"
    )
    parser.add_argument(
        "--demo",
        metavar="DISTRICT",
        help="also the demo database's district (e.g. 4001), with SKATER",
    )
    args = parser.parse_args()
    print(HEADER)
    notes: list[str] = []
    if args.demo:
        homes, people = demo_case(args.demo)
        notes.append(
            run_case(
                f"demo {args.demo}",
                homes,
                people,
                repeat=args.repeat,
                skater_limit=args.skater_limit,
                seed=3,
            )
        )
    cases = [
        ("district", (600, 60, 15_000.0, 12, 1), True),
        ("province", (50_000, 600, 100_000.0, 400, 2), False),
    ]
    for case, params, with_skater in cases:
        homes, people = generate(*params)
        notes.append(
            run_case(
                case,
                homes,
                people,
                repeat=args.repeat,
                skater_limit=args.skater_limit if with_skater else None,
                seed=params[4],
            )
        )
    print()
    for note in notes:
        print(note)


if __name__ == "__main__":
    main()
