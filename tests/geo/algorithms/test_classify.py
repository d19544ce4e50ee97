"""Legend class breaks on hand-checkable values: plain data, no database."""

from __future__ import annotations

import random
import time

import pytest

from geo.algorithms.classify import NATURAL_SAMPLE, Method, breaks, class_of


def test_quantiles_of_one_to_ten_in_five_classes() -> None:
    # Linear interpolation between ranks: the 20th percentile of 1..10 is
    # 1 + 0.2 * 9 = 2.8, and so on in steps of 1.8.
    assert breaks(range(1, 11), method="quantiles") == pytest.approx([2.8, 4.6, 6.4, 8.2, 10.0])


def test_natural_breaks_find_two_obvious_clusters() -> None:
    values = [1, 2, 3, 2, 100, 101, 102, 99]
    assert breaks(values, method="natural", classes=2) == [3.0, 102.0]


def test_natural_breaks_of_three_clusters_in_any_order() -> None:
    values = [50, 1, 52, 2, 51, 3, 900, 910]
    random.Random(4).shuffle(values)
    assert breaks(values, method="natural", classes=3) == [3.0, 52.0, 910.0]


@pytest.mark.parametrize("method", ["quantiles", "natural"])
def test_no_values_give_no_breaks(method: Method) -> None:
    assert breaks([], method=method) == []
    assert breaks([None, None], method=method) == []


@pytest.mark.parametrize("method", ["quantiles", "natural"])
def test_withheld_cells_are_ignored(method: Method) -> None:
    with_gaps = breaks([1, None, 2, 3, None, 40, 41, 42], method=method, classes=2)
    assert with_gaps == breaks([1, 2, 3, 40, 41, 42], method=method, classes=2)


@pytest.mark.parametrize("method", ["quantiles", "natural"])
def test_fewer_distinct_values_than_classes_give_one_class_each(method: Method) -> None:
    assert breaks([2, 7, 2, 7, 7, 2], method=method, classes=5) == [2.0, 7.0]


@pytest.mark.parametrize("method", ["quantiles", "natural"])
def test_all_values_equal_make_one_class(method: Method) -> None:
    assert breaks([4, 4, 4, 4], method=method) == [4.0]


def test_ties_in_quantiles_never_repeat_a_bound() -> None:
    # Eight ones and two larger values: the lower quantiles all fall on 1.
    bounds = breaks([1, 1, 1, 1, 1, 1, 1, 1, 2, 3], method="quantiles", classes=5)
    assert bounds == sorted(set(bounds))
    assert bounds[0] == 1.0 and bounds[-1] == 3.0
    assert len(bounds) < 5


@pytest.mark.parametrize("method", ["quantiles", "natural"])
def test_negative_values_do_not_crash(method: Method) -> None:
    bounds = breaks([-5, -1, 0, 4, 10, -3], method=method, classes=3)
    assert bounds == sorted(set(bounds)) and bounds[-1] == 10.0
    assert class_of(-5, bounds) == 0


def test_non_finite_values_are_ignored() -> None:
    assert breaks([1.0, float("nan"), 2.0, float("inf")], method="natural") == [1.0, 2.0]


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError):
        breaks([1, 2, 3], method="quantiles", classes=0)
    with pytest.raises(ValueError):
        breaks([1, 2, 3], method="jenks")  # type: ignore[arg-type]


def test_class_of_puts_each_value_under_its_upper_bound() -> None:
    bounds = [2.8, 4.6, 6.4, 8.2, 10.0]
    assert [class_of(v, bounds) for v in range(1, 11)] == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    # An upper bound belongs to its own class, not the next.
    assert class_of(2.8, bounds) == 0
    assert class_of(4.6, bounds) == 1


def test_class_of_edges() -> None:
    assert class_of(None, [1.0, 2.0]) is None
    assert class_of(float("nan"), [1.0, 2.0]) is None
    assert class_of(1.0, []) is None
    assert class_of(-7.0, [1.0, 2.0]) == 0  # below the legend: lowest class
    assert class_of(99.0, [1.0, 2.0]) == 1  # above it: highest class, as mapclassify


def test_every_value_has_a_class_and_classes_follow_order() -> None:
    rng = random.Random(11)
    methods: tuple[Method, ...] = ("quantiles", "natural")
    for method in methods:
        values = [rng.randint(0, 300) for _ in range(200)]
        bounds = breaks(values, method=method)
        assert len(bounds) == 5 and bounds == sorted(set(bounds))
        assert bounds[-1] == max(values)
        ordered = sorted(values)
        classes = [class_of(v, bounds) for v in ordered]
        assert classes == sorted(classes)  # type: ignore[type-var]
        assert set(classes) == set(range(5))


def test_natural_breaks_on_many_values_are_quick_and_stable() -> None:
    # A nationwide tambon map: ~7,400 values; full pure-Python Fisher-Jenks
    # would take minutes. Mostly small counts, and a rare far group that the
    # sample must not lose.
    rng = random.Random(3)
    values = [rng.randint(0, 30) for _ in range(7400)] + [500, 505, 510]
    assert len(values) > NATURAL_SAMPLE
    started = time.perf_counter()
    first = breaks(values, method="natural")
    assert time.perf_counter() - started < 5.0
    assert first == breaks(list(reversed(values)), method="natural")
    assert first[-1] == 510.0
    # The far group is a class of its own.
    assert first[-2] < 500.0
