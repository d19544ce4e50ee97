"""Writes from the field and from coordinators: visits, notes, review decisions.

What these record is never overwritten by a registry import or by
``find_unreached``: a re-run opens and closes cases, but a visit, a note, a
household placed by GPS and a coordinator's match decision stay as recorded.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable

from django.contrib.auth.models import User
from django.contrib.gis.geos import Point
from django.db import transaction
from django.utils import timezone

from field.models import (
    Case,
    CaseProgress,
    Child,
    Household,
    MatchMethod,
    MatchReview,
    Precision,
    Resolution,
    ReviewStatus,
    School,
    SearchOutcome,
    Team,
    Visit,
)
from geo.selectors import locate, village_at


class ReviewError(Exception):
    pass


# The rule a case's progress follows from its visits (also the tablet's, in
# static/field/tablet/rule.js). Each visit counts for its rank below; the case
# takes the highest rank of all its visits. A maximum does not depend on the
# order the visits arrive in, so visits recorded offline by two members, synced
# in any order, give the same progress.
#   resolved: found with a resolution, or an outcome that ends the search
#             (deceased, found already enrolled, a duplicate record);
#   found:    found at the address or elsewhere, what becomes of them not decided;
#   visited:  visited and not found, or moved away;
#   new:      no visit yet.
_PROGRESS_RANK = {
    CaseProgress.NEW: 0,
    CaseProgress.VISITED: 1,
    CaseProgress.FOUND: 2,
    CaseProgress.RESOLVED: 3,
}
_FOUND = (SearchOutcome.FOUND_AT_ADDRESS, SearchOutcome.FOUND_ELSEWHERE)
_ENDS_SEARCH = (SearchOutcome.DECEASED, SearchOutcome.ALREADY_ENROLLED, SearchOutcome.DUPLICATE)


class VisitError(ValueError):
    pass


def visit_progress(outcome: str, resolution: str = "") -> CaseProgress:
    """What one visit says of its case."""
    if outcome in _ENDS_SEARCH or (outcome in _FOUND and resolution):
        return CaseProgress.RESOLVED
    if outcome in _FOUND:
        return CaseProgress.FOUND
    return CaseProgress.VISITED


def progress_of(visits: Iterable[tuple[str, str]]) -> CaseProgress:
    """A case's progress from its visits' (outcome, resolution): the highest."""
    best = CaseProgress.NEW
    for outcome, resolution in visits:
        progress = visit_progress(outcome, resolution)
        if _PROGRESS_RANK[progress] > _PROGRESS_RANK[best]:
            best = progress
    return best


@transaction.atomic
def visit_record(
    *,
    case: Case,
    by: User,
    at: dt.datetime,
    point: Point | None,
    outcome: SearchOutcome,
    note: str = "",
    client_id: uuid.UUID | None = None,
    accuracy_m: float | None = None,
    house_here: bool = False,
    resolution: Resolution | str = "",
    school: School | None = None,
    detail: str = "",
    team: Team | None = None,
) -> Visit:
    """Records a home visit, and the case's progress that follows from it.

    ``client_id`` is the tablet's id for the visit: a second upload of the same
    visit returns the one already saved and changes nothing. ``house_here`` (the
    member stands at the house) moves the household to the top of the precision
    ladder, field GPS, for good; so does "found at the address" with a GPS fix.
    """
    if timezone.is_naive(at):
        raise VisitError("a visit's time must be timezone-aware")
    if point is not None and point.srid not in (None, 4326):
        raise VisitError(f"GPS points are EPSG:4326, got {point.srid}")
    if house_here and point is None:
        raise VisitError("'the house is here' needs a GPS point")
    if resolution and outcome not in _FOUND:
        raise VisitError("a resolution is recorded only for a child who was found")
    if client_id is not None:
        earlier = Visit.objects.filter(client_id=client_id).first()
        if earlier is not None:
            if earlier.case_id != case.pk:
                raise VisitError(f"visit {client_id} was already recorded for another case")
            return earlier
    subdistrict: str | None = None
    village: str | None = None
    if point is not None:
        point.srid = 4326
        place = locate(point.x, point.y)
        if place is not None:
            subdistrict = place.subdistrict.code
            village = village_at(subdistrict, point.x, point.y)
    now = timezone.now()
    visit = Visit.objects.create(
        case=case,
        by=by,
        at=at,
        point=point,
        subdistrict_id=subdistrict,
        village_id=village,
        outcome=outcome,
        note=note,
        client_id=client_id,
        received_at=now,
        accuracy_m=accuracy_m,
        house_here=house_here,
        resolution=resolution,
        school=school,
        detail=detail,
        team=team,
    )
    if point is not None and (house_here or outcome == SearchOutcome.FOUND_AT_ADDRESS):
        Household.objects.filter(pk=case.child.household_id).update(
            point=point, precision=Precision.FIELD_GPS, located_at=at
        )
        # The household's other open cases (brothers and sisters) moved too.
        Case.objects.filter(child__household_id=case.child.household_id).update(updated_at=now)
    # Locked, so that two uploads for the same case cannot both read the old visits.
    locked = Case.objects.select_for_update().get(pk=case.pk)
    locked.progress = progress_of(
        Visit.objects.filter(case_id=case.pk).values_list("outcome", "resolution")
    )
    locked.updated_at = now
    locked.save(update_fields=["progress", "updated_at"])
    case.progress, case.updated_at = locked.progress, locked.updated_at
    return visit


def case_note_set(*, case: Case, note: str) -> Case:
    case.note = note
    case.updated_at = timezone.now()
    case.save(update_fields=["note", "updated_at"])
    return case


@transaction.atomic
def review_decide(*, review: MatchReview, child: Child | None, by: User) -> MatchReview:
    """A coordinator's decision: ``child`` is the register row's child, or None
    when it is none of the candidates. Kept through every later import."""
    if review.status != ReviewStatus.OPEN:
        raise ReviewError("this review was already decided")
    candidates = {c["child"] for c in review.candidates}
    if child is not None and child.pk not in candidates:
        raise ReviewError(f"child {child.pk} is not one of the candidates")
    enrolment = review.enrolment
    enrolment.child = child
    enrolment.match_method = MatchMethod.REVIEWED
    enrolment.match_score = next(
        (c["score"] for c in review.candidates if child and c["child"] == child.pk), None
    )
    enrolment.save(update_fields=["child", "match_method", "match_score"])
    review.status = ReviewStatus.CONFIRMED if child is not None else ReviewStatus.REJECTED
    review.decided_by = by
    review.decided_at = timezone.now()
    review.save(update_fields=["status", "decided_by", "decided_at"])
    return review
