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
from django.contrib.gis.db.models.functions import PointOnSurface
from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from field.models import (
    AuditAction,
    AuditObject,
    Case,
    CaseLink,
    CaseProgress,
    CaseStatus,
    Child,
    CloseReason,
    Household,
    LinkKind,
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
from field.registry.ids import classify_identifier
from field.services.audit import audit_record, case_tambon
from geo.models import Subdistrict
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
# The outcomes that may say where the child lives now.
MOVED = (SearchOutcome.MOVED_AWAY, SearchOutcome.FOUND_ELSEWHERE)
# Five decimals of a degree are about a metre: two reports of the same new home
# from one GPS fix, or a retried upload, give the same household key.
_MOVED_DIGITS = 5
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
    moved_point: Point | None = None,
    moved_subdistrict: str = "",
    found_id: str = "",
) -> Visit:
    """Records a home visit, and the case's progress that follows from it.

    ``client_id`` is the tablet's id for the visit: a second upload of the same
    visit returns the one already saved and changes nothing. ``house_here`` (the
    member stands at the house) moves the household to the top of the precision
    ladder, field GPS, for good; so does "found at the address" with a GPS fix.
    The household is the one the case lies at: the child's new home once one was
    reported, else the registry's.

    ``moved_point`` (or, with no position, ``moved_subdistrict``, a tambon code):
    where a child moved away or found elsewhere lives now; the case follows the
    child there (``case_relocate``). ``found_id``: the ID read on the child's
    documents; naming another child with an open case, it links the two cases for
    a coordinator to decide (``case_link_same_child``).
    """
    if timezone.is_naive(at):
        raise VisitError("a visit's time must be timezone-aware")
    for given in (point, moved_point):
        if given is not None and given.srid not in (None, 4326):
            raise VisitError(f"GPS points are EPSG:4326, got {given.srid}")
    if house_here and point is None:
        raise VisitError("'the house is here' needs a GPS point")
    if resolution and outcome not in _FOUND:
        raise VisitError("a resolution is recorded only for a child who was found")
    if (moved_point is not None or moved_subdistrict) and outcome not in MOVED:
        raise VisitError("where the child lives now is recorded only for a child who moved")
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
    found = classify_identifier(found_id) if found_id else None
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
        found_id=found.value[:20] if found is not None else "",
    )
    if point is not None and (house_here or outcome == SearchOutcome.FOUND_AT_ADDRESS):
        home = case.whereabouts_id or case.child.household_id
        Household.objects.filter(pk=home).update(
            point=point, precision=Precision.FIELD_GPS, located_at=at
        )
        # The household's other open cases (brothers and sisters) moved too.
        Case.objects.filter(
            Q(whereabouts_id=home) | Q(child__household_id=home, whereabouts__isnull=True)
        ).update(updated_at=now)
    if moved_point is not None or moved_subdistrict:
        case_relocate(case=case, visit=visit, point=moved_point, subdistrict=moved_subdistrict)
    if found is not None and found.is_usable:
        case_link_same_child(visit=visit, found_id=found.value)
    # Locked, so that two uploads for the same case cannot both read the old visits.
    locked = Case.objects.select_for_update().get(pk=case.pk)
    locked.progress = progress_of(
        Visit.objects.filter(case_id=case.pk).values_list("outcome", "resolution")
    )
    locked.updated_at = now
    locked.save(update_fields=["progress", "updated_at"])
    case.progress, case.updated_at = locked.progress, locked.updated_at
    audit_record(
        user=by,
        action=AuditAction.EDIT,
        obj_kind=AuditObject.CASE,
        obj_id=case.pk,
        tambon=case_tambon(case),
        detail=f"visit={visit.pk} outcome={outcome}",
    )
    return visit


def _moved_household(case: Case, visit: Visit, point: Point | None, subdistrict: str) -> Household:
    """The household for a child's new home: one per case and place, so that a
    second report of the same place (or a retry) finds the one made first."""
    if point is not None:
        point.srid = 4326
        place = locate(point.x, point.y)
        if place is None:
            raise VisitError("the new home's GPS position lies in no tambon")
        code = place.subdistrict.code
        key = f"field:{case.pk}:{point.x:.{_MOVED_DIGITS}f},{point.y:.{_MOVED_DIGITS}f}"
        village = village_at(code, point.x, point.y)
        precision = Precision.FIELD_GPS
        name_th = place.subdistrict.name_th
    else:
        if not (len(subdistrict) == 6 and subdistrict.isdigit()):
            raise VisitError(f"not a tambon code: {subdistrict!r}")
        tambon = (
            Subdistrict.objects.filter(code=subdistrict)
            .annotate(inside=PointOnSurface("geom"))
            .values("code", "name_th", "inside")
            .first()
        )
        if tambon is None:
            raise VisitError(f"unknown tambon {subdistrict!r}")
        code = tambon["code"]
        key = f"field:{case.pk}:{code}"
        # Somewhere in the tambon, not a claim to know the house: precision says so.
        point = tambon["inside"]
        village = None
        precision = Precision.TAMBON
        name_th = tambon["name_th"]
    household, _created = Household.objects.get_or_create(
        key=key,
        defaults={
            "address": (visit.detail or f"ต.{name_th}")[:400],
            "subdistrict_id": code,
            "village_id": village,
            "point": point,
            "precision": precision,
            "located_at": visit.at,
        },
    )
    return household


def case_relocate(
    *, case: Case, visit: Visit, point: Point | None = None, subdistrict: str = ""
) -> Household:
    """Where the field found ``case``'s child living now, told by ``visit``: at the
    GPS ``point``, else somewhere in tambon ``subdistrict``.

    The case stays one case: its whereabouts moves, and with it the team whose
    area holds it (``AreaScope.cases``); the registry household is left as
    registered. Of several reports, the latest recorded wins, whatever order
    they are uploaded in. A point in no tambon raises ``VisitError``.
    """
    if visit.outcome not in MOVED:
        raise VisitError("where the child lives now is recorded only for a child who moved")
    before = case_tambon(case)
    household = _moved_household(case, visit, point, subdistrict)
    visit.moved_to = household
    visit.save(update_fields=["moved_to"])
    locked = Case.objects.select_for_update().get(pk=case.pk)
    later = (
        Visit.objects.filter(case_id=case.pk, moved_to__isnull=False)
        .exclude(pk=visit.pk)
        .filter(Q(at__gt=visit.at) | Q(at=visit.at, pk__gt=visit.pk))
    )
    if not later.exists():
        locked.whereabouts = household
        locked.updated_at = timezone.now()
        locked.save(update_fields=["whereabouts", "updated_at"])
        case.whereabouts, case.updated_at = household, locked.updated_at
        # The case now belongs to whoever holds its new tambon.
        audit_record(
            user=visit.by,
            action=AuditAction.REASSIGN,
            obj_kind=AuditObject.CASE,
            obj_id=case.pk,
            tambon=household.subdistrict_id,
            detail=f"visit={visit.pk} from={before or '-'} to={household.subdistrict_id or '-'}",
        )
    return household


def case_link_same_child(*, visit: Visit, found_id: str) -> CaseLink | None:
    """Links ``visit``'s case with the open case of the child whose ID (national ID
    or G code, normalised) the member read on the child's documents, when that is
    another child. Never merges or closes: the ID may be misread, and the
    coordinators of both cases decide (``case_link_resolve``). Found twice, the
    pair is still one link."""
    # A child with an ID has it as its key (the importers' rule): the key's unique
    # index finds it, where national_id has no index at all.
    other = (
        Case.objects.filter(status=CaseStatus.OPEN, child__key=found_id)
        .exclude(child_id=visit.case.child_id)
        .first()
    )
    if other is None:
        return None
    low, high = sorted((visit.case_id, other.pk))
    link, _created = CaseLink.objects.get_or_create(
        case_id=low,
        other_id=high,
        kind=LinkKind.SAME_CHILD,
        defaults={"found_by": visit, "created_at": timezone.now()},
    )
    return link


@transaction.atomic
def case_link_resolve(*, link: CaseLink, keep: Case, by: User) -> Case:
    """A coordinator's decision on two cases of one child: ``keep`` stays, the other
    is closed as a duplicate (if still open). Returns the case closed."""
    locked = CaseLink.objects.select_for_update().get(pk=link.pk)
    if locked.resolved_at is not None:
        raise ValidationError(_("This link was already resolved."))
    if keep.pk not in (locked.case_id, locked.other_id):
        raise ValidationError(_("That case is not one of the two linked."))
    drop_id = locked.other_id if keep.pk == locked.case_id else locked.case_id
    drop = Case.objects.select_for_update().get(pk=drop_id)
    now = timezone.now()
    if drop.status == CaseStatus.OPEN:
        drop.status = CaseStatus.CLOSED
        drop.closed_at = now
        drop.close_reason = CloseReason.DUPLICATE
        drop.updated_at = now
        drop.save(update_fields=["status", "closed_at", "close_reason", "updated_at"])
        audit_record(
            user=by,
            action=AuditAction.CLOSE,
            obj_kind=AuditObject.CASE,
            obj_id=drop.pk,
            tambon=case_tambon(drop),
            detail=f"reason={CloseReason.DUPLICATE} kept={keep.pk} link={locked.pk}",
        )
    locked.resolved_at, locked.resolved_by, locked.kept = now, by, keep
    locked.save(update_fields=["resolved_at", "resolved_by", "kept"])
    link.resolved_at, link.resolved_by, link.kept = now, by, keep
    return drop


@transaction.atomic
def case_note_set(*, case: Case, note: str, by: User | None = None) -> Case:
    case.note = note
    case.updated_at = timezone.now()
    case.save(update_fields=["note", "updated_at"])
    # The note's text may name people: the log says only that it changed.
    audit_record(
        user=by,
        action=AuditAction.EDIT,
        obj_kind=AuditObject.CASE,
        obj_id=case.pk,
        tambon=case_tambon(case),
        detail="note",
    )
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
    audit_record(
        user=by,
        action=AuditAction.EDIT,
        obj_kind=AuditObject.CHILD,
        obj_id=child.pk if child is not None else None,
        tambon=child.household.subdistrict_id if child is not None else None,
        detail=f"review={review.pk} decision={review.status} enrolment={enrolment.pk}",
    )
    return review
