"""The coordinator's list of education volunteers, imported end to end over the
real boundaries and villages of Khon Kaen, from small files written here."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.utils import translation
from openpyxl import Workbook  # type: ignore[import-untyped]

from field.models import ImportKind, ImportRun, ImportStatus, Volunteer
from field.registry.volunteers import read_phone
from field.services.imports import import_file

DATA = Path(__file__).resolve().parents[1] / "data" / "registry"

HEADER = "code,name,phone,lat,lon,village,kind,capacity,active_from,active_to"
ROWS = [
    "V001,นางสมศรี ใจดี,081-234-5678,16.4374,102.8329,40010101,parent,15,2025-06-01,",
    "V002,นายบุญมี ศรีสุข,๐๘๙ ๑๒๓ ๔๕๖๗,16.4396,102.8324,,ข้าราชการบำนาญ,,1/6/2568,",
    "V003,นางมาลี มีสุข,12345,16.5552,102.8249,,ศิษย์เก่า,10,2025-06-01,2026-05-31",
    "V004,นายไกล บ้าน,,35.6812,139.7671,,parent,,2025-06-01,",
    "V005,นายสลับ พิกัด,0812345678,102.8329,16.4374,,หมอดู,,2025-06-01,",
    "V001,นางสมศรี ซ้ำ,,16.4374,102.8329,,,,2025-06-01,",
    "V006,นายวัน ผิด,,16.4374,102.8329,,,,2025-06-01,2025-01-01",
    "V007,นายหมู่ ผิด,,16.4374,102.8329,40019999,Local sage,abc,2025-06-01,",
]
# (row, field, severity, a substring of the reason): the whole report, nothing else.
PROBLEMS = [
    (4, "phone", "warning", "'12345' is not a Thai phone: left blank"),
    (5, "lat", "error", "coordinates 35.6812, 139.7671 are outside Thailand"),
    (6, "kind", "warning", "unknown kind 'หมอดู': read as other"),
    (6, "lat", "warning", "latitude and longitude were swapped"),
    (7, "code", "warning", "code V001 already on row 2: skipped"),
    (8, "active_to", "error", "ends 2025-01-01, before it starts 2025-06-01"),
    (9, "capacity", "warning", "'abc' is not a positive whole number: 20 taken"),
    (9, "village", "warning", "village 40019999 is not in the village list: nearest"),
]
# code: (name, phone, village, kind, capacity, active_from, active_to)
SAVED = {
    "V001": ("นางสมศรี ใจดี", "0812345678", "40010101", "parent", 15, "2025-06-01", None),
    "V002": (
        "นายบุญมี ศรีสุข",
        "0891234567",
        "40010102",
        "retired_civil_servant",
        20,
        "2025-06-01",
        None,
    ),
    "V003": ("นางมาลี มีสุข", "", "40010201", "alumnus", 10, "2025-06-01", "2026-05-31"),
    "V005": ("นายสลับ พิกัด", "0812345678", "40010101", "other", 20, "2025-06-01", None),
    "V007": ("นายหมู่ ผิด", "", "40010101", "local_sage", 20, "2025-06-01", None),
}


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture
def villages(db: None, khon_kaen_boundaries: None) -> None:
    assert import_file(kind=ImportKind.VILLAGES, path=DATA / "villages.csv").status == "done"


def write_csv(path: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    path.write_text("\n".join(lines) + "\n", encoding=encoding)
    return path


def counts(run: ImportRun) -> dict[str, int]:
    names = ("rows_read", "imported", "unchanged", "rejected", "duplicates", "unresolved")
    return {name: getattr(run, name) for name in (*names, "warnings")}


def assert_report(run: ImportRun, expected: list[tuple[int, str, str, str]]) -> None:
    got = sorted((p.row, p.field, p.severity, p.reason) for p in run.problems.all())
    assert [g[:3] for g in got] == sorted(e[:3] for e in expected), got
    for (row, field, _, reason), (_, _, _, part) in zip(got, sorted(expected), strict=True):
        assert part in reason, (row, field, reason)


def saved() -> dict[str, tuple[object, ...]]:
    return {
        v.code: (
            v.name,
            v.phone,
            v.village_id,
            v.kind,
            v.capacity,
            v.active_from.isoformat(),
            v.active_to.isoformat() if v.active_to else None,
        )
        for v in Volunteer.objects.all()
    }


def test_csv_counts_report_and_fields(villages: None, tmp_path: Path) -> None:
    run = import_file(
        kind=ImportKind.VOLUNTEERS, path=write_csv(tmp_path / "v.csv", [HEADER, *ROWS])
    )
    assert run.status == ImportStatus.DONE, run.error
    assert counts(run) == {
        "rows_read": 8,
        "imported": 5,
        "unchanged": 0,
        "rejected": 2,
        "duplicates": 1,
        "unresolved": 0,
        "warnings": 6,
    }
    assert_report(run, PROBLEMS)
    assert saved() == SAVED
    # Swapped coordinates are read the right way round.
    swapped = Volunteer.objects.get(code="V005")
    assert (swapped.home.x, swapped.home.y) == (102.8329, 16.4374)


def test_reimport_changes_nothing_and_keeps_the_linked_user(villages: None, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "v.csv", [HEADER, *ROWS])
    import_file(kind=ImportKind.VOLUNTEERS, path=path)
    login = User.objects.create_user("somsri")
    Volunteer.objects.filter(code="V001").update(user=login)
    by_hand = Volunteer.objects.create(
        name="นายมือ เขียน",
        home=Volunteer.objects.get(code="V002").home,
        kind="parent",
        active_from=dt.date(2025, 1, 1),
    )

    again = import_file(kind=ImportKind.VOLUNTEERS, path=path)
    assert (again.imported, again.unchanged, again.rejected, again.duplicates) == (0, 5, 2, 1)
    assert saved() == {**SAVED, "": ("นายมือ เขียน", "", None, "parent", 20, "2025-01-01", None)}

    changed = [HEADER, ROWS[0].replace("นางสมศรี ใจดี", "นางสมศรี ใจงาม"), *ROWS[1:]]
    third = import_file(kind=ImportKind.VOLUNTEERS, path=write_csv(path, changed))
    assert (third.imported, third.unchanged) == (1, 4)
    somsri = Volunteer.objects.get(code="V001")
    assert (somsri.name, somsri.user_id) == ("นางสมศรี ใจงาม", login.pk)
    # A form opened before the import is stale now; one left unchanged is not.
    assert (somsri.version, Volunteer.objects.get(code="V002").version) == (1, 0)
    assert Volunteer.objects.filter(pk=by_hand.pk, code="").exists()
    assert Volunteer.objects.count() == 6


def test_thai_headers_tis620_and_buddhist_dates(villages: None, tmp_path: Path) -> None:
    lines = [
        "วันสิ้นสุด,ประเภท,รหัส,ชื่อ-นามสกุล,โทรศัพท์,ลองจิจูด,ละติจูด,จำนวนครัวเรือนที่ดูแลได้,วันเริ่ม",
        "31/05/2569,ปราชญ์ชาวบ้าน,อ01,นางทองใบ ศรีดี,043-123456,102.8324,16.4396,๑๕,1 มิ.ย. 2568",
        ",อื่น ๆ,อ02,นายแดง ดี,,102.8249,16.5552,,15/06/2568",
        ",ผู้ปกครอง,อ03,นายไม่มี วันเริ่ม,,102.8249,16.5552,,",
    ]
    path = write_csv(tmp_path / "อสม.csv", lines, encoding="tis-620")
    run = import_file(kind=ImportKind.VOLUNTEERS, path=path)
    assert run.status == ImportStatus.DONE, run.error
    assert counts(run) == {
        "rows_read": 3,
        "imported": 2,
        "unchanged": 0,
        "rejected": 1,
        "duplicates": 0,
        "unresolved": 0,
        "warnings": 0,
    }
    assert_report(run, [(4, "active_from", "error", "(blank)")])
    assert saved() == {
        "อ01": (
            "นางทองใบ ศรีดี",
            "043123456",
            "40010102",
            "local_sage",
            15,
            "2025-06-01",
            "2026-05-31",
        ),
        "อ02": ("นายแดง ดี", "", "40010201", "other", 20, "2025-06-15", None),
    }


def test_xlsx(villages: None, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["ชื่อ-นามสกุล", "รหัส", "ละติจูด", "ลองจิจูด", "หมู่บ้าน", "วันเริ่ม", "ประเภท"])
    sheet.append(["นางเอ็กเซล ดี", "X1", 16.3141, 102.8034, "", dt.date(2025, 7, 1), "Alumnus"])
    # A home in Thailand but outside the loaded tambons: kept, without a village.
    sheet.append(["นายนอก เขต", "X2", 13.7563, 100.5018, "", "2025-07-01", ""])
    sheet.append(["", "X3", 16.3141, 102.8034, "", "2025-07-01", ""])
    path = tmp_path / "volunteers.xlsx"
    book.save(path)
    run = import_file(kind=ImportKind.VOLUNTEERS, path=path)
    assert run.status == ImportStatus.DONE, run.error
    assert counts(run) == {
        "rows_read": 3,
        "imported": 2,
        "unchanged": 0,
        "rejected": 1,
        "duplicates": 0,
        "unresolved": 1,
        "warnings": 0,
    }
    assert_report(run, [(4, "name", "error", "name is blank")])
    assert saved() == {
        "X1": ("นางเอ็กเซล ดี", "", "40010401", "alumnus", 20, "2025-07-01", None),
        "X2": ("นายนอก เขต", "", None, "other", 20, "2025-07-01", None),
    }


def test_missing_required_column_refuses_the_file(villages: None, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "v.csv", ["code,name,lat,lon", "V1,นาย ก,16.4374,102.8329"])
    run = import_file(kind=ImportKind.VOLUNTEERS, path=path)
    assert run.status == ImportStatus.FAILED
    assert "active_from" in run.error
    assert not Volunteer.objects.exists()


def test_command_json_and_report(villages: None, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "v.csv", [HEADER, *ROWS])
    out = StringIO()
    report = tmp_path / "problems.csv"
    call_command("import_volunteers", str(path), "--json", "--report", str(report), stdout=out)
    summary = json.loads(out.getvalue())
    assert (summary["kind"], summary["status"]) == ("volunteers", "done")
    assert (summary["imported"], summary["rejected"], summary["warnings"]) == (5, 2, 6)
    lines = report.read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == 1 + len(PROBLEMS)
    assert lines[1].startswith("v.csv,4,phone,")

    text = StringIO()
    call_command("import_volunteers", str(path), stdout=text)
    first = text.getvalue().splitlines()[0]
    assert first.startswith("v.csv: 8 rows read; 0 imported, 5 unchanged, 2 rejected")


@pytest.mark.parametrize(
    ("raw", "phone"),
    [
        ("081-234-5678", "0812345678"),
        ("๐๘๑ ๒๓๔ ๕๖๗๘", "0812345678"),
        ("+66 81 234 5678", "0812345678"),
        ("043-123456", "043123456"),
        ("12345", None),
        ("081234567890", None),
        ("โทร 0812345678", None),
    ],
)
def test_read_phone(raw: str, phone: str | None) -> None:
    assert read_phone(raw) == phone
