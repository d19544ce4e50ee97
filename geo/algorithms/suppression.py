"""Withholding small counts in published tables, so that no child can be singled out.

Pure functions on plain data, no Django. The officials' gap maps and dashboards
publish counts of children per tambon, district and province, and cross-tables
(area by age, by sex, ...). A count of one or two children in a tambon points at
a household the neighbours know, so:

1. Primary rule: a count ``c`` with ``0 < c < k`` is withheld. A zero names
   nobody, so zeros are published unless ``withhold_zeros`` is set.
2. Complementary rule: counts are tied by additive relations, ``total =
   sum(parts)`` (a district is the sum of its tambons, a row total the sum of its
   cells, a province the sum of its districts). When a relation has exactly one
   withheld member, subtraction gives it back, so one more member of that
   relation is withheld: the smallest published non-zero part (the least
   information lost), else the total. Withholding that member can leave another
   relation it belongs to with exactly one withheld member (a withheld district
   exposes its province), so this repeats until no relation has exactly one.

The exposed relation handled next is always the first in a canonical order of
relations, and every choice breaks ties by value, then by key: the same counts
and relations, in any order, give the same result. Keys must sort among
themselves (ints, strings, tuples of them); mixed keys fall back to sorting by
type name and ``repr``.

3. Audit of all relations together: one relation at a time is not enough
   for linked tables (cross-tables, areas by group). Withheld cells of a
   two-way table form a graph (rows and columns joined by cells), and a cell
   that is a bridge in it is solved by adding and subtracting several rows and
   columns, although each has two or more withheld cells. So the withheld
   counts are taken as the unknowns of all relations at once; while one is
   fixed by them, one more count of a relation holding it is withheld (the
   smallest published non-zero part, else the total, as above) and rule 2
   runs again.

What this promises, and what not: the published counts and all relations
together fix no withheld count, except one the relations fix on their own
(two relations of one total whose parts differ by published zeros would force
a withheld extra part to zero). For a forest of areas the audit is skipped:
there the one-relation rule already guarantees it. Bounds are not protected:
a withheld part is at most its total, and a withheld cell may be pinned to a
narrow range without being fixed.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = ["WITHHELD", "Suppression", "shown", "suppress"]

K = TypeVar("K", bound=Hashable)

# One mark for every withheld cell, primary or complementary. "<5" would be
# false for a complementary cell (a district of 40 withheld to protect a
# tambon of 2), and marking the two kinds apart leaks: a relation summing to
# k + 1 with one "<k" part and one complementary part (which is at least k)
# gives the "<k" part away as exactly 1.
WITHHELD = "x"


@dataclass(frozen=True)
class Suppression(Generic[K]):
    """What may be published: per key the count, or ``None`` when withheld."""

    published: Mapping[K, int | None]
    primary: frozenset[K]
    complementary: frozenset[K]
    k: int

    @property
    def withheld(self) -> frozenset[K]:
        return self.primary | self.complementary


def shown(value: int | None, mark: str = WITHHELD) -> str:
    """The text of a table cell: the count, or ``mark`` when it is withheld."""
    return mark if value is None else str(value)


def _ranks(keys: Iterable[K]) -> dict[K, int]:
    unique = set(keys)
    try:
        ordered = sorted(unique)  # type: ignore[type-var]
    except TypeError:
        # Mixed key types do not compare; type name then repr is still stable.
        ordered = sorted(unique, key=lambda key: (type(key).__name__, repr(key)))
    return {key: rank for rank, key in enumerate(ordered)}


def suppress(
    counts: Mapping[K, int],
    relations: Iterable[tuple[K, Sequence[K]]],
    *,
    k: int = 5,
    withhold_zeros: bool = False,
) -> Suppression[K]:
    """Withhold the counts of ``counts`` that would single out a child.

    ``relations`` are ``(total, parts)`` pairs with ``counts[total] ==
    sum(counts[p] for p in parts)``. Raises ``ValueError`` for a negative count,
    ``k < 1``, a key missing from ``counts``, a relation without parts or with a
    repeated key, and a total that is not the sum of its parts: a table whose
    sums do not hold is a bug upstream, not something to publish.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, not {k}")
    for key, count in counts.items():
        if count < 0:
            raise ValueError(f"count of {key!r} is negative: {count}")
    rank = _ranks(counts)

    canonical: set[tuple[K, tuple[K, ...]]] = set()
    for total, parts in relations:
        members = [total, *parts]
        missing = [key for key in members if key not in counts]
        if missing:
            raise ValueError(f"relation of {total!r} names keys without a count: {missing!r}")
        if not parts:
            raise ValueError(f"relation of {total!r} has no parts")
        if len(set(members)) != len(members):
            raise ValueError(f"relation of {total!r} repeats a key")
        if counts[total] != sum(counts[part] for part in parts):
            raise ValueError(f"{total!r} is not the sum of its parts")
        canonical.add((total, tuple(sorted(parts, key=rank.__getitem__))))
    # Sorted by ranks, so the order the caller listed relations in does not matter.
    ordered = sorted(
        canonical, key=lambda rel: (rank[rel[0]], tuple(rank[part] for part in rel[1]))
    )

    primary = {
        key for key, count in counts.items() if 0 < count < k or (count == 0 and withhold_zeros)
    }
    cascade = _Cascade(ordered, counts, rank, primary)
    cascade.run()
    # The one-relation rule is enough for a forest; only linked tables (rows
    # and columns, areas by group) need all relations solved together.
    while True:
        determined = _determined(ordered, cascade.withheld, rank)
        if not determined:
            break
        chosen = _cover(determined, ordered, cascade.containing, counts, cascade.withheld, rank)
        if chosen is None:
            # Every relation holding a determined cell is withheld whole: the
            # relations alone fix the value (a part that must be zero), and no
            # further withholding can hide it.
            break
        cascade.withhold(chosen)
        cascade.run()

    withheld = cascade.withheld
    published = {key: (None if key in withheld else count) for key, count in counts.items()}
    return Suppression(published, frozenset(primary), frozenset(cascade.complementary), k)


class _Cascade(Generic[K]):
    """The one-relation rule, resumable after the audit withholds another cell."""

    def __init__(
        self,
        ordered: Sequence[tuple[K, tuple[K, ...]]],
        counts: Mapping[K, int],
        rank: Mapping[K, int],
        primary: set[K],
    ) -> None:
        self.ordered = ordered
        self.counts = counts
        self.rank = rank
        self.withheld = set(primary)
        self.complementary: set[K] = set()
        self.containing: dict[K, list[int]] = {}
        self.open_members: list[int] = []
        for index, (total, parts) in enumerate(ordered):
            for key in (total, *parts):
                self.containing.setdefault(key, []).append(index)
            self.open_members.append(sum(key in self.withheld for key in (total, *parts)))
        # Every relation with exactly one withheld member is on the heap:
        # members are only ever added to ``withheld``, so a relation can reach
        # one withheld member only from none, and that is when it is pushed.
        # Popping the smallest index therefore always handles the first exposed
        # relation in canonical order.
        self.heap = [index for index, count in enumerate(self.open_members) if count == 1]
        heapq.heapify(self.heap)

    def withhold(self, key: K) -> None:
        self.withheld.add(key)
        self.complementary.add(key)
        for other in self.containing.get(key, ()):
            self.open_members[other] += 1
            if self.open_members[other] == 1:
                heapq.heappush(self.heap, other)

    def run(self) -> None:
        while self.heap:
            index = heapq.heappop(self.heap)
            if self.open_members[index] != 1:
                continue
            total, parts = self.ordered[index]
            self.withhold(_complement(total, parts, self.counts, self.withheld, self.rank))


def _determined(
    ordered: Sequence[tuple[K, tuple[K, ...]]],
    withheld: set[K],
    rank: Mapping[K, int],
) -> list[K]:
    """Withheld keys that the published values and all relations together fix.

    Unknowns are the withheld counts; each relation with a withheld member is
    one equation in them. The relations with a withheld member and the withheld
    keys form a bipartite graph, whose connected components are independent
    systems. A component that is a tree fixes nothing: the relations of any
    combination of its equations span a subtree, whose two or more leaves are
    keys (every relation has two or more withheld members) in only one of the
    combined equations, so two unknowns at least keep their coefficients. Only
    components with a cycle are solved, exactly.
    """
    rows: list[dict[K, int]] = []
    for total, parts in ordered:
        row = {key: -1 for key in parts if key in withheld}
        if total in withheld:
            row[total] = 1
        if row:
            rows.append(row)
    if not rows:
        return []

    # Union-find over row numbers, joined through the keys they share.
    parent = list(range(len(rows)))

    def find(node: int) -> int:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    first_row: dict[K, int] = {}
    for index, row in enumerate(rows):
        for key in row:
            if key in first_row:
                parent[find(index)] = find(first_row[key])
            else:
                first_row[key] = index
    members: dict[int, list[int]] = {}
    for index in range(len(rows)):
        members.setdefault(find(index), []).append(index)
    keys_of: dict[int, int] = {}
    for index in first_row.values():
        root = find(index)
        keys_of[root] = keys_of.get(root, 0) + 1

    determined: list[int] = []
    for root, indices in members.items():
        edges = sum(len(rows[index]) for index in indices)
        if edges == len(indices) + keys_of[root] - 1:
            continue  # a tree
        determined += _solved(
            [{rank[key]: coefficient for key, coefficient in rows[i].items()} for i in indices]
        )
    by_rank = {rank[key]: key for key in first_row}
    return [by_rank[column] for column in sorted(determined)]


def _solved(rows: list[dict[int, int]]) -> list[int]:
    """Columns whose unit vector lies in the row space of a sparse integer matrix.

    Exact Gauss-Jordan elimination on Python ints, fraction-free (row * pivot -
    pivot row * entry, then divided by the gcd): the entries start at 0 and +-1
    and, for these sum tables, stay tiny, so there is no round-off to tune a
    tolerance for and a dense float rank of a few thousand unknowns (cubic) is
    avoided. In the reduced form every row has zeros in the other rows' pivot
    columns, so a unit vector is in the row space exactly when some reduced
    row has a single entry.
    """
    rows = [dict(row) for row in rows]
    holding: dict[int, set[int]] = {}
    for index, row in enumerate(rows):
        for column in row:
            holding.setdefault(column, set()).add(index)
    # Shortest row first, pivoting on its least shared column: a cheap
    # Markowitz order that keeps fill-in low on these very sparse systems.
    queue = [(len(row), index) for index, row in enumerate(rows)]
    heapq.heapify(queue)
    done: set[int] = set()
    while queue:
        length, index = heapq.heappop(queue)
        row = rows[index]
        if index in done or length != len(row):
            continue  # a stale entry: the row was shortened and pushed again
        done.add(index)
        if not row:
            continue  # dependent on the rows already pivoted
        column = min(row, key=lambda c: (len(holding[c]), c))
        pivot = row[column]
        for other in sorted(holding[column] - {index}):
            target = rows[other]
            factor = target[column]
            divisor = 0
            for c in set(target) | set(row):
                value = target.get(c, 0) * pivot - row.get(c, 0) * factor
                if value:
                    if c not in target:
                        holding[c].add(other)
                    target[c] = value
                    divisor = math.gcd(divisor, value)
                elif c in target:
                    del target[c]
                    holding[c].discard(other)
            if divisor > 1:
                for c in target:
                    target[c] //= divisor
            if other not in done:
                heapq.heappush(queue, (len(target), other))
    return [next(iter(row)) for row in rows if len(row) == 1]


def _cover(
    determined: Sequence[K],
    ordered: Sequence[tuple[K, tuple[K, ...]]],
    containing: Mapping[K, Sequence[int]],
    counts: Mapping[K, int],
    withheld: set[K],
    rank: Mapping[K, int],
) -> K | None:
    """The published cell to withhold so that a determined cell may stop being so.

    Among the relations holding a determined cell, as in ``_complement``: the
    smallest published non-zero part, else the smallest published total, else a
    published zero part; ``None`` when all of them are withheld whole.
    """
    nonzero: set[K] = set()
    totals: set[K] = set()
    zeros: set[K] = set()
    for key in determined:
        for index in containing.get(key, ()):
            total, parts = ordered[index]
            for part in parts:
                if part not in withheld:
                    (nonzero if counts[part] > 0 else zeros).add(part)
            if total not in withheld:
                totals.add(total)
    for tier in (nonzero, totals, zeros):
        if tier:
            return min(tier, key=lambda key: (counts[key], rank[key]))
    return None


def _complement(
    total: K,
    parts: Sequence[K],
    counts: Mapping[K, int],
    withheld: set[K],
    rank: Mapping[K, int],
) -> K:
    """The member of an exposed relation to withhold next."""
    open_parts = [part for part in parts if part not in withheld]
    nonzero = [part for part in open_parts if counts[part] > 0]
    if nonzero:
        return min(nonzero, key=lambda part: (counts[part], rank[part]))
    if total not in withheld:
        return total
    # Only reachable when the total is the withheld member and every published
    # part is zero, which consistent sums rule out; withholding a zero still
    # hides the total, so there is no need to fail.
    return min(open_parts, key=rank.__getitem__)
