"""Reading registry tables: CSV (UTF-8 or TIS-620) and XLSX, headers in English or Thai.

Files come from district offices and schools: exported by hand, renamed, with
columns reordered and extra ones added. Headers are matched by meaning, not by
position, and every refusal names the file, the row and the field so the
sender can fix it.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TypeVar

# openpyxl ships no type hints and types-openpyxl is not a project dependency.
from openpyxl import load_workbook  # type: ignore[import-untyped]

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
# Sheet XML compresses well, but not a thousandfold: beyond this a zip is a bomb.
DEFAULT_MAX_RATIO = 100
HEADER_ROW = 1
# Enough of a file to tell UTF-8 from TIS-620: Thai text starts on the header row.
_SNIFF_BYTES = 1 << 20

POPULATION_COLUMNS: Mapping[str, Sequence[str]] = {
    "national_id": ("national id", "เลขประจำตัวประชาชน"),
    "title": ("คำนำหน้า",),
    "first_name": ("first name", "ชื่อ"),
    "last_name": ("last name", "นามสกุล"),
    "sex": ("เพศ",),
    "birth_date": ("birth date", "date of birth", "วันเกิด"),
    "house_no": ("house number", "บ้านเลขที่"),
    "moo": ("หมู่", "หมู่ที่"),
    "subdistrict": ("tambon", "ตำบล"),
    "district": ("amphoe", "อำเภอ"),
    "province": ("จังหวัด",),
    "postcode": ("postal code", "รหัสไปรษณีย์"),
    "nationality": ("สัญชาติ",),
    "lat": ("latitude", "ละติจูด"),
    "lon": ("longitude", "ลองจิจูด"),
}
POPULATION_OPTIONAL: frozenset[str] = frozenset({"lat", "lon", "postcode", "title", "nationality"})

ENROLMENT_COLUMNS: Mapping[str, Sequence[str]] = {
    "national_id": POPULATION_COLUMNS["national_id"],
    "first_name": POPULATION_COLUMNS["first_name"],
    "last_name": POPULATION_COLUMNS["last_name"],
    "birth_date": POPULATION_COLUMNS["birth_date"],
    "school_code": ("school code", "รหัสโรงเรียน"),
    "school_name": ("school name", "ชื่อโรงเรียน"),
    "grade": ("ชั้น",),
    "academic_year": ("academic year", "ปีการศึกษา"),
    "status": ("สถานะ",),
}
ENROLMENT_OPTIONAL: frozenset[str] = frozenset()

# Invisible characters that Excel and copy-paste leave in headers.
_INVISIBLE = re.compile("[\ufeff\u200b\u200c\u200d\u2060\u00ad]")
# Undecodable bytes, as the surrogateescape error handler leaves them.
_UNDECODED = re.compile("[\udc80-\udcff]")
_SUSPECT = re.compile("[\ufeff\u200b\u200c\u200d\u2060\u00ad\udc80-\udcff]")
# Cells starting with these run as formulas when the report is opened in Excel.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

CellValue = str | int | float | bool | date | datetime | None
_V = TypeVar("_V", bound=CellValue)


class TableError(Exception):
    """The whole file is refused; ``row`` is 1 for header problems, 0 for the file itself."""

    def __init__(self, file: str, *, row: int, field: str, reason: str) -> None:
        super().__init__(f"{file}, row {row}, {field or '-'}: {reason}")
        self.file = file
        self.row = row
        self.field = field
        self.reason = reason

    def as_problem(self) -> RowProblem:
        return RowProblem(self.file, self.row, self.field, self.reason)


@dataclass(frozen=True)
class RowProblem:
    file: str
    row: int
    field: str
    reason: str

    def as_csv_row(self) -> list[str]:
        return [defuse(self.file), str(self.row), defuse(self.field), defuse(self.reason)]


@dataclass(frozen=True)
class Row:
    number: int
    """The spreadsheet row number (the header is row 1), as the sender sees it."""
    values: dict[str, str]
    """Keyed by canonical English column name; absent optional columns are ""."""


@dataclass(frozen=True)
class Table:
    file: str
    format: str
    """"csv" or "xlsx"."""
    encoding: str | None
    """"utf-8", "utf-8-sig" or "cp874" for CSV; None for XLSX."""
    rows: list[Row]
    ignored_columns: list[str] = field(default_factory=list)


@dataclass
class TableStream:
    """A table read row by row, for registry files of a million rows.

    ``rows`` yields (row number, cells) with the cells in the order of the
    ``columns`` mapping, "" for an absent optional column; completely empty rows
    are skipped. ``bytes_read`` tells how far into the file reading has come.
    """

    file: str
    format: str
    encoding: str | None
    columns: list[str]
    size: int
    ignored_columns: list[str]
    rows: Iterator[tuple[int, list[str]]]
    _handle: io.BufferedReader | None = None
    take: list[int | None] = field(default_factory=list)
    """Per column, its position in the file's records (None: absent)."""

    @property
    def bytes_read(self) -> int:
        if self._handle is None or self._handle.closed:
            return self.size
        return min(self._handle.tell(), self.size)


@contextmanager
def open_table(
    path: Path,
    *,
    columns: Mapping[str, Sequence[str]],
    optional: Collection[str] = (),
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_ratio: int = DEFAULT_MAX_RATIO,
    name: str | None = None,
) -> Iterator[TableStream]:
    """Opens the CSV or XLSX file at ``path`` for streaming; raises ``TableError``.

    The header is read and checked on opening; a problem further down (a bad
    byte, a broken quote) raises ``TableError`` from the ``rows`` iterator.
    ``name`` is the file name to report (an upload is saved under another).
    """
    name = name or path.name
    size = path.stat().st_size
    if size > max_bytes:
        raise TableError(name, row=0, field="", reason=f"file larger than {max_bytes} bytes")
    with path.open("rb") as handle:
        magic = handle.read(4)
        if magic == b"PK\x03\x04":
            _check_zip(path, name, max_uncompressed=max_bytes * max_ratio, max_ratio=max_ratio)
            records = _xlsx_rows(path, name)
            yield _stream(name, "xlsx", None, size, None, records, columns, optional)
            return
        if path.suffix.lower() in {".xlsx", ".xlsm", ".xls"}:
            raise TableError(name, row=0, field="", reason="not an XLSX file (save it as .xlsx)")
        handle.seek(0)
        encoding = _sniff_encoding(name, handle.read(_SNIFF_BYTES), complete=size <= _SNIFF_BYTES)
        handle.seek(0)
        # Bytes that do not decode become lone surrogates, caught on their row by
        # the row loop, so the report names the exact row and column.
        text = io.TextIOWrapper(handle, encoding=encoding, newline="", errors="surrogateescape")
        try:
            yield _stream(
                name, "csv", encoding, size, handle, _csv_rows(name, text), columns, optional
            )
        finally:
            text.detach()


def read_table(
    path: Path,
    *,
    columns: Mapping[str, Sequence[str]],
    optional: Collection[str] = (),
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_ratio: int = DEFAULT_MAX_RATIO,
    name: str | None = None,
) -> Table:
    """All the rows of the CSV or XLSX file at ``path``; raises ``TableError``.

    ``columns`` maps each canonical name to its accepted headers (the canonical
    name itself is always accepted); those in ``optional`` may be missing.
    Completely empty rows are skipped, keeping the numbering of the others.
    For small files (schools, villages, tests): registries go through ``open_table``.
    """
    with open_table(
        path,
        columns=columns,
        optional=optional,
        max_bytes=max_bytes,
        max_ratio=max_ratio,
        name=name,
    ) as stream:
        rows = [
            Row(number=number, values=dict(zip(stream.columns, cells, strict=True)))
            for number, cells in stream.rows
        ]
        return Table(
            file=stream.file,
            format=stream.format,
            encoding=stream.encoding,
            rows=rows,
            ignored_columns=stream.ignored_columns,
        )


@dataclass(frozen=True)
class Part:
    """A byte range of a CSV file that starts on a record, and its first row number."""

    start: int
    end: int
    first_row: int


def split_csv(path: Path, parts: int) -> tuple[list[Part], int] | None:
    """Byte ranges of the data rows for ``parts`` readers, and the number of lines.

    Only where a line break is surely a record break: no quote character before
    the last cut (a quoted cell may hold a line break). Otherwise None, and the
    file is read in one piece.
    """
    data = path.read_bytes()
    header_end = data.find(b"\n") + 1
    if header_end == 0 or parts < 2:
        return None
    cuts = [header_end]
    for k in range(1, parts):
        at = data.find(b"\n", max(cuts[-1], len(data) * k // parts))
        if at < 0:
            return None
        cuts.append(at + 1)
    if b'"' in data[: cuts[-1]]:
        return None
    cuts.append(len(data))
    found, row = [], HEADER_ROW + 1
    for start, end in zip(cuts, cuts[1:], strict=False):
        found.append(Part(start, end, row))
        row += data.count(b"\n", start, end)
    return found, data.count(b"\n")


def read_part(
    path: Path, part: Part, *, name: str, encoding: str, take: list[int | None], order: list[str]
) -> Iterator[tuple[int, list[str]]]:
    """The rows of one part, numbered as in the whole file."""
    with path.open("rb") as handle:
        handle.seek(part.start)
        data = handle.read(part.end - part.start)
    codec = "utf-8" if encoding == "utf-8-sig" else encoding
    text = io.TextIOWrapper(io.BytesIO(data), encoding=codec, newline="", errors="surrogateescape")
    records = _csv_rows(name, text, part.first_row)
    yield from _numbered_cells(name, encoding, records, take, order, part.first_row)


def write_problems_csv(problems: Iterable[RowProblem], path: Path) -> None:
    # UTF-8 with BOM: without it Excel opens the file as cp874 or cp1252 and
    # the Thai field names and reasons come out garbled.
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "row", "field", "reason"])
        writer.writerows(problem.as_csv_row() for problem in problems)


def normalise_header(header: str) -> str:
    text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", header)).replace("_", " ")
    return " ".join(text.split()).casefold()


def safe_cell(value: _V) -> _V:
    """A cell for a CSV or XLSX file that a spreadsheet opens: text that Excel,
    LibreOffice or Sheets would run as a formula (``=``, ``+``, ``-``, ``@``, a tab
    or a carriage return first) gets a ``'`` in front, as OWASP advises for CSV
    injection. Anything that is not text, a negative number included, is returned
    as it is, so a number stays a number. Every export writer passes its cells here.
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value  # type: ignore[return-value]
    return value


def defuse(value: str) -> str:
    """A text cell that Excel would run as a formula, made plain text."""
    return safe_cell(value)


def _sniff_encoding(name: str, head: bytes, *, complete: bool) -> str:
    # Strict UTF-8 first: TIS-620 text is almost never valid UTF-8, while any
    # UTF-8 file would decode (wrongly) as cp874. The head of the file decides;
    # a cut multi-byte character at its end is not an error.
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=complete)
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"
    try:
        codecs.getincrementaldecoder("cp874")().decode(head, final=complete)
    except UnicodeDecodeError:
        raise TableError(
            name, row=0, field="", reason="encoding is neither UTF-8 nor TIS-620"
        ) from None
    return "cp874"


def _csv_rows(
    name: str, text: io.TextIOWrapper, first_row: int = HEADER_ROW
) -> Iterator[list[CellValue]]:
    reader = csv.reader(text)
    # Counted in records, not physical lines: quoted cells may span lines.
    done = 0
    try:
        for record in reader:
            yield record  # type: ignore[misc]  # list[str] is a list[CellValue] here
            done += 1
    except csv.Error as error:
        raise TableError(name, row=first_row + done, field="", reason=str(error)) from None


def _check_zip(path: Path, name: str, *, max_uncompressed: int, max_ratio: int) -> None:
    """Refuse zip bombs before openpyxl inflates anything.

    Declared sizes are enough: zipfile stops inflating a member at its
    declared size, so a member that lies about it cannot grow past the check.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except zipfile.BadZipFile:
        raise TableError(name, row=0, field="", reason="not a readable XLSX file") from None
    total = sum(member.file_size for member in members)
    if total > max_uncompressed:
        raise TableError(
            name, row=0, field="", reason=f"uncompressed size over {max_uncompressed} bytes"
        )
    for member in members:
        if member.file_size > max_ratio * max(member.compress_size, 1):
            raise TableError(
                name, row=0, field="", reason=f"compression ratio over {max_ratio} (zip bomb?)"
            )


def _xlsx_rows(path: Path, name: str) -> Iterator[list[CellValue]]:
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises KeyError, ValueError, BadZipFile...
        raise TableError(name, row=0, field="", reason="not a readable XLSX file") from error
    try:
        # The first sheet: registry exports put the data there.
        for values in workbook.worksheets[0].iter_rows(values_only=True):
            yield list(values)
    finally:
        workbook.close()


def _stream(
    name: str,
    format: str,
    encoding: str | None,
    size: int,
    handle: io.BufferedReader | None,
    records: Iterator[list[CellValue]],
    columns: Mapping[str, Sequence[str]],
    optional: Collection[str],
) -> TableStream:
    header = next(records, None)
    if header is None:
        raise TableError(name, row=HEADER_ROW, field="", reason="empty file")
    positions, ignored = _match_headers(name, [_cell_text(cell) for cell in header], columns)
    missing = [column for column in columns if column not in positions and column not in optional]
    if missing:
        raise TableError(
            name,
            row=HEADER_ROW,
            field=", ".join(missing),
            reason="missing required column(s): " + ", ".join(missing),
        )
    order = list(columns)
    take = [positions.get(c) for c in order]
    rows = (
        _csv_cells(name, encoding or "", records, take, order)
        if format == "csv"
        else _any_cells(records, take)
    )
    return TableStream(name, format, encoding, order, size, ignored, rows, handle, take)


def _csv_cells(
    name: str,
    encoding: str,
    records: Iterator[list[CellValue]],
    take: list[int | None],
    order: list[str],
) -> Iterator[tuple[int, list[str]]]:
    # The hot loop of a million-row import: CSV cells are already text, and
    # invisible characters are rare, so one search over the joined row decides
    # whether the slow per-cell clean-up is needed.
    yield from _numbered_cells(name, encoding, records, take, order, HEADER_ROW + 1)


def _numbered_cells(
    name: str,
    encoding: str,
    records: Iterator[list[CellValue]],
    take: list[int | None],
    order: list[str],
    first: int,
) -> Iterator[tuple[int, list[str]]]:
    width = max((i for i in take if i is not None), default=-1) + 1
    for number, record in enumerate(records, start=first):
        texts: list[str] = record  # type: ignore[assignment]  # csv yields str cells
        if len(texts) < width:
            texts = texts + [""] * (width - len(texts))
        cells = ["" if i is None else texts[i].strip() for i in take]
        joined = "".join(cells)
        if not joined:
            continue
        if _SUSPECT.search(joined):
            for column, cell in zip(order, cells, strict=True):
                if _UNDECODED.search(cell):
                    raise TableError(
                        name,
                        row=number,
                        field=column,
                        reason=f"bytes that are not {encoding.removesuffix('-sig')} "
                        "(two encodings in one file?)",
                    )
            cells = [_INVISIBLE.sub("", cell).strip() for cell in cells]
        yield number, cells


def _any_cells(
    records: Iterator[list[CellValue]], take: list[int | None]
) -> Iterator[tuple[int, list[str]]]:
    for number, record in enumerate(records, start=HEADER_ROW + 1):
        texts = [_cell_text(cell) for cell in record]
        if not any(texts):
            continue
        yield number, ["" if i is None or i >= len(texts) else texts[i] for i in take]


def _match_headers(
    name: str, headers: list[str], columns: Mapping[str, Sequence[str]]
) -> tuple[dict[str, int], list[str]]:
    lookup = {
        normalise_header(alias): column
        for column, aliases in columns.items()
        for alias in (column, *aliases)
    }
    positions: dict[str, int] = {}
    ignored: list[str] = []
    for index, header in enumerate(headers):
        column = lookup.get(normalise_header(header))
        if column is None:
            if header:
                ignored.append(header)
            continue
        if column in positions:
            raise TableError(name, row=HEADER_ROW, field=column, reason="column appears twice")
        positions[column] = index
    return positions, ignored


def _cell_text(cell: CellValue) -> str:
    """Cells as the text a clerk would have typed, so one parser serves CSV and XLSX."""
    if cell is None:
        return ""
    if isinstance(cell, datetime):
        # Midnight is how Excel stores a plain date.
        return cell.date().isoformat() if cell.time() == datetime.min.time() else cell.isoformat()
    if isinstance(cell, date):
        return cell.isoformat()
    if isinstance(cell, float) and cell.is_integer():
        # IDs typed as numbers come back as floats: 1400181091261.0, not 1.4e12.
        return str(int(cell))
    return _INVISIBLE.sub("", str(cell)).strip()
