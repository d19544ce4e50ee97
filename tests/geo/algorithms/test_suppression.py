"""Small-count suppression on hand-worked tables and random ones: plain data, no database."""

from __future__ import annotations

import random
from collections.abc import Hashable, Sequence
from typing import TypeVar

import numpy as np
import pytest

from geo.algorithms.suppression import WITHHELD, Suppression, shown, suppress

Relation = tuple[Hashable, Sequence[Hashable]]
Named = tuple[str, Sequence[str]]


K = TypeVar("K", bound=Hashable)


def withheld_of(result: Suppression[K]) -> set[K]:
    return {key for key, value in result.published.items() if value is None}


# --- hand-worked tables -----------------------------------------------------


def test_one_small_part_takes_the_next_smallest_with_it() -> None:
    counts = {"T": 30, "a": 2, "b": 7, "c": 9, "d": 12}
    result = suppress(counts, [("T", ["a", "b", "c", "d"])])
    # a = 2 < 5 is withheld; alone it would be 30 - 7 - 9 - 12, so b (the
    # smallest other part) goes too. The total stays: a + b = 9 says neither.
    assert result.published == {"T": 30, "a": None, "b": None, "c": 9, "d": 12}
    assert result.primary == {"a"}
    assert result.complementary == {"b"}
    assert result.withheld == {"a", "b"}


def test_equal_parts_are_chosen_by_key() -> None:
    counts = {"T": 20, "a": 2, "z": 9, "m": 9}
    result = suppress(counts, [("T", ["z", "a", "m"])])
    assert result.complementary == {"m"}


def test_complementary_suppression_cascades_up_and_down_a_hierarchy() -> None:
    counts = {
        "C": 71,  # country = P1 + P2 + P3
        "P1": 17,  # = D1 + D2
        "D1": 3,  # = t1 + t2
        "t1": 1,
        "t2": 2,
        "D2": 14,  # = t3 + t4
        "t3": 6,
        "t4": 8,
        "P2": 4,  # = D3 + D4
        "D3": 4,  # = t5 + t6
        "t5": 4,
        "t6": 0,
        "D4": 0,  # = t7 + t8
        "t7": 0,
        "t8": 0,
        "P3": 50,
    }
    relations: list[Named] = [
        ("C", ["P1", "P2", "P3"]),
        ("P1", ["D1", "D2"]),
        ("P2", ["D3", "D4"]),
        ("D1", ["t1", "t2"]),
        ("D2", ["t3", "t4"]),
        ("D3", ["t5", "t6"]),
        ("D4", ["t7", "t8"]),
    ]
    result = suppress(counts, relations)
    # Primary: t1, t2, D1 = 3, t5, D3 = P2 = 4. The country relation then has one
    # withheld member (P2 = 71 - P1 - P3), so its smallest other province, P1,
    # goes. That leaves P1's relation with two withheld members (P1, D1), so D2
    # and its tambons stay published; the zeros stay published too.
    assert result.primary == {"t1", "t2", "D1", "t5", "D3", "P2"}
    assert result.complementary == {"P1"}
    assert withheld_of(result) == {"t1", "t2", "D1", "t5", "D3", "P2", "P1"}
    assert result.published["D2"] == 14 and result.published["t6"] == 0
    # The same answer whatever order the relations come in.
    assert suppress(counts, list(reversed(relations))) == result


def test_a_withheld_district_exposes_its_province() -> None:
    counts = {"P": 60, "D1": 3, "D2": 27, "D3": 30, "a": 3, "b": 10, "c": 14}
    relations: list[Named] = [("P", ["D1", "D2", "D3"]), ("D2", ["a", "b", "c"])]
    result = suppress(counts, relations)
    # Relations are handled by their totals' order, "D2" before "P": a = 3 alone
    # in D2's relation -> b (10 < 14); then D1 = 3 alone in P's relation -> D2
    # (27 < 30), which D2's relation, already with two, does not need.
    assert result.primary == {"D1", "a"}
    assert result.complementary == {"b", "D2"}
    # Without a, D2's relation would have been exposed by D2 in turn.
    counts_b = {**counts, "a": 7, "b": 6, "c": 14}
    result_b = suppress(counts_b, relations)
    assert result_b.primary == {"D1"}
    assert result_b.complementary == {"D2", "b"}


def cross_table(cells: list[list[int]]) -> tuple[dict[Hashable, int], list[Relation]]:
    """Cells keyed (row, column), margins keyed with -1, both directions related."""
    rows, cols = len(cells), len(cells[0])
    counts: dict[Hashable, int] = {}
    for r in range(rows):
        for c in range(cols):
            counts[(r, c)] = cells[r][c]
        counts[(r, -1)] = sum(cells[r])
    for c in range(cols):
        counts[(-1, c)] = sum(cells[r][c] for r in range(rows))
    counts[(-1, -1)] = sum(map(sum, cells))
    relations: list[Relation] = [((r, -1), [(r, c) for c in range(cols)]) for r in range(rows)]
    relations += [((-1, c), [(r, c) for r in range(rows)]) for c in range(cols)]
    relations.append(((-1, -1), [(r, -1) for r in range(rows)]))
    relations.append(((-1, -1), [(-1, c) for c in range(cols)]))
    return counts, relations


def test_cross_table_withholds_a_rectangle() -> None:
    counts, relations = cross_table([[3, 10], [8, 12], [9, 15]])
    result = suppress(counts, relations)
    # (0,0) = 3 exposes column 0 and row 0. Margins are keyed with -1, so
    # column relations sort first: column 0 -> (1,0) = 8 < 9, which exposes
    # row 1; row 0 -> (0,1) = 10, which exposes column 1; column 1 -> (1,1) =
    # 12 < 15, and row 1 then has two. Every margin stays published.
    assert result.primary == {(0, 0)}
    assert result.complementary == {(0, 1), (1, 0), (1, 1)}
    assert all(result.published[key] is not None for key in counts if -1 in key)  # type: ignore[operator]


def test_a_cell_solved_from_rows_and_columns_together_gets_company() -> None:
    cells = [
        [6, 20, 8, 7],
        [12, 10, 1, 8],
        [9, 5, 20, 15],
        [10, 5, 15, 15],
    ]
    counts, relations = cross_table(cells)
    result = suppress(counts, relations, k=3)
    # One relation at a time (column relations first, as above): (1,2) = 1 ->
    # (0,2) = 8 in column 2; row 0 -> (0,0) = 6; column 0 -> (2,0) = 9; row 2 ->
    # (2,1) = 5; column 1 -> (3,1) = 5; row 3 -> (3,0) = 10; row 1 -> (1,3) = 8;
    # column 3 -> (0,3) = 7. Every row and column then has two or more withheld
    # cells, but they form two rectangles, {(0,2), (0,3), (1,2), (1,3)} and
    # {(2,0), (2,1), (3,0), (3,1)}, joined by (0,0) alone:
    first_pass: set[Hashable] = {
        (0, 0),
        (0, 2),
        (0, 3),
        (1, 2),
        (1, 3),
        (2, 0),
        (2, 1),
        (3, 0),
        (3, 1),
    }
    # Withheld sums from the published margins and cells: row 0 gives 41 - 20,
    # row 1 31 - 12 - 10, column 2 44 - 20 - 15, column 3 45 - 15 - 15; row 0 +
    # row 1 - column 2 - column 3 cancels the first rectangle and leaves
    # (0,0) = 21 + 9 - 9 - 15 = 6.
    assert derivable(relations, first_pass) == {(0, 0)}
    # So one more cell of row 0 or column 0 goes, the smallest published:
    # (1,0) = 12 (before (0,1) = 20), which puts (0,0) on a cycle.
    assert result.primary == {(1, 2)}
    assert result.withheld == first_pass | {(1, 0)}
    assert result.complementary == result.withheld - {(1, 2)}
    assert all(result.published[key] is not None for key in counts if -1 in key)  # type: ignore[operator]
    assert derivable(relations, set(result.withheld)) == set()
    assert suppress(counts, list(reversed(relations)), k=3) == result


def test_the_total_goes_when_the_other_parts_are_zero() -> None:
    counts = {"T": 10, "a": 2, "b": 8, "S": 8, "z": 0}
    result = suppress(counts, [("T", ["a", "b"]), ("S", ["b", "z"])])
    # a -> b (T's relation); b is then alone in S = b + z, whose only other
    # part is a zero, so S itself goes.
    assert result.primary == {"a"}
    assert result.complementary == {"b", "S"}
    assert result.published == {"T": 10, "a": None, "b": None, "S": None, "z": 0}


def test_zeros_are_published_unless_asked_otherwise() -> None:
    counts = {"T": 12, "a": 0, "b": 3, "c": 9}
    relations: list[Named] = [("T", ["a", "b", "c"])]
    default = suppress(counts, relations)
    # The zero would be no cover for b: c goes instead.
    assert default.published == {"T": 12, "a": 0, "b": None, "c": None}
    assert default.complementary == {"c"}
    strict = suppress(counts, relations, withhold_zeros=True)
    assert strict.primary == {"a", "b"}
    assert strict.complementary == frozenset()
    assert strict.published == {"T": 12, "a": None, "b": None, "c": 9}


def test_k_ten() -> None:
    counts = {"T": 40, "a": 4, "b": 9, "c": 12, "d": 15}
    relations: list[Named] = [("T", ["a", "b", "c", "d"])]
    ten = suppress(counts, relations, k=10)
    assert ten.primary == {"a", "b"} and ten.complementary == frozenset()
    assert ten.k == 10
    five = suppress(counts, relations)
    assert five.primary == {"a"} and five.complementary == {"b"}
    assert suppress(counts, relations, k=1).withheld == frozenset()


def test_counts_outside_any_relation_follow_the_primary_rule_only() -> None:
    result = suppress({"x": 2, "y": 5, "z": 0}, [])
    assert result.published == {"x": None, "y": 5, "z": 0}


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="sum"):
        suppress({"T": 10, "a": 4, "b": 5}, [("T", ["a", "b"])])
    with pytest.raises(ValueError, match="without a count"):
        suppress({"T": 4, "a": 4}, [("T", ["a", "b"])])
    with pytest.raises(ValueError, match="negative"):
        suppress({"T": 0, "a": -1, "b": 1}, [("T", ["a", "b"])])
    with pytest.raises(ValueError, match="no parts"):
        suppress({"T": 0}, [("T", [])])
    with pytest.raises(ValueError, match="repeats"):
        suppress({"T": 4, "a": 2}, [("T", ["a", "a"])])
    with pytest.raises(ValueError, match="k must"):
        suppress({"a": 1}, [], k=0)


def test_shown() -> None:
    assert shown(7) == "7"
    assert shown(0) == "0"
    assert shown(None) == WITHHELD
    assert shown(None, "<5") == "<5"


# --- random tables ----------------------------------------------------------


def small_count(rng: random.Random) -> int:
    # Heavy on zeros and small counts, where suppression has work to do.
    return rng.choice([0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 9, 12, 20, 35, 80])


def random_hierarchy(rng: random.Random) -> tuple[dict[Hashable, int], list[Relation]]:
    """A tree of areas keyed by path, 1-4 levels, 1-4 children each (one child too)."""
    counts: dict[Hashable, int] = {}
    relations: list[Relation] = []

    def grow(path: tuple[int, ...], depth: int) -> int:
        if depth == 0:
            counts[path] = small_count(rng)
            return counts[path]
        children = [(*path, i) for i in range(rng.randint(1, 4))]
        counts[path] = sum(grow(child, depth - 1) for child in children)
        relations.append((path, children))
        return counts[path]

    grow((), rng.randint(1, 4))
    return counts, relations


def random_cross_table(rng: random.Random) -> tuple[dict[Hashable, int], list[Relation]]:
    rows, cols = rng.randint(1, 6), rng.randint(1, 6)
    return cross_table([[small_count(rng) for _ in range(cols)] for _ in range(rows)])


def random_hierarchy_by_group(rng: random.Random) -> tuple[dict[Hashable, int], list[Relation]]:
    """Area by group (age, sex): every area row sums its groups, every group sums its subareas."""
    groups = rng.randint(1, 4)
    counts: dict[Hashable, int] = {}
    relations: list[Relation] = []

    def grow(path: tuple[int, ...], depth: int) -> None:
        if depth == 0:
            for g in range(groups):
                counts[(path, g)] = small_count(rng)
        else:
            children = [(*path, i) for i in range(rng.randint(1, 3))]
            for child in children:
                grow(child, depth - 1)
            for g in range(groups + 1):
                g_key = g if g < groups else -1
                counts[(path, g_key)] = sum(counts[(child, g_key)] for child in children)
                relations.append(((path, g_key), [(child, g_key) for child in children]))
        counts[(path, -1)] = sum(counts[(path, g)] for g in range(groups))
        relations.append(((path, -1), [(path, g) for g in range(groups)]))

    grow((), rng.randint(1, 3))
    return counts, relations


def derivable(relations: Sequence[Relation], withheld: set[Hashable]) -> set[Hashable]:
    """Withheld keys whose value all published values and relations together fix.

    Each relation is a linear equation in the withheld values; a value is fixed
    exactly when every solution of the homogeneous system leaves it at zero.
    """
    unknown = sorted(withheld, key=repr)
    column = {key: i for i, key in enumerate(unknown)}
    rows = []
    for total, parts in relations:
        row = np.zeros(len(unknown))
        for key, sign in [(total, 1.0)] + [(part, -1.0) for part in parts]:
            if key in column:
                row[column[key]] += sign
        if row.any():
            rows.append(row)
    if not unknown:
        return set()
    if not rows:
        return set()
    matrix = np.array(rows)
    _, singular, vh = np.linalg.svd(matrix)
    rank = int((singular > 1e-9).sum())
    null = vh[rank:]
    return {key for key, i in column.items() if np.all(np.abs(null[:, i]) < 1e-9)}


GENERATORS = {
    "hierarchy": random_hierarchy,
    "cross_table": random_cross_table,
    "hierarchy_by_group": random_hierarchy_by_group,
}


@pytest.mark.parametrize("kind", sorted(GENERATORS))
@pytest.mark.parametrize("k", [3, 5, 10])
def test_random_tables_leave_no_count_to_work_out(kind: str, k: int) -> None:
    rng = random.Random(f"{kind}-{k}")
    for _ in range(150):
        counts, relations = GENERATORS[kind](rng)
        withhold_zeros = rng.random() < 0.2
        result = suppress(counts, relations, k=k, withhold_zeros=withhold_zeros)
        withheld = withheld_of(result)
        assert withheld == result.withheld
        assert not result.primary & result.complementary

        # (a) nothing published singles out fewer than k children.
        for key, value in result.published.items():
            assert value is None or value == 0 or value >= k, key
            if value == 0:
                assert not withhold_zeros
            assert value is None or value == counts[key]

        # (b)/(c) no relation has exactly one withheld member, which subtraction
        # would give back.
        for total, parts in relations:
            assert sum(key in withheld for key in (total, *parts)) != 1, (total, parts)

        # (d) deterministic, and blind to the order of counts and relations.
        shuffled_relations = [(t, rng.sample(list(p), len(p))) for t, p in relations]
        rng.shuffle(shuffled_relations)
        shuffled_keys = rng.sample(list(counts), len(counts))
        shuffled_counts = {key: counts[key] for key in shuffled_keys}
        again = suppress(shuffled_counts, shuffled_relations, k=k, withhold_zeros=withhold_zeros)
        assert again == result
        assert suppress(counts, relations, k=k, withhold_zeros=withhold_zeros) == result


@pytest.mark.parametrize("kind", sorted(GENERATORS))
def test_random_tables_leave_nothing_to_solve_from_all_relations_together(kind: str) -> None:
    # Stronger than (b): the published values and all relations at once fix no
    # withheld value, for trees of areas and linked tables alike.
    rng = random.Random(f"together-{kind}")
    for _ in range(150):
        counts, relations = GENERATORS[kind](rng)
        for k in (3, 5, 10):
            result = suppress(counts, relations, k=k)
            assert derivable(relations, set(result.withheld)) == set()


def national_areas_by_group(
    rng: random.Random, groups: int, *, linked: bool
) -> tuple[dict[Hashable, int], list[Relation]]:
    """Country, 77 provinces, 928 districts, 7,425 tambons, each area by group.

    Areas are keyed by path. ``linked`` relates every group across areas too
    (a table with cycles); otherwise only the all-groups counts of areas are,
    and the groups of each area (a forest).
    """
    provinces = [(p,) for p in range(77)]
    districts = [(d % 77, d) for d in range(928)]
    tambons = [(*districts[t % 928], t) for t in range(7425)]
    children: dict[tuple[int, ...], list[tuple[int, ...]]] = {}
    for area in [*provinces, *districts, *tambons]:
        children.setdefault(area[:-1], []).append(area)
    counts: dict[Hashable, int] = {}
    relations: list[Relation] = []
    for area in [*tambons, *districts, *provinces, ()]:
        kids = children.get(area, [])
        for g in range(groups):
            if kids:
                counts[(area, g)] = sum(counts[(kid, g)] for kid in kids)
            else:
                counts[(area, g)] = small_count(rng)
        counts[(area, -1)] = sum(counts[(area, g)] for g in range(groups))
        relations.append(((area, -1), [(area, g) for g in range(groups)]))
        for g in [*range(groups), -1] if kids and linked else [-1] if kids else []:
            relations.append(((area, g), [(kid, g) for kid in kids]))
    return counts, relations


@pytest.mark.parametrize("linked", [False, True])
def test_a_national_table_is_suppressed(linked: bool) -> None:
    # Size sanity, not a clock: the forest skips the audit; the linked table
    # runs it on every component of withheld cells that has a cycle.
    counts, relations = national_areas_by_group(random.Random("national"), 3, linked=linked)
    result = suppress(counts, relations, k=5)
    withheld = set(result.withheld)
    assert len(counts) == 4 * (1 + 77 + 928 + 7425)
    assert result.complementary
    for total, parts in relations:
        assert sum(key in withheld for key in (total, *parts)) != 1


def test_the_linear_check_can_see_a_derivable_cell() -> None:
    # The property test relies on ``derivable``; it must catch the plain case.
    relations: list[Named] = [("T", ["a", "b"])]
    assert derivable(relations, {"a"}) == {"a"}
    assert derivable(relations, {"a", "b"}) == set()
