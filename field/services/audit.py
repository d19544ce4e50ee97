"""The audit log's one writer: who viewed, edited or exported a child's record,
or changed an assignment, when, and from where.

Recorded where the work is done, so that no page can forget it: the write
services record their own writes in their own transaction (a write rolled back
leaves no event), and the selectors that hand out one case record the read.
Lists of many cases (a tablet's sync, "Today", the review page) record one
event per tambon and page view with the number of records in ``detail``, not
one per row: the log says who saw how many children of which tambon, without
growing by a row per child on every sync.

"From where" is the client's address and a short name of its browser and
system. A service has no request: ``field.middleware.AuditOriginMiddleware`` keeps the
request's origin for the length of the request, and a write made outside one
(a command, an import thread) records none. ``X-Forwarded-For`` is believed
only from a proxy listed in ``TAKHAI_TRUSTED_PROXIES`` (``project.security.client_ip``):
anyone else can write whatever they like in it.

``detail`` says what, never who: ids, codes, counts and choice values only,
never a name, an address or an ID number (a database constraint refuses 13
digits in a row).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils import timezone

from field.models import AuditAction, AuditEvent, AuditObject, Case
from field.selectors import user_area
from project import security

User = AbstractBaseUser | AnonymousUser
DEVICE_MAX = 120
DETAIL_MAX = 200

# Most specific first: Edge and Samsung Internet also say "Chrome", Chrome says "Safari".
_BROWSERS = (
    ("EdgA/", "Edge"),
    ("Edg/", "Edge"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("Line/", "LINE"),
    ("Firefox/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("Android", "Android"),
    ("iPad", "iPadOS"),
    ("iPhone", "iOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


@dataclass(frozen=True)
class Origin:
    ip: str | None
    device: str


_ORIGIN: ContextVar[Origin | None] = ContextVar("takhai_audit_origin", default=None)


def client_ip(request: HttpRequest) -> str | None:
    """The client's address as the login throttle sees it (``project.security``),
    None when there is no valid one."""
    return security.client_ip(request) or None


def device_of(user_agent: str) -> str:
    """A short name of the browser and system ("Chrome / Android"), or the start
    of the user agent when neither is recognised."""
    browser = next((name for key, name in _BROWSERS if key in user_agent), "")
    system = next((name for key, name in _SYSTEMS if key in user_agent), "")
    if browser or system:
        return " / ".join(part for part in (browser, system) if part)
    return user_agent[:DEVICE_MAX]


def origin_of(request: HttpRequest) -> Origin:
    return Origin(
        ip=client_ip(request), device=device_of(str(request.META.get("HTTP_USER_AGENT", "")))
    )


@contextmanager
def origin_kept(request: HttpRequest) -> Iterator[None]:
    """Within it, events recorded with no request take ``request``'s origin."""
    token = _ORIGIN.set(origin_of(request))
    try:
        yield
    finally:
        _ORIGIN.reset(token)


def role_of(user: User | None) -> str:
    """The user's role now (kept on the user by ``user_area``); "" for none."""
    if user is None:
        return ""
    try:
        return str(user_area(user).role)
    except PermissionDenied:
        return ""


def case_tambon(case: Case) -> str:
    """The tambon ``case`` lies in (``AreaScope.cases``): its whereabouts', else
    its child's registry household's. No query when those are loaded already."""
    if case.whereabouts_id is not None:
        if Case.whereabouts.is_cached(case) and case.whereabouts is not None:
            return case.whereabouts.subdistrict_id or ""
    elif Case.child.is_cached(case) and type(case.child).household.is_cached(case.child):
        return case.child.household.subdistrict_id or ""
    row = (
        Case.objects.filter(pk=case.pk)
        .values_list(
            "whereabouts_id", "whereabouts__subdistrict_id", "child__household__subdistrict_id"
        )
        .first()
    )
    if row is None:
        return ""
    return (row[1] if row[0] is not None else row[2]) or ""


def common_area(tambons: Iterable[str | None]) -> str:
    """The smallest area holding all ``tambons``: their longest common prefix, cut
    to a whole code (province 2, district 4, tambon 6 digits); "" for none."""
    codes = [code for code in tambons if code]
    if not codes:
        return ""
    prefix = codes[0]
    for code in codes[1:]:
        while not code.startswith(prefix):
            prefix = prefix[:-1]
    return prefix[: len(prefix) // 2 * 2]


@dataclass(frozen=True)
class AuditItem:
    action: AuditAction
    obj_kind: AuditObject
    obj_id: int | None
    tambon: str | None
    detail: str = ""


def _events(
    user: User | None, items: Sequence[AuditItem], request: HttpRequest | None
) -> list[AuditEvent]:
    origin = origin_of(request) if request is not None else _ORIGIN.get()
    person = user if user is not None and user.is_authenticated else None
    role = role_of(person)
    at = timezone.now()
    events = []
    for item in items:
        event = AuditEvent(
            at=at,
            user_id=person.pk if person is not None else None,
            username=person.get_username() if person is not None else "",
            role=role,
            action=item.action,
            obj_kind=item.obj_kind,
            obj_id=item.obj_id,
            tambon=item.tambon or "",
            detail=item.detail[:DETAIL_MAX],
            ip=origin.ip if origin else None,
            device=origin.device[:DEVICE_MAX] if origin else "",
        )
        # Fields only: the model's check constraints would cost a query each, and
        # the database enforces them on the insert anyway.
        event.clean_fields(exclude=["user"])
        events.append(event)
    return events


def audit_record(
    *,
    user: User | None,
    action: AuditAction,
    obj_kind: AuditObject,
    obj_id: int | None,
    tambon: str | None,
    request: HttpRequest | None = None,
    detail: str = "",
) -> AuditEvent:
    """Records one event. ``user`` None: the command line or a background job.
    ``request`` when the caller has it; otherwise the origin of the request being
    served (``AuditOriginMiddleware``), if any."""
    item = AuditItem(action=action, obj_kind=obj_kind, obj_id=obj_id, tambon=tambon, detail=detail)
    (event,) = _events(user, [item], request)
    event.save()
    return event


def audit_records(
    *, user: User | None, items: Sequence[AuditItem], request: HttpRequest | None = None
) -> list[AuditEvent]:
    """Records several events of one user's action in one insert."""
    if not items:
        return []
    return AuditEvent.objects.bulk_create(_events(user, items, request))


def audit_seen(
    *,
    user: User | None,
    obj_kind: AuditObject,
    tambons: Iterable[str | None],
    request: HttpRequest | None = None,
    what: str = "",
) -> list[AuditEvent]:
    """A page view of many records: one VIEW event per tambon, with how many of
    its records were shown (``detail``: "<what> count=<n>"); none for none."""
    counts = Counter(code or "" for code in tambons)
    items = [
        AuditItem(
            action=AuditAction.VIEW,
            obj_kind=obj_kind,
            obj_id=None,
            tambon=code,
            detail=f"{what} count={count}".strip(),
        )
        for code, count in sorted(counts.items())
    ]
    return audit_records(user=user, items=items, request=request)


def audit_cases_seen(
    *, user: User | None, cases: Iterable[Case], request: HttpRequest | None = None, what: str
) -> list[AuditEvent]:
    """``audit_seen`` for cases loaded with their households (no query per case)."""
    return audit_seen(
        user=user,
        obj_kind=AuditObject.CASE,
        tambons=[case_tambon(case) for case in cases],
        request=request,
        what=what,
    )
