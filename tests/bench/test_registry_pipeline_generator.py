"""The generator of the registry benchmark (bench/registry_data.py), small and
without a database: Bangkok and Khon Kaen, read from the boundary files."""

from __future__ import annotations

import hashlib
import json
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import shapely
from django.conf import settings

from field.registry.dates import parse_registry_date
from field.registry.ids import IdentifierKind, InvalidReason, classify_identifier
from field.registry.tables import (
    ENROLMENT_COLUMNS,
    POPULATION_COLUMNS,
    POPULATION_OPTIONAL,
    Table,
    read_table,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import registry_data as rd  # noqa: E402

ROWS = 4000
ENROLMENT = 3600
PROVINCES = ("10", "40")


@pytest.fixture(scope="module")
def tambons() -> list[rd.Tambon]:
    path = Path(settings.BOUNDARIES_DIR) / "tha_adm3.geojson"
    if not path.exists():
        pytest.fail(f"boundary file missing: {path} (set TAKHAI_BOUNDARIES_DIR)")
    return rd.load_tambons_geojson(path, PROVINCES)


@pytest.fixture(scope="module")
def files(tambons: list[rd.Tambon], tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("registry")
    rd.generate(tambons, directory, rows=ROWS, enrolment=ENROLMENT, seed=7)
    return directory


@pytest.fixture(scope="module")
def truth(files: Path) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((files / "truth.json").read_text(encoding="utf-8"))
    return result


@pytest.fixture(scope="module")
def population(files: Path) -> Table:
    return read_table(
        files / "population.csv", columns=POPULATION_COLUMNS, optional=POPULATION_OPTIONAL
    )


@pytest.fixture(scope="module")
def registers(files: Path, truth: dict[str, Any]) -> dict[str, Table]:
    return {name: read_table(files / name, columns=ENROLMENT_COLUMNS) for name in truth["files"]}


def register_rows(
    registers: dict[str, Table], truth: dict[str, Any]
) -> Iterator[tuple[dict[str, str], str, int]]:
    """(values, true ID, fault bits) of every register row."""
    for name, table in registers.items():
        info = truth["files"][name]
        assert [row.number for row in table.rows] == list(range(2, len(info["true_ids"]) + 2))
        for row in table.rows:
            index = row.number - 2
            yield row.values, info["true_ids"][index], info["faults"][index]


def test_files_are_read_with_the_registry_columns(
    files: Path, population: Table, registers: dict[str, Table], truth: dict[str, Any]
) -> None:
    assert population.encoding == "utf-8-sig"
    assert population.ignored_columns == []
    assert len(population.rows) == ROWS == truth["population_rows"]
    assert registers["enrolment_obec.csv"].encoding == "utf-8"
    assert sum(len(t.rows) for t in registers.values()) == ENROLMENT == truth["enrolment_rows"]
    header = (files / "enrolment_opec.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("national_id,first_name")
    assert set(truth["files"]) == {p.name for p in files.glob("enrolment_*.csv")}


def test_population_ids_pass_the_checksum_and_are_unique(
    population: Table, truth: dict[str, Any]
) -> None:
    kinds = Counter(classify_identifier(row.values["national_id"]).kind for row in population.rows)
    counts = truth["population"]
    assert kinds[IdentifierKind.INVALID] == 0
    assert kinds[IdentifierKind.NON_THAI_ID] == counts["non_thai"] > 0
    assert kinds[IdentifierKind.G_CODE] == counts["g_codes"]
    assert kinds[IdentifierKind.BLANK] == counts["blank_ids"]
    ids = [row.values["national_id"] for row in population.rows if row.values["national_id"]]
    assert len(ids) == len(set(ids))


def test_register_ids_fail_only_where_mistyped(
    registers: dict[str, Table], truth: dict[str, Any], population: Table
) -> None:
    bits = rd.FAULT_BIT
    known = {row.values["national_id"] for row in population.rows}
    for values, true_id, faults in register_rows(registers, truth):
        result = classify_identifier(values["national_id"])
        if faults & bits["mistyped_id"]:
            assert result.kind == IdentifierKind.INVALID
            assert result.reason == InvalidReason.CHECKSUM
            assert sum(a != b for a, b in zip(result.value, true_id, strict=True)) == 1
        elif faults & bits["missing_id"]:
            assert result.kind == IdentifierKind.BLANK
        elif faults & bits["g_code"]:
            assert result.kind == IdentifierKind.G_CODE
            assert result.value != true_id
        else:
            assert result.value == true_id
        assert (true_id in known) == (not faults & bits["not_in_population"])


def test_fault_counts_match_the_rows(registers: dict[str, Table], truth: dict[str, Any]) -> None:
    counted: Counter[str] = Counter()
    for _, _, faults in register_rows(registers, truth):
        counted.update(name for name, bit in rd.FAULT_BIT.items() if faults & bit)
    faults = truth["register_faults"]
    assert {name: faults[name] for name in rd.FAULT_BIT} == {
        name: counted[name] for name in rd.FAULT_BIT
    }
    # Every kind is there, at about its rate, and some rows carry two.
    for name, share in (("mistyped_id", 0.02), ("misspelled_name", 0.02), ("moved_family", 0.02)):
        assert 0.4 * share * ENROLMENT < faults[name] < 2 * share * ENROLMENT, name
    assert faults["missing_id"] > 0 and faults["swapped_date"] > 0 and faults["g_code"] > 0
    assert faults["combined"] > 0
    assert sum(faults["misspelled_name_kinds"].values()) == faults["misspelled_name"]


def test_swapped_dates_swap_day_and_month(
    registers: dict[str, Table], truth: dict[str, Any], population: Table
) -> None:
    births = {row.values["national_id"]: row.values["birth_date"] for row in population.rows}
    swapped = 0
    for values, true_id, faults in register_rows(registers, truth):
        if true_id not in births:
            continue
        written, real = values["birth_date"], births[true_id]
        if faults & rd.FAULT_BIT["swapped_date"]:
            swapped += 1
            assert written == f"{real[3:5]}/{real[:2]}/{real[6:]}" != real
            assert int(real[:2]) <= 12
        else:
            assert written == real
    assert swapped == truth["register_faults"]["swapped_date"] - sum(
        1
        for _, true_id, faults in register_rows(registers, truth)
        if faults & rd.FAULT_BIT["swapped_date"] and true_id not in births
    )


def test_classes_follow_from_the_registers(
    registers: dict[str, Table], truth: dict[str, Any]
) -> None:
    rows_of: dict[str, list[dict[str, str]]] = {}
    for values, true_id, _ in register_rows(registers, truth):
        rows_of.setdefault(true_id, []).append(values)
    classes = truth["classes"]
    assert sum(len(ids) for ids in classes.values()) == (
        truth["in_window"] - truth["never_enrolled_without_id"]
    )
    assert {name: len(ids) for name, ids in classes.items()} == {
        **truth["class_counts"],
        "never_enrolled": truth["class_counts"]["never_enrolled"]
        - truth["never_enrolled_without_id"],
    }
    for national_id in classes["enrolled"]:
        assert "2568" in {r["academic_year"] for r in rows_of[national_id]}
    for national_id in classes["dropped_out"]:
        (row,) = rows_of[national_id]
        assert row["academic_year"] == "2567" and row["status"] in ("left", "studying", "moved")
    for national_id in classes["graduated"]:
        (row,) = rows_of[national_id]
        assert (row["academic_year"], row["status"], row["grade"]) == ("2567", "graduated", "ม.6")
    for national_id in classes["never_enrolled"]:
        assert national_id not in rows_of
    share = {name: len(ids) / truth["in_window"] for name, ids in classes.items()}
    assert 0.015 < share["never_enrolled"] < 0.025
    assert 0.025 < share["dropped_out"] < 0.035


def test_register_rows_are_told_apart_by_their_written_fields(
    registers: dict[str, Table], truth: dict[str, Any]
) -> None:
    keys = Counter(
        values["academic_year"]
        + rd.row_key(
            values["school_code"],
            values["first_name"],
            values["last_name"],
            rd.be_to_iso(values["birth_date"]),
        )
        for values, _, _ in register_rows(registers, truth)
    )
    assert keys.most_common(1)[0][1] == 1


def test_children_are_in_the_age_window_mostly(population: Table, truth: dict[str, Any]) -> None:
    reference = date(2025, 5, 16)
    ages: Counter[int] = Counter()
    for row in population.rows:
        born = parse_registry_date(row.values["birth_date"], today=reference)
        ages[reference.year - born.year - ((5, 16) < (born.month, born.day))] += 1
    inside = sum(n for age, n in ages.items() if 3 <= age <= 18)
    assert inside == truth["in_window"]
    assert 0 < ROWS - inside < 0.15 * ROWS
    assert set(ages) <= set(range(0, 21))


def test_villages_lie_inside_their_tambon(files: Path, tambons: list[rd.Tambon]) -> None:
    table = read_table(
        files / "villages.csv",
        columns={"code": (), "name": (), "lat": (), "lon": ()},
    )
    shapes = {t.code: t.geom for t in tambons}
    per_tambon: Counter[str] = Counter()
    for row in table.rows:
        code = row.values["code"]
        per_tambon[code[:6]] += 1
        assert int(code[6:]) == per_tambon[code[:6]]
        x, y = float(row.values["lon"]), float(row.values["lat"])
        assert shapely.contains_xy(shapes[code[:6]], x, y), code
    assert set(per_tambon) == set(shapes)
    assert min(per_tambon.values()) >= 8 and max(per_tambon.values()) <= 20


def test_addresses_name_real_places_with_known_faults(
    population: Table, tambons: list[rd.Tambon], truth: dict[str, Any], files: Path
) -> None:
    names = {t.name for t in tambons}
    provinces = {t.province_name for t in tambons}
    districts = {t.district_name for t in tambons}
    villages = {
        line.split(",")[0]
        for line in (files / "villages.csv").read_text(encoding="utf-8").splitlines()[1:]
    }
    by_name = {(t.name, t.district_name): t.code for t in tambons}
    misspelled = {m["written"] for m in truth["misspelled_tambons"]}
    unknown_moo = located = 0
    for row in population.rows:
        v = row.values
        assert v["province"] in provinces
        district = v["district"].removeprefix("อ.").removeprefix("เขต")
        assert district in districts
        if v["subdistrict"] not in names:
            assert v["subdistrict"] in misspelled
            continue
        code = by_name[(v["subdistrict"], district)]
        unknown_moo += f"{code}{int(v['moo']):02d}" not in villages
        located += bool(v["lat"])
    assert unknown_moo < 0.05 * ROWS
    assert 0.1 * ROWS < located < 0.3 * ROWS
    assert any(row.values["district"].startswith("อ.") for row in population.rows)
    assert truth["population"]["expected_village_or_better"] > 0.95


def test_the_same_seed_writes_the_same_files(
    tambons: list[rd.Tambon], files: Path, tmp_path: Path
) -> None:
    rd.generate(tambons, tmp_path, rows=ROWS, enrolment=ENROLMENT, seed=7)

    def digest(directory: Path) -> dict[str, str]:
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in directory.iterdir()}

    assert digest(tmp_path) == digest(files)
