"""The refusal of a write made on a state someone else has changed since.

Pages that edit shared state (a tambon's team assignments, a district's
volunteer zones, a volunteer) carry the version they were rendered at; the
service compares it with the row it has locked and raises ``ConflictError``
when they differ, before writing anything. Views answer it with HTTP 409 and the
current state.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import User
from django.utils.translation import gettext as _

from field.templatetags.thai_dates import thaidate


class ConflictError(Exception):
    """Someone else changed ``what`` after the page was loaded; nothing was written."""

    def __init__(
        self,
        message: str,
        *,
        by: User | None = None,
        at: dt.datetime | None = None,
        version: int | None = None,
    ) -> None:
        super().__init__(message)
        self.by = by
        self.at = at
        self.version = version
        """The current version, which a page shown again should carry."""


def conflict_message(what: str, *, by: User | None, at: dt.datetime | None) -> str:
    """The coordinator's message: what changed, who changed it and when (in
    Asia/Bangkok, Buddhist era on a Thai page)."""
    who = (by.get_full_name() or by.get_username()) if by is not None else _("someone else")
    if at is None:
        return _(
            "%(what)s was changed by %(who)s after you opened this page. Nothing of yours "
            "was saved: check the current state below, then try again."
        ) % {"what": what, "who": who}
    when = thaidate(at, "j M Y H:i:s")
    return _(
        "%(what)s was changed by %(who)s at %(time)s, after you opened this page. Nothing "
        "of yours was saved: check the current state below, then try again."
    ) % {"what": what, "who": who, "time": when}


def expected_version(value: str | None) -> int | None:
    """The version a form sent back: None when it sent none (an older page or
    a script, which are not checked); -1, which matches nothing, when garbled."""
    if value is None or value == "":
        return None
    return int(value) if value.isdigit() else -1
