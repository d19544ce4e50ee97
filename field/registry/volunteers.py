"""Rows of the coordinator's list of education volunteers (อสม.การศึกษา), checked
and made ready to save."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Final, NamedTuple

from field.models import VolunteerKind, volunteer_default_capacity
from field.registry.dates import DateCache
from field.registry.population import ERROR, WARNING, Problem, read_coordinates
from geo.algorithms.thai_names import THAI_DIGITS

VOLUNTEER_COLUMNS: Final[Mapping[str, Sequence[str]]] = {
    "code": ("volunteer code", "รหัส", "รหัสอาสาสมัคร"),
    "name": ("full name", "ชื่อ-นามสกุล", "ชื่อ - นามสกุล", "ชื่อ"),
    "phone": ("telephone", "โทรศัพท์", "เบอร์โทรศัพท์"),
    "lat": ("latitude", "ละติจูด"),
    "lon": ("longitude", "ลองจิจูด"),
    "village": ("village code", "หมู่บ้าน", "รหัสหมู่บ้าน"),
    "kind": ("ประเภท",),
    "capacity": ("จำนวนครัวเรือนที่ดูแลได้",),
    "active_from": ("วันเริ่ม",),
    "active_to": ("วันสิ้นสุด",),
}
VOLUNTEER_OPTIONAL: Final = frozenset({"phone", "village", "kind", "capacity", "active_to"})
CODE_LENGTH: Final = 32


def _key(text: str) -> str:
    return text.replace(".", "").replace(" ", "").replace("_", "").casefold()


KINDS: Final = {
    **{_key(kind.value): kind.value for kind in VolunteerKind},
    **{_key(str(kind.label)): kind.value for kind in VolunteerKind},
    _key("ผู้ปกครอง"): VolunteerKind.PARENT.value,
    _key("ข้าราชการบำนาญ"): VolunteerKind.RETIRED_CIVIL_SERVANT.value,
    _key("ข้าราชการเกษียณ"): VolunteerKind.RETIRED_CIVIL_SERVANT.value,
    _key("ศิษย์เก่า"): VolunteerKind.ALUMNUS.value,
    _key("ปราชญ์ชาวบ้าน"): VolunteerKind.LOCAL_SAGE.value,
    _key("อื่น ๆ"): VolunteerKind.OTHER.value,
    _key("อื่น"): VolunteerKind.OTHER.value,
}
# Dates on the list run into the future (a term ending next year): the registry
# bound of "no later than today" does not apply.
_NO_LIMIT: Final = dt.date(9999, 12, 31)


class StagedVolunteer(NamedTuple):
    row: int
    code: str
    name: str
    phone: str
    lon: float
    lat: float
    village: str | None
    kind: str
    capacity: int
    active_from: dt.date
    active_to: dt.date | None


def read_phone(raw: str) -> str | None:
    """A Thai phone number as the database keeps it (0 and 8-9 digits), or None."""
    digits = raw.translate(THAI_DIGITS).replace("-", "").replace(" ", "")
    if digits.startswith("+66"):
        digits = "0" + digits[3:]
    if digits.isascii() and digits.isdigit() and digits[:1] == "0" and 9 <= len(digits) <= 10:
        return digits
    return None


class VolunteerReader:
    def __init__(self) -> None:
        self._dates = DateCache(today=_NO_LIMIT)

    def read(
        self, number: int, cells: list[str], problems: list[Problem]
    ) -> StagedVolunteer | None:
        code, name, phone_text, lat, lon, village_text, kind_text = cells[:7]
        capacity_text, from_text, to_text = cells[7:]
        code = code.strip()
        if not code:
            problems.append(Problem(number, "code", ERROR, "volunteer code is blank"))
            return None
        if len(code) > CODE_LENGTH:
            problems.append(
                Problem(number, "code", ERROR, f"code {code!r} is over {CODE_LENGTH} characters")
            )
            return None
        name = " ".join(name.split())
        if not name:
            problems.append(Problem(number, "name", ERROR, "name is blank"))
            return None
        x, y, where = read_coordinates(lat, lon)
        if x is None or y is None:
            reason = (where or "a volunteer needs the coordinates of home").removesuffix(
                ": ignored"
            )
            problems.append(Problem(number, "lat", ERROR, reason))
            return None
        if where:
            problems.append(Problem(number, "lat", WARNING, where))
        active_from = self._dates.parse(from_text)
        if isinstance(active_from, str):
            problems.append(
                Problem(number, "active_from", ERROR, f"{active_from} ({from_text or 'blank'})")
            )
            return None
        active_to: dt.date | None = None
        if to_text:
            parsed = self._dates.parse(to_text)
            if isinstance(parsed, str):
                problems.append(Problem(number, "active_to", ERROR, f"{parsed} ({to_text})"))
                return None
            if parsed < active_from:
                problems.append(
                    Problem(
                        number,
                        "active_to",
                        ERROR,
                        f"ends {parsed.isoformat()}, before it starts {active_from.isoformat()}",
                    )
                )
                return None
            active_to = parsed
        phone = ""
        if phone_text:
            read = read_phone(phone_text)
            if read is None:
                problems.append(
                    Problem(
                        number, "phone", WARNING, f"{phone_text!r} is not a Thai phone: left blank"
                    )
                )
            else:
                phone = read
        village: str | None = None
        if village_text:
            digits = village_text.translate(THAI_DIGITS).replace(" ", "")
            if digits.isascii() and digits.isdigit() and len(digits) == 8:
                village = digits
            else:
                problems.append(
                    Problem(
                        number,
                        "village",
                        WARNING,
                        f"village code {village_text!r} is not 8 digits: nearest village taken",
                    )
                )
        kind = VolunteerKind.OTHER.value
        if kind_text:
            found = KINDS.get(_key(kind_text))
            if found is None:
                problems.append(
                    Problem(number, "kind", WARNING, f"unknown kind {kind_text!r}: read as other")
                )
            else:
                kind = found
        capacity = volunteer_default_capacity()
        if capacity_text:
            digits = capacity_text.translate(THAI_DIGITS).replace(",", "").strip()
            if digits.isascii() and digits.isdigit() and int(digits) > 0:
                capacity = int(digits)
            else:
                problems.append(
                    Problem(
                        number,
                        "capacity",
                        WARNING,
                        f"{capacity_text!r} is not a positive whole number: "
                        f"{volunteer_default_capacity()} taken",
                    )
                )
        return StagedVolunteer(
            number,
            code,
            name[:200],
            phone,
            x,
            y,
            village,
            kind,
            capacity,
            active_from,
            active_to,
        )
