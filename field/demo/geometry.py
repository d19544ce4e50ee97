"""Random points inside real tambon polygons (shapely, lon/lat).

Distances here are approximate metres on the ground: lon/lat scaled by an
equirectangular projection at the polygon's latitude, close enough to place
synthetic houses a few hundred metres apart.
"""

from __future__ import annotations

import math
import random

import shapely
from shapely.geometry import MultiPolygon, Polygon

METRES_PER_DEGREE_LAT = 110_600.0  # at about 16 N

Shape = Polygon | MultiPolygon


class Area:
    """A polygon prepared for many point-in-polygon tests."""

    def __init__(self, shape: Shape) -> None:
        self.shape = shape
        shapely.prepare(shape)
        self.metres_per_degree_lon = METRES_PER_DEGREE_LAT * math.cos(
            math.radians(shape.centroid.y)
        )
        # Points drawn for villages keep ~150 m from the border, so they stay inside
        # even where the published polygon is simplified; skipped for slivers.
        inner = shape.buffer(-150 / METRES_PER_DEGREE_LAT)
        self.inner: Shape = inner if inner.area > 0.25 * shape.area else shape
        shapely.prepare(self.inner)

    def contains(self, x: float, y: float) -> bool:
        return bool(shapely.contains_xy(self.shape, x, y))

    def distance_m(self, a: tuple[float, float], b: tuple[float, float]) -> float:
        return math.hypot(
            (a[0] - b[0]) * self.metres_per_degree_lon, (a[1] - b[1]) * METRES_PER_DEGREE_LAT
        )

    def scatter(
        self, rng: random.Random, count: int, *, spacing_m: float
    ) -> list[tuple[float, float]]:
        """``count`` points inside, at least ``spacing_m`` apart while that is
        possible; the spacing shrinks when a small tambon cannot hold them all."""
        min_x, min_y, max_x, max_y = self.inner.bounds
        points: list[tuple[float, float]] = []
        tries = 0
        while len(points) < count:
            tries += 1
            if tries % 2000 == 0:
                spacing_m *= 0.8
            # Rounded before the test, as the files write six decimals (about 10 cm).
            x, y = round(rng.uniform(min_x, max_x), 6), round(rng.uniform(min_y, max_y), 6)
            if not shapely.contains_xy(self.inner, x, y):
                continue
            if all(self.distance_m((x, y), p) >= spacing_m for p in points):
                points.append((x, y))
        return points

    def near(
        self, rng: random.Random, centre: tuple[float, float], *, spread_m: float
    ) -> tuple[float, float]:
        """A point about ``spread_m`` from ``centre`` (normal), inside the area;
        the centre itself if twenty draws all fall outside."""
        for _ in range(20):
            x = round(centre[0] + rng.gauss(0, spread_m) / self.metres_per_degree_lon, 6)
            y = round(centre[1] + rng.gauss(0, spread_m) / METRES_PER_DEGREE_LAT, 6)
            if self.contains(x, y):
                return x, y
        return centre
