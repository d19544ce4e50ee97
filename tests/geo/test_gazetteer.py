"""The gazetteer: codes, names, address areas, and its differences from the boundaries."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date

import geothai
import pytest
from django.contrib.gis.geos import MultiPolygon, Polygon
from django.core.management import call_command
from django.core.management.base import CommandError
from django.core.management.color import no_style
from django.db import connection
from pytest_django import DjangoAssertNumQueries

from geo import gazetteer
from geo.algorithms.thai_names import Level
from geo.gazetteer import (
    FUZZY_CUTOFF,
    GazetteerEntry,
    compare_with_boundaries,
    find,
    lookup_abolished,
    lookup_code,
    resolve_address_area,
)
from geo.models import District, Province, Subdistrict

# What the 2019 survey lacks and what DOPA has abolished since (NOTICE.md).
NEWER_TAMBONS = {
    "100910",
    "101406",
    "102602",
    "103402",
    "103403",
    "104402",
    "104403",
    "104702",
    "104703",
    "105002",
    "105003",
    "105004",
    "105005",
    "530407",
}
ABOLISHED_TAMBONS = {
    "104701": ("บางนา", "Bang Na"),
    "105001": ("บางบอน", "Bang Bon"),
    "530306": ("ท่าแฝก", "Tha Faek"),
}
SQUARE = MultiPolygon(
    Polygon(((100.0, 15.0), (100.01, 15.0), (100.01, 15.01), (100.0, 15.01), (100.0, 15.0))),
    srid=4326,
)


@pytest.fixture(autouse=True)
def _fresh_boundary_cache() -> Iterator[None]:
    # The gazetteer keeps the boundary codes between calls; each test has its own.
    gazetteer.clear_cache()
    yield
    gazetteer.clear_cache()


def _empty_boundary_tables() -> None:
    # The national boundaries may already be committed by another test's session
    # fixture; truncating inside the test transaction is undone when it ends.
    tables = [m._meta.db_table for m in (Province, District, Subdistrict)]
    with connection.cursor() as cursor:
        for statement in connection.ops.sql_flush(no_style(), tables, allow_cascade=True):
            cursor.execute(statement)


_INSERT = {
    # One statement per table: building 7,425 geometries through the ORM takes
    # seconds, and the fixture runs for almost every test.
    Province: "INSERT INTO geo_province (code, name_th, name_en, geom)"
    " SELECT c, th, en, ST_GeomFromEWKT(%s) FROM unnest(%s, %s, %s) AS t(c, th, en)",
    District: "INSERT INTO geo_district (code, name_th, name_en, geom, province_id)"
    " SELECT c, th, en, ST_GeomFromEWKT(%s), left(c, 2) FROM unnest(%s, %s, %s) AS t(c, th, en)",
    Subdistrict: "INSERT INTO geo_subdistrict (code, name_th, name_en, geom, district_id)"
    " SELECT c, th, en, ST_GeomFromEWKT(%s), left(c, 4) FROM unnest(%s, %s, %s) AS t(c, th, en)",
}


def _insert(
    model: type[Province | District | Subdistrict], rows: list[tuple[str, str, str]]
) -> None:
    codes, names_th, names_en = (list(column) for column in zip(*rows, strict=True))
    with connection.cursor() as cursor:
        cursor.execute(_INSERT[model], [SQUARE.ewkt, codes, names_th, names_en])


@pytest.fixture
def survey_boundaries(db: None) -> None:
    """Boundary rows coded like the 2019 survey: every current code but the 14
    newer tambons, plus the 3 tambons abolished since; every shape a tiny square."""
    _empty_boundary_tables()
    provinces = geothai.provinces()
    districts = [d for p in provinces for d in geothai.districts(p.code)]
    tambons = [s for d in districts for s in geothai.subdistricts(d.code)]
    _insert(Province, [(p.code, p.name_th, p.name_en) for p in provinces])
    _insert(District, [(d.code, d.name_th, d.name_en) for d in districts])
    rows = [(s.code, s.name_th, s.name_en) for s in tambons if s.code not in NEWER_TAMBONS]
    _insert(Subdistrict, rows + [(code, th, en) for code, (th, en) in ABOLISHED_TAMBONS.items()])


@pytest.fixture
def khon_kaen_tambon(db: None) -> None:
    """Boundary tables holding only ในเมือง (400101), its district and province."""
    _empty_boundary_tables()
    _insert(Province, [("40", "ขอนแก่น", "Khon Kaen")])
    _insert(District, [("4001", "เมืองขอนแก่น", "Mueang Khon Kaen")])
    _insert(Subdistrict, [("400101", "ในเมือง", "Nai Mueang")])


# --- codes ----------------------------------------------------------------------


@pytest.mark.parametrize("code", ["400101", "TH400101", " th400101 ", "๔๐๐๑๐๑"])
def test_a_tambon_code_in_any_usual_form(khon_kaen_tambon: None, code: str) -> None:
    assert lookup_code(code) == GazetteerEntry(
        level="subdistrict",
        code="400101",
        name_th="ในเมือง",
        name_en="Nai Mueang",
        parent_code="4001",
        postal_codes=("40000",),
        has_boundary=True,
    )


def test_district_and_province_codes(db: None) -> None:
    district = lookup_code("4001")
    province = lookup_code("TH40")
    assert district is not None and province is not None
    assert (district.level, district.name_th, district.parent_code) == (
        "district",
        "เมืองขอนแก่น",
        "40",
    )
    assert (province.level, province.name_en, province.parent_code) == (
        "province",
        "Khon Kaen",
        None,
    )
    assert district.postal_codes == province.postal_codes == ()


def test_a_tambon_with_several_postal_codes(db: None) -> None:
    several = [
        s
        for d in geothai.districts("50")
        for s in geothai.subdistricts(d.code)
        if len(s.postal_codes) > 1
    ]
    entry = lookup_code(several[0].code)
    assert entry is not None and len(entry.postal_codes) > 1
    assert entry.postal_codes == tuple(several[0].postal_codes)


def test_has_boundary_follows_the_boundary_tables(khon_kaen_tambon: None) -> None:
    newer = lookup_code("104702")
    assert newer is not None and newer.name_th == "บางนาเหนือ" and newer.has_boundary is False
    Subdistrict.objects.filter(code="400101").delete()
    gazetteer.clear_cache()
    gone = lookup_code("400101")
    assert gone is not None and gone.has_boundary is False


@pytest.mark.parametrize("code", ["104701", "4", "40010", "4001011", "400101x", "99", "", "TH"])
def test_abolished_malformed_and_unknown_codes_are_none(db: None, code: str) -> None:
    assert lookup_code(code) is None


def test_an_abolished_code_says_what_became_of_it() -> None:
    old = lookup_abolished("TH104701")
    assert old is not None
    assert (old.name_th, old.abolished_on, old.successors) == (
        "บางนา",
        date(2022, 4, 22),
        ("104702", "104703"),
    )
    assert lookup_abolished("400101") is None


def test_lookups_do_not_query_per_call(
    db: None, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    lookup_code("400101")
    with django_assert_num_queries(0):
        found = [lookup_code(f"4001{n:02d}") for n in range(1, 20)] * 50
        find("ต.บ้านฝาง", within="4002")
    assert sum(1 for e in found if e is not None) == 50 * len(geothai.subdistricts("4001"))


# --- names ----------------------------------------------------------------------


def _codes(name: str, level: Level | None = None, within: str | None = None) -> list[str]:
    return [m.code for m in find(name, level=level, within=within)]


@pytest.mark.parametrize(
    ("name", "level", "within", "codes"),
    [
        ("ต.บ้านฝาง", "subdistrict", "4002", ["400206"]),
        ("Tambon Ban Fang", "subdistrict", "4002", ["400206"]),
        ("บ้านฝาง", "subdistrict", "40", ["400206", "400907"]),
        ("อ.บ้านฝาง", "district", None, ["4002"]),
        ("อ.เมือง", "district", "40", ["4001"]),
        ("Amphoe Muang", "district", "TH40", ["4001"]),
        ("Muang Khonkaen", "district", None, ["4001"]),
        ("เขตบางนา", "district", "10", ["1047"]),
        ("แขวงบางนาเหนือ", "subdistrict", None, ["104702"]),
        ("กทม.", "province", None, ["10"]),
        ("จ.ขอนแก่น", "province", None, ["40"]),
        ("Changwat Khon Kaen", None, None, ["40"]),
        ("ปอพาน", "subdistrict", "4501", ["450109"]),
    ],
)
def test_find_reads_abbreviations_and_english(
    db: None, name: str, level: Level | None, within: str | None, codes: list[str]
) -> None:
    found = find(name, level=level, within=within)
    assert [m.code for m in found] == codes
    assert all(m.score == 100.0 and m.exact for m in found)


def test_find_orders_provinces_before_districts_before_tambons(db: None) -> None:
    found = find("Khon Kaen")
    assert [(m.level, m.code) for m in found] == [("province", "40"), ("subdistrict", "450104")]


def test_an_exact_name_hides_fuzzy_neighbours(db: None) -> None:
    # บ้านวัง (300906) is one letter from บ้านฝาง but is another place.
    found = find("บ้านฝาง", level="subdistrict")
    assert {m.code for m in found} == {"400206", "400907", "431403", "450206"}
    assert "300906" in _codes("บ้านฝัง", level="subdistrict")


@pytest.mark.parametrize(
    ("misspelt", "within", "code"),
    [
        ("บ้านฝัง", "4002", "400206"),  # wrong vowel
        ("บานฝาง", "4002", "400206"),  # dropped tone mark
        ("หนองเรีอ", "4004", "400401"),  # look-alike vowel
        ("Ban Fnag", "4002", "400206"),  # swapped letters
        ("Tambon Nong Rua", "4004", "400401"),  # old romanisation of เรือ
    ],
)
def test_find_matches_misspellings_fuzzily(db: None, misspelt: str, within: str, code: str) -> None:
    found = find(misspelt, level="subdistrict", within=within)
    assert [m.code for m in found] == [code]
    assert FUZZY_CUTOFF <= found[0].score < 100.0 and not found[0].exact


def test_fuzzy_scores_are_ordered_best_first(db: None) -> None:
    scores = [m.score for m in find("บ้านฝัง")]
    assert len(scores) > 3 and scores == sorted(scores, reverse=True)


def test_names_too_far_from_any_place_find_nothing(db: None) -> None:
    assert find("Springfield") == []
    assert find("ฝาง", level="subdistrict", within="4002") == []


def test_within_must_be_a_province_or_district(db: None) -> None:
    with pytest.raises(ValueError, match="within"):
        find("ในเมือง", within="400101")
    with pytest.raises(ValueError, match="within"):
        find("ในเมือง", within="Khon Kaen")


def test_limit(db: None) -> None:
    assert len(find("ในเมือง", level="subdistrict")) > 3
    assert len(find("ในเมือง", level="subdistrict", limit=3)) == 3


# --- address areas --------------------------------------------------------------


def test_names_of_all_three_levels_resolve_one_tambon(db: None) -> None:
    result = resolve_address_area("ต.บ้านฝาง", "อ.บ้านฝาง", "จ.ขอนแก่น")
    assert result.status == "resolved" and result.resolved
    assert result.entry is not None and result.entry.code == "400206"
    assert not result.needs_review


def test_english_and_mueang(db: None) -> None:
    result = resolve_address_area("Tambon Nai Mueang", "Amphoe Muang", "Khonkaen")
    assert result.entry is not None and result.entry.code == "400101"


def test_a_name_in_two_districts_is_ambiguous_until_the_postal_code(db: None) -> None:
    ambiguous = resolve_address_area("บ้านฝาง", None, "ขอนแก่น")
    assert ambiguous.status == "ambiguous" and ambiguous.entry is None
    assert [c.code for c in ambiguous.candidates] == ["400206", "400907"]
    by_post = resolve_address_area("บ้านฝาง", None, "ขอนแก่น", postal_code="40170")
    assert by_post.entry is not None and by_post.entry.code == "400907"


def test_a_postal_code_that_fits_no_candidate_is_reported(db: None) -> None:
    result = resolve_address_area("บ้านฝาง", "อ.บ้านฝาง", "ขอนแก่น", postal_code="10110")
    assert result.entry is not None and result.entry.code == "400206"
    assert result.unmatched == ("postal_code",) and result.needs_review


def test_bangkok_khwaeng_and_khet(db: None) -> None:
    result = resolve_address_area("แขวงบางนาเหนือ", "เขตบางนา", "กทม.")
    assert result.entry is not None and result.entry.code == "104702"


def test_an_abolished_tambon_points_to_its_successors(db: None) -> None:
    result = resolve_address_area("แขวงบางนา", "เขตบางนา", "กรุงเทพฯ")
    assert result.status == "abolished" and result.entry is None
    assert [a.code for a in result.abolished] == ["104701"]
    assert [c.code for c in result.candidates] == ["104702", "104703"]


def test_an_abolished_code_with_one_successor_gives_it(db: None) -> None:
    result = resolve_address_area("530306")
    assert result.status == "abolished"
    assert result.entry is not None and result.entry.code == "530407"


def test_a_tambon_moved_to_another_district_is_found_in_the_province(db: None) -> None:
    # ท่าแฝก moved from ท่าปลา (5303) to น้ำปาด (5304) in 2015; old records say ท่าปลา.
    result = resolve_address_area("ต.ท่าแฝก", "อ.ท่าปลา", "จ.อุตรดิตถ์")
    assert result.status == "resolved"
    assert result.entry is not None and result.entry.code == "530407"
    assert result.unmatched == ("district",)


def test_a_misspelt_tambon_resolves_but_asks_for_review(db: None) -> None:
    result = resolve_address_area("ต.บ้านฝัง", "อ.บ้านฝาง", "จ.ขอนแก่น")
    assert result.entry is not None and result.entry.code == "400206"
    assert result.fuzzy == ("subdistrict",) and result.needs_review


def test_a_misspelt_province_still_narrows(db: None) -> None:
    result = resolve_address_area("ในเมือง", "อ.เมือง", "ขอนแก่นน")
    assert result.entry is not None and result.entry.code == "400101"
    assert result.fuzzy == ("province",)


def test_an_unknown_district_is_reported_and_ignored(db: None) -> None:
    result = resolve_address_area("ในเมือง", "Springfield", "ขอนแก่น")
    assert result.status == "ambiguous"
    assert [c.code for c in result.candidates] == ["400101", "401002", "402901"]
    assert result.unmatched == ("district",)


def test_a_code_wins_over_names_that_contradict_it(db: None) -> None:
    result = resolve_address_area("TH400101", "อ.บ้านฝาง", "ขอนแก่น")
    assert result.entry is not None and result.entry.code == "400101"
    assert result.unmatched == ("district",)
    agreeing = resolve_address_area("400101", "อ.เมือง", "จ.ขอนแก่น")
    assert agreeing.unmatched == () and not agreeing.needs_review


@pytest.mark.parametrize("subdistrict", ["", "ต.", "Springfield", "999999"])
def test_nothing_to_resolve(db: None, subdistrict: str) -> None:
    result = resolve_address_area(subdistrict, None, "ขอนแก่น")
    assert result.status == "not_found" and result.entry is None and result.candidates == ()


# --- against the boundary tables ------------------------------------------------


def test_compare_finds_exactly_the_known_differences(
    survey_boundaries: None, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    with django_assert_num_queries(3):
        diff = compare_with_boundaries()
    assert {row.code for row in diff.only_in_gazetteer} == NEWER_TAMBONS
    assert {row.code for row in diff.only_in_boundaries} == set(ABOLISHED_TAMBONS)
    assert diff.has_differences
    counts = [(lv.level, lv.gazetteer_count, lv.boundary_count, lv.in_both) for lv in diff.levels]
    assert counts == [
        ("province", 77, 77, 77),
        ("district", 928, 928, 928),
        ("subdistrict", 7436, 7425, 7422),
    ]


def test_compare_explains_each_difference(survey_boundaries: None) -> None:
    diff = compare_with_boundaries()
    old = {row.code: row for row in diff.only_in_boundaries}
    new = {row.code: row for row in diff.only_in_gazetteer}
    assert old["105001"].abolished is not None
    assert old["105001"].abolished.successors == ("105002", "105003", "105004", "105005")
    assert "2015-03-11" in old["530306"].note and "530407" in old["530306"].note
    assert (new["104703"].name_th, new["104703"].replaces) == ("บางนาใต้", ("104701",))
    assert new["100910"].replaces == () and new["100910"].name_en == "Phra Khanong Tai"


def test_a_code_nobody_knows_is_reported(survey_boundaries: None) -> None:
    Province.objects.create(code="99", name_th="ไม่มี", name_en="Nowhere", geom=SQUARE)
    rows = [r for r in compare_with_boundaries().only_in_boundaries if r.level == "province"]
    assert [(r.code, r.name_en, r.abolished) for r in rows] == [("99", "Nowhere", None)]


def test_no_differences_when_the_tables_follow_dopa(survey_boundaries: None) -> None:
    Subdistrict.objects.filter(code__in=ABOLISHED_TAMBONS).delete()
    Subdistrict.objects.bulk_create(
        Subdistrict(code=c, name_th="x", name_en="x", district_id=c[:4], geom=SQUARE)
        for c in NEWER_TAMBONS
    )
    assert not compare_with_boundaries().has_differences


@pytest.mark.slow
def test_the_real_boundaries_differ_by_the_documented_codes(national_boundaries: None) -> None:
    diff = compare_with_boundaries()
    assert {row.code for row in diff.only_in_gazetteer} == NEWER_TAMBONS
    assert {row.code for row in diff.only_in_boundaries} == set(ABOLISHED_TAMBONS)


# --- the command ----------------------------------------------------------------


def test_check_gazetteer_prints_both_sides(
    survey_boundaries: None, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("check_gazetteer")
    out = capsys.readouterr().out
    assert "Only in the gazetteer (no polygon): 14" in out
    assert "Only in the boundaries (not a current code): 3" in out
    line = next(line for line in out.splitlines() if line.split()[1:2] == ["530306"])
    assert "ท่าแฝก" in line and "Tha Faek" in line and "abolished 2015-03-11" in line


def test_check_gazetteer_json(survey_boundaries: None, capsys: pytest.CaptureFixture[str]) -> None:
    call_command("check_gazetteer", "--json")
    report = json.loads(capsys.readouterr().out)
    tambons = report["levels"][2]
    assert tambons["level"] == "subdistrict"
    assert {r["code"] for r in tambons["only_in_gazetteer"]} == NEWER_TAMBONS
    bang_na = next(r for r in tambons["only_in_boundaries"] if r["code"] == "104701")
    assert bang_na["abolished_on"] == "2022-04-22"
    assert bang_na["successors"] == ["104702", "104703"]


def test_check_gazetteer_fails_on_difference_only_when_asked(survey_boundaries: None) -> None:
    call_command("check_gazetteer", "--json")
    with pytest.raises(CommandError) as raised:
        call_command("check_gazetteer", "--fail-on-difference")
    assert raised.value.returncode == 1
