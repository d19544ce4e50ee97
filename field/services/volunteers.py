"""Writes about education volunteers."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import User
from django.contrib.gis.geos import Point
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from field.models import Volunteer, VolunteerKind, volunteer_default_capacity
from field.services.conflicts import ConflictError, conflict_message
from geo.models import Village


class VolunteerChanged(ConflictError):
    """The volunteer was edited by someone else after the form was shown."""


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
    by: User | None = None,
    expected_version: int | None = None,
) -> Volunteer:
    """A coordinator's edit of a volunteer. Their zone is not touched here: a new
    home or a lower capacity takes effect at the next rebalance, whose preview
    shows what it moves.

    ``expected_version``: the ``Volunteer.version`` the form was rendered with;
    when someone saved the volunteer since, ``VolunteerChanged`` (who, when) is
    raised and nothing is written. None: not checked. Only the form's fields are
    written, so a zone lock set meanwhile is never put back.
    """
    saved = (
        Volunteer.objects.select_for_update(of=("self",))
        .select_related("updated_by")
        .only("name", "version", "updated_at", "updated_by")
        .get(pk=volunteer.pk)
    )
    if expected_version is not None and saved.version != expected_version:
        raise VolunteerChanged(
            conflict_message(
                _("Volunteer %(name)s") % {"name": saved.name},
                by=saved.updated_by,
                at=saved.updated_at,
            ),
            by=saved.updated_by,
            at=saved.updated_at,
            version=saved.version,
        )
    volunteer.name = name
    volunteer.home = home
    volunteer.kind = kind
    volunteer.active_from = active_from
    volunteer.active_to = active_to
    volunteer.phone = phone
    volunteer.village = village
    volunteer.capacity = capacity
    volunteer.full_clean()
    now = timezone.now()
    raised = Volunteer.objects.filter(pk=volunteer.pk, version=saved.version).update(
        version=F("version") + 1, updated_at=now, updated_by=by
    )
    if raised != 1:  # under the row lock, only a writer that skipped it
        raise VolunteerChanged(_("Volunteer %(name)s was just changed.") % {"name": saved.name})
    volunteer.version = saved.version + 1
    volunteer.updated_at = now
    volunteer.updated_by = by
    volunteer.save(update_fields=list(_EDITED))
    return volunteer


# What the coordinator's form edits; the rest (the zone lock, the login, the
# version) is written by other services.
_EDITED = (
    "name",
    "home",
    "kind",
    "active_from",
    "active_to",
    "phone",
    "village",
    "capacity",
)
