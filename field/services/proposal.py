"""Accepting a proposed division of a district among its search teams."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from field.models import Team, TeamArea
from field.services.teams import (
    team_area_assign,
    team_area_end,
    team_place_check,
    team_place_lock,
)
from geo.models import District, Subdistrict, VillageCluster


@transaction.atomic
def proposal_accept(
    *,
    district: District,
    mapping: Mapping[str, int],
    teams: Mapping[int, Team],
    by: User | None,
    at: dt.datetime | None = None,
    expected_versions: Mapping[str, int | None] | None = None,
) -> list[TeamArea]:
    """Ends every current assignment in ``district`` and assigns ``mapping``
    (``t<tambon code>`` or ``c<cluster id>`` -> team id), all or nothing.

    ``teams`` are the teams the caller may assign to; a place outside the
    district or a team not among them refuses the whole proposal.
    ``expected_versions``: each tambon's ``TeamPlaceVersion`` as the proposal page
    showed it; when any changed since, ``TeamAreaChanged`` and nothing is written.
    """
    at = at or timezone.now()
    tambons = {s.code: s for s in Subdistrict.objects.filter(district=district).defer("geom")}
    clusters = {
        c.pk: c for c in VillageCluster.objects.filter(subdistrict__district=district).defer("area")
    }
    places: list[tuple[Subdistrict, VillageCluster | None, Team]] = []
    for key, team_id in sorted(mapping.items()):
        team = teams.get(team_id)
        cluster = clusters.get(int(key[1:])) if key[:1] == "c" and key[1:].isdigit() else None
        tambon = tambons.get(key[1:]) if key[:1] == "t" else None
        if cluster is not None:
            tambon = tambons[cluster.subdistrict_id]
        if team is None or tambon is None:
            raise ValidationError(_("The proposal names a place or team outside this district."))
        places.append((tambon, cluster, team))
    # Every tambon's version row first, in code order: the ends and assignments
    # below take them again, and one order keeps two writers from deadlocking.
    locked = team_place_lock(list(tambons.values()))
    for code, expected in sorted((expected_versions or {}).items()):
        if code in locked:
            team_place_check(locked[code], tambons[code], expected)
    current = TeamArea.objects.select_for_update().filter(
        subdistrict__district=district, ended_at__isnull=True
    )
    for area in current:
        team_area_end(area=area, at=at, by=by)
    return [
        team_area_assign(team=team, subdistrict=tambon, cluster=cluster, by=by, at=at)
        for tambon, cluster, team in places
    ]
