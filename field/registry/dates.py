"""Dates in registry files: Buddhist-era, Thai-digit, Thai-month and Excel dates.

Government exports write the Buddhist era (2568 BE = 2025 CE), usually as
dd/mm/yyyy, sometimes with Thai digits or Thai month names; Excel files hold
real dates or serial numbers, and clerks often type a BE year into a date cell.
Anything ambiguous is refused with a reason rather than guessed.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from geo.algorithms.thai_names import THAI_DIGITS

BANGKOK = ZoneInfo("Asia/Bangkok")
BE_OFFSET = 543
# No CE year in a child registry is above 2400, and no BE year is below it.
BE_THRESHOLD = 2400
EARLIEST_YEAR = 1800
# Excel's 1900 system counts from 1899-12-30 once past its fictitious
# 29 Feb 1900 (serial 60); earlier serials are not birth dates of children.
EXCEL_EPOCH = date(1899, 12, 30)
FIRST_EXCEL_SERIAL = 61

REASON_BLANK = "blank"
REASON_FORMAT = "unrecognised date format"
REASON_TWO_DIGIT_YEAR = "two-digit year (write the year in full, e.g. 2560)"
REASON_MONTH = "unknown month name"
REASON_IMPOSSIBLE = "impossible date"
REASON_YEAR = "year out of range"
REASON_FUTURE = "date in the future"
REASON_SERIAL = "Excel serial number out of range"

DateInput = datetime | date | int | float | str | None

_THAI_MONTHS = (
    ("มกราคม", "มค"),
    ("กุมภาพันธ์", "กพ"),
    ("มีนาคม", "มีค"),
    ("เมษายน", "เมย"),
    ("พฤษภาคม", "พค"),
    ("มิถุนายน", "มิย"),
    ("กรกฎาคม", "กค"),
    ("สิงหาคม", "สค"),
    ("กันยายน", "กย"),
    ("ตุลาคม", "ตค"),
    ("พฤศจิกายน", "พย"),
    ("ธันวาคม", "ธค"),
)
_ENGLISH_MONTHS = (
    "january february march april may june july august september october november december"
).split()
# Keys have dots and spaces removed, so "ม.ค.", "ม. ค." and "มค" all match.
MONTHS: dict[str, int] = {
    **{name: i for i, names in enumerate(_THAI_MONTHS, 1) for name in names},
    **{name: i for i, name in enumerate(_ENGLISH_MONTHS, 1)},
    **{name[:3]: i for i, name in enumerate(_ENGLISH_MONTHS, 1)},
}

_TIME_SUFFIX = re.compile(r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)$")
_DMY = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d+)")
_YMD = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_NAMED = re.compile(r"(\d{1,2})\s*([^\d]+?)\s*(\d+)")
# "พ.ศ." marks the Buddhist era, "ค.ศ." the common era; either may precede the year.
_ERA = re.compile(r"(พ\s*\.?\s*ศ|ค\s*\.?\s*ศ)\s*\.?")
# A bare five-digit number in a date column can only be an Excel serial
# (1927-2173) that lost its date format on the way to CSV.
_SERIAL_TEXT = re.compile(r"\d{5}(?:\.\d+)?")


class DateProblem(ValueError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_registry_date(raw: DateInput, *, today: date | None = None) -> date:
    """The CE date ``raw`` stands for; raises ``DateProblem`` with a reason.

    ``today`` (default: today in Bangkok) bounds the date: registry dates are
    births and enrolments, never in the future.
    """
    parsed = _parse(raw)
    limit = today if today is not None else datetime.now(BANGKOK).date()
    if parsed > limit:
        raise DateProblem(REASON_FUTURE)
    return parsed


def _parse(raw: DateInput) -> date:
    # datetime first: it is a subclass of date; bool first: it is a subclass of int.
    if isinstance(raw, datetime):
        return _from_excel_date(raw.date())
    if isinstance(raw, date):
        return _from_excel_date(raw)
    if raw is None:
        raise DateProblem(REASON_BLANK)
    if isinstance(raw, bool):
        raise DateProblem(REASON_FORMAT)
    if isinstance(raw, int | float):
        return _from_serial(raw)
    return _from_text(raw)


def _from_excel_date(value: date) -> date:
    # A BE year typed into an Excel date cell is stored as that year CE.
    year = value.year - BE_OFFSET if value.year > BE_THRESHOLD else value.year
    return _make_date(year, value.month, value.day)


def _from_serial(serial: float) -> date:
    if not math.isfinite(serial) or serial < FIRST_EXCEL_SERIAL:
        raise DateProblem(REASON_SERIAL)
    try:
        value = EXCEL_EPOCH + timedelta(days=math.floor(serial))
    except OverflowError:
        raise DateProblem(REASON_SERIAL) from None
    return _from_excel_date(value)


def _from_text(raw: str) -> date:
    text = " ".join(raw.translate(THAI_DIGITS).replace("\ufeff", "").split())
    if not text:
        raise DateProblem(REASON_BLANK)
    if _SERIAL_TEXT.fullmatch(text):
        return _from_serial(float(text))
    text = _TIME_SUFFIX.sub("", text)
    era, text = _split_era(text)
    if match := _YMD.fullmatch(text):
        year, month, day = match.groups()
        return _make_date(_year(year, era), int(month), int(day))
    if match := _DMY.fullmatch(text):
        day, month, year = match.groups()
        return _make_date(_year(year, era), int(month), int(day))
    if match := _NAMED.fullmatch(text):
        day, month_name, year = match.groups()
        return _make_date(_year(year, era), _month(month_name), int(day))
    raise DateProblem(REASON_FORMAT)


def _split_era(text: str) -> tuple[str | None, str]:
    match = _ERA.search(text)
    if match is None:
        return None, text
    era = "BE" if match.group(1).startswith("พ") else "CE"
    return era, (text[: match.start()] + " " + text[match.end() :]).strip()


def _year(digits: str, era: str | None) -> int:
    if len(digits) <= 2:
        raise DateProblem(REASON_TWO_DIGIT_YEAR)
    if len(digits) != 4:
        raise DateProblem(REASON_FORMAT)
    year = int(digits)
    if era == "BE":
        return year - BE_OFFSET
    if era == "CE":
        return year
    return year - BE_OFFSET if year > BE_THRESHOLD else year


def _month(name: str) -> int:
    key = name.replace(".", "").replace(" ", "").casefold()
    if key not in MONTHS:
        raise DateProblem(REASON_MONTH)
    return MONTHS[key]


def _make_date(year: int, month: int, day: int) -> date:
    """``year`` is already CE."""
    if not EARLIEST_YEAR <= year <= BE_THRESHOLD:
        raise DateProblem(REASON_YEAR)
    try:
        return date(year, month, day)
    except ValueError:
        raise DateProblem(REASON_IMPOSSIBLE) from None


class DateCache:
    """``parse_registry_date`` once per distinct text: a million registry rows
    hold about 7,000 birth dates. ``parse`` gives the date, or the reason it is
    not one."""

    def __init__(self, *, today: date) -> None:
        self._today = today
        self._found: dict[str, date | str] = {}

    def parse(self, raw: str) -> date | str:
        found = self._found.get(raw)
        if found is None:
            try:
                found = parse_registry_date(raw, today=self._today)
            except DateProblem as problem:
                found = problem.reason
            self._found[raw] = found
        return found
