"""Writes about villages and village clusters.

A cluster's area is derived, never drawn: each village of a tambon gets the part
of the tambon nearer to it than to any other village (its Voronoi cell, with
distances in metres on the ground, see ``_x_scale``), and a cluster covers the
cells of its villages. So the clusters of a tambon never overlap, and once every
village is in a cluster they cover the tambon.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import shapely
from django.contrib.gis.geos import GEOSGeometry
from django.contrib.gis.geos import MultiPolygon as GeosMultiPolygon
from django.db import transaction
from shapely.geometry import MultiPolygon, Point, Polygon

from geo.algorithms.clustering import polygons_of, voronoi_cells
from geo.models import Subdistrict, Village, VillageCluster

__all__ = [
    "VillageOutsideTambon",
    "cluster_create",
    "clusters_replace",
    "cluster_set_villages",
    "clusters_refresh_areas",
    "villages_upsert",
]


class VillageOutsideTambon(Exception):
    """Villages that cannot join a cluster because they lie in another tambon."""

    def __init__(self, subdistrict_code: str, village_codes: Sequence[str]) -> None:
        self.subdistrict_code = subdistrict_code
        self.village_codes = list(village_codes)
        super().__init__(
            f"villages {', '.join(self.village_codes)} are not in tambon {subdistrict_code}"
        )


def _to_shapely(geometry: GEOSGeometry) -> Polygon | MultiPolygon:
    shape = shapely.from_wkb(bytes(geometry.wkb))
    if not isinstance(shape, Polygon | MultiPolygon):
        raise TypeError(f"expected a polygon, got {shape.geom_type}")
    return shape


def _to_geos(shape: MultiPolygon) -> GeosMultiPolygon:
    geometry = GEOSGeometry(memoryview(shapely.to_wkb(shape)), srid=4326)
    if not isinstance(geometry, GeosMultiPolygon):
        raise TypeError(f"expected a multipolygon, got {geometry.geom_type}")
    return geometry


def _x_scale(boundary: Polygon | MultiPolygon) -> float:
    """cos(latitude): a degree of longitude measures this fraction of a degree of
    latitude on the ground. One value per tambon is exact to well under 0.1 %."""
    return math.cos(math.radians(boundary.centroid.y))


@transaction.atomic
def villages_upsert(*, villages: Sequence[Village]) -> int:
    """Inserts or updates villages by code (name, point and tambon); returns how many.

    Clusters are left as they are; ``area`` too. For imports of thousands of rows:
    fields are checked in Python, and the foreign keys and constraints by the
    database in the same statement instead of one query per row.
    """
    for village in villages:
        village.full_clean(
            exclude=["subdistrict", "cluster"], validate_unique=False, validate_constraints=False
        )
    Village.objects.bulk_create(
        villages,
        update_conflicts=True,
        unique_fields=["code"],
        update_fields=["name", "point", "subdistrict"],
    )
    return len(villages)


@transaction.atomic
def cluster_set_villages(*, cluster: VillageCluster, villages: Sequence[Village]) -> None:
    """Makes ``villages`` the members of ``cluster``, then refreshes the areas.

    Villages that were in the cluster and are not listed leave it; listed villages
    in another cluster of the tambon move here.
    """
    outside = [v.code for v in villages if v.subdistrict_id != cluster.subdistrict_id]
    if outside:
        raise VillageOutsideTambon(cluster.subdistrict_id, outside)
    codes = [v.code for v in villages]
    Village.objects.filter(cluster=cluster).exclude(code__in=codes).update(cluster=None)
    Village.objects.filter(code__in=codes).update(cluster=cluster)
    for village in villages:
        village.cluster = cluster
    clusters_refresh_areas(subdistrict=cluster.subdistrict)
    cluster.refresh_from_db(fields=["area"])


@transaction.atomic
def cluster_create(
    *, subdistrict: Subdistrict, name: str, villages: Sequence[Village]
) -> VillageCluster:
    """Creates a cluster of ``villages`` in ``subdistrict`` and derives every area.

    Raises ``VillageOutsideTambon`` if a village is in another tambon, and
    ``ValidationError`` if the tambon already has a cluster of that name.
    """
    cluster = VillageCluster(subdistrict=subdistrict, name=name)
    cluster.full_clean()
    cluster.save()
    cluster_set_villages(cluster=cluster, villages=villages)
    return cluster


@transaction.atomic
def clusters_replace(
    *, subdistrict: Subdistrict, groups: Mapping[str, Sequence[Village]]
) -> list[VillageCluster]:
    """Makes the clusters of ``subdistrict`` exactly ``groups`` (name -> villages).

    Clusters keep their id when their name is kept; others are deleted, villages
    not listed end up in no cluster, and the areas are derived once at the end.
    For regrouping a whole tambon, where one ``cluster_create`` per cluster would
    derive the areas again each time.
    """
    outside = [v.code for vs in groups.values() for v in vs if v.subdistrict_id != subdistrict.code]
    if outside:
        raise VillageOutsideTambon(subdistrict.code, outside)
    existing = {c.name: c for c in VillageCluster.objects.filter(subdistrict=subdistrict)}
    Village.objects.filter(subdistrict=subdistrict).update(cluster=None)
    VillageCluster.objects.filter(subdistrict=subdistrict).exclude(name__in=list(groups)).delete()
    clusters = []
    for name, villages in groups.items():
        cluster = existing.get(name)
        if cluster is None:
            cluster = VillageCluster(subdistrict=subdistrict, name=name)
            cluster.full_clean()
            cluster.save()
        Village.objects.filter(code__in=[v.code for v in villages]).update(cluster=cluster)
        for village in villages:
            village.cluster = cluster
        clusters.append(cluster)
    clusters_refresh_areas(subdistrict=subdistrict)
    fresh = VillageCluster.objects.in_bulk([c.pk for c in clusters])
    return [fresh[c.pk] for c in clusters]


@transaction.atomic
def clusters_refresh_areas(*, subdistrict: Subdistrict) -> None:
    """Recomputes the area of every cluster of ``subdistrict`` from its villages.

    Distances are on the ground: lon/lat with longitude scaled by cos(latitude),
    an equirectangular projection centred on the tambon, which for an area this
    small matches UTM to far better than village points are known. A cluster with
    no village (or whose villages' cells are all empty) gets no area.
    """
    clusters = list(VillageCluster.objects.filter(subdistrict=subdistrict).order_by("pk"))
    if not clusters:
        return
    villages = list(
        Village.objects.filter(subdistrict=subdistrict)
        .order_by("code")
        .only("code", "point", "cluster_id")
    )
    boundary = _to_shapely(Subdistrict.objects.only("geom").get(pk=subdistrict.pk).geom)
    cells = voronoi_cells(
        [Point(v.point.x, v.point.y) for v in villages], boundary, x_scale=_x_scale(boundary)
    )
    cells_of: dict[int, list[MultiPolygon]] = {}
    for village, cell in zip(villages, cells, strict=True):
        if village.cluster_id is not None and not cell.is_empty:
            cells_of.setdefault(village.cluster_id, []).append(cell)
    for cluster in clusters:
        parts = cells_of.get(cluster.pk, [])
        area = polygons_of(shapely.union_all(parts)) if parts else MultiPolygon()
        cluster.area = None if area.is_empty else _to_geos(area)
    VillageCluster.objects.bulk_update(clusters, ["area"])
