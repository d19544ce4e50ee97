"""Two coordinators on one page at once: the first saves, the second's save from
the page they loaded earlier gets HTTP 409, the conflict (who, when) and the
page as it stands now, and the database keeps the first's change. Team places,
volunteer zones and the volunteer form."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import FieldWorld, ZoneWorld, _persona
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from factories import TeamFactory, make

from field.models import Role, Team, TeamArea, Volunteer, ZoneArea, ZoneAssignment
from field.services.zones import zones_rebuild
from geo.models import District, Province

pytestmark = pytest.mark.django_db
Districts = tuple[District, District]


def _client(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


@pytest.fixture
def second(persona_province: Province, persona_districts: Districts) -> User:
    user = _persona("coordinator_2", Role.COORDINATOR, persona_province, persona_districts)
    user.first_name, user.last_name = "สมหญิง", "ใจดี"
    user.save()
    return user


@pytest.fixture
def rivals(field_world: FieldWorld, persona_districts: Districts, team_b: Team) -> Team:
    team_b.district = persona_districts[1]
    team_b.save()
    return make(TeamFactory, name="ทีมค้นหา ค", district=persona_districts[1])


def _tambon_version(response: Any, code: str) -> str:
    html: str = response.content.decode()
    marker = f'name="version-{code}" value="'
    assert marker in html
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


# --- team places -----------------------------------------------------------------------------


def test_a_place_assigned_from_an_old_team_page_is_a_409_and_the_first_stays(
    field_world: FieldWorld, rivals: Team, team_b: Team, coordinator: User, second: User
) -> None:
    first, other = _client(coordinator), _client(second)
    code = field_world.split_b.code
    first_page = first.get(reverse("field-team", args=[team_b.pk]))
    second_page = other.get(reverse("field-team", args=[rivals.pk]))
    shown = _tambon_version(second_page, code)
    assert _tambon_version(first_page, code) == shown

    saved = first.post(
        reverse("field-team", args=[team_b.pk]),
        {"assign": f"c{field_world.east.pk}", f"version-{code}": shown},
    )
    refused = other.post(
        reverse("field-team", args=[rivals.pk]),
        {"assign": f"c{field_world.east.pk}", f"version-{code}": shown},
    )

    assert saved.status_code == 302
    assert refused.status_code == 409
    html = refused.content.decode()
    assert "ถูกแก้ไขโดย " + coordinator.get_full_name() in html  # Thai first
    assert 'role="alert"' in html
    # The page shows the place as it stands: team B holds the east cluster now,
    # and it carries the new version.
    assert f'name="end" value="{TeamArea.objects.get(cluster=field_world.east).pk}"' in html
    assert _tambon_version(refused, code) == str(int(shown) + 1)
    current = TeamArea.objects.get(cluster=field_world.east, ended_at__isnull=True)
    assert current.team == team_b and current.assigned_by == coordinator


def test_ending_from_an_old_page_what_another_reassigned_is_a_409(
    field_world: FieldWorld, rivals: Team, team_b: Team, coordinator: User, second: User
) -> None:
    first, other = _client(coordinator), _client(second)
    code = field_world.split_b.code
    url = reverse("field-team", args=[team_b.pk])
    shown = _tambon_version(other.get(url), code)
    held = field_world.areas["b"]

    first.post(url, {"end": str(held.pk), f"version-{code}": shown})
    first.post(
        reverse("field-team", args=[rivals.pk]),
        {"assign": f"c{field_world.west.pk}", f"version-{code}": str(int(shown) + 1)},
    )
    refused = other.post(url, {"end": str(held.pk), f"version-{code}": shown})

    assert refused.status_code == 409
    assert TeamArea.objects.get(cluster=field_world.west, ended_at__isnull=True).team == rivals

    # Reloaded, the second coordinator ends the new assignment.
    fresh = _tambon_version(other.get(url), code)
    now = TeamArea.objects.get(cluster=field_world.west, ended_at__isnull=True)
    assert other.post(url, {"end": str(now.pk), f"version-{code}": fresh}).status_code == 302
    now.refresh_from_db()
    assert now.ended_at is not None


# --- volunteer zones -------------------------------------------------------------------------


def test_a_zone_change_from_an_old_zones_page_is_a_409_and_the_first_stays(
    zone_world: ZoneWorld, coordinator: User, second: User
) -> None:
    zones_rebuild(district=zone_world.district, by=coordinator)
    first, other = _client(coordinator), _client(second)
    url = reverse("field-zones", args=[zone_world.district.code])
    shown = str(first.get(url).context["zones"].version)
    assert str(other.get(url).context["zones"].version) == shown
    home = zone_world.west_homes[-1].pk

    moved = first.post(
        url,
        {
            "action": "move",
            "households": str(home),
            "volunteer": str(zone_world.east.pk),
            "version": shown,
        },
    )
    refused = other.post(
        url,
        {"action": "lock", "households": str(zone_world.west_homes[0].pk), "version": shown},
    )

    assert moved.status_code == 302
    assert refused.status_code == 409
    html = refused.content.decode()
    assert "ถูกแก้ไขโดย " + coordinator.get_full_name() in html  # Thai first
    assert [m.level_tag for m in refused.context["messages"]] == ["error"]
    households = {h["id"]: h for h in refused.context["page_data"]["households"]}
    assert households[home]["volunteer"] == zone_world.east.pk  # the page shows the move
    assert f'name="version" value="{int(shown) + 1}"' in html
    assert not ZoneAssignment.objects.get(
        household=zone_world.west_homes[0], ended_at__isnull=True
    ).locked
    for action in (
        {"action": "lock_zone", "volunteer": str(zone_world.east.pk)},
        {"action": "distance", "max_distance_km": "9"},
    ):
        assert other.post(url, {**action, "version": shown}).status_code == 409
    area = ZoneArea.objects.get(district=zone_world.district)
    assert area.version == int(shown) + 1 and area.max_distance_m != 9000

    again = other.post(
        url,
        {
            "action": "lock",
            "households": str(zone_world.west_homes[0].pk),
            "version": str(int(shown) + 1),
        },
    )
    assert again.status_code == 302
    assert ZoneAssignment.objects.get(
        household=zone_world.west_homes[0], ended_at__isnull=True
    ).locked


# --- the volunteer form ----------------------------------------------------------------------


def _form(world: ZoneWorld, name: str, version: str) -> dict[str, str]:
    east = world.east
    return {
        "name": name,
        "phone": "",
        "kind": east.kind,
        "village": world.east_village.code,
        "capacity": str(east.capacity),
        "active_from": east.active_from.isoformat(),
        "active_to": "",
        "lat": f"{east.home.y:.6f}",
        "lon": f"{east.home.x:.6f}",
        "version": version,
    }


def test_a_volunteer_saved_from_an_old_form_is_a_409_and_the_first_stays(
    zone_world: ZoneWorld, coordinator: User, second: User
) -> None:
    first, other = _client(coordinator), _client(second)
    url = reverse("field-volunteer-edit", args=[zone_world.district.code, zone_world.east.pk])
    shown = str(first.get(url).context["form"].initial["version"])
    assert 'type="hidden" name="version" value="' + shown in other.get(url).content.decode()

    saved = first.post(url, _form(zone_world, "นางอาสา ชื่อแรก", shown))
    refused = other.post(url, _form(zone_world, "นางอาสา ชื่อที่สอง", shown))

    assert saved.status_code == 302
    assert refused.status_code == 409
    html = refused.content.decode()
    assert 'id="conflict"' in html and coordinator.get_full_name() in html
    assert 'value="นางอาสา ชื่อแรก"' in html  # the form shows what is saved now
    assert Volunteer.objects.get(pk=zone_world.east.pk).name == "นางอาสา ชื่อแรก"

    fresh = str(refused.context["form"].initial["version"])
    assert other.post(url, _form(zone_world, "นางอาสา ชื่อที่สอง", fresh)).status_code == 302
    assert Volunteer.objects.get(pk=zone_world.east.pk).name == "นางอาสา ชื่อที่สอง"


def test_a_proposal_accepted_after_another_change_in_the_district_is_a_409(
    field_world: FieldWorld, rivals: Team, team_b: Team, coordinator: User, second: User
) -> None:
    first, other = _client(coordinator), _client(second)
    code = field_world.split_b.code
    url = reverse("field-team-propose", args=[field_world.split_b.district_id])
    versions = dict(other.get(url).context["versions"])
    assert code in versions

    first.post(
        reverse("field-team", args=[team_b.pk]),
        {"assign": f"c{field_world.east.pk}", f"version-{code}": str(versions[code])},
    )
    refused = other.post(
        url,
        {
            "unit": [f"c{field_world.west.pk}:{rivals.pk}", f"c{field_world.east.pk}:{rivals.pk}"],
            **{f"version-{c}": str(v) for c, v in versions.items()},
        },
    )

    assert refused.status_code == 409
    assert coordinator.get_full_name() in refused.content.decode()
    held = TeamArea.objects.filter(subdistrict=field_world.split_b, ended_at__isnull=True)
    assert {(a.cluster_id, a.team_id) for a in held} == {
        (field_world.west.pk, team_b.pk),
        (field_world.east.pk, team_b.pk),
    }
    assert dict(refused.context["versions"])[code] == versions[code] + 1
