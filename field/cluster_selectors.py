"""Reads for drawing a tambon's village clusters: its villages with their open
cases and clusters, the clusters with the teams holding them, and a proposed
grouping by open cases.

Like ``field.team_selectors``, every entry point starts from ``user_area`` and
requires ``may_manage``; a tambon outside the scope is not found (Http404).
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.contrib.gis.db.models.functions import AsGeoJSON
from django.utils.translation import gettext as _
from shapely.geometry import Point

from field.models import Case, CaseStatus, TeamArea
from field.selectors import User
from field.team_selectors import (
    MAP_DIGITS,
    _name,
    _simplified,
    lying_in,
    managed_area,
    manager_scope,
)
from geo.algorithms.clustering import group_by_weight
from geo.models import Subdistrict, Village, VillageCluster

__all__ = [
    "ClusterRow",
    "TambonClusters",
    "VillageRow",
    "get_tambon",
    "proposed_names",
    "tambon_clusters",
]

DEFAULT_TARGET = 30
TARGET_MAX = 1000


@dataclass
class VillageRow:
    village: Village
    open: int = 0
    cluster: str = ""
    """The name of the cluster the village is in now, "" for none."""


@dataclass
class ClusterRow:
    cluster: VillageCluster
    villages: int = 0
    open: int = 0
    holders: list[TeamArea] = field(default_factory=list)


@dataclass(frozen=True)
class TambonClusters:
    subdistrict: Subdistrict
    villages: list[VillageRow]
    clusters: list[ClusterRow]
    """Clusters with villages, and any a team holds; by name."""
    open: int
    """Open cases lying in the tambon."""
    unplaced: int
    """Of those, cases with neither a position nor a village: in no village's count."""
    outline: dict[str, Any] | None
    areas: dict[str, dict[str, Any]]
    """Each cluster's derived area as GeoJSON, by name."""
    whole: list[TeamArea]
    """Teams holding the whole tambon."""

    @property
    def name(self) -> str:
        return _name(self.subdistrict)


def get_tambon(user: User, code: str) -> Subdistrict:
    """A tambon the user manages; Http404 outside their scope, PermissionDenied
    for anyone who manages nothing."""
    return managed_area(user, code, Subdistrict.objects.select_related("district"), 6)


def _x_scale(tambon: Subdistrict) -> float:
    # As geo.services derives the areas: a degree of longitude counts cos(latitude).
    return math.cos(math.radians(tambon.geom.centroid.y))


def _nearest(villages: list[Village], x: float, y: float, x_scale: float) -> Village:
    return min(
        villages,
        key=lambda v: (math.hypot((v.point.x - x) * x_scale, v.point.y - y), v.code),
    )


def tambon_clusters(user: User, tambon: Subdistrict) -> TambonClusters:
    """The villages of ``tambon`` (from ``get_tambon``) with open cases and
    clusters, its clusters with who holds them, and what the map draws.

    A case counts for the village nearest where it lies (its whereabouts when
    the field reported one, else its household), distances as the cluster areas
    are derived: the village whose Voronoi cell holds it, so whichever cluster
    takes that village takes the case. A case with no position counts for its
    household's village.
    """
    manager_scope(user)
    villages = list(
        Village.objects.filter(subdistrict=tambon)
        .select_related("cluster")
        .defer("area", "cluster__area")
        .order_by("code")
    )
    rows = {
        v.code: VillageRow(village=v, cluster=v.cluster.name if v.cluster else "") for v in villages
    }
    cases = (
        Case.objects.filter(status=CaseStatus.OPEN)
        .filter(lying_in("subdistrict_id", tambon.code))
        .values_list(
            "whereabouts_id",
            "whereabouts__point",
            "whereabouts__village_id",
            "child__household__point",
            "child__household__village_id",
        )
    )
    x_scale = _x_scale(tambon)
    total = unplaced = 0
    for moved, moved_point, moved_village, home_point, home_village in cases:
        total += 1
        point = moved_point if moved else home_point
        code = moved_village if moved else home_village
        if point is not None and villages:
            rows[_nearest(villages, point.x, point.y, x_scale).code].open += 1
        elif code in rows:
            rows[code].open += 1
        else:
            unplaced += 1

    holders: dict[int, list[TeamArea]] = defaultdict(list)
    whole: list[TeamArea] = []
    for area in (
        TeamArea.objects.filter(subdistrict=tambon, ended_at__isnull=True)
        .select_related("team")
        .defer("team__base_point")
        .order_by("pk")
    ):
        if area.cluster_id is None:
            whole.append(area)
        else:
            holders[area.cluster_id].append(area)
    clusters = {
        c.pk: ClusterRow(cluster=c, holders=holders.get(c.pk, []))
        for c in VillageCluster.objects.filter(subdistrict=tambon)
        .annotate(outline=AsGeoJSON(_simplified("area"), precision=MAP_DIGITS))
        .defer("area")
        .order_by("name")
    }
    for village in villages:
        if village.cluster_id in clusters:
            clusters[village.cluster_id].villages += 1
            clusters[village.cluster_id].open += rows[village.code].open
    shown = [row for row in clusters.values() if row.villages or row.holders]
    outline = (
        Subdistrict.objects.filter(pk=tambon.pk)
        .annotate(outline=AsGeoJSON(_simplified("geom"), precision=MAP_DIGITS))
        .values_list("outline", flat=True)
        .first()
    )
    return TambonClusters(
        subdistrict=tambon,
        villages=list(rows.values()),
        clusters=shown,
        open=total,
        unplaced=unplaced,
        outline=json.loads(outline) if outline else None,
        areas={
            row.cluster.name: json.loads(row.cluster.outline)  # type: ignore[attr-defined]
            for row in shown
            if getattr(row.cluster, "outline", None)
        },
        whole=whole,
    )


def proposed_names(found: TambonClusters, target: int) -> dict[str, str]:
    """Village code -> cluster name: the villages grouped so that each cluster has
    about ``target`` open cases (``geo.algorithms.clustering.group_by_weight``).

    A group takes the name of the current cluster it shares most villages with
    (each name once), so that clusters teams hold keep their name, and with it
    their team, wherever the grouping allows; other groups are numbered.
    """
    rows = found.villages
    if not rows:
        return {}
    groups = group_by_weight(
        [Point(r.village.point.x, r.village.point.y) for r in rows],
        [r.open for r in rows],
        target,
        x_scale=_x_scale(found.subdistrict),
    )
    shared: list[tuple[int, int, int, str]] = []
    for index, group in enumerate(groups):
        counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for i in group:
            if rows[i].cluster:
                counts[rows[i].cluster][0] += 1
                counts[rows[i].cluster][1] += rows[i].open
        shared.extend((-n, -cases, index, name) for name, (n, cases) in counts.items())
    names: dict[int, str] = {}
    for _n, _cases, index, name in sorted(shared):
        if index not in names and name not in names.values():
            names[index] = name
    taken = set(names.values()) | {row.cluster.name for row in found.clusters}
    number = 0
    for index in range(len(groups)):
        while index not in names:
            number += 1
            candidate = _("Cluster %(number)s") % {"number": number}
            if candidate not in taken:
                names[index] = candidate
                taken.add(candidate)
    return {rows[i].village.code: names[index] for index, group in enumerate(groups) for i in group}
