"""Reading TSPLIB 95 instances (TSP and CVRP) with TSPLIB's integer distances.

Pure functions, no Django. Only what the routing benchmark and ``solve_tsplib``
need: coordinates with EUC_2D, CEIL_2D, ATT, GEO, MAN_2D or MAX_2D distances, or
an explicit matrix; demands, capacity and depot for CVRP. The conventions follow
Reinelt's TSPLIB 95 document, because published optimal lengths are only
comparable when every edge is rounded the same way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

__all__ = ["Instance", "TsplibError", "distance_matrix", "parse", "read"]

# TSPLIB's GEO distance fixes pi and the earth radius to these values.
_PI = 3.141592
_EARTH_RADIUS_KM = 6378.388


class TsplibError(ValueError):
    """The file is not a TSPLIB instance this reader understands."""


@dataclass(frozen=True)
class Instance:
    name: str
    kind: str  # "TSP" or "CVRP"
    dimension: int
    edge_weight_type: str
    coords: tuple[tuple[float, float], ...] = ()
    explicit: tuple[int, ...] = ()  # the EDGE_WEIGHT_SECTION numbers, in file order
    edge_weight_format: str = ""
    demands: tuple[int, ...] = ()
    capacity: int = 0
    depot: int = 0  # zero-based
    vehicles: int = 0  # 0: as many as needed
    comment: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def read(path: str | Path) -> Instance:
    return parse(Path(path).read_text(encoding="utf-8", errors="replace"))


def parse(text: str) -> Instance:
    spec: dict[str, str] = {}
    coords: dict[int, tuple[float, float]] = {}
    weights: list[int] = []
    demands: dict[int, int] = {}
    depots: list[int] = []
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        upper = line.upper().rstrip(" :")
        if upper == "EOF":
            break
        if upper.endswith("_SECTION"):
            section = upper
            continue
        if ":" in line and not line[0].isdigit() and line[0] != "-":
            key, _, value = line.partition(":")
            spec[key.strip().upper()] = value.strip()
            section = ""
            continue
        parts = line.split()
        if section == "NODE_COORD_SECTION":
            coords[int(parts[0])] = (float(parts[1]), float(parts[2]))
        elif section == "EDGE_WEIGHT_SECTION":
            weights.extend(int(float(p)) for p in parts)
        elif section == "DEMAND_SECTION":
            demands[int(parts[0])] = int(parts[1])
        elif section == "DEPOT_SECTION":
            depots.extend(int(p) for p in parts if int(p) >= 0)
        elif section in ("DISPLAY_DATA_SECTION", "FIXED_EDGES_SECTION", "TOUR_SECTION"):
            continue
        else:
            raise TsplibError(f"unexpected line outside a section: {line!r}")

    kind = spec.get("TYPE", "").split()[0].upper() if spec.get("TYPE") else ""
    if kind not in ("TSP", "CVRP"):
        raise TsplibError(f"only TSP and CVRP instances are supported, not {kind or 'none'}")
    if "DIMENSION" not in spec:
        raise TsplibError("DIMENSION is missing")
    dimension = int(spec["DIMENSION"])
    weight_type = spec.get("EDGE_WEIGHT_TYPE", "").upper()
    if weight_type == "EXPLICIT":
        if not weights:
            raise TsplibError("EXPLICIT weights without an EDGE_WEIGHT_SECTION")
    elif weight_type in _COORD_TYPES:
        if sorted(coords) != list(range(1, dimension + 1)):
            raise TsplibError("NODE_COORD_SECTION must number the nodes 1..DIMENSION")
    else:
        raise TsplibError(f"unsupported EDGE_WEIGHT_TYPE {weight_type or 'none'}")

    name = spec.get("NAME", "")
    vehicles = 0
    if kind == "CVRP":
        if "CAPACITY" not in spec:
            raise TsplibError("CVRP without CAPACITY")
        if sorted(demands) != list(range(1, dimension + 1)):
            raise TsplibError("DEMAND_SECTION must give every node a demand")
        # Augerat-style names carry the fleet size, e.g. A-n32-k5.
        for token in name.replace("_", "-").split("-"):
            if token[:1].lower() == "k" and token[1:].isdigit():
                vehicles = int(token[1:])
        vehicles = int(spec.get("VEHICLES", vehicles))
    return Instance(
        name=name,
        kind=kind,
        dimension=dimension,
        edge_weight_type=weight_type,
        coords=tuple(coords[i] for i in sorted(coords)),
        explicit=tuple(weights),
        edge_weight_format=spec.get("EDGE_WEIGHT_FORMAT", "").upper(),
        demands=tuple(demands[i] for i in sorted(demands)),
        capacity=int(spec.get("CAPACITY", "0")),
        depot=(depots[0] - 1) if depots else 0,
        vehicles=vehicles,
        comment=spec.get("COMMENT", ""),
    )


_COORD_TYPES = ("EUC_2D", "CEIL_2D", "ATT", "GEO", "MAN_2D", "MAX_2D")


def _geo_radians(value: float) -> float:
    # TSPLIB reads DDD.MM: whole degrees, then minutes after the point.
    degrees = math.trunc(value)
    minutes = value - degrees
    return _PI * (degrees + 5.0 * minutes / 3.0) / 180.0


def distance_matrix(instance: Instance) -> npt.NDArray[np.int64]:
    """The full integer distance matrix, following TSPLIB's rounding for the type."""
    kind = instance.edge_weight_type
    if kind == "EXPLICIT":
        return _explicit(instance)
    xy = np.array(instance.coords, dtype=np.float64)
    dx = xy[:, None, 0] - xy[None, :, 0]
    dy = xy[:, None, 1] - xy[None, :, 1]
    if kind == "EUC_2D":
        d = np.floor(np.sqrt(dx * dx + dy * dy) + 0.5)
    elif kind == "CEIL_2D":
        d = np.ceil(np.sqrt(dx * dx + dy * dy))
    elif kind == "MAN_2D":
        d = np.floor(np.abs(dx) + np.abs(dy) + 0.5)
    elif kind == "MAX_2D":
        d = np.maximum(np.floor(np.abs(dx) + 0.5), np.floor(np.abs(dy) + 0.5))
    elif kind == "ATT":
        r = np.sqrt((dx * dx + dy * dy) / 10.0)
        t = np.floor(r + 0.5)
        d = np.where(t < r, t + 1.0, t)
    elif kind == "GEO":
        lat = np.array([_geo_radians(x) for x, _ in instance.coords])
        lon = np.array([_geo_radians(y) for _, y in instance.coords])
        q1 = np.cos(lon[:, None] - lon[None, :])
        q2 = np.cos(lat[:, None] - lat[None, :])
        q3 = np.cos(lat[:, None] + lat[None, :])
        inner = np.clip(0.5 * ((1.0 + q1) * q2 - (1.0 - q1) * q3), -1.0, 1.0)
        d = np.floor(_EARTH_RADIUS_KM * np.arccos(inner) + 1.0)
    else:
        raise TsplibError(f"unsupported EDGE_WEIGHT_TYPE {kind}")
    out = d.astype(np.int64)
    np.fill_diagonal(out, 0)
    return out


def _explicit(instance: Instance) -> npt.NDArray[np.int64]:
    n = instance.dimension
    w = list(instance.explicit)
    fmt = instance.edge_weight_format
    out = np.zeros((n, n), dtype=np.int64)
    if fmt == "FULL_MATRIX":
        if len(w) < n * n:
            raise TsplibError("FULL_MATRIX has too few weights")
        return np.array(w[: n * n], dtype=np.int64).reshape(n, n)
    cells: list[tuple[int, int]]
    if fmt == "UPPER_ROW":
        cells = [(i, j) for i in range(n) for j in range(i + 1, n)]
    elif fmt == "LOWER_ROW":
        cells = [(i, j) for i in range(n) for j in range(i)]
    elif fmt == "UPPER_DIAG_ROW":
        cells = [(i, j) for i in range(n) for j in range(i, n)]
    elif fmt == "LOWER_DIAG_ROW":
        cells = [(i, j) for i in range(n) for j in range(i + 1)]
    else:
        raise TsplibError(f"unsupported EDGE_WEIGHT_FORMAT {fmt or 'none'}")
    if len(w) < len(cells):
        raise TsplibError(f"{fmt} has too few weights")
    for (i, j), value in zip(cells, w, strict=False):
        out[i, j] = value
        out[j, i] = value
    return out
