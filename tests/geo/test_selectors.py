"""Reverse geocoding and area selectors on the real national boundaries."""

from __future__ import annotations

import pytest
from django.contrib.gis.db.models.functions import PointOnSurface
from django.db import connection
from pytest_django import DjangoAssertNumQueries

from geo import selectors
from geo.db_plans import explain, index_scans, nodes, seq_scanned_tables, spatial_index_of
from geo.models import Subdistrict, SubdistrictCell
from geo.selectors import (
    SubdistrictAt,
    children_of,
    count_by_subdistrict,
    count_by_subdistrict_sql,
    locate,
    locate_points,
)

pytestmark = pytest.mark.usefixtures("national_boundaries")


def _inner_points(limit: int) -> list[tuple[str, float, float]]:
    """Points at least 200 m inside their tambon (a negative buffer on the ground)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT code, ST_X(p), ST_Y(p) FROM ("
            " SELECT code, ST_PointOnSurface(ST_Buffer(geom::geography, -200)::geometry) p"
            " FROM geo_subdistrict ORDER BY md5(code) LIMIT %s"
            ") t WHERE NOT ST_IsEmpty(p)",
            [limit],
        )
        return [(code, x, y) for code, x, y in cursor.fetchall()]


def test_points_well_inside_tambons_come_back_with_their_tambon_district_and_province() -> None:
    sample = _inner_points(400)
    assert len(sample) > 350
    found = locate_points([(x, y) for _, x, y in sample])
    for (code, _, _), place in zip(sample, found, strict=True):
        assert place is not None, code
        assert place.subdistrict.code == code
        assert place.district.code == code[:4]
        assert place.province.code == code[:2]
        assert place.snapped_m is None


def test_a_known_place() -> None:
    place = locate(102.8359, 16.4322)  # Khon Kaen city hall area
    assert place is not None
    assert (place.subdistrict.name_th, place.district.name_en, place.province.name_th) == (
        "ในเมือง",
        "Mueang Khon Kaen",
        "ขอนแก่น",
    )


def test_a_point_on_a_shared_border_goes_to_the_lowest_code_among_its_tambons() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_X(v.geom), ST_Y(v.geom),"
            " (SELECT array_agg(c.code ORDER BY c.code) FROM geo_subdistrict c"
            "  WHERE ST_Covers(c.geom, v.geom))"
            " FROM geo_subdistrict a"
            " JOIN geo_subdistrict b ON a.code < b.code AND a.geom && b.geom"
            " CROSS JOIN LATERAL ST_DumpPoints(b.geom) v"
            " WHERE a.code LIKE '4001%%' AND b.code LIKE '4001%%'"
            " AND ST_Covers(a.geom, v.geom) LIMIT 40"
        )
        shared = cursor.fetchall()
    assert len(shared) >= 10, "adjacent tambons in Mueang Khon Kaen share vertices"
    assert all(len(codes) >= 2 for _, _, codes in shared)
    found = locate_points([(x, y) for x, y, _ in shared])
    for (_, _, codes), place in zip(shared, found, strict=True):
        assert place is not None
        assert place.subdistrict.code == min(codes), codes


@pytest.mark.parametrize(("lon", "lat"), [(100.0, 11.0), (98.0, 7.0), (110.0, 13.0)])
def test_the_sea_and_other_countries_have_no_tambon(lon: float, lat: float) -> None:
    assert locate(lon, lat) is None


def test_not_a_coordinate_is_none_and_keeps_the_order() -> None:
    found = locate_points([(float("nan"), 14.0), (102.8359, 16.4322), (200.0, 14.0)])
    assert found[0] is None and found[2] is None
    assert found[1] is not None and found[1].subdistrict.code == "400101"


def _just_offshore() -> tuple[float, float, str, float]:
    """A point about 120 m outside Phuket's coast, in no tambon."""
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH island AS (SELECT ST_Union(geom) g FROM geo_subdistrict WHERE code LIKE '83%%'),"
            " v AS (SELECT (ST_DumpPoints(ST_ExteriorRing((ST_Dump(g)).geom))).geom p, g"
            " FROM island)"
            " SELECT ST_X(q), ST_Y(q) FROM ("
            "  SELECT ST_Project(p::geography, 120,"
            "   ST_Azimuth(ST_Centroid(g), p))::geometry q FROM v) t"
            " WHERE NOT EXISTS (SELECT 1 FROM geo_subdistrict s WHERE ST_Covers(s.geom, t.q))"
            " AND NOT ST_DWithin(t.q::geography, (SELECT g FROM island)::geography, 60)"
            " LIMIT 1"
        )
        lon, lat = cursor.fetchone()
        cursor.execute(
            "SELECT code, ST_Distance(geom::geography,"
            " ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography) d"
            " FROM geo_subdistrict ORDER BY d LIMIT 1",
            [lon, lat],
        )
        code, metres = cursor.fetchone()
    return lon, lat, code, metres


def test_a_point_just_offshore_snaps_to_the_nearest_tambon_with_its_distance() -> None:
    lon, lat, nearest, metres = _just_offshore()
    place = locate(lon, lat)
    assert place is not None
    assert place.subdistrict.code == nearest
    assert place.snapped_m == pytest.approx(metres, abs=0.1)
    assert 60 < place.snapped_m < 250  # type: ignore[operator]


def test_snapping_can_be_switched_off(settings: object) -> None:
    settings.GEOCODE_SNAP_METRES = 0  # type: ignore[attr-defined]
    lon, lat, _, _ = _just_offshore()
    assert locate(lon, lat) is None


def test_locating_a_thousand_points_takes_three_queries(
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    points = [(100.0 + i * 0.004, 14.0 + i * 0.002) for i in range(1000)] + [(100.0, 11.0)]
    with django_assert_num_queries(3):  # contained, snapped, names
        found = locate_points(points)
    assert len(found) == 1001


def test_count_by_subdistrict_puts_each_tambons_inner_point_in_that_tambon(
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    queryset = Subdistrict.objects.annotate(inner=PointOnSurface("geom"))
    with django_assert_num_queries(1):
        counts = count_by_subdistrict(queryset, "inner")
    assert len(counts) == 7425
    assert set(counts.values()) == {1}
    assert None not in counts


def test_subdistrict_at_annotates_rows_in_one_query(
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    queryset = (
        Subdistrict.objects.filter(code__startswith="40")
        .annotate(inner=PointOnSurface("geom"))
        .annotate(found=SubdistrictAt("inner"))
    )
    with django_assert_num_queries(1):
        rows = list(queryset.values_list("code", "found"))
    assert len(rows) == 199
    assert all(code == found for code, found in rows)


def _plan_of_a_national_lookup() -> dict[str, object]:
    queryset = Subdistrict.objects.annotate(inner=PointOnSurface("geom"))
    sql, params = count_by_subdistrict_sql(queryset, "inner")
    return explain(sql, params)


def _finds_cells_by_arithmetic(plan: dict[str, object]) -> bool:
    """The fast shape: cells matched to points by their (i, j) numbers (a hash or
    merge join, or the grid index); never every cell scanned for each point in a
    nested loop, nor a polygon probed through a GiST index point by point."""
    cells = SubdistrictCell._meta.db_table
    reached = cells in seq_scanned_tables(plan) or "subdistrictcell_grid" in index_scans(plan)
    scanned_per_point = any(
        n["Node Type"] == "Nested Loop" and cells in seq_scanned_tables(n) for n in nodes(plan)
    )
    gist = {spatial_index_of("geo_subdistrict")}
    return reached and not scanned_per_point and not index_scans(plan) & gist


def test_the_lookup_plan_finds_cells_by_arithmetic() -> None:
    """Fails when the plan regresses to a polygon probe per point."""
    assert _finds_cells_by_arithmetic(_plan_of_a_national_lookup())


def test_the_plan_check_notices_the_slow_shape() -> None:
    assert _finds_cells_by_arithmetic(_plan_of_a_national_lookup())
    with connection.cursor() as cursor:  # both undone with the test's transaction
        cursor.execute("ALTER TABLE geo_subdistrictcell DROP CONSTRAINT subdistrictcell_grid")
        cursor.execute("SET LOCAL enable_hashjoin = off")
        cursor.execute("SET LOCAL enable_mergejoin = off")
    assert not _finds_cells_by_arithmetic(_plan_of_a_national_lookup())


def test_a_few_points_use_the_grid_index() -> None:
    queryset = Subdistrict.objects.filter(code="400101").annotate(inner=PointOnSurface("geom"))
    sql, params = count_by_subdistrict_sql(queryset, "inner")
    assert "subdistrictcell_grid" in index_scans(explain(sql, params))


def test_children_of_each_level() -> None:
    assert children_of("").count() == 77
    assert children_of("40").count() == 26
    assert children_of("4001").count() == 18
    assert children_of("400101").count() == 0  # villages come with the demo data
    with pytest.raises(ValueError, match="not a DOPA code"):
        children_of("4x")


def test_snapping_finds_nearby_tambons_through_the_gist_index() -> None:
    """Without the box prefilter each offshore point costs 7,425 distances on the
    ground (measured: 33 s for 300 points, against 0.04 s with it)."""
    sql = selectors._SNAP_SQL
    params = [[100.5, 100.6], [11.0, 11.0], [1, 2], 0.0025, 250]
    assert spatial_index_of("geo_subdistrict") in index_scans(explain(sql, params))
