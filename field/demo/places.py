"""Synthetic villages inside the real tambons, and their clusters."""

from __future__ import annotations

import math
import random

from shapely.geometry import Point

from field.demo import config
from field.demo.geometry import METRES_PER_DEGREE_LAT
from field.demo.names import VILLAGE_HEADS, VILLAGE_SUFFIXES, VILLAGE_TAILS
from field.demo.records import ClusterRecord, Tambon, VillageRecord
from geo.algorithms.clustering import group_by_proximity


def village_name(rng: random.Random, taken: set[str]) -> str:
    while True:
        name = f"บ้าน{rng.choice(VILLAGE_HEADS)}{rng.choice(VILLAGE_TAILS)}"
        name += rng.choice(VILLAGE_SUFFIXES)
        if name not in taken:
            taken.add(name)
            return name


def _village_count(rng: random.Random, tambon: Tambon) -> int:
    # Larger tambons hold more villages, as in the DOPA lists (about one per 5 km²).
    shape = tambon.area.shape
    km2 = shape.area * tambon.area.metres_per_degree_lon * METRES_PER_DEGREE_LAT / 1e6
    low, high = config.VILLAGES_PER_TAMBON
    return max(low, min(high, round(km2 / 5) + rng.randint(-2, 2)))


def make_villages(rng: random.Random, tambons: list[Tambon]) -> list[VillageRecord]:
    villages: list[VillageRecord] = []
    for tambon in tambons:
        count = _village_count(rng, tambon)
        points = tambon.area.scatter(rng, count, spacing_m=config.VILLAGE_SPACING_M)
        taken: set[str] = set()
        for moo, xy in enumerate(points, start=1):
            villages.append(
                VillageRecord(f"{tambon.code}{moo:02d}", village_name(rng, taken), tambon.code, xy)
            )
    return villages


def make_clusters(tambons: list[Tambon], villages: list[VillageRecord]) -> list[ClusterRecord]:
    """About four neighbouring villages per cluster, numbered from the lowest หมู่."""
    clusters: list[ClusterRecord] = []
    for tambon in tambons:
        members = [v for v in villages if v.tambon == tambon.code]
        scale = math.cos(math.radians(tambon.area.shape.centroid.y))
        groups = group_by_proximity(
            [Point(v.xy[0] * scale, v.xy[1]) for v in members], config.VILLAGES_PER_CLUSTER
        )
        groups.sort(key=min)
        for number, group in enumerate(groups, start=1):
            codes = tuple(members[i].code for i in group)
            clusters.append(ClusterRecord(tambon.code, f"กลุ่มบ้าน {number}", codes))
    return clusters
