"""The OSRM table client against a fake OSRM server on localhost, and day plans on a
precomputed travel matrix."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from fake_http import Answer, serving

from geo import osrm
from geo.algorithms.routing import (
    Member,
    Point,
    Stop,
    TravelMatrix,
    TravelMode,
    at,
    plan_day,
    replan,
)


def road_metres(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """The fake server's "road": 1 km per 0.001 degree of longitude, plus 0.4 m."""
    return 0.0 if a == b else abs(a[0] - b[0]) * 1_000_000 + 0.4


@dataclass
class Fake:
    url: str
    requests: list[str] = field(default_factory=list)
    mode: str = "ok"  # ok | error | null | garbage


@pytest.fixture
def fake() -> Iterator[Fake]:
    state = Fake(url="")

    def answer(path: str) -> Answer:
        state.requests.append(path)
        parsed = urlsplit(path)
        coords = [
            tuple(float(v) for v in c.split(",")) for c in parsed.path.split("/", 4)[4].split(";")
        ]
        query = parse_qs(parsed.query)
        sources = [int(i) for i in query["sources"][0].split(";")] if "sources" in query else None
        dests = (
            [int(i) for i in query["destinations"][0].split(";")]
            if "destinations" in query
            else None
        )
        rows = sources if sources is not None else list(range(len(coords)))
        cols = dests if dests is not None else list(range(len(coords)))
        if state.mode == "error":
            return 400, {"code": "TooBig", "message": "Too many table coordinates"}
        if state.mode == "garbage":
            return 200, b"<html>proxy error</html>"
        distances: list[list[float | None]] = [
            [road_metres(coords[i], coords[j]) for j in cols] for i in rows
        ]
        if state.mode == "null" and len(cols) > 1:
            distances[0][1] = None
        durations = [[None if d is None else d / 10.0 for d in row] for row in distances]
        return 200, {"code": "Ok", "distances": distances, "durations": durations}

    with serving(answer) as url:
        state.url = url + "/"
        yield state


def _points(n: int) -> list[Point]:
    return [Point(100.0 + 0.001 * i, 15.0) for i in range(n)]


def test_table_gives_the_servers_metres_and_seconds(fake: Fake) -> None:
    points = _points(4)
    matrix = osrm.table(fake.url, points)
    assert matrix.points == tuple(points)
    assert matrix.metres[0, 3] == 3000  # 3000.4 rounded
    assert matrix.seconds[0, 3] == 301  # 300.04 rounded up
    assert matrix.metres[2, 1] == 1000
    assert (np.diag(matrix.metres) == 0).all()
    assert len(fake.requests) == 1
    path = urlsplit(fake.requests[0])
    assert path.path.startswith("/table/v1/driving/100.000000,15.000000;100.001000,15.000000")
    assert "annotations=distance,duration" in path.query


def test_large_tables_are_asked_in_blocks(fake: Fake) -> None:
    points = _points(9)
    matrix = osrm.table(fake.url, points, max_size=6)
    # Blocks of 3 locations: 3 x 3 requests, none over 6 locations.
    assert len(fake.requests) == 9
    for request in fake.requests:
        assert len(urlsplit(request).path.split("/", 4)[4].split(";")) <= 6
    expected = np.array(
        [[round(road_metres((p.lon, p.lat), (q.lon, q.lat))) for q in points] for p in points]
    )
    assert (matrix.metres == expected).all()


def test_duplicate_points_are_asked_once(fake: Fake) -> None:
    p = _points(2)
    matrix = osrm.table(fake.url, [p[0], p[1], p[0]])
    assert matrix.points == (p[0], p[1])
    metres, _ = matrix.between([p[0], p[1], p[0]])
    assert metres.tolist() == [[0, 1000, 0], [1000, 0, 1000], [0, 1000, 0]]


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("error", "HTTP 400: Too many table coordinates"),
        ("garbage", "not JSON"),
        ("null", "no road"),
    ],
)
def test_server_errors_raise_osrm_error(fake: Fake, mode: str, message: str) -> None:
    fake.mode = mode
    with pytest.raises(osrm.OsrmError, match=message):
        osrm.table(fake.url, _points(3))


def test_unreachable_server_raises_osrm_error() -> None:
    # Port 9 on localhost (discard) has no HTTP server here.
    with pytest.raises(osrm.OsrmError, match="not reachable"):
        osrm.table("http://127.0.0.1:9", _points(2), timeout=2.0)


def test_plan_day_uses_the_matrix_not_great_circle() -> None:
    base = Point(100.0, 15.0)
    near, far = Point(100.001, 15.0), Point(100.002, 15.0)
    points = (base, near, far)
    # The "road" to `near` is a long detour: 5 km, 10 minutes; `far` is 1 km away.
    metres = np.array([[0, 5000, 1000], [5000, 0, 4000], [1000, 4000, 0]], dtype=np.int64)
    seconds = np.array([[0, 600, 120], [600, 0, 480], [120, 480, 0]], dtype=np.int64)
    matrix = TravelMatrix(points, metres, seconds)
    stops = [Stop("near", near), Stop("far", far)]
    member = Member("m", base, at(9), at(17))
    plan = plan_day(stops, [member], matrix=matrix, seconds=0.05)
    (route,) = plan.routes
    assert {v.stop_id for v in route.visits} == {"near", "far"}
    assert route.distance_metres == 1000 + 4000 + 5000
    assert route.travel_seconds == 120 + 480 + 600
    legs = {v.stop_id: (v.travel_metres, v.travel_seconds) for v in route.visits}
    assert legs[route.visits[0].stop_id] in {(1000, 120), (5000, 600)}

    again = replan(stops, member, base, at(10), matrix=matrix, seconds=0.05)
    assert again.routes[0].distance_metres == 10_000


def test_plan_day_refuses_points_missing_from_the_matrix() -> None:
    base = Point(100.0, 15.0)
    matrix = TravelMatrix((base,), np.zeros((1, 1), np.int64), np.zeros((1, 1), np.int64))
    with pytest.raises(ValueError, match="not in the travel matrix"):
        plan_day([Stop(1, Point(100.1, 15.0))], [Member("m", base, at(9), at(17))], matrix=matrix)


def test_travel_matrix_checks_its_shape() -> None:
    with pytest.raises(ValueError, match="2 x 2"):
        TravelMatrix(tuple(_points(2)), np.zeros((2, 3), np.int64), np.zeros((2, 2), np.int64))


def test_walk_uses_the_foot_profile() -> None:
    assert osrm.profile_for(TravelMode.WALK.value) == "foot"
    assert osrm.profile_for(TravelMode.CAR.value) == "driving"
