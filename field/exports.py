"""Exports of the officials' pages: the gap map and the dashboard as files.

Everything here is read through ``field.gap_selectors.gap_layer`` and
``field.dashboard_selectors.dashboard``, so an export holds exactly what the page
shows to the same user: the same scope, the same suppressed counts. A withheld count
is written as the withheld mark (``WITHHELD``), never as a number; in the GIS formats,
where a count column must stay numeric, it is null and the ``*_withheld`` field says so.

Every file carries where it comes from: the area, the filters, when it was made
(Asia/Bangkok) and the suppression rule, so that a table passed on by LINE or email
is not read as complete counts.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import html
import io
import json
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Final
from zoneinfo import ZoneInfo

import folium
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]

from field.dashboard_selectors import SERIES, TOP, Dashboard, TambonRow, dashboard
from field.gap_selectors import (
    QUANTITIES,
    QUANTITY_LABELS,
    GapArea,
    GapLayer,
    IndicatorColumn,
    every_indicator,
    gap_layer,
)
from field.models import Affiliation, CaseKind
from field.registry.tables import safe_cell
from field.selectors import User
from geo.algorithms.suppression import WITHHELD

BANGKOK: Final = ZoneInfo("Asia/Bangkok")
OGR2OGR_SECONDS: Final = 60
LAYER: Final = "gaps"
ABOUT: Final = "about"
# ColorBrewer OrRd as on the page (static/field/gaps.js): the gaps always dark.
WORSE: Final = ("#fef0d9", "#fdcc8a", "#fc8d59", "#e34a33", "#b30000")
BETTER_KEYS: Final = frozenset(
    {"visited", "found", "brought_back", "zone_coverage", "team_coverage"}
)
NO_DATA: Final = "#f4f4f4"
WITHHELD_FILL: Final = "#969696"
_VIEWPORT: Final = re.compile(r"<meta name=\"viewport\"[^>]*>")

Cell = str | int | float | dt.date | None


class ExportError(Exception):
    """A file could not be made (GDAL missing, failing or too slow)."""


@dataclass(frozen=True)
class Table:
    key: str
    """ASCII: the XLSX sheet's name."""
    title: str
    header: list[str]
    rows: list[list[Cell]]


@dataclass(frozen=True)
class About:
    title: str
    area_code: str
    area_name: str
    year: int | None
    filters: list[tuple[str, str]]
    made: dt.datetime
    k: int

    @property
    def rule(self) -> str:
        return _(
            "Counts under %(k)s are withheld and written “%(mark)s”, with complementary "
            "cells withheld so that no total minus the others gives one back."
        ) % {"k": self.k, "mark": WITHHELD}

    @property
    def made_text(self) -> str:
        return self.made.astimezone(BANGKOK).strftime("%Y-%m-%d %H:%M") + " (Asia/Bangkok)"

    def rows(self) -> list[tuple[str, str]]:
        return [
            (_("Export"), self.title),
            (_("Area"), f"{self.area_name} ({self.area_code or 'TH'})"),
            (_("Academic year"), str(self.year) if self.year else _("no counts yet")),
            *self.filters,
            (_("Made"), self.made_text),
            (_("Withheld counts"), self.rule),
        ]

    def file_name(self, stem: str, extension: str) -> str:
        # ASCII only: Content-Disposition's plain filename is read by every client.
        return f"takhai-{stem}-{self.area_code or 'TH'}-{self.year or 'none'}.{extension}"


@dataclass(frozen=True)
class Export:
    about: About
    tables: list[Table]


def _count(value: int | None) -> Cell:
    return WITHHELD if value is None else value


def _now() -> dt.datetime:
    return timezone.now().astimezone(BANGKOK)


# --- the gap map ------------------------------------------------------------------------


@dataclass(frozen=True)
class GapExport:
    layer: GapLayer
    columns: list[IndicatorColumn]
    export: Export


def _gap_value(area: GapArea) -> Cell:
    if area.withheld:
        return WITHHELD
    return area.value


def _gap_table(layer: GapLayer) -> Table:
    indicator = layer.indicator
    rows: list[list[Cell]] = []
    extra = [(a, _("No tambon recorded")) for a in (layer.unplaced,) if a is not None]
    extra += [(a, _("Whole area")) for a in (layer.total,) if a is not None]
    for area, label in [*((a, "") for a in layer.areas), *extra]:
        rows.append(
            [
                "" if label else area.code,
                label or area.name_th,
                "" if label else area.name_en,
                _gap_value(area),
                _count(area.counts[indicator.numerator]),
                _count(area.counts[indicator.denominator]),
                "" if area.klass is None else area.klass + 1,
            ]
        )
    return Table(
        key=LAYER,
        title=f"{indicator.label} ({indicator.unit})",
        header=[
            _("Area code"),
            _("Area (Thai)"),
            _("Area (English)"),
            f"{indicator.label} ({indicator.unit})",
            str(QUANTITY_LABELS[indicator.numerator]),
            str(QUANTITY_LABELS[indicator.denominator]),
            _("Class"),
        ],
        rows=rows,
    )


def gap_export(
    *, user: User, area_code: str | None, year: int | None, indicator: str, method: str
) -> GapExport:
    """The gap map's layer for ``user`` with every indicator, and its table.
    PermissionDenied or Http404 as the page; KeyError for an unknown indicator."""
    layer = gap_layer(
        user=user,
        area_code=area_code,
        year=year,
        indicator=indicator,
        method="quantiles" if method == "quantiles" else "natural",
    )
    about = About(
        title=_("Gap map"),
        area_code=layer.area.code,
        area_name=layer.area.name,
        year=layer.year,
        filters=[
            (_("Indicator"), str(layer.indicator.label)),
            (
                _("Classes"),
                _("Quantiles") if layer.method == "quantiles" else _("Natural breaks"),
            ),
        ],
        made=_now(),
        k=layer.k,
    )
    return GapExport(
        layer=layer,
        columns=every_indicator(layer),
        export=Export(about=about, tables=[_gap_table(layer)] if layer.year else []),
    )


def _properties(area: GapArea, columns: Sequence[IndicatorColumn]) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "code": area.code,
        "name_th": area.name_th,
        "name_en": area.name_en,
        "uncovered": area.uncovered,
    }
    for key in QUANTITIES:
        properties[f"n_{key}"] = area.counts[key]
        properties[f"n_{key}_withheld"] = area.counts[key] is None
    for column in columns:
        value, withheld, klass = column.values[area.code]
        key = column.indicator.key
        properties[f"{key}_rate"] = value
        properties[f"{key}_withheld"] = withheld
        properties[f"{key}_class"] = None if klass is None else klass + 1
    return properties


def _metadata(gap: GapExport) -> dict[str, Any]:
    about = gap.export.about
    return {
        "title": about.title,
        "area_code": about.area_code or "TH",
        "area_name": about.area_name,
        "academic_year": about.year,
        "filters": dict(about.filters),
        "made": about.made_text,
        "k": about.k,
        "withheld_mark": WITHHELD,
        "rule": about.rule,
        "fields": _field_notes(gap.columns),
    }


def _field_notes(columns: Sequence[IndicatorColumn]) -> dict[str, str]:
    notes = {f"n_{key}": str(label) for key, label in QUANTITY_LABELS.items()}
    for column in columns:
        indicator = column.indicator
        notes[f"{indicator.key}_rate"] = f"{indicator.label} ({indicator.unit})"
        notes[f"{indicator.key}_class"] = _("Class on the legend, 1 (lowest) to 5")
    notes["uncovered"] = _("open cases, no zone or team")
    return notes


def gap_geojson(gap: GapExport) -> dict[str, Any]:
    """The listed areas with every indicator; the metadata as a foreign member."""
    return {
        "type": "FeatureCollection",
        "name": LAYER,
        "metadata": _metadata(gap),
        "features": [
            {
                "type": "Feature",
                "geometry": area.geometry,
                "properties": _properties(area, gap.columns),
            }
            for area in gap.layer.areas
        ],
    }


def _about_geojson(gap: GapExport) -> dict[str, Any]:
    rows = [("about", label, value) for label, value in gap.export.about.rows()]
    rows += [("field", name, note) for name, note in _field_notes(gap.columns).items()]
    rows.append(("withheld_mark", _("withheld"), WITHHELD))
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": None,
                "properties": {"kind": kind, "item": item, "value": value},
            }
            for kind, item, value in rows
        ],
    }


def _ogr2ogr(*arguments: str) -> None:
    program = shutil.which("ogr2ogr")
    if program is None:
        raise ExportError(_("GDAL's ogr2ogr is not installed (scripts/lib.sh installs gdal-bin)."))
    try:
        # A list, never a shell: the arguments hold area names from the database.
        subprocess.run(  # noqa: S603
            [program, *arguments], check=True, capture_output=True, timeout=OGR2OGR_SECONDS
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        raise ExportError(str(error)) from error


def gap_geopackage(gap: GapExport) -> BinaryIO:
    """The layer as a GeoPackage written by GDAL: the areas' layer, its description
    holding the metadata, and an ``about`` table. An open file whose directory is
    already gone: the caller streams it and closes it."""
    with tempfile.TemporaryDirectory(prefix="takhai-gpkg-") as directory:
        folder = Path(directory)
        source, about, target = folder / "gaps.geojson", folder / "about.geojson", folder / "out"
        source.write_text(json.dumps(gap_geojson(gap), ensure_ascii=False), encoding="utf-8")
        about.write_text(json.dumps(_about_geojson(gap), ensure_ascii=False), encoding="utf-8")
        path = target.with_suffix(".gpkg")
        description = " · ".join(f"{label}: {value}" for label, value in gap.export.about.rows())
        _ogr2ogr(
            "-f", "GPKG", str(path), str(source), "-nln", LAYER, "-nlt", "MULTIPOLYGON",
            "-lco", f"DESCRIPTION={description}", "-lco", f"IDENTIFIER={gap.export.about.title}",
        )  # fmt: skip
        _ogr2ogr("-update", "-f", "GPKG", str(path), str(about), "-nln", ABOUT, "-nlt", "NONE")
        # Open before the directory goes: the open file outlives its name.
        return path.open("rb")


# --- the map report ---------------------------------------------------------------------


@functools.cache
def _leaflet() -> tuple[str, str]:
    dist = Path(settings.BASE_DIR) / "node_modules" / "leaflet" / "dist"
    js = (dist / "leaflet.js").read_text(encoding="utf-8")
    css = (dist / "leaflet.css").read_text(encoding="utf-8")
    # Inlined in <script>/<style>: a closing tag inside would end it early.
    return js.replace("</script", "<\\/script"), css.replace("</style", "<\\/style")


def _palette(key: str) -> tuple[str, ...]:
    return tuple(reversed(WORSE)) if key in BETTER_KEYS else WORSE


def _fill(area: GapArea, palette: Sequence[str]) -> str:
    if area.withheld:
        return WITHHELD_FILL
    if area.klass is None:
        return NO_DATA
    return palette[area.klass]


def _value_text(area: GapArea, unit: str) -> str:
    if area.withheld:
        return f"{WITHHELD} · {_('withheld')}"
    if area.value is None:
        return _("no data")
    return f"{area.value:g} {unit}"


def _legend(layer: GapLayer, palette: Sequence[str]) -> list[tuple[str, str]]:
    unit = str(layer.indicator.unit)
    rows = []
    low = 0.0
    for colour, high in zip(palette, layer.breaks, strict=False):
        rows.append((colour, f"{low:g} – {high:g} {unit}"))
        low = high
    rows.append((WITHHELD_FILL, f"{WITHHELD} · {_('withheld')}"))
    rows.append((NO_DATA, _("no data")))
    return rows


def _report_map(layer: GapLayer, palette: Sequence[str]) -> folium.Map:
    fmap = folium.Map(tiles=None, width="100%", height="100%", control_scale=True)
    # Leaflet is inlined by the report's template; folium would link its CDNs.
    fmap.default_js = []
    fmap.default_css = []
    # Optional: offline the areas still draw on a blank background.
    folium.TileLayer(
        settings.TILE_URL, attr=settings.TILE_ATTRIBUTION, max_zoom=19, name="tiles"
    ).add_to(fmap)
    unit = str(layer.indicator.unit)
    features = [
        {
            "type": "Feature",
            "geometry": area.geometry,
            "properties": {
                # folium's tooltip sets innerHTML: names are escaped here.
                "name": html.escape(area.name_th),
                "value": html.escape(_value_text(area, unit)),
                "fill": _fill(area, palette),
            },
        }
        for area in layer.areas
        if area.geometry
    ]
    if features:
        folium.GeoJson(
            {"type": "FeatureCollection", "features": features},
            style_function=lambda feature: {
                "fillColor": feature["properties"]["fill"],
                "color": "#4d4d4d",
                "weight": 1,
                "fillOpacity": 0.8,
            },
            tooltip=folium.GeoJsonTooltip(
                fields=["name", "value"], aliases=[_("Area"), str(layer.indicator.label)]
            ),
        ).add_to(fmap)
    west, south, east, north = layer.area.extent
    fmap.fit_bounds([[south, west], [north, east]])
    return fmap


def gap_report_html(gap: GapExport) -> str:
    """A whole HTML document that opens offline: Leaflet's script and style inlined,
    the areas inline, only the tiles (optional) from outside."""
    layer = gap.layer
    palette = _palette(layer.indicator.key)
    fmap = _report_map(layer, palette)
    root = fmap.get_root()
    root.render()
    leaflet_js, leaflet_css = _leaflet()
    return render_to_string(
        "field/gap_report.html",
        {
            "about": gap.export.about,
            "layer": layer,
            "tables": gap.export.tables,
            "legend": _legend(layer, palette),
            "withheld": WITHHELD,
            "leaflet_js": leaflet_js,
            "leaflet_css": leaflet_css,
            # folium forbids zooming the page; a report read on a phone must zoom.
            "map_header": _VIEWPORT.sub("", root.header.render()),  # type: ignore[attr-defined]
            "map_html": root.html.render(),  # type: ignore[attr-defined]
            "map_script": root.script.render(),  # type: ignore[attr-defined]
        },
    )


# --- the dashboard ----------------------------------------------------------------------


def _tambon_table(key: str, title: str, rows: Sequence[TambonRow], rate_label: str) -> Table:
    return Table(
        key=key,
        title=title,
        header=[
            _("Tambon code"),
            _("Tambon"),
            _("District"),
            _("In the age window"),
            _("Dropped out"),
            _("Never enrolled"),
            _("Out of school"),
            rate_label,
        ],
        rows=[
            [
                row.code,
                row.name,
                row.district,
                *(_count(value) for value in row.cells),
                WITHHELD if row.rate is None else row.rate,
            ]
            for row in rows
        ],
    )


def _dashboard_tables(board: Dashboard) -> list[Table]:
    if board.year is None:
        return []
    funnel = [[str(bar.label), _count(bar.value)] for bar in board.funnel]
    funnel += [
        [_("Out of school: dropped out"), _count(board.split.get("dropped_out"))],
        [_("Out of school: never enrolled"), _count(board.split.get("never_enrolled"))],
    ]
    tables = [Table("funnel", _("From the age window to school"), [_("Step"), _("Count")], funnel)]
    if board.weekly is not None:
        weekly: list[list[Cell]] = [
            [monday, *(_count(v) for v in values)] for monday, values in board.weekly.rows
        ]
        weekly.append([_("Total"), *(_count(board.weekly.totals[key]) for key, _l in SERIES)])
        header = [_("Week from"), _("New cases"), _("Visits"), _("Resolutions")]
        tables.append(Table("weekly", _("Progress by week"), header, weekly))
    kind = f" · {CaseKind(board.kind).label}" if board.kind else ""
    rate_label = (
        _("%(kind)s per 1,000") % {"kind": CaseKind(board.kind).label}
        if board.kind
        else _("Out of school per 1,000")
    )
    if board.area.level != "subdistrict":
        most = _("The %(top)s tambons with the most children out of school") % {"top": TOP}
        widest = _("The %(top)s tambons with the widest gap") % {"top": TOP}
        tables.append(_tambon_table("top_count", most + kind, board.top_unreached, rate_label))
        tables.append(_tambon_table("top_rate", widest + kind, board.top_rate, rate_label))
    reasons: list[list[Cell]] = [[str(r.label), _count(r.value)] for r in board.reasons]
    reasons.append([_("Total"), _count(board.reasons_total)])
    tables.append(
        Table(
            "reasons",
            _("Why children are not back in school"),
            [_("Latest visit of the year"), _("Cases")],
            reasons,
        )
    )
    return tables


def dashboard_export(
    *, user: User, area_code: str | None, year: int | None, kind: str, affiliation: str
) -> Export:
    """The dashboard's tables for ``user``. PermissionDenied or Http404 as the page."""
    board = dashboard(user=user, area_code=area_code, year=year, kind=kind, affiliation=affiliation)
    filters = [
        (_("Kind of case"), str(CaseKind(kind).label) if kind else _("Both kinds")),
        (
            _("Last school register"),
            str(Affiliation(affiliation).label) if affiliation else _("Any"),
        ),
    ]
    about = About(
        title=_("Dashboard"),
        area_code=board.area.code,
        area_name=board.area.name,
        year=board.year,
        filters=filters,
        made=_now(),
        k=board.k,
    )
    return Export(about=about, tables=_dashboard_tables(board))


# --- writers ----------------------------------------------------------------------------


def _text(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, str):
        return safe_cell(cell)
    if isinstance(cell, dt.date):
        return cell.isoformat()
    return str(cell)


def csv_bytes(export: Export) -> bytes:
    """One CSV: the metadata, then each table under its title, a blank row apart.
    UTF-8 with a BOM: without it Excel opens Thai garbled."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for label, value in export.about.rows():
        writer.writerow([_text(label), _text(value)])
    for table in export.tables:
        writer.writerow([])
        writer.writerow([_text(table.title)])
        writer.writerow([_text(cell) for cell in table.header])
        for row in table.rows:
            writer.writerow([_text(cell) for cell in row])
    return buffer.getvalue().encode("utf-8-sig")


def _cells(sheet: Any, row: Sequence[Cell]) -> list[Any]:
    cells = []
    for value in row:
        cell = WriteOnlyCell(sheet, value=safe_cell(value))
        if isinstance(value, str):
            # openpyxl takes a string starting with "=" as a formula: text, always,
            # and a leading quote besides, should the sheet be saved again as CSV.
            cell.data_type = "s"
        elif isinstance(value, dt.date):
            cell.number_format = "yyyy-mm-dd"
        cells.append(cell)
    return cells


def xlsx_bytes(export: Export) -> bytes:
    """A sheet per table, named by its key, and an ``about`` sheet first."""
    book = Workbook(write_only=True)
    about = book.create_sheet(ABOUT)
    for label, value in export.about.rows():
        about.append(_cells(about, [label, value]))
    for table in export.tables:
        sheet = book.create_sheet(table.key)
        sheet.append(_cells(sheet, [table.title]))
        sheet.append(_cells(sheet, table.header))
        for row in table.rows:
            sheet.append(_cells(sheet, row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
