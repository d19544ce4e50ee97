"""Road distances and durations from an OSRM server's table service.

``table(url, points)`` asks ``{url}/table/v1/{profile}/{lon,lat;...}`` with
``annotations=distance,duration`` and returns a ``routing.TravelMatrix``. Standard
library only (urllib). A server answers at most ``--max-table-size`` locations per
request (osrm-routed's default is 100), so larger tables are asked block by block
with ``sources`` and ``destinations``. Anything that keeps the whole table from
arriving (no answer, a timeout, an error code, a pair with no route) raises
``OsrmError``: a plan with a hole in its matrix would be wrong, so the caller falls
back to another cost model instead.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Sequence

import numpy as np

from geo.algorithms.routing import Point, TravelMatrix

__all__ = ["DEFAULT_TIMEOUT", "MAX_TABLE_SIZE", "OsrmError", "profile_for", "table"]

DEFAULT_TIMEOUT = 10.0
# osrm-routed's default --max-table-size: locations per request, sources and
# destinations together.
MAX_TABLE_SIZE = 100


class OsrmError(RuntimeError):
    """The OSRM server could not be reached or did not give the whole table."""


def _get(url: str, timeout: float) -> dict[str, object]:
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            body = response.read()
    except urllib.error.HTTPError as error:
        # OSRM answers its own errors (too many locations, bad coordinates) with a 400
        # and a JSON body that says why.
        try:
            detail = json.loads(error.read()).get("message", "")
        except (ValueError, AttributeError):
            detail = ""
        raise OsrmError(f"OSRM answered HTTP {error.code}: {detail or error.reason}") from error
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise OsrmError(f"OSRM server not reachable: {reason}") from error
    try:
        answer = json.loads(body)
    except ValueError as error:
        raise OsrmError("OSRM answered something that is not JSON") from error
    if not isinstance(answer, dict):
        raise OsrmError("OSRM answered something that is not a table")
    if answer.get("code") != "Ok":
        raise OsrmError(f"OSRM answered {answer.get('code')}: {answer.get('message', '')}")
    return answer


def _block(
    base: str,
    profile: str,
    coords: list[Point],
    sources: list[int],
    destinations: list[int],
    timeout: float,
) -> tuple[list[list[float]], list[list[float]]]:
    path = ";".join(f"{p.lon:.6f},{p.lat:.6f}" for p in coords)
    query = "annotations=distance,duration"
    if len(sources) < len(coords):
        query += "&sources=" + ";".join(map(str, sources))
        query += "&destinations=" + ";".join(map(str, destinations))
    answer = _get(f"{base}/table/v1/{profile}/{path}?{query}", timeout)
    distances, durations = answer.get("distances"), answer.get("durations")
    if not isinstance(distances, list) or not isinstance(durations, list):
        raise OsrmError("OSRM's answer has no distances or durations (an old server?)")
    shape = (len(sources), len(destinations))
    for grid in (distances, durations):
        if len(grid) != shape[0] or any(len(row) != shape[1] for row in grid):
            raise OsrmError("OSRM's table does not have the size asked for")
        if any(v is None for row in grid for v in row):
            raise OsrmError("OSRM found no road between some of the points")
    return distances, durations


def table(
    url: str,
    points: Sequence[Point],
    profile: str = "driving",
    timeout: float = DEFAULT_TIMEOUT,
    max_size: int = MAX_TABLE_SIZE,
) -> TravelMatrix:
    """Road metres (rounded) and seconds (rounded up) between every pair of ``points``."""
    base = url.rstrip("/")
    unique = list(dict.fromkeys(points))
    n = len(unique)
    metres = np.zeros((n, n), dtype=np.int64)
    seconds = np.zeros((n, n), dtype=np.int64)
    if n > 1:
        size = n if n <= max_size else max(1, max_size // 2)
        blocks = [list(range(k, min(k + size, n))) for k in range(0, n, size)]
        for rows in blocks:
            for cols in blocks:
                coords_idx = rows if rows == cols else rows + cols
                coords = [unique[i] for i in coords_idx]
                sources = list(range(len(rows)))
                destinations = (
                    sources if rows == cols else list(range(len(rows), len(rows) + len(cols)))
                )
                distances, durations = _block(base, profile, coords, sources, destinations, timeout)
                sub = np.ix_(rows, cols)
                metres[sub] = np.rint(np.asarray(distances, dtype=float)).astype(np.int64)
                seconds[sub] = np.ceil(np.asarray(durations, dtype=float)).astype(np.int64)
    np.fill_diagonal(metres, 0)
    np.fill_diagonal(seconds, 0)
    if (metres < 0).any() or (seconds < 0).any():
        raise OsrmError("OSRM's table has negative entries")
    return TravelMatrix(tuple(unique), metres, seconds)


def profile_for(mode: str) -> str:
    """The OSRM profile name for a travel mode. osrm-routed serves the one profile its
    data was built with whatever the URL says; the name only matters behind a proxy
    that routes several profiles."""
    return "foot" if mode == "walk" else "driving"
