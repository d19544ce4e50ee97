"""Zones for education volunteers: which target households each one looks after.

Pure functions on plain data, no Django. Coordinates are planar metres (UTM or
another local projection); only their differences matter.

A household goes to at most one volunteer, and only to one whose home is within
that volunteer's distance limit. The builder works on units: a household, or a
house cluster (``group``) that must stay whole. The steps:

1. Keep what can be kept: locked units stay with their volunteer and, given a
   previous assignment, every unit whose volunteer is still there and still in
   reach stays too.
2. Place the rest. From scratch, by prices: each unit takes the volunteer in
   reach that minimises distance + price, and prices rise for zones above the
   mean load (or over capacity) and fall for zones below it. The result is an
   additively weighted Voronoi diagram, whose cells are compact and in one
   piece. After a previous assignment, the few free units simply go to the
   nearest volunteer in reach with room, so that nothing else moves.
3. Capacity: a zone over capacity gives its farthest units to another
   volunteer in reach with room; a unit no one can take is reported as full.
4. Contiguity: a piece of a zone cut off from the rest (on the Delaunay graph
   of households) goes to a neighbouring zone in reach.
5. Balance: each volunteer's target is the mean load over the volunteers it can
   trade households with (reach overlapping, directly or through others). While
   a zone's load is outside the tolerance around its target, it
   gives a boundary unit to a lighter neighbouring zone, or takes one from a
   heavier one, choosing the smallest increase in distance among the moves
   that leave the donor in one piece. Each move lowers the sum of squared
   loads, so this ends; zones already inside the band are never touched on
   their own account, which keeps churn to what balance needs. Last, chains:
   a unit passed on through zones already in the band, one of the same weight
   at each step, to a zone with room in its band.

Ties are broken by index after sorting ids, so the same input gives the same
zones whatever its order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components
from scipy.spatial import Delaunay, QhullError, cKDTree

__all__ = [
    "BEYOND_REACH",
    "ALL_FULL",
    "Household",
    "Volunteer",
    "Zones",
    "build_zones",
    "neighbour_graph",
]

BEYOND_REACH = "beyond the distance limit of every volunteer"
ALL_FULL = "every volunteer in reach is full"

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# Candidates per unit: the nearest volunteers only. More than this many in reach
# of one household happens only in a town centre, where the nearest 32 are
# plenty to balance with.
_MAX_CANDIDATES = 32
_PRICE_ROUNDS = 200


@dataclass(frozen=True)
class Household:
    id: Any
    """Any hashable id."""
    x: float
    y: float
    weight: int = 1
    """Open cases, at least 1: the workload the household brings."""
    group: Hashable | None = None
    """Households sharing a group go to the same volunteer, or none."""
    locked_to: Hashable | None = None
    """A volunteer id this household must stay with (ignored if that volunteer is gone)."""


@dataclass(frozen=True)
class Volunteer:
    id: Any
    """Any hashable id."""
    x: float
    y: float
    capacity: int
    """At most this many households."""
    max_distance: float = 3000.0


@dataclass(frozen=True)
class Zones:
    assignment: dict[Hashable, Hashable]
    """Household id -> volunteer id."""
    uncovered: dict[Hashable, str]
    """Household id -> BEYOND_REACH or ALL_FULL."""
    moved: frozenset[Hashable]
    """Households of the previous assignment (still present) whose volunteer changed,
    including to none."""


def _key(value: Hashable) -> tuple[str, str]:
    # Ids may be ints or strings; sorting by type name first keeps mixed ids comparable.
    return (type(value).__name__, f"{value:>20}" if isinstance(value, int) else str(value))


def neighbour_graph(x: FloatArray, y: FloatArray) -> tuple[IntArray, IntArray]:
    """Delaunay neighbours of the points, as CSR ``(indptr, indices)``, symmetric.

    Points at the same coordinates are neighbours of each other (Qhull keeps only
    one of them), and points all on a line are chained in order along it.
    """
    n = len(x)
    if n < 2:
        return np.zeros(n + 1, dtype=np.int64), np.zeros(0, dtype=np.int64)
    coords = np.column_stack([x, y])
    unique, first, inverse = np.unique(coords, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    rows: list[IntArray] = []
    cols: list[IntArray] = []
    if len(unique) >= 2:
        pairs = _unique_edges(unique)
        rows.append(first[pairs[:, 0]])
        cols.append(first[pairs[:, 1]])
    duplicates = np.flatnonzero(first[inverse] != np.arange(n))
    rows.append(duplicates)
    cols.append(first[inverse[duplicates]])
    r = np.concatenate(rows)
    c = np.concatenate(cols)
    matrix = coo_array(
        (np.ones(2 * len(r), dtype=np.int8), (np.concatenate([r, c]), np.concatenate([c, r]))),
        shape=(n, n),
    ).tocsr()
    matrix.sum_duplicates()
    return matrix.indptr.astype(np.int64), matrix.indices.astype(np.int64)


def _unique_edges(points: FloatArray) -> IntArray:
    if len(points) >= 3:
        try:
            simplices = Delaunay(points).simplices
            edges = np.concatenate(
                [simplices[:, [0, 1]], simplices[:, [1, 2]], simplices[:, [0, 2]]]
            )
            return np.unique(np.sort(edges, axis=1), axis=0).astype(np.int64)
        except QhullError:
            pass  # all on one line: chained below
    order = np.lexsort((points[:, 1], points[:, 0]))
    return np.column_stack([order[:-1], order[1:]]).astype(np.int64)


class _State:
    """The units and their zones while the builder works; indices, not ids."""

    def __init__(
        self,
        weight: FloatArray,
        count: IntArray,
        locked: npt.NDArray[np.bool_],
        candidates: list[dict[int, float]],
        adjacency: list[list[int]],
        capacity: IntArray,
        zone: IntArray,
    ) -> None:
        volunteers = len(capacity)
        self.weight = weight.tolist()
        self.count = count.tolist()
        self.locked = locked.tolist()
        self.candidates = candidates
        self.adjacency = adjacency
        rows = np.repeat(np.arange(len(adjacency)), [len(a) for a in adjacency])
        cols = np.fromiter((n for a in adjacency for n in a), dtype=np.int64, count=len(rows))
        self.edges = (rows, cols)
        self.capacity = capacity.tolist()
        self.zone: list[int] = zone.tolist()
        self.load = [0.0] * volunteers
        self.size = [0] * volunteers
        self.members: list[set[int]] = [set() for _ in range(volunteers)]
        self.touched: set[int] = set()
        self.around: set[int] = set()
        for unit, v in enumerate(self.zone):
            if v >= 0:
                self._add(unit, v)

    def _add(self, unit: int, v: int) -> None:
        self.zone[unit] = v
        self.load[v] += self.weight[unit]
        self.size[v] += self.count[unit]
        self.members[v].add(unit)

    def _remove(self, unit: int) -> None:
        v = self.zone[unit]
        if v >= 0:
            self.load[v] -= self.weight[unit]
            self.size[v] -= self.count[unit]
            self.members[v].discard(unit)
        self.zone[unit] = -1

    def move(self, unit: int, v: int) -> None:
        self.touched.add(self.zone[unit])
        self.touched.add(v)
        self._remove(unit)
        if v >= 0:
            self._add(unit, v)

    def room(self, unit: int, v: int) -> bool:
        return bool(self.size[v] + self.count[unit] <= self.capacity[v])

    def stays_connected(self, unit: int, v: int) -> bool:
        """Whether zone ``v`` without ``unit`` has no more pieces than with it."""
        zone = self.zone
        around = [n for n in self.adjacency[unit] if zone[n] == v]
        if len(around) <= 1:
            return True
        wanted = set(around[1:])
        seen = {unit, around[0]}
        stack = [around[0]]
        while stack:
            for n in self.adjacency[stack.pop()]:
                if n not in seen and zone[n] == v:
                    if n in wanted:
                        wanted.discard(n)
                        if not wanted:
                            return True
                    seen.add(n)
                    stack.append(n)
        return False

    def repair_capacity(self) -> None:
        for v in range(len(self.capacity)):
            if self.size[v] <= self.capacity[v]:
                continue
            # The farthest units leave first: they are the ones nearest another zone.
            leaving = sorted(
                (u for u in self.members[v] if not self.locked[u]),
                key=lambda u: (-self.candidates[u][v], u),
            )
            for unit in leaving:
                if self.size[v] <= self.capacity[v]:
                    break
                self.move(unit, self._nearest_with_room(unit, exclude=v))

    def _nearest_with_room(self, unit: int, exclude: int = -1) -> int:
        for v, _d in sorted(self.candidates[unit].items(), key=lambda item: (item[1], item[0])):
            if v != exclude and self.room(unit, v):
                return v
        return -1

    def place_free(self, order: Iterable[int]) -> None:
        for unit in order:
            if self.zone[unit] < 0 and self.candidates[unit]:
                self.move(unit, self._nearest_with_room(unit))

    def mend_pieces(self, rounds: int = 8) -> None:
        """Hands cut-off pieces of a zone to a neighbouring zone in reach."""
        for _round in range(rounds):
            strays = self._strays()
            if not strays:
                return
            changed = False
            for unit in strays:
                own = self.zone[unit]
                options = sorted(
                    {self.zone[n] for n in self.adjacency[unit]} - {own, -1},
                    key=lambda v: (self.candidates[unit].get(v, np.inf), v),
                )
                for v in options:
                    if v in self.candidates[unit] and self.room(unit, v):
                        self.move(unit, v)
                        changed = True
                        break
            if not changed:
                return

    def _strays(self) -> list[int]:
        """Units outside the heaviest piece of their zone."""
        zone = np.asarray(self.zone)
        units = len(zone)
        rows, cols = self.edges
        same = (zone[rows] == zone[cols]) & (zone[rows] >= 0)
        graph = coo_array(
            (np.ones(int(same.sum()), dtype=np.int8), (rows[same], cols[same])),
            shape=(units, units),
        )
        _n, label = connected_components(graph, directed=False)
        assigned = zone >= 0
        pieces = len(np.unique(label))
        piece_weight = np.bincount(label[assigned], weights=np.asarray(self.weight)[assigned])
        piece_weight = np.pad(piece_weight, (0, pieces - len(piece_weight)))
        piece_zone = np.full(pieces, -1, dtype=np.int64)
        piece_zone[label[assigned]] = zone[assigned]
        real = np.flatnonzero(piece_zone >= 0)
        # The heaviest piece of each zone is its main one; ties to the lowest label.
        order = real[np.lexsort((real, -piece_weight[real], piece_zone[real]))]
        heads = np.unique(piece_zone[order], return_index=True)[1]
        main = np.full(len(self.load), -1, dtype=np.int64)
        main[piece_zone[order[heads]]] = order[heads]
        stray = assigned & (label != main[np.maximum(zone, 0)]) & ~np.asarray(self.locked)
        return np.flatnonzero(stray).tolist()

    def balance(self, target: FloatArray, tolerance: float, max_moves: int) -> None:
        low = (target * (1 - tolerance)).tolist()
        high = (target * (1 + tolerance)).tolist()
        goal = target.tolist()
        moves = 0
        # A zone that found no move is scanned again only once its own load or a
        # neighbouring zone's has changed: rescanning stuck zones was most of the time.
        stuck: dict[int, set[int]] = {}
        while moves < max_moves:
            self.touched = set()
            outside = sorted(
                (v for v in range(len(self.load)) if not low[v] <= self.load[v] <= high[v]),
                key=lambda v: (-abs(self.load[v] - goal[v]) / max(goal[v], 1e-9), v),
            )
            before = moves
            for v in outside:
                if v in stuck and not (stuck[v] & self.touched):
                    continue
                self.around = {v}
                made = self._push(v, high) if self.load[v] > high[v] else self._pull(v, low)
                moves += made
                if made:
                    stuck.pop(v, None)
                else:
                    stuck[v] = self.around
            if moves == before:
                break
        # Loads are whole cases, so the last steps often need a chain: a unit
        # passed on through zones already in the band, each giving and taking one
        # of the same weight, to a zone with room in its band at the far end.
        for v in range(len(self.load)):
            for _attempt in range(8):
                if moves >= max_moves:
                    return
                if self.load[v] > high[v]:
                    made = self._chain(v, high, low, give=True)
                elif self.load[v] < low[v]:
                    made = self._chain(v, high, low, give=False)
                else:
                    break
                if not made:
                    break
                moves += made

    def _chain(self, start: int, high: list[float], low: list[float], *, give: bool) -> int:
        """Moves units of one weight along the shortest chain of zones from ``start``
        (giving) or to it (taking); returns the moves made."""
        zone, load = self.zone, self.load
        weights = sorted({self.weight[u] for u in self.members[start] if not self.locked[u]})
        for w in weights[:2] if give else sorted(set(self.weight))[:2]:
            via: dict[int, tuple[int, int]] = {start: (-1, -1)}  # zone -> (previous zone, unit)
            frontier = [start]
            end = -1
            for _depth in range(6):
                following: list[int] = []
                for a in frontier:
                    for member in self.members[a]:
                        for n in self.adjacency[member]:
                            b = zone[n]
                            if b < 0 or b in via:
                                continue
                            unit, source, sink = (member, a, b) if give else (n, b, a)
                            if self.locked[unit] or self.weight[unit] != w:
                                continue
                            if sink not in self.candidates[unit] or not self.room(unit, sink):
                                continue
                            via[b] = (a, unit)
                            following.append(b)
                            fits = load[b] + w <= high[b] if give else load[b] - w >= low[b]
                            if fits and b != start:
                                end = b
                                break
                        if end >= 0:
                            break
                    if end >= 0:
                        break
                if end >= 0 or not following:
                    break
                frontier = following
            if end < 0:
                continue
            steps: list[tuple[int, int]] = []  # (unit, zone it goes to)
            b = end
            while b != start:
                a, unit = via[b]
                steps.append((unit, b if give else a))
                b = a
            done: list[tuple[int, int]] = []
            for unit, to in steps:
                if (
                    zone[unit] != to
                    and any(zone[n] == to for n in self.adjacency[unit])
                    and self.room(unit, to)
                    and self.stays_connected(unit, zone[unit])
                ):
                    done.append((unit, zone[unit]))
                    self.move(unit, to)
                else:
                    for back, home in reversed(done):
                        self.move(back, home)
                    done = []
                    break
            if done:
                return len(done)
        return 0

    def _push(self, v: int, high: list[float]) -> int:
        """Gives boundary units of ``v`` to lighter neighbours; returns the moves made."""
        options: list[tuple[int, float, int, int]] = []
        zone, load = self.zone, self.load
        for unit in self.members[v]:
            if self.locked[unit]:
                continue
            reach = self.candidates[unit]
            w = self.weight[unit]
            near = {zone[n] for n in self.adjacency[unit]}
            self.around |= near
            for b in near:
                if b != v and b in reach and w < load[v] - load[b]:
                    overshoot = 0 if load[b] + w <= high[b] else 1
                    options.append((overshoot, reach[b] - reach[v], unit, b))
        options.sort()
        moves = 0
        # One scan serves several moves: each is checked again against the loads
        # and pieces as they are after the moves before it.
        for _o, _d, unit, b in options:
            if load[v] <= high[v]:
                break
            if (
                zone[unit] == v
                and self.weight[unit] < load[v] - load[b]
                and self.room(unit, b)
                and any(zone[n] == b for n in self.adjacency[unit])
                and self.stays_connected(unit, v)
            ):
                self.move(unit, b)
                moves += 1
        return moves

    def _pull(self, v: int, low: list[float]) -> int:
        """Takes boundary units from heavier neighbours; returns the moves made."""
        options: list[tuple[int, float, int, int]] = []
        seen: set[int] = set()
        zone, load = self.zone, self.load
        for member in self.members[v]:
            for unit in self.adjacency[member]:
                b = zone[unit]
                self.around.add(b)
                if b == v or b < 0 or unit in seen or self.locked[unit]:
                    continue
                seen.add(unit)
                reach = self.candidates[unit]
                w = self.weight[unit]
                if v in reach and w < load[b] - load[v]:
                    undershoot = 0 if load[b] - w >= low[b] else 1
                    options.append((undershoot, reach[v] - reach[b], unit, b))
        options.sort()
        moves = 0
        for _o, _d, unit, b in options:
            if load[v] >= low[v]:
                break
            if (
                zone[unit] == b
                and self.weight[unit] < load[b] - load[v]
                and self.room(unit, v)
                and any(zone[n] == v for n in self.adjacency[unit])
                and self.stays_connected(unit, b)
            ):
                self.move(unit, v)
                moves += 1
        return moves


def build_zones(
    households: Sequence[Household],
    volunteers: Sequence[Volunteer],
    previous: Mapping[Any, Hashable] | None = None,
    *,
    tolerance: float = 0.05,
) -> Zones:
    """Zones for ``volunteers`` over ``households``; see the module docstring.

    ``tolerance`` is the balance target: every zone's load (sum of weights)
    within this fraction of the mean load over all volunteers, as far as
    distance limits and capacities allow. Raises ValueError on duplicate ids, a
    weight below 1, or a group locked to two different volunteers.
    """
    homes = sorted(households, key=lambda h: _key(h.id))
    people = sorted(volunteers, key=lambda v: _key(v.id))
    _check(homes, people)
    previous = previous or {}
    if not homes:
        return Zones({}, {}, frozenset())
    if not people:
        return Zones(
            {},
            {h.id: BEYOND_REACH for h in homes},
            frozenset(h.id for h in homes if h.id in previous),
        )

    index_of = {p.id: i for i, p in enumerate(people)}
    hx = np.array([h.x for h in homes], dtype=np.float64)
    hy = np.array([h.y for h in homes], dtype=np.float64)
    vx = np.array([p.x for p in people], dtype=np.float64)
    vy = np.array([p.y for p in people], dtype=np.float64)
    limit = np.array([p.max_distance for p in people], dtype=np.float64)
    capacity = np.array([p.capacity for p in people], dtype=np.int64)

    unit_of, members = _units(homes)
    units = len(members)
    count = np.array([len(m) for m in members], dtype=np.int64)
    weight = np.bincount(unit_of, weights=[float(h.weight) for h in homes], minlength=units).astype(
        np.float64
    )
    ux = np.bincount(unit_of, weights=hx, minlength=units) / count
    uy = np.bincount(unit_of, weights=hy, minlength=units) / count

    locked_to = np.full(units, -1, dtype=np.int64)
    for u, group in enumerate(members):
        wanted = {homes[i].locked_to for i in group} - {None}
        if len(wanted) > 1:
            raise ValueError(f"household group locked to several volunteers: {wanted!r}")
        if wanted:
            locked_to[u] = index_of.get(wanted.pop(), -1)
    locked = locked_to >= 0

    candidates = _candidates(hx, hy, unit_of, members, ux, uy, vx, vy, limit)

    zone = locked_to.copy()
    if previous:
        for u, group in enumerate(members):
            if locked[u]:
                continue
            votes = Counter(
                index_of[previous[homes[i].id]]
                for i in group
                if homes[i].id in previous and previous[homes[i].id] in index_of
            )
            if votes:
                v = min(votes, key=lambda k: (-votes[k], k))
                if v in candidates[u]:
                    zone[u] = v

    indptr, indices = neighbour_graph(hx, hy)
    adjacency = _unit_adjacency(indptr, indices, unit_of, units)
    state = _State(weight, count, locked, candidates, adjacency, capacity, zone)

    target = _targets(candidates, weight, locked_to, len(people))
    free = [u for u in range(units) if state.zone[u] < 0 and candidates[u]]
    if previous:
        free.sort(key=lambda u: (len(candidates[u]), min(candidates[u].values()), u))
        state.place_free(free)
    elif free:
        _price(state, free, target, limit)
    state.repair_capacity()
    state.place_free(u for u in range(units) if state.zone[u] < 0)
    state.mend_pieces()
    state.balance(target, tolerance, max_moves=20 * units)
    state.mend_pieces()

    assignment: dict[Hashable, Hashable] = {}
    uncovered: dict[Hashable, str] = {}
    for i, h in enumerate(homes):
        v = state.zone[unit_of[i]]
        if v >= 0:
            assignment[h.id] = people[v].id
        else:
            uncovered[h.id] = ALL_FULL if candidates[unit_of[i]] else BEYOND_REACH
    moved = frozenset(
        h.id for h in homes if h.id in previous and assignment.get(h.id) != previous[h.id]
    )
    return Zones(assignment, uncovered, moved)


def _check(homes: Sequence[Household], people: Sequence[Volunteer]) -> None:
    for kind, ids in (("household", [h.id for h in homes]), ("volunteer", [p.id for p in people])):
        if len(set(ids)) != len(ids):
            raise ValueError(f"duplicate {kind} ids")
    for h in homes:
        if h.weight < 1:
            raise ValueError(f"household {h.id!r} has weight {h.weight}, below 1")


def _units(homes: Sequence[Household]) -> tuple[IntArray, list[list[int]]]:
    unit_of = np.empty(len(homes), dtype=np.int64)
    members: list[list[int]] = []
    group_unit: dict[Hashable, int] = {}
    for i, h in enumerate(homes):
        if h.group is None:
            unit = len(members)
            members.append([])
        else:
            unit = group_unit.setdefault(h.group, len(members))
            if unit == len(members):
                members.append([])
        members[unit].append(i)
        unit_of[i] = unit
    return unit_of, members


def _candidates(
    hx: FloatArray,
    hy: FloatArray,
    unit_of: IntArray,
    members: list[list[int]],
    ux: FloatArray,
    uy: FloatArray,
    vx: FloatArray,
    vy: FloatArray,
    limit: FloatArray,
) -> list[dict[int, float]]:
    """Per unit, volunteer index -> distance from the unit's centre, for the
    volunteers in reach of every household of the unit (nearest ones first)."""
    people = len(vx)
    tree = cKDTree(np.column_stack([vx, vy]))
    radius = np.hypot(hx - ux[unit_of], hy - uy[unit_of])
    spread = np.zeros(len(members))
    np.maximum.at(spread, unit_of, radius)
    bound = float(limit.max()) + float(spread.max()) + 1e-6
    k = min(_MAX_CANDIDATES, people)
    dist, idx = tree.query(np.column_stack([ux, uy]), k=k, distance_upper_bound=bound)
    dist = np.asarray(dist, dtype=np.float64).reshape(len(members), k)
    idx = np.asarray(idx, dtype=np.int64).reshape(len(members), k)
    present = idx < people
    safe = np.where(present, idx, 0)
    far = dist.copy()  # the farthest household of the unit, for the limit
    for u in np.flatnonzero(spread > 0).tolist():
        group = members[u]
        gaps = np.hypot(
            hx[group][:, None] - vx[safe[u]][None, :], hy[group][:, None] - vy[safe[u]][None, :]
        )
        far[u] = gaps.max(axis=0)
    ok = present & (far <= limit[safe])
    result: list[dict[int, float]] = [
        dict(zip(idx[u][ok[u]].tolist(), dist[u][ok[u]].tolist(), strict=True))
        for u in range(len(members))
    ]
    # With k full and none in reach, a volunteer with a longer limit may lie beyond
    # the k nearest: look at all of them for those units.
    doubtful = np.flatnonzero(~ok.any(axis=1) & present.all(axis=1)).tolist()
    for u in doubtful:
        group = members[u]
        for v in tree.query_ball_point([ux[u], uy[u]], bound):
            gaps = np.hypot(hx[group] - vx[v], hy[group] - vy[v])
            if gaps.max() <= limit[v]:
                result[u][int(v)] = float(np.hypot(ux[u] - vx[v], uy[u] - vy[v]))
    return result


def _targets(
    candidates: list[dict[int, float]], weight: FloatArray, locked_to: IntArray, people: int
) -> FloatArray:
    """Each volunteer's fair load: the mean over the volunteers it shares households
    with, directly or through others. Volunteers whose reach never meets cannot
    trade households, so one global mean would ask the impossible of them."""
    rows: list[int] = []
    cols: list[int] = []
    for reach in candidates:
        ids = list(reach)
        rows.extend(ids[:1] * (len(ids) - 1))
        cols.extend(ids[1:])
    graph = coo_array((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(people, people))
    _n, label = connected_components(graph, directed=False)
    owner = np.array([min(reach) if reach else -1 for reach in candidates], dtype=np.int64)
    owner = np.where(locked_to >= 0, locked_to, owner)
    placed = owner >= 0
    load = np.bincount(label[owner[placed]], weights=weight[placed], minlength=label.max() + 1)
    members = np.bincount(label, minlength=label.max() + 1)
    return np.asarray(load[label] / members[label], dtype=np.float64)


def _unit_adjacency(
    indptr: IntArray, indices: IntArray, unit_of: IntArray, units: int
) -> list[list[int]]:
    rows = unit_of[np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))]
    cols = unit_of[indices]
    keep = rows != cols
    pairs = np.unique(np.column_stack([rows[keep], cols[keep]]), axis=0)
    starts = np.searchsorted(pairs[:, 0], np.arange(units + 1))
    neighbours = pairs[:, 1].tolist()
    return [neighbours[starts[u] : starts[u + 1]] for u in range(units)]


def _price(state: _State, free: list[int], target: FloatArray, limit: FloatArray) -> None:
    """Places the free units by distance + price, prices following the loads."""
    people = len(limit)
    width = max(len(state.candidates[u]) for u in free)
    cost = np.full((len(free), width), np.inf)
    choice = np.zeros((len(free), width), dtype=np.int64)
    for row, u in enumerate(free):
        items = state.candidates[u]
        choice[row, : len(items)] = list(items)
        cost[row, : len(items)] = list(items.values())
    weight = np.asarray(state.weight)[free]
    count = np.asarray(state.count)[free]
    base_load = np.asarray(state.load)
    base_size = np.asarray(state.size)
    capacity = np.asarray(state.capacity)
    price = np.zeros(people)
    rows = np.arange(len(free))
    # Prices move by a share of the distance limit: large enough to shift a
    # boundary across a village in a few rounds, shrinking so that they settle.
    step = 0.05 * float(np.median(limit))
    best_score = np.inf
    best: IntArray | None = None
    for round_ in range(_PRICE_ROUNDS):
        picked = choice[rows, np.argmin(cost + price[choice], axis=1)]
        load = base_load + np.bincount(picked, weights=weight, minlength=people)
        size = base_size + np.bincount(picked, weights=count, minlength=people)
        off = (load - target) / np.maximum(target, 1e-9)
        over = np.maximum(size - capacity, 0) / np.maximum(capacity, 1)
        score = float(np.sum(off**2) + 10 * np.sum(over**2))
        if score < best_score:
            best_score, best = score, picked
        decay = 1 - round_ / _PRICE_ROUNDS
        price += step * decay * (np.clip(off, -1, 1) + 4 * np.minimum(over, 1))
        np.clip(price, -limit, limit, out=price)
    if best is None:  # every round scored nan: leave the units free
        return
    for u, v in zip(free, best.tolist(), strict=True):
        state.move(u, v)
