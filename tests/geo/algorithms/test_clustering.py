"""Voronoi cells and proximity groups: pure shapely, no database."""

from __future__ import annotations

import math
import random

import pytest
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon

from geo.algorithms.clustering import group_by_proximity, voronoi_cells

# A tambon-like shape: concave, with a hole (a reservoir) and a detached island.
MAINLAND = Polygon(
    [(0, 0), (10, 0), (10, 6), (6, 6), (6, 10), (0, 10), (0, 0)],
    holes=[[(2, 2), (4, 2), (4, 4), (2, 4), (2, 2)]],
)
BOUNDARY = MultiPolygon([MAINLAND, Polygon([(12, 12), (14, 12), (14, 14), (12, 14)])])


def _points_inside(count: int, seed: int) -> list[Point]:
    rng = random.Random(seed)
    points: list[Point] = []
    while len(points) < count:
        p = Point(rng.uniform(0, 14), rng.uniform(0, 14))
        if BOUNDARY.contains(p):
            points.append(p)
    return points


def _assert_partition(cells: list[MultiPolygon], boundary: MultiPolygon) -> None:
    assert sum(c.area for c in cells) == pytest.approx(boundary.area, rel=1e-9)
    assert shapely.union_all(cells).symmetric_difference(boundary).area < 1e-9
    for i, a in enumerate(cells):
        for b in cells[i + 1 :]:
            assert a.intersection(b).area < 1e-9


def test_the_cells_partition_the_boundary() -> None:
    points = _points_inside(25, seed=1)
    cells = voronoi_cells(points, BOUNDARY)
    assert len(cells) == len(points)
    assert all(isinstance(c, MultiPolygon) for c in cells)
    _assert_partition(cells, BOUNDARY)


def test_each_point_gets_the_part_nearest_to_it_in_input_order() -> None:
    points = _points_inside(15, seed=2)
    cells = voronoi_cells(points, BOUNDARY)
    for point, cell in zip(points, cells, strict=True):
        assert cell.covers(point)
    for probe in _points_inside(200, seed=3):
        nearest = min(range(len(points)), key=lambda i: points[i].distance(probe))
        owner = next(i for i, c in enumerate(cells) if c.covers(probe))
        assert points[owner].distance(probe) == pytest.approx(points[nearest].distance(probe))


def test_x_scale_measures_longitude_shorter() -> None:
    """At latitude 60 a degree of longitude is half a degree of latitude on the
    ground: the bisector of two sites one apart in x and in y moves accordingly."""
    square = Polygon([(0, 0), (4, 0), (4, 4), (0, 4)])
    west, north = Point(1, 1), Point(2, 2)
    plain = voronoi_cells([west, north], square)
    scaled = voronoi_cells([west, north], square, x_scale=math.cos(math.radians(60)))
    probe = Point(3.5, 0.9)  # nearer to `north` in degrees, to `west` on the ground
    assert plain[1].covers(probe)
    assert scaled[0].covers(probe)
    _assert_partition(scaled, MultiPolygon([square]))


def test_a_single_point_gets_the_whole_boundary() -> None:
    (cell,) = voronoi_cells([Point(1, 1)], BOUNDARY)
    assert cell.equals(BOUNDARY)


def test_a_repeated_point_gets_its_cell_once() -> None:
    points = [Point(1, 1), Point(8, 1), Point(1, 1)]
    cells = voronoi_cells(points, BOUNDARY)
    assert cells[2].is_empty
    _assert_partition(cells, BOUNDARY)


def test_a_point_outside_still_shares_the_boundary() -> None:
    cells = voronoi_cells([Point(1, 1), Point(20, 20)], BOUNDARY)
    assert cells[1].covers(Point(13, 13))  # the island is nearer the outside point
    _assert_partition(cells, BOUNDARY)


def test_collinear_points() -> None:
    cells = voronoi_cells([Point(1, 5), Point(5, 5), Point(9, 5)], BOUNDARY)
    _assert_partition(cells, BOUNDARY)


def test_no_points_no_cells() -> None:
    assert voronoi_cells([], BOUNDARY) == []


@pytest.mark.parametrize("x_scale", [0.0, -1.0, math.nan, math.inf])
def test_x_scale_must_be_a_positive_number(x_scale: float) -> None:
    with pytest.raises(ValueError, match="x_scale"):
        voronoi_cells([Point(1, 1), Point(2, 2)], BOUNDARY, x_scale=x_scale)


def _random_points(count: int, seed: int) -> list[Point]:
    rng = random.Random(seed)
    return [Point(rng.uniform(0, 100), rng.uniform(0, 50)) for _ in range(count)]


@pytest.mark.parametrize(("count", "target"), [(1, 4), (3, 4), (14, 4), (17, 4), (50, 7), (9, 1)])
def test_groups_cover_every_index_once_with_even_sizes(count: int, target: int) -> None:
    groups = group_by_proximity(_random_points(count, seed=count), target)
    assert sorted(i for g in groups for i in g) == list(range(count))
    assert len(groups) == max(1, round(count / target))
    sizes = [len(g) for g in groups]
    assert max(sizes) - min(sizes) <= 1
    assert all(g == sorted(g) for g in groups)


def test_groups_are_compact() -> None:
    """Three tight hamlets far apart come out as the three groups."""
    hamlets = [(0.0, 0.0), (50.0, 3.0), (20.0, 40.0)]
    rng = random.Random(5)
    points = [
        Point(x + rng.uniform(0, 1), y + rng.uniform(0, 1)) for _ in range(4) for x, y in hamlets
    ]
    groups = group_by_proximity(points, 4)
    assert sorted(groups) == sorted([[i for i in range(12) if i % 3 == h] for h in range(3)])


def test_groups_depend_only_on_the_points() -> None:
    points = _random_points(40, seed=9)
    first = group_by_proximity(points, 4)
    assert group_by_proximity(list(points), 4) == first
    order = list(range(40))
    random.Random(1).shuffle(order)
    shuffled = group_by_proximity([points[i] for i in order], 4)
    as_points = {frozenset((points[i].x, points[i].y) for i in g) for g in first}
    assert {
        frozenset((points[order[i]].x, points[order[i]].y) for i in g) for g in shuffled
    } == as_points


def test_ties_are_broken_by_index() -> None:
    same = [Point(1, 1)] * 6
    assert group_by_proximity(same, 3) == [[0, 1, 2], [3, 4, 5]]


def test_no_points_no_groups() -> None:
    assert group_by_proximity([], 4) == []


def test_target_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="target_size"):
        group_by_proximity([Point(0, 0)], 0)
