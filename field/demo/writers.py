"""The registry files of the demo, as government offices hand them out.

CSV in UTF-8 with a byte-order mark (what Excel needs to read Thai), dates as
dd/mm/yyyy in the Buddhist era. Everything is written in a fixed order, so two
runs give byte-identical files.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterable, Sequence
from pathlib import Path

from field.demo import config
from field.demo.records import DemoData, EnrolmentRow

POPULATION_HEADER = (
    "เลขประจำตัวประชาชน",
    "คำนำหน้า",
    "ชื่อ",
    "นามสกุล",
    "เพศ",
    "วันเกิด",
    "บ้านเลขที่",
    "หมู่",
    "ตำบล",
    "อำเภอ",
    "จังหวัด",
    "รหัสไปรษณีย์",
    "สัญชาติ",
    "ละติจูด",
    "ลองจิจูด",
)
# The same columns in English, for readers that map headers (see README.txt).
POPULATION_HEADER_EN = (
    "national_id",
    "title",
    "first_name",
    "last_name",
    "sex",
    "birth_date",
    "house_no",
    "moo",
    "subdistrict",
    "district",
    "province",
    "postcode",
    "nationality",
    "lat",
    "lon",
)
ENROLMENT_HEADER_EN = (
    "national_id",
    "first_name",
    "last_name",
    "birth_date",
    "school_code",
    "school_name",
    "grade",
    "academic_year",
    "status",
)
ENROLMENT_HEADER_TH = (
    "เลขประจำตัวประชาชน",
    "ชื่อ",
    "นามสกุล",
    "วันเกิด",
    "รหัสโรงเรียน",
    "ชื่อโรงเรียน",
    "ชั้น",
    "ปีการศึกษา",
    "สถานะ",
)
# OBEC's export has Thai headers; the other registers come with English ones.
THAI_HEADED = ("obec",)

README = """\
ข้อมูลสาธิตสังเคราะห์ / SYNTHETIC DEMO DATA
==========================================

Every person, household, school, volunteer and number in this folder is INVENTED
by `python manage.py seed_demo` (seed {seed}). Only the tambon boundaries they are
placed in are real. Do not use them as facts about Khon Kaen.

Area: Khon Kaen province, districts {districts} (sized like สพป.ขอนแก่น เขต 1).
Academic year {year}; ages are counted on the reference date {reference} (BE).

Files (CSV, UTF-8 with BOM, dates dd/mm/yyyy in the Buddhist era):
- population.csv: civil registration of children aged 0-20, Thai headers:
  {population_th}
  = {population_en}
  Latitude/longitude are given for about 20 % of rows, blank otherwise.
  IDs starting with 0, 6 or 7 belong to children without Thai nationality.
- enrolment_<affiliation>.csv: one register per affiliation, academic years
  {previous} and {year}. enrolment_obec.csv has Thai headers:
  {enrolment_th}
  the others English ones:
  {enrolment_en}
  status is one of studying, graduated, moved, left. The registers have faults on
  purpose: mistyped IDs (the checksum fails), blank IDs, and G codes (G + 12
  digits) for children without a Thai ID; name and birth date are then right.
- schools.csv: code,name,affiliation,levels (separated by |),lat,lon,subdistrict,students
  (students = rows in the {year} register).
- villages.csv: code (tambon code + หมู่ number),name,lat,lon.
- truth.json: the exact counts a correct reconciliation of {year} finds
  (in window, enrolled, dropped out, never enrolled, graduated, stateless, register
  faults) with their definitions.

Demo logins (password {password}, for this demo only): run
`python manage.py seed_demo --print-logins`.
"""


def be_date(day: dt.date) -> str:
    return f"{day.day:02d}/{day.month:02d}/{day.year + 543}"


def _write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def _population_rows(data: DemoData) -> Iterable[Sequence[object]]:
    tambons = {t.code: t for t in data.tambons}
    villages = {v.code: v for v in data.villages}
    for child in data.children:
        household = data.households[child.household]
        village = villages[household.village]
        tambon = tambons[village.tambon]
        lat, lon = (
            (f"{household.xy[1]:.6f}", f"{household.xy[0]:.6f}") if household.located else ("", "")
        )
        yield (
            child.national_id,
            child.title,
            child.first_name,
            child.last_name,
            child.sex,
            be_date(child.birth_date),
            household.house_no,
            village.moo,
            tambon.name_th,
            tambon.district_name,
            tambon.province_name,
            tambon.postcode,
            child.nationality,
            lat,
            lon,
        )


def _enrolment_rows(rows: Iterable[EnrolmentRow]) -> Iterable[Sequence[object]]:
    for row in rows:
        yield (
            row.national_id,
            row.first_name,
            row.last_name,
            be_date(row.birth_date),
            row.school_code,
            row.school_name,
            row.grade,
            row.academic_year,
            row.status,
        )


def write_files(data: DemoData, directory: Path) -> list[Path]:
    """Writes every file of the demo into ``directory``; returns their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def out(name: str) -> Path:
        written.append(directory / name)
        return directory / name

    _write_csv(out("population.csv"), POPULATION_HEADER, _population_rows(data))
    for affiliation in sorted({r.affiliation for r in data.enrolment}):
        header = ENROLMENT_HEADER_TH if affiliation in THAI_HEADED else ENROLMENT_HEADER_EN
        rows = (r for r in data.enrolment if r.affiliation == affiliation)
        _write_csv(out(f"enrolment_{affiliation}.csv"), header, _enrolment_rows(rows))
    _write_csv(
        out("schools.csv"),
        (
            "code",
            "name",
            "affiliation",
            "levels",
            "lat",
            "lon",
            "subdistrict",
            "students",
        ),
        (
            (
                s.code,
                s.name,
                s.affiliation,
                "|".join(s.levels),
                f"{s.xy[1]:.6f}",
                f"{s.xy[0]:.6f}",
                s.tambon,
                s.students,
            )
            for s in data.schools
        ),
    )
    _write_csv(
        out("villages.csv"),
        ("code", "name", "lat", "lon"),
        ((v.code, v.name, f"{v.xy[1]:.6f}", f"{v.xy[0]:.6f}") for v in data.villages),
    )
    out("truth.json").write_text(
        json.dumps(data.truth, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    out("README.txt").write_text(
        README.format(
            seed=config.SEED,
            districts=", ".join(config.DISTRICTS),
            year=config.ACADEMIC_YEAR,
            previous=config.PREVIOUS_YEAR,
            reference=be_date(config.REFERENCE_DATE),
            population_th=",".join(POPULATION_HEADER),
            population_en=",".join(POPULATION_HEADER_EN),
            enrolment_th=",".join(ENROLMENT_HEADER_TH),
            enrolment_en=",".join(ENROLMENT_HEADER_EN),
            password=config.DEMO_PASSWORD,
        ),
        encoding="utf-8",
    )
    return written
