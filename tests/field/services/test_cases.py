"""Field work and coordinators' decisions: what they record, and what they refuse."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.contrib.gis.geos import Point
from django.utils import timezone
from factories import CaseFactory, ChildFactory, VillageFactory, make

from field.models import (
    Enrolment,
    ImportKind,
    MatchMethod,
    MatchReview,
    Precision,
    ReviewStatus,
    SearchOutcome,
)
from field.registry.dates import BANGKOK
from field.services.cases import ReviewError, review_decide, visit_record
from field.services.imports import import_start
from geo.models import Subdistrict

pytestmark = pytest.mark.django_db

AT = dt.datetime(2025, 6, 10, 9, 30, tzinfo=BANGKOK)


def test_found_at_the_address_with_gps_places_the_household_for_good(
    coordinator: User,
) -> None:
    case = make(CaseFactory)
    gps = Point(102.84, 16.43, srid=4326)
    visit_record(
        case=case, by=coordinator, at=AT, point=gps, outcome=SearchOutcome.FOUND_AT_ADDRESS
    )
    household = case.child.household
    household.refresh_from_db()
    assert (household.precision, household.located_at) == (Precision.FIELD_GPS, AT)
    assert household.point is not None and household.point.equals(gps)


def test_found_elsewhere_does_not_move_the_household(coordinator: User) -> None:
    case = make(CaseFactory)
    before = case.child.household.point
    visit_record(
        case=case,
        by=coordinator,
        at=AT,
        point=Point(100.5, 13.7, srid=4326),
        outcome=SearchOutcome.FOUND_ELSEWHERE,
    )
    household = case.child.household
    household.refresh_from_db()
    assert household.precision == Precision.GIVEN and household.point == before


def test_a_visit_needs_an_aware_time(coordinator: User) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        visit_record(
            case=make(CaseFactory),
            by=coordinator,
            at=dt.datetime(2025, 6, 10, 9, 30),  # noqa: DTZ001 - naive on purpose
            point=None,
            outcome=SearchOutcome.NOT_FOUND,
        )


def _review() -> tuple[MatchReview, list[int]]:
    twins = [make(ChildFactory), make(ChildFactory)]
    run = twins[0].run
    row = Enrolment.objects.create(
        affiliation="obec",
        academic_year=2568,
        key="n:abc|1040010001",
        id_kind="blank",
        first_name="สมชาย",
        name_key="สมชาย ใจดี",
        status="studying",
        digest="0" * 32,
        run=run,
        match_method=MatchMethod.REVIEW,
    )
    review = MatchReview.objects.create(
        enrolment=row,
        candidates=[{"child": twins[0].pk, "score": 100.0}, {"child": twins[1].pk, "score": 94.0}],
        created_at=timezone.now(),
    )
    return review, [c.pk for c in twins]


def test_a_coordinator_picks_one_of_the_candidates(coordinator: User) -> None:
    review, twins = _review()
    review_decide(
        review=review, child=ChildFactory._meta.model.objects.get(pk=twins[1]), by=coordinator
    )
    review.refresh_from_db()
    assert review.status == ReviewStatus.CONFIRMED and review.decided_by == coordinator
    assert (review.enrolment.child_id, review.enrolment.match_method) == (twins[1], "reviewed")
    assert review.enrolment.match_score == 94.0
    with pytest.raises(ReviewError, match="already decided"):
        review_decide(review=review, child=None, by=coordinator)


def test_a_child_outside_the_candidates_is_refused(coordinator: User) -> None:
    review, _ = _review()
    with pytest.raises(ReviewError, match="not one of the candidates"):
        review_decide(review=review, child=make(ChildFactory), by=coordinator)


def test_none_of_them_is_kept_as_a_decision(coordinator: User) -> None:
    review, _ = _review()
    review_decide(review=review, child=None, by=coordinator)
    review.enrolment.refresh_from_db()
    assert review.enrolment.child is None
    assert review.enrolment.match_method == MatchMethod.REVIEWED


def test_an_enrolment_run_needs_an_affiliation(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a\n")
    with pytest.raises(ValueError, match="affiliation"):
        import_start(kind=ImportKind.ENROLMENT, path=path, by=None)


def test_a_gps_fix_is_placed_in_its_tambon_and_nearest_village(
    khon_kaen_boundaries: None, coordinator: User
) -> None:
    tambon = Subdistrict.objects.get(code="400101")
    near = make(VillageFactory, subdistrict=tambon, code="40010101", point=Point(102.835, 16.430))
    make(VillageFactory, subdistrict=tambon, code="40010102", point=Point(102.80, 16.45))
    visit = visit_record(
        case=make(CaseFactory),
        by=coordinator,
        at=AT,
        point=Point(102.8352, 16.4301, srid=4326),
        outcome=SearchOutcome.FOUND_ELSEWHERE,
    )
    assert (visit.subdistrict_id, visit.village_id) == ("400101", near.code)


def test_a_gps_fix_at_sea_is_kept_without_a_place(
    khon_kaen_boundaries: None, coordinator: User
) -> None:
    visit = visit_record(
        case=make(CaseFactory),
        by=coordinator,
        at=AT,
        point=Point(99.0, 7.0, srid=4326),  # the Andaman Sea
        outcome=SearchOutcome.NOT_FOUND,
    )
    assert visit.point is not None
    assert (visit.subdistrict_id, visit.village_id) == (None, None)
