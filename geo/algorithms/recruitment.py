"""Where to recruit: the villages whose new volunteers would reach the most open cases.

A volunteer covers the target households within ``max_distance_m`` of home. Given
the households no current volunteer reaches, choosing ``n`` villages to recruit in
so that their reach covers the most weight (open cases) is the maximal covering
location problem (MCLP).

Solver: OR-Tools CP-SAT (``ortools``). It ships as a self-contained wheel (no
external CBC/SCIP binary to find on PATH, unlike PuLP, on which spopt's ``MCLP``
relies), it is typed, it accepts the greedy answer as a hint so it starts from a
good solution, and it reports a proven bound, so an answer cut short by the time
limit still comes with its optimality gap. Weights are open-case counts, so
CP-SAT's integer-only objective loses nothing.

Instances beyond ``exact_max_pairs`` go straight to the greedy heuristic, which
is within 1 - 1/e (63 %) of the optimum and, on this kind of data, usually much
closer; the gap it reports is a bound computed from the data (see ``_gap``).

Pure functions on plain data, no Django. Coordinates are planar and in metres:
pass a projected CRS (for Thailand, UTM 47N/48N or EPSG:32647).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from ortools.sat.python import cp_model

__all__ = [
    "Candidate",
    "Household",
    "Method",
    "Pick",
    "Suggestion",
    "suggest_recruitment",
]

Key = int | str
Method = Literal["optimal", "solver", "greedy"]
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

# Grid cells never get smaller than this share of the data's extent, so that cell
# keys (column * rows + row) stay far from int64 overflow whatever the radius.
_MAX_CELLS_PER_AXIS = 1 << 20
# Tie-breaking costs are drawn below this (see _solve).
_TIE_COST_RANGE = 1 << 16


@dataclass(frozen=True)
class Candidate:
    """A village where a volunteer could be recruited."""

    id: Key
    x: float
    y: float


@dataclass(frozen=True)
class Household:
    """A target household; ``weight`` is its number of open cases."""

    id: Key
    x: float
    y: float
    weight: int = 1


@dataclass(frozen=True)
class Pick:
    """One suggested village and what it adds on top of the picks before it."""

    village_id: Key
    household_ids: tuple[Key, ...]
    weight: int


@dataclass(frozen=True)
class Suggestion:
    """``picks`` are ordered by what each adds given the ones before, so recruiting
    only the first k still takes the best of what was found. Households in
    ``household_ids`` of a pick include zero-weight ones it newly reaches."""

    picks: tuple[Pick, ...]
    weight_total: int
    weight_before: int
    weight_after: int
    households_total: int
    households_before: int
    households_after: int
    method: Method
    # Upper bound on (optimum - found) / optimum; 0.0 when proven optimal.
    gap: float | None

    @property
    def weight_added(self) -> int:
        return self.weight_after - self.weight_before

    @property
    def coverage_before(self) -> float:
        return self.weight_before / self.weight_total if self.weight_total else 1.0

    @property
    def coverage_after(self) -> float:
        return self.weight_after / self.weight_total if self.weight_total else 1.0


def suggest_recruitment(
    candidates: Sequence[Candidate],
    households: Sequence[Household],
    n: int,
    *,
    max_distance_m: float = 3000.0,
    already_covered: Collection[Key] = frozenset(),
    time_limit_s: float = 10.0,
    exact_max_pairs: int = 500_000,
    method: Literal["auto", "greedy"] = "auto",
) -> Suggestion:
    """Chooses up to ``n`` candidate villages maximising the newly covered weight.

    Households whose id is in ``already_covered`` count as covered before and
    after and are never credited to a pick. Fewer than ``n`` picks come back when
    no further candidate would reach any uncovered weight. ``method="greedy"``
    skips the solver; ``"auto"`` solves exactly when the instance has at most
    ``exact_max_pairs`` (candidate, household group) pairs, and keeps the better
    of the solver's and the greedy answer when the time limit cuts it short.
    Ties go to the candidate listed first, so the same input gives the same answer.
    """
    if n < 0:
        raise ValueError(f"n must be non-negative, not {n!r}")
    if not (max_distance_m > 0 and math.isfinite(max_distance_m)):
        raise ValueError(f"max_distance_m must be a positive number, not {max_distance_m!r}")
    ids = [h.id for h in households]
    if len(set(ids)) != len(ids):
        raise ValueError("household ids must be unique")
    if any(h.weight < 0 for h in households):
        raise ValueError("household weights must be non-negative")

    covered_ids = set(already_covered)
    open_households = [h for h in households if h.id not in covered_ids]
    weight_total = sum(h.weight for h in households)
    weight_before = weight_total - sum(h.weight for h in open_households)
    households_before = len(households) - len(open_households)

    cand_idx, hh_idx = _reach(
        np.array([c.x for c in candidates], dtype=np.float64),
        np.array([c.y for c in candidates], dtype=np.float64),
        np.array([h.x for h in open_households], dtype=np.float64),
        np.array([h.y for h in open_households], dtype=np.float64),
        max_distance_m,
    )
    hh_weight = np.array([h.weight for h in open_households], dtype=np.int64)
    problem = _Problem.build(len(candidates), cand_idx, hh_idx, hh_weight)

    chosen, used, gap = _solve(problem, n, method, time_limit_s, exact_max_pairs)

    # Households are credited per pick from the (candidate, household) pairs, not
    # the groups, so that zero-weight households reached are listed as well.
    by_cand = np.argsort(cand_idx, kind="stable")
    starts = np.searchsorted(cand_idx[by_cand], np.arange(len(candidates) + 1))
    reached = np.zeros(len(open_households), dtype=bool)
    picks: list[Pick] = []
    for j in chosen:
        mine = hh_idx[by_cand[starts[j] : starts[j + 1]]]
        new = np.sort(mine[~reached[mine]])
        reached[new] = True
        picks.append(
            Pick(
                village_id=candidates[j].id,
                household_ids=tuple(open_households[i].id for i in new),
                weight=int(hh_weight[new].sum()),
            )
        )
    added = sum(p.weight for p in picks)
    return Suggestion(
        picks=tuple(picks),
        weight_total=weight_total,
        weight_before=weight_before,
        weight_after=weight_before + added,
        households_total=len(households),
        households_before=households_before,
        households_after=households_before + int(reached.sum()),
        method=used,
        gap=gap,
    )


def _reach(
    cx: FloatArray, cy: FloatArray, hx: FloatArray, hy: FloatArray, radius: float
) -> tuple[IntArray, IntArray]:
    """All (candidate, household) index pairs at most ``radius`` apart.

    Households are bucketed into square cells at least ``radius`` wide, so each
    candidate only measures the households in its own and the 8 neighbouring
    cells; within a column those 3 cells are adjacent in sorted key order, so 3
    binary searches per candidate find them.
    """
    empty = np.zeros(0, dtype=np.int64)
    if cx.size == 0 or hx.size == 0:
        return empty, empty
    x0, y0 = float(hx.min()), float(hy.min())
    span = max(float(hx.max()) - x0, float(hy.max()) - y0)
    cell = max(radius, span / _MAX_CELLS_PER_AXIS)
    hcol = np.floor((hx - x0) / cell).astype(np.int64)
    hrow = np.floor((hy - y0) / cell).astype(np.int64)
    rows = int(hrow.max()) + 1
    cols = int(hcol.max()) + 1
    keys = hcol * rows + hrow
    order = np.argsort(keys, kind="stable").astype(np.int64)
    sorted_keys = keys[order]
    ccol = np.floor((cx - x0) / cell)
    crow = np.floor((cy - y0) / cell)
    r2 = radius * radius

    cand_parts: list[IntArray] = []
    hh_parts: list[IntArray] = []
    for j in range(cx.size):
        row_lo = max(int(crow[j]) - 1, 0) if math.isfinite(crow[j]) else 0
        row_hi = min(int(crow[j]) + 1, rows - 1) if math.isfinite(crow[j]) else -1
        if row_lo > row_hi or not math.isfinite(ccol[j]):
            continue
        slices: list[IntArray] = []
        for col in range(max(int(ccol[j]) - 1, 0), min(int(ccol[j]) + 1, cols - 1) + 1):
            lo, hi = np.searchsorted(sorted_keys, [col * rows + row_lo, col * rows + row_hi + 1])
            if hi > lo:
                slices.append(order[lo:hi])
        if not slices:
            continue
        near = np.concatenate(slices)
        d2 = (hx[near] - cx[j]) ** 2 + (hy[near] - cy[j]) ** 2
        hit = np.sort(near[d2 <= r2])
        if hit.size:
            cand_parts.append(np.full(hit.size, j, dtype=np.int64))
            hh_parts.append(hit)
    if not cand_parts:
        return empty, empty
    return np.concatenate(cand_parts), np.concatenate(hh_parts)


@dataclass(frozen=True)
class _Problem:
    """Households reached by exactly the same candidates are merged into one group:
    the model only needs their total weight, and this shrinks it many times over."""

    candidates: int
    group_weight: IntArray
    # Sorted, distinct group indices each candidate reaches.
    groups_of: list[IntArray]
    # Candidate indices reaching each group.
    reachers_of: list[IntArray]
    pairs: int

    @staticmethod
    def build(
        candidates: int, cand_idx: IntArray, hh_idx: IntArray, hh_weight: IntArray
    ) -> _Problem:
        order = np.lexsort((cand_idx, hh_idx))
        cand_sorted, hh_sorted = cand_idx[order], hh_idx[order]
        households, starts = np.unique(hh_sorted, return_index=True)
        group_of_signature: dict[bytes, int] = {}
        reachers_of: list[IntArray] = []
        weights: list[int] = []
        split = np.split(cand_sorted, starts[1:]) if households.size else []
        for household, reachers in zip(households, split, strict=True):
            signature = reachers.tobytes()
            group = group_of_signature.get(signature)
            if group is None:
                group = group_of_signature[signature] = len(reachers_of)
                reachers_of.append(reachers)
                weights.append(0)
            weights[group] += int(hh_weight[household])

        group_cand = np.concatenate(reachers_of) if reachers_of else np.zeros(0, np.int64)
        group_ids = np.repeat(
            np.arange(len(reachers_of), dtype=np.int64), [r.size for r in reachers_of]
        )
        by_cand = np.lexsort((group_ids, group_cand))
        bounds = np.searchsorted(group_cand[by_cand], np.arange(candidates + 1))
        groups_of = [group_ids[by_cand[bounds[j] : bounds[j + 1]]] for j in range(candidates)]
        return _Problem(
            candidates=candidates,
            group_weight=np.array(weights, dtype=np.int64),
            groups_of=groups_of,
            reachers_of=reachers_of,
            pairs=int(group_cand.size),
        )

    def value(self, chosen: Collection[int]) -> int:
        covered = np.zeros(self.group_weight.size, dtype=bool)
        for j in chosen:
            covered[self.groups_of[j]] = True
        return int(self.group_weight[covered].sum())


def _greedy(problem: _Problem, n: int, among: Collection[int] | None = None) -> list[int]:
    """Lazy greedy: a candidate's gain only shrinks as others are picked, so a
    stale gain is an upper bound and only the top of the heap needs refreshing.
    Picks exactly what plain greedy with ties to the lowest index would."""
    weight = problem.group_weight
    covered = np.zeros(weight.size, dtype=bool)
    pool = range(problem.candidates) if among is None else sorted(among)
    heap = [(-int(weight[problem.groups_of[j]].sum()), j) for j in pool]
    heapq.heapify(heap)
    chosen: list[int] = []
    while heap and len(chosen) < n:
        stale, j = heapq.heappop(heap)
        groups = problem.groups_of[j]
        gain = int(weight[groups][~covered[groups]].sum())
        if gain <= 0:
            continue
        if gain == -stale:
            chosen.append(j)
            covered[groups] = True
        else:
            heapq.heappush(heap, (-gain, j))
    return chosen


def _gap(problem: _Problem, chosen: Collection[int], n: int, bound: float | None = None) -> float:
    """Coverage is submodular, so the optimum is at most the found value plus the
    n largest gains any single candidate would still add (Nemhauser-Wolsey)."""
    weight = problem.group_weight
    covered = np.zeros(weight.size, dtype=bool)
    for j in chosen:
        covered[problem.groups_of[j]] = True
    found = int(weight[covered].sum())
    open_weight = np.where(covered, 0, weight)
    gains = sorted((int(open_weight[g].sum()) for g in problem.groups_of), reverse=True)
    best = found + sum(gains[:n])
    if bound is not None:
        best = min(best, math.ceil(bound))
    return 0.0 if best <= 0 else max(0.0, (best - found) / best)


def _solve(
    problem: _Problem, n: int, method: str, time_limit_s: float, exact_max_pairs: int
) -> tuple[list[int], Method, float | None]:
    greedy = _greedy(problem, n)
    if method == "greedy" or problem.pairs > exact_max_pairs or not greedy:
        return greedy, "greedy", _gap(problem, greedy, n)

    useful = [j for j in range(problem.candidates) if problem.groups_of[j].size]
    model = cp_model.CpModel()
    pick = {j: model.new_bool_var(f"pick_{j}") for j in useful}
    model.add(cp_model.LinearExpr.sum(list(pick.values())) <= n)
    covered_vars: list[cp_model.IntVar] = []
    covered_weights: list[int] = []
    for group, reachers in enumerate(problem.reachers_of):
        weight = int(problem.group_weight[group])
        if weight == 0:
            continue
        is_covered = model.new_bool_var(f"covered_{group}")
        model.add_bool_or([pick[int(j)] for j in reachers]).only_enforce_if(is_covered)
        covered_vars.append(is_covered)
        covered_weights.append(weight)
    # Villages close together often give several optima, and parallel workers
    # race to them, so a small fixed per-village cost picks one: it is below one
    # unit of coverage in total, so it only ever decides between equal coverage.
    tie_cost = np.random.default_rng(0).integers(1, _TIE_COST_RANGE, problem.candidates)
    scale = min(n, len(useful)) * _TIE_COST_RANGE + 1
    model.maximize(
        cp_model.LinearExpr.weighted_sum(covered_vars, [w * scale for w in covered_weights])
        - cp_model.LinearExpr.weighted_sum(list(pick.values()), [int(tie_cost[j]) for j in pick])
    )
    in_greedy = set(greedy)
    for j, var in pick.items():
        model.add_hint(var, j in in_greedy)

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit_s
    solver.parameters.num_workers = 8
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return greedy, "greedy", _gap(problem, greedy, n)
    found = [j for j, var in pick.items() if solver.boolean_value(var)]
    if status == cp_model.OPTIMAL:
        return _greedy(problem, n, among=found), "optimal", 0.0
    bound = solver.best_objective_bound / scale
    if problem.value(found) <= problem.value(greedy):
        return greedy, "greedy", _gap(problem, greedy, n, bound)
    return _greedy(problem, n, among=found), "solver", _gap(problem, found, n, bound)
