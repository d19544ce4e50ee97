"""``seed_demo`` on the real boundaries of Khon Kaen: proportions, geometry, files.

The seed runs twice for the whole module, inside one transaction that is rolled
back at the end, so the rest of the suite never sees the demo rows.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import geothai
import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.models import Count
from django.test import override_settings

from field.demo import config
from field.demo.ids import is_valid_national_id
from field.demo.writers import ENROLMENT_HEADER_EN, ENROLMENT_HEADER_TH, POPULATION_HEADER
from field.models import (
    AreaStat,
    Case,
    CaseStatus,
    ChildYear,
    Profile,
    Role,
    RoutePlan,
    School,
    Team,
    Volunteer,
)
from geo.boundaries import import_boundaries
from geo.models import Subdistrict, Village, VillageCluster

TAMBONS = sum(config.TAMBONS_PER_DISTRICT.values())
EXPECTED_FILES = {
    "README.txt",
    "truth.json",
    "population.csv",
    "schools.csv",
    "villages.csv",
    *(f"enrolment_{a}.csv" for a in ("obec", "lao", "opec", "onab", "nfe", "ovec")),
}


@dataclass(frozen=True)
class Run:
    directory: Path
    seconds: float
    counts: dict[str, object]


def _db_state() -> dict[str, object]:
    tambons = Subdistrict.objects.filter(district_id__in=config.DISTRICTS)
    return {
        "villages": Village.objects.filter(subdistrict__in=tambons).count(),
        "clusters": sorted(
            VillageCluster.objects.filter(subdistrict__in=tambons).values_list(
                "pk", "subdistrict_id", "name"
            )
        ),
        "schools": sorted(School.objects.values_list("pk", "code", "students")),
        "teams": Team.objects.count(),
        "team_members": sorted(
            Team.members.through.objects.values_list("team__name", "user__username")
        ),
        "volunteers": Volunteer.objects.count(),
        "users": sorted(User.objects.values_list("username", flat=True)),
        "profiles": Profile.objects.count(),
        "area_stats": sorted(
            AreaStat.objects.filter(academic_year=config.ACADEMIC_YEAR).values_list(
                "level", "code", "children_in_window", "cases_open", "unreached_in_zone"
            )
        ),
        "children_in_window": ChildYear.objects.filter(academic_year=config.ACADEMIC_YEAR).count(),
        "open_cases": Case.objects.filter(status=CaseStatus.OPEN).count(),
    }


def _seed(directory: Path) -> Run:
    started = time.monotonic()
    with override_settings(DEMO_DIR=directory):
        call_command("seed_demo", stdout=io.StringIO())
    return Run(directory, time.monotonic() - started, _db_state())


@pytest.fixture(scope="module")
def runs(
    django_db_setup: None,
    django_db_blocker: Any,
    boundary_files: list[Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Run, Run]]:
    with django_db_blocker.unblock(), transaction.atomic():
        if Subdistrict.objects.filter(district_id__in=config.DISTRICTS).count() != TAMBONS:
            import_boundaries(boundary_files, only_province=config.PROVINCE)
        first = _seed(tmp_path_factory.mktemp("demo1"))
        # Day plans hold on to the teams and volunteers a second run replaces.
        for options in (["--team", config.TEAM_A], ["--district", "4003", "--volunteers"]):
            call_command(
                "plan_routes",
                "--date",
                "2026-06-01",
                "--seconds",
                "0.1",
                *options,
                stdout=io.StringIO(),
            )
        assert RoutePlan.objects.exists()
        second = _seed(tmp_path_factory.mktemp("demo2"))
        yield first, second
        transaction.set_rollback(True)
    # This module-long transaction may run in another context than the one
    # pytest-django closes at the end (Playwright's greenlets), and a connection
    # left open there keeps the test database from being dropped.
    connection.close()


@pytest.fixture(scope="module")
def truth(runs: tuple[Run, Run]) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((runs[0].directory / "truth.json").read_text("utf-8"))
    return loaded


def _read(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def _be(text: str) -> dt.date:
    day, month, year = (int(part) for part in text.split("/"))
    return dt.date(year - 543, month, day)


def _age(birth: dt.date) -> int:
    ref = config.REFERENCE_DATE
    return ref.year - birth.year - ((ref.month, ref.day) < (birth.month, birth.day))


@pytest.fixture(scope="module")
def population(runs: tuple[Run, Run]) -> list[list[str]]:
    return _read(runs[0].directory / "population.csv")


def test_it_refuses_without_the_tambons(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    # A district that no boundary file has stands for "not imported".
    monkeypatch.setattr(config, "DISTRICTS", ("4099",))
    monkeypatch.setattr(config, "TAMBONS_PER_DISTRICT", {"4099": 3})
    with pytest.raises(CommandError, match="import_boundaries"):
        call_command("seed_demo", stdout=io.StringIO())


def test_print_logins_prints_only_the_logins() -> None:
    out = io.StringIO()
    call_command("seed_demo", "--print-logins", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["username", "role", "password"]
    assert [line.split() for line in lines[1:]] == [
        [name, role, config.DEMO_PASSWORD]
        for name, role in (
            ("admin", "administrator"),
            ("coordinator", "coordinator"),
            ("member_a", "team_member"),
            ("member_b", "team_member"),
            ("volunteer", "volunteer"),
            ("official", "official"),
        )
    ]


def test_it_runs_in_well_under_two_minutes(runs: tuple[Run, Run]) -> None:
    assert all(run.seconds < 60 for run in runs), [run.seconds for run in runs]


def test_the_proportions_of_a_service_area(truth: dict[str, Any]) -> None:
    assert truth["synthetic"] is True
    assert 39_000 <= truth["in_window"] <= 41_000
    assert truth["never_enrolled"] == pytest.approx(780, rel=0.05)
    assert truth["dropped_out"] == pytest.approx(224, rel=0.05)
    assert truth["unreached"] == pytest.approx(1_004, rel=0.05)
    assert truth["in_window"] == sum(
        truth[k] for k in ("enrolled", "dropped_out", "never_enrolled", "graduated")
    )
    assert truth["stateless"]["total"] == pytest.approx(90, abs=10)
    assert 100 < truth["outside_window"]["total"] < 1_000
    faults = truth["register_faults"]
    rows = sum(sum(years.values()) for years in truth["register_rows"].values())
    mistyped = sum(faults["mistyped_ids"].values()) + sum(faults["missing_ids"].values())
    assert 0.01 < mistyped / rows < 0.05


def test_the_schools(runs: tuple[Run, Run]) -> None:
    schools = School.objects.filter(subdistrict__district_id__in=config.DISTRICTS)
    assert schools.count() == 150
    assert schools.filter(is_small=True).count() == 90
    assert schools.filter(point__isnull=True).count() == 0
    affiliations = set(schools.values_list("affiliation", flat=True))
    assert {"obec", "lao", "opec", "nfe", "ovec", "onab"} <= affiliations
    assert schools.filter(affiliation="obec").count() > 100
    for code in schools.filter(affiliation="obec").values_list("code", flat=True):
        assert re.fullmatch(r"1040(01|25)\d{4}", code)
    assert not schools.filter(levels=[]).exists()
    # Every school takes the nearest village point of its own tambon.
    for school in schools.select_related("village"):
        assert school.village is not None and school.point is not None
        assert school.village.subdistrict_id == school.subdistrict_id
        at = school.point
        distances = {
            v.code: v.point.distance(at)
            for v in Village.objects.filter(subdistrict_id=school.subdistrict_id)
        }
        assert school.village_id == min(distances, key=distances.__getitem__)


def test_every_village_is_inside_its_tambon(runs: tuple[Run, Run]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), count(*) FILTER (WHERE NOT ST_Contains(s.geom, v.point))"
            " FROM geo_village v JOIN geo_subdistrict s ON s.code = v.subdistrict_id"
            " WHERE s.district_id = ANY(%s)",
            [list(config.DISTRICTS)],
        )
        total, outside = cursor.fetchone()
    assert outside == 0
    assert 8 * TAMBONS <= total <= 20 * TAMBONS
    counts = Village.objects.values("subdistrict").annotate(n=Count("code"))
    assert all(8 <= n <= 20 for n in counts.values_list("n", flat=True))


def test_the_clusters_partition_each_tambon(runs: tuple[Run, Run]) -> None:
    assert not Village.objects.filter(
        subdistrict__district_id__in=config.DISTRICTS, cluster__isnull=True
    ).exists()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.code, ST_Area(s.geom), sum(ST_Area(c.area)), count(*)"
            " FROM geo_subdistrict s JOIN geo_villagecluster c ON c.subdistrict_id = s.code"
            " WHERE s.district_id = ANY(%s) GROUP BY s.code, s.geom",
            [list(config.DISTRICTS)],
        )
        rows = cursor.fetchall()
        cursor.execute(
            "SELECT coalesce(max(ST_Area(ST_Intersection(a.area, b.area))), 0)"
            " FROM geo_villagecluster a JOIN geo_villagecluster b"
            " ON a.subdistrict_id = b.subdistrict_id AND a.id < b.id"
            " AND ST_Intersects(a.area, b.area)"
        )
        (overlap,) = cursor.fetchone()
    assert len(rows) == TAMBONS
    for code, tambon_area, clusters_area, _ in rows:
        assert clusters_area == pytest.approx(tambon_area, rel=1e-9), code
    assert overlap < 1e-12
    names = VillageCluster.objects.values_list("name", flat=True)
    assert all(re.fullmatch(r"กลุ่มบ้าน \d+", n) for n in names)


def test_teams_volunteers_and_logins(runs: tuple[Run, Run]) -> None:
    team_a = Team.objects.get(name=config.TEAM_A)
    team_b = Team.objects.get(name=config.TEAM_B)
    assert team_a.base_school is not None and team_a.base_school.subdistrict_id is not None
    assert team_a.base_school.subdistrict_id.startswith("4001")
    assert team_b.base_school is not None and team_b.base_school.subdistrict_id is not None
    assert team_b.base_school.subdistrict_id.startswith("4002")
    assert list(team_a.members.values_list("username", flat=True)) == ["member_a"]
    assert list(team_b.members.values_list("username", flat=True)) == ["member_b"]
    assert Volunteer.objects.count() == config.VOLUNTEERS
    assert Volunteer.objects.values("kind").distinct().count() >= 4
    assert Volunteer.objects.get(user__username="volunteer").village is not None
    roles = dict(Profile.objects.values_list("user__username", "role"))
    assert roles == {
        "admin": Role.ADMINISTRATOR,
        "coordinator": Role.COORDINATOR,
        "member_a": Role.TEAM_MEMBER,
        "member_b": Role.TEAM_MEMBER,
        "volunteer": Role.VOLUNTEER,
        "official": Role.OFFICIAL,
    }
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.check_password(config.DEMO_PASSWORD)


def test_the_population_file(population: list[list[str]], truth: dict[str, Any]) -> None:
    header, *rows = population
    assert tuple(header) == POPULATION_HEADER
    ids = [r[0] for r in rows]
    assert all(is_valid_national_id(i) for i in ids)
    assert len(set(ids)) == len(ids)
    ages = [_age(_be(r[5])) for r in rows]
    in_window = [r for r, a in zip(rows, ages, strict=True) if 3 <= a <= 18]
    assert len(in_window) == truth["in_window"]
    assert {a for a in ages if not 3 <= a <= 18} == {0, 1, 2, 19, 20}
    stateless = [r for r in in_window if r[0][0] in "067"]
    assert len(stateless) == truth["stateless"]["total"]
    assert all(r[12] != "ไทย" for r in stateless)
    located = sum(r[13] != "" for r in rows) / len(rows)
    assert 0.15 < located < 0.25
    assert {r[4] for r in rows} == {"ช", "ญ"}
    assert all(re.fullmatch(r"\d+(/\d+)?", r[6]) for r in rows)
    postcodes = {
        s.name_th: s.postal_codes[0] for d in config.DISTRICTS for s in geothai.subdistricts(d)
    }
    assert all(postcodes[r[8]] == r[11] for r in rows)


def _registers(directory: Path) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for path in sorted(directory.glob("enrolment_*.csv")):
        header, *body = _read(path)
        expected = ENROLMENT_HEADER_TH if path.name == "enrolment_obec.csv" else ENROLMENT_HEADER_EN
        assert tuple(header) == expected, path.name
        rows += [dict(zip(ENROLMENT_HEADER_EN, r, strict=True)) for r in body]
    return rows


def test_the_registers_reconcile_to_the_truth(
    runs: tuple[Run, Run], population: list[list[str]], truth: dict[str, Any]
) -> None:
    """An independent reconciliation of the files finds exactly what truth.json says."""
    registers = _registers(runs[0].directory)
    assert {r["academic_year"] for r in registers} == {"2567", "2568"}
    assert {r["status"] for r in registers} == {"studying", "graduated", "moved", "left"}
    written = [r["national_id"] for r in registers]
    assert all(i == "" or re.fullmatch(r"G\d{12}", i) or len(i) == 13 for i in written)
    mistyped = sum(i.isdigit() and not is_valid_national_id(i) for i in written)
    assert mistyped == sum(truth["register_faults"]["mistyped_ids"].values())
    assert written.count("") == sum(truth["register_faults"]["missing_ids"].values())

    def key(first: str, last: str, birth: str) -> tuple[str, str, str]:
        return (first, last, birth)

    seen: dict[str, dict[object, list[dict[str, str]]]] = {"2567": {}, "2568": {}}
    for r in registers:
        by = seen[r["academic_year"]]
        by.setdefault(r["national_id"], []).append(r)
        by.setdefault(key(r["first_name"], r["last_name"], r["birth_date"]), []).append(r)
    outcome: dict[str, int] = {}
    for row in population[1:]:
        if not 3 <= _age(_be(row[5])) <= 18:
            continue
        child_key = key(row[2], row[3], row[5])
        now = seen["2568"].get(row[0]) or seen["2568"].get(child_key)
        before = seen["2567"].get(row[0]) or seen["2567"].get(child_key) or []
        if now:
            found = "enrolled"
        elif any(r["status"] == "graduated" and r["grade"] in ("ม.6", "ปวช.3") for r in before):
            found = "graduated"
        elif before:
            found = "dropped_out"
        else:
            found = "never_enrolled"
        outcome[found] = outcome.get(found, 0) + 1
    assert outcome == {
        k: truth[k] for k in ("enrolled", "dropped_out", "never_enrolled", "graduated")
    }


def test_the_other_files(runs: tuple[Run, Run], truth: dict[str, Any]) -> None:
    directory = runs[0].directory
    assert {p.name for p in directory.iterdir()} == EXPECTED_FILES
    assert "SYNTHETIC" in (directory / "README.txt").read_text("utf-8")
    header, *schools = _read(directory / "schools.csv")
    assert header[:7] == ["code", "name", "affiliation", "levels", "lat", "lon", "subdistrict"]
    assert len(schools) == 150 == truth["schools"]["total"]
    assert sum(int(s[7]) <= 120 for s in schools) == 90
    header, *villages = _read(directory / "villages.csv")
    assert header == ["code", "name", "lat", "lon"]
    assert len(villages) == truth["villages"]
    assert all(re.fullmatch(r"400[123]\d{4}", v[0]) and v[1].startswith("บ้าน") for v in villages)


def _digest(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in directory.iterdir()}


def test_two_runs_write_identical_files(runs: tuple[Run, Run]) -> None:
    assert _digest(runs[0].directory) == _digest(runs[1].directory)


def test_the_officials_counts_are_made_with_the_demo(runs: tuple[Run, Run]) -> None:
    rows = cast(list[tuple[str, str, int, int, int]], runs[0].counts["area_stats"])
    stats = {(level, code): rest for level, code, *rest in rows}
    children, open_cases, in_zone = stats["country", "TH"]
    assert children == runs[0].counts["children_in_window"]
    assert open_cases == runs[0].counts["open_cases"]
    assert children > 0 and open_cases > 0
    assert in_zone > 0
    assert {code for level, code in stats if level == "district"} == set(config.DISTRICTS)


def test_a_second_run_leaves_the_same_rows(runs: tuple[Run, Run]) -> None:
    # Cluster and school ids included: upserts keep them.
    assert runs[0].counts == runs[1].counts
