"""Rows of a school register (one affiliation's enrolment file), checked.

Schools mistype IDs, so a row whose ID is blank or fails its checksum is kept,
with a warning, and matched later by name, birth date and area. A row is
rejected only when nothing could ever match it (no usable ID and no birth date
or name), or when its academic year or status cannot be read.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from typing import Final, NamedTuple

from field.registry.dates import DateCache
from field.registry.ids import IdentifierKind, classify_identifier
from field.registry.names import name_key, split_title
from field.registry.population import ERROR, WARNING, Problem, digest
from field.registry.tables import ENROLMENT_COLUMNS
from geo.algorithms.thai_names import THAI_DIGITS

_INDEX: Final = {name: i for i, name in enumerate(ENROLMENT_COLUMNS)}
_ID, _FIRST, _LAST, _BIRTH, _CODE, _SCHOOL, _GRADE, _YEAR, _STATUS = (
    _INDEX[c]
    for c in (
        "national_id",
        "first_name",
        "last_name",
        "birth_date",
        "school_code",
        "school_name",
        "grade",
        "academic_year",
        "status",
    )
)
BE_OFFSET: Final = 543

STATUSES: Final = {
    "studying": "studying",
    "กำลังศึกษา": "studying",
    "ศึกษาอยู่": "studying",
    "ปกติ": "studying",
    "graduated": "graduated",
    "จบ": "graduated",
    "จบการศึกษา": "graduated",
    "สำเร็จการศึกษา": "graduated",
    "moved": "moved",
    "ย้าย": "moved",
    "ย้ายออก": "moved",
    "ย้ายสถานศึกษา": "moved",
    "left": "left",
    "ออก": "left",
    "ลาออก": "left",
    "ออกกลางคัน": "left",
    "จำหน่าย": "left",
}

# Grades as every register writes them, read to one form: อ.1-3, ป.1-6, ม.1-6,
# ปวช.1-3, ปวส.1-2. The last grades of school decide who finished rather than dropped out.
FINAL_GRADES: Final = ("ม.6", "ปวช.3", "ปวส.2")
_GRADE_PATTERNS: Final = (
    (re.compile(r"^(?:ปวช|ป\.ว\.ช)\.?\s*(\d)$"), "ปวช."),
    (re.compile(r"^(?:ปวส|ป\.ว\.ส)\.?\s*(\d)$"), "ปวส."),
    (re.compile(r"^(?:อ|อนุบาล|k|kg)\.?\s*(\d)$", re.IGNORECASE), "อ."),
    (re.compile(r"^(?:ป|ประถมศึกษาปีที่|ประถม|p)\.?\s*(\d)$", re.IGNORECASE), "ป."),
    (re.compile(r"^(?:ม|มัธยมศึกษาปีที่|มัธยม|m)\.?\s*(\d)$", re.IGNORECASE), "ม."),
)
_GRADE_NUMBER: Final = re.compile(r"^(?:grade|g)\s*\.?\s*(\d{1,2})$", re.IGNORECASE)


class StagedEnrolment(NamedTuple):
    row: int
    key: str
    national_id: str
    id_kind: str
    first_name: str
    last_name: str
    name_key: str
    birth_date: str | None
    school_code: str
    school_name: str
    grade: str
    academic_year: int
    status: str


@lru_cache(maxsize=4096)
def read_grade(raw: str) -> str:
    """The grade in its short Thai form, or as written when it is not recognised."""
    text = " ".join(raw.translate(THAI_DIGITS).split())
    for pattern, prefix in _GRADE_PATTERNS:
        found = pattern.match(text)
        if found:
            return f"{prefix}{found.group(1)}"
    found = _GRADE_NUMBER.match(text)
    if found:
        number = int(found.group(1))
        if 1 <= number <= 6:
            return f"ป.{number}"
        if 7 <= number <= 12:
            return f"ม.{number - 6}"
    return text


@lru_cache(maxsize=1024)
def read_academic_year(raw: str) -> int | None:
    text = raw.translate(THAI_DIGITS).strip()
    if text.endswith(".0"):
        text = text[:-2]
    if not (text.isascii() and text.isdigit()):
        return None
    year = int(text)
    if 1950 <= year <= 2150:
        year += BE_OFFSET
    return year if 2500 <= year <= 2700 else None


class EnrolmentReader:
    """Checks register rows one by one, with caches shared across the file."""

    def __init__(self, *, today: date) -> None:
        self._date = DateCache(today=today).parse

    def read(
        self, number: int, cells: list[str], problems: list[Problem]
    ) -> StagedEnrolment | None:
        year = read_academic_year(cells[_YEAR])
        if year is None:
            problems.append(
                Problem(
                    number,
                    "academic_year",
                    ERROR,
                    f"academic year {cells[_YEAR] or 'blank'!r} is not a year (e.g. 2568)",
                )
            )
            return None
        status_text = cells[_STATUS].strip().casefold()
        status = STATUSES.get(status_text) if status_text else "studying"
        if status is None:
            problems.append(
                Problem(
                    number,
                    "status",
                    ERROR,
                    f"status {cells[_STATUS]!r} is not one of studying, graduated, moved, left",
                )
            )
            return None
        found = classify_identifier(cells[_ID])
        usable = found.is_usable
        _, first = split_title(cells[_FIRST])
        last = cells[_LAST]
        born = self._date(cells[_BIRTH])
        birth: str | None = None
        if isinstance(born, str):
            if not usable:
                problems.append(
                    Problem(
                        number,
                        "birth_date",
                        ERROR,
                        f"{born} ({cells[_BIRTH] or 'blank'}), and no usable ID: cannot be matched",
                    )
                )
                return None
            problems.append(
                Problem(number, "birth_date", WARNING, f"{born} ({cells[_BIRTH] or 'blank'})")
            )
        else:
            birth = born.isoformat()
        if not first and not usable:
            problems.append(
                Problem(number, "first_name", ERROR, "no name and no usable ID: cannot be matched")
            )
            return None
        if found.kind == IdentifierKind.INVALID:
            reason = found.reason.label if found.reason is not None else "invalid"
            problems.append(
                Problem(
                    number,
                    "national_id",
                    WARNING,
                    f"{reason} ({cells[_ID]}): kept, matched by name and birth date".lower(),
                )
            )
        elif found.kind == IdentifierKind.BLANK:
            problems.append(
                Problem(
                    number, "national_id", WARNING, "no ID: kept, matched by name and birth date"
                )
            )
        key_of_name = name_key(first, last)
        school_code = cells[_CODE].translate(THAI_DIGITS).replace(" ", "")
        grade = read_grade(cells[_GRADE])
        key = (
            found.value
            if usable
            else "n:" + digest(key_of_name, birth, school_code, found.value)[:24]
        )
        return StagedEnrolment(
            number,
            key,
            found.value if usable else found.value[:14],
            found.kind.value,
            first,
            last,
            key_of_name,
            birth,
            school_code[:12],
            cells[_SCHOOL][:200],
            grade[:20],
            year,
            status,
        )
