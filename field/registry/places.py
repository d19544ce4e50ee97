"""Rows of the school list and of the village list, checked and made ready to save."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final, NamedTuple

from field.registry.population import ERROR, WARNING, AreaResolver, Problem, read_coordinates
from geo.algorithms.thai_address import parse_address
from geo.algorithms.thai_names import THAI_DIGITS

SCHOOL_COLUMNS: Final[Mapping[str, Sequence[str]]] = {
    "code": ("school code", "รหัสโรงเรียน", "รหัสสถานศึกษา"),
    "name": ("school name", "ชื่อโรงเรียน", "ชื่อสถานศึกษา"),
    "affiliation": ("สังกัด",),
    "levels": ("levels taught", "ระดับชั้น", "ระดับที่เปิดสอน"),
    "students": ("pupils", "จำนวนนักเรียน"),
    "lat": ("latitude", "ละติจูด"),
    "lon": ("longitude", "ลองจิจูด"),
    "address": ("ที่อยู่",),
    "subdistrict": ("tambon", "ตำบล"),
    "district": ("amphoe", "อำเภอ"),
    "province": ("จังหวัด",),
    "postcode": ("postal code", "รหัสไปรษณีย์"),
}
SCHOOL_OPTIONAL: Final = frozenset(
    {"students", "lat", "lon", "address", "subdistrict", "district", "province", "postcode"}
)
VILLAGE_COLUMNS: Final[Mapping[str, Sequence[str]]] = {
    "code": ("village code", "รหัสหมู่บ้าน"),
    "name": ("village name", "ชื่อหมู่บ้าน"),
    "lat": ("latitude", "ละติจูด"),
    "lon": ("longitude", "ลองจิจูด"),
}
VILLAGE_OPTIONAL: Final = frozenset({"name"})

AFFILIATIONS: Final = {
    **{code: code for code in ("obec", "lao", "opec", "bpp", "onab", "bma", "nfe", "ovec")},
    "สพฐ": "obec",
    "อปท": "lao",
    "สช": "opec",
    "ตชด": "bpp",
    "พศ": "onab",
    "กทม": "bma",
    "กศน": "nfe",
    "อาชีวะ": "ovec",
    "สอศ": "ovec",
}
LEVELS: Final = {
    **{
        value: value
        for value in (
            "preprimary",
            "primary",
            "lower_secondary",
            "upper_secondary",
            "vocational",
            "nonformal",
        )
    },
    "อนุบาล": "preprimary",
    "ก่อนประถม": "preprimary",
    "ปฐมวัย": "preprimary",
    "ประถม": "primary",
    "ประถมศึกษา": "primary",
    "มัธยมต้น": "lower_secondary",
    "มต้น": "lower_secondary",
    "มัธยมปลาย": "upper_secondary",
    "มปลาย": "upper_secondary",
    "อาชีวะ": "vocational",
    "ปวช": "vocational",
    "ปวส": "vocational",
    "กศน": "nonformal",
    "นอกระบบ": "nonformal",
}


class StagedSchool(NamedTuple):
    row: int
    code: str
    name: str
    affiliation: str
    levels: str
    """A PostgreSQL array literal, {primary,lower_secondary}."""
    students: int
    lon: float | None
    lat: float | None
    subdistrict: str | None


class StagedVillage(NamedTuple):
    row: int
    code: str
    name: str
    lon: float
    lat: float


def _key(text: str) -> str:
    return text.replace(".", "").replace(" ", "").casefold()


def read_levels(raw: str) -> list[str] | None:
    parts = [p for p in raw.replace(",", "|").replace(";", "|").replace("/", "|").split("|")]
    levels: list[str] = []
    for part in parts:
        if not part.strip():
            continue
        level = LEVELS.get(_key(part))
        if level is None:
            return None
        if level not in levels:
            levels.append(level)
    return levels or None


class SchoolReader:
    def __init__(self, *, resolve_area: AreaResolver) -> None:
        self._resolve_area = resolve_area

    def read(self, number: int, cells: list[str], problems: list[Problem]) -> StagedSchool | None:
        code, name, affiliation_text, levels_text, students_text, lat, lon = cells[:7]
        address, subdistrict, district, province, postcode = cells[7:]
        code = code.translate(THAI_DIGITS).replace(" ", "")
        if not (code.isascii() and code.isdigit() and 10 <= len(code) <= 12):
            problems.append(
                Problem(number, "code", ERROR, f"school code {code!r} is not 10-12 digits")
            )
            return None
        affiliation = AFFILIATIONS.get(_key(affiliation_text))
        if affiliation is None:
            problems.append(
                Problem(number, "affiliation", ERROR, f"unknown affiliation {affiliation_text!r}")
            )
            return None
        if affiliation == "obec" and len(code) != 10:
            problems.append(Problem(number, "code", ERROR, f"an OBEC code has 10 digits: {code}"))
            return None
        if not name:
            problems.append(Problem(number, "name", ERROR, "school name is blank"))
            return None
        levels = read_levels(levels_text)
        if levels is None:
            problems.append(
                Problem(number, "levels", ERROR, f"levels {levels_text!r} not understood")
            )
            return None
        students = 0
        if students_text:
            digits = students_text.translate(THAI_DIGITS).replace(",", "")
            if not digits.isdigit():
                problems.append(
                    Problem(number, "students", WARNING, f"{students_text!r} is not a number: 0")
                )
            else:
                students = int(digits)
        x, y, where = read_coordinates(lat, lon)
        if where:
            problems.append(Problem(number, "lat", WARNING, where))
        tambon: str | None = None
        if address and not subdistrict:
            parsed = parse_address(address)
            subdistrict = parsed.subdistrict or ""
            district = district or parsed.district or ""
            province = province or parsed.province or ""
            postcode = postcode or parsed.postcode or ""
        # A point decides the tambon (see _apply_schools): the address is read only without one.
        if subdistrict and x is None:
            area = self._resolve_area(subdistrict, district, province, postcode)
            tambon = area.code
            if area.warning:
                what = area.warning if area.code else f"{area.warning}: school unplaced"
                problems.append(Problem(number, "subdistrict", WARNING, what))
        return StagedSchool(
            number,
            code,
            name[:200],
            affiliation,
            "{" + ",".join(levels) + "}",
            students,
            x,
            y,
            tambon,
        )


class VillageReader:
    def __init__(self, *, known_tambons: frozenset[str]) -> None:
        self._tambons = known_tambons

    def read(self, number: int, cells: list[str], problems: list[Problem]) -> StagedVillage | None:
        code, name, lat, lon = cells
        code = code.translate(THAI_DIGITS).replace(" ", "")
        if not (code.isascii() and code.isdigit() and len(code) == 8 and code[6:] != "00"):
            problems.append(
                Problem(
                    number, "code", ERROR, f"village code {code!r} is not 8 digits (tambon + หมู่)"
                )
            )
            return None
        if code[:6] not in self._tambons:
            problems.append(
                Problem(number, "code", ERROR, f"tambon {code[:6]} of village {code} is not loaded")
            )
            return None
        x, y, where = read_coordinates(lat, lon)
        if x is None or y is None:
            problems.append(
                Problem(number, "lat", ERROR, where or "a village needs its coordinates")
            )
            return None
        if where:
            problems.append(Problem(number, "lat", WARNING, where))
        return StagedVillage(number, code, (name or f"หมู่ {int(code[6:])}")[:100], x, y)
