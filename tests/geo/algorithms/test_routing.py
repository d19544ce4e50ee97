"""Day plans, re-planning and TSPLIB conventions of geo.algorithms.routing."""

from __future__ import annotations

import itertools
import math
import random

import numpy as np
import pytest

from geo.algorithms import tsplib
from geo.algorithms.routing import (
    CostModel,
    Member,
    Point,
    Priority,
    Reason,
    Stop,
    TimeWindow,
    TravelMode,
    at,
    plan_day,
    replan,
    solve_tour,
)

BASE = Point(100.50, 15.00)
# About 1.07 km of longitude at 15° N per 0.01°; with the default circuity 1.3 and a
# motorcycle at 30 km/h, 0.01° east is about 2 min 47 s of travel.
EAST = 0.01


def near(dx: float, dy: float = 0.0) -> Point:
    return Point(BASE.lon + dx, BASE.lat + dy)


def member(mid: str = "m1", start: int = at(8), end: int = at(16, 30)) -> Member:
    return Member(mid, BASE, start, end)


def planned_ids(plan_routes: object) -> list[object]:
    return [v.stop_id for r in plan_routes for v in r.visits]  # type: ignore[attr-defined]


def test_cost_model_is_great_circle_times_circuity() -> None:
    costs = CostModel(circuity=1.5)
    # 0.1° of latitude is 11.12 km on the mean-radius sphere.
    metres = costs.distances([Point(100.0, 15.0), Point(100.0, 15.1)])
    assert metres[0, 1] == pytest.approx(1.5 * 11_119.5, abs=2)
    seconds = costs.durations(metres, TravelMode.WALK)
    assert seconds[0, 1] == math.ceil(metres[0, 1] / (4.5 / 3.6))
    fast = CostModel(circuity=1.5, speeds_kmh=((TravelMode.WALK, 9.0),))
    assert fast.durations(metres, TravelMode.WALK)[0, 1] == pytest.approx(seconds[0, 1] / 2, abs=1)


def test_plan_respects_working_hours_and_service_time() -> None:
    stops = [Stop(f"s{i}", near(EAST * (i % 4), EAST * (i // 4))) for i in range(20)]
    plan = plan_day(stops, [member()], seconds=0.3)
    route = plan.routes[0]
    # 8.5 hours hold at most 17 half-hour visits, fewer with travel.
    assert 10 <= len(route.visits) <= 16
    assert route.departure >= at(8)
    assert route.back <= at(16, 30)
    for v in route.visits:
        assert v.end - v.start == 30 * 60
        assert v.start >= v.arrival
    for a, b in itertools.pairwise(route.visits):
        assert b.arrival == a.end + b.travel_seconds
    assert {u.reason for u in plan.unplanned} == {Reason.NOT_ENOUGH_TIME}
    assert len(plan.unplanned) + len(route.visits) == 20


def test_time_window_is_met_with_the_whole_visit_inside() -> None:
    stops = [
        Stop("evening", near(EAST), windows=(TimeWindow(at(17), at(19)),)),
        Stop("any", near(2 * EAST)),
    ]
    plan = plan_day(stops, [member(end=at(20))], seconds=0.1)
    visits = {v.stop_id: v for v in plan.routes[0].visits}
    assert visits["evening"].start >= at(17)
    assert visits["evening"].end <= at(19)
    assert visits["any"].end <= visits["evening"].arrival or visits["any"].start >= at(17)


def test_window_outside_working_hours_is_reported_as_such() -> None:
    stops = [
        Stop("evening", near(EAST), windows=(TimeWindow(at(17), at(19)),)),
        Stop("short", near(EAST), windows=(TimeWindow(at(9), at(9, 20)),)),
        Stop("fine", near(EAST)),
    ]
    plan = plan_day(stops, [member(end=at(16, 30))], seconds=0.1)
    reasons = {u.stop_id: u for u in plan.unplanned}
    assert reasons["evening"].reason is Reason.TIME_WINDOW
    assert "17:00-19:00" in reasons["evening"].detail
    # 20 minutes cannot hold a 30-minute visit.
    assert reasons["short"].reason is Reason.TIME_WINDOW
    assert planned_ids(plan.routes) == ["fine"]


def test_too_far_for_the_day_is_beyond_working_hours() -> None:
    # 1.5° is about 210 km of road: more than 7 hours each way on foot.
    far = Stop("far", near(1.5))
    plan = plan_day([far, Stop("near", near(EAST))], [member()], mode=TravelMode.WALK)
    (unplanned,) = plan.unplanned
    assert unplanned.stop_id == "far"
    assert unplanned.reason is Reason.BEYOND_WORKING_HOURS
    assert "working hours" in unplanned.detail


def test_lower_priority_is_dropped_before_higher() -> None:
    rnd = random.Random(5)
    stops = []
    for i in range(30):
        point = near(rnd.uniform(-0.05, 0.05), rnd.uniform(-0.05, 0.05))
        priority = (Priority.NEW, Priority.OVERDUE, Priority.ROUTINE)[i % 3]
        stops.append(Stop(i, point, priority=priority))
    # Put the routine ones closest, so distance alone would pick them.
    stops = [
        Stop(s.id, near(0.002 * (k % 5), 0.0), priority=s.priority)
        if s.priority == Priority.ROUTINE
        else s
        for k, s in enumerate(stops)
    ]
    plan = plan_day(stops, [member()], seconds=0.4)
    served = {v.stop_id for v in plan.routes[0].visits}
    by_priority = {p: {s.id for s in stops if s.priority == p} for p in Priority}
    assert by_priority[Priority.NEW] <= served
    # Nine hours hold about 15 visits: all 10 new, then overdue ones, no routine one.
    assert not by_priority[Priority.ROUTINE] & served
    assert by_priority[Priority.OVERDUE] & served
    dropped = {u.stop_id for u in plan.unplanned}
    assert dropped == {s.id for s in stops} - served


def test_team_work_is_balanced_across_members() -> None:
    rnd = random.Random(11)
    stops = [Stop(i, near(rnd.uniform(-0.04, 0.04), rnd.uniform(-0.04, 0.04))) for i in range(16)]
    team = [Member(f"m{k}", BASE, at(8), at(18)) for k in range(3)]
    plan = plan_day(stops, team, seconds=0.8)
    assert not plan.unplanned
    assert plan.workload_spread <= 1.25
    assert all(r.visits for r in plan.routes)
    # Without balancing, least travel gives one or two members everything.
    unbalanced = plan_day(stops, team, seconds=0.8, balance=False)
    assert unbalanced.travel_seconds <= plan.travel_seconds
    assert unbalanced.workload_spread > plan.workload_spread


def _village_day(n: int, members: int, seed: int) -> tuple[list[Stop], list[Member]]:
    """A half-empty day in ten villages (bench/day_plans.py's instances): a quarter of the
    families home only in the evening or only in the morning."""
    rnd = random.Random(seed * 1000 + n * 10 + members)
    villages = [(rnd.uniform(-7500, 7500), rnd.uniform(-7500, 7500)) for _ in range(10)]
    metres_per_degree = (111_320.0 * math.cos(math.radians(15.0)), 110_574.0)

    def point(x: float, y: float) -> Point:
        return Point(100.5 + x / metres_per_degree[0], 15.0 + y / metres_per_degree[1])

    base = point(*min(villages, key=lambda v: math.hypot(*v)))
    stops = []
    for i in range(n):
        vx, vy = rnd.choice(villages)
        where = point(vx + rnd.gauss(0, 400), vy + rnd.gauss(0, 400))
        u, w = rnd.random(), rnd.random()
        windows: tuple[TimeWindow, ...] = ()
        if w < 0.15:
            windows = (TimeWindow(at(17), at(19)),)
        elif w < 0.25:
            windows = (TimeWindow(at(9), at(12)),)
        stops.append(
            Stop(i, where, priority=0 if u < 0.25 else 1 if u < 0.5 else 2, windows=windows)
        )
    return stops, [Member(f"m{k}", base, at(9), at(19)) for k in range(members)]


@pytest.mark.parametrize(("members", "seed"), [(4, 2), (4, 3), (3, 1), (3, 3)])
def test_a_half_empty_day_is_shared_within_the_goal(members: int, seed: int) -> None:
    """Capping every day at 1.1 x the mean once left one of four members idle or
    nearly (spread 1.44 and 1.49) and 1.27-1.33 with three; capping again from the
    new mean, and loosening a cap that proves too tight, brings these within 1.25."""
    stops, team = _village_day(20, members, seed)
    plan = plan_day(stops, team, seconds=0.5)
    assert not plan.unplanned
    assert plan.workload_spread <= 1.25
    assert all(r.visits for r in plan.routes)


def test_an_area_far_from_the_base_is_shared_by_those_sent() -> None:
    """Eight visits 16 km from the base: sharing them among all four members would
    send each on the road for most of their day, which no cap lets through; the
    day then goes to fewer members, evenly, rather than all to one."""
    rnd = random.Random(3)
    stops = [
        Stop(i, near(0.15 + rnd.uniform(-0.02, 0.02), rnd.uniform(-0.02, 0.02))) for i in range(8)
    ]
    team = [Member(f"m{k}", BASE, at(9), at(19)) for k in range(4)]
    plan = plan_day(stops, team, seconds=0.5)
    alone = plan_day(stops, team, seconds=0.5, balance=False)
    assert not plan.unplanned
    assert sum(1 for r in plan.routes if r.visits) >= 2
    assert plan.working_spread <= 1.25
    longest = max(r.workload for r in plan.routes)
    assert longest <= 0.7 * max(r.workload for r in alone.routes)


def test_replan_starts_from_the_current_position_and_time() -> None:
    stops = [
        Stop("a", near(EAST)),
        Stop("b", near(2 * EAST)),
        Stop("gone", near(EAST), windows=(TimeWindow(at(9), at(11)),)),
    ]
    here = near(3 * EAST)
    plan = replan(stops, member(), here, now=at(13))
    route = plan.routes[0]
    assert route.departure >= at(13)
    assert [v.stop_id for v in route.visits] == ["b", "a"]
    first = route.visits[0]
    assert (
        first.travel_seconds
        == CostModel().durations(
            CostModel().distances([here, near(2 * EAST)]), TravelMode.MOTORCYCLE
        )[0, 1]
    )
    (gone,) = plan.unplanned
    assert gone.stop_id == "gone"
    assert gone.reason is Reason.TIME_WINDOW
    assert "passed" in gone.detail
    over = replan(stops, member(), here, now=at(17))
    assert {u.reason for u in over.unplanned} == {Reason.BEYOND_WORKING_HOURS}


def test_duplicate_stop_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="unique"):
        plan_day([Stop(1, BASE), Stop(1, near(EAST))], [member()])


# --- TSPLIB conventions ---------------------------------------------------------------

# burma14 (TSPLIB): GEO distances, optimal tour length 3323.
BURMA14 = """NAME: burma14
TYPE: TSP
DIMENSION: 14
EDGE_WEIGHT_TYPE: GEO
NODE_COORD_SECTION
1 16.47 96.10
2 16.47 94.44
3 20.09 92.54
4 22.39 93.37
5 25.23 97.24
6 22.00 96.05
7 20.47 97.02
8 17.20 96.29
9 16.30 97.38
10 14.05 98.12
11 16.53 97.38
12 21.52 95.59
13 19.41 97.13
14 20.09 94.55
EOF
"""


def held_karp(d: np.ndarray) -> int:
    """The exact optimum by dynamic programming, to check the solver independently."""
    n = len(d)
    best: dict[tuple[int, int], int] = {(1 << k, k): int(d[0, k]) for k in range(1, n)}
    for size in range(2, n):
        nxt: dict[tuple[int, int], int] = {}
        for subset in itertools.combinations(range(1, n), size):
            mask = sum(1 << k for k in subset)
            for k in subset:
                prev = mask & ~(1 << k)
                nxt[(mask, k)] = min(best[(prev, j)] + int(d[j, k]) for j in subset if j != k)
        best = nxt
    full = sum(1 << k for k in range(1, n))
    return min(best[(full, k)] + int(d[k, 0]) for k in range(1, n))


def test_geo_distances_follow_tsplib() -> None:
    instance = tsplib.parse(BURMA14)
    d = tsplib.distance_matrix(instance)
    # TSPLIB's own numbers for burma14's first row (its EXPLICIT twin lists them).
    assert d[0, 1:4].tolist() == [153, 510, 706]
    assert (d == d.T).all()


def test_euc_2d_rounds_and_att_is_pseudo_euclidean() -> None:
    euc = tsplib.parse(
        "TYPE: TSP\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: EUC_2D\nNODE_COORD_SECTION\n"
        "1 0 0\n2 1 1\n3 2.5 0\nEOF\n"
    )
    d = tsplib.distance_matrix(euc)
    assert d[0, 1] == 1  # sqrt(2) = 1.41 rounds down
    assert d[1, 2] == 2  # sqrt(3.25) = 1.80 rounds up
    assert d[0, 2] == 3  # 2.5 rounds half up
    att = tsplib.parse(
        "TYPE: TSP\nDIMENSION: 2\nEDGE_WEIGHT_TYPE: ATT\nNODE_COORD_SECTION\n1 0 0\n2 10 0\nEOF\n"
    )
    # sqrt(100 / 10) = 3.16: nint gives 3, below it, so TSPLIB takes 4.
    assert tsplib.distance_matrix(att)[0, 1] == 4


def test_explicit_lower_diagonal_matrix() -> None:
    text = (
        "TYPE: TSP\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: EXPLICIT\n"
        "EDGE_WEIGHT_FORMAT: LOWER_DIAG_ROW\nEDGE_WEIGHT_SECTION\n0 5 0 7 9 0\nEOF\n"
    )
    d = tsplib.distance_matrix(tsplib.parse(text))
    assert d.tolist() == [[0, 5, 7], [5, 0, 9], [7, 9, 0]]


def test_burma14_is_solved_to_its_known_optimum() -> None:
    d = tsplib.distance_matrix(tsplib.parse(BURMA14))
    assert held_karp(d) == 3323
    result = solve_tour(d, seconds=0.5)
    (route,) = result.routes
    assert sorted(route) == list(range(1, 14))
    tour = [0, *route]
    assert sum(int(d[tour[i - 1], tour[i]]) for i in range(len(tour))) == result.length
    assert result.length == 3323


def test_cvrp_respects_capacity() -> None:
    rnd = random.Random(2)
    n = 25
    xy = np.array([(50.0, 50.0)] + [(rnd.uniform(0, 100), rnd.uniform(0, 100)) for _ in range(n)])
    d = np.rint(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))).astype(np.int64)
    demands = [0] + [rnd.randint(1, 9) for _ in range(n)]
    result = solve_tour(d, seconds=0.5, demands=demands, capacity=30)
    assert sorted(v for r in result.routes for v in r) == list(range(1, n + 1))
    assert all(sum(demands[v] for v in r) <= 30 for r in result.routes)
    assert len(result.routes) >= math.ceil(sum(demands) / 30)
