"""Importer for OCHA COD-AB boundary files (Royal Thai Survey Department).

Reads what HDX publishes as dataset ``cod-ab-tha`` (GeoJSON or shapefile, also
inside a zip) and the simplified copies used in tests. Each file is one level,
told apart by its ``ADMn_PCODE`` attribute. Areas are upserted by DOPA code, so a
second run of the same files changes nothing; invalid geometry is repaired with
GEOS ``MakeValid`` and every repair is reported.
"""

from __future__ import annotations

import hashlib
import shutil
import urllib.request
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from django.conf import settings
from django.contrib.gis.gdal import DataSource, GDALException, OGRGeometry
from django.contrib.gis.geos import GeometryCollection, GEOSGeometry, MultiPolygon, Polygon
from django.db import connection, transaction

from geo import gazetteer
from geo.models import AreaLevel, District, Province, Subdistrict, SubdistrictCell

# Model field -> COD-AB attribute, as Django's LayerMapping writes it.
PROVINCE_MAPPING = {"code": "ADM1_PCODE", "name_th": "ADM1_TH", "name_en": "ADM1_EN"}
DISTRICT_MAPPING = {
    "code": "ADM2_PCODE",
    "name_th": "ADM2_TH",
    "name_en": "ADM2_EN",
    "province": "ADM1_PCODE",
}
SUBDISTRICT_MAPPING = {
    "code": "ADM3_PCODE",
    "name_th": "ADM3_TH",
    "name_en": "ADM3_EN",
    "district": "ADM2_PCODE",
}

AreaModel = type[Province] | type[District] | type[Subdistrict]


@dataclass(frozen=True)
class LevelSpec:
    level: AreaLevel
    model: AreaModel
    mapping: dict[str, str]
    code_length: int
    parent_field: str | None

    @property
    def code_attribute(self) -> str:
        return self.mapping["code"]


LEVELS = (
    LevelSpec(AreaLevel.PROVINCE, Province, PROVINCE_MAPPING, 2, None),
    LevelSpec(AreaLevel.DISTRICT, District, DISTRICT_MAPPING, 4, "province"),
    LevelSpec(AreaLevel.SUBDISTRICT, Subdistrict, SUBDISTRICT_MAPPING, 6, "district"),
)


class BoundaryFileError(Exception):
    """A boundary file that cannot be imported; nothing of the run is kept."""

    def __init__(
        self,
        path: Path | str,
        reason: str,
        *,
        feature: int | None = None,
        code: str | None = None,
        attribute: str | None = None,
    ) -> None:
        self.path = str(path)
        self.feature = feature
        self.code = code
        self.attribute = attribute
        self.reason = reason
        where = [self.path]
        if feature is not None:
            where.append(f"feature {feature}" + (f" ({code})" if code else ""))
        if attribute:
            where.append(f"attribute {attribute}")
        super().__init__(": ".join([*where, reason]))


@dataclass(frozen=True)
class Repair:
    path: str
    feature: int
    code: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: feature {self.feature} ({self.code}): repaired {self.reason}"


@dataclass
class LevelCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def changed(self) -> int:
        return self.created + self.updated


@dataclass
class ImportReport:
    counts: dict[AreaLevel, LevelCounts] = field(default_factory=dict)
    repairs: list[Repair] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    @property
    def changed(self) -> int:
        return sum(c.changed for c in self.counts.values())


@dataclass(frozen=True)
class AreaRecord:
    code: str
    name_th: str
    name_en: str
    parent: str | None
    geom: MultiPolygon


def _strip_pcode(value: str) -> str:
    # COD-AB codes are "TH" + the DOPA code; DOPA files carry the bare digits.
    value = value.strip().upper()
    return value[2:] if value.startswith("TH") else value


def _as_multipolygon(geom: GEOSGeometry) -> MultiPolygon | None:
    polygons: list[Polygon] = []
    if isinstance(geom, Polygon):
        polygons = [geom]
    elif isinstance(geom, GeometryCollection):  # MultiPolygon is one too
        for part in geom:
            sub = _as_multipolygon(part)
            if sub is not None:
                polygons.extend(cast(Iterable[Polygon], sub))
    if not polygons:
        return None
    return MultiPolygon(*[p for p in polygons if not p.empty], srid=4326)


def _clean_geometry(
    ogr: OGRGeometry | None, path: str, index: int, code: str, repairs: list[Repair]
) -> MultiPolygon:
    if ogr is None:
        raise BoundaryFileError(path, "has no geometry", feature=index, code=code)
    if ogr.srid not in (None, 4326):
        ogr.transform(4326)
    geos = ogr.geos
    geos.srid = 4326
    if not geos.valid:
        reason = geos.valid_reason
        geos = cast(Any, geos).make_valid()  # GEOS MakeValid; missing from django-stubs
        repairs.append(Repair(str(path), index, code, reason))
    result = _as_multipolygon(geos)
    if result is None or result.empty:
        raise BoundaryFileError(
            path, f"geometry is {ogr.geom_type.name}, not a polygon", feature=index, code=code
        )
    return result


def _detect_level(path: str, fields: Sequence[str]) -> LevelSpec:
    for spec in reversed(LEVELS):
        if spec.code_attribute in fields:
            return spec
    raise BoundaryFileError(
        path,
        "no ADM1_PCODE, ADM2_PCODE or ADM3_PCODE attribute: not an OCHA COD-AB boundary file",
    )


def _text(feature: object, name: str) -> str:
    value = feature.get(name)  # type: ignore[attr-defined]
    return "" if value is None else str(value).strip()


def read_boundary_file(
    path: Path | str, repairs: list[Repair]
) -> tuple[LevelSpec, list[AreaRecord]]:
    """Reads one file into records, raising BoundaryFileError on anything unusable."""
    path = str(path)
    try:
        source = DataSource(path)
    except GDALException as exc:
        raise BoundaryFileError(path, f"not a readable GeoJSON or shapefile ({exc})") from exc
    if len(source) == 0:
        raise BoundaryFileError(path, "has no layers")
    layer = source[0]
    spec = _detect_level(path, layer.fields)
    for attribute in spec.mapping.values():
        if attribute not in layer.fields and attribute != spec.mapping.get(spec.parent_field or ""):
            raise BoundaryFileError(
                path, "required attribute is missing", feature=1, attribute=attribute
            )
    records = [
        _read_feature(path, spec, index, feature, repairs)
        for index, feature in enumerate(layer, start=1)
    ]
    return spec, records


def _read_feature(
    path: str, spec: LevelSpec, index: int, feature: object, repairs: list[Repair]
) -> AreaRecord:
    raw_code = _text(feature, spec.code_attribute)
    code = _strip_pcode(raw_code)
    if len(code) != spec.code_length or not code.isdigit():
        raise BoundaryFileError(
            path,
            f"{raw_code!r} is not a {spec.code_length}-digit DOPA code",
            feature=index,
            attribute=spec.code_attribute,
        )
    names = {}
    for model_field in ("name_th", "name_en"):
        attribute = spec.mapping[model_field]
        names[model_field] = _text(feature, attribute)
        if not names[model_field]:
            raise BoundaryFileError(path, "is empty", feature=index, code=code, attribute=attribute)
    parent = code[: spec.code_length - 2] if spec.parent_field else None
    geom = _clean_geometry(feature.geom, path, index, code, repairs)  # type: ignore[attr-defined]
    return AreaRecord(code, names["name_th"], names["name_en"], parent, geom)


def _upsert(
    spec: LevelSpec, records: Iterable[AreaRecord], path: Path | str
) -> tuple[LevelCounts, list[str]]:
    model = spec.model
    existing = {obj.pk: obj for obj in model.objects.all()}
    parent_ids: set[str] = set()
    if spec.parent_field == "province":
        parent_ids = set(Province.objects.values_list("code", flat=True))
    elif spec.parent_field == "district":
        parent_ids = set(District.objects.values_list("code", flat=True))
    counts = LevelCounts()
    to_create, to_update, geometry_changed = [], [], []
    for record in records:
        if record.parent is not None and record.parent not in parent_ids:
            raise BoundaryFileError(
                path,
                f"its parent {spec.parent_field} {record.parent} is not imported; "
                "import the higher level first or in the same run",
                code=record.code,
            )
        values: dict[str, object] = {
            "name_th": record.name_th,
            "name_en": record.name_en,
            "geom": record.geom,
        }
        if spec.parent_field:
            values[f"{spec.parent_field}_id"] = record.parent
        current = existing.get(record.code)
        if current is None:
            to_create.append(model(code=record.code, **values))
            geometry_changed.append(record.code)
            counts.created += 1
            continue
        same_geom = bytes(current.geom.wkb) == bytes(record.geom.wkb)
        same_rest = all(getattr(current, k) == v for k, v in values.items() if k != "geom")
        if same_geom and same_rest:
            counts.unchanged += 1
            continue
        for key, value in values.items():
            setattr(current, key, value)
        to_update.append(current)
        if not same_geom:
            geometry_changed.append(record.code)
        counts.updated += 1
    manager = cast(Any, model._default_manager)  # one of three models, same fields
    manager.bulk_create(to_create, batch_size=500)
    update_fields = ["name_th", "name_en", "geom"] + (
        [spec.parent_field] if spec.parent_field else []
    )
    manager.bulk_update(to_update, update_fields, batch_size=200)
    return counts, geometry_changed


# Every grid cell a changed tambon touches, before (its old pieces) or after.
_AFFECTED_CELLS_SQL = """
CREATE TEMP TABLE takhai_affected_cells AS
SELECT DISTINCT i, j FROM geo_subdistrictcell WHERE subdistrict_id = ANY(%(codes)s)
UNION
SELECT g.i, g.j FROM geo_subdistrict s CROSS JOIN LATERAL ST_SquareGrid(%(size)s, s.geom) g
WHERE s.code = ANY(%(codes)s) AND ST_Intersects(s.geom, g.geom)
"""

# The pieces of every affected cell, from all tambons in it; `lower` joins the
# cell's touching pieces of lower-coded tambons (the border rule).
_CELL_PIECES_SQL = """
INSERT INTO geo_subdistrictcell (subdistrict_id, i, j, whole, geom, lower)
WITH cells AS (
    SELECT i, j, ST_MakeEnvelope(i * %(size)s, j * %(size)s,
                                 (i + 1) * %(size)s, (j + 1) * %(size)s, 4326) AS g
    FROM takhai_affected_cells
), raw AS (
    SELECT s.code, c.i, c.j, ST_Covers(s.geom, c.g) AS whole,
           ST_Multi(ST_CollectionExtract(ST_Intersection(s.geom, c.g), 3)) AS geom
    FROM cells c JOIN geo_subdistrict s ON s.geom && c.g AND ST_Intersects(s.geom, c.g)
), kept AS (
    SELECT * FROM raw WHERE NOT ST_IsEmpty(geom)
), lower AS (
    SELECT k.code, k.i, k.j, ST_Multi(ST_Union(l.geom)) AS g
    FROM kept k JOIN kept l
      ON l.i = k.i AND l.j = k.j AND l.code < k.code AND ST_Intersects(l.geom, k.geom)
    GROUP BY k.code, k.i, k.j
)
SELECT k.code, k.i, k.j, k.whole,
       CASE WHEN k.whole THEN NULL ELSE k.geom END,
       CASE WHEN k.whole THEN NULL ELSE lower.g END
FROM kept k LEFT JOIN lower ON lower.code = k.code AND lower.i = k.i AND lower.j = k.j
"""


def rebuild_subdistrict_cells(codes: Sequence[str]) -> None:
    """Recuts the grid cells that the given tambons touch, before or after a change.

    Neighbours in those cells are recut too, since their ``lower`` may change.
    """
    if not codes:
        return
    params: dict[str, Any] = {"codes": list(codes), "size": SubdistrictCell.SIZE_DEGREES}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS takhai_affected_cells")
        cursor.execute(_AFFECTED_CELLS_SQL, params)
        cursor.execute(
            "DELETE FROM geo_subdistrictcell c USING takhai_affected_cells a "
            "WHERE c.i = a.i AND c.j = a.j"
        )
        cursor.execute(_CELL_PIECES_SQL, params)
        cursor.execute("DROP TABLE takhai_affected_cells")
        cursor.execute("ANALYZE geo_subdistrictcell")


@transaction.atomic
def import_boundaries(
    paths: Sequence[Path | str],
    *,
    only_province: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> ImportReport:
    """Imports boundary files in one transaction: all of them, or nothing.

    Files may come in any order; higher levels are written first. ``only_province``
    keeps the areas of one province (a service area's deployment needs no more).
    """
    report = ImportReport()
    by_level: dict[AreaLevel, list[tuple[Path | str, list[AreaRecord]]]] = {}
    for path in paths:
        spec, records = read_boundary_file(path, report.repairs)
        if only_province:
            records = [r for r in records if r.code.startswith(only_province)]
        by_level.setdefault(spec.level, []).append((path, records))
        report.files.append(str(path))
        if progress:
            progress(f"read {path}: {len(records)} {spec.level.value} areas")
    for spec in LEVELS:
        for path, records in by_level.get(spec.level, []):
            counts, changed_geoms = _upsert(spec, records, path)
            total = report.counts.setdefault(spec.level, LevelCounts())
            total.created += counts.created
            total.updated += counts.updated
            total.unchanged += counts.unchanged
            if spec.level == AreaLevel.SUBDISTRICT:
                rebuild_subdistrict_cells(changed_geoms)
    if report.changed:
        # The gazetteer remembers which codes have a boundary (per process; another
        # process notices within gazetteer.BOUNDARY_CACHE_SECONDS).
        gazetteer.clear_cache()
    return report


def download_boundaries(url: str, *, refresh: bool = False) -> list[str]:
    """Downloads (once) and caches a COD-AB file or zip; returns the GDAL paths to import.

    A zip is read in place through GDAL's ``/vsizip/``; the files of levels 1 to 3 are
    picked by their names (``adm1``, ``adm2``, ``adm3``), shapefiles or GeoJSON.
    """
    cache = Path(settings.CACHE_DIR) / "boundaries" / hashlib.sha256(url.encode()).hexdigest()[:16]
    name = url.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0] or "boundaries"
    target = cache / name
    if refresh or not target.exists():
        if not url.startswith(("http://", "https://", "file://")):
            raise BoundaryFileError(url, "only http, https and file URLs can be downloaded")
        cache.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(target.suffix + ".part")
        with urllib.request.urlopen(url, timeout=120) as response, partial.open("wb") as out:  # noqa: S310
            shutil.copyfileobj(response, out)
        partial.replace(target)
    if not zipfile.is_zipfile(target):
        return [str(target)]
    with zipfile.ZipFile(target) as archive:
        members = archive.namelist()
    picked = []
    for level in ("adm1", "adm2", "adm3"):
        candidates = sorted(
            m
            for m in members
            if level in m.lower() and m.lower().endswith((".shp", ".geojson", ".json"))
        )
        if candidates:
            picked.append(f"/vsizip/{target}/{candidates[0]}")
    if not picked:
        raise BoundaryFileError(url, "the zip holds no adm1, adm2 or adm3 shapefile or GeoJSON")
    return picked
