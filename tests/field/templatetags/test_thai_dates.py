"""Dates in the Buddhist era on Thai pages, the common era on English ones."""

from __future__ import annotations

import datetime as dt

from django.template import Context, Template
from django.utils import translation

from field.templatetags.thai_dates import thaidate

# 20:01 UTC on 21 November 2026 is 03:01 the next morning in Bangkok.
AT = dt.datetime(2026, 11, 21, 20, 1, tzinfo=dt.UTC)


def test_thai_pages_read_the_buddhist_era_in_bangkok_time() -> None:
    with translation.override("th"):
        assert thaidate(AT, "j M Y H:i") == "22 พ.ย. 2569 03:01"
        assert thaidate(dt.date(2026, 5, 16)) == "16 พ.ค. 2569"


def test_english_pages_keep_the_common_era() -> None:
    with translation.override("en"):
        assert thaidate(AT, "j M Y H:i") == "22 Nov 2026 03:01"


def test_nothing_shows_as_nothing() -> None:
    assert thaidate(None) == ""


def test_the_filter_in_a_template() -> None:
    template = Template('{% load thai_dates %}{{ at|thaidate:"j M Y" }}')
    with translation.override("th"):
        assert template.render(Context({"at": AT})) == "22 พ.ย. 2569"
