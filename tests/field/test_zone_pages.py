"""The coordinator's volunteer-zone page: who may open it, what it shows, its
actions, and a query count that does not grow with the district."""

from __future__ import annotations

import pytest
from conftest import ZoneWorld, _zone_household
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from field.models import Volunteer, ZoneAction, ZoneAssignment, ZoneChange
from field.services.zones import zones_rebuild
from geo.algorithms.zones import BEYOND_REACH
from geo.models import District


def _url(world: ZoneWorld) -> str:
    return reverse("field-zones", args=[world.district.code])


@pytest.mark.parametrize("persona", ["official", "member_a", "volunteer"])
def test_only_those_who_manage_may_open_it(
    zone_world: ZoneWorld, client: Client, persona: str, request: pytest.FixtureRequest
) -> None:
    client.force_login(request.getfixturevalue(persona))
    assert client.get(_url(zone_world)).status_code == 403
    assert client.post(_url(zone_world), {"action": "preview"}).status_code == 403


def test_a_district_outside_the_scope_is_not_found(
    zone_world: ZoneWorld, client: Client, coordinator: User
) -> None:
    client.force_login(coordinator)
    assert client.get(reverse("field-zones", args=["1001"])).status_code == 404
    assert client.get(reverse("field-zones", args=["bad"])).status_code == 404


def test_the_page_shows_volunteers_loads_and_the_uncovered(
    zone_world: ZoneWorld, client: Client, coordinator: User
) -> None:
    zones_rebuild(district=zone_world.district, by=coordinator)
    client.force_login(coordinator)

    response = client.get(_url(zone_world))

    assert response.status_code == 200
    html = response.content.decode()
    assert zone_world.west.name in html and zone_world.east.name in html
    data = response.context["page_data"]
    uncovered = [h["id"] for h in data["households"] if h["volunteer"] is None]
    assert uncovered == [zone_world.far.pk]
    assert [h["beyond"] for h in data["households"] if h["id"] == zone_world.far.pk] == [True]
    assert len(data["zones"]) == 2
    loads = {v.id: (v.households, v.cases) for v, _colour in response.context["volunteers"]}
    assert loads[zone_world.west.pk] == (4, 5)  # the first west household has two cases
    assert loads[zone_world.east.pk] == (4, 4)
    assert response.context["metrics"].covered == pytest.approx(8 / 9)
    assert f'data-household="{zone_world.far.pk}" data-reason="beyond"' in html


def test_preview_then_apply(zone_world: ZoneWorld, client: Client, coordinator: User) -> None:
    client.force_login(coordinator)

    preview = client.post(_url(zone_world), {"action": "preview"})

    assert preview.status_code == 200
    assert ZoneAssignment.objects.count() == 0
    moves = preview.context["moves"]
    # Eight households placed; the far one stays in no zone, so it is no change.
    assert len(moves) == 8
    assert preview.context["preview"].uncovered == {zone_world.far.pk: BEYOND_REACH}
    html = preview.content.decode()
    assert 'name="move"' in html and 'id="preview-moves"' in html

    applied = client.post(
        _url(zone_world),
        {"action": "apply", "version": "0", "move": [m["value"] for m in moves]},
        follow=True,
    )

    assert ZoneAssignment.objects.filter(ended_at__isnull=True).count() == 8
    assert "8" in applied.content.decode()
    again = client.post(
        _url(zone_world),
        {"action": "apply", "version": "0", "move": [m["value"] for m in moves]},
        follow=True,
    )
    assert ZoneChange.objects.filter(action=ZoneAction.REBALANCE).count() == 8
    assert [m.level_tag for m in again.context["messages"]] == ["error"]


def test_move_a_cluster_then_lock_and_unlock_a_zone(
    zone_world: ZoneWorld, client: Client, coordinator: User
) -> None:
    zones_rebuild(district=zone_world.district, by=coordinator)
    client.force_login(coordinator)

    client.post(
        _url(zone_world),
        {
            "action": "move",
            "cluster": str(zone_world.clusters["east"].pk),
            "volunteer": str(zone_world.west.pk),
        },
    )
    east_homes = {h.pk for h in zone_world.east_homes}
    rows = ZoneAssignment.objects.filter(household_id__in=east_homes, ended_at__isnull=True)
    assert {(r.volunteer_id, r.locked) for r in rows} == {(zone_world.west.pk, True)}

    client.post(_url(zone_world), {"action": "lock_zone", "volunteer": str(zone_world.east.pk)})
    zone_world.east.refresh_from_db()
    assert zone_world.east.zone_locked
    client.post(_url(zone_world), {"action": "unlock_zone", "volunteer": str(zone_world.east.pk)})
    zone_world.east.refresh_from_db()
    assert not zone_world.east.zone_locked

    picked = ",".join(str(h.pk) for h in zone_world.west_homes[:2])
    client.post(_url(zone_world), {"action": "unlock", "households": picked})
    assert (
        ZoneAssignment.objects.filter(
            household_id__in=[h.pk for h in zone_world.west_homes[:2]],
            ended_at__isnull=True,
            locked=True,
        ).count()
        == 0
    )
    assert ZoneChange.objects.filter(action=ZoneAction.MOVE).count() == 4


def test_a_refused_move_shows_why(zone_world: ZoneWorld, client: Client, coordinator: User) -> None:
    client.force_login(coordinator)

    response = client.post(
        _url(zone_world),
        {
            "action": "move",
            "households": str(zone_world.far.pk),
            "volunteer": str(zone_world.east.pk),
        },
        follow=True,
    )

    errors = [str(m) for m in response.context["messages"] if m.level_tag == "error"]
    # In Thai, as the page speaks: 5.9 km from the nearer home.
    assert len(errors) == 1 and "5.9 กม." in errors[0]
    assert ZoneAssignment.objects.count() == 0


def test_the_distance_limit(zone_world: ZoneWorld, client: Client, coordinator: User) -> None:
    client.force_login(coordinator)

    client.post(_url(zone_world), {"action": "distance", "max_distance_km": "2.5"}, follow=True)
    bad = client.post(
        _url(zone_world), {"action": "distance", "max_distance_km": "45"}, follow=True
    )

    assert client.get(_url(zone_world)).context["zones"].max_distance_m == 2500
    assert [m.level_tag for m in bad.context["messages"]] == ["error"]
    change = ZoneChange.objects.get(action=ZoneAction.SETTINGS)
    assert change.detail == "3000 → 2500 m"


def test_recruitment_on_the_page(zone_world: ZoneWorld, client: Client, coordinator: User) -> None:
    client.force_login(coordinator)

    response = client.get(_url(zone_world), {"recruit": "1"})

    recruited = response.context["recruited"]
    assert recruited.households_after > recruited.households_before
    assert zone_world.far_village.name in response.content.decode()


def test_the_index_lists_the_district(
    zone_world: ZoneWorld, client: Client, coordinator: User
) -> None:
    client.force_login(coordinator)
    response = client.get(reverse("field-zone-index"))
    # Two districts in the coordinator's area: a list, not a redirect.
    assert response.status_code == 200
    assert reverse("field-zones", args=[zone_world.district.code]) in response.content.decode()


def test_query_count_does_not_grow_with_the_district(
    zone_world: ZoneWorld, client: Client, coordinator: User
) -> None:
    zones_rebuild(district=zone_world.district, by=coordinator)
    client.force_login(coordinator)
    client.get(_url(zone_world))
    with CaptureQueriesContext(connection) as small:
        client.get(_url(zone_world))
    point = zone_world.east_homes[0].point
    assert point is not None
    x, y = point.coords
    for i in range(30):
        _zone_household(zone_world.tambon, zone_world.east_village, x + i * 0.0001, y + 0.001, 1)
    zones_rebuild(district=zone_world.district, by=coordinator)
    with CaptureQueriesContext(connection) as large:
        response = client.get(_url(zone_world))

    assert len(response.context["zones"].households) == 39
    assert len(large) == len(small)


def _volunteer_form(world: ZoneWorld, **changes: str) -> dict[str, str]:
    form = {
        "name": "นางสาวอาสา ใหม่",
        "phone": "0812345678",
        "kind": "alumnus",
        "village": world.far_village.code,
        "capacity": "12",
        "active_from": "2026-06-01",
        "active_to": "",
        "lat": f"{world.far_village.point.y:.6f}",
        "lon": f"{world.far_village.point.x:.6f}",
    }
    form.update(changes)
    return form


def test_a_coordinator_adds_a_volunteer_who_then_covers_the_far_household(
    zone_world: ZoneWorld, client: Client, coordinator: User
) -> None:
    client.force_login(coordinator)
    url = reverse("field-volunteer-new", args=[zone_world.district.code])

    response = client.post(url, _volunteer_form(zone_world))

    assert response.status_code == 302
    added = Volunteer.objects.get(name="นางสาวอาสา ใหม่")
    assert (added.capacity, added.kind, added.village_id) == (
        12,
        "alumnus",
        zone_world.far_village.code,
    )
    assert added.home.distance(zone_world.far_village.point) < 1e-6
    preview = client.post(_url(zone_world), {"action": "preview"}).context["preview"]
    assert preview.uncovered == {}
    assert {m.household: m.after for m in preview.moves}[zone_world.far.pk] == added.pk


def test_a_volunteer_form_names_each_bad_field(
    zone_world: ZoneWorld, client: Client, coordinator: User
) -> None:
    client.force_login(coordinator)
    url = reverse("field-volunteer-new", args=[zone_world.district.code])

    response = client.post(
        url,
        _volunteer_form(zone_world, phone="12345", active_to="2026-01-01", lat="", capacity="0"),
    )

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {"phone", "active_to", "lat", "capacity"}
    assert not Volunteer.objects.filter(name="นางสาวอาสา ใหม่").exists()


def test_editing_a_volunteer_of_another_district_is_not_found(
    zone_world: ZoneWorld,
    client: Client,
    coordinator: User,
    persona_districts: tuple[District, District],
) -> None:
    client.force_login(coordinator)
    other = persona_districts[1].code
    own = reverse("field-volunteer-edit", args=[zone_world.district.code, zone_world.east.pk])
    elsewhere = reverse("field-volunteer-edit", args=[other, zone_world.east.pk])

    assert client.get(own).status_code == 200
    assert client.get(elsewhere).status_code == 404
    response = client.post(own, _volunteer_form(zone_world, name="นางอาสา ย้ายบ้าน", capacity="3"))
    assert response.status_code == 302
    zone_world.east.refresh_from_db()
    assert (zone_world.east.name, zone_world.east.capacity) == ("นางอาสา ย้ายบ้าน", 3)
