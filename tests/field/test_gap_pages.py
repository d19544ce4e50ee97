"""The officials' gap map: indicators from hand-built AreaStat rows, suppression,
who may open what, nothing personal in the layer, and its cost in queries."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from factories import (
    TEST_ACADEMIC_YEAR,
    DistrictFactory,
    ProfileFactory,
    ProvinceFactory,
    SubdistrictFactory,
    UserFactory,
    make,
)

from field.models import AreaStat, Role, StatLevel
from geo.models import District, Province, Subdistrict

YEAR = TEST_ACADEMIC_YEAR
_STAT_FIELDS = (
    "enrolled",
    "dropped_out",
    "never_enrolled",
    "graduated",
    "in_review",
    "compulsory_age",
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
    full = {name: counts.get(name, 0) for name in _STAT_FIELDS}
    window = sum(
        full[n] for n in ("enrolled", "dropped_out", "never_enrolled", "graduated", "in_review")
    )
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
    return {name: sum(row[name] for row in rows) for name in _STAT_FIELDS}


@dataclass
class GapWorld:
    province: Province
    district_a: District
    district_b: District
    t1: Subdistrict
    t2: Subdistrict
    t3: Subdistrict


# Tambon 1: 1,000 children, 100 out of school (40 dropped out, 60 never enrolled);
# 50 open cases, 30 visited, 20 of them found; 40 homes, 20 in a zone, 10 in a
# team's area. Tambon 2: 500 children, 20 out of school (12 + 8); 16 homes, in no
# zone and no team's area. Tambon 3 (district B): 200 children, 3 out of school.
T1 = {
    "enrolled": 900,
    "dropped_out": 40,
    "never_enrolled": 60,
    "cases_open": 50,
    "cases_visited": 10,
    "cases_found": 15,
    "cases_resolved": 5,
    "cases_brought_back": 10,
    "unreached_households": 40,
    "unreached_in_zone": 20,
    "unreached_in_team_area": 10,
}
T2 = {
    "enrolled": 480,
    "dropped_out": 12,
    "never_enrolled": 8,
    "cases_open": 20,
    "cases_visited": 5,
    "cases_found": 5,
    "cases_brought_back": 6,
    "unreached_households": 16,
}
T3 = {"enrolled": 197, "dropped_out": 2, "never_enrolled": 1}
# Children and cases whose household has no tambon: in the country row only.
UNPLACED = {"enrolled": 25, "dropped_out": 3, "never_enrolled": 2}


@pytest.fixture
def gap_world(persona_province: Province, persona_districts: tuple[District, District]) -> GapWorld:
    district_a, district_b = persona_districts
    t1 = make(SubdistrictFactory, district=district_a)
    t2 = make(SubdistrictFactory, district=district_a)
    t3 = make(SubdistrictFactory, district=district_b)
    rows = [_stat(StatLevel.TAMBON, t.code, c) for t, c in ((t1, T1), (t2, T2), (t3, T3))]
    _stat(StatLevel.DISTRICT, district_a.code, _sum(rows[0], rows[1]))
    _stat(StatLevel.DISTRICT, district_b.code, rows[2])
    province = _sum(*rows)
    _stat(StatLevel.PROVINCE, persona_province.code, province)
    _stat(StatLevel.COUNTRY, "TH", _sum(province, {n: UNPLACED.get(n, 0) for n in _STAT_FIELDS}))
    return GapWorld(persona_province, district_a, district_b, t1, t2, t3)


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def administrator(db: None) -> User:
    user = make(UserFactory, username="admin")
    make(ProfileFactory, user=user, role=Role.ADMINISTRATOR)
    return user


def _layer(user: User, **query: Any) -> dict[str, Any]:
    response = _client(user).get(reverse("field-gap-layer"), query)
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    return body


def _by_code(layer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["properties"]["code"]: f["properties"] for f in layer["features"]}


# --- indicators -------------------------------------------------------------------------


def test_the_unreached_rate_per_thousand_per_tambon(official: User, gap_world: GapWorld) -> None:
    layer = _layer(official, area=gap_world.district_a.code, indicator="unreached")
    areas = _by_code(layer)
    assert layer["year"] == YEAR and layer["childLevel"] == "tambon"
    assert areas[gap_world.t1.code]["value"] == 100.0
    assert areas[gap_world.t2.code]["value"] == 40.0
    assert areas[gap_world.t1.code]["counts"]["children"] == 1000
    assert areas[gap_world.t1.code]["counts"]["unreached"] == 100
    # Two areas, two classes: the higher rate in the higher one.
    assert areas[gap_world.t1.code]["class"] > areas[gap_world.t2.code]["class"]
    assert layer["total"]["value"] == 80.0  # 120 of 1,500
    assert layer["features"][0]["geometry"]["type"] == "MultiPolygon"


def test_search_progress_is_a_share_of_the_open_cases(official: User, gap_world: GapWorld) -> None:
    area = gap_world.district_a.code
    visited = _by_code(_layer(official, area=area, indicator="visited"))
    found = _by_code(_layer(official, area=area, indicator="found"))
    back = _by_code(_layer(official, area=area, indicator="brought_back"))
    assert visited[gap_world.t1.code]["value"] == 60.0  # 30 of 50 visited at least once
    assert found[gap_world.t1.code]["value"] == 40.0  # 20 of 50 found (resolved included)
    assert back[gap_world.t1.code]["value"] == 10.0  # 10 per 100 out of school
    assert visited[gap_world.t2.code]["value"] == 50.0  # 10 of 20


def test_coverage_lists_areas_nobody_covers_first(official: User, gap_world: GapWorld) -> None:
    layer = _layer(official, area=gap_world.district_a.code, indicator="zone_coverage")
    codes = [f["properties"]["code"] for f in layer["features"]]
    areas = _by_code(layer)
    assert codes[0] == gap_world.t2.code and areas[gap_world.t2.code]["uncovered"]
    assert areas[gap_world.t2.code]["value"] == 0.0
    assert areas[gap_world.t1.code]["value"] == 50.0 and not areas[gap_world.t1.code]["uncovered"]
    team = _by_code(_layer(official, area=gap_world.district_a.code, indicator="team_coverage"))
    assert team[gap_world.t1.code]["value"] == 25.0
    # Other indicators keep the order of the codes.
    other = _layer(official, area=gap_world.district_a.code, indicator="unreached")
    assert [f["properties"]["code"] for f in other["features"]] == sorted(codes)


def test_quantile_classes_can_be_chosen(official: User, gap_world: GapWorld) -> None:
    layer = _layer(
        official, area=gap_world.district_a.code, indicator="unreached", method="quantiles"
    )
    assert layer["method"] == "quantiles" and layer["breaks"]
    assert _client(official).get(reverse("field-gap-layer"), {"method": "x"}).status_code == 400


# --- suppression ------------------------------------------------------------------------


def test_small_counts_are_withheld_with_a_complement(official: User, gap_world: GapWorld) -> None:
    """District B's tambon has 2 dropped out and 1 never enrolled: withheld. In the
    province view, district B's counts are withheld, and so is one count of
    district A that would otherwise give them back through the province total."""
    layer = _layer(official, indicator="dropped_out")
    areas = _by_code(layer)
    a, b = areas[gap_world.district_a.code], areas[gap_world.district_b.code]
    assert b["counts"]["dropped_out"] is None and b["counts"]["never_enrolled"] is None
    assert b["withheld"] and b["value"] is None and b["class"] is None
    # The complement: district A's 52 dropped out are published as "x" too,
    # although 52 is far above k, because province - A would be B.
    assert a["counts"]["dropped_out"] is None and a["withheld"]
    assert layer["total"]["counts"]["dropped_out"] == 54
    # Every relation is left with none or at least two withheld members.
    for key in ("dropped_out", "never_enrolled", "unreached", "children"):
        members = [a["counts"][key], b["counts"][key], layer["total"]["counts"][key]]
        assert members.count(None) != 1, key


def test_the_country_view_keeps_the_unplaced_apart(
    administrator: User, gap_world: GapWorld
) -> None:
    layer = _layer(administrator, indicator="unreached")
    province = _by_code(layer)[gap_world.province.code]
    assert province["counts"]["children"] == 1700
    assert layer["total"]["counts"]["children"] == 1730
    assert layer["unplaced"]["counts"]["children"] == 30
    assert layer["unplaced"]["counts"]["dropped_out"] is None  # 3 < k


def test_k_comes_from_the_settings(official: User, gap_world: GapWorld, settings: Any) -> None:
    settings.SUPPRESS_K = 1
    areas = _by_code(_layer(official, indicator="dropped_out"))
    assert areas[gap_world.district_b.code]["counts"]["dropped_out"] == 2
    assert _layer(official)["k"] == 1


# --- who may open what ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "status"),
    [("coordinator", 200), ("official", 200), ("member_a", 403), ("volunteer", 403)],
)
def test_pages_by_role(
    persona: str, status: int, request: pytest.FixtureRequest, gap_world: GapWorld
) -> None:
    client = _client(request.getfixturevalue(persona))
    assert client.get(reverse("field-gaps")).status_code == status
    assert client.get(reverse("field-gap-layer")).status_code == status


def test_the_administrator_may_open_the_country(administrator: User, gap_world: GapWorld) -> None:
    html = _client(administrator).get(reverse("field-gaps")).content.decode()
    assert 'id="gap-map"' in html and "static/leaflet/leaflet.js" in html
    assert _layer(administrator)["childLevel"] == "province"


def test_an_official_cannot_open_another_province(official: User, gap_world: GapWorld) -> None:
    other = make(SubdistrictFactory, district=make(DistrictFactory, province=make(ProvinceFactory)))
    client = _client(official)
    for code in (other.code, other.code[:4], other.code[:2]):
        assert client.get(reverse("field-gaps"), {"area": code}).status_code == 403
        assert client.get(reverse("field-gap-layer"), {"area": code}).status_code == 403
    assert client.get(reverse("field-gap-layer"), {"area": "4x"}).status_code == 400
    # In the province but not there at all.
    # Factory sequences may have made any one code: pick one no district has.
    taken = set(District.objects.values_list("code", flat=True))
    missing = next(
        code for n in range(99, 0, -1) if (code := f"{gap_world.province.code}{n:02d}") not in taken
    )
    assert client.get(reverse("field-gap-layer"), {"area": missing}).status_code == 404
    # The official's widest area is their province, not the country.
    assert _layer(official)["area"]["code"] == gap_world.province.code


def test_a_tambon_opens_its_district(official: User, gap_world: GapWorld) -> None:
    layer = _layer(official, area=gap_world.t1.code)
    assert layer["area"]["code"] == gap_world.district_a.code


# Keys that would name a person or place a home; "name_th"/"name_en" are areas' names.
_PERSONAL = (
    "national",
    "household",
    "point",
    "lat",
    "lon",
    "address",
    "birth",
    "first_name",
    "last_name",
    "child_name",
    "house",
    "moo",
    "person",
    "phone",
    "case_id",
)


def _keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from _keys(item)


def test_the_layer_holds_nothing_personal(official: User, gap_world: GapWorld) -> None:
    for area in (None, gap_world.district_a.code, gap_world.district_b.code):
        for indicator in ("unreached", "zone_coverage", "visited"):
            query = {"indicator": indicator, **({"area": area} if area else {})}
            layer = _layer(official, **query)
            keys = set(_keys(layer))
            assert not {k for k in keys if any(word in k.lower() for word in _PERSONAL)}
            assert {"id", "pk", "name"} & set(_keys(layer["features"])) == set()
            assert all(f["geometry"]["type"] == "MultiPolygon" for f in layer["features"])
            assert {f["properties"]["code"] for f in layer["features"]} <= {
                gap_world.district_a.code,
                gap_world.district_b.code,
                gap_world.t1.code,
                gap_world.t2.code,
                gap_world.t3.code,
            }
    text = json.dumps(_layer(official), ensure_ascii=False)
    assert "ทดสอบ" in text  # the areas' names are there: they are public


# --- cost ----------------------------------------------------------------------------


def test_the_layer_costs_the_same_queries_at_every_level(
    administrator: User, gap_world: GapWorld, django_assert_num_queries: Any
) -> None:
    client = _client(administrator)
    url = reverse("field-gap-layer")
    client.get(url)  # the session's first read of its user
    # Session, user, scope, then the area (none for the country: it needs no lookup
    # but a fixed extent) and one query for the counts, the parent's and the polygons.
    with django_assert_num_queries(4):
        assert client.get(url).status_code == 200
    with django_assert_num_queries(5):
        assert client.get(url, {"area": gap_world.province.code}).status_code == 200
    with django_assert_num_queries(5):
        assert client.get(url, {"area": gap_world.district_a.code}).status_code == 200
