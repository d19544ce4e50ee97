"""Hand-written nasty registry files, imported end to end, then find_unreached for 2568.

The files are in tests/data/registry (see make_fixtures.py there for who is who:
C1-C15 and the twins T1, T2). Every test imports into its own savepoint over the
real boundaries of Khon Kaen, which are read once for the module: reading the
national boundary files takes half a minute or more, each import well under a second.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.gis.geos import Point
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.utils import translation

from field.models import (
    Case,
    CaseKind,
    CaseStatus,
    Child,
    ChildStatus,
    ChildYear,
    Enrolment,
    Household,
    ImportKind,
    ImportRun,
    ImportStatus,
    MatchMethod,
    MatchReview,
    Precision,
    ReviewStatus,
    School,
)
from field.registry.ids import national_id_check_digit
from field.services.imports import import_file
from field.services.reconcile import reconcile
from field.services.reports import write_run_report
from geo import gazetteer
from geo.boundaries import import_boundaries
from geo.models import Subdistrict, Village

DATA = Path(__file__).resolve().parents[1] / "data" / "registry"
POPULATION = DATA / "population_nasty.csv"
ENROLMENT = DATA / "enrolment_obec_nasty.csv"


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    # The reports quote the English messages, and the site's default language is
    # Thai: with the catalogue compiled, they would be written in Thai.
    with translation.override("en"):
        yield


# The children of population_nasty.csv by national ID (C4 has none: see NO_ID_CHILD).
C1 = "1400100012340"
C2 = "1400100023457"
C3 = "G400100012345"
C5 = "1400100056789"
C6 = "1400100067896"
C7 = "1400100078901"
C8 = "1400100089016"
C9 = "1400100090120"
C10 = "1400100101237"
C11 = "1400100112344"
C12 = "1400100123451"
C13 = "1400100134569"
C14 = "0400100145678"
C15 = "1400100156783"
T1 = "1400100167891"
T2 = "1400100178906"
NO_ID_CHILD = "นภา ศรีสุข"

# (row, field, severity, a substring of the reason): the whole report, nothing else.
Expected = list[tuple[int, str, str, str]]

POPULATION_PROBLEMS: Expected = [
    (4, "national_id", "error", "check digit does not match (1400100999994)"),
    (5, "national_id", "error", "wrong number of digits (0-4001-1234-5)"),
    (8, "birth_date", "error", "impossible date (31/02/2560)"),
    (10, "subdistrict", "warning", "'ท่าพะ' read as ท่าพระ (400104), a near spelling"),
    (11, "subdistrict", "warning", "unknown tambon 'ทุ่งมหัศจรรย์': household unresolved"),
    (12, "subdistrict", "warning", "'400198' was abolished; placed in its successor บ้านโต้น"),
    (13, "lat", "warning", "35.6812, 139.7671 are outside Thailand: ignored"),
    (14, "lat", "warning", "latitude and longitude were swapped"),
    (15, "national_id", "warning", "duplicate of row 2: skipped"),
    (16, "national_id", "warning", "same national ID as row 9 with other details: row 9 kept"),
    (21, "subdistrict", "warning", "no tambon given"),
]
ENROLMENT_PROBLEMS: Expected = [
    (4, "national_id", "warning", "check digit does not match (1400100123457): kept"),
    (6, "national_id", "warning", "no ID: kept, matched by name and birth date"),
    (8, "national_id", "warning", "no ID: kept"),
    (9, "national_id", "warning", "no ID: kept"),
    (10, "status", "error", "status 'พักการเรียน' is not one of"),
    (13, "national_id", "warning", "no ID: kept"),
    (14, "school_code", "warning", "school 1040019999 is not in the school list (1 rows)"),
    (15, "national_id", "warning", "duplicate of row 2: skipped"),
]

# find_unreached 2568 (ages on 16/05/2025), by the child's name key.
EXPECTED_CLASSES = {
    "สมชาย ใจดี": ChildStatus.ENROLLED,  # by ID written with dashes
    "สมหญิง รักเรียน": ChildStatus.ENROLLED,  # mistyped ID: by name
    "มิน อ่อง": ChildStatus.ENROLLED,  # by G code
    "นภา ศรีสุข": ChildStatus.ENROLLED,  # no ID on either side: by name
    "กมลวรรณ ทองดี": ChildStatus.ENROLLED,
    "ธนวัฒน์ แก้วมณี": ChildStatus.ENROLLED,  # title and doubled spaces: by name
    "พิมพ์ชนก สุขใจ": ChildStatus.ENROLLED,  # day and month swapped: by name
    "อาเย ซอ": ChildStatus.ENROLLED,  # at a school missing from the list
    "อรุณ แสงทอง": ChildStatus.NEVER_ENROLLED,  # his only register row was rejected
    "ศักดิ์ชัย ไกลบ้าน": ChildStatus.NEVER_ENROLLED,
    "สุดา ใจงาม": ChildStatus.NEVER_ENROLLED,
    "วิไลวรรณ พรมมา": ChildStatus.DROPPED_OUT,  # ม.1 in 2567, nowhere in 2568
    "ปวีณา ชัยมงคล": ChildStatus.GRADUATED,  # ม.6 graduated in 2567
    "ธนกร ศรีวงศ์": ChildStatus.REVIEW,  # the twins: a coordinator decides
    "ธนากร ศรีวงศ์": ChildStatus.REVIEW,
}


def nid(first12: str) -> str:
    return first12 + str(national_id_check_digit(first12))


# --- fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def _khon_kaen(
    django_db_setup: None, django_db_blocker: Any, boundary_files: list[Path]
) -> Iterator[None]:
    # One transaction for the module, rolled back at its end: the rest of the
    # suite never sees these boundaries; each test is a savepoint inside it.
    with django_db_blocker.unblock(), transaction.atomic():
        if not Subdistrict.objects.filter(code__startswith="40").exists():
            import_boundaries(boundary_files, only_province="40")
        yield
        transaction.set_rollback(True)
    gazetteer.clear_cache()
    # As in test_seed_demo: a connection left open in this module's context would
    # keep the test database from being dropped.
    connection.close()


@pytest.fixture
def khon_kaen(_khon_kaen: None, db: None) -> None:
    """Khon Kaen's tambons, with nothing imported yet."""


@pytest.fixture
def places(khon_kaen: None) -> None:
    """The villages and schools, imported as a coordinator would before the registries."""
    assert import_file(kind=ImportKind.VILLAGES, path=DATA / "villages.csv").status == "done"
    assert import_file(kind=ImportKind.SCHOOLS, path=DATA / "schools.csv").status == "done"


@pytest.fixture
def population(places: None) -> ImportRun:
    return import_file(kind=ImportKind.POPULATION, path=POPULATION)


@pytest.fixture
def registers(population: ImportRun) -> ImportRun:
    return import_file(kind=ImportKind.ENROLMENT, path=ENROLMENT, affiliation="obec")


# --- helpers -----------------------------------------------------------------------------


def counts(run: ImportRun) -> dict[str, int]:
    return {
        name: getattr(run, name)
        for name in (
            "rows_read",
            "imported",
            "unchanged",
            "rejected",
            "duplicates",
            "unresolved",
            "warnings",
        )
    }


def assert_report(run: ImportRun, expected: Expected) -> None:
    """The run's problems are exactly ``expected``: no more, no fewer, no other severity."""
    got = sorted((p.row, p.field, p.severity, p.reason) for p in run.problems.all())
    assert [g[:3] for g in got] == sorted(e[:3] for e in expected), got
    for (row, field, _, reason), (_, _, _, part) in zip(
        got, sorted(expected, key=lambda e: e[:3]), strict=True
    ):
        assert part in reason, (row, field, reason)


def child(national_id: str) -> Child:
    return Child.objects.select_related("household").get(key=national_id)


def assert_inside_tambon(household: Household) -> None:
    assert household.point is not None and household.subdistrict_id is not None
    tambon = Subdistrict.objects.get(code=household.subdistrict_id)
    assert tambon.geom.covers(household.point), household.key


# --- villages and schools ----------------------------------------------------------------


def test_villages(khon_kaen: None) -> None:
    run = import_file(kind=ImportKind.VILLAGES, path=DATA / "villages.csv")
    assert run.status == ImportStatus.DONE
    assert counts(run) == {
        "rows_read": 9,
        "imported": 7,
        "unchanged": 0,
        "rejected": 2,
        "duplicates": 0,
        "unresolved": 0,
        "warnings": 1,
    }
    assert_report(
        run,
        [
            (8, "code", "error", "tambon 409901 of village 40990101 is not loaded"),
            (9, "lat", "warning", "the point of village 40010202 lies in tambon 400101: kept"),
            (10, "lat", "error", "a village needs its coordinates"),
        ],
    )
    # A village placed off its tambon is kept where the list says, under its code's tambon.
    stray = Village.objects.get(code="40010202")
    assert stray.subdistrict_id == "400102"
    assert stray.point.equals_exact(Point(102.8324, 16.44, srid=4326), 1e-9)

    again = import_file(kind=ImportKind.VILLAGES, path=DATA / "villages.csv")
    assert (again.imported, again.unchanged, again.rejected) == (0, 7, 2)


def test_schools(khon_kaen: None) -> None:
    import_file(kind=ImportKind.VILLAGES, path=DATA / "villages.csv")
    run = import_file(kind=ImportKind.SCHOOLS, path=DATA / "schools.csv")
    assert run.status == ImportStatus.DONE
    assert counts(run) == {
        "rows_read": 7,
        "imported": 5,
        "unchanged": 0,
        "rejected": 2,
        "duplicates": 0,
        "unresolved": 1,
        "warnings": 1,
    }
    assert_report(
        run,
        [
            (6, "code", "error", "school code '10400X0005' is not 10-12 digits"),
            (7, "affiliation", "error", "unknown affiliation 'กระทรวงมหาดไทย'"),
            # A tambon name alone, with no point, district or province: three provinces have one.
            (8, "subdistrict", "warning", "ambiguous tambon 'โคกสี' could be โคกสี (400103)"),
        ],
    )
    placed = dict(School.objects.values_list("code", "subdistrict_id"))
    # The point decides the tambon; 1040250001 has no tambon written at all.
    assert placed == {
        "1040010001": "400101",
        "1040010002": "400102",
        "1040010003": "400104",
        "1040250001": "400101",
        "1040010007": None,
    }
    # Each placed school takes the nearest village point of its own tambon.
    villages = dict(School.objects.values_list("code", "village_id"))
    assert villages == {
        "1040010001": "40010101",
        "1040010002": "40010201",
        "1040010003": "40010401",
        "1040250001": "40010102",
        "1040010007": None,
    }
    samran = School.objects.get(code="1040010002")
    assert (samran.affiliation, samran.levels, samran.students) == ("obec", ["primary"], 95)

    again = import_file(kind=ImportKind.SCHOOLS, path=DATA / "schools.csv")
    assert (again.imported, again.unchanged, again.rejected) == (0, 5, 2)


# --- the population ------------------------------------------------------------------------


def test_population_counts_and_report(population: ImportRun) -> None:
    assert population.status == ImportStatus.DONE
    assert population.error == ""
    assert counts(population) == {
        "rows_read": 22,
        "imported": 17,
        "unchanged": 0,
        "rejected": 3,
        "duplicates": 2,
        "unresolved": 1,
        "warnings": 8,
    }
    assert_report(population, POPULATION_PROBLEMS)
    assert Child.objects.count() == 17
    # Rejected rows and the losing duplicate leave no child behind.
    names = set(Child.objects.values_list("first_name", flat=True))
    assert not names & {"ประเสริฐ", "ลินดา", "วันชัย", "กมลรัตน์"}


def test_population_ids_and_names(population: ImportRun) -> None:
    rows = {
        c.key: (c.national_id, c.id_kind, c.title, c.first_name, c.last_name, c.name_key)
        for c in Child.objects.all()
    }
    no_id = Child.objects.get(name_key=NO_ID_CHILD)
    assert no_id.key.startswith("n:")
    assert rows[no_id.key][:2] == ("", "blank")
    assert rows[C1] == (C1, "thai_id", "ด.ช.", "สมชาย", "ใจดี", "สมชาย ใจดี")  # dashes gone
    assert rows[C2] == (C2, "thai_id", "เด็กหญิง", "สมหญิง", "รักเรียน", "สมหญิง รักเรียน")
    assert rows[C3] == (C3, "g_code", "", "มิน", "อ่อง", "มิน อ่อง")
    # Doubled spaces stay in the name as written; the key that matching compares drops them.
    assert rows[C5] == (C5, "thai_id", "ด.ญ.", "กมลวรรณ", "ทอง  ดี", "กมลวรรณ ทองดี")
    assert rows[C7][:2] == (C7, "thai_id")  # written in Thai digits
    assert rows[C14][:2] == (C14, "non_thai_id")
    assert set(rows) - {no_id.key} == {
        C1, C2, C3, C5, C6, C7, C8, C9, C10, C11, C12, C13, C14, C15, T1, T2,
    }  # fmt: skip
    born = dict(Child.objects.values_list("key", "birth_date"))
    assert str(born[C1]) == "2017-03-12"  # 12/03/2560 BE
    assert str(born[C2]) == "2015-07-01"  # ISO, common era
    assert str(born[C6]) == "2015-11-03"  # Thai digits, BE
    assert str(born[C3]) == "2014-06-05"
    assert child(C3).nationality == "เมียนมา"


def test_population_households_on_the_ladder(population: ImportRun) -> None:
    village = {
        C1: "40010101",
        C3: "40010201",
        C5: "40010401",
        C6: "40010401",  # the misspelt tambon, recognised
        C11: "40010201",
        T1: "40010102",
        C14: "40010101",
    }
    for key, code in village.items():
        household = child(key).household
        assert household.precision == Precision.VILLAGE, key
        assert household.village_id == code
        assert household.point == Village.objects.get(code=code).point

    given = {
        C2: (102.832424, 16.439549),
        C10: (102.809216, 16.318006),  # latitude and longitude were swapped in the file
        C13: (102.702355, 16.450887),  # no tambon written: found from the point
    }
    for key, (lon, lat) in given.items():
        household = child(key).household
        assert household.precision == Precision.GIVEN, key
        assert household.point is not None
        assert (household.point.x, household.point.y) == pytest.approx((lon, lat))
    assert child(C13).household.subdistrict_id == "400105"
    assert child(C10).household.subdistrict_id == "400104"

    tambon = {
        "นภา ศรีสุข": "400103",  # no village listed in โคกสี
        "พิมพ์ชนก สุขใจ": "400303",  # the abolished 400198's successor
        "ศักดิ์ชัย ไกลบ้าน": "400101",  # coordinates in Tokyo ignored; no หมู่ 5 village
    }
    for name, code in tambon.items():
        household = Child.objects.get(name_key=name).household
        assert household.precision == Precision.TAMBON, name
        assert household.subdistrict_id == code
        assert_inside_tambon(household)

    lost = child(C7).household
    assert lost.precision == Precision.UNRESOLVED
    assert (lost.point, lost.subdistrict_id) == (None, None)
    assert "ทุ่งมหัศจรรย์" in lost.address

    # The twins share their house.
    assert child(T1).household_id == child(T2).household_id


def test_population_twice_changes_nothing(population: ImportRun) -> None:
    before_children = sorted(Child.objects.values_list("key", "digest", "run_id", "household_id"))
    before_households = sorted(
        (h.key, h.precision, h.point.wkt if h.point else None) for h in Household.objects.all()
    )
    again = import_file(kind=ImportKind.POPULATION, path=POPULATION)
    assert counts(again) == {**counts(population), "imported": 0, "unchanged": 17}
    assert_report(again, POPULATION_PROBLEMS)
    assert (
        sorted(Child.objects.values_list("key", "digest", "run_id", "household_id"))
        == before_children
    )
    assert (
        sorted(
            (h.key, h.precision, h.point.wkt if h.point else None) for h in Household.objects.all()
        )
        == before_households
    )


def test_villages_imported_later_move_households_up(khon_kaen: None) -> None:
    run = import_file(kind=ImportKind.POPULATION, path=POPULATION)
    assert (run.imported, run.unresolved) == (17, 1)
    first = child(C1).household
    assert first.precision == Precision.TAMBON
    assert_inside_tambon(first)

    import_file(kind=ImportKind.VILLAGES, path=DATA / "villages.csv")
    moved = child(C1).household
    assert (moved.precision, moved.village_id) == (Precision.VILLAGE, "40010101")
    # Given coordinates rank above a village point and stay.
    assert child(C2).household.precision == Precision.GIVEN
    # And the next import of the same file finds nothing to change.
    again = import_file(kind=ImportKind.POPULATION, path=POPULATION)
    assert (again.imported, again.unchanged) == (0, 17)
    assert child(C1).household.precision == Precision.VILLAGE


def test_a_household_placed_by_its_point_is_not_reported_unresolved(
    population: ImportRun,
) -> None:
    # Row 21 (C13) names no tambon but gives coordinates inside บ้านทุ่ม; the
    # household is placed there, so the report must not tell the sender otherwise.
    assert child(C13).household.precision == Precision.GIVEN
    [warning] = population.problems.filter(row=21)
    assert "unresolved" not in warning.reason


def test_tis620_file(places: None) -> None:
    path = DATA / "population_tis620.csv"
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    run = import_file(kind=ImportKind.POPULATION, path=path)
    assert counts(run) == {
        "rows_read": 3,
        "imported": 3,
        "unchanged": 0,
        "rejected": 0,
        "duplicates": 0,
        "unresolved": 0,
        "warnings": 0,
    }
    assert_report(run, [])
    got = {
        c.national_id: (c.title, c.first_name, c.last_name, str(c.birth_date), c.sex)
        for c in Child.objects.all()
    }
    assert got == {
        nid("140010101011"): ("ด.ญ.", "มานี", "มีนา", "2017-02-14", "F"),
        nid("140010101022"): ("ด.ช.", "ปิติ", "พากเพียร", "2015-04-01", "M"),
        nid("140010101033"): ("ด.ญ.", "ชูใจ", "ใฝ่ดี", "2014-09-21", "F"),
    }
    manee = child(nid("140010101011")).household
    assert (manee.precision, manee.village_id) == (Precision.VILLAGE, "40010501")
    for key, code in ((nid("140010101022"), "400105"), (nid("140010101033"), "400113")):
        household = child(key).household
        assert (household.precision, household.subdistrict_id) == (Precision.TAMBON, code)
        assert_inside_tambon(household)


def test_xlsx_file(places: None) -> None:
    run = import_file(kind=ImportKind.POPULATION, path=DATA / "population.xlsx")
    assert run.status == ImportStatus.DONE
    assert counts(run) == {
        "rows_read": 4,
        "imported": 3,
        "unchanged": 0,
        "rejected": 1,
        "duplicates": 0,
        "unresolved": 0,
        "warnings": 0,
    }
    assert_report(run, [(5, "national_id", "error", "check digit does not match (1400102020448)")])
    # IDs were number cells (one a float), birth dates date cells (one with a BE year in it).
    got = {c.national_id: (c.first_name, str(c.birth_date)) for c in Child.objects.all()}
    assert got == {
        nid("140010202011"): ("วีระ", "2016-05-20"),
        nid("140010202022"): ("จันทร์เพ็ญ", "2017-03-13"),
        nid("140010202033"): ("ก้องภพ", "2012-01-31"),
    }
    precision = {
        c.first_name: c.household.precision for c in Child.objects.select_related("household")
    }
    assert precision == {
        "วีระ": Precision.VILLAGE,
        "จันทร์เพ็ญ": Precision.GIVEN,
        "ก้องภพ": Precision.TAMBON,  # หมู่ 9 has no village point
    }
    again = import_file(kind=ImportKind.POPULATION, path=DATA / "population.xlsx")
    assert (again.imported, again.unchanged, again.rejected) == (0, 3, 1)


# --- refused files -------------------------------------------------------------------------

HEADER = "เลขประจำตัวประชาชน,ชื่อ,นามสกุล,เพศ,วันเกิด,บ้านเลขที่,หมู่,ตำบล,อำเภอ,จังหวัด\r\n"


def _row(number: int) -> str:
    return (
        f"{nid(f'1400190{number:05d}')},ทดสอบ{number},นามสกุลยาวพอสมควรเพื่อให้ไฟล์ใหญ่,ช,"
        "01/01/2560,1,1,ในเมือง,เมืองขอนแก่น,ขอนแก่น\r\n"
    )


def _missing_column(tmp_path: Path) -> Path:
    path = tmp_path / "no_birth_date.csv"
    header = HEADER.replace("วันเกิด,", "")
    path.write_text(header + _row(1).replace("01/01/2560,", ""), encoding="utf-8-sig")
    return path


def _truncated_xlsx(tmp_path: Path) -> Path:
    path = tmp_path / "cut.xlsx"
    path.write_bytes((DATA / "population.xlsx").read_bytes()[:2000])
    return path


def _neither_encoding(tmp_path: Path) -> Path:
    # 0xDB-0xDE and 0xFC-0xFF are holes in TIS-620, and 0xFF never occurs in UTF-8.
    path = tmp_path / "garbled.csv"
    path.write_bytes(HEADER.encode("utf-8") + b"\xff\xdb\xfc,\xde\r\n")
    return path


TWO_ENCODINGS_ROW = 12_002


def _two_encodings(tmp_path: Path) -> Path:
    # Past the first MiB, which decides the encoding: 12,000 good UTF-8 rows, then
    # one in TIS-620. Rows read before the bad one must not be saved either.
    path = tmp_path / "two_encodings.csv"
    body = "".join(_row(n) for n in range(1, TWO_ENCODINGS_ROW - 1))
    assert len(body.encode()) > 1 << 20
    path.write_bytes((HEADER + body).encode() + _row(TWO_ENCODINGS_ROW).encode("cp874"))
    return path


@pytest.mark.parametrize(
    ("make", "row", "field", "reason"),
    [
        (_missing_column, 1, "birth_date", "missing required column(s): birth_date"),
        (_truncated_xlsx, 0, "", "not a readable XLSX file"),
        (_neither_encoding, 0, "", "encoding is neither UTF-8 nor TIS-620"),
        (_two_encodings, TWO_ENCODINGS_ROW, "first_name", "bytes that are not utf-8"),
    ],
    ids=["missing-column", "truncated-xlsx", "neither-encoding", "two-encodings"],
)
def test_a_refused_file_saves_nothing(
    places: None, tmp_path: Path, make: Any, row: int, field: str, reason: str
) -> None:
    path: Path = make(tmp_path)
    run = import_file(kind=ImportKind.POPULATION, path=path)
    assert run.status == ImportStatus.FAILED
    assert run.error.startswith(f"{path.name}, row {row}, {field or '-'}: ")
    assert reason in run.error
    assert [(p.row, p.field, p.severity) for p in run.problems.all()] == [(row, field, "error")]
    assert (run.imported, run.unchanged) == (0, 0)
    assert not Child.objects.exists()
    assert not Household.objects.exists()


def test_a_refused_register_saves_nothing(population: ImportRun, tmp_path: Path) -> None:
    path = tmp_path / "enrolment.csv"
    # The register without its academic year column.
    lines = ENROLMENT.read_text("utf-8-sig").splitlines()
    path.write_text(
        "\n".join(",".join(line.split(",")[:7] + line.split(",")[8:]) for line in lines),
        encoding="utf-8-sig",
    )
    run = import_file(kind=ImportKind.ENROLMENT, path=path, affiliation="obec")
    assert run.status == ImportStatus.FAILED
    assert "row 1, academic_year: missing required column(s): academic_year" in run.error
    assert not Enrolment.objects.exists()


def test_the_command_refuses_loudly(khon_kaen: None, tmp_path: Path) -> None:
    path = _missing_column(tmp_path)
    with pytest.raises(CommandError, match=r"no_birth_date\.csv was not imported: .*birth_date"):
        call_command("import_population", str(path), stdout=io.StringIO())
    assert ImportRun.objects.get().status == ImportStatus.FAILED
    assert not Child.objects.exists()


# --- registers and find_unreached -----------------------------------------------------------


def test_register_counts_and_report(registers: ImportRun) -> None:
    assert registers.status == ImportStatus.DONE
    assert counts(registers) == {
        "rows_read": 14,
        "imported": 12,
        "unchanged": 0,
        "rejected": 1,
        "duplicates": 1,
        "unresolved": 1,
        "warnings": 7,
    }
    assert_report(registers, ENROLMENT_PROBLEMS)
    # Usable IDs match on import, the dashed one included; the rest wait for find_unreached.
    by_id = Enrolment.objects.filter(match_method=MatchMethod.ID)
    assert sorted(by_id.values_list("child__key", "academic_year")) == sorted(
        [(C1, 2567), (C1, 2568), (C3, 2568), (C5, 2568), (C10, 2567), (C11, 2567), (C14, 2568)]
    )
    assert Enrolment.objects.filter(match_method=MatchMethod.NONE, child=None).count() == 5
    mistyped = Enrolment.objects.get(national_id="1400100123457")
    assert (mistyped.id_kind, mistyped.child) == ("invalid", None)
    dashed = Enrolment.objects.get(national_id=C1, academic_year=2568)
    assert dashed.id_kind == "thai_id"
    variant = Enrolment.objects.get(first_name__contains="ธนวัฒน์")
    assert (variant.first_name, variant.name_key) == ("ธนวัฒน์", "ธนวัฒน์ แก้วมณี")
    assert Enrolment.objects.get(national_id=C14).school is None


def test_reconcile_classes_every_child(registers: ImportRun) -> None:
    result = reconcile(academic_year=2568)
    years = {y.child.name_key: y.status for y in ChildYear.objects.select_related("child")}
    assert years == EXPECTED_CLASSES
    # Outside the 3-18 window: aged 2 and 19.
    assert not ChildYear.objects.filter(child__key__in=[C12, C15]).exists()
    assert {
        key: result.counts[key]
        for key in (
            "in_window",
            "enrolled",
            "dropped_out",
            "never_enrolled",
            "graduated",
            "review",
            "unreached",
            "opened",
            "matched_by_id",
            "matched_by_name",
            "sent_to_review",
        )
    } == {
        "in_window": 15,
        "enrolled": 8,
        "dropped_out": 1,
        "never_enrolled": 3,
        "graduated": 1,
        "review": 2,
        "unreached": 4,
        "opened": 4,
        "matched_by_id": 0,  # the importer matched them already
        "matched_by_name": 4,
        "sent_to_review": 1,
    }
    cases = {(c.child.name_key, c.kind, c.status) for c in Case.objects.select_related("child")}
    assert cases == {
        ("อรุณ แสงทอง", CaseKind.NEVER_ENROLLED, CaseStatus.OPEN),
        ("ศักดิ์ชัย ไกลบ้าน", CaseKind.NEVER_ENROLLED, CaseStatus.OPEN),
        ("สุดา ใจงาม", CaseKind.NEVER_ENROLLED, CaseStatus.OPEN),
        ("วิไลวรรณ พรมมา", CaseKind.DROPPED_OUT, CaseStatus.OPEN),
    }


def test_reconcile_matches_by_name_and_never_guesses_twins(registers: ImportRun) -> None:
    reconcile(academic_year=2568)
    by_name = {
        e.name_key: (e.child.key if e.child else None, e.match_score)
        for e in Enrolment.objects.filter(match_method=MatchMethod.NAME).select_related("child")
    }
    no_id_child = Child.objects.get(name_key=NO_ID_CHILD).key
    assert by_name == {
        "สมหญิง รักเรียน": (C2, 100.0),  # the mistyped ID, one digit off C2's
        "นภา ศรีสุข": (no_id_child, 100.0),
        "ธนวัฒน์ แก้วมณี": (C6, 100.0),
        "พิมพ์ชนก สุขใจ": (C8, pytest.approx(97.0)),  # -5 for the swapped date, +2 same province
    }
    twins_row = Enrolment.objects.get(name_key="ธนกร ศรีวงศ์")
    assert (twins_row.match_method, twins_row.child) == (MatchMethod.REVIEW, None)
    review = MatchReview.objects.get()
    assert review.enrolment == twins_row
    assert review.status == ReviewStatus.OPEN
    assert review.decided_at is None
    assert {c["child"] for c in review.candidates} == {child(T1).pk, child(T2).pk}


def test_everything_twice_changes_nothing(registers: ImportRun) -> None:
    first = reconcile(academic_year=2568)
    matches = sorted(Enrolment.objects.values_list("pk", "child_id", "match_method"))
    cases = sorted(Case.objects.values_list("pk", "child_id", "kind", "status"))
    population = import_file(kind=ImportKind.POPULATION, path=POPULATION)
    register = import_file(kind=ImportKind.ENROLMENT, path=ENROLMENT, affiliation="obec")
    assert (population.imported, population.unchanged) == (0, 17)
    assert (register.imported, register.unchanged) == (0, 12)
    second = reconcile(academic_year=2568)
    assert sorted(Enrolment.objects.values_list("pk", "child_id", "match_method")) == matches
    assert sorted(Case.objects.values_list("pk", "child_id", "kind", "status")) == cases
    assert (second.counts["opened"], second.counts["closed"]) == (0, 0)
    assert second.counts["review_rows_open"] == 1
    for key in ("in_window", "enrolled", "dropped_out", "never_enrolled", "graduated", "review"):
        assert second.counts[key] == first.counts[key], key
    assert MatchReview.objects.count() == 1


def test_a_review_of_last_years_register_holds_the_class(
    population: ImportRun, tmp_path: Path
) -> None:
    # One twin was in a 2567 register with no ID; nobody knows yet which. Until a
    # coordinator decides, neither may be counted (or searched for) as never enrolled.
    path = tmp_path / "enrolment_2567.csv"
    path.write_text(
        "national_id,first_name,last_name,birth_date,school_code,school_name,grade,"
        "academic_year,status\n,ธนกร,ศรีวงศ์,08/08/2562,1040010001,โรงเรียนบ้านในเมือง,อ.1,2567,"
        "กำลังศึกษา\n",
        encoding="utf-8",
    )
    import_file(kind=ImportKind.ENROLMENT, path=path, affiliation="obec")
    assert reconcile(academic_year=2568).counts["sent_to_review"] == 1
    twins = ChildYear.objects.filter(child__key__in=[T1, T2])
    assert set(twins.values_list("status", flat=True)) == {ChildStatus.REVIEW}
    assert not Case.objects.filter(child__key__in=[T1, T2]).exists()


def test_the_register_may_come_before_the_population(places: None) -> None:
    early = import_file(kind=ImportKind.ENROLMENT, path=ENROLMENT, affiliation="obec")
    assert not Enrolment.objects.filter(child__isnull=False).exists()
    assert_report(early, ENROLMENT_PROBLEMS)
    import_file(kind=ImportKind.POPULATION, path=POPULATION)
    result = reconcile(academic_year=2568)
    assert result.counts["matched_by_id"] == 7
    years = {y.child.name_key: y.status for y in ChildYear.objects.select_related("child")}
    assert years == EXPECTED_CLASSES


# --- the commands and the report ------------------------------------------------------------


def _json(command: str, *args: str) -> dict[str, Any]:
    out = io.StringIO()
    call_command(command, *args, "--json", stdout=out)
    loaded: dict[str, Any] = json.loads(out.getvalue())
    return loaded


def test_the_commands(khon_kaen: None) -> None:
    villages = _json("import_villages", str(DATA / "villages.csv"))
    assert (villages["status"], villages["imported"], villages["rejected"]) == ("done", 7, 2)
    schools = _json("import_schools", str(DATA / "schools.csv"))
    assert (schools["imported"], schools["rejected"], schools["unresolved"]) == (5, 2, 1)
    population = _json("import_population", str(POPULATION))
    assert population == {
        "run": population["run"],
        "file": "population_nasty.csv",
        "kind": "population",
        "affiliation": None,
        "status": "done",
        "rows": 22,
        "imported": 17,
        "unchanged": 0,
        "rejected": 3,
        "duplicates": 2,
        "unresolved": 1,
        "warnings": 8,
        "error": None,
        "report": f"python manage.py import_report {population['run']}",
    }
    register = _json("import_enrolment", str(ENROLMENT), "--affiliation", "obec")
    assert (register["affiliation"], register["imported"], register["rejected"]) == ("obec", 12, 1)
    found = _json("find_unreached", "--academic-year", "2568")
    assert (found["in_window"], found["unreached"], found["review"]) == (15, 4, 2)


def test_the_report_file(population: ImportRun, tmp_path: Path) -> None:
    path = tmp_path / "report.csv"
    write_run_report(population, path)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel needs the BOM to read Thai
    header, *rows = csv.reader(io.StringIO(raw.decode("utf-8-sig")))
    assert header == ["file", "row", "field", "severity", "reason"]
    assert [(r[0], int(r[1]), r[2], r[3]) for r in rows] == [
        ("population_nasty.csv", row, field, severity)
        for row, field, severity, _ in sorted(POPULATION_PROBLEMS, key=lambda p: p[0])
    ]
    assert "impossible date (31/02/2560)" in rows[2][4]
    # The command the import's summary points to writes the same file.
    again = tmp_path / "again.csv"
    call_command("import_report", str(population.pk), "--output", str(again))
    assert again.read_bytes() == raw


def test_the_report_defuses_formulas(places: None, tmp_path: Path) -> None:
    # No reason starts with a value from the file, so the file name, chosen by
    # whoever uploads it, is what could start a cell with "=".
    name = '=HYPERLINK("http://example.invalid","open").csv'
    run = import_file(kind=ImportKind.POPULATION, path=POPULATION, file_name=name)
    path = tmp_path / "report.csv"
    write_run_report(run, path)
    _, *rows = csv.reader(io.StringIO(path.read_text("utf-8-sig")))
    assert len(rows) == len(POPULATION_PROBLEMS)
    assert {r[0] for r in rows} == {"'" + name}
    assert not any(cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r)
