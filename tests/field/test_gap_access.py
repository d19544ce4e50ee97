"""Access to school on the officials' gap map: the two indicators (far from a
primary or a secondary school, per 1,000 children of that age), their suppression,
an end-to-end count from households and schools, and ``/gaps/schools.json``:
cells below zoom 10, schools from it, the user's area only, the cap, the cost."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.contrib.gis.geos import Point
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from factories import (
    TEST_ACADEMIC_YEAR,
    ChildFactory,
    ChildYearFactory,
    DistrictFactory,
    HouseholdFactory,
    ProfileFactory,
    ProvinceFactory,
    SchoolFactory,
    SubdistrictFactory,
    UserFactory,
    make,
)

from field import school_layer_selectors
from field.gap_selectors import INDICATORS, QUANTITIES, QUANTITY_LABELS
from field.models import AREA_STAT_COUNTS, AreaStat, Role, School, SchoolLevel, StatLevel
from field.services.stats import stats_refresh
from geo.models import District, Province, Subdistrict

YEAR = TEST_ACADEMIC_YEAR
ACCESS = ("age_primary", "far_primary", "age_secondary", "far_secondary")


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _get(user: User, name: str, **query: Any) -> dict[str, Any]:
    response = _client(user).get(reverse(name), query)
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    return body


def _by_code(layer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["properties"]["code"]: f["properties"] for f in layer["features"]}


@pytest.fixture
def administrator(db: None) -> User:
    user = make(UserFactory, username="admin")
    make(ProfileFactory, user=user, role=Role.ADMINISTRATOR)
    return user


# --- the indicators, from hand-built counts ---------------------------------------------

# (children in the window, age_primary, far_primary, age_secondary, far_secondary)
# Tambon 1: 400 children of 6-11 with a located home, 60 of them farther than the
# primary distance: 150 per 1,000; 300 of 12-17, 90 far: 300 per 1,000.
# Tambon 2: 200 of 6-11, none far: 0; 150 of 12-17, 30 far: 200 per 1,000.
# District A: 60 of 600 (100), 120 of 450 (266.7).
# Tambon 3 (district B): 2 of 80 far from primary: withheld.
T1 = (1000, 400, 60, 300, 90)
T2 = (500, 200, 0, 150, 30)
T3 = (200, 80, 2, 60, 12)


def _stat(level: StatLevel, code: str, counts: tuple[int, ...]) -> tuple[int, ...]:
    children, *access = counts
    AreaStat.objects.create(
        academic_year=YEAR,
        level=level,
        code=code,
        children_in_window=children,
        enrolled=children,
        refreshed_at=timezone.now(),
        **dict(zip(ACCESS, access, strict=True)),
    )
    return counts


def _sum(*rows: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(sum(column) for column in zip(*rows, strict=True))


@dataclass
class AccessWorld:
    province: Province
    district_a: District
    district_b: District
    t1: Subdistrict
    t2: Subdistrict
    t3: Subdistrict


@pytest.fixture
def access_world(
    persona_province: Province, persona_districts: tuple[District, District]
) -> AccessWorld:
    district_a, district_b = persona_districts
    t1, t2 = (make(SubdistrictFactory, district=district_a) for _ in range(2))
    t3 = make(SubdistrictFactory, district=district_b)
    rows = [_stat(StatLevel.TAMBON, t.code, c) for t, c in ((t1, T1), (t2, T2), (t3, T3))]
    _stat(StatLevel.DISTRICT, district_a.code, _sum(rows[0], rows[1]))
    _stat(StatLevel.DISTRICT, district_b.code, rows[2])
    _stat(StatLevel.PROVINCE, persona_province.code, _sum(*rows))
    _stat(StatLevel.COUNTRY, "TH", _sum(*rows))
    return AccessWorld(persona_province, district_a, district_b, t1, t2, t3)


def test_the_access_indicators_are_published(official: User, access_world: AccessWorld) -> None:
    w = access_world
    primary = _get(official, "field-gap-layer", area=w.district_a.code, indicator="far_primary")
    areas = _by_code(primary)
    assert areas[w.t1.code]["value"] == 150.0
    assert areas[w.t2.code]["value"] == 0.0
    assert areas[w.t1.code]["counts"]["far_primary"] == 60
    assert areas[w.t1.code]["counts"]["age_primary"] == 400
    assert areas[w.t1.code]["class"] > areas[w.t2.code]["class"]
    assert primary["total"]["value"] == 100.0
    assert primary["indicator"]["numerator"] == "far_primary"
    assert primary["indicator"]["denominator"] == "age_primary"
    secondary = _get(official, "field-gap-layer", area=w.district_a.code, indicator="far_secondary")
    areas = _by_code(secondary)
    assert areas[w.t1.code]["value"] == 300.0
    assert areas[w.t2.code]["value"] == 200.0
    assert secondary["total"]["value"] == 266.7


def test_the_hidden_complements_are_never_published(
    official: User, access_world: AccessWorld
) -> None:
    layer = _get(official, "field-gap-layer", area=access_world.district_a.code)
    counts = layer["features"][0]["properties"]["counts"]
    assert set(counts) == set(QUANTITIES)
    assert not {"near_primary", "near_secondary", "children_other_ages"} & set(counts)
    assert set(QUANTITY_LABELS) == set(QUANTITIES)


def test_a_small_far_count_is_withheld_with_its_complement(
    official: User, access_world: AccessWorld
) -> None:
    """Tambon 3 has 2 children far from a primary school, so district B has 2: "x".
    District A's 60 are withheld too, or the province's 62 would give B's back; the
    children of primary age stay published (their near part is not published)."""
    w = access_world
    layer = _get(official, "field-gap-layer", indicator="far_primary")
    areas = _by_code(layer)
    a, b = areas[w.district_a.code], areas[w.district_b.code]
    assert b["counts"]["far_primary"] is None and b["withheld"] and b["value"] is None
    assert a["counts"]["far_primary"] is None and a["withheld"]
    assert layer["total"]["counts"]["far_primary"] == 62
    assert layer["total"]["value"] == 91.2  # 62 of 680
    assert a["counts"]["age_primary"] == 600 and b["counts"]["age_primary"] == 80
    # Far from secondary is large enough everywhere.
    assert b["counts"]["far_secondary"] == 12 and a["counts"]["far_secondary"] == 120
    for key in ("far_primary", "age_primary", "far_secondary", "age_secondary"):
        members = [a["counts"][key], b["counts"][key], layer["total"]["counts"][key]]
        assert members.count(None) != 1, key


def test_the_children_of_no_access_age_cannot_be_subtracted(
    official: User, access_world: AccessWorld
) -> None:
    """Window minus primary age minus secondary age is the children of other ages or
    with no located home: 3 in a new tambon 4 (200 - 80 - 117), so one of the three
    published counts is withheld with it."""
    t4 = make(SubdistrictFactory, district=access_world.district_b)
    _stat(StatLevel.TAMBON, t4.code, (200, 80, 10, 117, 20))
    layer = _get(official, "field-gap-layer", area=access_world.district_b.code)
    counts = _by_code(layer)[t4.code]["counts"]
    published = [counts[k] for k in ("children", "age_primary", "age_secondary")]
    assert published.count(None) >= 1


def test_the_explanation_states_the_configured_distances(
    official: User, access_world: AccessWorld, settings: Any
) -> None:
    settings.SCHOOL_DISTANCE_PRIMARY_M = 2500
    settings.SCHOOL_DISTANCE_SECONDARY_M = 4000
    with translation.override("en"):
        assert "2.5 km" in str(INDICATORS["far_primary"].explanation)
        assert "4 km" in str(INDICATORS["far_secondary"].explanation)
    layer = _get(official, "field-gap-layer", indicator="far_primary")
    assert "2.5" in layer["indicator"]["explanation"]


def test_the_exports_carry_the_access_indicators(official: User, access_world: AccessWorld) -> None:
    response = _client(official).get(reverse("field-gap-export", args=["geojson"]))
    assert response.status_code == 200
    body = json.loads(response.content)
    props = {f["properties"]["code"]: f["properties"] for f in body["features"]}
    b = props[access_world.district_b.code]
    assert b["n_age_primary"] == 80 and b["far_primary_withheld"] is True
    assert b["far_secondary_rate"] == 200.0  # 12 of 60
    assert not any(key.startswith("n_near") for key in b)
    assert "far_primary_rate" in body["metadata"]["fields"]


# --- end to end: households, schools, a refresh, the layer -------------------------------


def _project(origin: Point, metres: float, azimuth_degrees: float) -> Point:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Project(ST_GeomFromEWKT(%s)::geography, "
            "%s, radians(%s))::geometry AS p) AS projected",
            [origin.ewkt, metres, azimuth_degrees],
        )
        x, y = cursor.fetchone()
    return Point(x, y, srid=4326)


def test_the_map_shows_what_the_refresh_measured(
    official: User, persona_districts: tuple[District, District], settings: Any
) -> None:
    """Two homes in one tambon, four children of 6-11 and two of 12-14 (two at each
    home but one). The primary school is 2.9 km from the west home, 3.4 km from the
    east one; the lower-secondary school 4.7 km from the west home and 5.2 km from
    the east one. So 3 of 4 primary children are near (the east home's one is far):
    250 per 1,000; 1 of 2 secondary children is far: 500 per 1,000."""
    settings.SUPPRESS_K = 1
    tambon = make(SubdistrictFactory, district=persona_districts[0])
    west = tambon.geom.centroid
    east = _project(west, 500, 90)
    homes = [make(HouseholdFactory, subdistrict=tambon, point=p) for p in (west, east)]
    for home, ages in ((homes[0], (7, 9, 11, 13)), (homes[1], (8, 12))):
        for age in ages:
            make(ChildYearFactory, child=make(ChildFactory, household=home), age=age)
    make(SchoolFactory, point=_project(west, 2_900, 270), levels=[SchoolLevel.PRIMARY])
    make(SchoolFactory, point=_project(west, 4_700, 270), levels=[SchoolLevel.LOWER_SECONDARY])
    stats_refresh(academic_year=YEAR)

    layer = _get(official, "field-gap-layer", area=tambon.code[:4], indicator="far_primary")
    counts = _by_code(layer)[tambon.code]["counts"]
    assert [counts[k] for k in ACCESS] == [4, 1, 2, 1]
    assert _by_code(layer)[tambon.code]["value"] == 250.0
    layer = _get(official, "field-gap-layer", area=tambon.code[:4], indicator="far_secondary")
    assert _by_code(layer)[tambon.code]["value"] == 500.0


# --- /gaps/schools.json ----------------------------------------------------------------


@dataclass
class SchoolWorld:
    t1: Subdistrict
    t3: Subdistrict
    primary: School
    both: School
    upper: School
    vocational: School
    other_province: School


@pytest.fixture
def school_world(persona_districts: tuple[District, District]) -> SchoolWorld:
    """Three schools in tambon 1 (district A), one in tambon 3 (district B), one
    without a point in tambon 1, one in another province. All of them in one cell at
    zoom 5 (2.8125 degrees: 101.25-104.0625 E, 2.8125-5.625 N)."""
    t1 = make(SubdistrictFactory, district=persona_districts[0])
    t3 = make(SubdistrictFactory, district=persona_districts[1])
    x, y = t1.geom.centroid.coords
    tx, ty = t3.geom.centroid.coords

    def school(tambon: Subdistrict, point: Point | None, *levels: SchoolLevel) -> School:
        return make(
            SchoolFactory, subdistrict=tambon, point=point, levels=list(levels), students=120
        )

    elsewhere = make(
        SubdistrictFactory, district=make(DistrictFactory, province=make(ProvinceFactory))
    )
    ex, ey = elsewhere.geom.centroid.coords
    world = SchoolWorld(
        t1=t1,
        t3=t3,
        primary=school(t1, Point(x, y, srid=4326), SchoolLevel.PREPRIMARY, SchoolLevel.PRIMARY),
        both=school(
            t1,
            Point(x + 0.001, y, srid=4326),
            SchoolLevel.PRIMARY,
            SchoolLevel.LOWER_SECONDARY,
        ),
        upper=school(t1, Point(x, y + 0.001, srid=4326), SchoolLevel.UPPER_SECONDARY),
        vocational=school(t3, Point(tx, ty, srid=4326), SchoolLevel.VOCATIONAL),
        other_province=school(elsewhere, Point(ex, ey, srid=4326), SchoolLevel.PRIMARY),
    )
    school(t1, None, SchoolLevel.PRIMARY)
    return world


THAILAND = "97.0,5.0,106.0,21.0"
NEAR = "101.9,4.9,103.5,5.2"


def _schools(user: User, bbox: str, zoom: int) -> dict[str, Any]:
    return _get(user, "field-gap-schools", bbox=bbox, zoom=zoom)


def test_below_zoom_10_the_schools_come_as_cells(official: User, school_world: SchoolWorld) -> None:
    layer = _schools(official, "97.0,2.0,106.0,21.0", 5)
    assert layer["kind"] == "cells" and layer["cell"] == 2.8125 and not layer["truncated"]
    [cell] = layer["features"]
    assert cell["properties"] == {"schools": 4, "primary": 2, "secondary": 3}
    ring = cell["geometry"]["coordinates"][0]
    assert ring[0] == [101.25, 2.8125] and ring[2] == [104.0625, 5.625]
    # The cell on the box's edge counts all its schools, not those inside the box.
    edge = _schools(official, "103.0,5.5,110.0,21.0", 5)
    assert [f["properties"]["schools"] for f in edge["features"]] == [4]
    # Smaller cells at zoom 9: the same schools, in cells of a quarter of a tile.
    finer = _schools(official, NEAR, 9)
    assert finer["cell"] == 360 / 2**9 / 4
    assert sum(f["properties"]["schools"] for f in finer["features"]) == 4


def test_from_zoom_10_the_schools_themselves(official: User, school_world: SchoolWorld) -> None:
    w = school_world
    layer = _schools(official, NEAR, 10)
    assert layer["kind"] == "schools" and layer["cell"] is None
    schools = {f["properties"]["code"]: f for f in layer["features"]}
    assert set(schools) == {w.primary.code, w.both.code, w.upper.code, w.vocational.code}
    both = schools[w.both.code]
    assert both["geometry"]["type"] == "Point"
    assert both["properties"] == {
        "code": w.both.code,
        "name": w.both.name,
        "affiliation": "obec",
        "levels": ["primary", "lower_secondary"],
        "students": 120,
        "primary": True,
        "secondary": True,
    }
    assert schools[w.primary.code]["properties"]["secondary"] is False
    assert schools[w.upper.code]["properties"]["primary"] is False
    # The box: tambon 3 lies outside this one.
    x0, y0, x1, y1 = w.t1.geom.extent
    inside = _schools(official, f"{x0},{y0},{x1},{y1}", 14)
    assert {f["properties"]["code"] for f in inside["features"]} == {
        w.primary.code,
        w.both.code,
        w.upper.code,
    }


def test_only_the_schools_of_the_users_area(
    administrator: User,
    official: User,
    school_world: SchoolWorld,
    persona_province: Province,
    persona_districts: tuple[District, District],
) -> None:
    w = school_world
    everywhere = {f["properties"]["code"] for f in _schools(administrator, NEAR, 12)["features"]}
    assert w.other_province.code in everywhere and len(everywhere) == 5
    cells = _schools(administrator, "97.0,2.0,106.0,21.0", 5)["features"]
    assert sum(c["properties"]["schools"] for c in cells) == 5
    mine = {f["properties"]["code"] for f in _schools(official, NEAR, 12)["features"]}
    assert w.other_province.code not in mine and len(mine) == 4
    # A coordinator of district A alone.
    user = make(UserFactory, username="coordinator_a")
    make(
        ProfileFactory,
        user=user,
        role=Role.COORDINATOR,
        province=persona_province,
        districts=[persona_districts[0]],
    )
    narrowed = {f["properties"]["code"] for f in _schools(user, NEAR, 12)["features"]}
    assert narrowed == {w.primary.code, w.both.code, w.upper.code}
    cells = _schools(user, "97.0,2.0,106.0,21.0", 5)["features"]
    assert [c["properties"] for c in cells] == [{"schools": 3, "primary": 2, "secondary": 2}]


@pytest.mark.parametrize(
    ("persona", "status"),
    [("coordinator", 200), ("official", 200), ("member_a", 403), ("volunteer", 403)],
)
def test_schools_by_role(
    persona: str, status: int, request: pytest.FixtureRequest, school_world: SchoolWorld
) -> None:
    client = _client(request.getfixturevalue(persona))
    query: dict[str, Any] = {"bbox": NEAR, "zoom": 12}
    assert client.get(reverse("field-gap-schools"), query).status_code == status
    assert client.get(reverse("field-gap-schools"), {**query, "zoom": 6}).status_code == status


def test_the_anonymous_are_sent_to_log_in(db: None) -> None:
    response = Client().get(reverse("field-gap-schools"), {"bbox": NEAR, "zoom": "12"})
    assert response.status_code == 302


@pytest.mark.parametrize(
    "query",
    [
        {"zoom": 12},
        {"bbox": NEAR},
        {"bbox": "1,2,3", "zoom": 12},
        {"bbox": "103,5,102,6", "zoom": 12},
        {"bbox": "a,b,c,d", "zoom": 12},
        {"bbox": "nan,5,102,6", "zoom": 12},
        {"bbox": "100,-95,102,6", "zoom": 12},
        {"bbox": NEAR, "zoom": 21},
        {"bbox": NEAR, "zoom": "x"},
    ],
)
def test_a_bad_box_or_zoom_is_400(official: User, query: dict[str, Any]) -> None:
    assert _client(official).get(reverse("field-gap-schools"), query).status_code == 400


def test_the_features_are_capped_and_the_cut_said(
    official: User, school_world: SchoolWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(school_layer_selectors, "MAX_FEATURES", 2)
    layer = _schools(official, NEAR, 12)
    assert layer["truncated"] is True and layer["limit"] == 2 and len(layer["features"]) == 2
    cells = _schools(official, NEAR, 5)
    assert cells["truncated"] is False and len(cells["features"]) == 1
    monkeypatch.undo()
    assert _schools(official, NEAR, 12)["limit"] == 10_000


def test_schools_cost_the_same_queries_however_many(
    official: User,
    school_world: SchoolWorld,
    django_assert_num_queries: Any,
) -> None:
    client = _client(official)
    url = reverse("field-gap-schools")
    client.get(url, {"bbox": NEAR, "zoom": "12"})  # the session's first read of its user

    def count_both() -> tuple[int, int]:
        sizes = []
        for zoom in (12, 6):
            # Session, user, scope, then one query for the schools or the cells.
            query: dict[str, Any] = {"bbox": NEAR, "zoom": zoom}
            with django_assert_num_queries(4):
                response = client.get(url, query)
            assert response.status_code == 200
            body = response.json()
            sizes.append(
                len(body["features"])
                if zoom == 12
                else sum(f["properties"]["schools"] for f in body["features"])
            )
        return sizes[0], sizes[1]

    assert count_both() == (4, 4)
    x, y = school_world.t1.geom.centroid.coords
    for i in range(60):
        make(
            SchoolFactory,
            subdistrict=school_world.t1,
            point=Point(x + i * 0.0001, y - 0.002, srid=4326),
        )
    assert count_both() == (64, 64)


_PERSONAL = ("national", "household", "child", "birth", "address", "house", "phone", "case")


def test_the_schools_layer_holds_no_personal_data(
    official: User, school_world: SchoolWorld
) -> None:
    for zoom in (6, 12):
        text = json.dumps(_schools(official, NEAR, zoom))
        assert not any(re.search(rf'"[a-z_]*{word}[a-z_]*":', text) for word in _PERSONAL)


def test_the_page_hands_the_distances_to_the_map(official: User, settings: Any) -> None:
    settings.SCHOOL_DISTANCE_PRIMARY_M = 2500
    response = _client(official).get(reverse("field-gaps"))
    assert response.status_code == 200
    html = response.content.decode()
    data = json.loads(
        re.search(r'<script id="gaps-data" type="application/json">(.*?)</script>', html, re.S)[1]  # type: ignore[index]
    )
    assert data["schools"]["url"] == reverse("field-gap-schools")
    assert data["schools"]["distances"] == {"primary": 2500, "secondary": 5000}
    assert data["schools"]["pointZoom"] == 10
    assert set(AREA_STAT_COUNTS) >= set(ACCESS)
