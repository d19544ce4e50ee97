"""Writes to volunteer zones: moving households by hand, locks, the distance limit,
and rebalancing by preview then apply.

Every write takes the district's ``ZoneArea`` row ``FOR UPDATE`` first, so that
two coordinators' changes to one district's zones run one after the other, and
bumps its ``version``. A preview records the version it was computed on;
applying it is refused once the zones have changed since, so what is applied is
exactly what the coordinator was shown. Every change writes ``ZoneChange`` rows
(who, when, what) in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from field.models import (
    AuditAction,
    AuditObject,
    Household,
    Volunteer,
    ZoneAction,
    ZoneArea,
    ZoneAssignment,
    ZoneChange,
)
from field.services.audit import AuditItem, audit_records
from field.services.conflicts import ConflictError, conflict_message
from field.zone_selectors import (
    DistrictZones,
    Uncovered,
    ZoneHousehold,
    beyond_reach,
    load_zones,
    uncovered_reasons,
)
from geo.algorithms import zones as builder
from geo.algorithms.zone_metrics import ZoneMetrics, measure
from geo.models import District


class ZoneRefused(Exception):
    """A change the zones' rules refuse; the message says why, for the coordinator."""


class ZonesChanged(ZoneRefused, ConflictError):
    """The zones changed after the preview (or the page) was made: nothing was
    written. ``by`` and ``at`` say who changed them last, and when."""


@dataclass(frozen=True)
class ZoneMove:
    household: int
    before: int | None
    after: int | None
    reason: str = ""


@dataclass(frozen=True)
class ZonePreview:
    version: int
    moves: list[ZoneMove]
    uncovered: dict[int, str]
    """Target households no volunteer takes, with the builder's reason."""
    before: ZoneMetrics
    after: ZoneMetrics
    households: int

    @property
    def churn(self) -> float:
        """Share of the zoned households whose volunteer would change."""
        moved = sum(1 for m in self.moves if m.before is not None)
        return moved / self.households if self.households else 0.0


# --- building -------------------------------------------------------------------------


def zone_metrics(zones: DistrictZones) -> ZoneMetrics:
    """The measures of ``zones`` as they stand: balance, coverage, distance, shape.
    A household in no zone counts as reported when the page lists it as beyond
    every volunteer's reach or as in reach of full volunteers only; one that a
    volunteer with room could take waits for a rebalance, unaccounted."""
    assignment = {h.id: h.volunteer for h in zones.households if h.volunteer is not None}
    reported = {h for h, why in uncovered_reasons(zones).items() if why != Uncovered.WAITING}
    return _measure(zones, assignment, reported)


def _measure(zones: DistrictZones, assignment: dict[int, int], uncovered: set[int]) -> ZoneMetrics:
    people = zones.builder_volunteers()
    present = {p.id for p in people}
    return measure(
        zones.builder_households(),
        people,
        {h: v for h, v in assignment.items() if v in present},
        uncovered,
    )


def zones_preview(zones: DistrictZones) -> ZonePreview:
    """What a rebalance would change, without changing anything.

    Locked households stay with their volunteer, and a locked zone keeps exactly
    its households: it and they are left out of the problem the builder solves.
    A volunteer no longer active loses their households; households with no
    open case left are released.
    """
    locked_zones = {v.id for v in zones.volunteers if v.volunteer.zone_locked}
    free_people = [p for p in zones.builder_volunteers() if p.id not in locked_zones]
    homes = [
        builder.Household(h.id, h.x, h.y, max(h.cases, 1), h.group, _locked_to(h))
        for h in zones.households
        if h.volunteer not in locked_zones
    ]
    previous = {
        h.id: h.volunteer
        for h in zones.households
        if h.volunteer is not None and h.volunteer not in locked_zones
    }
    result = builder.build_zones(homes, free_people, previous)
    after: dict[int, int] = {
        h.id: h.volunteer
        for h in zones.households
        if h.volunteer is not None and h.volunteer in locked_zones
    }
    after.update({_id(k): _id(v) for k, v in result.assignment.items()})
    moves = [
        ZoneMove(h.id, h.volunteer, after.get(h.id), _why(zones, h, result.uncovered.get(h.id)))
        for h in zones.households
        if h.volunteer != after.get(h.id)
    ]
    moves += [
        ZoneMove(hid, vid, None, _("no open case here now"))
        for hid, vid in sorted(zones.stale.items())
        if vid not in locked_zones
    ]
    current = {h.id: h.volunteer for h in zones.households if h.volunteer is not None}
    uncovered = {_id(k): v for k, v in result.uncovered.items()}
    return ZonePreview(
        version=zones.version,
        moves=moves,
        uncovered=uncovered,
        before=_measure(zones, current, beyond_reach(zones)),
        after=_measure(zones, after, set(uncovered)),
        households=len(current),
    )


def _why(zones: DistrictZones, household: ZoneHousehold, uncovered: str | None) -> str:
    """Why a household would change volunteer, in the coordinator's words."""
    before = zones.volunteer(household.volunteer) if household.volunteer is not None else None
    if uncovered == builder.BEYOND_REACH:
        return _("beyond the distance limit of every volunteer")
    if uncovered == builder.ALL_FULL:
        return _("every volunteer in reach is full")
    if household.volunteer is None:
        return _("in no zone before")
    if before is None or not before.active:
        return _("its volunteer is no longer active")
    if math.hypot(household.x - before.x, household.y - before.y) > zones.max_distance_m:
        return _("beyond its volunteer's distance limit now")
    return _("to balance the load")


def _id(value: Hashable) -> int:
    # The builder hands back the ids it was given: ours are primary keys.
    if not isinstance(value, int):
        raise TypeError(f"expected a primary key, got {value!r}")
    return value


def _locked_to(household: ZoneHousehold) -> int | None:
    return household.volunteer if household.locked else None


# --- writing --------------------------------------------------------------------------


def _area(district: District) -> ZoneArea:
    """The district's row, locked for this transaction (made on first use)."""
    ZoneArea.objects.get_or_create(district=district)
    return ZoneArea.objects.select_for_update().get(district=district)


def _changed(area: ZoneArea, message: str | None = None) -> ZonesChanged:
    what = _("The zone map of district %(name)s") % {"name": area.district.name_th}
    text = conflict_message(what, by=area.updated_by, at=area.updated_at)
    return ZonesChanged(
        f"{message} {text}" if message else text,
        by=area.updated_by,
        at=area.updated_at,
        version=area.version,
    )


def _check(area: ZoneArea, expected_version: int | None, message: str | None = None) -> None:
    """Refuse a write made on a page (or preview) of an older version; None: not
    checked (commands and scripts, which read the zones inside the lock)."""
    if expected_version is not None and area.version != expected_version:
        raise _changed(area, message)


def _bump(area: ZoneArea, by: User | None) -> None:
    """``UPDATE ... WHERE version = <the one read>``: under the row lock it always
    matches; the condition keeps the rule in the database for any writer."""
    now = timezone.now()
    raised = ZoneArea.objects.filter(pk=area.pk, version=area.version).update(
        version=F("version") + 1, updated_at=now, updated_by=by
    )
    if raised != 1:
        area.refresh_from_db()
        raise _changed(area)
    area.version += 1
    area.updated_at = now
    area.updated_by = by


def _reassign(
    *,
    household: int,
    to: int | None,
    locked: bool,
    by: User | None,
    now: dt.datetime,
) -> int | None:
    """Ends the household's current assignment and starts one with ``to``; the
    new assignment's id (None for a release)."""
    ZoneAssignment.objects.filter(household_id=household, ended_at__isnull=True).update(
        ended_at=now
    )
    if to is None:
        return None
    return ZoneAssignment.objects.create(
        household_id=household, volunteer_id=to, locked=locked, started_at=now, by=by
    ).pk


def _audit_moves(
    changes: Sequence[ZoneChange], started: Sequence[int | None], by: User | None
) -> None:
    """One event per household that changed volunteer, in its tambon; one query
    for the tambons of them all."""
    tambons = dict(
        Household.objects.filter(pk__in=[c.household_id for c in changes]).values_list(
            "pk", "subdistrict_id"
        )
    )
    items = []
    for change, assignment in zip(changes, started, strict=True):
        before, after = change.volunteer_from_id, change.volunteer_to_id
        if before is None:
            action = AuditAction.ASSIGN
        elif after is None:
            action = AuditAction.UNASSIGN
        else:
            action = AuditAction.REASSIGN
        items.append(
            AuditItem(
                action=action,
                obj_kind=AuditObject.ZONE_ASSIGNMENT,
                obj_id=assignment,
                tambon=tambons.get(change.household_id or 0),
                detail=(
                    f"household={change.household_id} volunteer_from={before or '-'} "
                    f"volunteer_to={after or '-'} zone_change={change.action}"
                ),
            )
        )
    audit_records(user=by, items=items)


@transaction.atomic
def zones_apply(
    *, district: District, moves: Sequence[tuple[int, int | None]], version: int, by: User | None
) -> int:
    """Apply a previewed rebalance: each ``(household, volunteer or None)``.

    Refused with ``ZonesChanged`` when the zones changed after the preview, and
    with ``ZoneRefused`` when a move breaks a rule (a household or volunteer not
    of this district, a locked household or zone, the distance limit). Returns
    how many households changed.
    """
    area = _area(district)
    _check(
        area,
        version,
        _("The zones changed after this preview was made: preview the rebalance again."),
    )
    zones = load_zones(district)
    _check_moves(zones, moves, allow_release=True)
    now = timezone.now()
    changes = []
    started = []
    for household, to in moves:
        before = _holder(zones, household)
        if before == to:
            continue
        started.append(_reassign(household=household, to=to, locked=False, by=by, now=now))
        changes.append(
            ZoneChange(
                district=district,
                at=now,
                by=by,
                action=ZoneAction.REBALANCE if to is not None else ZoneAction.RELEASE,
                household_id=household,
                volunteer_from_id=before,
                volunteer_to_id=to,
            )
        )
    ZoneChange.objects.bulk_create(changes)
    _audit_moves(changes, started, by)
    _bump(area, by)
    return len(changes)


def _holder(zones: DistrictZones, household: int) -> int | None:
    for h in zones.households:
        if h.id == household:
            return h.volunteer
    return zones.stale.get(household)


def _check_moves(
    zones: DistrictZones, moves: Iterable[tuple[int, int | None]], *, allow_release: bool
) -> None:
    households = {h.id: h for h in zones.households}
    locked_zones = {v.id for v in zones.volunteers if v.volunteer.zone_locked}
    for household, to in moves:
        target = households.get(household)
        if target is None:
            if allow_release and to is None and household in zones.stale:
                continue
            raise ZoneRefused(
                _("Household %(id)s has no open case in this district.") % {"id": household}
            )
        if target.locked and to != target.volunteer:
            raise ZoneRefused(
                _("Household %(address)s is locked: unlock it first.") % {"address": target.address}
            )
        if target.volunteer in locked_zones and to != target.volunteer:
            raise ZoneRefused(
                _("The zone of %(name)s is locked.") % {"name": _name(zones, target.volunteer)}
            )
        if to is None:
            if not allow_release:
                raise ZoneRefused(_("Choose a volunteer."))
            continue
        person = zones.volunteer(to)
        if person is None:
            raise ZoneRefused(_("That volunteer is not one of this district's."))
        if not person.active:
            raise ZoneRefused(_("%(name)s is not active now.") % {"name": person.volunteer.name})
        if person.id in locked_zones and to != target.volunteer:
            raise ZoneRefused(
                _("The zone of %(name)s is locked.") % {"name": person.volunteer.name}
            )
        distance = math.hypot(target.x - person.x, target.y - person.y)
        if distance > zones.max_distance_m:
            raise ZoneRefused(
                _(
                    "Household %(address)s is %(km).1f km from the home of %(name)s, "
                    "beyond this district's limit of %(limit).1f km."
                )
                % {
                    "address": target.address,
                    "km": distance / 1000,
                    "name": person.volunteer.name,
                    "limit": zones.max_distance_m / 1000,
                }
            )


def _name(zones: DistrictZones, volunteer: int | None) -> str:
    person = zones.volunteer(volunteer) if volunteer is not None else None
    return person.volunteer.name if person else "?"


@transaction.atomic
def zone_move(
    *,
    district: District,
    households: Sequence[int],
    to: Volunteer,
    by: User | None,
    expected_version: int | None = None,
) -> int:
    """Move ``households`` into ``to``'s zone, by hand, and lock them there: a
    coordinator's choice is not undone by the next rebalance. Refused (nothing
    moved) when one breaks a rule or the zone would go over capacity, and with
    ``ZonesChanged`` when the zones changed after ``expected_version`` (the
    version the coordinator's page showed). Returns how many households changed
    volunteer."""
    area = _area(district)
    _check(area, expected_version)
    zones = load_zones(district)
    if not households:
        raise ZoneRefused(_("Select households on the map, or a village or cluster, first."))
    moves = [(h, to.pk) for h in households]
    _check_moves(zones, moves, allow_release=False)
    person = zones.volunteer(to.pk)
    if person is None:
        raise ZoneRefused(_("That volunteer is not one of this district's."))
    joining = [h for h in households if _holder(zones, h) != to.pk]
    if person.households + len(joining) > to.capacity:
        raise ZoneRefused(
            _("%(name)s can look after %(capacity)d households; this would make %(count)d.")
            % {"name": to.name, "capacity": to.capacity, "count": person.households + len(joining)}
        )
    now = timezone.now()
    changes = []
    started = []
    for household in households:
        before = _holder(zones, household)
        if before == to.pk:
            ZoneAssignment.objects.filter(household_id=household, ended_at__isnull=True).update(
                locked=True
            )
            continue
        started.append(_reassign(household=household, to=to.pk, locked=True, by=by, now=now))
        changes.append(
            ZoneChange(
                district=district,
                at=now,
                by=by,
                action=ZoneAction.MOVE,
                household_id=household,
                volunteer_from_id=before,
                volunteer_to_id=to.pk,
            )
        )
    ZoneChange.objects.bulk_create(changes)
    _audit_moves(changes, started, by)
    _bump(area, by)
    return len(changes)


@transaction.atomic
def zone_lock(
    *,
    district: District,
    households: Sequence[int],
    locked: bool,
    by: User | None,
    expected_version: int | None = None,
) -> int:
    """Lock (or unlock) households in their current zones. A household in no zone
    cannot be locked: there is nothing to keep. ``expected_version`` as for
    ``zone_move``. Returns how many changed."""
    area = _area(district)
    _check(area, expected_version)
    zones = load_zones(district)
    if not households:
        raise ZoneRefused(_("Select households on the map, or a village or cluster, first."))
    known = {h.id: h for h in zones.households}
    for household in households:
        target = known.get(household)
        if target is None:
            raise ZoneRefused(
                _("Household %(id)s has no open case in this district.") % {"id": household}
            )
        if target.volunteer is None and locked:
            raise ZoneRefused(
                _("Household %(address)s is in no zone: move it to a volunteer first.")
                % {"address": target.address}
            )
    now = timezone.now()
    changing = [
        h for h in households if known[h].volunteer is not None and known[h].locked != locked
    ]
    ZoneAssignment.objects.filter(household_id__in=changing, ended_at__isnull=True).update(
        locked=locked
    )
    ZoneChange.objects.bulk_create(
        ZoneChange(
            district=district,
            at=now,
            by=by,
            action=ZoneAction.LOCK if locked else ZoneAction.UNLOCK,
            household_id=household,
            volunteer_from_id=known[household].volunteer,
            volunteer_to_id=known[household].volunteer,
        )
        for household in changing
    )
    _bump(area, by)
    return len(changing)


@transaction.atomic
def zone_lock_volunteer(
    *,
    district: District,
    volunteer: Volunteer,
    locked: bool,
    by: User | None,
    expected_version: int | None = None,
) -> None:
    """Lock (or unlock) a whole zone: while locked, rebalancing leaves it as it is.
    ``expected_version`` as for ``zone_move``."""
    area = _area(district)
    _check(area, expected_version)
    if volunteer.zone_locked == locked:
        return
    Volunteer.objects.filter(pk=volunteer.pk).update(zone_locked=locked)
    volunteer.zone_locked = locked
    ZoneChange.objects.create(
        district=district,
        at=timezone.now(),
        by=by,
        action=ZoneAction.LOCK_ZONE if locked else ZoneAction.UNLOCK_ZONE,
        volunteer_from=volunteer,
        volunteer_to=volunteer,
    )
    _bump(area, by)


@transaction.atomic
def zone_distance_set(
    *,
    district: District,
    max_distance_m: int,
    by: User | None,
    expected_version: int | None = None,
) -> None:
    """Set how far from home this district's volunteers may be given households.
    Zones are not changed here: the next rebalance moves households now beyond
    the limit (unless locked), and its preview shows which. ``expected_version``
    as for ``zone_move``."""
    area = _area(district)
    _check(area, expected_version)
    if area.max_distance_m == max_distance_m:
        return
    before = area.max_distance_m
    area.max_distance_m = max_distance_m
    area.full_clean(exclude=["district", "updated_by"])
    area.save(update_fields=["max_distance_m"])
    ZoneChange.objects.create(
        district=district,
        at=timezone.now(),
        by=by,
        action=ZoneAction.SETTINGS,
        detail=f"{before} → {max_distance_m} m",
    )
    _bump(area, by)


def zones_rebuild(*, district: District, by: User | None) -> int:
    """Preview and apply in one step: for the demo and the command line, where no
    one looks at a preview in between. Returns how many households changed."""
    preview = zones_preview(load_zones(district))
    return zones_apply(
        district=district,
        moves=[(m.household, m.after) for m in preview.moves],
        version=preview.version,
        by=by,
    )
