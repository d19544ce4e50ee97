"""Village clusters: which villages go together, and what area each one covers.

Pure functions on shapely geometry, no Django. Coordinates are planar: pass a
projected CRS, or lon/lat with ``x_scale = cos(latitude)`` so that a degree of
longitude counts for what it measures on the ground (at Thai latitudes, 5-21 N,
leaving it at 1 would stretch east-west distances by up to 7 %).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import shapely
from shapely.geometry import MultiPoint, MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry

__all__ = ["group_by_proximity", "group_by_weight", "polygons_of", "voronoi_cells"]

# The diagram is built on a frame this much larger than the boundary, so that
# rounding when undoing x_scale can never leave a sliver of the boundary uncovered.
_FRAME_MARGIN = 0.1


def polygons_of(geometry: BaseGeometry) -> MultiPolygon:
    """Keeps the polygonal part: clipping can also return the lines and points
    where a cell only touches the boundary, which cover no area."""
    if isinstance(geometry, Polygon):
        return MultiPolygon([geometry]) if not geometry.is_empty else MultiPolygon()
    if isinstance(geometry, MultiPolygon):
        return geometry
    parts: list[Polygon] = []
    for part in getattr(geometry, "geoms", ()):
        parts.extend(polygons_of(part).geoms)
    return MultiPolygon(parts)


def voronoi_cells(
    points: Sequence[Point],
    boundary: Polygon | MultiPolygon,
    *,
    x_scale: float = 1.0,
) -> list[MultiPolygon]:
    """The part of ``boundary`` nearer to each point than to any other.

    Returns one MultiPolygon per input point, in input order. The cells partition
    the boundary: every point of it lies in exactly one cell (cells share only
    edges), so the union of the cells is the boundary. A point repeated at the
    same coordinates gets its cell on its first occurrence and an empty
    MultiPolygon after that. A point outside the boundary still gets the part of
    the boundary nearest to it, which may be empty.

    ``x_scale`` multiplies x before distances are compared (see the module
    docstring); the cells come back in the input coordinates.
    """
    if x_scale <= 0 or not math.isfinite(x_scale):
        raise ValueError(f"x_scale must be a positive number, not {x_scale!r}")
    if not points:
        return []

    first_at: dict[tuple[float, float], int] = {}
    for index, point in enumerate(points):
        first_at.setdefault((point.x, point.y), index)
    distinct = sorted(first_at.items(), key=lambda item: item[1])
    cells = [MultiPolygon() for _ in points]

    if len(distinct) == 1:
        cells[distinct[0][1]] = polygons_of(boundary)
        return cells

    min_x, min_y, max_x, max_y = boundary.bounds
    margin = _FRAME_MARGIN * max(max_x - min_x, max_y - min_y, 1e-9)
    frame = shapely.box(
        (min_x - margin) * x_scale, min_y - margin, (max_x + margin) * x_scale, max_y + margin
    )
    sites = MultiPoint([(x * x_scale, y) for (x, y), _ in distinct])
    diagram = shapely.voronoi_polygons(sites, extend_to=frame, ordered=True)
    for (_, index), cell in zip(distinct, diagram.geoms, strict=True):
        # Cells sharing an edge share its vertices, so undoing the scale moves both
        # sides identically and the partition stays exact.
        unscaled = shapely.transform(cell, lambda xy: xy / (x_scale, 1.0))
        cells[index] = polygons_of(unscaled.intersection(boundary))
    return cells


def group_by_proximity(points: Sequence[Point], target_size: int) -> list[list[int]]:
    """Splits points into compact groups of about ``target_size``.

    Returns lists of indices into ``points``: every index exactly once, each list
    ascending. There are ``round(n / target_size)`` groups (at least one), whose
    sizes differ by at most one. The points are halved again and again across
    their wider side (a k-d split), so each group is a compact patch; ties are
    broken by index, so the result depends only on the input.

    Coordinates are compared as given: use a projected CRS, or lon/lat over an
    area as small as a tambon, where the distortion does not change the groups
    much.
    """
    if target_size < 1:
        raise ValueError(f"target_size must be at least 1, not {target_size}")
    if not points:
        return []
    groups = max(1, round(len(points) / target_size))
    return _split(points, list(range(len(points))), groups)


def _split(points: Sequence[Point], indices: list[int], groups: int) -> list[list[int]]:
    if groups == 1:
        return [sorted(indices)]
    xs = [points[i].x for i in indices]
    ys = [points[i].y for i in indices]
    along_x = max(xs) - min(xs) >= max(ys) - min(ys)

    def key(i: int) -> tuple[float, float, int]:
        p = points[i]
        return (p.x, p.y, i) if along_x else (p.y, p.x, i)

    ordered = sorted(indices, key=key)
    left_groups = groups // 2
    # Cutting in proportion to the group counts keeps every group's size within
    # one of n / groups, whatever the depth of the recursion.
    cut = len(ordered) * left_groups // groups
    return _split(points, ordered[:cut], left_groups) + _split(
        points, ordered[cut:], groups - left_groups
    )


def group_by_weight(
    points: Sequence[Point],
    weights: Sequence[float],
    target: float,
    *,
    x_scale: float = 1.0,
) -> list[list[int]]:
    """Groups points that lie together so that each group's weight is near ``target``.

    For villages of a tambon weighted by their open cases: returns lists of
    indices into ``points``, every index exactly once, each list ascending and the
    lists ordered by their first index. Depends only on the input (ties go to the
    lower index).

    - A point weighing ``target`` or more is a group of its own: splitting its
      work is for the team, not for the map.
    - The others are grown into groups from a seed, the unassigned point farthest
      from the middle of the unassigned ones (so that no stragglers are left on
      the rim), by the unassigned point nearest to any member, while the group is
      under ``target``; a point that would overshoot by more than the group is
      short ends the group instead.
    - A group left under half the target joins its nearest group (never a heavy
      point's) unless that would take it past one and a half targets.
    - Points of zero weight join the group of their nearest point, nearest first,
      so that a run of empty villages follows its neighbour; when every weight is
      zero, there is one group.

    ``x_scale`` as for ``voronoi_cells``: growing by nearest neighbour keeps a
    group's Voronoi cells next to each other when distances are measured as the
    cells are.
    """
    if len(weights) != len(points):
        raise ValueError(f"{len(points)} points but {len(weights)} weights")
    if not target > 0 or not math.isfinite(target):
        raise ValueError(f"target must be a positive number, not {target!r}")
    if x_scale <= 0 or not math.isfinite(x_scale):
        raise ValueError(f"x_scale must be a positive number, not {x_scale!r}")
    if any(w < 0 or not math.isfinite(w) for w in weights):
        raise ValueError("weights must be finite and not negative")
    if not points:
        return []
    xy = [(p.x * x_scale, p.y) for p in points]

    def distance(i: int, j: int) -> float:
        return math.hypot(xy[i][0] - xy[j][0], xy[i][1] - xy[j][1])

    def nearest(members: Sequence[int], candidates: Sequence[int]) -> int:
        return min(candidates, key=lambda c: (min(distance(c, m) for m in members), c))

    heavy = [i for i, w in enumerate(weights) if w >= target]
    groups: list[list[int]] = [[i] for i in heavy]
    light = len(groups)
    unassigned = [i for i, w in enumerate(weights) if 0 < w < target]
    while unassigned:
        cx = sum(xy[i][0] for i in unassigned) / len(unassigned)
        cy = sum(xy[i][1] for i in unassigned) / len(unassigned)
        seed = min(unassigned, key=lambda i: (-math.hypot(xy[i][0] - cx, xy[i][1] - cy), i))
        group, total = [seed], weights[seed]
        unassigned.remove(seed)
        while unassigned and total < target:
            candidate = nearest(group, unassigned)
            after = total + weights[candidate]
            if after > target and after - target > target - total:
                break
            group.append(candidate)
            total = after
            unassigned.remove(candidate)
        groups.append(group)

    def weight(group: list[int]) -> float:
        return sum(weights[i] for i in group)

    # Smallest first: once it has joined a neighbour, the next smallest sees the
    # grown group.
    while True:
        small = sorted(
            (g for g in range(light, len(groups)) if weight(groups[g]) < target / 2),
            key=lambda g: (weight(groups[g]), min(groups[g])),
        )
        merged = False
        for g in small:
            others = [
                h
                for h in range(light, len(groups))
                if h != g and weight(groups[g]) + weight(groups[h]) <= 1.5 * target
            ]
            if not others:
                continue
            h = min(
                others,
                key=lambda h: (
                    min(distance(i, j) for i in groups[g] for j in groups[h]),
                    min(groups[h]),
                ),
            )
            groups[h].extend(groups[g])
            del groups[g]
            merged = True
            break
        if not merged:
            break

    empty = [i for i, w in enumerate(weights) if w == 0]
    if not groups:
        return [empty]
    group_of = {i: g for g, members in enumerate(groups) for i in members}
    while empty:
        placed = list(group_of)
        village = nearest(placed, empty)
        anchor = min(placed, key=lambda p: (distance(village, p), p))
        group_of[village] = group_of[anchor]
        groups[group_of[anchor]].append(village)
        empty.remove(village)
    return sorted((sorted(g) for g in groups), key=lambda g: g[0])
