"""Visits uploaded from tablets that worked offline.

A tablet keeps the visits it records in a queue and uploads them when it has a
connection, as many times as it takes: each visit carries the id the tablet gave
it (``client_id``), so a retry returns what was saved and saves nothing twice.
Each visit is saved on its own, so one that is refused never loses the others.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from django.contrib.auth.models import User
from django.contrib.gis.geos import Point
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from field.models import Case, Profile, Resolution, Role, School, SearchOutcome, Team, Visit
from field.selectors import AreaScope, case_for_visit, user_area
from field.services.cases import MOVED, VisitError, visit_record

# A tablet's clock may run a little fast; a visit further in the future than this
# is refused as a clock error rather than kept with an impossible time.
CLOCK_SKEW = dt.timedelta(minutes=10)


class UploadStatus(StrEnum):
    SAVED = "saved"
    DUPLICATE = "duplicate"
    REFUSED = "refused"


@dataclass(frozen=True)
class VisitUpload:
    client_id: uuid.UUID
    case: int
    at: dt.datetime
    outcome: str
    note: str = ""
    lon: float | None = None
    lat: float | None = None
    accuracy_m: float | None = None
    house_here: bool = False
    resolution: str = ""
    school: str = ""
    detail: str = ""
    moved_lon: float | None = None
    moved_lat: float | None = None
    moved_subdistrict: str = ""
    found_id: str = ""


@dataclass(frozen=True)
class UploadResult:
    client_id: str
    status: UploadStatus
    visit: int | None = None
    reason: str = ""


def _team_of(user: User, case: int, at: dt.datetime, teams: tuple[int, ...]) -> Team | None:
    """The member's team whose area holds the case now, else the one whose area held
    it at ``at``: for a member of several teams, the visit is that team's work."""
    if not teams:
        return None
    scopes = [
        AreaScope(user_id=user.pk, role=Role.TEAM_MEMBER, province=None, teams=(team_id,))
        for team_id in teams
    ]
    # One query asks every team at once, now and then; the first that holds it wins.
    holds = [one.cases() for one in scopes] + [one.cases_then(at) for one in scopes]
    found = (
        Case.objects.filter(pk=case)
        .annotate(
            **{
                f"holds_{i}": Exists(Case.objects.filter(pk=OuterRef("pk")).filter(q))
                for i, q in enumerate(holds)
            }
        )
        .values_list(*(f"holds_{i}" for i in range(len(holds))))
        .first()
    )
    if found is None:
        return None
    for i, held in enumerate(found):
        if held:
            return Team.objects.get(pk=teams[i % len(teams)])
    return None


def _lonlat(lon: float | None, lat: float | None) -> Point | None | str:
    """A point from a pair, None for none, or why the pair is not a position."""
    if lon is None and lat is None:
        return None
    if lon is None or lat is None:
        return "give both the longitude and the latitude, or neither"
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return "the GPS position is not a longitude and latitude"
    return Point(lon, lat, srid=4326)


def _refused(item: VisitUpload, reason: str) -> UploadResult:
    return UploadResult(str(item.client_id), UploadStatus.REFUSED, reason=reason)


# A visit already saved under a client id: (visit, by, case).
_Saved = tuple[int, int, int]


def _one(
    user: User, item: VisitUpload, teams: tuple[int, ...], saved: dict[uuid.UUID, _Saved]
) -> UploadResult:
    earlier = saved.get(item.client_id)
    if earlier is not None:
        saved_visit, saved_by, saved_case = earlier
        if saved_by != user.pk or saved_case != item.case:
            return _refused(item, "this visit id belongs to another visit")
        return UploadResult(str(item.client_id), UploadStatus.DUPLICATE, saved_visit)
    if timezone.is_naive(item.at):
        return _refused(item, "the time of the visit has no time zone")
    if item.at > timezone.now() + CLOCK_SKEW:
        return _refused(item, "the time of the visit is in the future: check the clock")
    if item.outcome not in SearchOutcome.values:
        return _refused(item, f"unknown outcome {item.outcome!r}")
    if item.resolution and item.resolution not in Resolution.values:
        return _refused(item, f"unknown resolution {item.resolution!r}")
    case = case_for_visit(user, item.case, item.at)
    if case is None:
        return _refused(item, "this case is not in your area")
    point = None
    if item.lon is not None and item.lat is not None:
        if not (-180 <= item.lon <= 180 and -90 <= item.lat <= 90):
            return _refused(item, "the GPS position is not a longitude and latitude")
        point = Point(item.lon, item.lat, srid=4326)
    moved = _lonlat(item.moved_lon, item.moved_lat)
    if isinstance(moved, str):
        return _refused(item, f"new home: {moved}")
    if (moved is not None or item.moved_subdistrict) and item.outcome not in MOVED:
        return _refused(item, "a new home goes only with moved away or found elsewhere")
    school = None
    if item.school:
        school = School.objects.filter(code=item.school).first()
        if school is None:
            return _refused(item, f"unknown school {item.school!r}")
    try:
        with transaction.atomic():
            visit = visit_record(
                case=case,
                by=user,
                at=item.at,
                point=point,
                outcome=SearchOutcome(item.outcome),
                note=item.note,
                client_id=item.client_id,
                accuracy_m=item.accuracy_m,
                house_here=item.house_here,
                resolution=item.resolution,
                school=school,
                detail=item.detail,
                team=_team_of(user, case.pk, item.at, teams),
                moved_point=moved,
                # A position says more than a tambon: the tambon is for when there is none.
                moved_subdistrict="" if moved is not None else item.moved_subdistrict,
                found_id=item.found_id,
            )
    except VisitError as error:
        return _refused(item, str(error))
    return UploadResult(str(item.client_id), UploadStatus.SAVED, visit.pk)


def visits_upload(*, user: User, visits: Sequence[VisitUpload]) -> list[UploadResult]:
    """Saves a tablet's queued visits, each on its own; a result for every one. A
    volunteer's visits are no team's work: they are saved with no team."""
    teams = user_area(user).teams
    # A retried batch is mostly visits saved already: one query finds them all.
    saved: dict[uuid.UUID, _Saved] = {
        client_id: (pk, by, case)
        for pk, by, case, client_id in Visit.objects.filter(
            client_id__in=[item.client_id for item in visits]
        ).values_list("pk", "by_id", "case_id", "client_id")
        if client_id is not None
    }
    results = []
    for item in visits:
        result = _one(user, item, teams, saved)
        if result.status == UploadStatus.SAVED and result.visit is not None:
            saved[item.client_id] = (result.visit, user.pk, item.case)
        results.append(result)
    return results


def sync_seen(*, user: User, at: dt.datetime | None = None) -> None:
    """Notes that the user's tablet synced (one UPDATE; no row for a user without a
    profile, who cannot reach the sync anyway)."""
    Profile.objects.filter(user_id=user.pk).update(last_sync_at=at or timezone.now())
