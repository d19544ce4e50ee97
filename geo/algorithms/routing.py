"""Day plans for home visits: which households a team or volunteer visits today, and in
which order.

Pure functions on plain dataclasses, no Django. Points are lon/lat (WGS 84); times
are whole seconds since midnight of the plan's date.

The model:

- Each member of a team (or the one volunteer) is a vehicle that leaves its start
  (the team's base or the volunteer's home) no earlier than the shift start and is
  back at its end point by the shift end.
- Travel is great-circle distance times a circuity factor (roads are not straight;
  configurable per area), at the travel mode's speed; or a precomputed
  ``TravelMatrix`` (road distances from OSRM, ``geo.osrm``).
- A visit must start after the household's window opens and finish before it
  closes ("parents home 17:00-19:00" means the 30 minutes fit inside it).
- A plan first serves as many visits of the most urgent priority as possible, then
  of the next, and so on; only then does it minimise travel time. Each stop is
  worth more than every stop of lower priority together, so a lower-priority stop
  is always dropped before a higher one.

The solver path, chosen by measurement (docs/benchmarks.md, "Home-visit routes"): VROOM gives a
feasible first answer in a fraction of the budget, PyVRP's iterated local search
polishes it for the rest, and the better of the two (by the objective above) is
kept, so the polish can never make a plan worse. When one member ends up with far
more work than the others, a second PyVRP pass caps each member's route duration
near the mean and is kept only if it serves exactly as much.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import IntEnum, StrEnum

import numpy as np
import numpy.typing as npt
import pyvrp
import vroom
from pyvrp.stop import MaxRuntime, MultipleCriteria, NoImprovement

__all__ = [
    "DEFAULT_SERVICE_SECONDS",
    "DEFAULT_SPEEDS_KMH",
    "CostModel",
    "DayPlan",
    "Member",
    "Point",
    "Priority",
    "Reason",
    "Route",
    "Stop",
    "TimeWindow",
    "TourResult",
    "TravelMatrix",
    "TravelMode",
    "Unplanned",
    "Visit",
    "at",
    "plan_day",
    "replan",
    "solve_tour",
]

StopId = int | str
DEFAULT_SERVICE_SECONDS = 30 * 60
EARTH_RADIUS_M = 6_371_008.8
# A member whose day is longer than this times the team mean triggers the balance pass;
# the goal is 1.25, the margin leaves room for rounding to whole seconds.
BALANCE_TRIGGER = 1.2
BALANCE_CAP = 1.1
BALANCE_LOOSE_CAP = 1.2
BALANCE_ROUNDS = 6
BALANCE_MIN_SECONDS = 0.025
BALANCE_RESERVE_SHARE = 0.4
BALANCE_RESERVE_SECONDS = 0.15
# VROOM's priorities range over 0..100; 100/10/1 is the closest it gets to "each rank
# outweighs the ones below", which PyVRP's prizes then enforce exactly.
_VROOM_PRIORITY = (100, 10, 1)


class TravelMode(StrEnum):
    WALK = "walk"
    MOTORCYCLE = "motorcycle"
    CAR = "car"


# Door-to-door averages on rural Thai roads, including parking and finding the house;
# areas with better or worse roads override them in CostModel.
DEFAULT_SPEEDS_KMH: dict[TravelMode, float] = {
    TravelMode.WALK: 4.5,
    TravelMode.MOTORCYCLE: 30.0,
    TravelMode.CAR: 35.0,
}


class Priority(IntEnum):
    NEW = 0
    OVERDUE = 1
    ROUTINE = 2


def at(hours: int, minutes: int = 0) -> int:
    """Seconds since midnight, for readable times: ``at(17)``, ``at(8, 30)``."""
    return hours * 3600 + minutes * 60


def _clock(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def _duration_text(seconds: int) -> str:
    minutes = math.ceil(seconds / 60)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


@dataclass(frozen=True)
class Point:
    lon: float
    lat: float


@dataclass(frozen=True)
class TimeWindow:
    """When a household can be visited: the whole visit fits between start and end."""

    start: int
    end: int

    def __str__(self) -> str:
        return f"{_clock(self.start)}-{_clock(self.end)}"


@dataclass(frozen=True)
class Stop:
    id: StopId
    point: Point
    service: int = DEFAULT_SERVICE_SECONDS
    priority: int = Priority.ROUTINE  # 0 is most urgent
    windows: tuple[TimeWindow, ...] = ()  # empty: any time within working hours


@dataclass(frozen=True)
class Member:
    """A team member or a volunteer: one route."""

    id: StopId
    start: Point
    shift_start: int
    shift_end: int
    end: Point | None = None  # None: back where they started


@dataclass(frozen=True)
class CostModel:
    """Great-circle distance times a circuity factor, at the travel mode's speed."""

    circuity: float = 1.3
    speeds_kmh: tuple[tuple[TravelMode, float], ...] = ()  # overrides DEFAULT_SPEEDS_KMH

    def speed_kmh(self, mode: TravelMode) -> float:
        return dict(self.speeds_kmh).get(mode, DEFAULT_SPEEDS_KMH[mode])

    def distances(self, points: Sequence[Point]) -> npt.NDArray[np.int64]:
        """Road metres between every pair of points, rounded."""
        lon = np.radians([p.lon for p in points])
        lat = np.radians([p.lat for p in points])
        dlat = lat[:, None] - lat[None, :]
        dlon = lon[:, None] - lon[None, :]
        h = (
            np.sin(dlat / 2) ** 2
            + np.cos(lat[:, None]) * np.cos(lat[None, :]) * np.sin(dlon / 2) ** 2
        )
        metres = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
        rounded: npt.NDArray[np.int64] = np.rint(metres * self.circuity).astype(np.int64)
        return rounded

    def durations(self, metres: npt.NDArray[np.int64], mode: TravelMode) -> npt.NDArray[np.int64]:
        """Travel seconds for road metres, rounded up so a plan is never optimistic."""
        speed = self.speed_kmh(mode) / 3.6
        return np.ceil(metres / speed).astype(np.int64)


@dataclass(frozen=True, eq=False)
class TravelMatrix:
    """Precomputed road metres and travel seconds between points (from OSRM, say),
    used by ``plan_day`` and ``replan`` instead of a ``CostModel``.

    ``metres[i, j]`` and ``seconds[i, j]`` go from ``points[i]`` to ``points[j]``; every
    point of a plan (starts, ends and stops) must be among ``points``.
    """

    points: tuple[Point, ...]
    metres: npt.NDArray[np.int64]
    seconds: npt.NDArray[np.int64]

    def __post_init__(self) -> None:
        n = len(self.points)
        if self.metres.shape != (n, n) or self.seconds.shape != (n, n):
            raise ValueError(f"a travel matrix over {n} points must be {n} x {n}")

    def between(
        self, points: Sequence[Point]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Metres and seconds between ``points``, in their order."""
        index: dict[Point, int] = {}
        for i, p in enumerate(self.points):
            index.setdefault(p, i)
        missing = [p for p in points if p not in index]
        if missing:
            raise ValueError(f"{len(missing)} points are not in the travel matrix")
        rows = [index[p] for p in points]
        sub = np.ix_(rows, rows)
        metres = np.asarray(self.metres[sub], dtype=np.int64)
        seconds = np.asarray(self.seconds[sub], dtype=np.int64)
        return metres, seconds


class Reason(StrEnum):
    BEYOND_WORKING_HOURS = "beyond_working_hours"
    TIME_WINDOW = "time_window"
    NOT_ENOUGH_TIME = "not_enough_time"


@dataclass(frozen=True)
class Unplanned:
    stop_id: StopId
    reason: Reason
    detail: str  # a sentence for the person planning


@dataclass(frozen=True)
class Visit:
    stop_id: StopId
    arrival: int
    start: int  # later than arrival when the household's window has not opened yet
    end: int
    travel_seconds: int  # from the previous point
    travel_metres: int


@dataclass(frozen=True)
class Route:
    member_id: StopId
    visits: tuple[Visit, ...]
    departure: int
    back: int
    distance_metres: int
    travel_seconds: int
    service_seconds: int
    wait_seconds: int

    @property
    def workload(self) -> int:
        """Seconds from leaving to being back, waits included: the member is on duty."""
        return self.back - self.departure if self.visits else 0


@dataclass(frozen=True)
class DayPlan:
    routes: tuple[Route, ...]
    unplanned: tuple[Unplanned, ...]
    solver: str  # which stage produced the kept answer: "vroom", "pyvrp" or "pyvrp+balance"
    seconds: float

    @property
    def travel_seconds(self) -> int:
        return sum(r.travel_seconds for r in self.routes)

    @property
    def distance_metres(self) -> int:
        return sum(r.distance_metres for r in self.routes)

    @property
    def workload_spread(self) -> float:
        """Largest member's workload over the mean; 1.0 is perfectly even."""
        loads = [r.workload for r in self.routes]
        mean = sum(loads) / len(loads) if loads else 0.0
        return max(loads) / mean if mean > 0 else 1.0

    @property
    def working_spread(self) -> float:
        """The same among the members with visits: a day too small, or an area too far
        from the base, for everyone to be sent out."""
        loads = [r.workload for r in self.routes if r.visits]
        mean = sum(loads) / len(loads) if loads else 0.0
        return max(loads) / mean if mean > 0 else 1.0


# --- the solver core, shared by day plans and TSPLIB -------------------------------


@dataclass(frozen=True)
class _Job:
    location: int
    service: int = 0
    windows: tuple[tuple[int, int], ...] = ()  # latest *start* of service, unlike TimeWindow
    prize: int = 0  # 0: required
    rank: int = 0
    demand: int = 0


@dataclass(frozen=True)
class _Fleet:
    start: int  # depot index
    end: int
    tw_early: int = 0
    tw_late: int = 0  # 0: unbounded
    count: int = 1
    capacity: int = 0  # 0: unbounded


@dataclass
class _Instance:
    points: int  # locations: depots first, then one per job
    depots: list[int]
    travel: npt.NDArray[np.int64]  # both the cost and the duration
    jobs: list[_Job]
    fleets: list[_Fleet]
    # PyVRP has one window per client: a job with several windows becomes a group of
    # alternative clients, one per window, of which at most one is visited.
    clients: list[tuple[int, int]] = field(default_factory=list)  # (job, window) per client

    def __post_init__(self) -> None:
        self.clients = [
            (j, w) for j, job in enumerate(self.jobs) for w in range(max(1, len(job.windows)))
        ]

    def pyvrp_data(self, max_duration: int | None = None) -> pyvrp.ProblemData:
        big = int(np.iinfo(np.int64).max)
        locations = [pyvrp.Location(x=0.0, y=0.0) for _ in range(self.points)]
        clients: list[pyvrp.Client] = []
        groups: list[pyvrp.ClientGroup] = []
        group_of: dict[int, int] = {}
        for j, job in enumerate(self.jobs):
            if len(job.windows) > 1:
                group_of[j] = len(groups)
                groups.append(pyvrp.ClientGroup(required=False))
        for c, (j, w) in enumerate(self.clients):
            job = self.jobs[j]
            early, late = job.windows[w] if job.windows else (0, big)
            group = group_of.get(j)
            if group is not None:
                groups[group].add_client(c)
            clients.append(
                pyvrp.Client(
                    location=job.location,
                    delivery=[job.demand] if any(f.capacity for f in self.fleets) else [],
                    service_duration=job.service,
                    tw_early=early,
                    tw_late=late,
                    prize=job.prize,
                    required=job.prize == 0,
                    group=group,
                )
            )
        depots = [pyvrp.Depot(location=d) for d in self.depots]
        vehicle_types = []
        for fleet in self.fleets:
            vehicle_types.append(
                pyvrp.VehicleType(
                    num_available=fleet.count,
                    capacity=[fleet.capacity] if fleet.capacity else [],
                    start_depot=fleet.start,
                    end_depot=fleet.end,
                    tw_early=fleet.tw_early,
                    tw_late=fleet.tw_late or big,
                    shift_duration=big if max_duration is None else max_duration,
                )
            )
        if any(f.capacity for f in self.fleets):
            vehicle_types = [
                v if v.capacity else v.replace(capacity=[big // 4]) for v in vehicle_types
            ]
        return pyvrp.ProblemData(
            locations,
            clients,
            depots,
            vehicle_types,
            [self.travel],  # type: ignore[list-item]  # the stub's ndarray[int] is not a real shape
            [self.travel],  # type: ignore[list-item]
            groups,
        )


def _vroom_routes(inst: _Instance, level: int) -> list[tuple[int, list[tuple[int, int]]]]:
    """VROOM's answer as (fleet, [(job, service start)]) per used vehicle."""
    problem = vroom.Input()
    problem.set_durations_matrix("car", np.minimum(inst.travel, 2**31).astype(np.uint32))
    capacitated = any(f.capacity for f in inst.fleets)
    fleet_of: dict[int, int] = {}
    for f, fleet in enumerate(inst.fleets):
        for _ in range(fleet.count):
            vid = len(fleet_of)
            fleet_of[vid] = f
            kwargs: dict[str, object] = {}
            if fleet.tw_late:
                kwargs["time_window"] = vroom.TimeWindow(fleet.tw_early, fleet.tw_late)
            if capacitated:
                kwargs["capacity"] = [fleet.capacity or 2**30]
            problem.add_vehicle(
                vroom.Vehicle(
                    vid, start=inst.depots[fleet.start], end=inst.depots[fleet.end], **kwargs
                )
            )
    for j, job in enumerate(inst.jobs):
        problem.add_job(
            vroom.Job(
                j,
                location=job.location,
                default_service=job.service,
                delivery=[job.demand] if capacitated else [],
                priority=_VROOM_PRIORITY[min(job.rank, 2)] if job.prize else 0,
                time_windows=[vroom.TimeWindow(a, b) for a, b in job.windows],
            )
        )
    solution = problem.solve(exploration_level=level, nb_threads=1)
    rows = np.asarray(solution._routes_numpy())
    routes: dict[int, list[tuple[int, int]]] = {}
    for row in rows:
        if bytes(row["type"]).rstrip(b"\0") == b"job":
            start = int(row["arrival"]) + int(row["waiting_time"])
            routes.setdefault(int(row["vehicle_id"]), []).append((int(row["id"]), start))
    return [(fleet_of[v], visits) for v, visits in sorted(routes.items())]


def _to_solution(
    inst: _Instance, data: pyvrp.ProblemData, routes: list[tuple[int, list[tuple[int, int]]]]
) -> pyvrp.Solution:
    first_client: dict[int, int] = {}
    for c, (j, _) in enumerate(inst.clients):
        first_client.setdefault(j, c)
    pyvrp_routes = []
    for fleet, visits in routes:
        clients = []
        for j, start in visits:
            job = inst.jobs[j]
            w = next(
                (w for w, (a, b) in enumerate(job.windows) if a <= start <= b),
                0,
            )
            clients.append(first_client[j] + w)
        pyvrp_routes.append(pyvrp.Route(data, clients, fleet))
    return pyvrp.Solution(data, pyvrp_routes)


def _cost(solution: pyvrp.Solution) -> float:
    if not solution.is_feasible():
        return math.inf
    return float(solution.distance() + solution.uncollected_prizes())


def _polish(
    data: pyvrp.ProblemData, start: pyvrp.Solution, seconds: float, seed: int
) -> pyvrp.Solution:
    # The no-improvement stop ends small instances long before their budget: there
    # the search has converged after a few thousand iterations.
    stop = MultipleCriteria([MaxRuntime(max(seconds, 0.0)), NoImprovement(20_000)])
    init = start if start.num_routes() else None
    result = pyvrp.solve(data, stop, seed=seed, collect_stats=False, initial_solution=init)
    best: pyvrp.Solution = result.best
    return best


def _solve(
    inst: _Instance, seconds: float, seed: int, level: int, balance: bool
) -> tuple[pyvrp.ProblemData, pyvrp.Solution, str]:
    t0 = time.perf_counter()
    data = inst.pyvrp_data()
    if level > 0:
        first = _to_solution(inst, data, _vroom_routes(inst, level))
        best, stage = first, "vroom"
    else:
        # PyVRP alone (for the benchmark): its own random start, no VROOM answer to keep.
        first = pyvrp.Solution(data, [])
        best, stage = first, "empty"
    left = seconds - (time.perf_counter() - t0)
    needs_balance = balance and sum(f.count for f in inst.fleets) > 1
    # The balance pass needs little time, and only on days that are not full: a fixed
    # share of a large budget would be lost on the full days that never run it.
    reserve = min(BALANCE_RESERVE_SHARE * left, BALANCE_RESERVE_SECONDS) if needs_balance else 0.0
    if left > 0.005:
        polished = _polish(data, first, left - reserve, seed)
        if _cost(polished) < _cost(best):
            best, stage = polished, "pyvrp"
    if not needs_balance:
        return data, best, stage
    members = sum(f.count for f in inst.fleets)
    # Capping every day at 1.1 x the mean can leave a member idle, or shorten the
    # others' waits, so the mean moves: cap again from the new mean. A cap that
    # proves too tight (windows force a wait, or a far visit would be dropped) is
    # loosened once to just under the goal. When even that cannot hold every visit
    # (an area far from the base: whoever goes spends hours on the road), the day
    # is shared among one member fewer, down to two, rather than left to one.
    caps = [BALANCE_CAP, BALANCE_LOOSE_CAP]
    sharing = members
    for attempt in range(BALANCE_ROUNDS):
        loads = [r.duration() for r in best.routes()]
        sharing = max(sharing, len(loads))
        loads += [0] * (sharing - len(loads))
        mean = sum(loads) / len(loads)
        if mean <= 0 or max(loads) <= BALANCE_TRIGGER * mean:
            break
        if not caps:
            if sharing <= 2:
                break
            sharing, caps = sharing - 1, [BALANCE_LOOSE_CAP]
            continue
        left = seconds - (time.perf_counter() - t0)
        capped_data = inst.pyvrp_data(max_duration=math.ceil(caps[0] * mean))
        start = pyvrp.Solution(
            capped_data,
            [pyvrp.Route(capped_data, _clients_of(r), r.vehicle_type()) for r in best.routes()],
        )
        share = max(left / (BALANCE_ROUNDS - attempt), BALANCE_MIN_SECONDS)
        capped = _polish(capped_data, start, share, seed + 1 + attempt)
        if not capped.is_feasible() or capped.uncollected_prizes() != best.uncollected_prizes():
            caps.pop(0)
            continue
        best = pyvrp.Solution(
            data, [pyvrp.Route(data, _clients_of(r), r.vehicle_type()) for r in capped.routes()]
        )
        stage = "pyvrp+balance"
    return data, best, stage


def _clients_of(route: pyvrp.Route) -> list[int]:
    return [a.idx for a in route.schedule() if a.is_client()]


# --- day plans ----------------------------------------------------------------------


def _budget(stops: int) -> float:
    # Measured (docs/benchmarks.md, "Home-visit routes"): 20 stops converge within 0.1 s, 80 stops
    # keep improving up to about 1.5 s; the goals are 0.2 s and 2 s at the 95th centile.
    return min(1.5, max(0.1, 0.12 + 0.023 * (stops - 20)))


def _fits_alone(
    stop: Stop,
    member: Member,
    out: int,
    back: int,
    windows: Sequence[TimeWindow] | None,
) -> bool:
    """Whether the member could make this one visit today, ignoring every other stop."""
    arrive = member.shift_start + out
    if windows is None:
        return arrive + stop.service + back <= member.shift_end
    for w in windows:
        begin = max(arrive, w.start)
        if begin + stop.service <= w.end and begin + stop.service + back <= member.shift_end:
            return True
    return False


def plan_day(
    stops: Sequence[Stop],
    members: Sequence[Member],
    mode: TravelMode = TravelMode.MOTORCYCLE,
    costs: CostModel | None = None,
    seconds: float | None = None,
    seed: int = 1,
    vroom_level: int = 1,
    balance: bool = True,
    matrix: TravelMatrix | None = None,
) -> DayPlan:
    """Choose and order the visits of one day for one team (or one volunteer).

    ``seconds`` is the search budget (default grows with the number of stops, up to
    1.5 s). ``vroom_level`` is VROOM's exploration level for the first answer; 0
    leaves VROOM out. ``matrix`` replaces the cost model's great-circle travel with
    precomputed metres and seconds (``costs`` is then unused). Stop and member ids must
    be unique.
    """
    t0 = time.perf_counter()
    costs = costs or CostModel()
    if len({s.id for s in stops}) != len(stops):
        raise ValueError("stop ids must be unique")
    if not members:
        raise ValueError("a plan needs at least one member")
    for m in members:
        if m.shift_end <= m.shift_start:
            raise ValueError(f"member {m.id}: shift ends before it starts")

    ends = [m.end or m.start for m in members]
    depot_points: list[Point] = []
    for p in [m.start for m in members] + ends:
        if p not in depot_points:
            depot_points.append(p)
    points = depot_points + [s.point for s in stops]
    if matrix is None:
        metres = costs.distances(points)
        travel = costs.durations(metres, mode)
    else:
        metres, travel = matrix.between(points)
    nd = len(depot_points)

    # Stops no member could visit even alone are reported at once; the solvers only
    # see the others, with only the windows someone can meet.
    unplanned: list[Unplanned] = []
    candidates: list[int] = []
    usable: dict[int, tuple[TimeWindow, ...]] = {}
    for i, stop in enumerate(stops):
        loc = nd + i
        trips = [
            (
                m,
                int(travel[depot_points.index(m.start), loc]),
                int(travel[loc, depot_points.index(e)]),
            )
            for m, e in zip(members, ends, strict=True)
        ]
        if not any(_fits_alone(stop, m, o, b, None) for m, o, b in trips):
            shortest = min(o + stop.service + b for _, o, b in trips)
            hours = ", ".join(
                sorted({f"{_clock(m.shift_start)}-{_clock(m.shift_end)}" for m in members})
            )
            unplanned.append(
                Unplanned(
                    stop.id,
                    Reason.BEYOND_WORKING_HOURS,
                    f"The trip there, the visit and the way back take {_duration_text(shortest)}, "
                    f"more than is left of the working hours ({hours}).",
                )
            )
            continue
        if stop.windows:
            ok = tuple(
                w for w in stop.windows if any(_fits_alone(stop, m, o, b, [w]) for m, o, b in trips)
            )
            if not ok:
                shown = ", ".join(str(w) for w in stop.windows)
                earliest = min(m.shift_start for m in members)
                if all(w.end - stop.service < earliest for w in stop.windows):
                    unplanned.append(
                        Unplanned(
                            stop.id,
                            Reason.TIME_WINDOW,
                            f"The household's time window ({shown}) has already passed.",
                        )
                    )
                    continue
                unplanned.append(
                    Unplanned(
                        stop.id,
                        Reason.TIME_WINDOW,
                        f"The household can be visited only {shown}; no one can be there "
                        f"for the whole {_duration_text(stop.service)} visit then and be back "
                        "within working hours.",
                    )
                )
                continue
            usable[i] = ok
        candidates.append(i)

    ranks = sorted({stops[i].priority for i in candidates})
    rank_of = {p: r for r, p in enumerate(ranks)}
    # Any one visit must be worth more than all the travel a day can hold, and each rank
    # more than every visit below it together: then the objective is lexicographic.
    prize_by_rank: dict[int, int] = {}
    floor = sum(m.shift_end - m.shift_start for m in members) + 1
    below = 0
    for r in reversed(range(len(ranks))):
        prize_by_rank[r] = floor + below
        below += prize_by_rank[r] * sum(1 for i in candidates if rank_of[stops[i].priority] == r)

    jobs = []
    for i in candidates:
        stop = stops[i]
        rank = rank_of[stop.priority]
        windows = tuple((w.start, w.end - stop.service) for w in usable.get(i, ()))
        jobs.append(
            _Job(
                location=nd + i,
                service=stop.service,
                windows=windows,
                prize=prize_by_rank[rank],
                rank=rank,
            )
        )
    fleets = [
        _Fleet(
            start=depot_points.index(m.start),
            end=depot_points.index(e),
            tw_early=m.shift_start,
            tw_late=m.shift_end,
        )
        for m, e in zip(members, ends, strict=True)
    ]

    routes_by_member: dict[int, list[int]] = {}
    solver = "none"
    schedules: dict[int, pyvrp.Route] = {}
    if jobs:
        inst = _Instance(
            points=len(points), depots=list(range(nd)), travel=travel, jobs=jobs, fleets=fleets
        )
        budget = _budget(len(jobs)) if seconds is None else seconds
        budget -= time.perf_counter() - t0
        _, solution, solver = _solve(inst, budget, seed, vroom_level, balance)
        for route in solution.routes():
            job_ids = [inst.clients[c][0] for c in _clients_of(route)]
            routes_by_member[route.vehicle_type()] = [candidates[j] for j in job_ids]
            schedules[route.vehicle_type()] = route

    planned = {i for r in routes_by_member.values() for i in r}
    lowest_planned = max((stops[i].priority for i in planned), default=None)
    for i in candidates:
        if i in planned:
            continue
        stop = stops[i]
        if stop.windows and lowest_planned is not None and lowest_planned > stop.priority:
            detail = (
                f"Its time window ({', '.join(str(w) for w in usable[i])}) clashes with the "
                "other visits planned today; plan it on another day or move a visit."
            )
            unplanned.append(Unplanned(stop.id, Reason.TIME_WINDOW, detail))
        else:
            unplanned.append(
                Unplanned(
                    stop.id,
                    Reason.NOT_ENOUGH_TIME,
                    "Not enough time today: the working hours are full with visits of "
                    "the same or higher priority.",
                )
            )

    routes = []
    for v, member in enumerate(members):
        order = routes_by_member.get(v, [])
        routes.append(
            _route(
                member, order, schedules.get(v), stops, metres, travel, nd, depot_points, ends[v]
            )
        )
    order_of = {s.id: k for k, s in enumerate(stops)}
    unplanned.sort(key=lambda u: order_of[u.stop_id])
    return DayPlan(tuple(routes), tuple(unplanned), solver, time.perf_counter() - t0)


def _route(
    member: Member,
    order: list[int],
    schedule: pyvrp.Route | None,
    stops: Sequence[Stop],
    metres: npt.NDArray[np.int64],
    travel: npt.NDArray[np.int64],
    nd: int,
    depot_points: list[Point],
    end: Point,
) -> Route:
    if not order or schedule is None:
        return Route(member.id, (), member.shift_start, member.shift_start, 0, 0, 0, 0)
    acts = [a for a in schedule.schedule() if a.is_client()]
    prev = depot_points.index(member.start)
    visits = []
    dist = trav = wait = 0
    for i, act in zip(order, acts, strict=True):
        loc = nd + i
        leg_m, leg_s = int(metres[prev, loc]), int(travel[prev, loc])
        visits.append(
            Visit(
                stops[i].id,
                act.start_time - act.wait_duration,
                act.start_time,
                act.end_time,
                leg_s,
                leg_m,
            )
        )
        dist += leg_m
        trav += leg_s
        wait += act.wait_duration
        prev = loc
    last = depot_points.index(end)
    dist += int(metres[prev, last])
    trav += int(travel[prev, last])
    return Route(
        member.id,
        tuple(visits),
        departure=schedule.start_time(),
        back=schedule.end_time(),
        distance_metres=dist,
        travel_seconds=trav,
        service_seconds=sum(stops[i].service for i in order),
        wait_seconds=wait,
    )


def replan(
    stops: Sequence[Stop],
    member: Member,
    position: Point,
    now: int,
    mode: TravelMode = TravelMode.MOTORCYCLE,
    costs: CostModel | None = None,
    seconds: float | None = None,
    seed: int = 1,
    matrix: TravelMatrix | None = None,
) -> DayPlan:
    """Re-plan a member's remaining stops from where they are now.

    The member's end point and shift end still hold; the day restarts at ``now`` from
    ``position``. Stops whose window has passed are reported with the window.
    """
    here = replace(member, start=position, end=member.end or member.start, shift_start=now)
    if now >= member.shift_end:
        return DayPlan(
            (Route(member.id, (), now, now, 0, 0, 0, 0),),
            tuple(
                Unplanned(s.id, Reason.BEYOND_WORKING_HOURS, "The working day is over.")
                for s in stops
            ),
            "none",
            0.0,
        )
    return plan_day(
        stops,
        [here],
        mode=mode,
        costs=costs,
        seconds=seconds,
        seed=seed,
        balance=False,
        matrix=matrix,
    )


# --- TSP and CVRP (TSPLIB) ----------------------------------------------------------


@dataclass(frozen=True)
class TourResult:
    length: int
    routes: tuple[tuple[int, ...], ...]  # node indices, depot excluded
    solver: str
    seconds: float


def solve_tour(
    matrix: npt.NDArray[np.int64],
    seconds: float = 1.8,
    depot: int = 0,
    demands: Sequence[int] = (),
    capacity: int = 0,
    vehicles: int = 0,
    seed: int = 1,
) -> TourResult:
    """A shortest tour through every node (TSP), or routes within capacity (CVRP).

    CVRP takes the day plans' path (VROOM, then PyVRP). A TSP skips VROOM, whose TSP
    mode needed 5 s for a280 at its lowest level, and hands PyVRP's tour after half the
    budget to a 2-opt/Or-opt iterated local search: PyVRP has no move that reverses
    part of a route and stalled 1-3 % above the optimum on eil101, pr124, ch130 and
    a280, which the 2-opt search closes (docs/benchmarks.md, "Home-visit routes").
    """
    t0 = time.perf_counter()
    n = len(matrix)
    others = [i for i in range(n) if i != depot]
    # Locations are reordered so the depot comes first, as the shared core expects.
    perm = [depot, *others]
    travel = np.ascontiguousarray(matrix[np.ix_(perm, perm)]).astype(np.int64)
    capacitated = capacity > 0
    jobs = [
        _Job(location=k + 1, demand=demands[i] if capacitated else 0) for k, i in enumerate(others)
    ]
    count = 1
    if capacitated:
        need = math.ceil(sum(j.demand for j in jobs) / capacity)
        # Without a fleet size, leave a little room over the bin-packing bound.
        count = vehicles or need + max(1, need // 5)
    fleets = [_Fleet(start=0, end=0, count=count, capacity=capacity if capacitated else 0)]
    inst = _Instance(points=n, depots=[0], travel=travel, jobs=jobs, fleets=fleets)
    if capacitated:
        _, solution, solver = _solve(inst, 0.9 * seconds, seed, 1, balance=False)
        tours = [[0, *(c + 1 for c in _clients_of(r))] for r in solution.routes()]
    elif n <= 3:
        tours, solver = [list(range(n))], "trivial"
    else:
        data = inst.pyvrp_data()
        result = pyvrp.solve(data, MaxRuntime(seconds / 2), seed=seed, collect_stats=False)
        best: pyvrp.Solution = result.best
        tours = [[0, *(c + 1 for c in _clients_of(r))] for r in best.routes()]
        solver = "pyvrp"
    d = travel.tolist()
    polished: list[list[int]] = []
    for tour in tours:
        share = (seconds - (time.perf_counter() - t0)) / max(1, len(tours) - len(polished))
        better = _improve_tour(d, tour, share, seed)
        if _tour_length(d, better) < _tour_length(d, tour):
            solver = solver.removesuffix("+2opt") + "+2opt"
        polished.append(better)
    routes = []
    for tour in polished:
        k = tour.index(0)
        routes.append(tuple(others[v - 1] for v in tour[k + 1 :] + tour[:k]))
    return TourResult(
        length=sum(_tour_length(d, t) for t in polished),
        routes=tuple(routes),
        solver=solver,
        seconds=time.perf_counter() - t0,
    )


def _tour_length(d: list[list[int]], tour: Sequence[int]) -> int:
    return sum(d[tour[q - 1]][tour[q]] for q in range(len(tour))) if len(tour) > 1 else 0


def _improve_tour(d: list[list[int]], start: list[int], seconds: float, seed: int) -> list[int]:
    """Iterated 2-opt and Or-opt on one closed tour (symmetric costs), within ``seconds``.

    Local search over the 10 nearest neighbours with a queue of nodes whose edges
    changed; the kick is a double bridge inside a window of 50 consecutive nodes, so
    the following search stays local and cheap; a kicked tour is kept when it is no
    longer than the best.
    """
    n = len(start)
    if n < 8:
        return list(start)
    rng = random.Random(seed)  # noqa: S311 - search randomness, not secrecy
    nodes = sorted(start)
    k = min(10, n - 1)
    neigh = {a: sorted((b for b in nodes if b != a), key=d[a].__getitem__)[:k] for a in nodes}
    tour = list(start)
    pos = {v: p for p, v in enumerate(tour)}

    def reindex() -> None:
        for p, v in enumerate(tour):
            pos[v] = p

    def reverse(i: int, j: int) -> None:
        # Reverses positions i..j cyclically; the shorter side gives the same cycle.
        length = (j - i) % n + 1
        if 2 * length > n:
            i, j = (j + 1) % n, (i - 1) % n
            length = n - length
        for _ in range(length // 2):
            a, b = tour[i], tour[j]
            tour[i], tour[j] = b, a
            pos[b], pos[a] = i, j
            i = (i + 1) % n
            j = (j - 1) % n

    def two_opt(a: int) -> tuple[int, ...]:
        for direction in (1, -1):
            i = pos[a]
            b = tour[(i + direction) % n]
            dab = d[a][b]
            for c in neigh[a]:
                dac = d[a][c]
                if dac >= dab:
                    break
                j = pos[c]
                e = tour[(j + direction) % n]
                if e == a or c == b:
                    continue
                delta = dac + d[b][e] - dab - d[c][e]
                if delta < 0:
                    if direction == 1:
                        reverse((i + 1) % n, j)
                    else:
                        reverse(j, (i - 1) % n)
                    return (delta, a, b, c, e)
        return ()

    def or_opt(a: int) -> tuple[int, ...]:
        i = pos[a]
        for length in (1, 2, 3):
            seg = [tour[(i + t) % n] for t in range(length)]
            p, nx = tour[(i - 1) % n], tour[(i + length) % n]
            if nx == p or p in seg or nx in seg:
                return ()
            s1, s2 = seg[0], seg[-1]
            removed = d[p][s1] + d[s2][nx] - d[p][nx]
            best: tuple[int, int, int, int] | None = None
            for end, other in ((s1, s2), (s2, s1)):
                for c in neigh[end]:
                    if d[end][c] >= removed:
                        break
                    if c in seg:
                        continue
                    for f in (tour[(pos[c] + 1) % n], tour[(pos[c] - 1) % n]):
                        if f in seg:
                            continue
                        delta = d[c][end] + d[other][f] - d[c][f] - removed
                        if delta < 0 and (best is None or delta < best[0]):
                            best = (delta, c, f, end)
            if best is None:
                continue
            delta, c, f, end = best
            rest = [tour[(i + length + t) % n] for t in range(n - length)]
            ci, fi = rest.index(c), rest.index(f)
            forward = seg if end == s1 else seg[::-1]  # starts at the node next to c
            if fi == (ci + 1) % len(rest):
                tour[:] = rest[: ci + 1] + forward + rest[ci + 1 :]
            else:
                tour[:] = rest[: fi + 1] + forward[::-1] + rest[fi + 1 :]
            reindex()
            return (delta, p, nx, s1, s2, c, f)
        return ()

    def descend(queue: list[int]) -> int:
        queued = set(queue)
        change = 0
        while queue:
            a = queue.pop()
            queued.discard(a)
            move = two_opt(a) or or_opt(a)
            if move:
                change += move[0]
                for x in move[1:]:
                    if x not in queued:
                        queued.add(x)
                        queue.append(x)
        return change

    cost = _tour_length(d, tour) + descend(list(nodes))
    best_tour, best_cost = list(tour), cost
    deadline = time.perf_counter() + seconds
    span = min(n - 1, 50)
    while time.perf_counter() < deadline:
        r = rng.randrange(n)
        rot = tour[r:] + tour[:r]
        p1, p2, p3 = sorted(rng.sample(range(1, span), 3))
        tour[:] = rot[:p1] + rot[p2:p3] + rot[p1:p2] + rot[p3:]
        reindex()
        touched = [rot[p1 - 1], rot[p1], rot[p2 - 1], rot[p2], rot[p3 - 1], rot[p3 % n]]
        cost = _tour_length(d, tour) + descend(touched)
        if cost <= best_cost:
            best_tour, best_cost = list(tour), cost
        else:
            tour[:] = best_tour
            reindex()
    return best_tour
