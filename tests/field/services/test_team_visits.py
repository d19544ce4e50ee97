"""Team areas, the case progress rule, and visits uploaded after offline work."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import Iterator

import pytest
from conftest import FieldWorld
from django.contrib.auth.models import User
from django.contrib.gis.geos import Point
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone, translation
from factories import (
    CaseFactory,
    ChildFactory,
    HouseholdFactory,
    ProfileFactory,
    TeamFactory,
    UserFactory,
    make,
)

from field.models import Case, CaseProgress, Household, Precision, Role, Team, TeamArea, Visit
from field.selectors import get_team_case, team_cases
from field.services.cases import VisitError, progress_of, visit_record
from field.services.sync import UploadStatus, VisitUpload, visits_upload
from field.services.teams import team_area_assign, team_area_end

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    # The assertions quote the English messages, and the site's default language is
    # Thai: with the catalogue compiled, they would read Thai.
    with translation.override("en"):
        yield


FOUND = "found_at_address"


def _ids(cases: list[Case]) -> set[int]:
    return {c.pk for c in cases}


# --- the rule ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("visits", "expected"),
    [
        ([], CaseProgress.NEW),
        ([("not_found", "")], CaseProgress.VISITED),
        ([("moved_away", "")], CaseProgress.VISITED),
        ([("found_elsewhere", "")], CaseProgress.FOUND),
        ([("found_at_address", "returned_to_school")], CaseProgress.RESOLVED),
        ([("deceased", "")], CaseProgress.RESOLVED),
        ([("already_enrolled", "")], CaseProgress.RESOLVED),
        ([("not_found", ""), ("found_at_address", "")], CaseProgress.FOUND),
        ([("found_at_address", ""), ("not_found", "")], CaseProgress.FOUND),
    ],
)
def test_progress_rule(visits: list[tuple[str, str]], expected: CaseProgress) -> None:
    assert progress_of(visits) == expected


def test_progress_does_not_depend_on_the_order_visits_arrive_in() -> None:
    visits = [("not_found", ""), ("found_elsewhere", ""), ("moved_away", ""), ("duplicate", "")]
    assert {progress_of(order) for order in itertools.permutations(visits)} == {
        CaseProgress.RESOLVED
    }


# --- areas ------------------------------------------------------------------------------


def test_each_member_sees_only_their_teams_cases(
    field_world: FieldWorld, member_a: User, member_b: User
) -> None:
    assert set(team_cases(member_a).values_list("pk", flat=True)) == _ids(field_world.cases_a)
    assert set(team_cases(member_b).values_list("pk", flat=True)) == _ids(field_world.cases_b)
    for guessed in field_world.cases_b + field_world.cases_unassigned:
        with pytest.raises(Http404):
            get_team_case(member_a, guessed.pk)


def test_other_roles_have_no_team_cases(
    field_world: FieldWorld, coordinator: User, official: User, volunteer: User
) -> None:
    for user in (coordinator, official):
        with pytest.raises(PermissionDenied):
            team_cases(user)
    # A volunteer's cases are their zone's, and this volunteer has no zone yet:
    # none of the teams' cases.
    assert not team_cases(volunteer).exists()


def test_a_household_on_the_edge_between_clusters_is_in_one_team_at_most(
    field_world: FieldWorld, member_b: User, team_b: Team
) -> None:
    member_c = make(UserFactory, username="member_c")
    make(ProfileFactory, user=member_c, role=Role.TEAM_MEMBER)
    team_c = make(TeamFactory, name="ทีมค้นหา ค", district=team_b.district, members=[member_c])
    team_area_assign(
        team=team_c, subdistrict=field_world.split_b, cluster=field_world.east, by=None
    )
    x0, y0, x1, y1 = field_world.split_b.geom.extent
    # Equidistant from the west and the east village: on the edge of both cells.
    edge = Point((x0 + x1) / 2, (y0 + y1) / 2, srid=4326)
    household = make(HouseholdFactory, subdistrict=field_world.split_b, point=edge)
    on_edge = make(CaseFactory, child=make(ChildFactory, household=household))
    seen_by = [m for m in (member_b, member_c) if team_cases(m).filter(pk=on_edge.pk).exists()]
    assert len(seen_by) <= 1


def test_overlapping_assignments_are_refused(field_world: FieldWorld, team_b: Team) -> None:
    team_c = make(TeamFactory, name="ทีมค้นหา ค", district=team_b.district)
    with pytest.raises(ValidationError, match="overlaps"):
        team_area_assign(team=team_c, subdistrict=field_world.split_b, by=None)
    with pytest.raises(ValidationError, match="already holds"):
        team_area_assign(
            team=team_c, subdistrict=field_world.split_b, cluster=field_world.west, by=None
        )
    # The east cluster is free.
    team_area_assign(
        team=team_c, subdistrict=field_world.split_b, cluster=field_world.east, by=None
    )
    assert TeamArea.objects.filter(ended_at__isnull=True).count() == 3


def test_a_place_outside_the_teams_district_is_refused(
    field_world: FieldWorld, team_a: Team
) -> None:
    with pytest.raises(ValidationError, match="outside the district"):
        team_area_assign(
            team=team_a, subdistrict=field_world.split_b, cluster=field_world.east, by=None
        )


def test_the_database_refuses_an_overlap_the_service_did_not_see(
    field_world: FieldWorld, team_b: Team
) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        TeamArea.objects.create(
            team=team_b, subdistrict=field_world.whole_a, assigned_at=timezone.now()
        )


def test_a_cluster_of_another_tambon_is_refused(field_world: FieldWorld, team_a: Team) -> None:
    with pytest.raises(ValidationError, match="not in tambon"):
        team_area_assign(
            team=team_a, subdistrict=field_world.whole_a, cluster=field_world.east, by=None
        )


def test_an_ended_area_can_be_given_to_another_team(
    field_world: FieldWorld, member_a: User, team_b: Team
) -> None:
    team_area_end(area=field_world.areas["a"])
    team_c = make(TeamFactory, name="ทีมค้นหา ค", district=field_world.whole_a.district)
    team_area_assign(team=team_c, subdistrict=field_world.whole_a, by=None)
    assert not team_cases(member_a).exists()


# --- visits ----------------------------------------------------------------------------


def _upload(user: User, case: Case, at: dt.datetime, **fields: object) -> VisitUpload:
    return VisitUpload(
        client_id=fields.pop("client_id", uuid.uuid4()),  # type: ignore[arg-type]
        case=case.pk,
        at=at,
        outcome=str(fields.pop("outcome", "not_found")),
        **fields,  # type: ignore[arg-type]
    )


def test_a_retried_upload_saves_the_visit_once(field_world: FieldWorld, member_a: User) -> None:
    case = field_world.cases_a[0]
    item = _upload(member_a, case, timezone.now(), outcome=FOUND, resolution="non_formal")
    first = visits_upload(user=member_a, visits=[item])
    again = visits_upload(user=member_a, visits=[item])
    assert [r.status for r in first + again] == [UploadStatus.SAVED, UploadStatus.DUPLICATE]
    assert first[0].visit == again[0].visit
    assert Visit.objects.filter(case=case).count() == 1
    case.refresh_from_db()
    assert case.progress == CaseProgress.RESOLVED


def test_visits_for_other_teams_cases_are_refused(field_world: FieldWorld, member_a: User) -> None:
    results = visits_upload(
        user=member_a,
        visits=[_upload(member_a, c, timezone.now()) for c in field_world.cases_b],
    )
    assert {r.status for r in results} == {UploadStatus.REFUSED}
    assert not Visit.objects.exists()


def test_a_visit_from_the_future_is_refused(field_world: FieldWorld, member_a: User) -> None:
    later = timezone.now() + dt.timedelta(hours=2)
    [result] = visits_upload(
        user=member_a, visits=[_upload(member_a, field_world.cases_a[0], later)]
    )
    assert result.status == UploadStatus.REFUSED
    assert "future" in result.reason


def test_the_house_is_here_moves_the_household_to_field_gps(
    field_world: FieldWorld, member_a: User
) -> None:
    case = field_world.cases_a[0]
    point = case.child.household.point
    assert point is not None
    x, y = point.coords
    [result] = visits_upload(
        user=member_a,
        visits=[
            _upload(
                member_a,
                case,
                timezone.now(),
                lon=x + 0.001,
                lat=y,
                accuracy_m=6.0,
                house_here=True,
            )
        ],
    )
    assert result.status == UploadStatus.SAVED
    household = Household.objects.get(pk=case.child.household_id)
    assert household.precision == Precision.FIELD_GPS
    assert household.point is not None
    assert household.point.x == pytest.approx(x + 0.001)


def test_the_house_is_here_needs_a_point(field_world: FieldWorld, member_a: User) -> None:
    with pytest.raises(VisitError):
        visit_record(
            case=field_world.cases_a[0],
            by=member_a,
            at=timezone.now(),
            point=None,
            outcome="not_found",  # type: ignore[arg-type]
            house_here=True,
        )


def test_reassigned_while_offline_keeps_the_members_visits(
    field_world: FieldWorld, member_a: User, member_b: User, team_b: Team
) -> None:
    case = field_world.cases_a[0]
    TeamArea.objects.filter(pk=field_world.areas["a"].pk).update(
        assigned_at=timezone.now() - dt.timedelta(days=30)
    )
    visited_offline = timezone.now() - dt.timedelta(hours=3)
    # While member A is offline, the coordinator gives tambon whole_a to team B.
    team_area_end(area=field_world.areas["a"], at=timezone.now() - dt.timedelta(hours=1))
    team_b.district = field_world.whole_a.district
    team_b.save()
    team_area_assign(team=team_b, subdistrict=field_world.whole_a, by=None)
    # Team B finds the child; later member A's device comes back and uploads.
    [b] = visits_upload(
        user=member_b, visits=[_upload(member_b, case, timezone.now(), outcome=FOUND)]
    )
    [a] = visits_upload(
        user=member_a, visits=[_upload(member_a, case, visited_offline, outcome="not_found")]
    )
    assert (a.status, b.status) == (UploadStatus.SAVED, UploadStatus.SAVED)
    assert a.visit is not None
    assert Visit.objects.get(pk=a.visit).team_id == field_world.areas["a"].team_id
    case.refresh_from_db()
    assert case.progress == CaseProgress.FOUND  # both kept; the rule decides
    # The case has left member A's list, and a visit made after the end is refused.
    assert case.pk not in set(team_cases(member_a).values_list("pk", flat=True))
    [late] = visits_upload(user=member_a, visits=[_upload(member_a, case, timezone.now())])
    assert late.status == UploadStatus.REFUSED


def test_a_visit_id_cannot_be_reused_for_another_case(
    field_world: FieldWorld, member_a: User
) -> None:
    shared = uuid.uuid4()
    first, second = field_world.cases_a[:2]
    visits_upload(
        user=member_a, visits=[_upload(member_a, first, timezone.now(), client_id=shared)]
    )
    [result] = visits_upload(
        user=member_a, visits=[_upload(member_a, second, timezone.now(), client_id=shared)]
    )
    assert result.status == UploadStatus.REFUSED
    assert Visit.objects.count() == 1
