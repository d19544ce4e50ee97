"""Dividing a district's village clusters among its search teams.

Pure functions on plain data, no Django. Coordinates are planar metres (a local
projection of the district); only their differences matter.

The proposal balances open cases per team while keeping each team's clusters
near its base and in one piece:

1. Seeds: each team takes the unit nearest its base, the closest pairs first.
2. Growth: the team with the fewest cases so far takes the free unit adjacent
   to its area that is nearest its base. Growing only along adjacency keeps
   every team's area in one piece; always feeding the lightest team balances.
3. Improvement: boundary moves from a heavier team to a lighter neighbour, best
   first, while a move lowers the sum of squared loads and leaves the area it
   leaves in no more pieces than before. The sum falls with every move, so this
   ends.

Every choice breaks ties by distance, then by id: the same input in any order
gives the same proposal.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

__all__ = ["Base", "Unit", "components", "propose"]

U = TypeVar("U", bound=Hashable)
T = TypeVar("T", bound=Hashable)


@dataclass(frozen=True)
class Unit(Generic[U]):
    """A cluster, or a tambon without clusters: the smallest piece a team is given."""

    id: U
    x: float
    y: float
    cases: int
    neighbours: frozenset[U] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Base(Generic[T]):
    """Where a team sets out from."""

    id: T
    x: float
    y: float


def _key(value: Hashable) -> tuple[str, str]:
    # Ids may be ints or strings; sorting by type name first keeps mixed ids comparable.
    return (type(value).__name__, f"{value:>20}" if isinstance(value, int) else str(value))


def components(ids: Iterable[U], neighbours: Mapping[U, frozenset[U]]) -> int:
    """How many connected pieces ``ids`` form under ``neighbours``."""
    left = set(ids)
    count = 0
    while left:
        count += 1
        stack = [left.pop()]
        while stack:
            for other in neighbours.get(stack.pop(), frozenset()):
                if other in left:
                    left.remove(other)
                    stack.append(other)
    return count


def propose(
    units: Sequence[Unit[U]], teams: Sequence[Base[T]], *, max_moves: int | None = None
) -> dict[U, T]:
    """Unit id -> team id, for every unit when there is at least one team.

    Adjacency is made symmetric (a unit listing another makes them neighbours
    both ways); neighbours that are not among ``units`` are ignored. When the
    units form pieces that no team can reach by adjacency, the lightest team
    takes the nearest unit of such a piece as a new seed: it then holds more than
    one piece, the least that can be done.
    """
    if not teams or not units:
        return {}
    by_id = {unit.id: unit for unit in units}
    adjacent: dict[U, set[U]] = {unit.id: set() for unit in units}
    for unit in units:
        for other in unit.neighbours:
            if other in by_id and other != unit.id:
                adjacent[unit.id].add(other)
                adjacent[other].add(unit.id)
    neighbours = {uid: frozenset(others) for uid, others in adjacent.items()}
    ordered_teams = sorted(teams, key=lambda team: _key(team.id))
    bases = {team.id: team for team in ordered_teams}

    def distance(uid: U, tid: T) -> float:
        unit, base = by_id[uid], bases[tid]
        return math.hypot(unit.x - base.x, unit.y - base.y)

    def nearest(candidates: Iterable[U], tid: T) -> U | None:
        return min(candidates, key=lambda uid: (distance(uid, tid), _key(uid)), default=None)

    owner: dict[U, T] = {}
    load = {team.id: 0 for team in ordered_teams}
    size = {team.id: 0 for team in ordered_teams}

    def give(uid: U, tid: T) -> None:
        owner[uid] = tid
        load[tid] += by_id[uid].cases
        size[tid] += 1

    # Closest pairs first, so that a team is not handed a unit that lies at
    # another team's door just because its id came first.
    pairs = sorted(
        (distance(uid, team.id), _key(team.id), _key(uid), uid, team.id)
        for uid in by_id
        for team in ordered_teams
    )
    for _distance, _team_key, _unit_key, uid, tid in pairs:
        if uid not in owner and size[tid] == 0:
            give(uid, tid)

    while len(owner) < len(by_id):
        growing = sorted(ordered_teams, key=lambda team: (load[team.id], size[team.id]))
        for team in growing:
            frontier = {
                other
                for uid, tid in owner.items()
                if tid == team.id
                for other in neighbours[uid]
                if other not in owner
            }
            choice = nearest(frontier, team.id)
            if choice is not None:
                give(choice, team.id)
                break
        else:
            lightest = growing[0].id
            seed = nearest((uid for uid in by_id if uid not in owner), lightest)
            if seed is None:  # unreachable: the loop runs while a unit is free
                break
            give(seed, lightest)

    _improve(owner, load, by_id, neighbours, distance, max_moves)
    return owner


def _improve(
    owner: dict[U, T],
    load: dict[T, int],
    by_id: Mapping[U, Unit[U]],
    neighbours: Mapping[U, frozenset[U]],
    distance: Callable[[U, T], float],
    max_moves: int | None,
) -> None:
    limit = max_moves if max_moves is not None else 4 * len(by_id) * max(len(load), 1)
    members: dict[T, set[U]] = {tid: set() for tid in load}
    for uid, tid in owner.items():
        members[tid].add(uid)
    for _move in range(limit):
        best: tuple[tuple[int, float, tuple[str, str], tuple[str, str]], U, T] | None = None
        for uid in sorted(owner, key=_key):
            source = owner[uid]
            cases = by_id[uid].cases
            if len(members[source]) == 1:
                continue
            for target in sorted({owner[o] for o in neighbours[uid]} - {source}, key=_key):
                gap = load[source] - load[target]
                if not 0 < cases < gap:
                    continue
                rest = members[source] - {uid}
                if components(rest, neighbours) > components(members[source], neighbours):
                    continue
                # The sum of squared loads falls by 2c(gap - c): the larger, the better.
                rank = (-cases * (gap - cases), distance(uid, target), _key(uid), _key(target))
                if best is None or rank < best[0]:
                    best = (rank, uid, target)
        if best is None:
            return
        _rank, uid, target = best
        source = owner[uid]
        members[source].remove(uid)
        members[target].add(uid)
        load[source] -= by_id[uid].cases
        load[target] += by_id[uid].cases
        owner[uid] = target
