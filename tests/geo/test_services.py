"""Village and cluster services, on small factory-made tambons."""

from __future__ import annotations

import pytest
from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from factories import SubdistrictFactory, VillageFactory, make

from geo.models import Subdistrict, Village, VillageCluster
from geo.services import (
    VillageOutsideTambon,
    cluster_create,
    cluster_set_villages,
    clusters_refresh_areas,
    clusters_replace,
    villages_upsert,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def tambon() -> Subdistrict:
    return make(SubdistrictFactory)


def _villages(tambon: Subdistrict, count: int) -> list[Village]:
    """Villages spread over the tambon's 0.01-degree square."""
    x0, y0, _, _ = tambon.geom.extent
    return [
        make(
            VillageFactory,
            subdistrict=tambon,
            point=Point(x0 + 0.001 + 0.0025 * (i % 4), y0 + 0.002 + 0.003 * (i // 4), srid=4326),
        )
        for i in range(count)
    ]


def _area_share(cluster: VillageCluster, tambon: Subdistrict) -> float:
    cluster.refresh_from_db()
    assert cluster.area is not None
    return float(cluster.area.area / tambon.geom.area)


def test_cluster_create_groups_villages_and_derives_the_area(tambon: Subdistrict) -> None:
    villages = _villages(tambon, 8)
    cluster = cluster_create(subdistrict=tambon, name="กลุ่มบ้าน 1", villages=villages[:4])
    assert set(cluster.villages.values_list("code", flat=True)) == {v.code for v in villages[:4]}
    assert cluster.area is not None
    assert all(cluster.area.covers(v.point) for v in villages[:4])
    assert not any(cluster.area.covers(v.point) for v in villages[4:])
    assert 0.3 < _area_share(cluster, tambon) < 0.7


def test_the_clusters_of_a_tambon_cover_it_without_overlap(tambon: Subdistrict) -> None:
    villages = _villages(tambon, 12)
    clusters = [
        cluster_create(
            subdistrict=tambon, name=f"กลุ่มบ้าน {n + 1}", villages=villages[4 * n : 4 * n + 4]
        )
        for n in range(3)
    ]
    assert sum(_area_share(c, tambon) for c in clusters) == pytest.approx(1.0, rel=1e-9)
    for i, a in enumerate(clusters):
        for b in clusters[i + 1 :]:
            assert a.area is not None and b.area is not None
            assert a.area.intersection(b.area).area < 1e-15


def test_a_village_of_another_tambon_is_refused(tambon: Subdistrict) -> None:
    other = make(VillageFactory)
    with pytest.raises(VillageOutsideTambon) as caught:
        cluster_create(subdistrict=tambon, name="กลุ่มบ้าน 1", villages=[*_villages(tambon, 2), other])
    assert caught.value.village_codes == [other.code]
    assert not VillageCluster.objects.exists()


def test_a_cluster_name_is_unique_in_its_tambon(tambon: Subdistrict) -> None:
    villages = _villages(tambon, 2)
    cluster_create(subdistrict=tambon, name="กลุ่มบ้าน 1", villages=villages[:1])
    with pytest.raises(ValidationError):
        cluster_create(subdistrict=tambon, name="กลุ่มบ้าน 1", villages=villages[1:])


def test_set_villages_moves_villages_between_clusters(tambon: Subdistrict) -> None:
    villages = _villages(tambon, 4)
    first = cluster_create(subdistrict=tambon, name="กลุ่มบ้าน 1", villages=villages[:2])
    second = cluster_create(subdistrict=tambon, name="กลุ่มบ้าน 2", villages=villages[2:])
    cluster_set_villages(cluster=second, villages=villages[1:])
    assert list(first.villages.values_list("code", flat=True)) == [villages[0].code]
    assert _area_share(first, tambon) + _area_share(second, tambon) == pytest.approx(1.0)


def test_a_cluster_without_villages_has_no_area(tambon: Subdistrict) -> None:
    villages = _villages(tambon, 2)
    cluster = cluster_create(subdistrict=tambon, name="กลุ่มบ้าน 1", villages=villages)
    Village.objects.filter(cluster=cluster).update(cluster=None)
    clusters_refresh_areas(subdistrict=tambon)
    cluster.refresh_from_db()
    assert cluster.area is None


def test_clusters_replace_keeps_named_clusters_and_drops_the_rest(tambon: Subdistrict) -> None:
    villages = _villages(tambon, 6)
    kept = cluster_create(subdistrict=tambon, name="กลุ่มบ้าน 1", villages=villages[:3])
    cluster_create(subdistrict=tambon, name="กลุ่มบ้านเก่า", villages=villages[3:])

    result = clusters_replace(
        subdistrict=tambon,
        groups={
            "กลุ่มบ้าน 1": villages[:2],
            "กลุ่มบ้าน 2": villages[2:5],
        },
    )

    assert [c.name for c in result] == ["กลุ่มบ้าน 1", "กลุ่มบ้าน 2"]
    assert result[0].pk == kept.pk
    assert sorted(VillageCluster.objects.values_list("name", flat=True)) == [
        "กลุ่มบ้าน 1",
        "กลุ่มบ้าน 2",
    ]
    villages[5].refresh_from_db()
    assert villages[5].cluster_id is None
    assert all(c.area is not None for c in VillageCluster.objects.all())


def test_clusters_replace_refuses_villages_of_another_tambon(tambon: Subdistrict) -> None:
    with pytest.raises(VillageOutsideTambon):
        clusters_replace(subdistrict=tambon, groups={"กลุ่มบ้าน 1": [make(VillageFactory)]})


def test_villages_upsert_inserts_then_updates_by_code(tambon: Subdistrict) -> None:
    centre = tambon.geom.centroid

    def batch(name: str) -> list[Village]:
        return [
            Village(
                code=f"{tambon.code}{moo:02d}",
                subdistrict=tambon,
                name=f"{name} {moo}",
                point=centre,
            )
            for moo in (1, 2, 3)
        ]

    assert villages_upsert(villages=batch("บ้านเก่า")) == 3
    assert villages_upsert(villages=batch("บ้านใหม่")) == 3
    assert sorted(Village.objects.filter(subdistrict=tambon).values_list("name", "moo")) == [
        ("บ้านใหม่ 1", 1),
        ("บ้านใหม่ 2", 2),
        ("บ้านใหม่ 3", 3),
    ]


def test_villages_upsert_checks_fields(tambon: Subdistrict) -> None:
    bad = Village(code=f"{tambon.code}01", subdistrict=tambon, name="", point=tambon.geom.centroid)
    with pytest.raises(ValidationError):
        villages_upsert(villages=[bad])
