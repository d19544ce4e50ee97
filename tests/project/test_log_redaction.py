"""Logs are JSON lines with no personal data, even from an error while a request
with a child's name and national ID is handled."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.urls import path

from project.logs import JsonFormatter, PersonalDataFilter, redact

CHILD_NAME = "เด็กชายสมชาย ใจดี"
NATIONAL_ID = "1103700012345"


def boom(request: HttpRequest) -> HttpResponse:
    name = request.POST["name"]
    national_id = request.POST["national_id"]
    raise ValueError(f"cannot place child {name} ({national_id}) at house 12/3")


urlpatterns = [path("boom/", boom)]


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    """What the configured console handler writes, caught instead of stderr."""
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == "console")
    assert isinstance(handler, logging.StreamHandler)
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)


@override_settings(ROOT_URLCONF=__name__)
def test_an_error_in_a_request_logs_no_name_nor_id(log_stream: io.StringIO) -> None:
    client = Client(raise_request_exception=False)
    response = client.post(
        "/boom/?q=" + NATIONAL_ID, {"name": CHILD_NAME, "national_id": NATIONAL_ID}
    )
    assert response.status_code == 500
    output = log_stream.getvalue()
    assert output
    for secret in (NATIONAL_ID, "สมชาย", "ใจดี", "national_id=", CHILD_NAME):
        assert secret not in output
    entries = [json.loads(line) for line in output.splitlines()]
    error = next(e for e in entries if e["logger"] == "django.request")
    assert error["level"] == "ERROR"
    assert error["path"] == "/boom/"
    assert error["method"] == "POST"
    assert error["status"] == 500
    assert "ValueError: cannot place child [redacted] ([redacted])" in error["exception"]


def test_redaction_by_shape() -> None:
    assert redact("id 1-1037-00012-34-5 and 1103700012345") == "id [redacted] and [redacted]"
    assert redact("G123456789012 phone 081-234-5678") == "[redacted] phone [redacted]"
    assert redact("mail somchai@example.org") == "mail [redacted]"
    assert redact("ด.ช. สมชาย ใจดี, tambon 400101") == "[redacted], tambon 400101"
    # Codes of areas, counts and times stay readable.
    assert redact("refreshed 7425 tambons in 12.5 s") == "refreshed 7425 tambons in 12.5 s"


def test_arguments_and_extra_request_data_are_not_written() -> None:
    record = logging.LogRecord(
        "field", logging.WARNING, __file__, 1, "visit for %s refused", (CHILD_NAME,), None
    )
    record.request = object()  # anything on the record beyond the known fields is left out
    assert PersonalDataFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "visit for [redacted] refused"
    assert set(line) == {"time", "level", "logger", "message", "method", "path"}
