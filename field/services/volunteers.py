"""Writes about education volunteers."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import User
from django.contrib.gis.geos import Point
from django.db import transaction

from field.models import VOLUNTEER_DEFAULT_CAPACITY, Volunteer, VolunteerKind
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
    capacity: int = VOLUNTEER_DEFAULT_CAPACITY,
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
        capacity=capacity,
        user=user,
    )
    volunteer.full_clean()
    volunteer.save()
    return volunteer
