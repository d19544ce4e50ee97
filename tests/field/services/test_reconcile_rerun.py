"""A newer register, re-run: cases follow it and field work survives.

The story: find_unreached for 2568 opens cases for three children. A search team
visits two of them (one found at home, with a GPS fix; one not found) and a
coordinator writes a note on the third. Then a newer register arrives in which
the first child is enrolled, and a newer population file in which a fourth
child appears and the first child's household has new registry coordinates.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.contrib.gis.geos import Point

from field.models import (
    Case,
    CaseKind,
    CaseStatus,
    ChildYear,
    CloseReason,
    Household,
    ImportKind,
    Precision,
    SearchOutcome,
    Visit,
)
from field.registry.dates import BANGKOK
from field.registry.ids import national_id_check_digit
from field.services.cases import case_note_set, visit_record
from field.services.imports import import_file
from field.services.reconcile import reconcile

pytestmark = pytest.mark.django_db

POPULATION_HEADER = (
    "เลขประจำตัวประชาชน,คำนำหน้า,ชื่อ,นามสกุล,เพศ,วันเกิด,บ้านเลขที่,หมู่,ตำบล,อำเภอ,จังหวัด,ละติจูด,ลองจิจูด"
)
ENROLMENT_HEADER = (
    "national_id,first_name,last_name,birth_date,school_code,school_name,grade,academic_year,status"
)


def nid(first12: str) -> str:
    return first12 + str(national_id_check_digit(first12))


ENROLLED, SOUGHT, DROPPED, NEVER, NEWCOMER = (
    nid("110010000001"),
    nid("110010000002"),
    nid("110010000003"),
    nid("110010000004"),
    nid("110010000005"),
)


def person(id_: str, first: str, born: str, house: str, lat: str = "", lon: str = "") -> str:
    return f"{id_},ด.ช.,{first},ใจดี,ช,{born},{house},1,ในเมือง,เมืองขอนแก่น,ขอนแก่น,{lat},{lon}"


def write(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8-sig")
    return path


def register(id_: str, first: str, born: str, year: int, status: str = "studying") -> str:
    return f"{id_},{first},ใจดี,{born},1040010001,โรงเรียนทดสอบ,ป.4,{year},{status}"


@pytest.fixture
def first_round(khon_kaen_boundaries: None, tmp_path: Path) -> dict[str, Case]:
    population = write(
        tmp_path / "population.csv",
        POPULATION_HEADER,
        [
            person(ENROLLED, "เอก", "01/02/2558", "1"),
            person(SOUGHT, "โท", "02/03/2558", "2", "16.43", "102.83"),
            person(DROPPED, "ตรี", "03/04/2556", "3"),
            person(NEVER, "จัตวา", "04/05/2557", "4"),
        ],
    )
    assert import_file(kind=ImportKind.POPULATION, path=population).imported == 4
    registers = write(
        tmp_path / "obec_2567.csv",
        ENROLMENT_HEADER,
        [
            register(ENROLLED, "เอก", "01/02/2558", 2567),
            register(DROPPED, "ตรี", "03/04/2556", 2567, "left"),
            register(ENROLLED, "เอก", "01/02/2558", 2568),
        ],
    )
    assert import_file(kind=ImportKind.ENROLMENT, path=registers, affiliation="obec").imported == 3
    counts = reconcile(academic_year=2568).counts
    assert (counts["opened"], counts["closed"]) == (3, 0)
    return {c.child.national_id: c for c in Case.objects.select_related("child")}


def test_first_round_opens_a_case_per_unreached_child(first_round: dict[str, Case]) -> None:
    assert {k: (c.kind, c.status) for k, c in first_round.items()} == {
        SOUGHT: (CaseKind.NEVER_ENROLLED, CaseStatus.OPEN),
        DROPPED: (CaseKind.DROPPED_OUT, CaseStatus.OPEN),
        NEVER: (CaseKind.NEVER_ENROLLED, CaseStatus.OPEN),
    }


def test_field_work_survives_a_newer_register(
    first_round: dict[str, Case], tmp_path: Path, django_user_model: type[User]
) -> None:
    team = django_user_model.objects.create_user("member_a")
    at = dt.datetime(2025, 6, 10, 9, 30, tzinfo=BANGKOK)
    gps = Point(102.8401, 16.4322, srid=4326)
    found = visit_record(
        case=first_round[SOUGHT],
        by=team,
        at=at,
        point=gps,
        outcome=SearchOutcome.FOUND_AT_ADDRESS,
        note="อยู่บ้านกับยาย",
    )
    missed = visit_record(
        case=first_round[NEVER], by=team, at=at, point=None, outcome=SearchOutcome.NOT_FOUND
    )
    case_note_set(case=first_round[DROPPED], note="ครอบครัวย้ายไปทำงานที่ระยอง")
    household = Household.objects.get(children__national_id=SOUGHT)
    assert household.precision == Precision.FIELD_GPS

    # The newer files: the sought child is enrolled now, a newcomer is registered,
    # and the registry gives the sought child's house other coordinates.
    population = write(
        tmp_path / "population_v2.csv",
        POPULATION_HEADER,
        [
            person(ENROLLED, "เอก", "01/02/2558", "1"),
            person(SOUGHT, "โท", "02/03/2558", "2", "16.40", "102.80"),
            person(DROPPED, "ตรี", "03/04/2556", "3"),
            person(NEVER, "จัตวา", "04/05/2557", "4"),
            person(NEWCOMER, "ห้า", "05/06/2559", "5"),
        ],
    )
    run = import_file(kind=ImportKind.POPULATION, path=population)
    assert (run.imported, run.unchanged) == (2, 3)
    registers = write(
        tmp_path / "obec_2568_v2.csv",
        ENROLMENT_HEADER,
        [register(ENROLLED, "เอก", "01/02/2558", 2568), register(SOUGHT, "โท", "02/03/2558", 2568)],
    )
    import_file(kind=ImportKind.ENROLMENT, path=registers, affiliation="obec")

    counts = reconcile(academic_year=2568).counts

    assert (counts["opened"], counts["closed"], counts["closed_found_enrolled"]) == (1, 1, 1)
    cases = {c.child.national_id: c for c in Case.objects.select_related("child")}
    assert cases[SOUGHT].status == CaseStatus.CLOSED
    assert cases[SOUGHT].close_reason == CloseReason.FOUND_ENROLLED
    assert cases[NEWCOMER].status == CaseStatus.OPEN
    assert cases[DROPPED].note == "ครอบครัวย้ายไปทำงานที่ระยอง"
    assert cases[NEVER].status == CaseStatus.OPEN
    assert set(Visit.objects.values_list("pk", "note")) == {
        (found.pk, "อยู่บ้านกับยาย"),
        (missed.pk, ""),
    }
    household.refresh_from_db()
    assert household.precision == Precision.FIELD_GPS
    assert household.point is not None and household.point.equals_exact(gps, 1e-9)
    assert household.given_point is not None
    assert household.given_point.equals_exact(Point(102.80, 16.40, srid=4326), 1e-9)
    assert ChildYear.objects.get(child__national_id=SOUGHT).status == "enrolled"


def test_a_rerun_with_the_same_files_changes_nothing(first_round: dict[str, Case]) -> None:
    before = list(Case.objects.order_by("pk").values_list("pk", "status", "kind", "opened_at"))
    counts = reconcile(academic_year=2568).counts
    assert (counts["opened"], counts["closed"], counts["kind_changed"]) == (0, 0, 0)
    assert (
        list(Case.objects.order_by("pk").values_list("pk", "status", "kind", "opened_at")) == before
    )


def test_a_child_who_leaves_again_gets_a_new_case(
    first_round: dict[str, Case], tmp_path: Path
) -> None:
    registers = write(
        tmp_path / "obec_2568_v2.csv",
        ENROLMENT_HEADER,
        [register(NEVER, "จัตวา", "04/05/2557", 2568)],
    )
    import_file(kind=ImportKind.ENROLMENT, path=registers, affiliation="obec")
    assert reconcile(academic_year=2568).counts["closed"] == 1
    # The next year's register does not have the child: a second, new case.
    assert reconcile(academic_year=2569).counts["opened"] >= 1
    kinds = list(
        Case.objects.filter(child__national_id=NEVER).order_by("pk").values_list("status", "kind")
    )
    assert kinds == [
        (CaseStatus.CLOSED, CaseKind.NEVER_ENROLLED),
        (CaseStatus.OPEN, CaseKind.DROPPED_OUT),
    ]
