"""Writes from the field and from coordinators: visits, notes, review decisions.

What these record is never overwritten by a registry import or by
``find_unreached``: a re-run opens and closes cases, but a visit, a note, a
household placed by GPS and a coordinator's match decision stay as recorded.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import User
from django.contrib.gis.geos import Point
from django.db import transaction
from django.utils import timezone

from field.models import (
    Case,
    Child,
    Household,
    MatchMethod,
    MatchReview,
    Precision,
    ReviewStatus,
    SearchOutcome,
    Visit,
)
from geo.selectors import locate, village_at


class ReviewError(Exception):
    pass


@transaction.atomic
def visit_record(
    *,
    case: Case,
    by: User,
    at: dt.datetime,
    point: Point | None,
    outcome: SearchOutcome,
    note: str = "",
) -> Visit:
    """Records a home visit. Found at the address with a GPS fix, the household
    moves to the top of the precision ladder (field GPS), for good."""
    if timezone.is_naive(at):
        raise ValueError("a visit's time must be timezone-aware")
    if point is not None and point.srid not in (None, 4326):
        raise ValueError(f"GPS points are EPSG:4326, got {point.srid}")
    subdistrict: str | None = None
    village: str | None = None
    if point is not None:
        point.srid = 4326
        place = locate(point.x, point.y)
        if place is not None:
            subdistrict = place.subdistrict.code
            village = village_at(subdistrict, point.x, point.y)
    visit = Visit.objects.create(
        case=case,
        by=by,
        at=at,
        point=point,
        subdistrict_id=subdistrict,
        village_id=village,
        outcome=outcome,
        note=note,
    )
    if point is not None and outcome == SearchOutcome.FOUND_AT_ADDRESS:
        Household.objects.filter(pk=case.child.household_id).update(
            point=point, precision=Precision.FIELD_GPS, located_at=at
        )
    return visit


def case_note_set(*, case: Case, note: str) -> Case:
    case.note = note
    case.save(update_fields=["note"])
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
