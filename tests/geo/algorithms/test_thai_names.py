"""normalise_place_name: abbreviations, spelling variants, typing slips, and no over-merging."""

from __future__ import annotations

from collections import Counter

import geothai
import pytest

from geo.algorithms.thai_names import Level, fix_thai_typing, normalise_place_name

SARA_AM = "\u0e33"
NIKHAHIT = "\u0e4d"
SARA_AA = "\u0e32"
MAI_THO = "\u0e49"
MAI_EK = "\u0e48"
SARA_II = "\u0e35"


@pytest.mark.parametrize(
    ("text", "level", "key"),
    [
        ("ต.บ้านฝาง", "subdistrict", "บ้านฝาง"),
        ("ต. บ้านฝาง", "subdistrict", "บ้านฝาง"),
        ("ตำบลบ้านฝาง", "subdistrict", "บ้านฝาง"),
        ("ตำบล บ้านฝาง", None, "บ้านฝาง"),
        ("แขวงบางนาเหนือ", "subdistrict", "บางนาเหนือ"),
        ("อ.บ้านฝาง", "district", "บ้านฝาง"),
        ("อำเภอ บ้านฝาง", "district", "บ้านฝาง"),
        ("กิ่งอำเภอภูผาม่าน", "district", "ภูผาม่าน"),
        ("กิ่ง อ.ภูผาม่าน", "district", "ภูผาม่าน"),
        ("เขตบางนา", "district", "บางนา"),
        ("จ.ขอนแก่น", "province", "ขอนแก่น"),
        ("จังหวัดขอนแก่น", None, "ขอนแก่น"),
    ],
)
def test_thai_level_words_and_their_short_forms_are_removed(
    text: str, level: Level | None, key: str
) -> None:
    assert normalise_place_name(text, level) == key


@pytest.mark.parametrize("name", ["อ่างทอง", "ตลาด", "จันทบุรี", "เขาสวนกวาง"])
def test_a_short_form_needs_its_dot_because_names_begin_with_the_same_letter(name: str) -> None:
    assert normalise_place_name(name) == name


def test_mo_is_a_village_number_not_a_level_word() -> None:
    # "ม.3" is หมู่ที่ 3: an address parser's business, never part of a tambon name.
    assert normalise_place_name("ม.3") == "ม3"
    assert normalise_place_name("ม่วงสามสิบ", "district") == "ม่วงสามสิบ"


@pytest.mark.parametrize(
    "text", ["กทม.", "กทม", "กรุงเทพฯ", "กรุงเทพ", "จ.กทม.", "Krung Thep", "BKK"]
)
def test_bangkok_short_forms_become_its_full_name(text: str) -> None:
    assert normalise_place_name(text, "province") == "กรุงเทพมหานคร"
    assert normalise_place_name(text) == "กรุงเทพมหานคร"


def test_province_aliases_are_not_applied_to_districts() -> None:
    assert normalise_place_name("กทม", "district") == "กทม"
    assert normalise_place_name("อยุธยา", "province") == "พระนครศรีอยุธยา"


@pytest.mark.parametrize(
    ("text", "level", "key"),
    [
        ("Changwat Khon Kaen", "province", "khonkaen"),
        ("Khon Kaen Province", "province", "khonkaen"),
        ("Amphoe Ban Fang", "district", "banfang"),
        ("Amphur Ban Fang", "district", "banfang"),
        ("King Amphoe Phu Pha Man", "district", "phuphaman"),
        ("Ban Fang District", "district", "banfang"),
        ("Khet Bang Na", "district", "bangna"),
        ("Tambon Nong Ruea", "subdistrict", "nongruea"),
        ("Khwaeng Bang Na Nuea", "subdistrict", "bangnanuea"),
        ("Bang Na Nuea Subdistrict", "subdistrict", "bangnanuea"),
        ("Bang Na Neua", "subdistrict", "bangnanuea"),
        ("Beung Kan", "province", "buengkan"),
        ("Nakorn Ratchasima", "province", "nakhonratchasima"),
        ("Nakhorn Phanom", "province", "nakhonphanom"),
    ],
)
def test_english_level_words_and_romanisation_variants(text: str, level: Level, key: str) -> None:
    assert normalise_place_name(text, level) == key


@pytest.mark.parametrize(
    "text",
    [
        "Mueang Khon Kaen",
        "Muang Khon Kaen",
        "Meuang Khonkaen",
        "Mueng Khon-Kaen",
        "Amphoe Muang Khon Kaen",
        "MUEANG KHON KAEN",
        "Mueang Khon Kaen District",
    ],
)
def test_mueang_spellings_of_a_capital_district_meet(text: str) -> None:
    assert normalise_place_name(text, "district") == "mueangkhonkaen"


def test_muang_alone_is_the_capital_district_only_at_district_level() -> None:
    assert normalise_place_name("Amphoe Muang", "district") == "mueang"
    assert normalise_place_name("อ.เมือง", "district") == "เมือง"


def test_muang_is_mango_inside_tambon_names() -> None:
    # หนองม่วง (Nong Muang) and a หนองเมือง would be two places.
    assert normalise_place_name("Nong Muang", "subdistrict") == "nongmuang"
    assert normalise_place_name("Muang Yai", "subdistrict") == "muangyai"


def test_an_english_level_word_must_be_a_whole_word() -> None:
    assert normalise_place_name("Khetthong", "district") == "khetthong"
    assert normalise_place_name("Tambonthong", "subdistrict") == "tambonthong"


@pytest.mark.parametrize(
    "text", ["Khon Kaen", "Khonkaen", "KHON-KAEN", "  khon   kaen ", "Khon.Kaen"]
)
def test_case_spaces_hyphens_and_dots_do_not_matter(text: str) -> None:
    assert normalise_place_name(text) == "khonkaen"


def test_sara_am_typed_as_two_characters_is_folded() -> None:
    correct = f"น{MAI_THO}{SARA_AM}พอง"
    assert normalise_place_name(f"น{MAI_THO}{NIKHAHIT}{SARA_AA}พอง") == correct
    assert normalise_place_name(f"น{NIKHAHIT}{MAI_THO}{SARA_AA}พอง") == correct
    assert normalise_place_name(correct) == correct


def test_invisible_characters_and_doubled_spaces_are_dropped() -> None:
    assert normalise_place_name("\u200bบ้าน\u200cฝาง\ufeff") == "บ้านฝาง"
    assert normalise_place_name("  ต.  บ้าน  ฝาง  ") == "บ้านฝาง"
    assert normalise_place_name("บ้าน\u00adฝาง") == "บ้านฝาง"


def test_look_alike_thai_typing_slips_are_folded() -> None:
    assert fix_thai_typing("เเม่") == "แม่"
    # Tone mark typed before the vowel above it renders the same as the right order.
    assert fix_thai_typing(f"ท{MAI_EK}{SARA_II}") == f"ท{SARA_II}{MAI_EK}"
    assert fix_thai_typing(f"บ{MAI_THO}{MAI_THO}าน") == f"บ{MAI_THO}าน"
    assert normalise_place_name("เเม่คะ") == normalise_place_name("แม่คะ")


def test_spelling_that_differs_in_a_letter_stays_different() -> None:
    # Distinct letters separate real places; only fuzzy matching may bridge them.
    assert normalise_place_name("แม่คะ") != normalise_place_name("แม่ข่า")
    assert normalise_place_name("Phak Hai") != normalise_place_name("Pak Hai")


def test_a_level_keeps_other_levels_short_forms_in_the_name() -> None:
    # The tambon 850406 is named จ.ป.ร.; "จ." is only the province short form.
    assert normalise_place_name("ต.จ.ป.ร.", "subdistrict") == "จปร"
    assert normalise_place_name("จ.ป.ร.", "subdistrict") == "จปร"


@pytest.mark.parametrize("text", ["", "   ", "อำเภอ", "ต.", "Tambon", "\u200b"])
def test_nothing_but_a_level_word_is_empty(text: str) -> None:
    assert normalise_place_name(text) == ""


# --- against the whole DOPA list ------------------------------------------------

_DISTRICTS = [d for p in geothai.provinces() for d in geothai.districts(p.code)]
_SUBDISTRICTS = [s for d in _DISTRICTS for s in geothai.subdistricts(d.code)]


def _plain(text: str) -> str:
    """The weakest reasonable key: what any lookup would have to ignore anyway."""
    return "".join(text.casefold().replace("-", " ").split())


def _key(tambon_name: str) -> str:
    return normalise_place_name(tambon_name, "subdistrict")


def _collisions(keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
    return {key for key, n in Counter(keys).items() if n > 1}


def test_the_list_is_complete() -> None:
    assert len(_SUBDISTRICTS) == 7436
    assert len(_DISTRICTS) == 928


def test_every_tambon_keeps_a_thai_key_of_its_own_within_its_district() -> None:
    keys = [(s.district_code, _key(s.name_th)) for s in _SUBDISTRICTS]
    assert _collisions(keys) == set()


def test_english_keys_collide_within_a_district_only_where_dopa_names_do() -> None:
    # DOPA romanises แม่คะ and แม่ข่า (5009) both as "Mae Kha"; nothing else may merge.
    folded = [(s.district_code, _key(s.name_en)) for s in _SUBDISTRICTS]
    plain = [(s.district_code, _plain(s.name_en)) for s in _SUBDISTRICTS]
    assert {d for d, _ in _collisions(folded)} == {d for d, _ in _collisions(plain)} == {"5009"}
    assert len(_collisions(folded)) == len(_collisions(plain))


def test_district_keys_stay_apart_within_each_province() -> None:
    thai = [(d.province_code, normalise_place_name(d.name_th, "district")) for d in _DISTRICTS]
    english = [(d.province_code, normalise_place_name(d.name_en, "district")) for d in _DISTRICTS]
    assert _collisions(thai) == set()
    # บางไทร and บางซ้าย (14) are both "Bang Sai" in DOPA's own romanisation.
    assert _collisions(english) == {("14", "bangsai")}


def test_province_keys_are_unique() -> None:
    keys = [("", normalise_place_name(p.name_th, "province")) for p in geothai.provinces()]
    keys += [("", normalise_place_name(p.name_en, "province")) for p in geothai.provinces()]
    assert _collisions(keys) == set()


@pytest.mark.parametrize("level", ["province", "district", "subdistrict"])
def test_keys_are_stable_under_a_second_normalisation(level: Level) -> None:
    names = {
        "province": [p.name_th for p in geothai.provinces()],
        "district": [d.name_th for d in _DISTRICTS] + [d.name_en for d in _DISTRICTS],
        "subdistrict": [s.name_th for s in _SUBDISTRICTS] + [s.name_en for s in _SUBDISTRICTS],
    }[level]
    unstable = [
        n
        for n in names
        if normalise_place_name(normalise_place_name(n, level), level)
        != normalise_place_name(n, level)
    ]
    assert unstable == []
