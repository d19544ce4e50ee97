"""Two coordinators editing one thing at once: optimistic locking of team
assignments (``TeamPlaceVersion``), volunteer zones (``ZoneArea.version``) and
volunteers (``Volunteer.version``). The second writer, holding the version the
first has moved on from, gets a conflict naming who changed what and when, and
nothing of theirs is written."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import FieldWorld, ZoneWorld, _persona
from django.contrib.auth.models import User
from django.utils import translation
from factories import TeamFactory, make

from field.models import (
    AuditAction,
    AuditEvent,
    Role,
    Team,
    TeamArea,
    TeamPlaceVersion,
    Volunteer,
    ZoneArea,
    ZoneAssignment,
)
from field.services.conflicts import ConflictError
from field.services.teams import TeamAreaChanged, team_area_assign, team_area_end
from field.services.volunteers import VolunteerChanged, volunteer_update
from field.services.zones import (
    ZonesChanged,
    zone_distance_set,
    zone_lock,
    zone_lock_volunteer,
    zone_move,
    zones_rebuild,
)
from field.zone_selectors import load_zones
from geo.models import District, Province, Subdistrict

Districts = tuple[District, District]


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture
def second(persona_province: Province, persona_districts: Districts) -> User:
    """Another coordinator of the same province and districts."""
    user = _persona("coordinator_2", Role.COORDINATOR, persona_province, persona_districts)
    user.first_name, user.last_name = "สมหญิง", "ใจดี"
    user.save()
    return user


@pytest.fixture
def rivals(field_world: FieldWorld, persona_districts: Districts, team_b: Team) -> Team:
    """Team B placed in district B, and team C beside it."""
    team_b.district = persona_districts[1]
    team_b.save()
    return make(TeamFactory, name="ทีมค้นหา ค", district=persona_districts[1])


def _version(tambon: Subdistrict) -> int:
    row = TeamPlaceVersion.objects.filter(subdistrict=tambon).first()
    return row.version if row else 0


# --- team assignments ----------------------------------------------------------------------


def test_the_second_assignment_of_a_place_on_an_old_page_is_a_conflict(
    field_world: FieldWorld, rivals: Team, team_b: Team, coordinator: User, second: User
) -> None:
    shown = _version(field_world.split_b)  # both coordinators' pages show this

    first = team_area_assign(
        team=team_b,
        subdistrict=field_world.split_b,
        cluster=field_world.east,
        by=coordinator,
        expected_version=shown,
    )
    with pytest.raises(TeamAreaChanged) as refused:
        team_area_assign(
            team=rivals,
            subdistrict=field_world.split_b,
            cluster=field_world.east,
            by=second,
            expected_version=shown,
        )

    assert refused.value.by == coordinator
    assert refused.value.at is not None
    assert refused.value.version == shown + 1
    assert coordinator.get_full_name() in str(refused.value)
    assert field_world.split_b.name_th in str(refused.value)
    current = TeamArea.objects.get(cluster=field_world.east, ended_at__isnull=True)
    assert current == first and current.team == team_b
    assert _version(field_world.split_b) == shown + 1


def test_ending_an_area_another_coordinator_just_reassigned_is_a_conflict(
    field_world: FieldWorld, rivals: Team, team_b: Team, coordinator: User, second: User
) -> None:
    held = field_world.areas["b"]  # team B's west cluster
    shown = _version(field_world.split_b)

    team_area_end(area=held, by=coordinator, expected_version=shown)
    again = team_area_assign(
        team=rivals,
        subdistrict=field_world.split_b,
        cluster=field_world.west,
        by=coordinator,
        expected_version=shown + 1,
    )
    stale = TeamArea.objects.get(pk=held.pk)
    with pytest.raises(TeamAreaChanged):
        team_area_end(area=stale, by=second, expected_version=shown)
    with pytest.raises(TeamAreaChanged):
        team_area_end(area=again, by=second, expected_version=shown)

    again.refresh_from_db()
    assert again.ended_at is None and again.team == rivals
    # With the current version, the second coordinator's end goes through.
    team_area_end(area=again, by=second, expected_version=_version(field_world.split_b))
    again.refresh_from_db()
    assert again.ended_at is not None


def test_an_assignment_ended_twice_is_ended_once(
    field_world: FieldWorld, rivals: Team, coordinator: User, second: User
) -> None:
    held = field_world.areas["b"]
    copy = TeamArea.objects.get(pk=held.pk)  # loaded by the other coordinator

    team_area_end(area=held, by=coordinator)
    ended_at = TeamArea.objects.get(pk=held.pk).ended_at
    team_area_end(area=copy, by=second)

    assert TeamArea.objects.get(pk=held.pk).ended_at == ended_at
    events = AuditEvent.objects.filter(action=AuditAction.UNASSIGN, obj_id=held.pk)
    assert list(events.values_list("user_id", flat=True)) == [coordinator.pk]


def test_a_conflict_is_a_conflict_error_and_callers_without_a_version_still_work(
    field_world: FieldWorld, rivals: Team, coordinator: User
) -> None:
    assert issubclass(TeamAreaChanged, ConflictError)
    assert issubclass(ZonesChanged, ConflictError)
    assert issubclass(VolunteerChanged, ConflictError)
    area = team_area_assign(
        team=rivals, subdistrict=field_world.split_b, cluster=field_world.east, by=coordinator
    )
    assert area.ended_at is None


# --- volunteer zones -----------------------------------------------------------------------


def _zone_version(world: ZoneWorld) -> int:
    return ZoneArea.objects.get(district=world.district).version


def test_a_lock_on_an_old_zones_page_is_refused_after_another_move(
    zone_world: ZoneWorld, coordinator: User, second: User
) -> None:
    zones_rebuild(district=zone_world.district, by=coordinator)
    shown = load_zones(zone_world.district).version
    home = zone_world.west_homes[-1].pk

    zone_move(
        district=zone_world.district,
        households=[home],
        to=zone_world.east,
        by=coordinator,
        expected_version=shown,
    )
    with pytest.raises(ZonesChanged) as refused:
        zone_move(
            district=zone_world.district,
            households=[home],
            to=zone_world.west,
            by=second,
            expected_version=shown,
        )
    with pytest.raises(ZonesChanged):
        zone_lock(
            district=zone_world.district,
            households=[zone_world.west_homes[0].pk],
            locked=True,
            by=second,
            expected_version=shown,
        )

    assert refused.value.by == coordinator
    assert refused.value.version == shown + 1
    current = ZoneAssignment.objects.get(household_id=home, ended_at__isnull=True)
    assert current.volunteer_id == zone_world.east.pk
    assert not ZoneAssignment.objects.get(
        household=zone_world.west_homes[0], ended_at__isnull=True
    ).locked
    assert _zone_version(zone_world) == shown + 1

    # Reloaded, the second coordinator's lock goes through.
    assert (
        zone_lock(
            district=zone_world.district,
            households=[zone_world.west_homes[0].pk],
            locked=True,
            by=second,
            expected_version=shown + 1,
        )
        == 1
    )


def test_zone_locks_and_the_distance_limit_on_an_old_page_are_refused(
    zone_world: ZoneWorld, coordinator: User, second: User
) -> None:
    zones_rebuild(district=zone_world.district, by=coordinator)
    shown = _zone_version(zone_world)
    zone_distance_set(
        district=zone_world.district, max_distance_m=2500, by=coordinator, expected_version=shown
    )

    with pytest.raises(ZonesChanged):
        zone_distance_set(
            district=zone_world.district, max_distance_m=4000, by=second, expected_version=shown
        )
    with pytest.raises(ZonesChanged):
        zone_lock_volunteer(
            district=zone_world.district,
            volunteer=zone_world.east,
            locked=True,
            by=second,
            expected_version=shown,
        )

    area = ZoneArea.objects.get(district=zone_world.district)
    assert (area.max_distance_m, area.version, area.updated_by) == (2500, shown + 1, coordinator)
    assert not Volunteer.objects.get(pk=zone_world.east.pk).zone_locked


# --- volunteers ------------------------------------------------------------------------------


def _edit(volunteer: Volunteer, name: str, by: User, version: int | None) -> Volunteer:
    return volunteer_update(
        volunteer=volunteer,
        name=name,
        home=volunteer.home,
        kind=volunteer.kind,
        active_from=volunteer.active_from,
        active_to=volunteer.active_to,
        phone=volunteer.phone,
        village=volunteer.village,
        capacity=volunteer.capacity,
        by=by,
        expected_version=version,
    )


def test_a_volunteer_saved_over_another_edit_is_refused(
    zone_world: ZoneWorld, coordinator: User, second: User
) -> None:
    first_copy = Volunteer.objects.get(pk=zone_world.east.pk)
    second_copy = Volunteer.objects.get(pk=zone_world.east.pk)
    shown = first_copy.version

    _edit(first_copy, "นางอาสา ชื่อใหม่", coordinator, shown)
    with pytest.raises(VolunteerChanged) as refused:
        _edit(second_copy, "นางอาสา ชื่อเก่า", second, shown)

    assert refused.value.by == coordinator
    saved = Volunteer.objects.get(pk=zone_world.east.pk)
    assert (saved.name, saved.version, saved.updated_by) == (
        "นางอาสา ชื่อใหม่",
        shown + 1,
        coordinator,
    )
    _edit(saved, "นางอาสา ชื่อที่สาม", second, shown + 1)
    assert Volunteer.objects.get(pk=zone_world.east.pk).name == "นางอาสา ชื่อที่สาม"


def test_a_volunteer_edit_does_not_put_back_a_zone_lock(
    zone_world: ZoneWorld, coordinator: User, second: User
) -> None:
    loaded = Volunteer.objects.get(pk=zone_world.east.pk)
    zone_lock_volunteer(
        district=zone_world.district, volunteer=zone_world.east, locked=True, by=coordinator
    )

    _edit(loaded, "นางอาสา ตะวันออก", second, loaded.version)

    assert Volunteer.objects.get(pk=zone_world.east.pk).zone_locked
