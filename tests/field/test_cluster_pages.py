"""A tambon's village clusters, drawn by a coordinator or proposed by open cases:
who may open the page, what the proposal adds up to, and what saving may change
while teams hold clusters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
import shapely
from conftest import FieldWorld, _open_cases
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.gis.geos import Point
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from factories import (
    CaseFactory,
    ChildFactory,
    DistrictFactory,
    HouseholdFactory,
    ProfileFactory,
    ProvinceFactory,
    SubdistrictFactory,
    UserFactory,
    VillageFactory,
    make,
)

from field.models import Case, Role, Team, TeamArea
from field.services.teams import team_area_end
from geo.models import District, Subdistrict, Village, VillageCluster

pytestmark = pytest.mark.django_db
Districts = tuple[District, District]
# Open cases of the six villages of ``six``, west to east then south to north; a
# village of nine and one of none, so that the proposal meets both.
OPEN = (4, 7, 2, 0, 9, 5)


def _client(user: User) -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(user)
    return client


def _url(tambon: Subdistrict) -> str:
    return reverse("field-clusters", args=[tambon.code])


@dataclass(frozen=True)
class Six:
    tambon: Subdistrict
    villages: list[Village]
    moved: Case


@pytest.fixture
def six(persona_districts: Districts) -> Six:
    """A tambon of district A with six villages on a 3 × 2 grid and ``OPEN`` cases
    beside them, plus a child found living in the tambon whose registry home is in
    another tambon."""
    tambon = make(SubdistrictFactory, district=persona_districts[0])
    x0, y0, x1, y1 = tambon.geom.extent
    villages = []
    for n, count in enumerate(OPEN):
        x = x0 + (n % 3 + 0.5) * (x1 - x0) / 3
        y = y0 + (n // 3 + 0.5) * (y1 - y0) / 2
        village = make(VillageFactory, subdistrict=tambon, point=Point(x, y, srid=4326))
        villages.append(village)
        # A row of houses centred on the village, all nearer it than any other.
        _open_cases(tambon, x - count * 0.0001, y + 0.0003, count, village)
    elsewhere = make(SubdistrictFactory, district=persona_districts[1])
    moved = make(CaseFactory, child=make(ChildFactory, household__subdistrict=elsewhere))
    moved.whereabouts = make(
        HouseholdFactory,
        subdistrict=tambon,
        village=None,
        point=Point(villages[4].point.x - 0.0002, villages[4].point.y, srid=4326),
    )
    moved.save()
    return Six(tambon, villages, moved)


def _post_names(client: Client, tambon: Subdistrict, names: dict[str, str]) -> Any:
    return client.post(_url(tambon), {f"cluster-{code}": name for code, name in names.items()})


def _assert_partition(tambon: Subdistrict) -> None:
    tambon.refresh_from_db()
    boundary = shapely.from_wkb(bytes(tambon.geom.wkb))
    # Clusters kept empty for the history (no villages, no area) cover nothing.
    areas = [
        shapely.from_wkb(bytes(area.wkb))
        for area in VillageCluster.objects.filter(subdistrict=tambon).values_list("area", flat=True)
        if area is not None
    ]
    assert areas
    assert all(not a.is_empty for a in areas)
    assert shapely.union_all(areas).symmetric_difference(boundary).area < 1e-9
    assert sum(a.area for a in areas) == pytest.approx(boundary.area, rel=1e-9)
    for i, a in enumerate(areas):
        for b in areas[i + 1 :]:
            assert a.intersection(b).area < 1e-9


# --- who may open the page ---------------------------------------------------------------


@pytest.mark.parametrize("persona", ["member_a", "volunteer", "official"])
def test_other_roles_are_refused(request: pytest.FixtureRequest, persona: str, six: Six) -> None:
    client = _client(request.getfixturevalue(persona))
    assert client.get(_url(six.tambon)).status_code == 403
    names = {v.code: "ทั้งหมด" for v in six.villages}
    assert (
        client.post(_url(six.tambon), {f"cluster-{c}": n for c, n in names.items()}).status_code
        == 403
    )
    assert not VillageCluster.objects.filter(subdistrict=six.tambon).exists()


def test_anonymous_is_sent_to_log_in(six: Six) -> None:
    response = Client().get(_url(six.tambon))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_coordinator_of_another_province_or_district_gets_not_found(
    six: Six, persona_districts: Districts
) -> None:
    province = make(ProvinceFactory)
    make(DistrictFactory, province=province)
    stranger = make(UserFactory, username="stranger")
    make(ProfileFactory, user=stranger, role=Role.COORDINATOR, province=province)
    narrowed = make(UserFactory, username="narrowed")
    make(
        ProfileFactory,
        user=narrowed,
        role=Role.COORDINATOR,
        province=persona_districts[1].province,
        districts=[persona_districts[1]],
    )
    for user in (stranger, narrowed):
        client = _client(user)
        assert client.get(_url(six.tambon)).status_code == 404
        assert client.post(_url(six.tambon), {}).status_code == 404
    assert _client(stranger).get(reverse("field-clusters", args=["12"])).status_code == 404


def test_the_team_page_links_each_tambon_to_its_clusters(
    coordinator: User, six: Six, team_a: Team
) -> None:
    response = _client(coordinator).get(reverse("field-team", args=[team_a.pk]))
    assert f'href="{_url(six.tambon)}"' in response.content.decode()


# --- reading and proposing --------------------------------------------------------------------


def test_the_page_lists_villages_with_their_open_cases(coordinator: User, six: Six) -> None:
    response = _client(coordinator).get(_url(six.tambon))
    assert response.status_code == 200
    found = response.context["found"]
    assert [row.village.code for row in found.villages] == [v.code for v in six.villages]
    # The moved child counts where the field found them, beside the fifth village.
    expected = list(OPEN)
    expected[4] += 1
    assert [row.open for row in found.villages] == expected
    assert found.open == sum(OPEN) + 1
    assert found.unplaced == 0
    assert found.clusters == []


def test_a_proposal_is_shown_and_not_saved(coordinator: User, six: Six) -> None:
    response = _client(coordinator).get(_url(six.tambon), {"target": "10"})
    assert response.status_code == 200
    assert response.context["proposed"]
    totals = dict(response.context["totals"])
    assert sum(totals.values()) == response.context["found"].open == sum(OPEN) + 1
    assert len(totals) >= 2
    # The village of ten (nine, and the moved child) is a cluster of its own, with
    # at most the empty village next to it.
    values = {item["row"].village.code: item["value"] for item in response.context["rows"]}
    heavy = values[six.villages[4].code]
    assert totals[heavy] == 10
    assert {code for code, name in values.items() if name == heavy} <= {
        six.villages[4].code,
        six.villages[3].code,
    }
    assert all(values.values())
    assert not VillageCluster.objects.filter(subdistrict=six.tambon).exists()


def test_a_bad_target_is_refused_with_a_message(coordinator: User, six: Six) -> None:
    for target in ("0", "abc", "1001"):
        response = _client(coordinator).get(_url(six.tambon), {"target": target})
        assert response.status_code == 200
        assert not response.context["proposed"]
        assert "whole number from 1 to 1000" in response.content.decode()


# --- saving -----------------------------------------------------------------------------------


def test_saving_the_proposal_makes_clusters_that_cover_the_tambon(
    coordinator: User, six: Six
) -> None:
    client = _client(coordinator)
    proposal = client.get(_url(six.tambon), {"target": "10"}).context
    values = {item["row"].village.code: item["value"] for item in proposal["rows"]}
    response = _post_names(client, six.tambon, values)
    assert response.status_code == 302
    clusters = {c.name: c for c in VillageCluster.objects.filter(subdistrict=six.tambon)}
    assert set(clusters) == set(values.values())
    for village in Village.objects.filter(subdistrict=six.tambon):
        assert village.cluster_id == clusters[values[village.code]].pk
    _assert_partition(six.tambon)
    page = client.get(_url(six.tambon)).context
    assert {row.cluster.name: row.open for row in page["found"].clusters} == dict(
        proposal["totals"]
    )
    assert set(page["page_data"]["areas"]) == set(clusters)


def test_hand_drawn_clusters_are_saved(coordinator: User, six: Six) -> None:
    west, east = "ฝั่งตะวันตก", "ฝั่งตะวันออก"
    names = {v.code: (west if n % 3 == 0 else east) for n, v in enumerate(six.villages)}
    response = _post_names(_client(coordinator), six.tambon, names)
    assert response.status_code == 302
    assert sorted(
        VillageCluster.objects.filter(subdistrict=six.tambon).values_list("name", flat=True)
    ) == sorted([west, east])
    _assert_partition(six.tambon)


def test_villages_left_out_are_refused_unless_all_are(coordinator: User, six: Six) -> None:
    client = _client(coordinator)
    names = {v.code: "ทั้งหมด" for v in six.villages}
    names[six.villages[2].code] = "   "
    response = _post_names(client, six.tambon, names)
    assert response.status_code == 400
    text = response.content.decode()
    assert "would be in no cluster" in text
    assert six.villages[2].name in text
    assert not VillageCluster.objects.filter(subdistrict=six.tambon).exists()
    # What was typed stays in the form.
    assert 'value="ทั้งหมด"' in text

    assert (
        _post_names(client, six.tambon, {v.code: "ทั้งหมด" for v in six.villages}).status_code == 302
    )
    assert VillageCluster.objects.filter(subdistrict=six.tambon).count() == 1
    response = _post_names(client, six.tambon, {v.code: "" for v in six.villages})
    assert response.status_code == 302
    assert not VillageCluster.objects.filter(subdistrict=six.tambon).exists()
    assert not Village.objects.filter(subdistrict=six.tambon, cluster__isnull=False).exists()


def test_an_overlong_name_is_refused(coordinator: User, six: Six) -> None:
    response = _post_names(
        _client(coordinator), six.tambon, {v.code: "ก" * 101 for v in six.villages}
    )
    assert response.status_code == 400
    assert "longer than 100 characters" in response.content.decode()
    assert not VillageCluster.objects.filter(subdistrict=six.tambon).exists()


# --- clusters held by teams -------------------------------------------------------------------


@pytest.fixture
def world(field_world: FieldWorld, persona_districts: Districts, team_b: Team) -> FieldWorld:
    team_b.district = persona_districts[1]
    team_b.save()
    return field_world


def _codes(cluster: VillageCluster) -> str:
    return Village.objects.get(cluster=cluster).code


def test_a_held_cluster_cannot_disappear(coordinator: User, world: FieldWorld) -> None:
    west, east = _codes(world.west), _codes(world.east)
    before = world.west.area
    response = _post_names(_client(coordinator), world.split_b, {west: "ตะวันออก", east: "ตะวันออก"})
    assert response.status_code == 400
    text = response.content.decode()
    assert "ทีมค้นหา ข" in text
    assert "end that team&#x27;s assignment first" in text
    world.west.refresh_from_db()
    assert world.west.name == "ตะวันตก"
    assert world.west.area == before
    assert Village.objects.get(code=west).cluster_id == world.west.pk


def test_a_kept_or_renamed_cluster_stays_with_its_team(
    coordinator: User, world: FieldWorld
) -> None:
    client = _client(coordinator)
    west, east = _codes(world.west), _codes(world.east)
    area = world.areas["b"]
    # A third village joins the west cluster: same name, same cluster, a new area.
    x0, y0, x1, y1 = world.split_b.geom.extent
    third = make(
        VillageFactory, subdistrict=world.split_b, point=Point((x0 + x1) / 2, y1 - 0.001, srid=4326)
    )
    before = world.west.area
    response = _post_names(
        client, world.split_b, {west: "ตะวันตก", east: "ตะวันออก", third.code: "ตะวันตก"}
    )
    assert response.status_code == 302
    world.west.refresh_from_db()
    assert world.west.area is not None and before is not None
    assert world.west.area.area > before.area
    area.refresh_from_db()
    assert area.cluster_id == world.west.pk and area.ended_at is None
    _assert_partition(world.split_b)

    # The same villages under a new name: the cluster is renamed, not replaced.
    response = _post_names(
        client, world.split_b, {west: "ฝั่งตะวันตก", east: "ตะวันออก", third.code: "ฝั่งตะวันตก"}
    )
    assert response.status_code == 302
    world.west.refresh_from_db()
    assert world.west.name == "ฝั่งตะวันตก"
    area.refresh_from_db()
    assert area.cluster_id == world.west.pk and area.ended_at is None
    overview = client.get(reverse("field-teams")).content.decode()
    assert "ฝั่งตะวันตก" in overview


def test_a_cluster_held_in_the_past_is_kept_empty_for_the_history(
    coordinator: User, world: FieldWorld, team_b: Team
) -> None:
    team_area_end(area=world.areas["b"], at=timezone.now())
    west, east = _codes(world.west), _codes(world.east)
    client = _client(coordinator)
    response = _post_names(client, world.split_b, {west: "ทั้งตำบล", east: "ทั้งตำบล"})
    assert response.status_code == 302
    world.west.refresh_from_db()
    assert world.west.area is None
    assert not Village.objects.filter(cluster=world.west).exists()
    assert not VillageCluster.objects.filter(pk=world.east.pk).exists()
    assert TeamArea.objects.filter(cluster=world.west).exists()
    # Neither page offers the empty cluster.
    page = client.get(_url(world.split_b)).context["found"]
    assert [row.cluster.name for row in page.clusters] == ["ทั้งตำบล"]
    team_page = client.get(reverse("field-team", args=[team_b.pk])).context["district"]
    names = [c.name for t in team_page.places for c in t.clusters]
    assert "ตะวันตก" not in names
    assert "ทั้งตำบล" in names
    # Its name, used again, brings it back with its id.
    response = _post_names(client, world.split_b, {west: "ตะวันตก", east: "ทั้งตำบล"})
    assert response.status_code == 302
    assert Village.objects.get(code=west).cluster_id == world.west.pk
    _assert_partition(world.split_b)
