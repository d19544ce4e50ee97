"""Writes about search teams."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.models import User
from django.contrib.gis.geos import Point
from django.db import transaction

from field.models import School, Team


@transaction.atomic
def team_create(
    *,
    name: str,
    base_school: School | None = None,
    base_point: Point | None = None,
    members: Sequence[User] = (),
) -> Team:
    """Creates a search team; it sets out from ``base_point``, else from its school."""
    if base_point is None and base_school is not None:
        base_point = base_school.point
    team = Team(name=name, base_school=base_school, base_point=base_point)
    team.full_clean()
    team.save()
    team.members.set(members)
    return team
