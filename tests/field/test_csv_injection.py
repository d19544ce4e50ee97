"""CSV injection: a name from a file or a form that a spreadsheet would run as a
formula is written with a leading quote, in the CSV and the XLSX alike, while
numbers (negative ones too) stay numbers. One function, ``safe_cell``, does it for
every writer."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped]

from field.exports import About, Export, Table, csv_bytes, xlsx_bytes
from field.registry.tables import RowProblem, safe_cell, write_problems_csv
from field.services.reports import write_run_report_to

HYPERLINK = '=HYPERLINK("http://x","y")'
SUM = "@SUM(A1)"
HOSTILE = (HYPERLINK, SUM, "+1+1", "-2+3", "\tx", "\rx")


@pytest.mark.parametrize("value", HOSTILE)
def test_a_formula_gets_a_quote(value: str) -> None:
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize(
    "value", ["สมชาย", "", "a=b", " =1", "'=already", 5, -5, -2.5, 0, None, dt.date(2025, 6, 2)]
)
def test_anything_else_is_left_as_it_is(value: Any) -> None:
    assert safe_cell(value) == value
    assert type(safe_cell(value)) is type(value)


def _export() -> Export:
    about = About(
        title=HYPERLINK,
        area_code="10",
        area_name=SUM,
        year=2568,
        filters=[("-filter", "+value")],
        made=dt.datetime(2025, 6, 2, 9, 0, tzinfo=ZoneInfo("Asia/Bangkok")),
        k=5,
    )
    table = Table(
        key="names",
        title="=title",
        header=["@name", "count", "change", "rate"],
        rows=[
            [HYPERLINK, 12, -3, -0.5],
            [SUM, 0, 7, 1.25],
            ["-ลบ", None, -1, 0.0],
        ],
    )
    return Export(about=about, tables=[table])


def test_the_csv_quotes_formulas_and_keeps_numbers() -> None:
    text = csv_bytes(_export()).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    cells = [cell for row in rows for cell in row]
    assert "'" + HYPERLINK in cells and "'" + SUM in cells and "'-ลบ" in cells
    assert "'=title" in cells and "'@name" in cells and "'-filter" in cells
    assert any(cell.startswith("'" + SUM) for cell in cells)  # the area, "(10)" after it
    # The numbers are written bare: a spreadsheet reads them as numbers again.
    assert ["'" + HYPERLINK, "12", "-3", "-0.5"] in rows
    assert ["'-ลบ", "", "-1", "0.0"] in rows
    # Nothing but a number starts with a formula character.
    for cell in cells:
        if cell.startswith(("=", "+", "-", "@", "\t", "\r")):
            float(cell)


def test_the_xlsx_quotes_formulas_and_keeps_numbers() -> None:
    book = load_workbook(io.BytesIO(xlsx_bytes(_export())))
    rows = [[c.value for c in row] for row in book["names"].iter_rows()]
    assert rows[0][0] == "'=title"
    assert rows[1] == ["'@name", "count", "change", "rate"]
    assert rows[2] == ["'" + HYPERLINK, 12, -3, -0.5]
    assert rows[3] == ["'" + SUM, 0, 7, 1.25]
    assert rows[4] == ["'-ลบ", None, -1, 0]
    sheet = book["names"]
    assert sheet["A3"].data_type == "s"  # text, never a formula
    assert sheet["C3"].data_type == "n" and isinstance(sheet["C3"].value, int)  # numeric
    assert sheet["D3"].data_type == "n" and isinstance(sheet["D3"].value, float)
    about = [c.value for row in book["about"].iter_rows() for c in row]
    assert "'" + HYPERLINK in about and "'-filter" in about and "'+value" in about
    assert any(isinstance(v, str) and v.startswith("'" + SUM) for v in about)
    for value in about:
        assert not (isinstance(value, str) and value.startswith(("=", "+", "-", "@")))


def test_the_import_reports_quote_formulas(tmp_path: Path) -> None:
    path = tmp_path / "problems.csv"
    write_problems_csv([RowProblem(HYPERLINK, 3, SUM, "-bad")], path)
    rows = list(csv.reader(path.open(encoding="utf-8-sig")))
    assert rows[1] == ["'" + HYPERLINK, "3", "'" + SUM, "'-bad"]

    problem = SimpleNamespace(row=4, field=SUM, severity="error", reason="=1+1")
    run: Any = SimpleNamespace(
        file_name=HYPERLINK,
        problems=SimpleNamespace(
            order_by=lambda *a: SimpleNamespace(iterator=lambda **k: iter([problem]))
        ),
    )
    handle = io.StringIO()
    write_run_report_to(run, handle)
    rows = list(csv.reader(io.StringIO(handle.getvalue())))
    assert rows[1] == ["'" + HYPERLINK, "4", "'" + SUM, "error", "'=1+1"]
