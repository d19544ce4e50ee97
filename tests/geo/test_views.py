"""The home map page and the boundary GeoJSON endpoint."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.gis.geos import MultiPolygon, Polygon
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from pytest_django import DjangoAssertNumQueries

from geo import map_data
from geo.models import Province

# Khon Kaen's Mueang district and its tambon Nai Mueang (ในเมือง), around the city hall.
MUEANG_KHON_KAEN_BOX = "102.829,16.429,102.831,16.431"
KHON_KAEN_BOX = "101.6,15.6,103.2,17.1"
THAILAND_BOX = "97.3,5.6,105.7,20.5"
# The national view must stay light for tablets on a weak signal (measured: 37 KB
# raw, 8 KB gzipped at zoom 6 with the shared COD-AB files).
NATIONAL_VIEW_BUDGET_BYTES = 64_000


@pytest.fixture(scope="module", autouse=True)
def _thai_catalog() -> None:
    """Compiles the Thai catalog if it is missing or older than its source.

    The .mo files are build output (git-ignored); a fresh checkout has none, and
    the Thai-first assertions below would fail for a reason that is not theirs.
    """
    po = Path(settings.BASE_DIR) / "locale" / "th" / "LC_MESSAGES" / "django.po"
    mo = po.with_suffix(".mo")
    if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
        call_command("compilemessages", locale=["th"], ignore_patterns=[".venv", "node_modules"])


Params = dict[str, str | int]
NATIONAL_PARAMS: Params = {"bbox": THAILAND_BOX, "zoom": 6}


def _get(client: Client, level: str, **params: str | int) -> Any:
    return client.get(reverse("geo-boundaries", args=[level]), params)


def _collection(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.content
    data: dict[str, Any] = json.loads(response.content)
    return data


def _vertex_count(geometry: dict[str, Any]) -> int:
    assert geometry["type"] == "MultiPolygon"
    return sum(len(ring) for polygon in geometry["coordinates"] for ring in polygon)


# The page


@pytest.mark.django_db
def test_home_opens_in_thai(client: Client) -> None:
    response = client.get(reverse("home"))

    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="th">' in html
    assert "ตาข่าย" in html and "Takhai" in html
    assert "ระดับ" in html  # the legend's "Level"
    assert "เข้าสู่ระบบ" in html  # "Log in", for an anonymous visitor
    data = response.context["page_data"]
    assert data["language"] == "th"
    assert [level["label"] for level in data["levels"]] == ["จังหวัด", "อำเภอ", "ตำบล"]


@pytest.mark.django_db
def test_an_english_browser_still_opens_in_thai(client: Client) -> None:
    response = client.get(reverse("home"), headers={"accept-language": "en-US,en;q=0.9"})
    assert '<html lang="th">' in response.content.decode()
    assert response["Content-Language"] == "th"


@pytest.mark.django_db
def test_home_switches_to_english_through_set_language(client: Client) -> None:
    response = client.post(reverse("set_language"), {"language": "en", "next": "/#9/16.4/102.8"})
    assert response.status_code == 302
    assert response["Location"] == "/#9/16.4/102.8"

    html = client.get(reverse("home")).content.decode()

    assert '<html lang="en">' in html
    assert "Level" in html and "ระดับ" not in html
    assert '"language": "en"' in html


@pytest.mark.django_db
def test_home_names_the_signed_in_user(client: Client, django_user_model: Any) -> None:
    user = django_user_model.objects.create_user(
        username="somchai", password="x", first_name="สมชาย", last_name="ใจดี"
    )
    client.force_login(user)

    html = client.get(reverse("home")).content.decode()

    assert "สมชาย ใจดี" in html
    assert "ออกจากระบบ" in html  # "Log out"


@pytest.mark.django_db
def test_home_loads_nothing_from_another_host(client: Client) -> None:
    # Tablets in the field are often offline: scripts, styles and Leaflet come from
    # this server (only map tiles, named in the page data, come from elsewhere).
    html = client.get(reverse("home")).content.decode()

    for attribute in ('src="http', 'src="//', 'href="http', 'href="//'):
        assert attribute not in html


@pytest.mark.django_db
def test_login_page_renders(client: Client) -> None:
    response = client.get(reverse("login"))

    assert response.status_code == 200
    assert "รหัสผ่าน" in response.content.decode()  # "Password"


# Zoom arithmetic


@pytest.mark.parametrize(("zoom", "digits"), [(5, 2), (6, 2), (8, 3), (10, 4), (14, 5), (18, 6)])
def test_coordinate_digits_round_by_a_quarter_pixel_at_most(zoom: int, digits: int) -> None:
    assert map_data.coordinate_digits(zoom) == digits
    assert 0.5 * 10.0**-digits <= map_data.pixel_degrees(zoom) / 4


def test_tolerance_is_half_a_pixel() -> None:
    assert map_data.simplify_tolerance(0) == pytest.approx(360 / 256 / 2)
    assert map_data.simplify_tolerance(10) == pytest.approx(360 / (256 * 1024) / 2)


# The endpoint on the real boundaries


@pytest.mark.usefixtures("national_boundaries")
def test_national_province_view_is_complete_and_light(client: Client) -> None:
    response = _get(client, "province", bbox=THAILAND_BOX, zoom=6)

    collection = _collection(response)
    assert collection["type"] == "FeatureCollection"
    assert len(collection["features"]) == 77
    assert len(response.content) < NATIONAL_VIEW_BUDGET_BYTES
    bangkok = next(f for f in collection["features"] if f["id"] == "10")
    assert bangkok["properties"]["name_th"] == "กรุงเทพมหานคร"
    assert bangkok["properties"]["name_en"] == "Bangkok"
    assert bangkok["properties"]["parent"] is None


@pytest.mark.usefixtures("national_boundaries")
def test_districts_in_a_box_carry_names_and_province(client: Client) -> None:
    collection = _collection(_get(client, "district", bbox=KHON_KAEN_BOX, zoom=8))

    by_code = {f["properties"]["code"]: f for f in collection["features"]}
    khon_kaen = {code for code in by_code if code.startswith("40")}
    assert len(khon_kaen) == 26
    mueang = by_code["4001"]
    assert mueang["id"] == "4001"
    assert mueang["properties"]["name_en"] == "Mueang Khon Kaen"
    assert mueang["properties"]["parent"] == "40"
    assert mueang["geometry"]["type"] == "MultiPolygon"
    lon, lat = mueang["properties"]["label"]
    assert 102.5 < lon < 103.1 and 16.2 < lat < 16.7
    assert not any(code.startswith(("10", "50", "90")) for code in by_code)  # far away


@pytest.mark.usefixtures("national_boundaries")
@pytest.mark.parametrize(
    ("level", "expected"),
    [("province", ["40"]), ("district", ["4001"]), ("subdistrict", ["400101"])],
)
def test_a_small_box_gets_only_the_areas_under_it(
    client: Client, level: str, expected: list[str]
) -> None:
    collection = _collection(_get(client, level, bbox=MUEANG_KHON_KAEN_BOX, zoom=12))

    assert [f["id"] for f in collection["features"]] == expected


@pytest.mark.usefixtures("national_boundaries")
def test_boundaries_take_one_query(
    client: Client, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    with django_assert_num_queries(1):
        collection = _collection(_get(client, "subdistrict", bbox=KHON_KAEN_BOX, zoom=10))
    assert len(collection["features"]) > 150


@pytest.mark.usefixtures("national_boundaries")
def test_boundaries_are_cacheable_and_revalidate(client: Client) -> None:
    first = _get(client, "province", bbox=THAILAND_BOX, zoom=6)

    assert first["Content-Type"] == "application/geo+json; charset=utf-8"
    assert "public" in first["Cache-Control"] and "max-age=86400" in first["Cache-Control"]
    again = client.get(
        reverse("geo-boundaries", args=["province"]),
        NATIONAL_PARAMS,
        headers={"if-none-match": first["ETag"]},
    )
    assert again.status_code == 304
    assert again.content == b""


@pytest.mark.usefixtures("national_boundaries")
def test_boundaries_compress(client: Client) -> None:
    plain = _get(client, "province", bbox=THAILAND_BOX, zoom=6)
    gzipped = client.get(
        reverse("geo-boundaries", args=["province"]),
        NATIONAL_PARAMS,
        headers={"accept-encoding": "gzip"},
    )

    assert gzipped["Content-Encoding"] == "gzip"
    assert len(gzipped.content) < len(plain.content) / 3


# Simplification, on a dense shape far from Thailand (so it never meets real areas)


@pytest.fixture
def dense_province(db: None) -> Iterator[Province]:
    """A saw-toothed circle in the Pacific: 4,000 vertices, teeth 0.01° (1.1 km) deep.

    The teeth are 14 px deep at zoom 10 and under half a pixel at zoom 5, so a
    simplification to half a pixel must keep them at one and drop them at the other.
    Away from the equator: PostGIS writes a coordinate within 1e-15 of zero in
    exponent form whatever the precision asked (no Thai coordinate is near zero).
    """
    n = 4000
    ring = []
    for i in range(n):
        radius = 0.5 if i % 2 == 0 else 0.49
        angle = 2 * math.pi * i / n
        ring.append((-150 + radius * math.cos(angle), 10 + radius * math.sin(angle)))
    ring.append(ring[0])
    province = Province.objects.create(
        code="99", name_th="ทดสอบ", name_en="Test", geom=MultiPolygon(Polygon(ring), srid=4326)
    )
    yield province


PACIFIC_BOX = "-151,9,-149,11"
# Narrow enough for zoom 18, and it touches the circle's eastern edge.
PACIFIC_SMALL_BOX = "-149.51,9.99,-149.49,10.01"


def test_low_zoom_gets_far_fewer_vertices(client: Client, dense_province: Province) -> None:
    def vertices(zoom: int) -> int:
        box = PACIFIC_BOX if zoom < 12 else PACIFIC_SMALL_BOX
        collection = _collection(_get(client, "province", bbox=box, zoom=zoom))
        (feature,) = collection["features"]
        return _vertex_count(feature["geometry"])

    assert vertices(5) < 100
    assert vertices(10) > 3900
    assert vertices(18) > 3900


def test_low_zoom_rounds_coordinates(client: Client, dense_province: Province) -> None:
    collection = _collection(_get(client, "province", bbox=PACIFIC_BOX, zoom=6))

    ring = collection["features"][0]["geometry"]["coordinates"][0][0]
    assert all(round(x, 2) == x and round(y, 2) == y for x, y in ring)


# Bad requests


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("level", "params", "parameter"),
    [
        ("county", {"bbox": THAILAND_BOX, "zoom": 6}, "level"),
        ("province", {"zoom": 6}, "bbox"),
        ("province", {"bbox": "100,14,101", "zoom": 6}, "bbox"),
        ("province", {"bbox": "a,b,c,d", "zoom": 6}, "bbox"),
        ("province", {"bbox": "nan,14,101,15", "zoom": 6}, "bbox"),
        ("province", {"bbox": "101,14,100,15", "zoom": 6}, "bbox"),  # west > east
        ("province", {"bbox": "100,14,181,15", "zoom": 6}, "bbox"),
        ("province", {"bbox": THAILAND_BOX}, "zoom"),
        ("province", {"bbox": THAILAND_BOX, "zoom": "six"}, "zoom"),
        ("province", {"bbox": THAILAND_BOX, "zoom": 40}, "zoom"),
        # Every tambon of the country at a zoom where they are specks.
        ("subdistrict", {"bbox": THAILAND_BOX, "zoom": 6}, "zoom"),
        # ...or at a zoom where each is large: far more than any screen shows.
        ("subdistrict", {"bbox": THAILAND_BOX, "zoom": 12}, "bbox"),
        ("district", {"bbox": THAILAND_BOX, "zoom": 10}, "bbox"),
    ],
)
def test_bad_parameters_get_400_naming_them(
    client: Client, level: str, params: Params, parameter: str
) -> None:
    response = _get(client, level, **params)

    assert response.status_code == 400
    body = response.json()
    assert body["parameter"] == parameter
    assert body["error"]
    assert "Cache-Control" not in response


@pytest.mark.django_db
def test_boundaries_refuse_post(client: Client) -> None:
    response = client.post(
        reverse("geo-boundaries", args=["province"]) + f"?bbox={THAILAND_BOX}&zoom=6"
    )
    assert response.status_code == 405
