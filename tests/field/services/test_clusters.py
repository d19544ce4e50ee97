"""``clusters_set`` refusals the cluster page's form cannot produce: a village in
two clusters or in another tambon, names that are blank or the same once
trimmed."""

from __future__ import annotations

import pytest
from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.utils import translation
from factories import SubdistrictFactory, VillageFactory, make

from field.services.clusters import clusters_set
from geo.models import Subdistrict, Village, VillageCluster

pytestmark = pytest.mark.django_db


@pytest.fixture
def tambon() -> Subdistrict:
    tambon = make(SubdistrictFactory)
    x0, y0, x1, y1 = tambon.geom.extent
    for x in (x0 + 0.002, x1 - 0.002):
        make(VillageFactory, subdistrict=tambon, point=Point(x, (y0 + y1) / 2, srid=4326))
    return tambon


def _refused(tambon: Subdistrict, groups: dict[str, list[Village]], text: str) -> None:
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        clusters_set(subdistrict=tambon, groups=groups, by=None)
    assert any(text in message for message in refused.value.messages)
    assert not VillageCluster.objects.filter(subdistrict=tambon).exists()


def test_a_village_in_two_clusters_is_refused(tambon: Subdistrict) -> None:
    west, east = Village.objects.filter(subdistrict=tambon).order_by("code")
    _refused(tambon, {"ก": [west, east], "ข": [east]}, "is in two clusters")


def test_a_village_of_another_tambon_is_refused(tambon: Subdistrict) -> None:
    west, east = Village.objects.filter(subdistrict=tambon).order_by("code")
    stranger = make(VillageFactory)
    _refused(tambon, {"ก": [west, east, stranger]}, "Not villages of this tambon")


def test_names_are_trimmed_and_must_differ(tambon: Subdistrict) -> None:
    west, east = Village.objects.filter(subdistrict=tambon).order_by("code")
    _refused(tambon, {" ": [west, east]}, "needs a name")
    _refused(tambon, {"ก": [west], "ก ": [east]}, "Two clusters are named")
    saved = clusters_set(subdistrict=tambon, groups={"  ก ": [west], "ข": [east]}, by=None)
    assert [c.name for c in saved] == ["ก", "ข"]
    assert all(c.area is not None for c in saved)
