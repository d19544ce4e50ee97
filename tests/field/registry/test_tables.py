"""Registry tables: encodings, Thai headers, XLSX, zip bombs and the error report."""

from __future__ import annotations

import csv
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook  # type: ignore[import-untyped]

from field.registry.tables import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_RATIO,
    ENROLMENT_COLUMNS,
    ENROLMENT_OPTIONAL,
    POPULATION_COLUMNS,
    POPULATION_OPTIONAL,
    RowProblem,
    TableError,
    normalise_header,
    open_table,
    read_table,
    write_problems_csv,
)

DEMO_POPULATION = Path(__file__).resolve().parents[3] / ".local" / "demo" / "population.csv"

THAI_HEADER = [
    "เลขประจำตัวประชาชน", "ชื่อ", "นามสกุล", "เพศ", "วันเกิด", "บ้านเลขที่",
    "หมู่", "ตำบล", "อำเภอ", "จังหวัด",
]  # fmt: skip
ROW = ["1400181091261", "ปกรณ์", "ขันทอง", "ช", "25/01/2559", "19", "1", "ในเมือง",
       "เมืองขอนแก่น", "ขอนแก่น"]  # fmt: skip


def _csv_text(rows: list[list[str]]) -> str:
    return "\r\n".join(",".join(row) for row in rows) + "\r\n"


def _read_population(
    path: Path, max_bytes: int = DEFAULT_MAX_BYTES, max_ratio: int = DEFAULT_MAX_RATIO
) -> list[dict[str, str]]:
    table = read_table(
        path,
        columns=POPULATION_COLUMNS,
        optional=POPULATION_OPTIONAL,
        max_bytes=max_bytes,
        max_ratio=max_ratio,
    )
    return [row.values for row in table.rows]


@pytest.mark.parametrize(
    ("encoding", "recorded"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("cp874", "cp874")],
)
def test_csv_encodings(tmp_path: Path, encoding: str, recorded: str) -> None:
    path = tmp_path / "population.csv"
    path.write_bytes(_csv_text([THAI_HEADER, ROW]).encode(encoding))
    table = read_table(path, columns=POPULATION_COLUMNS, optional=POPULATION_OPTIONAL)
    assert table.encoding == recorded
    assert table.format == "csv"
    [row] = table.rows
    assert row.number == 2
    assert row.values["first_name"] == "ปกรณ์"
    assert row.values["district"] == "เมืองขอนแก่น"
    assert row.values["lat"] == ""


def test_bytes_that_are_neither_utf8_nor_tis620(tmp_path: Path) -> None:
    path = tmp_path / "broken.csv"
    # 0xdb is unassigned in cp874 and invalid as a UTF-8 start byte here.
    path.write_bytes(_csv_text([THAI_HEADER]).encode("utf-8") + b"\xdb\xfc\r\n")
    with pytest.raises(TableError, match="encoding"):
        read_table(path, columns=POPULATION_COLUMNS, optional=POPULATION_OPTIONAL)


def test_shuffled_mixed_language_headers_and_extra_columns(tmp_path: Path) -> None:
    header = ["\u200bNote", *reversed(THAI_HEADER), "  Latitude ", "LON", "ละติจูด x"]
    header[1] = "\ufeff" + header[1]
    header[6] = "Birth_Date"  # English in place of วันเกิด
    row = ["call first", *reversed(ROW), "16.43", "102.83", "?"]
    path = tmp_path / "mixed.csv"
    path.write_text(_csv_text([header, row, [""] * len(row), row]), encoding="utf-8")
    table = read_table(path, columns=POPULATION_COLUMNS, optional=POPULATION_OPTIONAL)
    assert [r.number for r in table.rows] == [2, 4]  # the empty row is skipped, not renumbered
    values = table.rows[0].values
    assert values["national_id"] == "1400181091261"
    assert values["birth_date"] == "25/01/2559"
    assert (values["lat"], values["lon"]) == ("16.43", "102.83")
    assert set(values) == set(POPULATION_COLUMNS)
    assert table.ignored_columns == ["Note", "ละติจูด x"]


def test_short_rows_are_padded(tmp_path: Path) -> None:
    path = tmp_path / "short.csv"
    path.write_text(_csv_text([THAI_HEADER, ROW[:3]]), encoding="utf-8")
    [values] = _read_population(path)
    assert values["last_name"] == "ขันทอง"
    assert values["province"] == ""


def test_missing_required_columns_are_named(tmp_path: Path) -> None:
    path = tmp_path / "missing.csv"
    header = [h for h in THAI_HEADER if h not in ("วันเกิด", "ตำบล")]
    path.write_text(_csv_text([header]), encoding="utf-8")
    with pytest.raises(TableError) as caught:
        _read_population(path)
    error = caught.value
    assert (error.file, error.row) == ("missing.csv", 1)
    assert error.field == "birth_date, subdistrict"
    assert "birth_date" in error.reason


def test_duplicate_column_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "twice.csv"
    path.write_text(_csv_text([[*THAI_HEADER, "National ID"]]), encoding="utf-8")
    with pytest.raises(TableError, match="twice") as caught:
        _read_population(path)
    assert caught.value.field == "national_id"


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(TableError, match="empty"):
        _read_population(path)


def test_file_over_the_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text(_csv_text([THAI_HEADER, ROW, ROW]), encoding="utf-8")
    with pytest.raises(TableError, match="larger"):
        _read_population(path, max_bytes=100)


def test_csv_syntax_error_names_the_record(tmp_path: Path) -> None:
    path = tmp_path / "huge_cell.csv"
    # A quoted cell that spans lines, then one over the csv module's field limit.
    rows = [THAI_HEADER, ['"two\r\nlines"', *ROW[1:]], ['"' + "x" * 200_000 + '"']]
    path.write_text(_csv_text(rows), encoding="utf-8")
    with pytest.raises(TableError, match="field larger") as caught:
        _read_population(path)
    assert caught.value.row == 3


def test_xlsx(tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["สถานะ", "ชื่อโรงเรียน", *THAI_HEADER[:5], "รหัสโรงเรียน", "ชั้น", "ปีการศึกษา"])
    birth = datetime(2559, 1, 25)  # noqa: DTZ001 (XLSX cells are naive)
    sheet.append(["กำลังเรียน", "บ้านหนองบัว", 1400181091261, "ปกรณ์", "ขันทอง", "ช", birth,
                  1040050001, "ป.4", 2568])  # fmt: skip
    sheet.append([None] * 10)
    sheet.append(["ย้าย", None, "G401234567890", "ไกรสร", "ขาวดี", "ช", "3/2/2560", None, 1, 2568.0])
    path = tmp_path / "enrolment.xlsx"
    workbook.save(path)
    table = read_table(path, columns=ENROLMENT_COLUMNS, optional=ENROLMENT_OPTIONAL)
    assert (table.format, table.encoding) == ("xlsx", None)
    first, second = table.rows
    assert first.number == 2
    assert first.values["national_id"] == "1400181091261"
    assert first.values["birth_date"] == "2559-01-25"
    assert first.values["school_code"] == "1040050001"
    assert first.values["academic_year"] == "2568"
    assert "sex" not in first.values
    assert second.number == 4
    assert second.values["school_name"] == ""
    assert second.values["grade"] == "1"
    assert second.values["academic_year"] == "2568"


def test_xlsx_missing_column(tmp_path: Path) -> None:
    workbook = Workbook()
    workbook.active.append(["national_id", "first_name"])
    path = tmp_path / "short.xlsx"
    workbook.save(path)
    with pytest.raises(TableError) as caught:
        read_table(path, columns=ENROLMENT_COLUMNS)
    assert caught.value.row == 1
    assert caught.value.field.startswith("last_name, birth_date, school_code")


def _zip_bomb(path: Path) -> None:
    # Same shape as an XLSX, but the sheet inflates from ~50 KB to 50 MB.
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * 50_000_000)


def test_zip_bomb_refused_by_ratio(tmp_path: Path) -> None:
    path = tmp_path / "bomb.xlsx"
    _zip_bomb(path)
    assert path.stat().st_size < 1_000_000
    with pytest.raises(TableError, match="ratio"):
        _read_population(path, max_bytes=1_000_000)


def test_zip_bomb_refused_by_total_size(tmp_path: Path) -> None:
    path = tmp_path / "bomb.xlsx"
    _zip_bomb(path)
    with pytest.raises(TableError, match="uncompressed size"):
        _read_population(path, max_bytes=200_000, max_ratio=200)


def test_not_really_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "old.xlsx"
    path.write_bytes(b"\xd0\xcf\x11\xe0 an old .xls renamed")
    with pytest.raises(TableError, match="not an XLSX"):
        _read_population(path)
    zipped = tmp_path / "other.xlsx"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("readme.txt", "not a workbook")
    with pytest.raises(TableError, match="not a readable XLSX"):
        _read_population(zipped)


def test_normalise_header() -> None:
    assert normalise_header("\ufeff  National__ID\u200b ") == "national id"
    assert normalise_header("วัน  เกิด") == "วัน เกิด"


def test_problems_report(tmp_path: Path) -> None:
    path = tmp_path / "problems.csv"
    problems = [
        RowProblem("ประชากร.csv", 7, "national_id", "checksum"),
        RowProblem("a.csv", 9, "birth_date", '=HYPERLINK("http://x")'),
        TableError("b.csv", row=1, field="birth_date", reason="missing").as_problem(),
    ]
    write_problems_csv(problems, path)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows == [
        ["file", "row", "field", "reason"],
        ["ประชากร.csv", "7", "national_id", "checksum"],
        # Defused: Excel must show the text, not run it.
        ["a.csv", "9", "birth_date", '\'=HYPERLINK("http://x")'],
        ["b.csv", "1", "birth_date", "missing"],
    ]


@pytest.mark.skipif(not DEMO_POPULATION.exists(), reason="demo data not generated")
def test_demo_population_header_maps(tmp_path: Path) -> None:
    # Only the first lines: the demo file is large and may change.
    with DEMO_POPULATION.open("rb") as handle:
        head = b"".join(handle.readline() for _ in range(6))
    path = tmp_path / "population.csv"
    path.write_bytes(head)
    table = read_table(path, columns=POPULATION_COLUMNS, optional=POPULATION_OPTIONAL)
    assert table.encoding == "utf-8-sig"
    assert table.ignored_columns == []
    assert len(table.rows) == 5
    assert all(row.values["national_id"] for row in table.rows)


def test_streaming_reports_progress_and_a_late_encoding_change(tmp_path: Path) -> None:
    header = "national_id,first_name,last_name,birth_date,house_no,moo,"
    header += "subdistrict,district,province,sex\n"
    good = "".join(f"1,ก{i},ข,01/01/2560,1,1,ในเมือง,เมือง,ขอนแก่น,ช\n" for i in range(60_000))
    path = tmp_path / "mixed.csv"
    # Valid UTF-8 for more than the sniffed first megabyte, then a TIS-620 row.
    path.write_bytes(
        (header + good).encode() + "9,สมชาย,ใจดี,01/01/2560,1,1,ก,ข,ช\n".encode("cp874")
    )
    with open_table(path, columns=POPULATION_COLUMNS, optional=POPULATION_OPTIONAL) as table:
        seen = []
        with pytest.raises(TableError) as refused:
            for number, _ in table.rows:
                if number % 20_000 == 0:
                    seen.append(table.bytes_read)
        assert seen == sorted(seen) and 0 < seen[0] < table.size
    assert refused.value.row == 60_002
    assert refused.value.field == "first_name"
    assert "not utf-8" in refused.value.reason
