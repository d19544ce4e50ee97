"""The gazetteer: the current DOPA code list joined to the boundary tables.

Names and codes come from ``geothai`` (DOPA's list of 77 provinces, 928 districts
and 7,436 tambons, with postal codes and the areas DOPA abolished). Whether an area
has a polygon comes from ``Province``, ``District`` and ``Subdistrict``, which hold
the Royal Thai Survey Department's 2019 boundaries; the two lists differ
(``compare_with_boundaries``), and that difference is reported, never hidden.

The name indexes are built once per process from ``geothai`` and never change. The
set of codes that have a boundary is read from the database (one query) and kept
for ``BOUNDARY_CACHE_SECONDS``: the boundary importer usually runs in another
process, so a web worker cannot be told, and a short expiry bounds how stale it
gets. Code that changes the boundary tables in this process (the importer, tests)
calls ``clear_cache()``.

Names are compared by ``normalise_place_name`` keys: an exact key match first, then,
only when there is none, a fuzzy match (rapidfuzz ``fuzz.ratio`` on the keys, which
is 100 * (1 - Indel distance / total length)) of at least ``FUZZY_CUTOFF``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date
from functools import cache, lru_cache
from typing import Any, Final, Literal

import geothai
from geothai.abolished import abolished_areas
from rapidfuzz import fuzz, process

from geo.algorithms.thai_names import LEVELS, THAI_DIGITS, Level, normalise_place_name
from geo.models import District, Province, Subdistrict

__all__ = [
    "BOUNDARY_CACHE_SECONDS",
    "FUZZY_CUTOFF",
    "AbolishedArea",
    "AreaResolution",
    "DiffRow",
    "GazetteerDiff",
    "GazetteerEntry",
    "LevelDiff",
    "Match",
    "clear_cache",
    "compare_with_boundaries",
    "find",
    "lookup_abolished",
    "lookup_code",
    "resolve_address_area",
]

# One slip in a 7-letter name scores about 86 and one in a 5-letter name 80, so
# names of 4 letters or fewer only match exactly. Measured on 1,500 random tambons
# with one random typing slip each: at 80, 98% are found within their district
# (97% as the only candidate), while a real name from elsewhere fuzzily matches
# something in a district 0.4% of the time and in a province 3.6%. At 75 those
# false matches double; at 85 a sixth of the slips are missed.
FUZZY_CUTOFF: Final = 80.0
BOUNDARY_CACHE_SECONDS: Final = 60.0

_CODE = re.compile(r"^(?:TH)?([0-9]{2}|[0-9]{4}|[0-9]{6})$")
# Bangkok has no capital district, so "เขตเมือง" means nothing there.
_BANGKOK = "10"
_CAPITAL_DISTRICT_ALIASES: Final = ("เมือง", "mueang")


@dataclass(frozen=True, slots=True)
class GazetteerEntry:
    """A current province, district or tambon."""

    level: Level
    code: str
    name_th: str
    name_en: str
    parent_code: str | None
    postal_codes: tuple[str, ...]
    """Thailand Post codes of a tambon (some have two or three); empty above tambons."""
    has_boundary: bool
    """Whether the boundary tables hold a polygon with this code."""

    @property
    def province_code(self) -> str:
        return self.code[:2]


@dataclass(frozen=True, slots=True)
class Match(GazetteerEntry):
    """A ``find`` result: the entry and how well its name matched (100 = same key)."""

    score: float

    @property
    def exact(self) -> bool:
        return self.score >= 100.0


@dataclass(frozen=True, slots=True)
class AbolishedArea:
    """A district or tambon DOPA abolished; old records and the 2019 survey hold them."""

    level: Level
    code: str
    name_th: str
    name_en: str | None
    abolished_on: date
    successors: tuple[str, ...]
    """Current codes that took its place; empty when DOPA's notice is unknown."""
    source: str | None


# --- static indexes (geothai never changes within a process) -------------------


_NameIndex = dict[Level, dict[str, tuple[str, ...]]]


@dataclass(frozen=True, slots=True)
class _Index:
    entries: dict[str, GazetteerEntry]
    names: _NameIndex
    """Per level: name key -> codes carrying that name."""
    keys: dict[str, frozenset[str]]
    """Code -> its name keys, to check a name against a known code."""
    abolished: dict[str, AbolishedArea]
    abolished_names: _NameIndex
    successors_of: dict[str, tuple[str, ...]]
    """Current code -> the abolished codes it replaced."""


def _geothai_entries() -> Iterator[GazetteerEntry]:
    for p in geothai.provinces():
        yield GazetteerEntry("province", p.code, p.name_th, p.name_en, None, (), False)
        for d in geothai.districts(p.code):
            yield GazetteerEntry("district", d.code, d.name_th, d.name_en, p.code, (), False)
            for s in geothai.subdistricts(d.code):
                yield GazetteerEntry(
                    "subdistrict",
                    s.code,
                    s.name_th,
                    s.name_en,
                    d.code,
                    tuple(s.postal_codes),
                    False,
                )


def _name_variants(name: str) -> Iterator[str]:
    """The name, and for "ปอภาร (ปอพาน)" each of its two spellings as well."""
    yield name
    head, bracket, rest = name.partition("(")
    if bracket:
        yield head
        yield rest.rstrip(")")


def _keys(level: Level, code: str, names: Iterable[str | None]) -> frozenset[str]:
    keys = {
        normalise_place_name(variant, level)
        for name in names
        if name
        for variant in _name_variants(name)
    }
    if level == "district" and code.endswith("01") and not code.startswith(_BANGKOK):
        # "อ.เมือง" with the province is how addresses name the capital district.
        keys.update(_CAPITAL_DISTRICT_ALIASES)
    keys.discard("")
    return frozenset(keys)


def _group(pairs: Iterable[tuple[Level, str, frozenset[str]]]) -> _NameIndex:
    grouped: dict[Level, dict[str, list[str]]] = {lv: {} for lv in LEVELS}
    for level, code, keys in pairs:
        for key in keys:
            grouped[level].setdefault(key, []).append(code)
    return {lv: {k: tuple(sorted(v)) for k, v in by_key.items()} for lv, by_key in grouped.items()}


def _abolished_areas() -> dict[str, AbolishedArea]:
    return {
        a.code: AbolishedArea(
            level=a.level,
            code=a.code,
            name_th=a.name_th,
            name_en=a.name_en,
            abolished_on=date.fromisoformat(a.abolished_on),
            successors=tuple(a.successors),
            source=a.successors_source,
        )
        for a in abolished_areas()
    }


@cache
def _index() -> _Index:
    entries = {e.code: e for e in _geothai_entries()}
    keys = {e.code: _keys(e.level, e.code, (e.name_th, e.name_en)) for e in entries.values()}
    abolished = _abolished_areas()
    abolished_keys = (
        (a.level, a.code, _keys(a.level, a.code, (a.name_th, a.name_en)))
        for a in abolished.values()
    )
    successors_of: dict[str, list[str]] = {}
    for a in abolished.values():
        for successor in a.successors:
            successors_of.setdefault(successor, []).append(a.code)
    return _Index(
        entries=entries,
        names=_group((entries[c].level, c, k) for c, k in keys.items()),
        keys=keys,
        abolished=abolished,
        abolished_names=_group(abolished_keys),
        successors_of={c: tuple(sorted(v)) for c, v in successors_of.items()},
    )


@lru_cache(maxsize=4096)
def _fuzzy_choices(level: Level, prefix: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Name keys of one level under a parent code, with the code each belongs to."""
    pairs = sorted(
        (key, code)
        for key, codes in _index().names[level].items()
        for code in codes
        if code.startswith(prefix)
    )
    return tuple(k for k, _ in pairs), tuple(c for _, c in pairs)


# --- boundary codes (database state, cached for a short while) -----------------


class _BoundaryCodes:
    """Codes present in the boundary tables, re-read after ``ttl`` seconds."""

    def __init__(self, ttl: float) -> None:
        self._ttl = ttl
        self._loaded: tuple[float, frozenset[str]] | None = None

    def get(self) -> frozenset[str]:
        loaded = self._loaded
        now = time.monotonic()
        if loaded is None or now - loaded[0] > self._ttl:
            loaded = (now, _read_boundary_codes())
            self._loaded = loaded
        return loaded[1]

    def clear(self) -> None:
        self._loaded = None


def _read_boundary_codes() -> frozenset[str]:
    provinces = Province.objects.values_list("code", flat=True)
    query = provinces.union(
        District.objects.values_list("code", flat=True),
        Subdistrict.objects.values_list("code", flat=True),
        all=True,
    )
    return frozenset(query)


_boundary_codes = _BoundaryCodes(BOUNDARY_CACHE_SECONDS)


def clear_cache() -> None:
    """Forgets which codes have a boundary; call it after changing the boundary tables."""
    _boundary_codes.clear()


# --- codes ---------------------------------------------------------------------


def _parse_code(text: str) -> str | None:
    found = _CODE.match(text.strip().upper().translate(THAI_DIGITS))
    return found.group(1) if found else None


def lookup_code(code: str) -> GazetteerEntry | None:
    """Finds a current area by DOPA code: "40", "4001", "400101" or "TH400101".

    Returns:
        The entry, or None for a code that is malformed, abolished (see
        ``lookup_abolished``) or never existed.
    """
    parsed = _parse_code(code)
    entry = _index().entries.get(parsed) if parsed else None
    if entry is None:
        return None
    return replace(entry, has_boundary=entry.code in _boundary_codes.get())


def lookup_abolished(code: str) -> AbolishedArea | None:
    """Finds an abolished district or tambon by its old code ("104701", "TH104701")."""
    parsed = _parse_code(code)
    return _index().abolished.get(parsed) if parsed else None


# --- names ---------------------------------------------------------------------


def _in_scope(code: str, prefixes: tuple[str, ...]) -> bool:
    return any(code.startswith(p) and len(code) > len(p) for p in prefixes)


def _matches(scored: dict[str, float]) -> list[Match]:
    boundaries = _boundary_codes.get()
    entries = _index().entries
    found = [_match(entries[code], code in boundaries, score) for code, score in scored.items()]
    return sorted(found, key=lambda m: (-m.score, LEVELS.index(m.level), m.code))


def _match(e: GazetteerEntry, has_boundary: bool, score: float) -> Match:
    return Match(
        e.level, e.code, e.name_th, e.name_en, e.parent_code, e.postal_codes, has_boundary, score
    )


def _exact_codes(name: str, levels: Iterable[Level], prefixes: tuple[str, ...]) -> dict[str, float]:
    names = _index().names
    return {
        code: 100.0
        for level in levels
        for code in names[level].get(normalise_place_name(name, level), ())
        if _in_scope(code, prefixes)
    }


def _fuzzy_codes(name: str, levels: Iterable[Level], prefixes: tuple[str, ...]) -> dict[str, float]:
    scored: dict[str, float] = {}
    for level in levels:
        query = normalise_place_name(name, level)
        if not query:
            continue
        for prefix in prefixes:
            keys, codes = _fuzzy_choices(level, prefix)
            hits = process.extract(
                query, keys, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF, limit=None
            )
            for _key, score, position in hits:
                code = codes[position]
                scored[code] = max(score, scored.get(code, 0.0))
    return scored


def _search(name: str, levels: tuple[Level, ...], prefixes: tuple[str, ...]) -> list[Match]:
    scored = _exact_codes(name, levels, prefixes) or _fuzzy_codes(name, levels, prefixes)
    return _matches(scored)


def _scope(within: str | None) -> tuple[str, ...]:
    if within is None:
        return ("",)
    parsed = _parse_code(within)
    if parsed is None or len(parsed) == 6:
        raise ValueError(f"within must be a province or district code, not {within!r}")
    return (parsed,)


def find(
    name: str,
    *,
    level: Level | None = None,
    within: str | None = None,
    limit: int | None = None,
) -> list[Match]:
    """Finds current areas by a Thai or English name, best first.

    Level words, abbreviations and spelling variants are read (see
    ``normalise_place_name``). When some area's name matches exactly, only exact
    matches are returned (score 100): a correctly spelled name is not also a
    misspelling of its neighbours. Otherwise the fuzzy matches scoring at least
    ``FUZZY_CUTOFF`` are returned.

    Args:
        name: The name, such as "ต.บ้านฝาง", "Ban Fang" or "บ้านฝัง".
        level: Only areas of this level; all levels when None.
        within: A province or district code ("40", "4001", "TH40"): only areas inside it.
        limit: At most this many results; all when None.

    Returns:
        Matches ordered by score, then province before district before tambon,
        then code. Each is a ``GazetteerEntry`` with a ``score``.

    Raises:
        ValueError: ``within`` is not a province or district code.
    """
    prefixes = _scope(within)
    levels = LEVELS if level is None else (level,)
    found = _search(name, levels, prefixes)
    return found if limit is None else found[:limit]


# --- addresses -----------------------------------------------------------------

Status = Literal["resolved", "ambiguous", "abolished", "not_found"]
AddressPart = Literal["subdistrict", "district", "province", "postal_code"]


@dataclass(frozen=True, slots=True)
class AreaResolution:
    """Which tambon an address names, or why no single one can be chosen.

    - ``resolved``: ``entry`` is the tambon.
    - ``ambiguous``: ``candidates`` holds every tambon that fits; more of the
      address (district, province, postal code) is needed.
    - ``abolished``: the name or code is a tambon DOPA abolished (``abolished``);
      the ``candidates`` are its successors, and ``entry`` is set when there is
      just one.
    - ``not_found``: no current or abolished tambon fits.

    ``unmatched`` names the given parts the result does not agree with: a district
    or province that was not recognised or does not contain the tambon, or a postal
    code the tambon does not use. ``fuzzy`` names the parts recognised only by a
    fuzzy (misspelt) match. Either makes a result worth a person's review.
    """

    status: Status
    entry: GazetteerEntry | None = None
    candidates: tuple[Match, ...] = ()
    abolished: tuple[AbolishedArea, ...] = ()
    unmatched: tuple[AddressPart, ...] = ()
    fuzzy: tuple[AddressPart, ...] = ()

    @property
    def resolved(self) -> bool:
        return self.entry is not None

    @property
    def needs_review(self) -> bool:
        return bool(self.unmatched or self.fuzzy)


@dataclass(frozen=True, slots=True)
class _Scope:
    prefixes: tuple[str, ...]
    dropped: tuple[AddressPart, ...]
    """Given parts a tambon found here is not inside."""


@dataclass(frozen=True, slots=True)
class _Parents:
    scopes: tuple[_Scope, ...]
    """Where to look for the tambon, narrowest first."""
    unmatched: tuple[AddressPart, ...]
    fuzzy: tuple[AddressPart, ...]


def _given(text: str | None) -> bool:
    return bool(text and text.strip())


def _parent_matches(
    name: str | None, level: Level, prefixes: tuple[str, ...]
) -> tuple[tuple[str, ...], bool]:
    """Codes of the areas a district or province name fits, and whether exactly."""
    if name is None or not name.strip():
        return (), True
    found = _search(name, (level,), prefixes)
    return tuple(m.code for m in found), all(m.exact for m in found)


def _parents(district: str | None, province: str | None) -> _Parents:
    provinces, province_exact = _parent_matches(province, "province", ("",))
    districts, district_exact = _parent_matches(district, "district", provinces or ("",))
    unmatched: list[AddressPart] = []
    if _given(province) and not provinces:
        unmatched.append("province")
    if _given(district) and not districts:
        unmatched.append("district")
    fuzzy: list[AddressPart] = [] if province_exact else ["province"]
    if not district_exact:
        fuzzy.append("district")
    drop_district: tuple[AddressPart, ...] = ("district",) if districts else ()
    scopes = [_Scope(districts, ())] if districts else []
    scopes.append(_Scope(provinces or ("",), drop_district))
    return _Parents(tuple(scopes), tuple(unmatched), tuple(fuzzy))


def _by_postal_code(
    matches: list[Match], postal_code: str | None
) -> tuple[list[Match], tuple[AddressPart, ...]]:
    if postal_code is None or not postal_code.strip():
        return matches, ()
    postal = postal_code.strip().translate(THAI_DIGITS)
    kept = [m for m in matches if postal in m.postal_codes]
    return (kept, ()) if kept else (matches, ("postal_code",))


def _current(
    found: list[Match],
    unmatched: tuple[AddressPart, ...],
    fuzzy: tuple[AddressPart, ...],
    postal_code: str | None,
) -> AreaResolution:
    found, postal_unmatched = _by_postal_code(found, postal_code)
    parts = (*unmatched, *postal_unmatched)
    if not all(m.exact for m in found):
        fuzzy = ("subdistrict", *fuzzy)
    status: Status = "resolved" if len(found) == 1 else "ambiguous"
    entry = found[0] if len(found) == 1 else None
    return AreaResolution(status, entry, tuple(found), unmatched=parts, fuzzy=fuzzy)


def _from_abolished(
    codes: Iterable[str], unmatched: tuple[AddressPart, ...], fuzzy: tuple[AddressPart, ...]
) -> AreaResolution:
    index = _index()
    areas = tuple(index.abolished[c] for c in sorted(codes))
    successors = {s: 100.0 for a in areas for s in a.successors if s in index.entries}
    candidates = tuple(_matches(successors))
    entry = candidates[0] if len(candidates) == 1 else None
    return AreaResolution("abolished", entry, candidates, areas, unmatched, fuzzy)


def _abolished_codes(name: str, prefixes: tuple[str, ...]) -> list[str]:
    key = normalise_place_name(name, "subdistrict")
    codes = _index().abolished_names["subdistrict"].get(key, ())
    return [c for c in codes if _in_scope(c, prefixes)]


def _resolve_name(
    subdistrict: str, district: str | None, province: str | None, postal_code: str | None
) -> AreaResolution:
    parents = _parents(district, province)
    levels: tuple[Level, ...] = ("subdistrict",)
    # Exact names in any scope beat fuzzy ones: a tambon moved to a new district
    # keeps its name, and a near-name in the old district is another tambon.
    for scope in parents.scopes:
        exact = _matches(_exact_codes(subdistrict, levels, scope.prefixes))
        if exact:
            unmatched = (*parents.unmatched, *scope.dropped)
            return _current(exact, unmatched, parents.fuzzy, postal_code)
    for scope in parents.scopes:
        old = _abolished_codes(subdistrict, scope.prefixes)
        if old:
            return _from_abolished(old, (*parents.unmatched, *scope.dropped), parents.fuzzy)
    for scope in parents.scopes:
        fuzzy = _matches(_fuzzy_codes(subdistrict, levels, scope.prefixes))
        if fuzzy:
            unmatched = (*parents.unmatched, *scope.dropped)
            return _current(fuzzy, unmatched, parents.fuzzy, postal_code)
    return AreaResolution("not_found", unmatched=parents.unmatched, fuzzy=parents.fuzzy)


def _names_agree(code: str, name: str | None, level: Level) -> bool:
    if name is None or not name.strip():
        return True
    return normalise_place_name(name, level) in _index().keys[code]


def _resolve_code(
    code: str, district: str | None, province: str | None, postal_code: str | None
) -> AreaResolution:
    entry = lookup_code(code)
    if entry is None:
        old = lookup_abolished(code)
        return _from_abolished([code], (), ()) if old else AreaResolution("not_found")
    unmatched: list[AddressPart] = []
    if not _names_agree(code[:2], province, "province"):
        unmatched.append("province")
    if not _names_agree(code[:4], district, "district"):
        unmatched.append("district")
    found = _matches({entry.code: 100.0})
    return _current(found, tuple(unmatched), (), postal_code)


def resolve_address_area(
    subdistrict: str,
    district: str | None = None,
    province: str | None = None,
    *,
    postal_code: str | None = None,
) -> AreaResolution:
    """Picks the one tambon an address names, from names or a 6-digit code.

    The tambon is looked for inside the district, then inside the province (a
    tambon moved to a new district keeps its name), and nationwide only when no
    province is recognised. Exact names are tried in every scope before abolished
    names, and those before fuzzy names. A postal code only narrows candidates.

    Args:
        subdistrict: "ต.บ้านฝาง", "Ban Fang", "400201" or "TH400201".
        district: "อ.บ้านฝาง", "อ.เมือง", "เขตบางนา", or None.
        province: "จ.ขอนแก่น", "กทม.", "Khon Kaen", or None.
        postal_code: Five digits, or None.
    """
    code = _parse_code(subdistrict)
    if code is not None and len(code) == 6:
        return _resolve_code(code, district, province, postal_code)
    if not normalise_place_name(subdistrict, "subdistrict"):
        return AreaResolution("not_found")
    return _resolve_name(subdistrict, district, province, postal_code)


# --- the gazetteer against the boundary tables ---------------------------------


@dataclass(frozen=True, slots=True)
class DiffRow:
    """A code on one side only, with a note on what happened to it."""

    level: Level
    code: str
    name_th: str
    name_en: str
    note: str
    abolished: AbolishedArea | None = None
    """For a boundary-only code: DOPA's record of its abolition, if there is one."""
    replaces: tuple[str, ...] = ()
    """For a gazetteer-only code: the abolished codes it took the place of."""


@dataclass(frozen=True, slots=True)
class LevelDiff:
    level: Level
    gazetteer_count: int
    boundary_count: int
    only_in_gazetteer: tuple[DiffRow, ...]
    only_in_boundaries: tuple[DiffRow, ...]

    @property
    def in_both(self) -> int:
        return self.gazetteer_count - len(self.only_in_gazetteer)


@dataclass(frozen=True, slots=True)
class GazetteerDiff:
    gazetteer_version: str
    levels: tuple[LevelDiff, ...]

    @property
    def only_in_gazetteer(self) -> tuple[DiffRow, ...]:
        return tuple(row for lv in self.levels for row in lv.only_in_gazetteer)

    @property
    def only_in_boundaries(self) -> tuple[DiffRow, ...]:
        return tuple(row for lv in self.levels for row in lv.only_in_boundaries)

    @property
    def has_differences(self) -> bool:
        return bool(self.only_in_gazetteer or self.only_in_boundaries)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form: dates as ISO strings."""
        return {
            "gazetteer_version": self.gazetteer_version,
            "levels": [_level_dict(lv) for lv in self.levels],
        }


def _row_dict(row: DiffRow) -> dict[str, Any]:
    abolished = row.abolished
    return {
        "code": row.code,
        "name_th": row.name_th,
        "name_en": row.name_en,
        "note": row.note,
        "abolished_on": abolished.abolished_on.isoformat() if abolished else None,
        "successors": list(abolished.successors) if abolished else [],
        "replaces": list(row.replaces),
    }


def _level_dict(lv: LevelDiff) -> dict[str, Any]:
    return {
        "level": lv.level,
        "gazetteer_count": lv.gazetteer_count,
        "boundary_count": lv.boundary_count,
        "in_both": lv.in_both,
        "only_in_gazetteer": [_row_dict(r) for r in lv.only_in_gazetteer],
        "only_in_boundaries": [_row_dict(r) for r in lv.only_in_boundaries],
    }


_AreaModel = type[Province] | type[District] | type[Subdistrict]
_MODELS: Final[dict[Level, _AreaModel]] = {
    "province": Province,
    "district": District,
    "subdistrict": Subdistrict,
}


def _describe(codes: Iterable[str]) -> str:
    entries = _index().entries
    return ", ".join(f"{c} {entries[c].name_th}" if c in entries else c for c in codes)


def _boundary_only_row(level: Level, code: str, name_th: str, name_en: str) -> DiffRow:
    old = _index().abolished.get(code)
    if old is None:
        note = "not in DOPA's current or abolished lists"
    elif old.successors:
        note = f"abolished {old.abolished_on.isoformat()}; now {_describe(old.successors)}"
    else:
        note = f"abolished {old.abolished_on.isoformat()}"
    return DiffRow(level, code, name_th, name_en, note, abolished=old)


def _gazetteer_only_row(entry: GazetteerEntry, boundary_codes: frozenset[str]) -> DiffRow:
    replaced = tuple(c for c in _index().successors_of.get(entry.code, ()) if c in boundary_codes)
    note = f"replaces {_describe_abolished(replaced)}" if replaced else "no polygon with this code"
    return DiffRow(entry.level, entry.code, entry.name_th, entry.name_en, note, replaces=replaced)


def _describe_abolished(codes: Iterable[str]) -> str:
    abolished = _index().abolished
    return ", ".join(f"{c} {abolished[c].name_th}" for c in codes)


def _compare_level(level: Level) -> LevelDiff:
    rows = _MODELS[level].objects.values_list("code", "name_th", "name_en")
    boundary = {code: (th, en) for code, th, en in rows}
    gazetteer = {c: e for c, e in _index().entries.items() if e.level == level}
    codes = frozenset(boundary)
    return LevelDiff(
        level=level,
        gazetteer_count=len(gazetteer),
        boundary_count=len(boundary),
        only_in_gazetteer=tuple(
            _gazetteer_only_row(gazetteer[c], codes) for c in sorted(gazetteer.keys() - codes)
        ),
        only_in_boundaries=tuple(
            _boundary_only_row(level, c, *boundary[c]) for c in sorted(codes - gazetteer.keys())
        ),
    )


def compare_with_boundaries() -> GazetteerDiff:
    """Lists the codes that only the gazetteer, or only the boundary tables, hold.

    One query per level. A gazetteer-only tambon that replaced an abolished tambon
    still in the boundary tables says so; the abolished one carries DOPA's date and
    successors.
    """
    return GazetteerDiff(
        gazetteer_version=geothai.DATA_VERSION,
        levels=tuple(_compare_level(level) for level in LEVELS),
    )
