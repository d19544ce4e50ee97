"""parse_address and parse_fields: the shapes government files use, and the nasty ones."""

from __future__ import annotations

import random

import geothai
import pytest

from geo.algorithms import thai_address
from geo.algorithms.thai_address import ParsedAddress, parse_address, parse_fields

BKK = "กรุงเทพมหานคร"
ZWSP = "\u200b"


def _parts(parsed: ParsedAddress) -> tuple[object, ...]:
    return (
        parsed.house_no,
        parsed.moo,
        parsed.village_name,
        parsed.soi,
        parsed.road,
        parsed.subdistrict,
        parsed.district,
        parsed.province,
        parsed.postcode,
    )


KK = ("ในเมือง", "เมืองขอนแก่น", "ขอนแก่น")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # house, moo, village, soi, road, tambon, district, province, postcode
        (
            "33/1 ม.4 ต.ในเมือง อ.เมืองขอนแก่น จ.ขอนแก่น 40000",
            ("33/1", 4, None, None, None, *KK, "40000"),
        ),
        (
            "บ้านเลขที่ 12 หมู่ที่ 7 บ้านโนนสะอาด ตำบลบ้านค้อ อำเภอเมือง จังหวัดขอนแก่น",
            ("12", 7, "บ้านโนนสะอาด", None, None, "บ้านค้อ", "เมือง", "ขอนแก่น", None),
        ),
        (
            "99/12 ซ.ลาดพร้าว 101 ถ.ลาดพร้าว แขวงคลองจั่น เขตบางกะปิ กทม. 10240",
            ("99/12", None, None, "ลาดพร้าว 101", "ลาดพร้าว", "คลองจั่น", "บางกะปิ", BKK, "10240"),
        ),
        (
            "99/12 ซอยลาดพร้าว 101 ถนนลาดพร้าว แขวงคลองจั่น เขตบางกะปิ กรุงเทพฯ 10240",
            ("99/12", None, None, "ลาดพร้าว 101", "ลาดพร้าว", "คลองจั่น", "บางกะปิ", BKK, "10240"),
        ),
        (
            "5 แขวงคลองจั่น เขตบางกะปิ จังหวัดกรุงเทพมหานคร",
            ("5", None, None, None, None, "คลองจั่น", "บางกะปิ", BKK, None),
        ),
        # undotted short forms, spaces after the dot, doubled spaces
        ("33/1 ม 4 ต ในเมือง อ เมืองขอนแก่น จ ขอนแก่น", ("33/1", 4, None, None, None, *KK, None)),
        (
            "33/1  ม. 4   ต. ในเมือง  อ. เมืองขอนแก่น  จ. ขอนแก่น  40000",
            ("33/1", 4, None, None, None, *KK, "40000"),
        ),
        ("33/1 หมู่ 4 ต.ในเมือง อ.เมืองขอนแก่น จ.ขอนแก่น", ("33/1", 4, None, None, None, *KK, None)),
        # no spaces at all
        ("33/1ม.4ต.ในเมืองอ.เมืองขอนแก่นจ.ขอนแก่น40000", ("33/1", 4, None, None, None, *KK, "40000")),
        # Thai digits, zero-width spaces, a name split by a space
        (
            "๓๓/๑ ม.๔ ต.ใน" + ZWSP + "เมือง อ.เมือง ขอนแก่น จ.ขอนแก่น ๔๐๐๐๐",
            ("33/1", 4, None, None, None, *KK, "40000"),
        ),
        (
            "๓๓/๑ ม.๔ ซ.สุขใจ ๕ ต.ในเมือง อ.เมืองขอนแก่น จ.ขอนแก่น ๔๐๐๐๐",
            ("33/1", 4, None, "สุขใจ 5", None, *KK, "40000"),
        ),
        # level words inside names: ถนน, หมู่, ตำบล, เขต, and the dotted tambon จ.ป.ร.
        (
            "5 ม.2 ต.ถนนใหญ่ อ.เมืองลพบุรี จ.ลพบุรี",
            ("5", 2, None, None, None, "ถนนใหญ่", "เมืองลพบุรี", "ลพบุรี", None),
        ),
        (
            "1 ม.1 ต.ม่วงหมู่ อ.เมืองสิงห์บุรี จ.สิงห์บุรี",
            ("1", 1, None, None, None, "ม่วงหมู่", "เมืองสิงห์บุรี", "สิงห์บุรี", None),
        ),
        (
            "12 หมู่ที่ 3 ตำบลสามตำบล อำเภอจุฬาภรณ์ จังหวัดนครศรีธรรมราช",
            ("12", 3, None, None, None, "สามตำบล", "จุฬาภรณ์", "นครศรีธรรมราช", None),
        ),
        (
            "7 ม.5 ต.หลักเขต อ.บ้านแพ้ว จ.สมุทรสาคร",
            ("7", 5, None, None, None, "หลักเขต", "บ้านแพ้ว", "สมุทรสาคร", None),
        ),
        (
            "12 ม.3 ต.จ.ป.ร. อ.กระบุรี จ.ระนอง 85110",
            ("12", 3, None, None, None, "จ.ป.ร.", "กระบุรี", "ระนอง", "85110"),
        ),
        # village name before the หมู่, and without a house number
        (
            "บ้านหนองแวง หมู่ 9 ต.ในเมือง อ.เมืองขอนแก่น จ.ขอนแก่น",
            (None, 9, "บ้านหนองแวง", None, None, *KK, None),
        ),
        (
            "หมู่บ้านสุขใจ 4/5 ต.ในเมือง อ.เมืองขอนแก่น จ.ขอนแก่น",
            (None, None, "สุขใจ 4/5", None, None, *KK, None),
        ),
        # กิ่งอำเภอ and the postcode word
        (
            "3 ม.1 ต.ภูผาม่าน กิ่งอำเภอภูผาม่าน จ.ขอนแก่น รหัสไปรษณีย์ 40350",
            ("3", 1, None, None, None, "ภูผาม่าน", "ภูผาม่าน", "ขอนแก่น", "40350"),
        ),
        # romanised
        (
            "Moo 4, Tambon Nai Mueang, Amphoe Mueang Khon Kaen, Khon Kaen 40000",
            (
                None,
                4,
                None,
                None,
                None,
                "Nai Mueang",
                "Mueang Khon Kaen",
                "Khon Kaen",
                "40000",
            ),
        ),
        (
            "33/1 Moo 4 Tambon Nai Mueang Amphoe Mueang Khon Kaen Changwat Khon Kaen",
            ("33/1", 4, None, None, None, "Nai Mueang", "Mueang Khon Kaen", "Khon Kaen", None),
        ),
        (
            "12, Mu 2, Tambon Sam Tambon, Amphoe Nikhom Kham Soi, Mukdahan 49130",
            ("12", 2, None, None, None, "Sam Tambon", "Nikhom Kham Soi", "Mukdahan", "49130"),
        ),
        (
            "99/12 Soi Lat Phrao 101, Khwaeng Khlong Chan, Khet Bang Kapi, Bangkok 10240",
            ("99/12", None, None, "Lat Phrao 101", None, "Khlong Chan", "Bang Kapi", BKK, "10240"),
        ),
        (
            "99/12 Sukhumvit Road, Khlong Toei Nuea Subdistrict, Watthana District, Bangkok",
            (
                "99/12",
                None,
                None,
                None,
                "Sukhumvit",
                "Khlong Toei Nuea",
                "Watthana",
                BKK,
                None,
            ),
        ),
    ],
)
def test_parse_address(text: str, expected: tuple[object, ...]) -> None:
    parsed = parse_address(text)
    assert _parts(parsed) == expected
    assert parsed.unparsed == ()
    # Most of these take the quick path; the general reading must agree on each.
    general = thai_address._parse_general(thai_address._fix_typing(thai_address._prepare(text)))
    assert general == parsed


def test_typing_slips_are_folded() -> None:
    # sara am typed as nikhahit + sara aa, sara ae typed as two sara e
    parsed = parse_address("1 ม.2 ต\u0e4d\u0e32บลเเม่นา อ.เมือง จ.ขอนแก่น")
    assert parsed.subdistrict == "แม่นา"
    parsed = parse_address("1 ม.2 ต.น\u0e4d\u0e49\u0e32พอง อ.น\u0e4d\u0e49\u0e32พอง จ.ขอนแก่น")
    assert parsed.subdistrict == "น\u0e49\u0e33พอง"
    assert parsed.district == "น\u0e49\u0e33พอง"


def test_leftovers_are_kept_in_order() -> None:
    parsed = parse_address("33/1 ม.4 ใกล้วัด ต.ในเมือง ต.ศิลา อ.เมืองขอนแก่น จ.ขอนแก่น")
    assert parsed.subdistrict == "ในเมือง"
    assert parsed.village_name == "ใกล้วัด"
    assert parsed.unparsed == ("ศิลา",)
    assert parse_address("ไม่ทราบที่อยู่").unparsed == ("ไม่ทราบที่อยู่",)
    assert parse_address("") == ParsedAddress()


def test_the_result_is_frozen() -> None:
    parsed = parse_address("1 ต.ในเมือง อ.เมืองขอนแก่น จ.ขอนแก่น")
    with pytest.raises(AttributeError):
        parsed.moo = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"moo": "หมู่ 4"}, {"moo": 4}),
        ({"moo": "ม.๔"}, {"moo": 4}),
        ({"moo": "หมู่ที่ 12"}, {"moo": 12}),
        ({"moo": "Moo 7"}, {"moo": 7}),
        ({"moo": "04"}, {"moo": 4}),
        ({"moo": 5}, {"moo": 5}),
        ({"moo": "ไม่ทราบ"}, {"moo": None, "unparsed": ("ไม่ทราบ",)}),
        ({"house_no": "บ้านเลขที่ ๓๓/๑"}, {"house_no": "33/1"}),
        ({"subdistrict": "ต.ในเมือง"}, {"subdistrict": "ในเมือง"}),
        ({"subdistrict": "ตำบล ใน" + ZWSP + "เมือง"}, {"subdistrict": "ในเมือง"}),
        ({"subdistrict": "แขวงคลองจั่น"}, {"subdistrict": "คลองจั่น"}),
        ({"subdistrict": "ถนนใหญ่"}, {"subdistrict": "ถนนใหญ่"}),
        ({"subdistrict": "Tambon Nai Mueang"}, {"subdistrict": "Nai Mueang"}),
        ({"district": "อ.เมือง"}, {"district": "เมือง"}),
        ({"district": "เขตบางกะปิ"}, {"district": "บางกะปิ"}),
        ({"district": "Bang Kapi District"}, {"district": "Bang Kapi"}),
        ({"province": "จ.ขอนแก่น"}, {"province": "ขอนแก่น"}),
        ({"province": "กทม."}, {"province": BKK}),
        ({"province": "Khon Kaen Province"}, {"province": "Khon Kaen"}),
        ({"postcode": "๔๐๐๐๐"}, {"postcode": "40000"}),
        ({"postcode": " 40000 "}, {"postcode": "40000"}),
        ({"postcode": "4000"}, {"postcode": None, "unparsed": ("4000",)}),
    ],
)
def test_parse_fields(kwargs: dict[str, str | int], expected: dict[str, object]) -> None:
    assert parse_fields(**kwargs) == ParsedAddress(**expected)  # type: ignore[arg-type]


# --- properties on composed addresses -------------------------------------------


def _tambons() -> list[tuple[str, str, str, bool]]:
    rows = []
    for province in geothai.provinces():
        for district in geothai.districts(province.code):
            for sub in geothai.subdistricts(district.code):
                bangkok = province.code == "10"
                rows.append(
                    (sub.name_th, district.name_th.removeprefix("เขต"), province.name_th, bangkok)
                )
    return rows


TAMBONS = _tambons()


def _compose(rng: random.Random, tambon: str, amphoe: str, changwat: str, bkk: bool) -> str:
    words = [rng.choice(["", "บ้านเลขที่ ", "เลขที่"]) + str(rng.randint(1, 999))]
    if not bkk:
        words.append(rng.choice(["ม.", "ม", "หมู่ ", "หมู่ที่ ", "ม. "]) + str(rng.randint(1, 30)))
    if rng.random() < 0.3:
        words.append(rng.choice(["ซ.", "ซอย "]) + "สุขใจ 3")
    if rng.random() < 0.3:
        words.append(rng.choice(["ถ.", "ถนน"]) + "มิตรภาพ")
    sp = rng.choice(["", " "])
    if bkk:
        words += ["แขวง" + sp + tambon, "เขต" + sp + amphoe, rng.choice(["กทม.", "จ.กรุงเทพฯ"])]
    else:
        words += [
            rng.choice(["ต.", "ตำบล"]) + sp + tambon,
            rng.choice(["อ.", "อำเภอ"]) + sp + amphoe,
            rng.choice(["จ.", "จังหวัด"]) + sp + changwat,
        ]
    return rng.choice([" ", "  "]).join(words) + rng.choice(["", " 40000"])


def test_a_composed_address_gives_back_its_parts() -> None:
    rng = random.Random(7)
    wrong = []
    for tambon, amphoe, changwat, bkk in TAMBONS:
        parsed = parse_address(_compose(rng, tambon, amphoe, changwat, bkk))
        if (parsed.subdistrict, parsed.district, parsed.province) != (
            tambon,
            amphoe,
            BKK if bkk else changwat,
        ):
            wrong.append((tambon, amphoe, changwat, parsed))
    assert wrong == []


def test_the_quick_path_and_the_general_reading_agree() -> None:
    rng = random.Random(11)
    quick = 0
    for tambon, amphoe, changwat, bkk in TAMBONS[::3]:
        text = thai_address._prepare(_compose(rng, tambon, amphoe, changwat, bkk))
        if thai_address._USUAL_SHAPE.fullmatch(text) is not None:
            quick += 1
        assert parse_address(text) == thai_address._parse_general(text), text
    assert quick > len(TAMBONS[::3]) * 0.9  # the quick path is the usual one


def test_every_tambon_survives_parse_fields() -> None:
    for tambon, amphoe, changwat, _ in TAMBONS:
        parsed = parse_fields(
            subdistrict="ต." + tambon, district="อำเภอ " + amphoe, province="จ." + changwat
        )
        assert (parsed.subdistrict, parsed.district) == (tambon, amphoe)
