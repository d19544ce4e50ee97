"""Villages grouped by open cases: pure shapely, no database."""

from __future__ import annotations

import random

import pytest
from shapely.geometry import Point

from geo.algorithms.clustering import group_by_weight


def _scatter(count: int, seed: int) -> tuple[list[Point], list[int]]:
    rng = random.Random(seed)
    points = [Point(rng.uniform(0, 10), rng.uniform(0, 10)) for _ in range(count)]
    weights = [rng.choice((0, 1, 2, 3, 5, 8, 13)) for _ in range(count)]
    return points, weights


def _assert_partition(groups: list[list[int]], count: int) -> None:
    flat = [i for group in groups for i in group]
    assert sorted(flat) == list(range(count))
    assert all(group == sorted(group) for group in groups)
    assert [group[0] for group in groups] == sorted(group[0] for group in groups)


@pytest.mark.parametrize("seed", range(20))
def test_every_village_is_in_exactly_one_group_and_the_totals_add_up(seed: int) -> None:
    points, weights = _scatter(25, seed)
    groups = group_by_weight(points, weights, 20)
    _assert_partition(groups, len(points))
    assert sum(sum(weights[i] for i in group) for group in groups) == sum(weights)


@pytest.mark.parametrize("seed", range(20))
def test_the_groups_are_near_the_target(seed: int) -> None:
    points, weights = _scatter(25, seed)
    target = 20
    totals = [sum(weights[i] for i in group) for group in group_by_weight(points, weights, target)]
    light = [t for t in totals if t < target]
    # Only a village heavier than the target (alone) can pass one and a half
    # targets, and at most one group (the last one grown) stays under half of it.
    assert all(t <= 1.5 * target or t >= target for t in totals)
    assert sum(1 for t in light if t < target / 2) <= 1
    assert round(sum(weights) / target) - 1 <= len(totals) <= round(sum(weights) / target) + 2


def test_the_result_depends_only_on_the_input() -> None:
    points, weights = _scatter(30, 7)
    first = group_by_weight(points, weights, 15, x_scale=0.95)
    assert group_by_weight(list(points), list(weights), 15, x_scale=0.95) == first
    # Exact ties between equal distances are broken by index, not by chance.
    grid = [Point(x, y) for y in range(4) for x in range(4)]
    twice = [group_by_weight(grid, [1] * 16, 4) for _ in range(3)]
    assert twice[0] == twice[1] == twice[2]
    _assert_partition(twice[0], 16)


def test_a_village_heavier_than_the_target_stands_alone() -> None:
    points = [Point(0, 0), Point(1, 0), Point(2, 0), Point(3, 0), Point(4, 0)]
    weights = [5, 5, 40, 5, 5]
    groups = group_by_weight(points, weights, 10)
    assert [2] in groups
    assert sorted(groups) == [[0, 1], [2], [3, 4]]


def test_a_village_exactly_at_the_target_stands_alone_too() -> None:
    groups = group_by_weight([Point(0, 0), Point(1, 0), Point(2, 0)], [3, 10, 3], 10)
    assert [1] in groups


def test_villages_with_no_open_case_join_their_nearest_group() -> None:
    # Two clumps of cases, and empty villages next to each; the far-east one
    # reaches its clump through the empty village between.
    points = [Point(x, 0) for x in (0, 1, 2, 10, 11, 12, 13, 14)]
    weights = [6, 0, 6, 6, 6, 0, 0, 0]
    groups = group_by_weight(points, weights, 12)
    assert groups == [[0, 1, 2], [3, 4, 5, 6, 7]]


def test_with_no_open_case_the_tambon_is_one_group() -> None:
    points = [Point(0, 0), Point(5, 5), Point(9, 1)]
    assert group_by_weight(points, [0, 0, 0], 30) == [[0, 1, 2]]


def test_a_small_remainder_joins_its_neighbour() -> None:
    # 10 + 10 + 2 at a target of 10: the lone 2 is not a trip of its own.
    points = [Point(0, 0), Point(1, 0), Point(5, 0), Point(6, 0), Point(7, 0)]
    weights = [5, 5, 5, 5, 2]
    groups = group_by_weight(points, weights, 10)
    assert sorted(sum(weights[i] for i in g) for g in groups) == [10, 12]


def test_groups_are_compact() -> None:
    # Two clumps far apart, each worth one target: never mixed.
    west = [Point(0 + i * 0.1, 0) for i in range(5)]
    east = [Point(100 + i * 0.1, 0) for i in range(5)]
    groups = group_by_weight(west + east, [2] * 10, 10)
    assert groups == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]


def test_x_scale_measures_distances_on_the_ground() -> None:
    # Degrees of longitude shrink with latitude: at x_scale 0.1 the village one
    # degree east is nearer than the one half a degree north, so the pairs run
    # east-west instead of north-south.
    points = [Point(0, 0), Point(1, 0), Point(0, 0.5), Point(1, 0.5)]
    assert group_by_weight(points, [5] * 4, 10, x_scale=0.1) == [[0, 1], [2, 3]]
    assert group_by_weight(points, [5] * 4, 10) == [[0, 2], [1, 3]]


def test_nothing_to_group() -> None:
    assert group_by_weight([], [], 30) == []


@pytest.mark.parametrize(
    ("weights", "target", "x_scale"),
    [([1], 0, 1.0), ([1], float("nan"), 1.0), ([-1], 5, 1.0), ([1, 2], 5, 1.0), ([1], 5, 0.0)],
)
def test_bad_input_is_refused(weights: list[float], target: float, x_scale: float) -> None:
    with pytest.raises(ValueError):
        group_by_weight([Point(0, 0)], weights, target, x_scale=x_scale)
