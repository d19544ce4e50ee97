"""Writes the hand-made registry files that tests/field/test_imports.py imports.

Run it once after changing it (``.venv/bin/python tests/data/registry/make_fixtures.py``)
and commit its outputs with it: the files are committed so that their bytes (the
BOM, the TIS-620 encoding, the XLSX cells) can be reviewed, and the script says
how each one was made. Every person is invented; the tambons are real ones of
Khon Kaen (province 40), because the importer places households in the real
boundaries. Two runs write byte-identical files.

Children, by role (ages on 16/05/2568 BE = 2025-05-16, the reference date of 2568):

===  ==========================  =========================================================
C1   สมชาย ใจดี                  ID with dashes, title in the first name; enrolled by ID
C2   สมหญิง รักเรียน             ID with spaces, ISO CE date, given coordinates; the
                                 register mistypes the ID: enrolled by name
C3   มิน อ่อง                    G code, not Thai; enrolled by G code
C4   นภา ศรีสุข                  no ID, tambon without villages; register row has no ID
C5   กมลวรรณ ทองดี               "ด.ญ.  กมลวรรณ", "ทอง  ดี": title and doubled spaces
C6   ธนวัฒน์ แก้วมณี             tambon misspelt ("ท่าพะ"), Thai-digit date; the register
                                 writes "เด็กชาย  ธนวัฒน์ / แก้ว  มณี" with no ID
C7   อรุณ แสงทอง                 unknown tambon: unresolved; his register row is rejected
C8   พิมพ์ชนก สุขใจ              abolished tambon code 400198 (now 400303); the register
                                 has day and month swapped, no ID
C9   ศักดิ์ชัย ไกลบ้าน           coordinates in Tokyo: ignored; never enrolled
C10  วิไลวรรณ พรมมา              latitude and longitude swapped; only in the 2567 register
C11  ปวีณา ชัยมงคล               graduated from ม.6 in 2567
C12  ภูผา ทองคำ                  aged 2: outside the window
C13  สุดา ใจงาม                  no tambon, coordinates only; never enrolled
C14  อาเย ซอ                     non-Thai ID (0...); her school is not in the school list
C15  ชาตรี อายุเกิน              aged 19: outside the window
T1   ธนกร ศรีวงศ์                twins born the same day; the register row has no ID and
T2   ธนากร ศรีวงศ์               fits both: a coordinator decides
===  ==========================  =========================================================
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from openpyxl import Workbook  # type: ignore[import-untyped]

HERE = Path(__file__).resolve().parent


def nid(first12: str) -> str:
    """A national ID that passes the checksum (weights 13..2, (11 - sum mod 11) mod 10)."""
    total = sum(int(d) * w for d, w in zip(first12, range(13, 1, -1), strict=True))
    return first12 + str((11 - total % 11) % 10)


def dashed(national_id: str) -> str:
    """The ID as printed on the card: 1-4001-00012-34-5."""
    i = national_id
    return f"{i[0]}-{i[1:5]}-{i[5:10]}-{i[10:12]}-{i[12]}"


def spaced(national_id: str) -> str:
    i = national_id
    return f"{i[0]} {i[1:5]} {i[5:10]} {i[10:12]} {i[12]}"


def mistyped(national_id: str) -> str:
    """One digit changed (the 8th, +1): the checksum then always fails."""
    digit = str((int(national_id[7]) + 1) % 10)
    return national_id[:7] + digit + national_id[8:]


def bad_check(national_id: str) -> str:
    """The check digit changed: a typo every register has."""
    return national_id[:12] + str((int(national_id[12]) + 1) % 10)


def thai_digits(text: str) -> str:
    return text.translate(str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙"))


C1 = nid("140010001234")
C2 = nid("140010002345")
C3 = "G400100012345"
C5 = nid("140010005678")
C6 = nid("140010006789")
C7 = nid("140010007890")
C8 = nid("140010008901")
C9 = nid("140010009012")
C10 = nid("140010010123")
C11 = nid("140010011234")
C12 = nid("140010012345")
C13 = nid("140010013456")
C14 = nid("040010014567")
C15 = nid("140010015678")
T1 = nid("140010016789")
T2 = nid("140010017890")
BAD_CHECKSUM = bad_check(nid("140010099999"))
NOT_A_CODE = "0-4001-1234-5"  # eleven digits: no ID, Thai or not
IMPOSSIBLE_DATE = nid("140010004567")
C2_MISTYPED = mistyped(C2)

# Points at least 1 km inside the tambons of tha_adm3.geojson (shapely's
# representative point and centroid of the polygon shrunk by 0.01 degree).
NAI_MUEANG = ((16.437374, 102.832888), (16.439549, 102.832424))  # 400101
SAMRAN = (16.555242, 102.824908)  # 400102
KHOK_SI = (16.47757, 102.954152)  # 400103, no village listed on purpose
THA_PHRA = ((16.31413, 102.803405), (16.318006, 102.809216))  # 400104
BAN_THUM = ((16.458726, 102.696589), (16.450887, 102.702355))  # 400105
BAN_TON = (16.275717, 102.728836)  # 400303
TOKYO = (35.6812, 139.7671)

POPULATION_TH = (
    "เลขประจำตัวประชาชน", "คำนำหน้า", "ชื่อ", "นามสกุล", "เพศ", "วันเกิด", "บ้านเลขที่",
    "หมู่", "ตำบล", "อำเภอ", "จังหวัด", "รหัสไปรษณีย์", "สัญชาติ", "ละติจูด", "ลองจิจูด",
)  # fmt: skip
MUEANG = ("เมืองขอนแก่น", "ขอนแก่น", "40000")
# ท่าพระ has its own postal code: the gazetteer checks it.
MUEANG_THA_PHRA = ("เมืองขอนแก่น", "ขอนแก่น", "40260")


def person(
    national_id: str,
    first: str,
    last: str,
    sex: str,
    born: str,
    house: str,
    moo: str,
    tambon: str,
    *,
    title: str = "",
    nationality: str = "ไทย",
    at: tuple[object, object] = ("", ""),
    area: tuple[str, str, str] = MUEANG,
) -> list[str]:
    return [
        national_id, title, first, last, sex, born, house, moo, tambon, *area, nationality,
        str(at[0]), str(at[1]),
    ]  # fmt: skip


POPULATION_NASTY = [
    # 2: C1
    person(dashed(C1), "ด.ช.สมชาย", "ใจดี", "ช", "12/03/2560", "12", "1", "ในเมือง"),
    # 3: C2
    person(
        spaced(C2),
        "เด็กหญิงสมหญิง",
        "รักเรียน",
        "ญ",
        "2015-07-01",
        "45",
        "2",
        "ในเมือง",
        at=NAI_MUEANG[1],
    ),
    # 4: rejected, the check digit is wrong
    person(BAD_CHECKSUM, "ประเสริฐ", "ผิดเลข", "ช", "01/01/2560", "3", "1", "ในเมือง"),
    # 5: rejected, not an ID
    person(NOT_A_CODE, "ลินดา", "ไม่มีเลข", "ญ", "02/01/2560", "4", "1", "ในเมือง"),
    # 6: C3
    person(C3, "มิน", "อ่อง", "ช", "05/06/2557", "7/1", "1", "สำราญ", nationality="เมียนมา"),
    # 7: C4
    person("", "นภา", "ศรีสุข", "ญ", "20/08/2561", "9", "3", "โคกสี"),
    # 8: rejected, no 31 February
    person(IMPOSSIBLE_DATE, "วันชัย", "ผิดวัน", "ช", "31/02/2560", "10", "1", "ในเมือง"),
    # 9: C5
    person(
        C5, "ด.ญ.  กมลวรรณ", "ทอง  ดี", "ญ", "15/01/2556", "88", "1", "ท่าพระ", area=MUEANG_THA_PHRA
    ),
    # 10: C6
    person(
        C6,
        "ธนวัฒน์",
        "แก้วมณี",
        "ช",
        thai_digits("03/11/2558"),
        "101",
        "หมู่ 1",
        "ท่าพะ",
        area=MUEANG_THA_PHRA,
    ),
    # 11: C7
    person(thai_digits(C7), "อรุณ", "แสงทอง", "ช", "02/02/2555", "5", "2", "ทุ่งมหัศจรรย์"),
    # 12: C8
    person(C8, "พิมพ์ชนก", "สุขใจ", "ญ", "04/09/2559", "3", "2", "400198"),
    # 13: C9
    person(C9, "ศักดิ์ชัย", "ไกลบ้าน", "ช", "10/10/2553", "20", "5", "ในเมือง", at=TOKYO),
    # 14: C10
    person(
        C10,
        "วิไลวรรณ",
        "พรมมา",
        "ญ",
        "22/12/2554",
        "14",
        "1",
        "ท่าพระ",
        at=THA_PHRA[1][::-1],
        area=MUEANG_THA_PHRA,
    ),
    # 15: row 2 again, byte for byte
    person(dashed(C1), "ด.ช.สมชาย", "ใจดี", "ช", "12/03/2560", "12", "1", "ในเมือง"),
    # 16: C5's ID with another name: row 9 is kept
    person(C5, "กมลรัตน์", "ทองดี", "ญ", "15/01/2556", "88", "1", "ท่าพระ", area=MUEANG_THA_PHRA),
    # 17, 18: T1 and T2
    person(T1, "ธนกร", "ศรีวงศ์", "ช", "08/08/2562", "50", "2", "ในเมือง"),
    person(T2, "ธนากร", "ศรีวงศ์", "ช", "08/08/2562", "50", "2", "ในเมือง"),
    # 19: C11
    person(C11, "ปวีณา", "ชัยมงคล", "ญ", "10/02/2550", "77", "1", "สำราญ"),
    # 20: C12
    person(C12, "ภูผา", "ทองคำ", "ช", "01/01/2566", "12", "1", "ในเมือง"),
    # 21: C13
    person(
        C13, "สุดา", "ใจงาม", "ญ", "11/11/2558", "2", "", "", at=BAN_THUM[1], area=("", "ขอนแก่น", "")
    ),
    # 22: C14
    person(C14, "อาเย", "ซอ", "ญ", "30/06/2556", "31", "1", "ในเมือง", nationality="ไม่มีสัญชาติ"),
    # 23: C15
    person(C15, "ชาตรี", "อายุเกิน", "ช", "01/03/2549", "6", "1", "ในเมือง"),
]

ENROLMENT_TH = (
    "เลขประจำตัวประชาชน", "ชื่อ", "นามสกุล", "วันเกิด", "รหัสโรงเรียน", "ชื่อโรงเรียน",
    "ชั้น", "ปีการศึกษา", "สถานะ",
)  # fmt: skip
SCHOOL_NAI_MUEANG = ("1040010001", "โรงเรียนบ้านในเมือง")
SCHOOL_SAMRAN = ("1040010002", "โรงเรียนสำราญวิทยา")
SCHOOL_THA_PHRA = ("1040010003", "โรงเรียนท่าพระศึกษา")
SCHOOL_SECONDARY = ("1040250001", "โรงเรียนขอนแก่นวิทยา")
SCHOOL_UNLISTED = ("1040019999", "โรงเรียนนอกบัญชี")
STUDYING, GRADUATED = "กำลังศึกษา", "จบการศึกษา"


def pupil(
    national_id: str,
    first: str,
    last: str,
    born: str,
    school: tuple[str, str],
    grade: str,
    year: str,
    status: str = STUDYING,
) -> list[str]:
    return [national_id, first, last, born, *school, grade, year, status]


ENROLMENT_OBEC_NASTY = [
    # 2, 3: C1 in both years, by ID (with dashes in 2568)
    pupil(dashed(C1), "สมชาย", "ใจดี", "12/03/2560", SCHOOL_NAI_MUEANG, "ป.2", "2568"),
    pupil(C1, "สมชาย", "ใจดี", "12/03/2560", SCHOOL_NAI_MUEANG, "ป.1", "2567"),
    # 4: C2 with a mistyped ID
    pupil(C2_MISTYPED, "สมหญิง", "รักเรียน", "01/07/2558", SCHOOL_NAI_MUEANG, "ป.4", "2568"),
    # 5: C3 by G code
    pupil(C3, "มิน", "อ่อง", "05/06/2557", SCHOOL_SAMRAN, "ประถมศึกษาปีที่ 5", "2568"),
    # 6: C4 without ID
    pupil("", "นภา", "ศรีสุข", "20/08/2561", SCHOOL_SAMRAN, "ป.1", "2568"),
    # 7: C5 by ID
    pupil(C5, "กมลวรรณ", "ทองดี", "15/01/2556", SCHOOL_THA_PHRA, "ป.6", "2568"),
    # 8: C6 with title and doubled spaces, no ID
    pupil("", "เด็กชาย  ธนวัฒน์", "แก้ว  มณี", "03/11/2558", SCHOOL_THA_PHRA, "ป.4", "2568"),
    # 9: C8 with day and month swapped, no ID
    pupil("", "พิมพ์ชนก", "สุขใจ", "09/04/2559", SCHOOL_NAI_MUEANG, "ป.3", "2568"),
    # 10: rejected, a status the register does not define
    pupil(C7, "อรุณ", "แสงทอง", "02/02/2555", SCHOOL_NAI_MUEANG, "ป.6", "2568", "พักการเรียน"),
    # 11: C10, only in 2567
    pupil(C10, "วิไลวรรณ", "พรมมา", "22/12/2554", SCHOOL_THA_PHRA, "ม.1", "2567"),
    # 12: C11 finished ม.6 in 2567
    pupil(C11, "ปวีณา", "ชัยมงคล", "10/02/2550", SCHOOL_SECONDARY, "ม.6", "2567", GRADUATED),
    # 13: one of the twins, no ID
    pupil("", "ธนกร", "ศรีวงศ์", "08/08/2562", SCHOOL_NAI_MUEANG, "อ.2", "2568"),
    # 14: C14 at a school missing from the school list
    pupil(C14, "อาเย", "ซอ", "30/06/2556", SCHOOL_UNLISTED, "ป.6", "2568"),
    # 15: row 2 again
    pupil(dashed(C1), "สมชาย", "ใจดี", "12/03/2560", SCHOOL_NAI_MUEANG, "ป.2", "2568"),
]

SCHOOLS_HEADER = ("code", "name", "affiliation", "levels", "lat", "lon", "subdistrict", "students")
SCHOOLS: list[list[object]] = [
    # 2-5: placed by their points
    [*SCHOOL_NAI_MUEANG, "obec", "primary|lower_secondary", *NAI_MUEANG[0], "ในเมือง", "420"],
    [*SCHOOL_SAMRAN, "สพฐ.", "ประถม", *SAMRAN, "สำราญ", "95"],
    [*SCHOOL_THA_PHRA, "obec", "primary|lower_secondary", *THA_PHRA[0], "ท่าพระ", "130"],
    [*SCHOOL_SECONDARY, "obec", "lower_secondary|upper_secondary", *NAI_MUEANG[1], "", "2100"],
    # 6: rejected, a letter in the code
    ["10400X0005", "โรงเรียนรหัสผิด", "obec", "primary", *SAMRAN, "สำราญ", "50"],
    # 7: rejected, nobody's affiliation
    ["1040010006", "โรงเรียนไม่มีสังกัด", "กระทรวงมหาดไทย", "primary", *SAMRAN, "สำราญ", "40"],
    # 8: no point, placed by its tambon's name
    ["1040010007", "โรงเรียนบ้านโคกสี", "obec", "primary", "", "", "โคกสี", "60"],
]

VILLAGES_HEADER = ("code", "name", "lat", "lon")
VILLAGES: list[list[object]] = [
    ["40010101", "บ้านในเมือง", *NAI_MUEANG[0]],
    ["40010102", "บ้านหนองใหญ่", *NAI_MUEANG[1]],
    ["40010201", "บ้านสำราญ", *SAMRAN],
    ["40010401", "บ้านท่าพระ", *THA_PHRA[0]],
    ["40010501", "บ้านทุ่ม", *BAN_THUM[0]],
    ["40030301", "บ้านโต้น", *BAN_TON],
    # 8: rejected, province 40 has no district 99
    ["40990101", "บ้านไม่มีตำบล", *SAMRAN],
    # 9: kept with a warning, its point lies in ในเมือง, not in สำราญ
    ["40010202", "บ้านหลงทาง", 16.44, 102.8324],
    # 10: rejected, no coordinates
    ["40010203", "บ้านไม่มีพิกัด", "", ""],
]

# TIS-620: English headers in another order, and a column the importer ignores.
TIS620_HEADER = (
    "first name", "last name", "national id", "sex", "birth date", "tambon", "amphoe",
    "province", "house number", "moo", "postal code", "remark", "title",
)  # fmt: skip
TIS620_ROWS = [
    ["มานี", "มีนา", nid("140010101011"), "ญ", "14/02/2560", "บ้านทุ่ม", "เมืองขอนแก่น",
     "ขอนแก่น", "1", "1", "40000", "ย้ายมาจากชัยภูมิ", "ด.ญ."],
    ["ปิติ", "พากเพียร", nid("140010101022"), "ช", "01/04/2558", "บ้านทุ่ม", "เมืองขอนแก่น",
     "ขอนแก่น", "2", "3", "40000", "", "ด.ช."],
    ["ชูใจ", "ใฝ่ดี", nid("140010101033"), "ญ", "21/09/2557", "ดอนหัน", "เมืองขอนแก่น",
     "ขอนแก่น", "3", "2", "40260", "บ้านเช่า", "ด.ญ."],
]  # fmt: skip

XLSX_IDS = (nid("140010202011"), nid("140010202022"), nid("140010202033"))
XLSX_BAD_ID = int(bad_check(nid("140010202044")))


def xlsx_rows() -> list[list[object]]:
    """Dates as date cells (one with the BE year typed into it), IDs as numbers."""
    return [
        [int(XLSX_IDS[0]), "ด.ช.", "วีระ", "กล้าหาญ", "ช", date(2016, 5, 20), "5", 1,
         "ท่าพระ", "เมืองขอนแก่น", "ขอนแก่น", 40260, "ไทย", None, None],
        [float(XLSX_IDS[1]), "ด.ญ.", "จันทร์เพ็ญ", "ดวงดี", "ญ", date(2560, 3, 13), "6", 1,
         "ท่าพระ", "เมืองขอนแก่น", "ขอนแก่น", 40260, "ไทย", *THA_PHRA[1]],
        [int(XLSX_IDS[2]), "", "ก้องภพ", "ศรีเมือง", "ช", date(2012, 1, 31), "7", 9,
         "ท่าพระ", "เมืองขอนแก่น", "ขอนแก่น", 40260, "ไทย", None, None],
        [XLSX_BAD_ID, "", "ผิดพลาด", "เลขบัตร", "ช", date(2013, 6, 1), "8", 1,
         "ท่าพระ", "เมืองขอนแก่น", "ขอนแก่น", 40260, "ไทย", None, None],
    ]  # fmt: skip


FIXED_TIME = (2025, 1, 1, 0, 0, 0)


def write_csv(
    path: Path, header: Sequence[str], rows: Sequence[Sequence[object]], encoding: str
) -> None:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    # cp874 is Python's name for TIS-620 with Windows' extra punctuation.
    path.write_bytes(buffer.getvalue().encode(encoding))


def write_xlsx(path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "ทะเบียนราษฎร์"
    sheet.append(POPULATION_TH)
    for row in xlsx_rows():
        sheet.append(row)
    for cell in sheet["F"][1:]:
        cell.number_format = "dd/mm/yyyy"
    raw = io.BytesIO()
    workbook.save(raw)
    # openpyxl stamps the save time into docProps/core.xml and the zip entries;
    # fixing both keeps the file byte-identical from run to run.
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(
                    rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*",
                    rb"\g<1>2025-01-01T00:00:00Z",
                    data,
                )
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(fixed, data)
    path.write_bytes(out.getvalue())


def main() -> None:
    # UTF-8 with a BOM, as Excel saves "CSV UTF-8".
    write_csv(HERE / "population_nasty.csv", POPULATION_TH, POPULATION_NASTY, "utf-8-sig")
    write_csv(HERE / "population_tis620.csv", TIS620_HEADER, TIS620_ROWS, "cp874")
    write_xlsx(HERE / "population.xlsx")
    write_csv(HERE / "enrolment_obec_nasty.csv", ENROLMENT_TH, ENROLMENT_OBEC_NASTY, "utf-8-sig")
    write_csv(HERE / "schools.csv", SCHOOLS_HEADER, SCHOOLS, "utf-8")
    write_csv(HERE / "villages.csv", VILLAGES_HEADER, VILLAGES, "utf-8")


if __name__ == "__main__":
    main()
