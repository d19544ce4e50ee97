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
   piece. After a previous assignment, the few free units (new households, and
   those of a volunteer who left) go to the zone most of their neighbours are
   in (in reach, with room), else to the nearest volunteer in reach with room,
   so that nothing else moves and no zone is cut in two by a newcomer.
3. Capacity: a zone over capacity gives its farthest units to another
   volunteer in reach with room. Coverage comes first: every unit left out is
   then offered along augmenting paths, as in a maximum flow (it goes to a
   full volunteer in reach, which hands a unit on to another in reach of it,
   and so on to one with room), so that as many households are covered as
   any assignment within reach and capacity could cover (exactly so for
   single households; a group needs room for all of it, and the search for
   that is not exhaustive). A unit still left out is reported as full.
4. Contiguity: a piece of a zone cut off from the rest (on the Delaunay graph
   of households) goes whole to a neighbouring zone in reach with room; else
   the rest of the zone goes whole to a neighbour, leaving the piece as the
   zone; else the zone takes the households between the piece and the rest
   (in its reach, within its capacity, none cutting the zone it leaves);
   else the piece goes unit by unit; else to a full neighbour that passes as
   many households on to its own neighbours; else, if every volunteer in
   reach of it is full, it is left uncovered for as many households beside
   the rest of the zone. None of these covers fewer households.
5. Balance: each volunteer's target is the mean load over the volunteers it can
   trade households with (reach overlapping, directly or through others), and
   its band the tolerance around it, stretched to the nearest whole load on a
   side where it holds none (loads are whole cases). While a zone is outside
   its band, a cheapest-first search looks for a chain of moves from it: each
   step moves one boundary unit to a neighbouring zone (away from a heavy
   zone, towards a light one), every zone passed ends no farther from its band
   and within capacity, and the chain ends at a zone with room in its band or
   back at the start with a different weight. A step costs 1, plus 3 per
   household it takes from its previous volunteer divided by the unit's
   cases, plus the added distance per km, so that an update trades new and
   already moved households first, and heavy ones (more cases per household
   moved) before light ones, and zones stay compact. No move cuts a zone.
   Each chain lowers the total distance of the loads from their bands, so
   this ends; zones inside their band move only as links of a chain, which
   keeps churn to what balance needs. If a piece that mending could not
   place grew meanwhile, mend and balance again.

Ties are broken by index after sorting ids, so the same input gives the same
zones whatever its order.
"""

from __future__ import annotations

import heapq
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
# The chain search: how many (zone, load change) states one search may expand,
# and how many zones one chain may pass through.
_SEARCH_STATES = 400
_CHAIN_DEPTH = 12
# Costs of a chain step beyond 1: per household moved away from its previous
# volunteer (divided by the unit's cases: churn counts households, balance
# cases), and per this many metres of added distance.
_CHURN_COST = 3.0
_DISTANCE_STEP = 1000.0


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
        home: IntArray | None = None,
        kept: IntArray | None = None,
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
        # The zones the current chain search looked at: it need not run again
        # until one of them changes.
        self.around: set[int] = set()
        units = len(self.zone)
        # The previous volunteer of each unit and how many of its households had
        # one: what moving it costs in churn.
        self.home: list[int] = [-1] * units if home is None else home.tolist()
        self.kept: list[int] = [0] * units if kept is None else kept.tolist()
        self.borders: dict[int, dict[int, list[int]]] = {}
        self.cuts: dict[int, dict[int, bool]] = {}
        self.offers: dict[tuple[int, bool], list[tuple[int, list[tuple[float, list[int]]]]]] = {}
        # Moves so far, and per zone the count when it last changed.
        self.clock = 0
        self.stamp = [0] * volunteers
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
        self.clock += 1
        if self.zone[unit] >= 0:
            self.stamp[self.zone[unit]] = self.clock
        if v >= 0:
            self.stamp[v] = self.clock
        # What changes with this move: the borders of the two zones and of the
        # zones around the unit, what those zones can trade, and which units
        # of the two zones hold them together.
        around = {self.zone[unit], v, *(self.zone[n] for n in self.adjacency[unit])}
        for z in around:
            self.borders.pop(z, None)
            self.offers.pop((z, True), None)
            self.offers.pop((z, False), None)
        self.cuts.pop(self.zone[unit], None)
        self.cuts.pop(v, None)
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

    def cover_most(self) -> int:
        """Covers every uncovered unit that some reshuffle can cover; returns how many.

        Augmenting paths, as in a maximum flow: an uncovered unit goes to a
        full volunteer in reach, which hands a unit on to another volunteer in
        reach of it, and so on to a volunteer with room. Placing units one at a
        time, nearest first, leaves households out that a volunteer with room
        could have taken had a full one passed it one of its own. For single
        households this makes the covered count the maximum flow. A group
        needs room for all its households: each step of a path hands on a unit
        at least as large as the room missing, and failing that, the
        volunteer's units are pushed out one path at a time until the group
        fits; this finds most reshuffles, not every combination.
        """
        zone, count, candidates = self.zone, self.count, self.candidates
        waiting = sorted(
            (u for u in range(len(zone)) if zone[u] < 0 and candidates[u]),
            key=lambda u: (min(candidates[u].values()), u),
        )
        # States (volunteer, households to take in) from which a search found
        # no volunteer with room. In a flow network the set a failed search
        # reaches stays closed to later augmenting paths, so it need never be
        # searched again: this keeps the step linear when many are left out.
        dead: set[tuple[int, int]] = set()
        covered = 0
        for unit in waiting:
            if zone[unit] >= 0:
                continue
            roots = [
                (v, count[unit], unit)
                for v in sorted(
                    candidates[unit],
                    # A volunteer whose zone the unit touches first: that keeps zones whole.
                    key=lambda v: (not self._touches(unit, v), candidates[unit][v], v),
                )
            ]
            path = self._room_path(roots, set(), dead)
            if path is not None:
                self._apply(path)
                covered += count[unit]
            elif count[unit] > 1 and any(self._make_room(unit, v) for v, _n, _u in roots):
                covered += count[unit]
        return covered

    def _apply(self, path: list[tuple[int, int]]) -> None:
        # From the far end, so that every volunteer has room when it takes its unit.
        for moving, to in reversed(path):
            self.move(moving, to)

    def _make_room(self, unit: int, v: int) -> bool:
        """Pushes units of ``v`` out, one augmenting path each, until ``unit`` fits
        in it, and puts it there; undoes the pushes if it never fits."""
        done: list[tuple[int, int]] = []
        while not self.room(unit, v):
            roots = self._hand_on(v, 1, {v}, set(), set())
            path = self._room_path(roots, {v}, set())
            if path is None:
                for moving, source in reversed(done):
                    self.move(moving, source)
                return False
            done.extend((moving, self.zone[moving]) for moving, _to in path)
            self._apply(path)
        self.move(unit, v)
        return True

    def _hand_on(
        self,
        v: int,
        missing: int,
        on_path: set[int],
        seen: set[tuple[int, int]],
        dead: set[tuple[int, int]],
    ) -> list[tuple[int, int, int]]:
        """(volunteer, households, unit) for each volunteer a unit of ``v`` at
        least ``missing`` households large can go to: the unit that best goes
        there, one touching its zone, then the smallest added distance."""
        candidates, count = self.candidates, self.count
        best: dict[tuple[int, int], tuple[bool, float, int]] = {}
        for w in self.members[v]:
            if self.locked[w] or count[w] < missing:
                continue
            reach = candidates[w]
            for b in reach:
                key = (b, count[w])
                if b in on_path or key in seen or key in dead:
                    continue
                score = (not self._touches(w, b), reach[b] - reach[v], w)
                if key not in best or score < best[key]:
                    best[key] = score
        return [
            (b, households, w)
            for (b, households), (_t, _d, w) in sorted(
                best.items(), key=lambda item: (item[1], item[0])
            )
        ]

    def _room_path(
        self,
        roots: list[tuple[int, int, int]],
        exclude: set[int],
        dead: set[tuple[int, int]],
    ) -> list[tuple[int, int]] | None:
        """A shortest chain of (unit, volunteer it goes to) from one of ``roots``
        to a volunteer with room, or None (adding what it searched to ``dead``)."""
        size, capacity = self.size, self.capacity
        # Node: (volunteer, households it must take, parent node, unit moving in).
        nodes: list[tuple[int, int, int, int]] = []
        seen: set[tuple[int, int]] = set()
        for v, need, unit in roots:
            if (v, need) not in dead and (v, need) not in seen and v not in exclude:
                seen.add((v, need))
                nodes.append((v, need, -1, unit))
        head = 0
        while head < len(nodes):
            v, need, parent, _moving = nodes[head]
            here = head
            head += 1
            free = capacity[v] - size[v]
            if free >= need:
                path: list[tuple[int, int]] = []
                while here >= 0:
                    v, _need, parent, moving = nodes[here]
                    path.append((moving, v))
                    here = parent
                path.reverse()
                return path
            on_path = self._path_volunteers(nodes, here) | exclude
            for b, households, w in self._hand_on(v, need - free, on_path, seen, dead):
                seen.add((b, households))
                nodes.append((b, households, here, w))
        dead |= seen
        return None

    def _touches(self, unit: int, v: int) -> bool:
        zone = self.zone
        return any(zone[n] == v for n in self.adjacency[unit])

    @staticmethod
    def _path_volunteers(nodes: list[tuple[int, int, int, int]], index: int) -> set[int]:
        found: set[int] = set()
        while index >= 0:
            found.add(nodes[index][0])
            index = nodes[index][2]
        return found

    def place_beside(self, order: list[int]) -> None:
        """Places each unit in the zone of most of its neighbours (in reach, with
        room), else with the nearest volunteer with room: a new household
        given to the nearest volunteer can cut a neighbouring zone in two."""
        waiting = list(order)
        while waiting:
            later: list[int] = []
            for unit in waiting:
                votes = Counter(
                    self.zone[n]
                    for n in self.adjacency[unit]
                    if self.zone[n] >= 0
                    and self.zone[n] in self.candidates[unit]
                    and self.room(unit, self.zone[n])
                )
                if votes:
                    reach = self.candidates[unit]
                    self.move(unit, min(votes, key=lambda v: (-votes[v], reach[v], v)))
                else:
                    later.append(unit)
            if len(later) == len(waiting):
                # None of these has a placed neighbour that can take it.
                self.place_free(later)
                return
            waiting = later

    def mend_pieces(self, rounds: int = 8) -> None:
        """Hands cut-off pieces of a zone to a neighbouring zone in reach."""
        for _round in range(rounds):
            pieces = self.strays()
            if not pieces:
                return
            changed = False
            for piece in pieces:
                own = self.zone[piece[0]]
                if any(self.zone[u] != own for u in piece):
                    continue  # an earlier move this round took part of it
                # Whole pieces first: moved a unit at a time, two zones' pieces
                # woven together can swap units back and forth without end.
                changed |= (
                    self._move_piece(piece, own)
                    or self._move_rest(piece, own)
                    or self._bridge_piece(piece, own)
                    or self._move_units(piece, own)
                    or self._swap_piece(piece, own)
                    or self._drop_piece(piece, own)
                )
            if not changed:
                return

    def _move_piece(self, piece: list[int], own: int) -> bool:
        households = sum(self.count[u] for u in piece)
        options = [
            v
            for v in sorted({self.zone[n] for u in piece for n in self.adjacency[u]} - {own, -1})
            if all(v in self.candidates[u] for u in piece)
            and self.size[v] + households <= self.capacity[v]
        ]
        if not options:
            return False
        best = min(options, key=lambda v: (sum(self.candidates[u][v] for u in piece), v))
        for unit in piece:
            self.move(unit, best)
        return True

    def _move_rest(self, piece: list[int], own: int) -> bool:
        """Hands the rest of the zone to a neighbour when the rest is one piece and
        the piece cut off from it cannot go anywhere: the piece kept is then the
        whole zone, often the households nearest the volunteer's home."""
        inside = set(piece)
        rest = sorted(self.members[own] - inside)
        if not rest or any(self.locked[u] for u in rest):
            return False
        zone = self.zone
        seen = {rest[0]}
        stack = [rest[0]]
        while stack:
            for n in self.adjacency[stack.pop()]:
                if n not in seen and zone[n] == own and n not in inside:
                    seen.add(n)
                    stack.append(n)
        if len(seen) < len(rest):
            return False
        return self._move_piece(rest, own)

    def _bridge_piece(self, piece: list[int], own: int) -> bool:
        """Joins the piece to the rest of its zone by taking the households between
        them (fewest households, then nearest), each in reach and none cutting
        the zone it leaves: for a piece of households only this volunteer can
        take, which no neighbour can relieve it of."""
        inside = set(piece)
        zone, count, candidates = self.zone, self.count, self.candidates
        room = self.capacity[own] - self.size[own]
        if room <= 0 or len(self.members[own]) == len(piece):
            return False
        banned: set[int] = set()
        for _attempt in range(4):
            best: dict[int, tuple[int, float]] = {u: (0, 0.0) for u in piece}
            parent: dict[int, int] = {}
            heap: list[tuple[int, float, int]] = [(0, 0.0, u) for u in sorted(piece)]
            end = -1
            while heap:
                households, metres, u = heapq.heappop(heap)
                if best.get(u, (households, metres)) < (households, metres):
                    continue
                if zone[u] == own and u not in inside:
                    end = u
                    break
                for n in self.adjacency[u]:
                    if n in inside or n in banned:
                        continue
                    if zone[n] == own:
                        step: tuple[int, float] = (households, metres)
                    elif self.locked[n] or own not in candidates[n]:
                        continue
                    else:
                        step = (households + count[n], metres + candidates[n][own])
                        if step[0] > room:
                            continue
                    if step < best.get(n, (room + 1, 0.0)):
                        best[n] = step
                        parent[n] = u
                        heapq.heappush(heap, (*step, n))
            if end < 0:
                return False
            path = []
            u = parent.get(end, -1)
            while u >= 0 and u not in inside:
                path.append(u)
                u = parent.get(u, -1)
            done: list[tuple[int, int]] = []
            for unit in path:
                source = zone[unit]
                if source >= 0 and not self.stays_connected(unit, source):
                    banned.add(unit)
                    break
                done.append((unit, source))
                self.move(unit, own)
            if len(done) == len(path):
                return True
            for unit, source in reversed(done):
                self.move(unit, source)
        return False

    def _swap_piece(self, piece: list[int], own: int) -> bool:
        """Hands the piece to a full neighbouring zone, which passes as many
        households on to its own neighbours with room: in a village where the
        zones around the piece are full, the only way to mend it."""
        inside = set(piece)
        for b in sorted(
            {self.zone[n] for u in piece for n in self.adjacency[u]} - {own, -1},
            key=lambda v: (sum(self.candidates[u].get(v, np.inf) for u in piece), v),
        ):
            if not all(b in self.candidates[u] for u in piece):
                continue
            for u in piece:
                self.move(u, b)
            given: list[int] = []
            while self.size[b] > self.capacity[b]:
                offers = sorted(
                    (self.candidates[u][c] - self.candidates[u][b], u, c)
                    for c, units in self._border(b).items()
                    for u in units
                    if u not in inside
                    and not self.locked[u]
                    and c in self.candidates[u]
                    and self.room(u, c)
                )
                unit, to = next(
                    ((u, c) for _d, u, c in offers if self.stays_connected(u, b)), (-1, -1)
                )
                if unit < 0:
                    break
                self.move(unit, to)
                given.append(unit)
            if self.size[b] <= self.capacity[b]:
                return True
            for u in reversed(given):
                self.move(u, b)
            for u in piece:
                self.move(u, own)
        return False

    def _drop_piece(self, piece: list[int], own: int) -> bool:
        """Leaves the piece uncovered and fills its place with uncovered units next
        to the rest of the zone: for a full volunteer whose piece is cut off by
        households no one has room for. Only when every volunteer in reach of the
        piece is then full, so that "all full" stays true of it."""
        households = sum(self.count[u] for u in piece)
        inside = set(piece)
        for u in piece:
            self.move(u, -1)
        taken: list[int] = []
        while True:
            offers = sorted(
                (self.candidates[n][own], n)
                for u in self.members[own]
                for n in self.adjacency[u]
                if self.zone[n] < 0
                and n not in inside
                and own in self.candidates[n]
                and self.room(n, own)
            )
            if not offers:
                break
            unit = offers[0][1]
            self.move(unit, own)
            taken.append(unit)
        if sum(self.count[u] for u in taken) >= households and all(
            not self.room(u, v) for u in piece for v in self.candidates[u]
        ):
            return True
        for u in reversed(taken):
            self.move(u, -1)
        for u in piece:
            self.move(u, own)
        return False

    def _move_units(self, piece: list[int], own: int) -> bool:
        changed = False
        for unit in piece:
            options = sorted(
                {self.zone[n] for n in self.adjacency[unit]} - {own, -1},
                key=lambda v: (self.candidates[unit].get(v, np.inf), v),
            )
            for v in options:
                if v in self.candidates[unit] and self.room(unit, v):
                    self.move(unit, v)
                    changed = True
                    break
        return changed

    def strays(self) -> list[list[int]]:
        """Pieces of zones other than the heaviest piece of each, as lists of
        units (locked units left out)."""
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
        stray = np.flatnonzero(
            assigned & (label != main[np.maximum(zone, 0)]) & ~np.asarray(self.locked)
        )
        order = stray[np.argsort(label[stray], kind="stable")]
        cuts = np.flatnonzero(np.diff(label[order])) + 1
        return [part.tolist() for part in np.split(order, cuts)] if len(order) else []

    def balance(self, target: FloatArray, tolerance: float, max_moves: int) -> None:
        # Loads are whole cases: when the band around a target holds no whole
        # number on one side of it (a mean of 16.1 and ±5 % leave only 16), the
        # nearest whole load on that side counts as in the band. Without this the
        # sum of the loads forces some zones out, and the only way to keep the
        # others in is to pile the rest on a few.
        low = np.minimum(target * (1 - tolerance), np.floor(target)).tolist()
        high = np.maximum(target * (1 + tolerance), np.ceil(target)).tolist()
        goal = target.tolist()
        moves = 0
        # A zone whose search found no chain is searched again only once a zone
        # the search looked at has changed: searching stuck zones again and
        # again was most of the time on the province.
        stuck: dict[int, tuple[set[int], int]] = {}
        while moves < max_moves:
            outside = sorted(
                (v for v in range(len(self.load)) if not low[v] <= self.load[v] <= high[v]),
                key=lambda v: (-abs(self.load[v] - goal[v]) / max(goal[v], 1e-9), v),
            )
            before = moves
            for v in outside:
                if low[v] <= self.load[v] <= high[v]:
                    continue
                if v in stuck:
                    around, when = stuck[v]
                    if max(self.stamp[z] for z in around) <= when:
                        continue
                self.around = {v}
                made = self._ejection(v, low, high)
                moves += made
                if made:
                    stuck.pop(v, None)
                else:
                    stuck[v] = (self.around, self.clock)
                if moves >= max_moves:
                    break
            if moves == before:
                break

    def can_leave(self, unit: int, v: int) -> bool:
        """``stays_connected``, remembered until zone ``v`` changes."""
        known = self.cuts.setdefault(v, {})
        answer = known.get(unit)
        if answer is None:
            answer = known[unit] = self.stays_connected(unit, v)
        return answer

    def _excess(self, v: int, load: float, low: list[float], high: list[float]) -> float:
        return max(load - high[v], low[v] - load, 0.0)

    def _border(self, v: int) -> dict[int, list[int]]:
        """Neighbouring zone -> units of ``v`` next to it (cached until either changes)."""
        cached = self.borders.get(v)
        if cached is not None:
            return cached
        found: dict[int, list[int]] = {}
        zone = self.zone
        for unit in sorted(self.members[v]):
            for b in {zone[n] for n in self.adjacency[unit]}:
                if b != v and b >= 0:
                    found.setdefault(b, []).append(unit)
        self.borders[v] = found
        return found

    def _ejection(self, start: int, low: list[float], high: list[float]) -> int:
        """One chain of moves that brings ``start`` nearer its band; returns the moves made.

        A cheapest-first search over (zone, load change so far): a step moves one
        boundary unit between the zone reached and a neighbouring one, away from
        ``start`` if it is too heavy, towards it if too light. A step costs 1,
        plus the households it moves away from their previous volunteer per
        case (so that an update trades new and already moved households
        first), plus the increase in distance (so that zones stay compact).
        """
        give = self.load[start] > high[start]
        sign = 1.0 if give else -1.0
        load = self.load
        before = self._excess(start, load[start], low, high)
        if not self._any_room(start, give, low, high):
            return 0
        banned: set[int] = set()
        for _attempt in range(4):
            chain = self._search(start, give, sign, before, low, high, banned)
            if chain is None:
                return 0
            if not give:
                # Each zone on the way takes its new unit before it hands one on.
                chain.reverse()
            sizes = {z: self.size[z] for unit, to in chain for z in (to, self.zone[unit])}
            done: list[tuple[int, int]] = []
            for unit, to in chain:
                source = self.zone[unit]
                if any(self.zone[n] == to for n in self.adjacency[unit]) and self.stays_connected(
                    unit, source
                ):
                    done.append((unit, source))
                    self.move(unit, to)
                else:
                    banned.add(unit)
                    break
            # Capacity counts once the chain is through: a full zone on the way
            # takes a household and gives one.
            full = [
                unit
                for unit, _source in done
                for to in [self.zone[unit]]
                if self.size[to] > max(self.capacity[to], sizes[to])
            ]
            if len(done) == len(chain) and not full:
                return len(done)
            banned.update(full)
            for back, home in reversed(done):
                self.move(back, home)
        return 0

    def _any_room(self, start: int, give: bool, low: list[float], high: list[float]) -> bool:
        """Whether a zone that could end a chain from ``start`` lies within reach of
        one: most of the zones left outside their band are in villages whose
        every zone is too heavy (or too light), and a full search there is waste."""
        seen = {start}
        frontier = [start]
        for _depth in range(_CHAIN_DEPTH):
            following = []
            for a in frontier:
                for b in self._border(a):
                    if b in seen:
                        continue
                    if (self.load[b] < high[b]) if give else (self.load[b] > low[b]):
                        return True
                    seen.add(b)
                    following.append(b)
            self.around |= seen
            frontier = following
        return False

    def _offers(self, z: int, give: bool) -> list[tuple[int, list[tuple[float, list[int]]]]]:
        """What zone ``z`` can give to (or take from) each neighbouring zone: per
        weight, the movable units in the order a chain should try them, the
        cheapest step first (cached until a zone around them changes)."""
        cached = self.offers.get((z, give))
        if cached is not None:
            return cached
        result: list[tuple[int, list[tuple[float, list[int]]]]] = []
        for b, units in self._border(z).items() if give else self._inward(z):
            source, sink = (z, b) if give else (b, z)
            by_weight: dict[float, list[tuple[float, int]]] = {}
            for unit in units:
                if self.locked[unit] or sink not in self.candidates[unit]:
                    continue
                step = self._step(unit, source, sink)
                by_weight.setdefault(self.weight[unit], []).append((step, unit))
            if by_weight:
                result.append(
                    (
                        b,
                        [
                            (w, [unit for _s, unit in sorted(options)])
                            for w, options in sorted(by_weight.items())
                        ],
                    )
                )
        self.offers[(z, give)] = result
        return result

    def _search(
        self,
        start: int,
        give: bool,
        sign: float,
        before: float,
        low: list[float],
        high: list[float],
        banned: set[int],
    ) -> list[tuple[int, int]] | None:
        load = self.load

        def excess(v: int, change: float) -> float:
            after = load[v] + change
            return max(after - high[v], low[v] - after, 0.0)

        size, capacity, count = self.size, self.capacity, self.count
        # Node: (zone, change of load at it, change of load at the start, parent
        # node, unit moved, zone it goes to, change of households at the zone).
        nodes: list[tuple[int, float, float, int, int, int, int]] = [
            (start, 0.0, 0.0, -1, -1, -1, 0)
        ]
        heap: list[tuple[float, int]] = [(0.0, 0)]
        seen: set[tuple[int, float, float, int]] = set()
        while heap and len(seen) < _SEARCH_STATES:
            cost, index = heapq.heappop(heap)
            z, pending, first, _parent, _u, _t, people = nodes[index]
            key = (z, pending, first, people)
            if key in seen:
                continue
            seen.add(key)
            self.around.add(z)
            now = excess(z, 0.0)
            if (
                z != start
                and excess(z, pending) <= now + 1e-9
                and excess(start, first) < before
                and size[z] + people <= capacity[z]
            ):
                return self._unwind(nodes, index)
            path = self._path_zones(nodes, index)
            if len(path) > _CHAIN_DEPTH:
                continue
            for b, by_weight in self._offers(z, give):
                self.around.add(b)
                if b in path and (b != start or len(path) < 2):
                    continue
                for w, units in by_weight:
                    change = pending - sign * w
                    if z == start:
                        new_first = change
                    else:
                        new_first = first
                        if excess(z, change) > now + 1e-9:
                            continue
                    if b == start:
                        # Back at the start: a ring of moves that changes its load
                        # by the difference of two weights.
                        new_first += sign * w
                        if not excess(start, new_first) < before:
                            continue
                        next_pending = 0.0
                    else:
                        next_pending = sign * w
                    source, sink = (z, b) if give else (b, z)
                    for unit in units:  # the cheapest first
                        if unit in banned:
                            continue
                        # Households count too: a zone on the way may be full
                        # and still take one for one it gives.
                        moved = count[unit]
                        if give:
                            if z != start and size[z] + people - moved > capacity[z]:
                                continue
                        elif size[z] + people + moved > capacity[z]:
                            continue
                        else:
                            moved = -moved
                        if (b, next_pending, new_first, moved) in seen:
                            continue
                        if not self.can_leave(unit, source):
                            continue
                        nodes.append((b, next_pending, new_first, index, unit, sink, moved))
                        if b == start:
                            return self._unwind(nodes, len(nodes) - 1)
                        step = self._step(unit, source, sink)
                        heapq.heappush(heap, (cost + step, len(nodes) - 1))
                        break
        return None

    def _step(self, unit: int, source: int, sink: int) -> float:
        reach = self.candidates[unit]
        step = 1.0 + max(reach[sink] - reach[source], 0.0) / _DISTANCE_STEP
        if self.home[unit] == source:
            step += _CHURN_COST * self.kept[unit] / self.weight[unit]
        elif self.home[unit] == sink:
            # Going back to its previous volunteer undoes churn: cheaper, but
            # never free, so that the search cannot loop on it.
            step -= min(_CHURN_COST * self.kept[unit], 0.9)
        return step

    def _inward(self, v: int) -> list[tuple[int, list[int]]]:
        """Neighbouring zone -> its units next to ``v``: what ``v`` could take."""
        result = []
        for b in sorted(self._border(v)):
            units = self._border(b).get(v)
            if units:
                result.append((b, units))
        return result

    @staticmethod
    def _path_zones(
        nodes: list[tuple[int, float, float, int, int, int, int]], index: int
    ) -> set[int]:
        zones: set[int] = set()
        while index >= 0:
            zones.add(nodes[index][0])
            index = nodes[index][3]
        return zones

    @staticmethod
    def _unwind(
        nodes: list[tuple[int, float, float, int, int, int, int]], index: int
    ) -> list[tuple[int, int]]:
        steps: list[tuple[int, int]] = []
        while nodes[index][3] >= 0:
            _z, _p, _f, parent, unit, to, _c = nodes[index]
            steps.append((unit, to))
            index = parent
        steps.reverse()
        return steps


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
    home = np.full(units, -1, dtype=np.int64)
    kept = np.zeros(units, dtype=np.int64)
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
                    home[u] = v
                    kept[u] = votes[v]

    indptr, indices = neighbour_graph(hx, hy)
    adjacency = _unit_adjacency(indptr, indices, unit_of, units)
    state = _State(weight, count, locked, candidates, adjacency, capacity, zone, home, kept)

    target = _targets(candidates, weight, locked_to, len(people))
    free = [u for u in range(units) if state.zone[u] < 0 and candidates[u]]
    if previous:
        free.sort(key=lambda u: (len(candidates[u]), min(candidates[u].values()), u))
        state.place_beside(free)
    elif free:
        _price(state, free, target, limit)
    state.repair_capacity()
    state.place_free(u for u in range(units) if state.zone[u] < 0)
    state.cover_most()
    state.mend_pieces()
    # Balance never cuts a zone, but a piece that mending could not place can
    # grow while its zone takes units; mended afterwards, it leaves a hole in
    # the balance, so balance again.
    for _round in range(3):
        state.balance(target, tolerance, max_moves=20 * units)
        if not state.strays():
            break
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
