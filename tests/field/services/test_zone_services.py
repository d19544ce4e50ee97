"""Volunteer zones, written through the services: preview then apply, moves and
locks by hand, the distance limit, stability after new cases, a volunteer who
leaves, and recruitment suggestions. The world is ``zone_world`` (tests/conftest.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from conftest import ZoneWorld, _zone_household
from django.contrib.auth.models import User
from django.db import connection
from django.utils import translation

from field.models import (
    Case,
    CaseStatus,
    CloseReason,
    Volunteer,
    ZoneAction,
    ZoneArea,
    ZoneAssignment,
    ZoneChange,
)
from field.services.zones import (
    ZoneRefused,
    ZonesChanged,
    zone_distance_set,
    zone_lock,
    zone_lock_volunteer,
    zone_metrics,
    zone_move,
    zones_apply,
    zones_preview,
    zones_rebuild,
)
from field.zone_selectors import Uncovered, beyond_reach, load_zones, recruitment, uncovered_reasons
from geo.algorithms.zones import BEYOND_REACH


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    # The messages are matched in English; the pages show them in Thai.
    with translation.override("en"):
        yield


def _current() -> dict[int, int]:
    return dict(
        ZoneAssignment.objects.filter(ended_at__isnull=True).values_list(
            "household_id", "volunteer_id"
        )
    )


def _beyond_by_postgis(world: ZoneWorld, limit_m: float) -> set[int]:
    """Households of the district farther than ``limit_m`` from every active
    volunteer's home, measured on the spheroid by PostGIS: an independent check
    of the builder's planar UTM distances."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT h.id FROM field_household h
            WHERE h.subdistrict_id = %s AND NOT EXISTS (
                SELECT 1 FROM field_volunteer v
                WHERE v.id IN %s AND ST_DWithin(h.point::geography, v.home::geography, %s))
            """,
            [world.tambon.code, (world.west.pk, world.east.pk), limit_m],
        )
        return {row[0] for row in cursor.fetchall()}


def test_preview_writes_nothing_and_applying_it_writes_exactly_it(
    zone_world: ZoneWorld, coordinator: User
) -> None:
    zones = load_zones(zone_world.district)
    preview = zones_preview(zones)

    assert ZoneAssignment.objects.count() == 0
    assert ZoneChange.objects.count() == 0
    shown = {m.household: m.after for m in preview.moves}
    assert {h.pk for h in zone_world.west_homes} <= {
        h for h, v in shown.items() if v == zone_world.west.pk
    }
    assert {h.pk for h in zone_world.east_homes} <= {
        h for h, v in shown.items() if v == zone_world.east.pk
    }
    assert preview.uncovered == {zone_world.far.pk: BEYOND_REACH}

    changed = zones_apply(
        district=zone_world.district,
        moves=[(m.household, m.after) for m in preview.moves],
        version=preview.version,
        by=coordinator,
    )

    assert _current() == {h: v for h, v in shown.items() if v is not None}
    assert changed == len(_current()) == 8
    log = ZoneChange.objects.filter(action=ZoneAction.REBALANCE)
    assert log.count() == 8
    assert set(log.values_list("by", flat=True)) == {coordinator.pk}
    assert ZoneArea.objects.get(district=zone_world.district).version == 1


def test_a_preview_made_before_another_change_is_refused(
    zone_world: ZoneWorld, coordinator: User
) -> None:
    preview = zones_preview(load_zones(zone_world.district))
    zone_distance_set(district=zone_world.district, max_distance_m=2500, by=coordinator)

    with pytest.raises(ZonesChanged):
        zones_apply(
            district=zone_world.district,
            moves=[(m.household, m.after) for m in preview.moves],
            version=preview.version,
            by=coordinator,
        )
    assert ZoneAssignment.objects.count() == 0


@pytest.mark.parametrize("limit_m", [3000, 2000, 1000, 150])
def test_uncovered_households_are_exactly_those_beyond_the_limit(
    zone_world: ZoneWorld, coordinator: User, limit_m: int
) -> None:
    zone_distance_set(district=zone_world.district, max_distance_m=limit_m, by=coordinator)
    zones = load_zones(zone_world.district)
    preview = zones_preview(zones)
    expected = _beyond_by_postgis(zone_world, limit_m)

    assert beyond_reach(zones) == expected
    assert {h for h, why in preview.uncovered.items() if why == BEYOND_REACH} == expected
    assert zone_world.far.pk in expected  # its only neighbour stopped volunteering
    if limit_m == 150:
        # 150 m reaches only the two or three houses beside each home.
        assert len(expected) > 3


def test_a_move_by_hand_is_locked_and_survives_a_rebalance(
    zone_world: ZoneWorld, coordinator: User
) -> None:
    zones_rebuild(district=zone_world.district, by=coordinator)
    moved = zone_world.west_homes[-1].pk

    zone_move(district=zone_world.district, households=[moved], to=zone_world.east, by=coordinator)

    row = ZoneAssignment.objects.get(household_id=moved, ended_at__isnull=True)
    assert (row.volunteer_id, row.locked) == (zone_world.east.pk, True)
    old = ZoneAssignment.objects.get(household_id=moved, ended_at__isnull=False)
    assert old.volunteer_id == zone_world.west.pk  # history kept
    change = ZoneChange.objects.get(action=ZoneAction.MOVE)
    assert (change.volunteer_from_id, change.volunteer_to_id, change.by_id) == (
        zone_world.west.pk,
        zone_world.east.pk,
        coordinator.pk,
    )
    preview = zones_preview(load_zones(zone_world.district))
    assert moved not in {m.household for m in preview.moves}


def test_a_move_beyond_the_limit_is_refused_and_names_the_distance(
    zone_world: ZoneWorld, coordinator: User
) -> None:
    with pytest.raises(ZoneRefused, match=r"5\.9 km .* limit of 3\.0 km"):
        zone_move(
            district=zone_world.district,
            households=[zone_world.far.pk],
            to=zone_world.east,
            by=coordinator,
        )
    assert ZoneAssignment.objects.count() == 0


def test_a_move_over_capacity_is_refused_whole(zone_world: ZoneWorld, coordinator: User) -> None:
    Volunteer.objects.filter(pk=zone_world.east.pk).update(capacity=5)
    east = Volunteer.objects.get(pk=zone_world.east.pk)
    zones_rebuild(district=zone_world.district, by=coordinator)
    before = _current()

    with pytest.raises(ZoneRefused, match="5"):
        zone_move(
            district=zone_world.district,
            households=[h.pk for h in zone_world.west_homes],
            to=east,
            by=coordinator,
        )
    assert _current() == before


def test_locked_households_and_zones_never_move(zone_world: ZoneWorld, coordinator: User) -> None:
    zones_rebuild(district=zone_world.district, by=coordinator)
    kept = zone_world.west_homes[0].pk
    zone_lock(district=zone_world.district, households=[kept], locked=True, by=coordinator)
    zone_lock_volunteer(
        district=zone_world.district, volunteer=zone_world.east, locked=True, by=coordinator
    )
    east_zone = {h for h, v in _current().items() if v == zone_world.east.pk}

    # The west volunteer can now follow one household only: the others must
    # leave, but the locked one stays, and the locked east zone takes none.
    Volunteer.objects.filter(pk=zone_world.west.pk).update(capacity=1)
    preview = zones_preview(load_zones(zone_world.district))

    moved = {m.household: m.after for m in preview.moves}
    assert kept not in moved
    assert set(moved) == {h.pk for h in zone_world.west_homes[1:]}
    assert set(moved.values()) == {None}  # no one else with room in reach
    assert not east_zone & set(moved)
    with pytest.raises(ZoneRefused, match="locked"):
        zone_move(
            district=zone_world.district, households=[kept], to=zone_world.east, by=coordinator
        )
    actions = list(ZoneChange.objects.values_list("action", flat=True))
    assert ZoneAction.LOCK in actions and ZoneAction.LOCK_ZONE in actions


def test_a_volunteer_who_leaves_hands_over_even_locked_households(
    zone_world: ZoneWorld, coordinator: User
) -> None:
    zones_rebuild(district=zone_world.district, by=coordinator)
    zone_lock(
        district=zone_world.district,
        households=[zone_world.west_homes[0].pk],
        locked=True,
        by=coordinator,
    )
    Volunteer.objects.filter(pk=zone_world.west.pk).update(active_to=dt.date(2025, 12, 31))

    preview = zones_preview(load_zones(zone_world.district))

    moved = {m.household: m for m in preview.moves}
    assert set(moved) == {h.pk for h in zone_world.west_homes}
    # East is 2.2 km away, within reach, with room: nobody is left without a volunteer.
    assert {m.after for m in moved.values()} == {zone_world.east.pk}
    assert all("no longer active" in m.reason for m in moved.values())


def test_new_cases_move_only_what_balance_needs(zone_world: ZoneWorld, coordinator: User) -> None:
    zones_rebuild(district=zone_world.district, by=coordinator)
    before = _current()
    point = zone_world.west_homes[1].point
    assert point is not None
    x, y = point.coords
    newcomer = _zone_household(zone_world.tambon, zone_world.west_village, x + 0.0003, y, 1)

    preview = zones_preview(load_zones(zone_world.district))

    changed = {m.household for m in preview.moves if m.before is not None}
    assert newcomer.pk in {m.household for m in preview.moves}
    # One new household in nine: at most one existing one changes hands with it.
    assert len(changed) <= 1
    assert preview.churn <= 0.15
    assert changed <= set(before)


def test_a_closed_case_releases_its_household(zone_world: ZoneWorld, coordinator: User) -> None:
    zones_rebuild(district=zone_world.district, by=coordinator)
    done = zone_world.east_homes[0]
    Case.objects.filter(child__household=done).update(
        status=CaseStatus.CLOSED,
        closed_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
        close_reason=CloseReason.FOUND_ENROLLED,
    )

    preview = zones_preview(load_zones(zone_world.district))
    release = [m for m in preview.moves if m.household == done.pk]

    assert [(m.before, m.after) for m in release] == [(zone_world.east.pk, None)]
    zones_apply(
        district=zone_world.district,
        moves=[(m.household, m.after) for m in preview.moves],
        version=preview.version,
        by=coordinator,
    )
    assert done.pk not in _current()
    assert ZoneChange.objects.filter(action=ZoneAction.RELEASE, household=done).exists()


def test_metrics_of_the_applied_zones(zone_world: ZoneWorld, coordinator: User) -> None:
    zones_rebuild(district=zone_world.district, by=coordinator)
    metrics = zone_metrics(load_zones(zone_world.district))

    loads: dict[int, int] = {}
    for household, volunteer in _current().items():
        loads[volunteer] = (
            loads.get(volunteer, 0)
            + Case.objects.filter(child__household_id=household, status=CaseStatus.OPEN).count()
        )
    mean = sum(loads.values()) / 2  # two active volunteers
    assert metrics.max_over_mean == pytest.approx(max(loads.values()) / mean)
    assert metrics.covered == pytest.approx(8 / 9)
    assert metrics.accounted == 1.0  # the far household is reported, beyond reach
    assert metrics.contiguous == 1.0
    assert metrics.max_distance <= 3000


def test_recruitment_covers_the_far_household(zone_world: ZoneWorld) -> None:
    zones = load_zones(zone_world.district)
    covered = {h.id for h in zones.households} - beyond_reach(zones)

    suggestion = recruitment(zones, 1, covered)

    assert suggestion.households_before == 8
    assert suggestion.households_after == 9 > suggestion.households_before
    assert [p.village for p in suggestion.picks] == [zone_world.far_village.code]


def test_a_volunteer_elsewhere_is_refused(
    zone_world: ZoneWorld, coordinator: User, persona_districts: tuple[object, object]
) -> None:
    from factories import VolunteerFactory, make

    stranger = make(VolunteerFactory, name="นางอาสา อำเภออื่น")
    with pytest.raises(ZoneRefused):
        zone_move(
            district=zone_world.district,
            households=[zone_world.west_homes[0].pk],
            to=stranger,
            by=coordinator,
        )


def test_households_in_no_zone_say_why(zone_world: ZoneWorld, coordinator: User) -> None:
    zones_rebuild(district=zone_world.district, by=coordinator)
    point = zone_world.west_homes[0].point
    assert point is not None
    x, y = point.coords
    newcomer = _zone_household(zone_world.tambon, zone_world.west_village, x, y + 0.0005, 1)

    # Both volunteers have room: the newcomer waits for a rebalance.
    assert uncovered_reasons(load_zones(zone_world.district)) == {
        zone_world.far.pk: Uncovered.BEYOND,
        newcomer.pk: Uncovered.WAITING,
    }
    assert zone_metrics(load_zones(zone_world.district)).accounted == pytest.approx(9 / 10)

    Volunteer.objects.filter(pk__in=[zone_world.west.pk, zone_world.east.pk]).update(capacity=4)
    zones = load_zones(zone_world.district)
    assert uncovered_reasons(zones)[newcomer.pk] == Uncovered.FULL
    assert zone_metrics(zones).accounted == 1.0
    # The builder agrees: no one can take it.
    assert zones_preview(zones).uncovered[newcomer.pk] == "every volunteer in reach is full"
