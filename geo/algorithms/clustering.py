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

__all__ = ["group_by_proximity", "polygons_of", "voronoi_cells"]

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
