"""Zone metrics on hand-made cases: plain data, no database."""

from __future__ import annotations

import math

import pytest

from geo.algorithms.zone_metrics import churn, measure, polsby_popper
from geo.algorithms.zones import Household, Volunteer

# Two rows of four households, 100 m apart; volunteers at each end.
ROW = [Household(f"h{i}{j}", i * 100.0, j * 100.0) for i in range(4) for j in range(2)]
LEFT = Volunteer("L", 0.0, 50.0, capacity=10, max_distance=1000.0)
RIGHT = Volunteer("R", 300.0, 50.0, capacity=10, max_distance=1000.0)


def halves() -> dict[object, object]:
    return {h.id: ("L" if h.x < 150 else "R") for h in ROW}


def test_even_halves_are_balanced_contiguous_and_covered() -> None:
    m = measure(ROW, [LEFT, RIGHT], halves())
    assert m.zones == 2
    assert m.max_over_mean == pytest.approx(1.0)
    assert m.worst_off_mean == pytest.approx(0.0)
    assert m.within_tolerance == 1.0
    assert m.accounted == 1.0 and m.covered == 1.0
    assert m.contiguous == 1.0
    assert m.over_capacity == 0
    assert m.mean_distance == pytest.approx((50 + math.hypot(100, 50)) / 2)
    assert m.max_distance == pytest.approx(math.hypot(100, 50))
    # Each zone is a 100 x 100 square: 4π·10000 / 400².
    assert m.compactness == pytest.approx(math.pi / 4)


def test_interleaved_zones_are_in_pieces_and_unbalanced() -> None:
    stripes = {h.id: ("L" if int(h.x) // 100 % 2 == 0 else "R") for h in ROW}
    stripes["h30"] = "L"
    m = measure(ROW, [LEFT, RIGHT], stripes)
    assert m.contiguous == 0.0
    # Loads 5 and 3, mean 4.
    assert m.max_over_mean == pytest.approx(1.25)
    assert m.worst_off_mean == pytest.approx(0.25)


def test_unreported_and_far_households_are_not_accounted() -> None:
    far = Household("far", 5000.0, 0.0)
    lost = Household("lost", 200.0, 0.0)
    assignment = halves()
    del assignment["h20"]
    m = measure([*ROW, far, lost], [LEFT, RIGHT], assignment | {"lost": "L"}, uncovered=["far"])
    # h20 is neither assigned nor reported; "lost" is within 1000 m of L.
    assert m.accounted == pytest.approx(9 / 10)
    assert m.covered == pytest.approx(8 / 10)


def test_capacity_overflow_is_counted() -> None:
    small = Volunteer("L", 0.0, 50.0, capacity=3, max_distance=1000.0)
    assert measure(ROW, [small, RIGHT], halves()).over_capacity == 1


def test_polsby_popper() -> None:
    assert polsby_popper([(0, 0), (1, 0)]) == 1.0
    assert polsby_popper([(0, 0), (1, 0), (1, 1), (0, 1)]) == pytest.approx(math.pi / 4)
    assert polsby_popper([(0, 0), (1, 0), (2, 0)]) == 0.0  # a line: no area at all
    thin = polsby_popper([(0, 0), (100, 0), (100, 1), (0, 1)])
    assert thin < 0.05


def test_churn() -> None:
    before = {"a": 1, "b": 1, "c": 2, "d": 2}
    assert churn(before, before) == 0.0
    assert churn(before, {"a": 1, "b": 2, "c": 2}) == pytest.approx(2 / 4)
    assert churn(before, {"a": 2, "b": 1}, households=["a", "b"]) == pytest.approx(1 / 2)
    assert churn({}, {"a": 1}) == 0.0


def test_whole_band_counts_only_the_nearest_whole_loads() -> None:
    # Loads 3 and 4, mean 3.5: ±5 % (3.325 to 3.675) holds no whole number, and
    # 3 and 4 are as near as whole cases get.
    seven = [h for h in ROW if h.id != "h31"]
    m = measure(seven, [LEFT, RIGHT], {h.id: ("L" if h.x < 150 else "R") for h in seven})
    assert m.within_tolerance == 0.0
    assert m.within_whole == 1.0
    assert m.within_whole_fair == 1.0
    # Loads 3 and 5, mean 4: the band holds 4, so 3 and 5 stay out of it.
    uneven = halves() | {"h20": "L"}
    m = measure(ROW, [LEFT, RIGHT], uneven)
    assert m.within_tolerance == 0.0
    assert m.within_whole == 0.0
    assert m.within_whole_fair == 0.0
