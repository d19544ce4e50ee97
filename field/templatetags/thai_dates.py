"""Dates in the calendar the reader uses: the Buddhist era (พ.ศ.) in Thai, the
common era in English. Thai officials read and file in พ.ศ.; a 2026 on a Thai
page reads as a typing slip."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import dateformat, timezone
from django.utils.translation import get_language

from field.forms import BUDDHIST_ERA_OFFSET

register = template.Library()


@register.filter
def thaidate(value: dt.date | dt.datetime | None, fmt: str = "j M Y") -> str:
    """``value|thaidate:"j M Y H:i"``: Django's ``date`` filter, with the year in
    the Buddhist era when the page is in Thai. Aware datetimes are shown in
    Bangkok time, as ``date`` shows them."""
    if value is None or value == "":
        return ""
    if isinstance(value, dt.datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    if (get_language() or "").startswith("th"):
        # Each digit escaped: dateformat would read a bare digit as itself anyway,
        # but the escape keeps the year literal whatever format letters follow.
        year = "".join(f"\\{digit}" for digit in str(value.year + BUDDHIST_ERA_OFFSET))
        fmt = fmt.replace("Y", year)
    return dateformat.format(value, fmt)
