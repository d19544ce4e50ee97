"""Exports of the officials' pages: every format for an official and a coordinator,
the metadata they carry, withheld counts written as the mark, formula neutralisation,
the GeoPackage read back with GDAL, the offline map report, who may download what,
and nothing personal in any file."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.gis.gdal import DataSource
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from factories import (
    TEST_ACADEMIC_YEAR,
    CaseFactory,
    ChildFactory,
    DistrictFactory,
    HouseholdFactory,
    ProvinceFactory,
    SubdistrictFactory,
    UserFactory,
    make,
)
from openpyxl import load_workbook  # type: ignore[import-untyped]

from field.models import AreaStat, CaseKind, SearchOutcome, StatLevel, Visit
from geo.models import District, Province, Subdistrict

YEAR = TEST_ACADEMIC_YEAR
BANGKOK = ZoneInfo("Asia/Bangkok")
CHILD_NAME = "เด็กหญิงลับเฉพาะ"
HOUSE_NO = "987/65"
NATIONAL_ID = "1101700203451"
# An area name Excel would run as a formula if written as it is.
FORMULA_NAME = '=HYPERLINK("http://evil","x")'
GAP_FORMATS = ("csv", "xlsx", "geojson", "gpkg", "html")
DASHBOARD_FORMATS = ("csv", "xlsx")
_COUNTS = (
    "enrolled",
    "dropped_out",
    "never_enrolled",
    "graduated",
    "in_review",
    "cases_open",
    "cases_visited",
    "cases_found",
    "cases_resolved",
    "cases_brought_back",
    "unreached_households",
    "unreached_in_zone",
    "unreached_in_team_area",
)


def _stat(level: StatLevel, code: str, counts: dict[str, int]) -> dict[str, int]:
    full = {name: counts.get(name, 0) for name in _COUNTS}
    window = sum(full[n] for n in ("enrolled", "dropped_out", "never_enrolled"))
    AreaStat.objects.create(
        academic_year=YEAR,
        level=level,
        code=code,
        children_in_window=window,
        refreshed_at=timezone.now(),
        **full,
    )
    return full


def _sum(*rows: dict[str, int]) -> dict[str, int]:
    return {name: sum(row[name] for row in rows) for name in _COUNTS}


@dataclass
class World:
    province: Province
    district_a: District
    district_b: District
    t1: Subdistrict
    t3: Subdistrict
    point: tuple[float, float]


@pytest.fixture
def world(persona_province: Province, persona_districts: tuple[District, District]) -> World:
    """Tambon 1 (district A): 1,000 children, 100 out of school; tambon 2 (A): 500,
    20; tambon 3 (district B, named like a formula): 200, 3, so district B's small
    counts are withheld and district A's with them. Three cases in tambon 1 with a
    named child, a house number and a household point, all of which must stay out."""
    district_a, district_b = persona_districts
    District.objects.filter(pk=district_b.pk).update(name_th=FORMULA_NAME)
    district_b.refresh_from_db()
    t1 = make(SubdistrictFactory, district=district_a)
    t2 = make(SubdistrictFactory, district=district_a)
    t3 = make(SubdistrictFactory, district=district_b)
    r1 = _stat(
        StatLevel.TAMBON,
        t1.code,
        {
            "enrolled": 900,
            "dropped_out": 40,
            "never_enrolled": 60,
            "cases_open": 50,
            "cases_visited": 30,
            "unreached_households": 40,
            "unreached_in_zone": 20,
        },
    )
    r2 = _stat(
        StatLevel.TAMBON,
        t2.code,
        {"enrolled": 480, "dropped_out": 12, "never_enrolled": 8, "cases_open": 20},
    )
    r3 = _stat(StatLevel.TAMBON, t3.code, {"enrolled": 197, "dropped_out": 2, "never_enrolled": 1})
    _stat(StatLevel.DISTRICT, district_a.code, _sum(r1, r2))
    _stat(StatLevel.DISTRICT, district_b.code, r3)
    _stat(StatLevel.PROVINCE, persona_province.code, _sum(r1, r2, r3))
    _stat(StatLevel.COUNTRY, "TH", _sum(r1, r2, r3))
    by = make(UserFactory)
    point = (t1.geom.centroid.x, t1.geom.centroid.y)
    for _i in range(3):
        household = make(HouseholdFactory, subdistrict=t1, house_no=HOUSE_NO)
        child = make(
            ChildFactory, household=household, first_name=CHILD_NAME, national_id=NATIONAL_ID
        )
        case = make(
            CaseFactory,
            child=child,
            kind=CaseKind.DROPPED_OUT,
            opened_at=dt.datetime(2025, 6, 2, 9, 0, tzinfo=BANGKOK),
        )
        Visit.objects.create(
            case=case,
            by=by,
            at=dt.datetime(2025, 6, 3, 9, 0, tzinfo=BANGKOK),
            outcome=SearchOutcome.NOT_FOUND,
        )
    return World(persona_province, district_a, district_b, t1, t3, point)


@pytest.fixture(autouse=True)
def _k(settings: Any) -> None:
    settings.SUPPRESS_K = 5


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _get(user: User, page: str, fmt: str, **query: Any) -> Any:
    name = "field-gap-export" if page == "gaps" else "field-dashboard-export"
    response = _client(user).get(reverse(name, kwargs={"fmt": fmt}), query)
    assert response.status_code == 200, response.content[:500]
    return response


def _body(response: Any) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def _csv_rows(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf")  # the BOM: Excel opens Thai right
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


# --- every format, for an official and a coordinator -----------------------------------


@pytest.mark.parametrize("persona", ["official", "coordinator"])
def test_the_gap_csv_carries_its_metadata_and_withholds(
    persona: str, request: pytest.FixtureRequest, world: World
) -> None:
    user = request.getfixturevalue(persona)
    response = _get(user, "gaps", "csv", indicator="dropped_out", year=YEAR)
    assert response["Content-Type"].startswith("text/csv")
    disposition = response["Content-Disposition"]
    assert disposition == f'attachment; filename="takhai-gaps-{world.province.code}-{YEAR}.csv"'
    rows = _csv_rows(response.content)
    text = response.content.decode("utf-8-sig")
    assert world.province.code in text and str(YEAR) in text
    assert "(Asia/Bangkok)" in text
    assert any("5" in cell and "x" in cell for row in rows[:8] for cell in row)  # the rule
    by_code = {row[0]: row for row in rows if row and row[0].isdigit()}
    # District B: 2 dropped out, withheld; district A's 52 withheld with it.
    assert by_code[world.district_b.code][4] == "x"
    assert by_code[world.district_a.code][4] == "x"
    # The formula is text: it starts with a quote, and no cell starts with "=".
    assert by_code[world.district_b.code][1] == "'" + FORMULA_NAME
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


@pytest.mark.parametrize("persona", ["official", "coordinator"])
def test_the_gap_xlsx_has_a_sheet_and_the_about_sheet(
    persona: str, request: pytest.FixtureRequest, world: World
) -> None:
    user = request.getfixturevalue(persona)
    response = _get(user, "gaps", "xlsx", indicator="dropped_out")
    assert response["Content-Disposition"].endswith(f'-{world.province.code}-{YEAR}.xlsx"')
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["about", "gaps"]
    about = [[c.value for c in row] for row in book["about"].iter_rows()]
    values = " ".join(str(v) for row in about for v in row)
    assert world.province.code in values and str(YEAR) in values and "Asia/Bangkok" in values
    sheet = book["gaps"]
    rows = {row[0].value: row for row in sheet.iter_rows(min_row=3)}
    assert rows[world.district_b.code][4].value == "x"
    name = rows[world.district_b.code][1]
    # Text, not a formula, and quoted as in the CSV.
    assert name.value == "'" + FORMULA_NAME and name.data_type == "s"


@pytest.mark.parametrize("persona", ["official", "coordinator"])
def test_the_geojson_holds_every_indicator(
    persona: str, request: pytest.FixtureRequest, world: World
) -> None:
    user = request.getfixturevalue(persona)
    body = json.loads(_get(user, "gaps", "geojson").content)
    assert body["metadata"]["area_code"] == world.province.code
    assert body["metadata"]["academic_year"] == YEAR and body["metadata"]["k"] == 5
    props = {f["properties"]["code"]: f["properties"] for f in body["features"]}
    assert set(props) == {world.district_a.code, world.district_b.code}
    a = props[world.district_a.code]
    for key in ("unreached", "never_enrolled", "visited", "zone_coverage", "team_coverage"):
        assert {f"{key}_rate", f"{key}_class", f"{key}_withheld"} <= set(a)
    assert a["n_children"] == 1500 and a["visited_rate"] == 42.9  # 30 of 70
    assert a["unreached_rate"] is None and a["unreached_withheld"] is True  # B's complement
    b = props[world.district_b.code]
    assert b["n_dropped_out"] is None and b["n_dropped_out_withheld"] is True
    assert b["dropped_out_withheld"] is True and b["dropped_out_rate"] is None


@pytest.mark.parametrize("persona", ["official", "coordinator"])
def test_the_geopackage_opens_in_gdal(
    persona: str, request: pytest.FixtureRequest, world: World, tmp_path: Path
) -> None:
    user = request.getfixturevalue(persona)
    response = _get(user, "gaps", "gpkg", area=world.province.code)
    assert response["Content-Disposition"].endswith(f'-{world.province.code}-{YEAR}.gpkg"')
    path = tmp_path / "gaps.gpkg"
    path.write_bytes(_body(response))
    source = DataSource(str(path))
    names = [source[i].name for i in range(source.layer_count)]
    assert names == ["gaps", "about"]
    layer = source["gaps"]
    assert len(layer) == 2 and layer.geom_type.name == "MultiPolygon"
    fields = set(layer.fields)
    assert {"code", "name_th", "n_children", "n_dropped_out", "unreached_rate"} <= fields
    assert {"dropped_out_class", "team_coverage_withheld"} <= fields
    features = {feature.get("code"): feature for feature in layer}
    b = features[world.district_b.code]
    assert b.get("n_dropped_out") is None and b.get("n_dropped_out_withheld")
    assert features[world.district_a.code].get("n_children") == 1500
    about = {str(f.get("item")): str(f.get("value")) for f in source["about"]}
    assert any(world.province.code in value for value in about.values())
    assert any("Asia/Bangkok" in value for value in about.values())
    assert "x" in about.values()


@pytest.mark.parametrize("persona", ["official", "coordinator"])
def test_the_map_report_stands_alone(
    persona: str, request: pytest.FixtureRequest, world: World
) -> None:
    user = request.getfixturevalue(persona)
    response = _get(user, "gaps", "html", indicator="unreached", area=world.district_a.code)
    assert response["Content-Disposition"].endswith(f'-{world.district_a.code}-{YEAR}.html"')
    # Exempt from the site's CSP: the file runs its inlined Leaflet once saved.
    assert "Content-Security-Policy" not in response
    html = response.content.decode()
    leaflet = (Path(settings.BASE_DIR) / "node_modules/leaflet/dist/leaflet.js").read_text()
    assert leaflet[200:400] in html  # inlined, not linked
    assert ".leaflet-container" in html
    # Nothing fetched from outside but the optional tiles.
    assert not re.search(r"<script[^>]*\bsrc=", html)
    assert not re.search(r"<link[^>]*\bhref=", html)
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", html)
    assert "@import" not in html
    assert world.t1.name_th in html and "Asia/Bangkok" in html
    assert "#b30000" in html or "#fef0d9" in html  # the legend's classes


@pytest.mark.parametrize("persona", ["official", "coordinator"])
def test_the_dashboard_csv_and_xlsx(
    persona: str, request: pytest.FixtureRequest, world: World
) -> None:
    user = request.getfixturevalue(persona)
    query = {"area": world.district_a.code, "year": YEAR}
    response = _get(user, "dashboard", "csv", **query)
    assert response["Content-Disposition"] == (
        f'attachment; filename="takhai-dashboard-{world.district_a.code}-{YEAR}.csv"'
    )
    rows = _csv_rows(response.content)
    assert ["2025-06-02", "x", "x", "0"] in rows  # three cases and visits: withheld
    book = load_workbook(io.BytesIO(_get(user, "dashboard", "xlsx", **query).content))
    assert book.sheetnames == ["about", "funnel", "weekly", "top_count", "top_rate", "reasons"]
    funnel = {row[0].value: row[1].value for row in book["funnel"].iter_rows(min_row=3)}
    assert 1500 in funnel.values()
    reasons = [row[1].value for row in book["reasons"].iter_rows(min_row=3)]
    assert "x" in reasons and 3 not in reasons
    about = " ".join(str(c.value) for row in book["about"].iter_rows() for c in row)
    assert world.district_a.code in about and "Asia/Bangkok" in about


# --- who may download what -------------------------------------------------------------


@pytest.mark.parametrize("persona", ["member_a", "volunteer"])
def test_the_field_gets_403(persona: str, request: pytest.FixtureRequest, world: World) -> None:
    client = _client(request.getfixturevalue(persona))
    for fmt in GAP_FORMATS:
        assert client.get(reverse("field-gap-export", kwargs={"fmt": fmt})).status_code == 403
    for fmt in DASHBOARD_FORMATS:
        url = reverse("field-dashboard-export", kwargs={"fmt": fmt})
        assert client.get(url).status_code == 403


def test_another_province_is_refused_as_on_the_pages(official: User, world: World) -> None:
    other = make(SubdistrictFactory, district=make(DistrictFactory, province=make(ProvinceFactory)))
    client = _client(official)
    # Factory sequences may have made any one code: pick one no district has.
    taken = set(District.objects.values_list("code", flat=True))
    missing = next(
        code for n in range(99, 0, -1) if (code := f"{world.province.code}{n:02d}") not in taken
    )
    for fmt in GAP_FORMATS:
        url = reverse("field-gap-export", kwargs={"fmt": fmt})
        page = client.get(reverse("field-gaps"), {"area": other.code[:4]}).status_code
        assert client.get(url, {"area": other.code[:4]}).status_code == page == 403
        assert client.get(url, {"area": missing}).status_code == 404
        assert client.get(url, {"area": "4x"}).status_code == 400
    for fmt in DASHBOARD_FORMATS:
        url = reverse("field-dashboard-export", kwargs={"fmt": fmt})
        assert client.get(url, {"area": other.code[:2]}).status_code == 403
    assert client.get("/gaps/export.pdf").status_code == 404
    assert client.get("/dashboard/export.gpkg").status_code == 404


def test_anonymous_goes_to_log_in(client: Client, world: World) -> None:
    response = client.get(reverse("field-gap-export", kwargs={"fmt": "csv"}))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- nothing personal ------------------------------------------------------------------


def test_no_export_names_anyone_or_places_a_home(official: User, world: World) -> None:
    lon, lat = world.point
    personal = [
        CHILD_NAME.encode(),
        NATIONAL_ID.encode(),
        HOUSE_NO.encode(),
        f"{lon:.4f}".encode(),
        f"{lat:.4f}".encode(),
    ]
    files = [
        _body(_get(official, "gaps", fmt, area=area))
        for fmt in GAP_FORMATS
        for area in (world.province.code, world.district_a.code)
    ]
    files += [
        _get(official, "dashboard", fmt, area=area).content
        for fmt in DASHBOARD_FORMATS
        for area in (world.province.code, world.district_a.code, world.t1.code)
    ]
    for content in files:
        for value in personal:
            assert value not in content
    # The XLSX is zipped: read its cells as text.
    book = load_workbook(io.BytesIO(_get(official, "dashboard", "xlsx").content))
    text = " ".join(str(c.value) for sheet in book for row in sheet.iter_rows() for c in row)
    assert CHILD_NAME not in text and NATIONAL_ID not in text and HOUSE_NO not in text
    props = json.loads(_get(official, "gaps", "geojson").content)["features"][0]["properties"]
    assert not {k for k in props if re.search(r"lat|lon|house|child_name|national|point", k)}


def test_the_pages_link_their_downloads(official: User, world: World) -> None:
    client = _client(official)
    gaps = client.get(reverse("field-gaps"), {"area": world.district_a.code}).content.decode()
    for fmt in GAP_FORMATS:
        url = reverse("field-gap-export", kwargs={"fmt": fmt})
        assert f'href="{url}?area={world.district_a.code}"' in gaps
    board = client.get(reverse("field-dashboard"), {"year": YEAR}).content.decode()
    for fmt in DASHBOARD_FORMATS:
        url = reverse("field-dashboard-export", kwargs={"fmt": fmt})
        assert f'href="{url}?area={world.province.code}&amp;year={YEAR}"' in board


def test_the_country_is_named_th(admin_user: User, world: World, tmp_path: Path) -> None:
    response = _get(admin_user, "gaps", "gpkg")
    assert response["Content-Disposition"].endswith(f'takhai-gaps-TH-{YEAR}.gpkg"')
    path = tmp_path / "country.gpkg"
    path.write_bytes(_body(response))
    codes = [feature.get("code") for feature in DataSource(str(path))["gaps"]]
    assert world.province.code in codes
    html = _get(admin_user, "gaps", "html").content.decode()
    assert world.province.name_th in html
