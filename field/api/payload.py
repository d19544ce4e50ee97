"""What the tablet app is sent: the sync cursor, and the case querysets behind it.

A cursor is the server time of a sync, less a margin: ``Case.updated_at`` is set
from the application's clock before the transaction that writes it commits, so a
visit saved while a sync runs may carry a time earlier than that sync's, yet be
invisible to it. Going back ``CURSOR_OVERLAP`` sends such a case again next time
rather than never; the tablet replaces a case it already has, so a repeat costs
a few bytes and loses nothing.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Prefetch, QuerySet, prefetch_related_objects
from django.utils import timezone

from field.models import Case, Visit
from field.selectors import User, get_team_case, team_cases

_VISITS = Prefetch("visits", queryset=Visit.objects.select_related("by").order_by("at", "pk"))
_UNUSED_GEOMETRIES = (
    "child__household__subdistrict__geom",
    "child__household__village__area",
    "child__household__village__point",
    "child__household__given_point",
    "whereabouts__subdistrict__geom",
    "whereabouts__given_point",
)
# Far longer than any visit upload's transaction takes.
CURSOR_OVERLAP = dt.timedelta(minutes=1)


def cursor_make(now: dt.datetime | None = None) -> str:
    return ((now or timezone.now()) - CURSOR_OVERLAP).astimezone(dt.UTC).isoformat()


def cursor_read(cursor: str | None) -> dt.datetime | None:
    """The time a cursor stands for; None (a full sync) for none, a garbled one, or
    one from the future, which only a server clock set back could have made."""
    if not cursor:
        return None
    try:
        since = dt.datetime.fromisoformat(cursor)
    except ValueError:
        return None
    if timezone.is_naive(since) or since > timezone.now():
        return None
    return since


def _with_payload(cases: QuerySet[Case]) -> QuerySet[Case]:
    """``cases`` with all the serializer reads: a fixed number of queries for any
    number of cases."""
    return (
        cases.select_related(
            "child__household__village",
            "child__household__subdistrict",
            "whereabouts__subdistrict",
        )
        # A tambon's boundary runs to thousands of vertices: read per case, it would
        # outweigh everything else the sync sends.
        .defer(*_UNUSED_GEOMETRIES)
        .prefetch_related(_VISITS)
    )


def member_cases(user: User, *, since: dt.datetime | None = None) -> QuerySet[Case]:
    """The member's open cases, with what the payload needs; only those changed
    after ``since`` when given."""
    cases = team_cases(user, open_only=True)
    if since is not None:
        cases = cases.filter(updated_at__gt=since)
    return _with_payload(cases).order_by("pk")


def member_case_ids(user: User) -> list[int]:
    return list(team_cases(user, open_only=True).order_by("pk").values_list("pk", flat=True))


def member_case(user: User, pk: int) -> Case:
    """One case of the member's areas (Http404 for any other), with its visits."""
    case = get_team_case(user, pk)
    prefetch_related_objects([case], _VISITS)
    return case
