"""Writes about search teams: forming them, and giving them areas."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.contrib.auth.models import User
from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from field.models import AuditAction, AuditObject, School, Team, TeamArea, TeamPlaceVersion
from field.services.audit import audit_record
from field.services.conflicts import ConflictError, conflict_message
from geo.models import District, Subdistrict, VillageCluster


@transaction.atomic
def team_create(
    *,
    name: str,
    base_school: School | None = None,
    base_point: Point | None = None,
    members: Sequence[User] = (),
    district: District | None = None,
) -> Team:
    """Creates a search team; it sets out from ``base_point``, else from its school."""
    if base_point is None and base_school is not None:
        base_point = base_school.point
    if district is None and base_school is not None and base_school.subdistrict_id:
        district = District.objects.filter(code=base_school.subdistrict_id[:4]).first()
    team = Team(name=name, base_school=base_school, base_point=base_point, district=district)
    team.full_clean()
    team.save()
    team.members.set(members)
    return team


def _place(subdistrict: Subdistrict, cluster: VillageCluster | None) -> str:
    if cluster is None:
        return _("tambon %(name)s (%(code)s)") % {
            "name": subdistrict.name_th,
            "code": subdistrict.code,
        }
    return _("cluster %(cluster)s of tambon %(name)s") % {
        "cluster": cluster.name,
        "name": subdistrict.name_th,
    }


class TeamAreaChanged(ConflictError):
    """A tambon's assignments changed after the coordinator's page was shown."""


def team_place_lock(subdistricts: Sequence[Subdistrict]) -> dict[str, TeamPlaceVersion]:
    """The tambons' version rows, locked for this transaction (made on first use),
    in code order so that two writers never wait on each other crosswise."""
    codes = sorted({s.code for s in subdistricts})
    TeamPlaceVersion.objects.bulk_create(
        [TeamPlaceVersion(subdistrict_id=code) for code in codes], ignore_conflicts=True
    )
    rows = TeamPlaceVersion.objects.select_for_update().filter(subdistrict_id__in=codes)
    return {row.subdistrict_id: row for row in rows.order_by("subdistrict_id")}


def team_place_check(
    state: TeamPlaceVersion, subdistrict: Subdistrict, expected: int | None
) -> None:
    """Refuse (``TeamAreaChanged``) a change made on a page that showed the tambon
    at another version than the locked ``state``; None: not checked."""
    if expected is None or state.version == expected:
        return
    raise TeamAreaChanged(
        conflict_message(
            _("The assignment of tambon %(name)s") % {"name": subdistrict.name_th},
            by=state.updated_by,
            at=state.updated_at,
        ),
        by=state.updated_by,
        at=state.updated_at,
        version=state.version,
    )


def team_place_bump(state: TeamPlaceVersion, *, by: User | None, at: dt.datetime) -> None:
    """Raise a locked tambon's version: ``UPDATE ... WHERE version = <the one
    read>``, so that even a writer that skipped the lock cannot slip in between."""
    raised = TeamPlaceVersion.objects.filter(
        subdistrict_id=state.subdistrict_id, version=state.version
    ).update(version=F("version") + 1, updated_at=at, updated_by=by)
    if raised != 1:
        state.refresh_from_db()
        raise TeamAreaChanged(
            conflict_message(
                _("The assignment of tambon %(code)s") % {"code": state.subdistrict_id},
                by=state.updated_by,
                at=state.updated_at,
            ),
            by=state.updated_by,
            at=state.updated_at,
            version=state.version,
        )
    state.version += 1
    state.updated_at = at
    state.updated_by = by


def _holder(subdistrict: Subdistrict, cluster: VillageCluster | None) -> TeamArea | None:
    """The current assignment that overlaps this place, if any."""
    current = TeamArea.objects.filter(subdistrict=subdistrict, ended_at__isnull=True)
    if cluster is None:
        return current.select_related("team", "cluster").first()
    return (
        current.filter(cluster__isnull=True).select_related("team").first()
        or current.filter(cluster=cluster).select_related("team").first()
    )


@transaction.atomic
def team_area_assign(
    *,
    team: Team,
    subdistrict: Subdistrict,
    cluster: VillageCluster | None = None,
    by: User | None,
    at: dt.datetime | None = None,
    expected_version: int | None = None,
) -> TeamArea:
    """Gives ``team`` a whole tambon, or one village cluster of it.

    Refused with a ValidationError that names the place and the team holding it
    when it overlaps a current assignment: a whole tambon overlaps every cluster
    of it. The database's exclusion constraint is the last word, so two
    coordinators assigning at once cannot both succeed.

    ``expected_version``: the tambon's ``TeamPlaceVersion`` the coordinator's page
    showed; when the tambon's assignments changed since, ``TeamAreaChanged`` is
    raised and nothing is written (None: not checked, for the proposal and
    commands, which lock and read the current state themselves).
    """
    at = at or timezone.now()
    if cluster is not None and cluster.subdistrict_id != subdistrict.code:
        raise ValidationError(
            _("Cluster %(cluster)s is not in tambon %(code)s.")
            % {"cluster": cluster.name, "code": subdistrict.code}
        )
    if team.district_id and not subdistrict.code.startswith(team.district_id):
        raise ValidationError(
            _("%(place)s is outside the district of team %(team)s.")
            % {"place": _place(subdistrict, cluster), "team": team.name}
        )
    state = team_place_lock([subdistrict])[subdistrict.code]
    team_place_check(state, subdistrict, expected_version)
    holder = _holder(subdistrict, cluster)
    if holder is not None:
        if holder.team_id == team.pk and holder.cluster_id == (cluster.pk if cluster else None):
            return holder
        place, held = _place(subdistrict, cluster), _place(subdistrict, holder.cluster)
        if place == held:
            raise ValidationError(
                _("Team %(team)s already holds %(place)s: end that assignment first.")
                % {"place": place, "team": holder.team.name}
            )
        raise ValidationError(
            _("%(place)s overlaps %(held)s, which team %(team)s holds: end that first.")
            % {"place": place, "held": held, "team": holder.team.name}
        )
    area = TeamArea(
        team=team, subdistrict=subdistrict, cluster=cluster, assigned_at=at, assigned_by=by
    )
    try:
        with transaction.atomic():
            area.save()
    except IntegrityError as error:
        raise ValidationError(
            _("%(place)s was just assigned to another team.")
            % {"place": _place(subdistrict, cluster)}
        ) from error
    team_place_bump(state, by=by, at=timezone.now())
    audit_record(
        user=by,
        action=AuditAction.ASSIGN,
        obj_kind=AuditObject.TEAM_AREA,
        obj_id=area.pk,
        tambon=subdistrict.code,
        detail=_area_detail(area),
    )
    return area


@transaction.atomic
def team_area_end(
    *,
    area: TeamArea,
    at: dt.datetime | None = None,
    by: User | None = None,
    expected_version: int | None = None,
) -> TeamArea:
    """Ends an assignment; it stays on record (visits made before it ended are
    still accepted from the team).

    ``expected_version`` as for ``team_area_assign``: an assignment changed or
    already ended since the page was shown raises ``TeamAreaChanged``. The end
    itself is ``UPDATE ... WHERE ended_at IS NULL``: two coordinators ending one
    assignment at once end it once, with one audit event.
    """
    subdistrict = area.subdistrict
    state = team_place_lock([subdistrict])[subdistrict.code]
    team_place_check(state, subdistrict, expected_version)
    if area.ended_at is None:
        now = at or timezone.now()
        ended_at = max(now, area.assigned_at)
        ended = TeamArea.objects.filter(pk=area.pk, ended_at__isnull=True).update(ended_at=ended_at)
        if not ended:
            area.refresh_from_db(fields=["ended_at"])
            if expected_version is not None:
                team_place_check(state, subdistrict, -1)
            return area
        area.ended_at = ended_at
        team_place_bump(state, by=by, at=timezone.now())
        audit_record(
            user=by,
            action=AuditAction.UNASSIGN,
            obj_kind=AuditObject.TEAM_AREA,
            obj_id=area.pk,
            tambon=area.subdistrict_id,
            detail=_area_detail(area),
        )
    return area


def _area_detail(area: TeamArea) -> str:
    return f"team={area.team_id} cluster={area.cluster_id or '-'}"
