"""The boundary importer, on the real COD-AB files and on small broken ones."""

from __future__ import annotations

import http.server
import io
import json
import os
import shutil
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from geo.boundaries import BoundaryFileError, download_boundaries, import_boundaries
from geo.models import AreaLevel, District, Province, Subdistrict, SubdistrictCell

BAD = Path(__file__).resolve().parent.parent / "data" / "geo"
ROOT = Path(__file__).resolve().parents[2]


def _no_places() -> None:
    """Empties the boundary tables (inside the test's transaction)."""
    Subdistrict.objects.all().delete()
    District.objects.all().delete()
    Province.objects.all().delete()


@pytest.mark.slow
def test_the_real_files_load_exactly_the_published_counts(national_boundaries: None) -> None:
    assert Province.objects.count() == 77
    assert District.objects.count() == 928
    assert Subdistrict.objects.count() == 7425
    assert Subdistrict.objects.get(code="400101").name_en == "Nai Mueang"
    assert Subdistrict.objects.get(code="400101").district.province.name_th == "ขอนแก่น"


def test_a_second_run_changes_nothing(
    national_boundaries: None, boundary_files: list[Path]
) -> None:
    report = import_boundaries(list(reversed(boundary_files)))
    assert report.changed == 0
    assert report.counts[AreaLevel.SUBDISTRICT].unchanged == 7425
    assert report.counts[AreaLevel.PROVINCE].unchanged == 77


def test_every_stored_geometry_is_valid_and_the_cells_tile_each_tambon(
    national_boundaries: None,
) -> None:
    size = SubdistrictCell.SIZE_DEGREES
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM geo_subdistrict WHERE NOT ST_IsValid(geom)")
        assert cursor.fetchone() == (0,)
        # Whole cells count their full square; the pieces add up to the tambon.
        cursor.execute(
            "SELECT count(*) FROM geo_subdistrict s JOIN ("
            " SELECT subdistrict_id, sum(CASE WHEN whole THEN %s ELSE ST_Area(geom) END) a"
            " FROM geo_subdistrictcell GROUP BY 1"
            ") c ON c.subdistrict_id = s.code WHERE abs(c.a - ST_Area(s.geom)) > 1e-9",
            [size * size],
        )
        assert cursor.fetchone() == (0,)
    assert SubdistrictCell.objects.values("subdistrict").distinct().count() == 7425


def test_a_changed_geometry_recuts_only_its_cells(
    national_boundaries: None, tmp_path: Path, boundary_files: list[Path]
) -> None:
    data = json.loads(boundary_files[2].read_text(encoding="utf-8"))
    [feature] = [f for f in data["features"] if f["properties"]["ADM3_PCODE"] == "TH400101"]
    data["features"] = [feature]
    ring = feature["geometry"]["coordinates"][0][0]
    ring[1] = [ring[1][0] + 0.0005, ring[1][1]]  # nudge one vertex by about 50 m
    edited = tmp_path / "one_tambon.geojson"
    edited.write_text(json.dumps(data), encoding="utf-8")
    before = set(
        SubdistrictCell.objects.exclude(subdistrict__code__startswith="4001").values_list(
            "pk", flat=True
        )
    )
    report = import_boundaries([edited])
    assert report.counts[AreaLevel.SUBDISTRICT].updated == 1
    after = set(
        SubdistrictCell.objects.exclude(subdistrict__code__startswith="4001").values_list(
            "pk", flat=True
        )
    )
    assert before == after  # cells far from Mueang Khon Kaen were left alone
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT abs(sum(CASE WHEN whole THEN %s ELSE ST_Area(c.geom) END) - ST_Area(s.geom))"
            " FROM geo_subdistrictcell c JOIN geo_subdistrict s ON s.code = c.subdistrict_id"
            " WHERE s.code = '400101' GROUP BY s.geom",
            [SubdistrictCell.SIZE_DEGREES**2],
        )
        assert cursor.fetchone()[0] < 1e-9


def test_a_changed_name_is_one_update(
    national_boundaries: None, tmp_path: Path, boundary_files: list[Path]
) -> None:
    data = json.loads(boundary_files[0].read_text(encoding="utf-8"))
    for feature in data["features"]:
        if feature["properties"]["ADM1_PCODE"] == "TH40":
            feature["properties"]["ADM1_EN"] = "Khon Kaen (renamed)"
    edited = tmp_path / "tha_adm1.geojson"
    edited.write_text(json.dumps(data), encoding="utf-8")
    report = import_boundaries([edited])
    assert (report.counts[AreaLevel.PROVINCE].updated, report.changed) == (1, 1)
    assert Province.objects.get(code="40").name_en == "Khon Kaen (renamed)"


def test_one_province_only(db: None, boundary_files: list[Path]) -> None:
    _no_places()
    report = import_boundaries(boundary_files, only_province="40")
    assert report.counts[AreaLevel.PROVINCE].created == 1
    assert District.objects.count() == 26
    assert Subdistrict.objects.filter(code__startswith="4001").count() == 18
    assert not Subdistrict.objects.exclude(code__startswith="40").exists()


def test_a_self_intersecting_polygon_is_repaired_and_reported(db: None) -> None:
    report = import_boundaries([BAD / "self_intersecting.geojson"])
    [repair] = report.repairs
    assert repair.code == "98" and repair.feature == 1
    assert "Self-intersection" in repair.reason
    bowtie = Province.objects.get(code="98").geom
    assert bowtie.valid
    assert len(bowtie) == 2  # the two triangles of the bow tie
    assert bowtie.area == pytest.approx(0.02, rel=1e-6)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "missing_attribute.geojson",
            "feature 1: attribute ADM1_TH: required attribute is missing",
        ),
        ("empty_name.geojson", "feature 2 (95): attribute ADM1_TH: is empty"),
        (
            "bad_code.geojson",
            "feature 1: attribute ADM2_PCODE: 'TH40X1' is not a 4-digit DOPA code",
        ),
        ("point_geometry.geojson", "feature 1 (94): geometry is Point, not a polygon"),
        ("no_pcode.geojson", "not an OCHA COD-AB boundary file"),
        ("truncated.geojson", "not a readable GeoJSON or shapefile"),
        ("not_geojson.geojson", "not a readable GeoJSON or shapefile"),
        ("orphan_district.geojson", "its parent province 99 is not imported"),
    ],
)
def test_a_broken_file_is_refused_with_its_name_feature_and_field(
    db: None, name: str, expected: str
) -> None:
    with pytest.raises(BoundaryFileError) as caught:
        import_boundaries([BAD / name])
    assert name in str(caught.value)
    assert expected in str(caught.value)


def test_a_run_with_one_broken_file_keeps_nothing(db: None, boundary_files: list[Path]) -> None:
    _no_places()
    with pytest.raises(BoundaryFileError):
        import_boundaries([boundary_files[0], BAD / "empty_name.geojson"])
    assert not Province.objects.exists()


def test_the_command_prints_counts_and_repairs(db: None) -> None:
    out = io.StringIO()
    bowtie = str(BAD / "self_intersecting.geojson")
    call_command("import_boundaries", bowtie, stdout=out, stderr=io.StringIO())
    text = out.getvalue()
    assert "repaired Self-intersection" in text
    assert "province: 1 created, 0 updated, 0 unchanged" in text


def test_the_command_turns_a_broken_file_into_a_message(db: None) -> None:
    with pytest.raises(
        CommandError, match=r"truncated\.geojson: not a readable .*nothing was imported"
    ):
        call_command("import_boundaries", str(BAD / "truncated.geojson"))


def test_the_command_line_shows_no_traceback(db: None) -> None:
    # manage.py runs against the development database; the file is refused before
    # anything is written, so this touches no data.
    result = subprocess.run(
        [sys.executable, "manage.py", "import_boundaries", str(BAD / "missing_attribute.geojson")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "DJANGO_DEBUG": "true"},
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "missing_attribute.geojson: feature 1: attribute ADM1_TH" in result.stderr


@pytest.fixture
def file_server(tmp_path: Path, settings: Any) -> Iterator[tuple[str, Path]]:
    """A web server on loopback serving a folder, and an empty download cache."""
    settings.CACHE_DIR = tmp_path / "cache"
    served = tmp_path / "www"
    served.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(served), **kwargs)  # type: ignore[arg-type]

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", served
    server.shutdown()


def test_url_downloads_once_then_reads_the_cache(
    db: None,
    file_server: tuple[str, Path],
    boundary_files: list[Path],
) -> None:
    base, served = file_server
    with zipfile.ZipFile(served / "tha_adm_rtsd.zip", "w") as archive:
        archive.write(boundary_files[0], "tha_admbnda_adm1_rtsd.geojson")
        archive.write(boundary_files[1], "tha_admbnda_adm2_rtsd.geojson")
    paths = download_boundaries(f"{base}/tha_adm_rtsd.zip")
    assert [p.rsplit("/", 1)[-1] for p in paths] == [
        "tha_admbnda_adm1_rtsd.geojson",
        "tha_admbnda_adm2_rtsd.geojson",
    ]
    (served / "tha_adm_rtsd.zip").unlink()  # a second call must not need the server
    assert download_boundaries(f"{base}/tha_adm_rtsd.zip") == paths
    _no_places()
    call_command(
        "import_boundaries",
        "--url",
        f"{base}/tha_adm_rtsd.zip",
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    assert (Province.objects.count(), District.objects.count()) == (77, 928)


def test_url_of_a_plain_geojson(
    db: None,
    file_server: tuple[str, Path],
    boundary_files: list[Path],
    settings: Any,
) -> None:
    base, served = file_server
    shutil.copy(boundary_files[0], served / "tha_adm1.geojson")
    [path] = download_boundaries(f"{base}/tha_adm1.geojson")
    assert Path(path).read_bytes() == boundary_files[0].read_bytes()
    assert str(settings.CACHE_DIR) in path
