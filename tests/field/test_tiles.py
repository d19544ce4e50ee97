"""The gap map's vector tiles: what a tile holds (decoded here, with no library),
the same values and withholding as the layer, who gets which areas, caching, and
the cost in queries."""

from __future__ import annotations

import math
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from factories import DistrictFactory, ProfileFactory, ProvinceFactory, SubdistrictFactory, make
from test_gap_pages import YEAR, GapWorld, _by_code, _layer, administrator, gap_world

from field.models import AreaPublication, AreaStat, Role, StatLevel
from field.services.stats import stats_publish
from field.tile_selectors import tile_level

__all__ = ["administrator", "gap_world"]  # fixtures, used by name

MVT = "application/vnd.mapbox-vector-tile"


# --- a minimal Mapbox vector tile reader (protobuf: varints and length-delimited) ----


def _varint(data: bytes, at: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, at


def _fields(data: bytes) -> list[tuple[int, Any]]:
    """(field number, value) of one message; bytes for length-delimited fields."""
    out: list[tuple[int, Any]] = []
    at = 0
    while at < len(data):
        key, at = _varint(data, at)
        number, wire = key >> 3, key & 7
        value: int | bytes
        if wire == 0:
            value, at = _varint(data, at)
        elif wire == 2:
            length, at = _varint(data, at)
            value, at = data[at : at + length], at + length
        elif wire == 1:
            value, at = data[at : at + 8], at + 8
        elif wire == 5:
            value, at = data[at : at + 4], at + 4
        else:
            raise ValueError(wire)
        out.append((number, value))
    return out


def _value(data: bytes) -> Any:
    import struct

    number, raw = _fields(data)[0]
    if number == 1:
        return raw.decode()
    if number == 2:
        return struct.unpack("<f", raw)[0]
    if number == 3:
        return struct.unpack("<d", raw)[0]
    if number == 6:
        return (raw >> 1) ^ -(raw & 1)
    if number == 7:
        return bool(raw)
    return raw


def decode(tile: bytes) -> dict[str, list[dict[str, Any]]]:
    """Layer name -> the properties of each feature (and ``_geometry``: its length)."""
    layers: dict[str, list[dict[str, Any]]] = {}
    for number, layer in _fields(tile):
        assert number == 3
        parts = _fields(layer)
        name = next(v.decode() for n, v in parts if n == 1)
        keys = [v.decode() for n, v in parts if n == 3]
        values = [_value(v) for n, v in parts if n == 4]
        features = []
        for feature in (v for n, v in parts if n == 2):
            props: dict[str, Any] = {}
            for n, v in _fields(feature):
                if n == 2:
                    tags, at = [], 0
                    while at < len(v):
                        tag, at = _varint(v, at)
                        tags.append(tag)
                    props |= {
                        keys[k]: values[i] for k, i in zip(tags[::2], tags[1::2], strict=True)
                    }
                elif n == 4:
                    props["_geometry"] = len(v)
            features.append(props)
        layers[name] = features
    return layers


# --- helpers --------------------------------------------------------------------------


@pytest.fixture(params=["published", "counted on request"])
def source(request: pytest.FixtureRequest, gap_world: GapWorld) -> str:
    """Tiles read what a refresh published, or suppress the counts themselves when
    nothing current was published: both must draw the same."""
    if request.param == "published":
        stats_publish(academic_year=YEAR)
        assert AreaPublication.objects.exists()
    return str(request.param)


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return z, x, y


def _url(z: int, x: int, y: int) -> str:
    return reverse("field-gap-tile", kwargs={"z": z, "x": x, "y": y})


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _centre(geom: Any) -> tuple[float, float]:
    return geom.centroid.x, geom.centroid.y


def _features(client: Client, z: int, x: int, y: int, **query: Any) -> dict[str, dict[str, Any]]:
    response = client.get(_url(z, x, y), query)
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == MVT
    layers = decode(response.content)
    assert list(layers) == ["areas"]
    return {f["code"]: f for f in layers["areas"]}


# --- levels and values ----------------------------------------------------------------


def test_the_zoom_chooses_the_level() -> None:
    assert [tile_level(z).code_length for z in (0, 6, 7, 9, 10, 16)] == [2, 2, 4, 4, 6, 6]


def test_a_tile_holds_the_layers_values_and_classes(
    administrator: User, gap_world: GapWorld, source: str
) -> None:
    client = _client(administrator)
    centre = _centre(gap_world.t1.geom)
    for z in (5, 8, 12):
        tile = _features(client, *_tile_of(*centre, z))
        assert tile, z
        for code, props in tile.items():
            # Each area as the layer of its parent shows it.
            layer = _by_code(_layer(administrator, **({"area": code[:-2]} if code[:-2] else {})))
            # A withheld value or one over zero is no property at all.
            assert props.get("value") == pytest.approx(layer[code]["value"])
            assert props.get("class") == layer[code]["class"]
            assert props["withheld"] == layer[code]["withheld"]
            assert props["name_th"] == layer[code]["name_th"]
            assert props["_geometry"] > 0
    tambons = _features(client, *_tile_of(*centre, 12))
    assert tambons[gap_world.t1.code]["value"] == 100.0


def test_withheld_counts_are_withheld_in_tiles_too(
    administrator: User, gap_world: GapWorld, source: str
) -> None:
    # District B's only tambon has 3 children out of school: under k.
    layer = _by_code(_layer(administrator, area=gap_world.province.code))
    tile = _features(_client(administrator), *_tile_of(*_centre(gap_world.t3.geom), 8))
    withheld = [code for code, props in layer.items() if props["withheld"]]
    assert withheld
    for code in withheld:
        assert tile[code]["withheld"] is True and "value" not in tile[code]


def test_a_tile_outside_every_area_is_empty(administrator: User, gap_world: GapWorld) -> None:
    response = _client(administrator).get(_url(*_tile_of(-60.0, -30.0, 8)))
    assert response.status_code == 204 and response.content == b""


def test_no_counts_yet_gives_an_empty_tile(administrator: User, gap_world: GapWorld) -> None:
    AreaStat.objects.all().delete()
    client = _client(administrator)
    assert client.get(_url(*_tile_of(*_centre(gap_world.t1.geom), 12))).status_code == 204


# --- who sees what ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "status"),
    [("coordinator", 200), ("official", 200), ("member_a", 403), ("volunteer", 403)],
)
def test_tiles_by_role(
    persona: str, status: int, request: pytest.FixtureRequest, gap_world: GapWorld
) -> None:
    client = _client(request.getfixturevalue(persona))
    assert client.get(_url(*_tile_of(*_centre(gap_world.t1.geom), 12))).status_code == status


def test_anonymous_users_are_sent_to_log_in(gap_world: GapWorld) -> None:
    assert Client().get(_url(*_tile_of(*_centre(gap_world.t1.geom), 12))).status_code == 302


def test_an_official_of_another_province_gets_none_of_this_one(
    gap_world: GapWorld, source: str
) -> None:
    other = make(ProvinceFactory)
    make(SubdistrictFactory, district=make(DistrictFactory, province=other))
    user = make(ProfileFactory, role=Role.OFFICIAL, province=other).user
    client = _client(user)
    centre = _centre(gap_world.t1.geom)
    # At z5 both provinces lie in the tile: only the official's own is drawn.
    assert set(_features(client, *_tile_of(*centre, 5))) == {other.code}
    for z in (8, 12):
        response = client.get(_url(*_tile_of(*centre, z)))
        codes = {f["code"] for f in decode(response.content).get("areas", [])}
        assert not {code for code in codes if code.startswith(gap_world.province.code)}, z


def test_an_official_sees_their_province_alone_at_low_zooms(
    official: User, gap_world: GapWorld, source: str
) -> None:
    tile = _features(_client(official), *_tile_of(*_centre(gap_world.t1.geom), 5))
    # The value of the province's own layer's "whole area" row, without a class.
    total = _layer(official)["total"]
    assert set(tile) == {gap_world.province.code}
    assert tile[gap_world.province.code]["value"] == pytest.approx(total["value"])
    assert "class" not in tile[gap_world.province.code]


def test_a_coordinator_narrowed_to_one_district_sees_it_alone(
    gap_world: GapWorld, source: str
) -> None:
    user = make(
        ProfileFactory,
        role=Role.COORDINATOR,
        province=gap_world.province,
        districts=[gap_world.district_b],
    ).user
    client = _client(user)
    centre = _centre(gap_world.t1.geom)
    assert set(_features(client, *_tile_of(*centre, 8))) == {gap_world.district_b.code}
    assert gap_world.t1.code not in _features(client, *_tile_of(*centre, 5))


# --- caching ------------------------------------------------------------------------------


def test_tiles_are_cached_privately_and_revalidated(
    administrator: User, gap_world: GapWorld
) -> None:
    client = _client(administrator)
    url = _url(*_tile_of(*_centre(gap_world.t1.geom), 12))
    first = client.get(url)
    assert "private" in first["Cache-Control"] and "max-age=300" in first["Cache-Control"]
    etag = first["ETag"]
    again = client.get(url, headers={"if-none-match": etag})
    assert again.status_code == 304 and again.content == b""
    assert "private" in again["Cache-Control"]
    # Another indicator, or a refresh of the counts, is another tile.
    assert client.get(url, {"indicator": "visited"})["ETag"] != etag
    AreaStat.objects.filter(code=gap_world.t1.code).update(refreshed_at=timezone.now())
    assert client.get(url, headers={"if-none-match": etag}).status_code == 200


def test_a_stale_etag_does_not_open_tiles_to_other_roles(
    member_a: User, administrator: User, gap_world: GapWorld
) -> None:
    url = _url(*_tile_of(*_centre(gap_world.t1.geom), 12))
    etag = _client(administrator).get(url)["ETag"]
    assert _client(member_a).get(url, headers={"if-none-match": etag}).status_code == 403


def test_bad_parameters(administrator: User, gap_world: GapWorld) -> None:
    client = _client(administrator)
    assert client.get(_url(3, 8, 0)).status_code == 404  # x beyond 2**z
    assert client.get(_url(8, 1, 1), {"indicator": "nope"}).status_code == 400


# --- cost -------------------------------------------------------------------------------


def test_a_tile_costs_the_same_queries_at_every_zoom(
    administrator: User, gap_world: GapWorld, django_assert_num_queries: Any
) -> None:
    client = _client(administrator)
    centre = _centre(gap_world.t1.geom)
    client.get(_url(*_tile_of(*centre, 5)))  # the session's first read of its user
    # Session, user, scope, the ETag's, the publications, the counts, the tile.
    for z in (5, 8, 12):
        with django_assert_num_queries(7):
            assert client.get(_url(*_tile_of(*centre, z))).status_code == 200
    # Published: no counts to read.
    stats_publish(academic_year=YEAR)
    for z in (5, 8, 12):
        with django_assert_num_queries(6):
            assert (
                client.get(_url(*_tile_of(*centre, z)), {"method": "quantiles"}).status_code == 200
            )
    # A revalidated tile: session, user, scope, the ETag's.
    etag = client.get(_url(*_tile_of(*centre, 12)))["ETag"]
    with django_assert_num_queries(4):
        assert (
            client.get(_url(*_tile_of(*centre, 12)), headers={"if-none-match": etag}).status_code
            == 304
        )


# --- publications -----------------------------------------------------------------------


def test_a_stale_publication_is_not_read(administrator: User, gap_world: GapWorld) -> None:
    stats_publish(academic_year=YEAR)
    client = _client(administrator)
    url = _url(*_tile_of(*_centre(gap_world.t1.geom), 12))
    assert (
        _features(client, *_tile_of(*_centre(gap_world.t1.geom), 12))[gap_world.t1.code]["value"]
        == 100.0
    )
    # Counts rewritten without publishing (a refresh always does both): the
    # district's counts are newer than its publication, so the tile counts anew.
    now = timezone.now()
    AreaStat.objects.filter(code=gap_world.t1.code).update(
        dropped_out=0, never_enrolled=0, enrolled=1000, refreshed_at=now
    )
    AreaStat.objects.filter(code=gap_world.district_a.code).update(refreshed_at=now)
    assert client.get(url).status_code == 200
    assert (
        _features(client, *_tile_of(*_centre(gap_world.t1.geom), 12))[gap_world.t1.code]["value"]
        == 0.0
    )


def test_a_publication_of_another_k_is_not_read(
    administrator: User, gap_world: GapWorld, settings: Any
) -> None:
    stats_publish(academic_year=YEAR)
    centre = _centre(gap_world.t3.geom)
    assert _features(_client(administrator), *_tile_of(*centre, 8))[gap_world.district_b.code][
        "withheld"
    ]
    # District B's 3 children out of school are not under k = 3.
    settings.SUPPRESS_K = 3
    layer = _by_code(_layer(administrator, area=gap_world.province.code))
    tile = _features(_client(administrator), *_tile_of(*centre, 8))
    assert not layer[gap_world.district_b.code]["withheld"]
    assert tile[gap_world.district_b.code]["value"] == pytest.approx(
        layer[gap_world.district_b.code]["value"]
    )
    assert AreaPublication.objects.filter(level=StatLevel.PROVINCE, k=5).exists()
