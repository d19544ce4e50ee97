"""Rows of the population registry (ทะเบียนราษฎร์), checked and made ready to save.

No database here: ``PopulationReader.read`` turns the cells of one row into the
values the importer copies into its staging table, and the problems of the row.
A row is rejected only for a bad national ID or an impossible birth date; an
address that cannot be placed keeps the child (with a warning), because a child
is never dropped for an address problem.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Final, NamedTuple

from field.registry.dates import DateCache
from field.registry.ids import (
    IdentifierKind,
    classify_identifier,
    is_valid_national_id,
)
from field.registry.names import name_key, read_sex, split_title
from field.registry.tables import POPULATION_COLUMNS
from geo.algorithms.thai_address import ParsedAddress, parse_fields
from geo.algorithms.thai_names import THAI_DIGITS, normalise_place_name

ERROR: Final = "error"
WARNING: Final = "warning"

# Thailand's extent with a margin: a point outside it is a typing slip, not a house.
THAILAND_LON = (97.3, 105.7)
THAILAND_LAT = (5.6, 20.5)

_INDEX: Final = {name: i for i, name in enumerate(POPULATION_COLUMNS)}
_ID, _TITLE, _FIRST, _LAST, _SEX, _BIRTH = (
    _INDEX[c] for c in ("national_id", "title", "first_name", "last_name", "sex", "birth_date")
)
_HOUSE, _MOO, _SUB, _DIST, _PROV, _POST = (
    _INDEX[c] for c in ("house_no", "moo", "subdistrict", "district", "province", "postcode")
)
_NATIONALITY, _LAT, _LON = (_INDEX[c] for c in ("nationality", "lat", "lon"))


class Problem(NamedTuple):
    row: int
    field: str
    severity: str
    reason: str


class StagedPerson(NamedTuple):
    """One population row as the importer stages it (the column order of the table)."""

    row: int
    key: str
    national_id: str
    id_kind: str
    title: str
    first_name: str
    last_name: str
    name_key: str
    sex: str
    birth_date: str
    nationality: str
    household_key: str
    house_no: str
    moo: int | None
    address: str
    subdistrict: str | None
    lon: float | None
    lat: float | None


@dataclass(frozen=True, slots=True)
class PlacedArea:
    """What an address's tambon, district, province and postcode resolve to.

    Without a code, ``warning`` says why; the reader adds what follows from it
    (a household unresolved, or placed by its coordinates).
    """

    code: str | None
    warning: str | None


AreaResolver = Callable[[str, str, str, str], PlacedArea]


BoundaryName = tuple[str, str, str]
"""(tambon code, district name key, province name key) of a loaded boundary."""


def boundary_name_index(rows: Iterable[tuple[str, str, str, str]]) -> dict[str, list[BoundaryName]]:
    """Loaded tambons by name key, from (code, tambon, district, province) names."""
    index: dict[str, list[BoundaryName]] = {}
    for code, tambon, district, province in rows:
        key = normalise_place_name(tambon, "subdistrict")
        index.setdefault(key, []).append(
            (
                code,
                normalise_place_name(district, "district"),
                normalise_place_name(province, "province"),
            )
        )
    return index


def make_area_resolver(
    known_codes: Collection[str], boundary_names: Mapping[str, Sequence[BoundaryName]] | None = None
) -> AreaResolver:
    """Resolves address columns to a tambon code through the gazetteer, cached:
    a million rows name a few thousand tambons.

    ``known_codes`` are the tambons with a boundary in the database; a code the
    gazetteer knows but the boundaries lack cannot be stored, so it is unresolved.
    When the gazetteer (DOPA's current list) cannot place a name, the loaded
    boundaries are asked by exact name (``boundary_names``): a deployment's
    boundary file may be older or newer than DOPA's list, and a tambon drawn on
    its map is a place a household can be.
    """
    # Imported here: the gazetteer reads geothai, which the pure readers above don't need.
    from geo.gazetteer import resolve_address_area

    codes = frozenset(known_codes)
    loaded = boundary_names or {}

    def from_boundaries(parsed: ParsedAddress) -> str | None:
        found = loaded.get(normalise_place_name(parsed.subdistrict or "", "subdistrict"), ())
        district = normalise_place_name(parsed.district or "", "district")
        province = normalise_place_name(parsed.province or "", "province")
        fits = [
            code
            for code, in_district, in_province in found
            if (not district or district == in_district)
            and (not province or province == in_province)
        ]
        return fits[0] if len(fits) == 1 else None

    def placed_by_boundary(parsed: ParsedAddress, why: str) -> PlacedArea:
        code = from_boundaries(parsed)
        if code is None:
            return PlacedArea(None, why)
        return PlacedArea(
            code, f"{why}; placed in tambon {code} of the loaded boundaries, by its name"
        )

    @lru_cache(maxsize=65536)
    def resolve(subdistrict: str, district: str, province: str, postcode: str) -> PlacedArea:
        parsed = parse_fields(
            subdistrict=subdistrict or None,
            district=district or None,
            province=province or None,
            postcode=postcode or None,
        )
        if not parsed.subdistrict:
            return PlacedArea(None, "no tambon given")
        found = resolve_address_area(
            parsed.subdistrict, parsed.district, parsed.province, postal_code=parsed.postcode
        )
        written = subdistrict
        if found.status == "not_found":
            return placed_by_boundary(parsed, f"unknown tambon {written!r}")
        if found.entry is None:
            names = ", ".join(f"{c.name_th} ({c.code})" for c in found.candidates[:5])
            if found.status != "abolished":
                # Several current tambons have the name: a map that holds only
                # some of them cannot say which one was meant.
                return PlacedArea(None, f"ambiguous tambon {written!r} could be {names}")
            return placed_by_boundary(parsed, f"abolished tambon {written!r} could be {names}")
        code = found.entry.code
        if code not in codes:
            return placed_by_boundary(parsed, f"tambon {code} has no boundary loaded")
        if found.status == "abolished":
            return PlacedArea(
                code,
                f"tambon {written!r} was abolished; placed in its successor "
                f"{found.entry.name_th} ({code})",
            )
        if "subdistrict" in found.fuzzy:
            return PlacedArea(
                code, f"tambon {written!r} read as {found.entry.name_th} ({code}), a near spelling"
            )
        if found.unmatched:
            parts = ", ".join(found.unmatched)
            return PlacedArea(
                code, f"{parts} does not agree with tambon {found.entry.name_th} ({code})"
            )
        return PlacedArea(code, None)

    return resolve


def digest(*values: object) -> str:
    # md5 is a change detector here, not a safeguard: nobody gains by a collision.
    text = "\x1f".join("" if v is None else str(v) for v in values)
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def read_coordinates(lat_text: str, lon_text: str) -> tuple[float | None, float | None, str | None]:
    """(lon, lat, warning): a point in Thailand, or none with the reason."""
    if not lat_text and not lon_text:
        return None, None, None
    try:
        lat = float(lat_text.translate(THAI_DIGITS))
        lon = float(lon_text.translate(THAI_DIGITS))
    except ValueError:
        return None, None, f"coordinates {lat_text!r}, {lon_text!r} are not numbers: ignored"
    if _in_thailand(lon, lat):
        return lon, lat, None
    if _in_thailand(lat, lon):
        return (
            lat,
            lon,
            f"latitude and longitude were swapped ({lat_text}, {lon_text}): read as swapped",
        )
    return None, None, f"coordinates {lat_text}, {lon_text} are outside Thailand: ignored"


def _in_thailand(lon: float, lat: float) -> bool:
    return THAILAND_LON[0] <= lon <= THAILAND_LON[1] and THAILAND_LAT[0] <= lat <= THAILAND_LAT[1]


_PLAIN_HOUSE_NO = re.compile(r"[0-9]+(?:/[0-9]+)?")


def read_house_no(raw: str) -> str:
    if _PLAIN_HOUSE_NO.fullmatch(raw):
        return raw  # "12", "33/1": nine rows in ten
    text = raw.translate(THAI_DIGITS).strip()
    for prefix in ("บ้านเลขที่", "เลขที่"):
        if text.startswith(prefix):
            text = text[len(prefix) :].strip(" .")
    return " ".join(text.split())


def read_moo(raw: str) -> tuple[int | None, str | None]:
    if not raw:
        return None, None
    if raw.isascii() and raw.isdigit():
        number = int(raw)
    else:
        parsed = parse_fields(moo=raw).moo
        if parsed is None:
            return None, f"หมู่ {raw!r} is not a number: ignored"
        number = parsed
    if not 1 <= number <= 99:
        return None, f"หมู่ {raw!r} is out of range 1-99: ignored"
    return number, None


class PopulationReader:
    """Checks population rows one by one, with caches shared across the file."""

    def __init__(self, *, resolve_area: AreaResolver, today: date) -> None:
        self._resolve_area = resolve_area
        self._date = DateCache(today=today).parse
        # Rows whose address named no tambon but which came with a point: row -> why.
        self.placed_by_point: dict[int, str] = {}

    def read(self, number: int, cells: list[str], problems: list[Problem]) -> StagedPerson | None:
        """The staged row, or None when the row is rejected; problems are appended."""
        raw_id = cells[_ID]
        if len(raw_id) == 13 and raw_id.isascii() and raw_id.isdigit():
            if not is_valid_national_id(raw_id):
                problems.append(
                    Problem(number, "national_id", ERROR, f"check digit does not match ({raw_id})")
                )
                return None
            national_id = raw_id
            kind = IdentifierKind.NON_THAI_ID if raw_id[0] in "067" else IdentifierKind.THAI_ID
        else:
            found = classify_identifier(raw_id)
            if found.kind == IdentifierKind.INVALID:
                reason = found.reason.label if found.reason is not None else "invalid"
                problems.append(
                    Problem(number, "national_id", ERROR, f"{reason} ({raw_id})".lower())
                )
                return None
            national_id, kind = found.value, found.kind
        born = self._date(cells[_BIRTH])
        if isinstance(born, str):
            problems.append(
                Problem(number, "birth_date", ERROR, f"{born} ({cells[_BIRTH] or 'blank'})")
            )
            return None
        title, first = split_title(cells[_FIRST])
        title = cells[_TITLE] or title
        last = cells[_LAST]
        if not first:
            problems.append(Problem(number, "first_name", ERROR, "first name is blank"))
            return None
        key_of_name = name_key(first, last)
        sex = read_sex(cells[_SEX])
        if sex is None:
            problems.append(
                Problem(number, "sex", WARNING, f"sex {cells[_SEX]!r} not understood: left blank")
            )
            sex = ""
        house_no = read_house_no(cells[_HOUSE])
        moo, moo_warning = read_moo(cells[_MOO])
        if moo_warning:
            problems.append(Problem(number, "moo", WARNING, moo_warning))
        area = self._resolve_area(cells[_SUB], cells[_DIST], cells[_PROV], cells[_POST])
        lon, lat, where = read_coordinates(cells[_LAT], cells[_LON])
        if where:
            problems.append(Problem(number, "lat", WARNING, where))
        if area.code is None and lon is not None and area.warning:
            # Only the database can tell whether the point lies in a tambon:
            # the importer finishes this warning once it has looked.
            self.placed_by_point[number] = area.warning
        elif area.code is None:
            problems.append(
                Problem(number, "subdistrict", WARNING, f"{area.warning}: household unresolved")
            )
        elif area.warning:
            problems.append(Problem(number, "subdistrict", WARNING, area.warning))
        address = _address_text(cells, house_no)
        if area.code is not None:
            household = f"{area.code}|{moo or ''}|{house_no}" if house_no else ""
        else:
            household = "?|" + " ".join(address.split()).casefold()
        birth = born.isoformat()
        key = national_id or "n:" + digest(key_of_name, birth, household or address)[:24]
        if not household:
            # No house number: one household per child, not one per หมู่.
            household = f"{area.code}|{moo or ''}|#{key}"
        nationality = cells[_NATIONALITY]
        return StagedPerson(
            number,
            key,
            national_id,
            kind.value,
            title,
            first,
            last,
            key_of_name,
            sex,
            birth,
            nationality,
            household,
            house_no,
            moo,
            address,
            area.code,
            lon,
            lat,
        )


def _address_text(cells: list[str], house_no: str) -> str:
    moo, sub, dist, prov, post = (cells[i] for i in (_MOO, _SUB, _DIST, _PROV, _POST))
    if (
        moo
        and sub
        and dist
        and prov
        and not (moo + sub + dist + prov).startswith(_LEVEL_WORDS)
        and not any(v.startswith(_LEVEL_WORDS) for v in (sub, dist, prov))
    ):
        # The usual row: every part given, none with its level word.
        return f"{house_no} ม.{moo} ต.{sub} อ.{dist} จ.{prov} {post}".strip()
    parts = [house_no]
    for index, mark in ((_MOO, "ม."), (_SUB, "ต."), (_DIST, "อ."), (_PROV, "จ.")):
        value = cells[index]
        if value:
            parts.append(value if value.startswith(_LEVEL_WORDS) else mark + value)
    parts.append(cells[_POST])
    return " ".join(p for p in parts if p)


# A value that already starts with its level word keeps it ("ต.ในเมือง", "หมู่ 4").
_LEVEL_WORDS: Final = ("ต.", "ตำบล", "แขวง", "อ.", "อำเภอ", "เขต", "จ.", "จังหวัด", "ม.", "หมู่")
