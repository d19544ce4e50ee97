"""The officials' dashboard: a funnel, weekly progress, the tambons most in need and
why found children are not returning, for one area and academic year.

Nothing in it names anyone: area codes and names, counts and rates only.

- **Funnel and tambon tables** come from ``AreaStat`` (``field.services.stats``
  says what each count means); nothing there is split by kind of case beyond
  dropped out / never enrolled, nor by affiliation.
- **Weekly series and reasons** are live grouped queries over ``Case`` and
  ``Visit``, narrowed by ``AreaScope.cases`` and by where each case lies
  (whereabouts, else the registry household), one query per source.
- **Suppression.** Every published count goes through one ``suppress`` call per
  source with the relations tying it to the others: the funnel's nested bars, the
  tambon rows against the area's total (the tambons not shown are a hidden
  remainder), the weeks against the year's total, the reasons against theirs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.db.models.functions import TruncWeek
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from field.models import (
    AREA_STAT_COUNTS,
    AreaStat,
    Case,
    CaseKind,
    Enrolment,
    Resolution,
    SearchOutcome,
    StatLevel,
    Visit,
)
from field.selectors import (
    _CHILD_MODELS,
    AreaRef,
    AreaScope,
    User,
    _name,
    resolve_area,
    user_area,
)
from field.team_selectors import lying_in
from geo.algorithms.suppression import suppress
from geo.models import Subdistrict

BANGKOK: Final = ZoneInfo("Asia/Bangkok")
BUDDHIST_ERA_OFFSET: Final = 543
TOP: Final = 10
# A rate over fewer children swings by tens per thousand with a single child: such
# tambons would fill the "highest rate" table with noise rather than need.
GAP_MIN_CHILDREN: Final = 50
KINDS: Final = (CaseKind.DROPPED_OUT, CaseKind.NEVER_ENROLLED)
TOTAL: Final = "total"
REST: Final = "rest"

_LEVEL_OF_LENGTH: Final = {
    0: StatLevel.COUNTRY,
    2: StatLevel.PROVINCE,
    4: StatLevel.DISTRICT,
    6: StatLevel.TAMBON,
}

# The funnel's bars, each a sum of AreaStat counts.
FUNNEL: Final[tuple[tuple[str, tuple[str, ...], Promise], ...]] = (
    ("population", ("children_in_window",), _("In the age window")),
    ("enrolled", ("enrolled",), _("Enrolled")),
    ("unreached", ("dropped_out", "never_enrolled"), _("Out of school")),
    ("visited", ("cases_visited", "cases_found", "cases_resolved"), _("Visited")),
    ("found", ("cases_found", "cases_resolved"), _("Found")),
    ("brought_back", ("cases_brought_back",), _("Brought back to school")),
)
# Counts not shown that still take part: publishing two nested counts publishes
# their difference.
_FUNNEL_HIDDEN: Final[dict[str, tuple[str, ...]]] = {
    "dropped_out": ("dropped_out",),
    "never_enrolled": ("never_enrolled",),
    "other_status": ("graduated", "in_review"),
    "cases_open": ("cases_open",),
}
_FUNNEL_WITHIN: Final = (
    ("children", ("enrolled", "unreached", "other_status")),
    ("unreached", ("dropped_out", "never_enrolled")),
    ("cases_open", ("visited", "not_visited")),
    ("visited", ("found", "not_found")),
)

# Why a case is not (yet) back in school, from its latest visit of the year.
REASONS: Final[tuple[tuple[str, Q, Promise], ...]] = (
    *(
        (f"outcome_{o.value}", Q(outcome=o.value), o.label)
        for o in SearchOutcome
        if o not in (SearchOutcome.FOUND_AT_ADDRESS, SearchOutcome.FOUND_ELSEWHERE)
    ),
    (
        "found_undecided",
        Q(
            outcome__in=(SearchOutcome.FOUND_AT_ADDRESS, SearchOutcome.FOUND_ELSEWHERE),
            resolution="",
        ),
        _("Found, nothing decided yet"),
    ),
    *(
        (f"resolution_{r.value}", Q(resolution=r.value), r.label)
        for r in Resolution
        if r != Resolution.RETURNED_TO_SCHOOL
    ),
)
SERIES: Final[tuple[tuple[str, Promise], ...]] = (
    ("new_cases", _("New cases")),
    ("visits", _("Visits")),
    ("resolutions", _("Visits recording a resolution")),
)


# --- the result --------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    key: str
    label: Promise
    value: int | None
    """None when withheld."""
    width: float | None = None
    """Per cent of the population bar, for drawing; None when either is withheld."""


@dataclass(frozen=True)
class TambonRow:
    code: str
    name: str
    district: str
    counts: Mapping[str, int | None]
    rate: float | None
    """Out of school (of the kind chosen) per 1,000 children; None when withheld."""

    @property
    def cells(self) -> list[int | None]:
        """The table's count columns, in order."""
        keys = ("children", "dropped_out", "never_enrolled", "unreached")
        return [self.counts[key] for key in keys]


@dataclass(frozen=True)
class Reason:
    key: str
    label: Promise
    value: int | None


@dataclass(frozen=True)
class Weekly:
    weeks: list[dt.date]
    """Mondays, Asia/Bangkok."""
    series: dict[str, list[int | None]]
    totals: dict[str, int | None]

    @property
    def rows(self) -> list[tuple[dt.date, list[int | None]]]:
        """Per week, the values of every series in ``SERIES`` order."""
        return [
            (monday, [self.series[key][i] for key, _label in SERIES])
            for i, monday in enumerate(self.weeks)
        ]


@dataclass(frozen=True)
class SubArea:
    code: str
    name: str


@dataclass(frozen=True)
class Dashboard:
    scope: AreaScope
    area: AreaRef
    year: int | None
    years: list[int]
    kind: str
    affiliation: str
    k: int
    below: list[SubArea] = field(default_factory=list)
    """Areas one level down the user may open (drill-down)."""
    funnel: list[Bar] = field(default_factory=list)
    split: dict[str, int | None] = field(default_factory=dict)
    """The out-of-school bar split into dropped out and never enrolled."""
    top_unreached: list[TambonRow] = field(default_factory=list)
    top_rate: list[TambonRow] = field(default_factory=list)
    reasons: list[Reason] = field(default_factory=list)
    reasons_total: int | None = None
    weekly: Weekly | None = None


# --- reads -------------------------------------------------------------------------


def year_bounds(year: int) -> tuple[dt.datetime, dt.datetime]:
    """The academic year ``year`` (B.E.): 16 May to the next 16 May, Bangkok."""
    start = dt.date(year - BUDDHIST_ERA_OFFSET, 5, 16)
    end = dt.date(year - BUDDHIST_ERA_OFFSET + 1, 5, 16)
    return (
        dt.datetime.combine(start, dt.time(), tzinfo=BANGKOK),
        dt.datetime.combine(end, dt.time(), tzinfo=BANGKOK),
    )


def _last_register(affiliation: str, to_case: str) -> Q:
    """Cases of children who dropped out of a school of ``affiliation``: whose latest
    register row (any year; the highest id among one year's rows, a tie that only a
    child in two registers at once would leave) is of that affiliation. Read through
    the (child, academic_year) index, one probe per case."""
    latest = (
        Enrolment.objects.filter(child=OuterRef(OuterRef(f"{to_case}child_id")))
        .order_by("-academic_year", "-pk")
        .values("pk")[:1]
    )
    last = Enrolment.objects.filter(pk=Subquery(latest), affiliation=affiliation)
    return Q(**{f"{to_case}kind": CaseKind.DROPPED_OUT}) & Q(Exists(last))


def _cases(
    scope: AreaScope, area: AreaRef, kind: str, to_case: str = "", affiliation: str = ""
) -> Q:
    where = scope.cases(to_case)
    if area.code:
        where &= lying_in("subdistrict__code__startswith", area.code, to_case=to_case)
    if kind:
        where &= Q(**{f"{to_case}kind": kind})
    if affiliation:
        where &= _last_register(affiliation, to_case)
    return where


def _stat_rows(
    scope: AreaScope, area: AreaRef, year: int
) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
    """The area's counts and its tambons' counts, in one query.

    A user narrowed to some districts of their province gets the sum of their
    tambons as the province's counts (district rows are sums of tambon rows): the
    province row less theirs would be the districts that are not theirs. So does
    an area whose row falls short of its tambons, which only counts refreshed
    apart would leave."""
    level = _LEVEL_OF_LENGTH[len(area.code)]
    own = Q(level=level, code=area.code or "TH")
    tambons = Q(level=StatLevel.TAMBON, code__startswith=area.code)
    rows = AreaStat.objects.filter(academic_year=year).filter(own | tambons)
    total = dict.fromkeys(AREA_STAT_COUNTS, 0)
    listed: dict[str, dict[str, int]] = {}
    for row in rows.values("level", "code", *AREA_STAT_COUNTS):
        counts = {name: int(row[name]) for name in AREA_STAT_COUNTS}
        if row["level"] == level and row["code"] == (area.code or "TH"):
            total = counts
        elif row["level"] == StatLevel.TAMBON and scope.may_open(row["code"]):
            listed[row["code"]] = counts
    summed = {name: sum(c[name] for c in listed.values()) for name in AREA_STAT_COUNTS}
    partial = bool(scope.districts) and len(area.code) == 2
    if partial or any(summed[name] > total[name] for name in AREA_STAT_COUNTS):
        total = summed
    return total, listed


def _quantities(counts: Mapping[str, int]) -> dict[str, int]:
    unreached = counts["dropped_out"] + counts["never_enrolled"]
    return {
        "children": counts["children_in_window"],
        "dropped_out": counts["dropped_out"],
        "never_enrolled": counts["never_enrolled"],
        "unreached": unreached,
        "children_other": counts["children_in_window"] - unreached,
    }


TAMBON_KEYS: Final = ("children", "dropped_out", "never_enrolled", "unreached", "children_other")


def _funnel_values(total: Mapping[str, int]) -> dict[str, int]:
    """The funnel's cells: the tables' keys where a bar is the same count
    (population is "children"), so that one count is never two cells."""
    values = {key: sum(total[n] for n in names) for key, names, _label in FUNNEL}
    values["children"] = values.pop("population")
    values.update({key: sum(total[n] for n in names) for key, names in _FUNNEL_HIDDEN.items()})
    values["children_other"] = values["children"] - values["unreached"]
    values["not_visited"] = values["cases_open"] - values["visited"]
    values["not_found"] = values["visited"] - values["found"]
    return values


def _top(listed: Mapping[str, Mapping[str, int]], chosen: str) -> tuple[list[str], list[str]]:
    """Codes of the tambons with the most children out of school (of the kind
    chosen: ``chosen`` is its key), and of those with the highest rate per 1,000
    children among those with enough children."""
    counts = {code: _quantities(c) for code, c in listed.items()}
    by_count = sorted(
        (code for code, q in counts.items() if q[chosen] > 0),
        key=lambda code: (-counts[code][chosen], code),
    )[:TOP]
    eligible = [
        code for code, q in counts.items() if q[chosen] > 0 and q["children"] >= GAP_MIN_CHILDREN
    ]
    by_rate = sorted(
        eligible, key=lambda code: (-counts[code][chosen] / counts[code]["children"], code)
    )[:TOP]
    return by_count, by_rate


Relation = tuple[tuple[str, str], list[tuple[str, str]]]


def _suppressed_stats(
    total: Mapping[str, int],
    listed: Mapping[str, Mapping[str, int]],
    shown: Sequence[str],
    *,
    k: int,
) -> dict[tuple[str, str], int | None]:
    """The funnel (at TOTAL) and the quantities of the tambons ``shown``, suppressed
    together: the area's children and out-of-school counts are cells of both. The
    tambons not shown are one hidden remainder (REST), so that the shown rows
    and the area's total give nothing away by subtraction."""
    cells = {(key, TOTAL): value for key, value in _funnel_values(total).items()}
    rows = {code: _quantities(listed[code]) for code in shown}
    area = _quantities(total)
    rows[REST] = {key: area[key] - sum(q[key] for c, q in rows.items()) for key in TAMBON_KEYS}
    cells.update({(key, code): q[key] for code, q in rows.items() for key in TAMBON_KEYS})
    relations: list[Relation] = [
        ((whole, TOTAL), [(part, TOTAL) for part in parts]) for whole, parts in _FUNNEL_WITHIN
    ]
    relations += [((key, TOTAL), [(key, code) for code in rows]) for key in TAMBON_KEYS]
    for code in rows:
        relations.append((("children", code), [("unreached", code), ("children_other", code)]))
        relations.append((("unreached", code), [("dropped_out", code), ("never_enrolled", code)]))
    return dict(suppress(cells, relations, k=k).published)


def _tambon_rows(
    codes: Sequence[str],
    published: Mapping[tuple[str, str], int | None],
    names: Mapping[str, tuple[str, str]],
    chosen: str,
) -> list[TambonRow]:
    rows = []
    for code in codes:
        counts = {key: published[(key, code)] for key in TAMBON_KEYS if key != "children_other"}
        count, children = counts[chosen], counts["children"]
        rate = None if count is None or not children else round(count / children * 1000, 1)
        name, district = names.get(code, (code, ""))
        rows.append(TambonRow(code=code, name=name, district=district, counts=counts, rate=rate))
    return rows


def _tambon_names(codes: Sequence[str]) -> dict[str, tuple[str, str]]:
    rows = Subdistrict.objects.filter(code__in=codes).values(
        "code", "name_th", "name_en", "district__name_th", "district__name_en"
    )
    return {str(row["code"]): (_name(row), _name(row, "district__")) for row in rows}


def _below(scope: AreaScope, area: AreaRef) -> list[SubArea]:
    if len(area.code) >= 6:
        return []
    model = _CHILD_MODELS[len(area.code)]
    rows = model._default_manager.filter(code__startswith=area.code).values(
        "code", "name_th", "name_en"
    )
    return sorted(
        (SubArea(code=str(r["code"]), name=_name(r)) for r in rows if scope.may_open(r["code"])),
        key=lambda a: a.code,
    )


# --- live counts over cases and visits ----------------------------------------------


def _mondays(year: int, today: dt.date) -> list[dt.date]:
    start, end = year_bounds(year)
    first = start.date() - dt.timedelta(days=start.weekday())
    last = min(end.date() - dt.timedelta(days=1), today)
    weeks = []
    monday = first
    while monday <= last:
        weeks.append(monday)
        monday += dt.timedelta(days=7)
    return weeks


def _week_of(value: dt.datetime | dt.date) -> dt.date:
    if isinstance(value, dt.datetime):
        return timezone.localtime(value, BANGKOK).date()
    return value


def weekly(
    scope: AreaScope,
    area: AreaRef,
    year: int,
    kind: str,
    *,
    k: int,
    today: dt.date,
    affiliation: str = "",
) -> Weekly:
    """New cases (by ``opened_at``), visits, and visits that recorded a resolution
    (any, returned to school or not), per Monday week (Asia/Bangkok) of the
    academic year up to ``today``. Two queries: cases, then visits.

    Resolutions are counted as visits, not as cases reaching "resolved": a case's
    progress carries no date, and the visit that resolved it does."""
    start, end = year_bounds(year)
    weeks = _mondays(year, today)
    index = {monday: i for i, monday in enumerate(weeks)}
    series: dict[str, list[int]] = {key: [0] * len(weeks) for key, _label in SERIES}
    week = TruncWeek("opened_at", tzinfo=BANGKOK)
    opened = (
        Case.objects.filter(
            _cases(scope, area, kind, "", affiliation), opened_at__gte=start, opened_at__lt=end
        )
        .annotate(week=week)
        .values("week")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in opened:
        i = index.get(_week_of(row["week"]))
        if i is not None:
            series["new_cases"][i] = row["n"]
    visits = (
        Visit.objects.filter(
            _cases(scope, area, kind, "case__", affiliation), at__gte=start, at__lt=end
        )
        .annotate(week=TruncWeek("at", tzinfo=BANGKOK))
        .values("week")
        .annotate(n=Count("pk"), resolved=Count("pk", filter=~Q(resolution="")))
        .order_by()
    )
    for row in visits:
        i = index.get(_week_of(row["week"]))
        if i is not None:
            series["visits"][i] = row["n"]
            series["resolutions"][i] = row["resolved"]
    return _suppressed_weeks(weeks, series, k=k)


def _suppressed_weeks(weeks: list[dt.date], series: dict[str, list[int]], *, k: int) -> Weekly:
    """Each series against its year total; within a week, the visits are those
    recording a resolution plus the others (not published, but their difference
    would be)."""
    cells: dict[tuple[str, int], int] = {}
    relations: list[tuple[tuple[str, int], list[tuple[str, int]]]] = []
    for key, values in series.items():
        cells.update({(key, i): v for i, v in enumerate(values)})
        cells[(key, -1)] = sum(values)
        relations.append(((key, -1), [(key, i) for i in range(len(values))]))
    other = [v - r for v, r in zip(series["visits"], series["resolutions"], strict=True)]
    cells.update({("other_visits", i): v for i, v in enumerate(other)})
    cells[("other_visits", -1)] = sum(other)
    relations.append((("other_visits", -1), [("other_visits", i) for i in range(len(other))]))
    for i in (*range(len(weeks)), -1):
        relations.append((("visits", i), [("resolutions", i), ("other_visits", i)]))
    published = suppress(cells, relations, k=k).published
    return Weekly(
        weeks=weeks,
        series={key: [published[(key, i)] for i in range(len(weeks))] for key in series},
        totals={key: published[(key, -1)] for key in series},
    )


def reasons(
    scope: AreaScope, area: AreaRef, year: int, kind: str, *, k: int, affiliation: str = ""
) -> tuple[list[Reason], int | None]:
    """Cases whose latest visit of the year says why the child is not back in
    school: not found, moved, deceased, ..., or found with another resolution than
    a return to school (or none yet). Each case once, by its latest visit; one query."""
    start, end = year_bounds(year)
    latest = (
        Visit.objects.filter(case=OuterRef("case"), at__gte=start, at__lt=end)
        .order_by("-at", "-pk")
        .values("pk")[:1]
    )
    row = (
        Visit.objects.filter(
            _cases(scope, area, kind, "case__", affiliation), at__gte=start, at__lt=end
        )
        .filter(pk=Subquery(latest))
        .aggregate(**{key: Count("pk", filter=where) for key, where, _label in REASONS})
    )
    counts = {key: int(row[key] or 0) for key, _where, _label in REASONS}
    cells: dict[str, int] = {**counts, TOTAL: sum(counts.values())}
    published = suppress(cells, [(TOTAL, list(counts))], k=k).published
    return (
        [Reason(key=key, label=label, value=published[key]) for key, _where, label in REASONS],
        published[TOTAL],
    )


# --- the page ----------------------------------------------------------------------


def stat_years() -> list[int]:
    return sorted(
        AreaStat.objects.order_by().values_list("academic_year", flat=True).distinct(),
        reverse=True,
    )


def dashboard(
    *, user: User, area_code: str | None, year: int | None, kind: str = "", affiliation: str = ""
) -> Dashboard:
    """The dashboard of ``area_code`` (default: the user's widest) for ``year``
    (default: the latest counted), narrowed to a kind of case where the data allow,
    and to dropped-out children of a school affiliation in the live counts only
    (``AreaStat`` is not split by affiliation).
    PermissionDenied or Http404 as ``resolve_area``.

    Queries, whatever the data: the scope, the area (none for the country), the
    years, the area below, the AreaStat rows, the tambon names, the cases, the
    visits, the reasons."""
    scope = user_area(user)
    area = resolve_area(scope, area_code)
    k: int = settings.SUPPRESS_K
    years = stat_years()
    year = year if year is not None else (years[0] if years else None)
    common: dict[str, Any] = {
        "scope": scope,
        "area": area,
        "year": year,
        "years": years,
        "kind": kind,
        "affiliation": affiliation,
        "k": k,
        "below": _below(scope, area),
    }
    if year is None:
        return Dashboard(**common)
    chosen = kind or "unreached"
    total, listed = _stat_rows(scope, area, year)
    by_count, by_rate = _top(listed, chosen)
    shown = sorted(set(by_count) | set(by_rate))
    published = _suppressed_stats(total, listed, shown, k=k)
    names = _tambon_names(shown) if shown else {}
    funnel_keys = {"population": "children"}
    population = published[("children", TOTAL)]
    bars = []
    for key, _names, label in FUNNEL:
        value = published[(funnel_keys.get(key, key), TOTAL)]
        width = None
        if value is not None and population:
            width = round(min(value / population * 100, 100), 2)
        bars.append(Bar(key=key, label=label, value=value, width=width))
    reason_rows, reasons_total = reasons(scope, area, year, kind, k=k, affiliation=affiliation)
    return Dashboard(
        **common,
        funnel=bars,
        split={key: published[(key, TOTAL)] for key in ("dropped_out", "never_enrolled")},
        top_unreached=_tambon_rows(by_count, published, names, chosen),
        top_rate=_tambon_rows(by_rate, published, names, chosen),
        reasons=reason_rows,
        reasons_total=reasons_total,
        weekly=weekly(
            scope, area, year, kind, k=k, today=timezone.localdate(), affiliation=affiliation
        ),
    )


def chart_json(board: Dashboard) -> dict[str, Any]:
    """What dashboard.js draws: weeks, series (None where withheld), labels.
    Dates and counts only."""
    weekly = board.weekly
    return {
        "weeks": [monday.isoformat() for monday in weekly.weeks] if weekly else [],
        "series": [
            {"key": key, "label": str(label), "values": weekly.series[key] if weekly else []}
            for key, label in SERIES
        ],
    }
