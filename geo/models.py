"""Thailand's administrative places, keyed by their DOPA codes.

Geometries are stored in EPSG:4326 (what the Royal Thai Survey Department and GPS
give). Distances and areas are measured with ``geography`` or in UTM 47N/48N, never
in degrees.
"""

from __future__ import annotations

from django.contrib.gis.db import models
from django.db.models import F, Q
from django.db.models.functions import Cast, Substr
from django.utils.translation import gettext_lazy as _


class AreaLevel(models.TextChoices):
    PROVINCE = "province", _("Province")
    DISTRICT = "district", _("District")
    SUBDISTRICT = "subdistrict", _("Subdistrict")


class Area(models.Model):
    """What the three levels share: a DOPA code, two names and a boundary."""

    name_th = models.CharField(max_length=100)
    name_en = models.CharField(max_length=100)
    geom = models.MultiPolygonField(srid=4326)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.name_th} ({self.pk})"


class Province(Area):
    code = models.CharField(primary_key=True, max_length=2)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(code__regex=r"^[0-9]{2}$"), name="province_code_2_digits"
            ),
        ]


class District(Area):
    """อำเภอ, or เขต in Bangkok."""

    code = models.CharField(primary_key=True, max_length=4)
    province = models.ForeignKey(Province, on_delete=models.PROTECT, related_name="districts")

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(code__regex=r"^[0-9]{4}$"), name="district_code_4_digits"
            ),
            models.CheckConstraint(
                condition=Q(code__startswith=F("province_id")), name="district_code_in_province"
            ),
        ]


class Subdistrict(Area):
    """ตำบล, or แขวง in Bangkok."""

    code = models.CharField(primary_key=True, max_length=6)
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="subdistricts")

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(code__regex=r"^[0-9]{6}$"), name="subdistrict_code_6_digits"
            ),
            models.CheckConstraint(
                condition=Q(code__startswith=F("district_id")), name="subdistrict_code_in_district"
            ),
        ]


class SubdistrictCell(models.Model):
    """A tambon cut along a fixed longitude/latitude grid, for reverse geocoding.

    A point finds its candidate pieces by integer arithmetic (its grid cell) and a
    btree or hash join, never a GiST probe per point: on the project's 2-core
    machines a GiST rescan costs about 20 us, a btree probe 0.4 us (docs/benchmarks.md).

    - ``whole``: the tambon covers the entire cell; no geometry test is needed.
    - ``geom``: the tambon's part of the cell, when not whole.
    - ``lower``: the union of the cell's pieces of lower-coded tambons that touch
      this one. A point on a shared border belongs to the lower code, so a piece
      owns a point it intersects unless the point also touches ``lower``.
    """

    SIZE_DEGREES = 0.02  # about 2.2 km; measured against 0.05 in docs/benchmarks.md

    subdistrict = models.ForeignKey(Subdistrict, on_delete=models.CASCADE, related_name="cells")
    i = models.IntegerField()
    j = models.IntegerField()
    whole = models.BooleanField()
    geom = models.MultiPolygonField(srid=4326, null=True, spatial_index=False)
    lower = models.MultiPolygonField(srid=4326, null=True, spatial_index=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(whole=True, geom__isnull=True, lower__isnull=True)
                | Q(whole=False, geom__isnull=False),
                name="subdistrictcell_whole_or_piece",
            ),
            # Its index, led by (i, j), is the one every lookup uses.
            models.UniqueConstraint(fields=["i", "j", "subdistrict"], name="subdistrictcell_grid"),
        ]


class VillageCluster(models.Model):
    """A named group of villages inside one tambon (หย่อมบ้าน / กลุ่มบ้าน).

    It is the unit that search teams and volunteers are given. Its area is derived
    from its villages (their Voronoi cells clipped to the tambon), so the clusters
    of a tambon never overlap.
    """

    subdistrict = models.ForeignKey(Subdistrict, on_delete=models.PROTECT, related_name="clusters")
    name = models.CharField(max_length=100)
    area = models.MultiPolygonField(srid=4326, null=True, blank=True)

    class Meta:
        ordering = ["subdistrict_id", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["subdistrict", "name"], name="cluster_name_unique_in_tambon"
            ),
            # Target of the composite foreign key from Village (see migration 0002).
            models.UniqueConstraint(fields=["id", "subdistrict"], name="cluster_id_subdistrict"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.subdistrict_id})"


class Village(models.Model):
    """หมู่บ้าน: code = tambon code + two-digit หมู่ number."""

    code = models.CharField(primary_key=True, max_length=8)
    subdistrict = models.ForeignKey(Subdistrict, on_delete=models.PROTECT, related_name="villages")
    moo = models.GeneratedField(
        expression=Cast(Substr("code", 7, 2), models.SmallIntegerField()),
        output_field=models.SmallIntegerField(),
        db_persist=True,
    )
    name = models.CharField(max_length=100)
    point = models.PointField(srid=4326)
    area = models.MultiPolygonField(srid=4326, null=True, blank=True)
    # A composite foreign key (cluster, subdistrict) in migration 0002 keeps a
    # village out of another tambon's cluster.
    cluster = models.ForeignKey(
        VillageCluster, on_delete=models.SET_NULL, null=True, blank=True, related_name="villages"
    )

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(code__regex=r"^[0-9]{6}(0[1-9]|[1-9][0-9])$"),
                name="village_code_8_digits",
            ),
            models.CheckConstraint(
                condition=Q(code__startswith=F("subdistrict_id")),
                name="village_code_in_subdistrict",
            ),
        ]

    def __str__(self) -> str:
        return f"หมู่ {self.moo} {self.name}"
