"""Logs as JSON lines on stderr, with no personal data in them.

The log leaves the database's protection (it goes to the container runtime, a
collector, a support ticket), so under the PDPA it must not carry what the
database guards: children's names, national IDs and G codes, phone numbers,
addresses. Code should never log those; ``PersonalDataFilter`` is the net under
that rule, on the handler, so that it covers every logger, Django's included:

- the message is formatted, then redacted, and its arguments dropped;
- an exception's text (a database error quotes the offending row; a ``ValueError``
  quotes the value) is formatted and redacted the same way;
- of a request only the method, the path (never the query string, where search
  terms travel) and the status are written; never its body, headers or cookies.

Redaction is by shape, not by knowledge: 13-digit numbers (national IDs, with or
without dashes), G codes, Thai phone numbers, e-mail addresses, and every run of
Thai script (names and addresses are written in Thai here; it costs the log its
Thai place names, which the area codes beside them give back). A name written
in Latin letters cannot be told from any other word, which is why the rule for
code comes first.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from typing import Any

REDACTED = "[redacted]"
_PATTERNS = (
    # A national ID: 13 digits, maybe written 1-2345-67890-12-3.
    re.compile(r"(?<!\d)\d(?:[- ]?\d){12}(?!\d)"),
    # A G code (a child without a national ID): G and 12 or 13 digits.
    re.compile(r"\bG\d{12,13}\b", re.IGNORECASE),
    # A Thai phone number, mobile or fixed.
    re.compile(r"(?<!\d)0\d{1,2}[- ]?\d{3}[- ]?\d{3,4}(?!\d)"),
    re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"),
    # Thai script, with the spaces inside a run: "ด.ช. สมชาย ใจดี" as one.
    re.compile(r"[\u0E00-\u0E7F]+(?:[ .]+[\u0E00-\u0E7F]+)*"),
)


def redact(text: str) -> str:
    for pattern in _PATTERNS:
        text = pattern.sub(REDACTED, text)
    return text


class PersonalDataFilter(logging.Filter):
    """Redacts the message and exception of every record (see the module docstring)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        # Formatters re-format exc_info when exc_text is empty: drop it once formatted.
        record.exc_info = None
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        request = getattr(record, "request", None)
        if request is not None:
            record.request_method = str(getattr(request, "method", ""))
            record.request_path = redact(str(getattr(request, "path", "")))
            # The request object itself (body, headers, cookies) goes no further.
            record.request = None
        return True


_REQUEST_FIELDS = (
    ("request_method", "method"),
    ("request_path", "path"),
    ("status_code", "status"),
)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, and where
    present the request's method, path and status and the exception's text."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for attribute, key in _REQUEST_FIELDS:
            value = getattr(record, attribute, None)
            if value is not None:
                entry[key] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=str)
