"""Children found living elsewhere, and children found twice: one case follows the
child to its new home, and two cases of one child wait for a coordinator."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from conftest import FieldWorld
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone

from field.models import (
    Case,
    CaseLink,
    CaseStatus,
    CloseReason,
    Household,
    Precision,
    Team,
    TeamArea,
    Visit,
)
from field.registry.ids import national_id_check_digit
from field.selectors import get_team_case, team_cases
from field.services.cases import case_link_resolve
from field.services.reconcile import reconcile
from field.services.sync import UploadStatus, VisitUpload, visits_upload
from field.team_selectors import teams_overview
from geo.boundaries import rebuild_subdistrict_cells

pytestmark = pytest.mark.django_db

MOVED = "moved_away"


@pytest.fixture
def world(field_world: FieldWorld) -> FieldWorld:
    """field_world, with its tambons cut into the reverse geocoder's grid cells."""
    rebuild_subdistrict_cells([field_world.whole_a.code, field_world.split_b.code])
    # Assigned a month ago, so that visits recorded hours ago fall inside the assignments.
    TeamArea.objects.update(assigned_at=timezone.now() - dt.timedelta(days=30))
    return field_world


def _west(world: FieldWorld) -> tuple[float, float]:
    """A point in team B's west cluster, away from its edge."""
    x0, y0, x1, y1 = world.split_b.geom.extent
    return x0 + 0.0015, (y0 + y1) / 2 + 0.001


def _east(world: FieldWorld) -> tuple[float, float]:
    """A point in the east cluster, which no team holds."""
    x0, y0, x1, y1 = world.split_b.geom.extent
    return x1 - 0.0015, (y0 + y1) / 2 + 0.001


def _upload(case: Case, at: dt.datetime | None = None, **fields: object) -> VisitUpload:
    return VisitUpload(
        client_id=fields.pop("client_id", uuid.uuid4()),  # type: ignore[arg-type]
        case=case.pk,
        at=at or timezone.now(),
        outcome=str(fields.pop("outcome", "not_found")),
        **fields,  # type: ignore[arg-type]
    )


def _ids(user: User) -> set[int]:
    return set(team_cases(user).values_list("pk", flat=True))


def _national_id(first12: str) -> str:
    return first12 + str(national_id_check_digit(first12))


# --- moved children ------------------------------------------------------------------------


def test_moved_into_team_bs_area_the_case_leaves_a_and_is_bs(
    world: FieldWorld, member_a: User, member_b: User, team_a: Team
) -> None:
    case = world.cases_a[0]
    registry = case.child.household
    earlier = timezone.now() - dt.timedelta(hours=2)
    lon, lat = _west(world)
    results = visits_upload(
        user=member_a,
        visits=[
            _upload(case, earlier),
            _upload(case, outcome=MOVED, moved_lon=lon, moved_lat=lat, detail="ไปอยู่กับยาย"),
        ],
    )
    assert [r.status for r in results] == [UploadStatus.SAVED, UploadStatus.SAVED]

    assert case.pk not in _ids(member_a)
    with pytest.raises(Http404):
        get_team_case(member_a, case.pk)
    assert case.pk in _ids(member_b)
    assert get_team_case(member_b, case.pk).pk == case.pk
    case.refresh_from_db()
    assert Case.objects.filter(child=case.child).count() == 1
    # Team A's visits stay on the case, recorded as team A's work.
    visits = list(Visit.objects.filter(case=case).order_by("at"))
    assert [(v.outcome, v.team_id) for v in visits] == [
        ("not_found", team_a.pk),
        (MOVED, team_a.pk),
    ]
    home = case.whereabouts
    assert home is not None and visits[1].moved_to_id == home.pk
    assert (home.subdistrict_id, home.precision) == (world.split_b.code, Precision.FIELD_GPS)
    assert home.village_id is not None and home.address == "ไปอยู่กับยาย"
    assert home.point is not None and home.point.x == pytest.approx(lon)
    # The registry's household is left as registered.
    registry_now = Household.objects.get(pk=registry.pk)
    assert (registry_now.point, registry_now.precision) == (registry.point, registry.precision)


def test_a_visit_recorded_before_the_move_is_still_accepted_after_it(
    world: FieldWorld, member_a: User, member_b: User, team_a: Team, team_b: Team
) -> None:
    case = world.cases_a[0]
    before = timezone.now() - dt.timedelta(hours=3)
    lon, lat = _west(world)
    moved_at = timezone.now() - dt.timedelta(hours=1)
    [moved] = visits_upload(
        user=member_a,
        visits=[_upload(case, moved_at, outcome=MOVED, moved_lon=lon, moved_lat=lat)],
    )
    assert moved.status == UploadStatus.SAVED
    # Another tablet of team A, offline since before the move, comes back.
    [late] = visits_upload(user=member_a, visits=[_upload(case, before)])
    assert late.status == UploadStatus.SAVED and late.visit is not None
    assert Visit.objects.get(pk=late.visit).team_id == team_a.pk
    # After the move the case is team B's: team A's new visits are refused, B's kept.
    [after] = visits_upload(user=member_a, visits=[_upload(case)])
    assert after.status == UploadStatus.REFUSED
    [by_b] = visits_upload(user=member_b, visits=[_upload(case, outcome="found_at_address")])
    assert by_b.status == UploadStatus.SAVED and by_b.visit is not None
    assert Visit.objects.get(pk=by_b.visit).team_id == team_b.pk


def test_moved_to_a_place_no_team_holds_shows_among_the_unassigned(
    world: FieldWorld, member_a: User, member_b: User, coordinator: User
) -> None:
    case = world.cases_a[0]
    lon, lat = _east(world)
    [result] = visits_upload(
        user=member_a,
        visits=[_upload(case, outcome="found_elsewhere", moved_lon=lon, moved_lat=lat)],
    )
    assert result.status == UploadStatus.SAVED
    assert case.pk not in _ids(member_a) | _ids(member_b)
    overview = teams_overview(coordinator)
    unassigned = {row.code: row.open for row in overview.unassigned}
    assert unassigned == {world.split_b.code: len(world.cases_unassigned) + 1}
    by_team = {row.team.pk: row.progress.open for row in overview.teams}
    assert by_team[world.areas["a"].team_id] == len(world.cases_a) - 1


def test_only_a_tambon_places_the_new_home_inside_it(
    world: FieldWorld, member_a: User, member_b: User
) -> None:
    case = world.cases_b[0]
    [result] = visits_upload(
        user=member_b,
        visits=[_upload(case, outcome=MOVED, moved_subdistrict=world.whole_a.code)],
    )
    assert result.status == UploadStatus.SAVED
    case.refresh_from_db()
    home = case.whereabouts
    assert home is not None
    assert (home.subdistrict_id, home.precision, home.village_id) == (
        world.whole_a.code,
        Precision.TAMBON,
        None,
    )
    assert home.point is not None and world.whole_a.geom.contains(home.point)
    # Tambon whole_a is team A's, whole: the case is theirs now.
    assert case.pk in _ids(member_a) and case.pk not in _ids(member_b)


def test_a_retried_upload_changes_nothing_and_a_second_report_reuses_the_home(
    world: FieldWorld, member_a: User
) -> None:
    case = world.cases_a[0]
    lon, lat = _west(world)
    item = _upload(case, outcome=MOVED, moved_lon=lon, moved_lat=lat)
    [first] = visits_upload(user=member_a, visits=[item])
    households = Household.objects.count()
    case.refresh_from_db()
    state = (case.whereabouts_id, case.updated_at, case.progress)
    # The retry comes from a tablet still holding the case: it is no longer team A's.
    [again] = visits_upload(user=member_a, visits=[item])
    assert (first.status, again.status) == (UploadStatus.SAVED, UploadStatus.DUPLICATE)
    assert again.visit == first.visit
    case.refresh_from_db()
    assert (case.whereabouts_id, case.updated_at, case.progress) == state
    assert Household.objects.count() == households
    assert Visit.objects.filter(case=case).count() == 1
    # A second report of the same place, recorded a moment before the move was
    # received, finds the same household.
    earlier = timezone.now() - dt.timedelta(minutes=5)
    [second] = visits_upload(
        user=member_a,
        visits=[_upload(case, earlier, outcome=MOVED, moved_lon=lon, moved_lat=lat)],
    )
    assert second.status == UploadStatus.SAVED
    assert Household.objects.count() == households
    assert set(Visit.objects.filter(case=case).values_list("moved_to", flat=True)) == {state[0]}


def test_of_two_moves_the_latest_recorded_wins_in_any_order(
    world: FieldWorld, member_a: User
) -> None:
    case = world.cases_a[0]
    east, west = _east(world), _west(world)
    now = timezone.now()
    later = _upload(
        case, now - dt.timedelta(hours=1), outcome=MOVED, moved_lon=west[0], moved_lat=west[1]
    )
    sooner = _upload(
        case, now - dt.timedelta(hours=2), outcome=MOVED, moved_lon=east[0], moved_lat=east[1]
    )
    results = visits_upload(user=member_a, visits=[later, sooner])
    assert [r.status for r in results] == [UploadStatus.SAVED, UploadStatus.SAVED]
    case.refresh_from_db()
    assert case.whereabouts is not None and case.whereabouts.point is not None
    assert case.whereabouts.point.x == pytest.approx(west[0])


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"outcome": "not_found", "moved_lon": 102.0, "moved_lat": 5.0}, "moved away"),
        ({"outcome": MOVED, "moved_lon": 1.0, "moved_lat": 1.0}, "no tambon"),
        ({"outcome": MOVED, "moved_lon": 500.0, "moved_lat": 5.0}, "longitude"),
        ({"outcome": MOVED, "moved_lon": 102.0}, "both"),
        ({"outcome": MOVED, "moved_subdistrict": "999999"}, "unknown tambon"),
    ],
)
def test_a_new_home_that_is_no_place_is_refused(
    world: FieldWorld, member_a: User, fields: dict[str, Any], reason: str
) -> None:
    case = world.cases_a[0]
    households = Household.objects.count()
    [result] = visits_upload(user=member_a, visits=[_upload(case, **fields)])
    assert result.status == UploadStatus.REFUSED
    assert reason in result.reason
    assert not Visit.objects.exists()
    assert Household.objects.count() == households
    case.refresh_from_db()
    assert case.whereabouts_id is None


# --- children found twice --------------------------------------------------------------------


@pytest.fixture
def known_ids(world: FieldWorld) -> tuple[str, str]:
    """Registry IDs for the children of cases_a[0] and cases_b[0], kept as the
    importer keeps them: the ID is the child's key."""
    ids = (_national_id("110170012345"), _national_id("110170054321"))
    for case, value in zip((world.cases_a[0], world.cases_b[0]), ids, strict=True):
        child = case.child
        child.key = child.national_id = value
        child.id_kind = "thai_id"
        child.save()
    return ids


def test_an_id_of_another_open_case_links_the_two_once(
    world: FieldWorld, member_a: User, member_b: User, known_ids: tuple[str, str]
) -> None:
    case_a, case_b = world.cases_a[0], world.cases_b[0]
    # As typed from a card: Thai digits and dashes.
    typed = "๑-๑๐๑๗-๐๐๑๒๓-๔๕-" + "๐๑๒๓๔๕๖๗๘๙"[int(known_ids[0][-1])]
    item = _upload(case_b, outcome="found_elsewhere", found_id=typed)
    [first] = visits_upload(user=member_b, visits=[item])
    [again] = visits_upload(user=member_b, visits=[item])
    [other_visit] = visits_upload(
        user=member_a, visits=[_upload(case_a, outcome="found_at_address", found_id=known_ids[1])]
    )
    assert {r.status for r in (first, other_visit)} == {UploadStatus.SAVED}
    assert again.status == UploadStatus.DUPLICATE
    [link] = CaseLink.objects.all()
    low, high = sorted((case_a.pk, case_b.pk))
    assert (link.case_id, link.other_id, link.found_by_id) == (low, high, first.visit)
    assert link.resolved_at is None
    assert first.visit is not None
    assert Visit.objects.get(pk=first.visit).found_id == known_ids[0]
    # Never closed by the machine.
    assert set(Case.objects.filter(pk__in=(low, high)).values_list("status", flat=True)) == {
        CaseStatus.OPEN
    }


@pytest.mark.parametrize("which", ["own", "invalid", "unknown"])
def test_an_id_that_names_no_other_open_case_links_nothing(
    world: FieldWorld, member_a: User, known_ids: tuple[str, str], which: str
) -> None:
    found_id = {
        "own": known_ids[0],
        "invalid": known_ids[1][:-1] + str((int(known_ids[1][-1]) + 1) % 10),
        "unknown": _national_id("310170099999"),
    }[which]
    [result] = visits_upload(
        user=member_a,
        visits=[_upload(world.cases_a[0], outcome="found_at_address", found_id=found_id)],
    )
    assert result.status == UploadStatus.SAVED and result.visit is not None
    assert not CaseLink.objects.exists()
    assert Visit.objects.get(pk=result.visit).found_id == found_id


def test_an_id_of_a_child_whose_case_is_closed_links_nothing(
    world: FieldWorld, member_a: User, known_ids: tuple[str, str]
) -> None:
    Case.objects.filter(pk=world.cases_b[0].pk).update(
        status=CaseStatus.CLOSED, closed_at=timezone.now(), close_reason=CloseReason.FOUND_ENROLLED
    )
    visits_upload(
        user=member_a,
        visits=[_upload(world.cases_a[0], outcome="found_at_address", found_id=known_ids[1])],
    )
    assert not CaseLink.objects.exists()


def test_keeping_one_case_closes_the_other_as_a_duplicate_for_good(
    world: FieldWorld, member_a: User, coordinator: User, known_ids: tuple[str, str]
) -> None:
    case_a, case_b = world.cases_a[0], world.cases_b[0]
    visits_upload(
        user=member_a,
        visits=[_upload(case_a, outcome="found_at_address", found_id=known_ids[1])],
    )
    link = CaseLink.objects.get()
    closed = case_link_resolve(link=link, keep=case_a, by=coordinator)
    assert closed.pk == case_b.pk
    case_a.refresh_from_db()
    case_b.refresh_from_db()
    assert case_a.status == CaseStatus.OPEN
    assert (case_b.status, case_b.close_reason) == (CaseStatus.CLOSED, CloseReason.DUPLICATE)
    link.refresh_from_db()
    assert (link.kept_id, link.resolved_by_id) == (case_a.pk, coordinator.pk)
    assert link.resolved_at is not None
    with pytest.raises(ValidationError):
        case_link_resolve(link=link, keep=case_b, by=coordinator)
    # A re-run of find_unreached does not open a new case for the duplicate record.
    reconcile(academic_year=2568)
    assert not Case.objects.filter(child=case_b.child, status=CaseStatus.OPEN).exists()
    assert Case.objects.filter(child=case_a.child, status=CaseStatus.OPEN).exists()


def test_a_case_outside_the_link_cannot_be_kept(
    world: FieldWorld, member_a: User, coordinator: User, known_ids: tuple[str, str]
) -> None:
    visits_upload(
        user=member_a,
        visits=[_upload(world.cases_a[0], outcome="found_at_address", found_id=known_ids[1])],
    )
    with pytest.raises(ValidationError):
        case_link_resolve(link=CaseLink.objects.get(), keep=world.cases_a[1], by=coordinator)
    assert Case.objects.filter(status=CaseStatus.CLOSED).count() == 0
