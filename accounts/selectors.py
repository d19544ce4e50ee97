"""Reads of devices for the coordinator's page: the devices of the team members and
volunteers in their area (every device for an administrator)."""

from __future__ import annotations

import operator
from functools import reduce

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from accounts.models import Device
from field.models import Role, Team, Volunteer
from field.selectors import AreaScope, user_area


def _managed(user: User) -> AreaScope:
    scope = user_area(user)
    if not scope.may_manage:
        raise PermissionDenied
    return scope


def devices_in_scope(user: User) -> QuerySet[Device]:
    """The devices last used by a member of a team whose district is in the
    user's area, or by a volunteer living there; PermissionDenied for anyone but
    coordinators and administrators."""
    scope = _managed(user)
    devices = Device.objects.select_related("user", "revoked_by")
    if scope.role == Role.ADMINISTRATOR or scope.province is None:
        return devices
    codes = scope.districts or (scope.province,)
    in_area = reduce(operator.or_, (Q(district__code__startswith=c) for c in codes))
    teams = Team.objects.filter(in_area)
    volunteers = Volunteer.objects.filter(
        reduce(operator.or_, (Q(village__code__startswith=c) for c in codes)), user__isnull=False
    )
    return devices.filter(
        Q(user__teams__in=teams) | Q(user_id__in=volunteers.values("user_id"))
    ).distinct()


def get_device(user: User, pk: int) -> Device:
    """One device in the user's area; Http404 for any other, so ids tell nothing."""
    device = devices_in_scope(user).filter(pk=pk).first()
    if device is None:
        raise Http404
    return device
