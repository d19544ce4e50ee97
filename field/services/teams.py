"""Writes about search teams: forming them, and giving them areas."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.contrib.auth.models import User
from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from field.models import School, Team, TeamArea
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
) -> TeamArea:
    """Gives ``team`` a whole tambon, or one village cluster of it.

    Refused with a ValidationError that names the place and the team holding it
    when it overlaps a current assignment: a whole tambon overlaps every cluster
    of it. The database's exclusion constraint is the last word, so two
    coordinators assigning at once cannot both succeed.
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
    return area


@transaction.atomic
def team_area_end(*, area: TeamArea, at: dt.datetime | None = None) -> TeamArea:
    """Ends an assignment; it stays on record (visits made before it ended are
    still accepted from the team)."""
    if area.ended_at is None:
        area.ended_at = max(at or timezone.now(), area.assigned_at)
        area.save(update_fields=["ended_at"])
    return area
