"""Where to recruit: maximal covering location, solved by CP-SAT or greedily."""

from __future__ import annotations

import itertools
import math
import random
import time
from typing import Literal

import pytest

from geo.algorithms.recruitment import Candidate, Household, Suggestion, suggest_recruitment

Method = Literal["auto", "greedy"]

# On a line, 3 km reach: A in the middle reaches the most (6), so greedy takes it
# and then only 3 more; B and C reach disjoint sets of 5 each, 10 together.
A, B, C = Candidate("A", 4000, 0), Candidate("B", 0, 0), Candidate("C", 8000, 0)
LINE = [
    Household(1, 0, 0, 3),  # B
    Household(2, 2000, 0, 2),  # B, A
    Household(3, 6000, 0, 2),  # A, C
    Household(4, 8000, 0, 3),  # C
    Household(5, 4000, 0, 2),  # A
]


def _random_instance(
    seed: int, candidates: int, households: int, side: float
) -> tuple[list[Candidate], list[Household]]:
    rng = random.Random(seed)
    return (
        [Candidate(i, rng.uniform(0, side), rng.uniform(0, side)) for i in range(candidates)],
        [
            Household(i, rng.uniform(0, side), rng.uniform(0, side), rng.randint(0, 3))
            for i in range(households)
        ],
    )


def _covers(c: Candidate, h: Household, reach: float = 3000) -> bool:
    return math.hypot(c.x - h.x, c.y - h.y) <= reach


def _value(chosen: tuple[Candidate, ...], households: list[Household], skip: set[int | str]) -> int:
    return sum(
        h.weight for h in households if h.id not in skip and any(_covers(c, h) for c in chosen)
    )


def test_solver_finds_the_optimum_greedy_misses() -> None:
    greedy = suggest_recruitment([A, B, C], LINE, 2, method="greedy")
    assert [p.village_id for p in greedy.picks][0] == "A"
    assert greedy.weight_added == 9
    assert greedy.method == "greedy"

    best = suggest_recruitment([A, B, C], LINE, 2)
    assert best.method == "optimal"
    assert best.gap == 0.0
    assert {p.village_id for p in best.picks} == {"B", "C"}
    assert best.weight_added == 10
    assert sorted(h for p in best.picks for h in p.household_ids) == [1, 2, 3, 4]


def test_greedy_gap_bounds_the_true_gap() -> None:
    greedy = suggest_recruitment([A, B, C], LINE, 2, method="greedy")
    assert greedy.gap is not None
    assert greedy.gap >= (10 - 9) / 10


@pytest.mark.parametrize("seed", range(4))
def test_exact_matches_brute_force_and_greedy_never_beats_it(seed: int) -> None:
    candidates, households = _random_instance(seed, 12, 200, 15_000)
    skip = {h.id for h in households[:40]}
    best = max(_value(combo, households, skip) for combo in itertools.combinations(candidates, 3))
    exact = suggest_recruitment(candidates, households, 3, already_covered=skip)
    greedy = suggest_recruitment(candidates, households, 3, already_covered=skip, method="greedy")
    assert exact.method == "optimal"
    assert exact.weight_added == best
    assert greedy.weight_added <= best
    assert greedy.weight_added >= (1 - 1 / math.e) * best
    assert greedy.gap is not None and greedy.gap >= (best - greedy.weight_added) / best


@pytest.mark.parametrize("method", ["auto", "greedy"])
def test_never_credits_households_already_covered(method: Method) -> None:
    candidates, households = _random_instance(7, 30, 2000, 20_000)
    skip = {h.id for h in households if h.id % 3 == 0}
    result = suggest_recruitment(
        candidates,
        households,
        5,
        already_covered=skip,
        method=method,
    )
    credited = [h for p in result.picks for h in p.household_ids]
    assert credited
    assert not skip & set(credited)
    assert len(credited) == len(set(credited))
    by_id = {h.id: h for h in households}
    by_village = {c.id: c for c in candidates}
    for pick in result.picks:
        assert all(_covers(by_village[pick.village_id], by_id[h]) for h in pick.household_ids)
        assert pick.weight == sum(by_id[h].weight for h in pick.household_ids)
    assert result.weight_before == sum(h.weight for h in households if h.id in skip)
    assert result.households_before == len(skip)
    assert result.households_after == len(skip) + len(credited)


@pytest.mark.parametrize("method", ["auto", "greedy"])
def test_coverage_grows_when_anything_is_in_reach(method: Method) -> None:
    candidates, households = _random_instance(3, 20, 500, 30_000)
    result = suggest_recruitment(candidates, households, 2, method=method)
    assert result.weight_after > result.weight_before
    assert result.coverage_after > result.coverage_before
    # Picks are in order of what each adds, so the first is the best on its own.
    weights = [p.weight for p in result.picks]
    assert weights[0] == max(weights) and all(w > 0 for w in weights)


def test_nothing_in_reach_changes_nothing() -> None:
    far = [Candidate("far", 100_000, 100_000)]
    result = suggest_recruitment(far, LINE, 3)
    assert result.picks == ()
    assert result.weight_after == result.weight_before == 0
    assert result.coverage_after == result.coverage_before == 0.0
    everyone = suggest_recruitment([A, B, C], LINE, 3, already_covered={1, 2, 3, 4, 5})
    assert everyone.picks == ()
    assert everyone.coverage_before == everyone.coverage_after == 1.0


@pytest.mark.parametrize("method", ["auto", "greedy"])
def test_stops_when_more_villages_would_add_nothing(method: Method) -> None:
    extra = [Candidate("D", 0, 100), Candidate("E", 50_000, 0)]
    result = suggest_recruitment([A, B, C, *extra], LINE, 10, method=method)
    assert len(result.picks) == 3
    assert {p.village_id for p in result.picks} <= {"A", "B", "C", "D"}
    assert result.weight_after == result.weight_total == 12
    assert suggest_recruitment([A, B, C], LINE, 0).picks == ()


def test_reach_is_inclusive_and_configurable() -> None:
    edge = [Household("edge", 3000, 0, 1)]
    assert suggest_recruitment([B], edge, 1).weight_added == 1
    assert suggest_recruitment([B], edge, 1, max_distance_m=2999.9).weight_added == 0


@pytest.mark.parametrize("method", ["auto", "greedy"])
def test_same_input_same_answer(method: Method) -> None:
    # A regular grid of villages over uniform weights has many equal optima.
    candidates = [Candidate(i, (i % 6) * 1500.0, (i // 6) * 1500.0) for i in range(36)]
    households = [Household(i, (i % 40) * 200.0, (i // 40) * 200.0, 1) for i in range(1600)]
    runs: list[Suggestion] = [
        suggest_recruitment(candidates, households, 4, method=method) for _ in range(3)
    ]
    assert runs[0] == runs[1] == runs[2]


def test_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="n must"):
        suggest_recruitment([A], LINE, -1)
    with pytest.raises(ValueError, match="max_distance_m"):
        suggest_recruitment([A], LINE, 1, max_distance_m=0)
    with pytest.raises(ValueError, match="unique"):
        suggest_recruitment([A], [*LINE, LINE[0]], 1)
    with pytest.raises(ValueError, match="non-negative"):
        suggest_recruitment([A], [Household(9, 0, 0, -1)], 1)


@pytest.mark.recruitment_scale
def test_600_villages_50000_households_within_the_time_limit() -> None:
    # About the size of a large province: 150 km square.
    candidates, households = _random_instance(11, 600, 50_000, 150_000)
    skip = {h.id for h in households[:10_000]}
    start = time.perf_counter()
    result = suggest_recruitment(candidates, households, 20, already_covered=skip, time_limit_s=10)
    elapsed = time.perf_counter() - start
    assert elapsed < 20
    assert len(result.picks) == 20
    assert result.weight_after > result.weight_before
    assert result.gap is not None
    greedy_start = time.perf_counter()
    greedy = suggest_recruitment(candidates, households, 20, already_covered=skip, method="greedy")
    assert time.perf_counter() - greedy_start < 5
    assert greedy.weight_added <= result.weight_added


@pytest.mark.recruitment_scale
def test_time_limit_keeps_the_better_answer_and_reports_its_gap() -> None:
    # Dense (40 km square): CP-SAT cannot close the gap in one second.
    candidates, households = _random_instance(5, 600, 50_000, 40_000)
    start = time.perf_counter()
    cut = suggest_recruitment(candidates, households, 10, time_limit_s=1)
    assert time.perf_counter() - start < 8
    greedy = suggest_recruitment(candidates, households, 10, method="greedy")
    assert cut.method in ("solver", "greedy")
    assert cut.weight_added >= greedy.weight_added
    assert cut.gap is not None and 0 < cut.gap < 1


def test_large_instances_go_straight_to_greedy() -> None:
    result = suggest_recruitment([A, B, C], LINE, 2, exact_max_pairs=0)
    assert result.method == "greedy"
    assert result.weight_added == 9
