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

What this promises, and what not: no withheld count is given back by one
relation on its own. For a tree of areas (each count the total of at most one
relation and a part of at most one) that is also true of all relations taken
together; the tests check it by linear algebra. For cross-tables and areas by
group it is not: withheld cells of a two-way table form a graph (rows and
columns joined by cells), and a cell that is a bridge in it can be solved from
several rows and columns together although each has two or more withheld
cells. Closing that needs an audit of all relations together (withheld cells
must lie on cycles), which this module does not do yet. Bounds are not
protected either: a withheld part is at most its total.
"""

from __future__ import annotations

import heapq
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
    withheld = set(primary)
    complementary: set[K] = set()

    containing: dict[K, list[int]] = {}
    open_members: list[int] = []
    for index, (total, parts) in enumerate(ordered):
        for key in (total, *parts):
            containing.setdefault(key, []).append(index)
        open_members.append(sum(key in withheld for key in (total, *parts)))

    # Every relation with exactly one withheld member is on the heap: members are
    # only ever added to ``withheld``, so a relation can reach one withheld member
    # only from none, and that is when it is pushed. Popping the smallest index
    # therefore always handles the first exposed relation in canonical order.
    heap = [index for index, count in enumerate(open_members) if count == 1]
    heapq.heapify(heap)
    while heap:
        index = heapq.heappop(heap)
        if open_members[index] != 1:
            continue
        total, parts = ordered[index]
        chosen = _complement(total, parts, counts, withheld, rank)
        withheld.add(chosen)
        complementary.add(chosen)
        for other in containing[chosen]:
            open_members[other] += 1
            if open_members[other] == 1:
                heapq.heappush(heap, other)

    published = {key: (None if key in withheld else count) for key, count in counts.items()}
    return Suppression(published, frozenset(primary), frozenset(complementary), k)


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
