"""Writes about education volunteers."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import User
from django.contrib.gis.geos import Point
from django.db import transaction

from field.models import Volunteer, VolunteerKind, volunteer_default_capacity
from geo.models import Village


@transaction.atomic
def volunteer_create(
    *,
    name: str,
    home: Point,
    kind: VolunteerKind | str,
    active_from: dt.date,
    active_to: dt.date | None = None,
    phone: str = "",
    village: Village | None = None,
    capacity: int | None = None,
    user: User | None = None,
) -> Volunteer:
    volunteer = Volunteer(
        name=name,
        home=home,
        kind=kind,
        active_from=active_from,
        active_to=active_to,
        phone=phone,
        village=village,
        capacity=volunteer_default_capacity() if capacity is None else capacity,
        user=user,
    )
    volunteer.full_clean()
    volunteer.save()
    return volunteer


@transaction.atomic
def volunteer_update(
    *,
    volunteer: Volunteer,
    name: str,
    home: Point,
    kind: VolunteerKind | str,
    active_from: dt.date,
    active_to: dt.date | None,
    phone: str,
    village: Village | None,
    capacity: int,
) -> Volunteer:
    """A coordinator's edit of a volunteer. Their zone is not touched here: a new
    home or a lower capacity takes effect at the next rebalance, whose preview
    shows what it moves."""
    volunteer.name = name
    volunteer.home = home
    volunteer.kind = kind
    volunteer.active_from = active_from
    volunteer.active_to = active_to
    volunteer.phone = phone
    volunteer.village = village
    volunteer.capacity = capacity
    volunteer.full_clean()
    volunteer.save()
    return volunteer
