"""Who may read the audit log, and which of its events.

Coordinators read the events of their area: those whose tambon (or exported
area's code) lies in their province, or in their districts when they are
narrowed to some. Administrators read every event, including those of no area
(an import report, a child whose home has no tambon). Members, volunteers and
officials read none: the log names the people who did the field work.
"""

from __future__ import annotations

import datetime as dt
import operator
from functools import reduce

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.utils import timezone

from field.models import AuditAction, AuditEvent
from field.selectors import AreaScope, User, user_area


def audit_scope(user: User) -> AreaScope:
    """The reader's scope; PermissionDenied for anyone but a coordinator or an
    administrator."""
    scope = user_area(user)
    if not scope.may_manage:
        raise PermissionDenied
    return scope


def _start_of(day: dt.date) -> dt.datetime:
    # Bounds as instants rather than ``at__date``: the index on ``at`` then serves.
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def audit_events(
    scope: AreaScope,
    *,
    since: dt.date | None = None,
    until: dt.date | None = None,
    username: str = "",
    action: AuditAction | str = "",
) -> QuerySet[AuditEvent]:
    """The events ``scope`` may read, newest first; ``since`` and ``until`` are
    days of Asia/Bangkok, both included; ``username`` exact, case aside."""
    events = AuditEvent.objects.order_by("-at", "-pk")
    if scope.province is not None:
        codes = scope.districts or (scope.province,)
        events = events.filter(reduce(operator.or_, (Q(tambon__startswith=c) for c in codes)))
    if since is not None:
        events = events.filter(at__gte=_start_of(since))
    if until is not None:
        events = events.filter(at__lt=_start_of(until + dt.timedelta(days=1)))
    if username:
        events = events.filter(username__iexact=username)
    if action:
        events = events.filter(action=action)
    return events
