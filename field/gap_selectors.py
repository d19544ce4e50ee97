"""The officials' gap map: per-area rates from the precomputed ``AreaStat`` counts.

One level below the area asked for (country → provinces → districts → tambons),
each area gets its published counts, the value of one indicator, its class on the
legend and its polygon simplified for that level. Nothing in it names anyone: area
codes, names, counts, rates, classes and polygons only, so officials may see it.

**Suppression.** Small counts would point at a household the neighbours know, so
every count goes through ``geo.algorithms.suppression.suppress`` with the relations
that tie the counts together, so that subtraction gives nothing back:

- across areas, for every count: the area's own total (its ``AreaStat`` row) is the
  sum of the areas listed, plus the children and cases with no tambon (the country
  row holds those, no province does);
- within an area: the window is the unreached plus the others, the unreached are
  the dropped out plus the never enrolled, the open cases are those visited plus
  those not, the visited are those found plus those not yet, and the unreached
  homes are those in a zone (or a team's area) plus those outside it; the children
  of primary age are those far from a primary school plus those near one, and
  likewise for secondary age; the window is the children of primary age, of
  secondary age and the others (other ages, or a home with no point: the access
  counts measure located homes only). The parts that are not published
  (``_HIDDEN``) still take part: publishing two nested counts publishes their
  difference.

A rate whose numerator or denominator is withheld is withheld; a rate over zero
has no value. Class breaks are fitted to the listed areas' published values only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal, cast

from django.conf import settings
from django.db import connection
from django.utils.functional import Promise, lazy
from django.utils.translation import gettext_lazy as _

from field.models import AREA_STAT_COUNTS, AreaStat, StatLevel
from field.selectors import AreaRef, AreaScope, User, resolve_area, user_area
from geo.algorithms.classify import breaks, class_of
from geo.algorithms.suppression import suppress
from geo.models import District, Province, Subdistrict

Method = Literal["natural", "quantiles"]
METHODS: Final = ("natural", "quantiles")
CLASSES: Final = 5
# The residual part of a relation: children and cases of the area in no listed area
# (at the country level, those whose household has no tambon).
UNPLACED: Final = "unplaced"
TOTAL: Final = "total"


# --- what is counted and what is published -----------------------------------------

# Each quantity is a sum of AreaStat counts; one not published still takes part
# in suppression, because its published neighbours would give it away.
QUANTITIES: Final[dict[str, tuple[str, ...]]] = {
    "children": ("children_in_window",),
    "unreached": ("dropped_out", "never_enrolled"),
    "dropped_out": ("dropped_out",),
    "never_enrolled": ("never_enrolled",),
    "cases_open": ("cases_open",),
    "cases_visited": ("cases_visited", "cases_found", "cases_resolved"),
    "cases_found": ("cases_found", "cases_resolved"),
    "brought_back": ("cases_brought_back",),
    "homes_unreached": ("unreached_households",),
    "homes_in_zone": ("unreached_in_zone",),
    "homes_in_team_area": ("unreached_in_team_area",),
    "age_primary": ("age_primary",),
    "far_primary": ("far_primary",),
    "age_secondary": ("age_secondary",),
    "far_secondary": ("far_secondary",),
}
QUANTITY_LABELS: Final[dict[str, Promise]] = {
    "children": _("Children in the age window"),
    "unreached": _("Out of school"),
    "dropped_out": _("Dropped out"),
    "never_enrolled": _("Never enrolled"),
    "cases_open": _("Open cases"),
    "cases_visited": _("Visited"),
    "cases_found": _("Found"),
    "brought_back": _("Brought back to school"),
    "homes_unreached": _("Homes with an open case"),
    "homes_in_zone": _("In a volunteer zone"),
    "homes_in_team_area": _("In a search team's area"),
    "age_primary": _("Children of primary age (6-11), home located"),
    "far_primary": _("Far from a primary school"),
    "age_secondary": _("Children of secondary age (12-17), home located"),
    "far_secondary": _("Far from a secondary school"),
}
# Differences of published quantities: withheld when small like any other count.
_HIDDEN: Final[dict[str, tuple[str, str]]] = {
    "children_other": ("children", "unreached"),
    "cases_not_visited": ("cases_open", "cases_visited"),
    "cases_not_found": ("cases_visited", "cases_found"),
    "homes_outside_zone": ("homes_unreached", "homes_in_zone"),
    "homes_outside_team_area": ("homes_unreached", "homes_in_team_area"),
    "near_primary": ("age_primary", "far_primary"),
    "near_secondary": ("age_secondary", "far_secondary"),
    # In this order: each is computed from the one before.
    "children_not_primary": ("children", "age_primary"),
    "children_other_ages": ("children_not_primary", "age_secondary"),
}
# (total, parts) within one area.
_WITHIN: Final = (
    ("children", ("unreached", "children_other")),
    ("unreached", ("dropped_out", "never_enrolled")),
    ("cases_open", ("cases_visited", "cases_not_visited")),
    ("cases_visited", ("cases_found", "cases_not_found")),
    ("homes_unreached", ("homes_in_zone", "homes_outside_zone")),
    ("homes_unreached", ("homes_in_team_area", "homes_outside_team_area")),
    ("age_primary", ("far_primary", "near_primary")),
    ("age_secondary", ("far_secondary", "near_secondary")),
    ("children", ("age_primary", "children_not_primary")),
    ("children_not_primary", ("age_secondary", "children_other_ages")),
)


def _km(metres: int) -> str:
    return f"{metres / 1000:g}"


def _at_distance(message: Promise, setting: str) -> Promise:
    """``message`` with ``%(km)s`` set to the distance ``settings.<setting>`` holds
    (metres) in km, when it is shown rather than imported: the settings may change."""

    def render() -> str:
        return str(message) % {"km": _km(getattr(settings, setting))}

    # ``lazy`` is typed as returning what ``render`` returns; it returns a Promise.
    return cast(Promise, lazy(render, str)())


@dataclass(frozen=True)
class Indicator:
    key: str
    label: Promise
    numerator: str
    denominator: str
    scale: int
    """1000: per thousand; 100: per cent."""
    unit: Promise
    explanation: Promise
    """What the numerator and denominator are, for the legend."""


INDICATORS: Final[dict[str, Indicator]] = {
    indicator.key: indicator
    for indicator in (
        Indicator(
            "unreached",
            _("Out of school per 1,000 children"),
            "unreached",
            "children",
            1000,
            _("per 1,000"),
            _("Children dropped out or never enrolled, per 1,000 children of the age window."),
        ),
        Indicator(
            "never_enrolled",
            _("Never enrolled per 1,000 children"),
            "never_enrolled",
            "children",
            1000,
            _("per 1,000"),
            _("Children never enrolled, per 1,000 children of the age window."),
        ),
        Indicator(
            "dropped_out",
            _("Dropped out per 1,000 children"),
            "dropped_out",
            "children",
            1000,
            _("per 1,000"),
            _("Children who dropped out, per 1,000 children of the age window."),
        ),
        Indicator(
            "visited",
            _("Open cases visited"),
            "cases_visited",
            "cases_open",
            100,
            _("%"),
            _("Open cases visited at least once, as a share of the open cases."),
        ),
        Indicator(
            "found",
            _("Open cases whose child was found"),
            "cases_found",
            "cases_open",
            100,
            _("%"),
            _("Open cases whose child was found (resolved ones included), of the open cases."),
        ),
        Indicator(
            "brought_back",
            _("Brought back to school"),
            "brought_back",
            "unreached",
            100,
            _("per 100"),
            _(
                "Cases of the year with a visit that recorded a return to school, per 100 "
                "children out of school in the year's registers; above 100 once the "
                "registers show returned children enrolled."
            ),
        ),
        Indicator(
            "zone_coverage",
            _("Homes in a volunteer zone"),
            "homes_in_zone",
            "homes_unreached",
            100,
            _("%"),
            _("Homes with an open case that lie in a volunteer's zone, of all such homes."),
        ),
        Indicator(
            "team_coverage",
            _("Homes in a search team's area"),
            "homes_in_team_area",
            "homes_unreached",
            100,
            _("%"),
            _("Homes with an open case that lie in a search team's area, of all such homes."),
        ),
        Indicator(
            "far_primary",
            _("Far from a primary school per 1,000 children"),
            "far_primary",
            "age_primary",
            1000,
            _("per 1,000"),
            _at_distance(
                _(
                    "Children aged 6-11 whose home lies farther than %(km)s km on the "
                    "ground from the nearest school teaching primary, per 1,000 children "
                    "aged 6-11 whose home is located."
                ),
                "SCHOOL_DISTANCE_PRIMARY_M",
            ),
        ),
        Indicator(
            "far_secondary",
            _("Far from a secondary school per 1,000 children"),
            "far_secondary",
            "age_secondary",
            1000,
            _("per 1,000"),
            _at_distance(
                _(
                    "Children aged 12-17 whose home lies farther than %(km)s km on the "
                    "ground from the nearest school teaching their stage (lower secondary "
                    "at 12-14, upper secondary or vocational at 15-17), per 1,000 "
                    "children aged 12-17 whose home is located."
                ),
                "SCHOOL_DISTANCE_SECONDARY_M",
            ),
        ),
    )
}
COVERAGE: Final = ("zone_coverage", "team_coverage")


# --- levels and geometry --------------------------------------------------------------


@dataclass(frozen=True)
class _Level:
    model: type[Province] | type[District] | type[Subdistrict]
    stat_level: StatLevel
    tolerance: float
    """Degrees, for ST_SimplifyPreserveTopology: about a pixel at the zoom the map
    opens this level at (6 for the country, 8-9 for a province, 10-11 for a district)."""
    digits: int


# Per length of the parent's code. The polygons of ../shared/data/boundaries are
# simplified already: there the geometry of the 77 provinces is 27 kB (36 kB
# unsimplified at 6 decimals), Khon Kaen's 26 districts 5.5 kB, Mueang Khon Kaen's
# 18 tambons 3.2 kB. The tolerances keep the full-resolution COD-AB polygons to
# about a pixel at the zoom each level is opened at.
_LEVELS: Final[dict[int, _Level]] = {
    0: _Level(Province, StatLevel.PROVINCE, 0.01, 3),
    2: _Level(District, StatLevel.DISTRICT, 0.003, 4),
    4: _Level(Subdistrict, StatLevel.TAMBON, 0.0005, 4),
}
_PARENT_LEVEL: Final = {0: StatLevel.COUNTRY, 2: StatLevel.PROVINCE, 4: StatLevel.DISTRICT}


# --- the result ------------------------------------------------------------------------


@dataclass(frozen=True)
class GapArea:
    code: str
    name_th: str
    name_en: str
    counts: dict[str, int | None]
    """Published quantities; None where withheld."""
    value: float | None
    withheld: bool
    klass: int | None
    uncovered: bool
    """Homes with an open case here, none of them in a volunteer zone or a team's area."""
    drill: bool
    geometry: dict[str, Any] | None


@dataclass(frozen=True)
class GapLayer:
    scope: AreaScope
    area: AreaRef
    indicator: Indicator
    method: Method
    year: int | None
    years: list[int]
    k: int
    breaks: list[float] = field(default_factory=list)
    areas: list[GapArea] = field(default_factory=list)
    unplaced: GapArea | None = None
    """Counts in the area but in none of the listed areas (no tambon recorded)."""
    total: GapArea | None = None

    @property
    def child_level(self) -> str:
        return str(_LEVELS[len(self.area.code)].stat_level.value)


def _counts_sql(alias: str) -> str:
    return ", ".join(f"COALESCE({alias}.{name}, 0)" for name in AREA_STAT_COUNTS)


def _layer_sql(level: _Level) -> str:
    """The listed areas with their counts and simplified polygons, then the parent's
    counts: one query whatever the level. Table names come from the models, values
    are parameters."""
    stat = AreaStat._meta.db_table
    table = level.model._meta.db_table
    return f"""
        WITH chosen AS (
            SELECT COALESCE(%(year)s::integer, (SELECT max(academic_year) FROM {stat})) AS year
        ),
        known AS (
            SELECT COALESCE(array_agg(DISTINCT academic_year), '{{}}') AS years FROM {stat}
        )
        SELECT 'area' AS kind, a.code, a.name_th, a.name_en,
            ST_AsGeoJSON(ST_Multi(ST_SimplifyPreserveTopology(a.geom, %(tolerance)s)), %(digits)s),
            (SELECT year FROM chosen), (SELECT years FROM known), {_counts_sql("s")}
        FROM {table} a
        LEFT JOIN {stat} s ON s.academic_year = (SELECT year FROM chosen)
            AND s.level = %(level)s AND s.code = a.code
        WHERE a.code LIKE %(prefix)s
        UNION ALL
        SELECT 'total', %(parent)s, '', '', NULL,
            (SELECT year FROM chosen), (SELECT years FROM known), {_counts_sql("p")}
        FROM (SELECT 1) AS one
        LEFT JOIN {stat} p ON p.academic_year = (SELECT year FROM chosen)
            AND p.level = %(parent_level)s AND p.code = %(parent)s
    """  # noqa: S608


def _quantities(counts: Mapping[str, int]) -> dict[str, int]:
    values = {key: sum(counts[name] for name in names) for key, names in QUANTITIES.items()}
    for key, (whole, part) in _HIDDEN.items():
        values[key] = values[whole] - values[part]
    return values


def _fetch(
    scope: AreaScope, area: AreaRef, year: int | None
) -> tuple[int | None, list[int], dict[str, dict[str, Any]], dict[str, int]]:
    level = _LEVELS[len(area.code)]
    params = {
        "year": year,
        "tolerance": level.tolerance,
        "digits": level.digits,
        "level": level.stat_level.value,
        "prefix": area.code + "%",
        "parent": area.code or "TH",
        "parent_level": _PARENT_LEVEL[len(area.code)].value,
    }
    with connection.cursor() as cursor:
        cursor.execute(_layer_sql(level), params)
        rows = cursor.fetchall()
    chosen: int | None = None
    years: list[int] = []
    listed: dict[str, dict[str, Any]] = {}
    total: dict[str, int] = {}
    for kind, code, name_th, name_en, geometry, row_year, known, *values in rows:
        chosen, years = row_year, sorted(known, reverse=True)
        counts = _quantities(dict(zip(AREA_STAT_COUNTS, values, strict=True)))
        if kind == TOTAL:
            total = counts
        elif scope.may_open(code):
            listed[code] = {
                "name_th": name_th,
                "name_en": name_en or "",
                "geometry": json.loads(geometry) if geometry else None,
                "counts": counts,
            }
    return chosen, years, listed, total


def _suppressed(
    listed: Mapping[str, Mapping[str, int]], total: Mapping[str, int], *, partial: bool, k: int
) -> tuple[dict[str, dict[str, int | None]], bool]:
    """Published quantities per area code, TOTAL and UNPLACED; and whether anything
    lies in no listed area. ``partial``: the user may see only some of the areas."""
    keys = (*QUANTITIES, *_HIDDEN)
    residual = {key: total[key] - sum(c[key] for c in listed.values()) for key in keys}
    if partial or any(value < 0 for value in residual.values()):
        # A coordinator narrowed to some districts sees those districts' total, not
        # the province's: the difference would be the districts that are not theirs.
        # (Negative differences would mean counts refreshed apart, which
        # ``stats_refresh`` never leaves.)
        total = {key: sum(c[key] for c in listed.values()) for key in keys}
        residual = dict.fromkeys(keys, 0)
    has_unplaced = any(residual.values())
    areas: dict[str, Mapping[str, int]] = {**listed, TOTAL: total}
    if has_unplaced:
        areas[UNPLACED] = residual
    counts = {(key, code): c[key] for code, c in areas.items() for key in keys}
    parts = [code for code in areas if code != TOTAL]
    relations: list[tuple[tuple[str, str], list[tuple[str, str]]]] = []
    for key in keys:
        if parts:
            relations.append(((key, TOTAL), [(key, code) for code in parts]))
    for code in areas:
        for whole, members in _WITHIN:
            relations.append(((whole, code), [(part, code) for part in members]))
    published = suppress(counts, relations, k=k).published
    return {
        code: {key: published[(key, code)] for key in QUANTITIES} for code in areas
    }, has_unplaced


def _rate(counts: Mapping[str, int | None], indicator: Indicator) -> tuple[float | None, bool]:
    numerator = counts[indicator.numerator]
    denominator = counts[indicator.denominator]
    if numerator is None or denominator is None:
        return None, True
    if denominator == 0:
        return None, False
    return round(numerator / denominator * indicator.scale, 1), False


def _uncovered(counts: Mapping[str, int | None]) -> bool:
    # A withheld count of homes is never zero: there are open cases here.
    return (
        counts["homes_unreached"] != 0
        and counts["homes_in_zone"] == 0
        and counts["homes_in_team_area"] == 0
    )


def gap_layer(
    *,
    user: User,
    area_code: str | None,
    year: int | None,
    indicator: str,
    method: Method = "natural",
) -> GapLayer:
    """The areas one level below ``area_code`` (default: the user's widest) that the
    user may open, with ``indicator`` per area, for ``year`` (default: the latest
    counted). PermissionDenied or Http404 as ``resolve_area``; KeyError for an
    unknown indicator. Queries: the scope, the area (none for the country), then one."""
    chosen_indicator = INDICATORS[indicator]
    scope = user_area(user)
    area = resolve_area(scope, area_code)
    k: int = settings.SUPPRESS_K
    if len(area.code) not in _LEVELS:
        # A tambon has nothing below it on this map; its district shows it.
        area = resolve_area(scope, area.code[:4])
    chosen, years, listed, total = _fetch(scope, area, year)
    common: dict[str, Any] = {
        "scope": scope,
        "area": area,
        "indicator": chosen_indicator,
        "method": method,
        "year": chosen,
        "years": years,
        "k": k,
    }
    if chosen is None:
        return GapLayer(**common)
    published, has_unplaced = _suppressed(
        {code: row["counts"] for code, row in listed.items()},
        total,
        partial=bool(scope.districts) and len(area.code) == 2,
        k=k,
    )
    values = {code: _rate(published[code], chosen_indicator) for code in published}
    bounds = breaks([values[code][0] for code in listed], method=method, classes=CLASSES)

    def gap_area(code: str, row: Mapping[str, Any]) -> GapArea:
        value, withheld = values[code]
        return GapArea(
            code=code,
            name_th=row["name_th"],
            name_en=row["name_en"],
            counts=published[code],
            value=value,
            withheld=withheld,
            klass=class_of(value, bounds) if code in listed else None,
            uncovered=_uncovered(published[code]),
            drill=code in listed and len(code) < 6,
            geometry=row.get("geometry"),
        )

    areas = [gap_area(code, row) for code, row in sorted(listed.items())]
    if chosen_indicator.key in COVERAGE:
        # The areas nobody covers are the ones to act on: first in the table.
        areas.sort(key=lambda a: not a.uncovered)
    blank = {"name_th": "", "name_en": ""}
    return GapLayer(
        **common,
        breaks=bounds,
        areas=areas,
        unplaced=gap_area(UNPLACED, blank) if has_unplaced else None,
        total=gap_area(TOTAL, blank),
    )


def layer_json(layer: GapLayer) -> dict[str, Any]:
    """The layer as the map reads it: GeoJSON features and the legend's numbers.
    Area codes, names, counts, rates, classes and polygons, nothing else."""

    def properties(area: GapArea) -> dict[str, Any]:
        return {
            "code": area.code,
            "name_th": area.name_th,
            "name_en": area.name_en,
            "counts": area.counts,
            "value": area.value,
            "withheld": area.withheld,
            "class": area.klass,
            "uncovered": area.uncovered,
            "drill": area.drill,
        }

    indicator = layer.indicator
    return {
        "type": "FeatureCollection",
        "area": {
            "code": layer.area.code,
            "name": layer.area.name,
            "level": layer.area.level,
            "trail": [list(step) for step in layer.area.trail],
            "extent": layer.area.extent,
        },
        "childLevel": layer.child_level,
        "year": layer.year,
        "years": layer.years,
        "k": layer.k,
        "indicator": {
            "key": indicator.key,
            "label": str(indicator.label),
            "numerator": indicator.numerator,
            "denominator": indicator.denominator,
            "unit": str(indicator.unit),
            "explanation": str(indicator.explanation),
        },
        "method": layer.method,
        "breaks": layer.breaks,
        "total": properties(layer.total) if layer.total else None,
        "unplaced": properties(layer.unplaced) if layer.unplaced else None,
        "features": [
            {"type": "Feature", "geometry": area.geometry, "properties": properties(area)}
            for area in layer.areas
        ],
    }


def indicator_choices() -> Sequence[tuple[str, str]]:
    return [(key, str(indicator.label)) for key, indicator in INDICATORS.items()]


@dataclass(frozen=True)
class IndicatorColumn:
    """One indicator over a layer's areas, for the exports that carry them all."""

    indicator: Indicator
    breaks: list[float]
    values: dict[str, tuple[float | None, bool, int | None]]
    """Per area code (TOTAL and UNPLACED included): value, withheld, class."""


def every_indicator(layer: GapLayer) -> list[IndicatorColumn]:
    """Every indicator over the areas of ``layer``, from its published counts: the
    counts are suppressed once whatever the indicator, so this adds no query and
    withholds nothing the layer shows."""
    listed = [area.code for area in layer.areas]
    rows = [*layer.areas, *(a for a in (layer.unplaced, layer.total) if a is not None)]
    columns = []
    for indicator in INDICATORS.values():
        values = {area.code: _rate(area.counts, indicator) for area in rows}
        bounds = breaks([values[code][0] for code in listed], method=layer.method, classes=CLASSES)
        columns.append(
            IndicatorColumn(
                indicator=indicator,
                breaks=bounds,
                values={
                    code: (value, withheld, class_of(value, bounds) if code in listed else None)
                    for code, (value, withheld) in values.items()
                },
            )
        )
    return columns
