"""find_unreached on the demo's registry files finds exactly what truth.json says.

Worth its half minute (a minute on a busy machine, most of it reading the
boundary files): it is the one test that takes a service area's files at their
real size (40,000 children, about 74,000 register rows in six affiliations, with
mistyped and missing IDs and G codes) through every importer and the matcher,
and compares the result child by child with the generator's own record of who
is unreached. The demo is generated and imported once for the module, inside a
transaction that is rolled back at its end.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction

from field.demo import config
from field.demo.generate import generate
from field.demo.load import read_tambons
from field.demo.writers import write_files
from field.models import (
    Child,
    ChildStatus,
    ChildYear,
    Enrolment,
    ImportKind,
    ImportRun,
    ImportStatus,
    MatchMethod,
)
from field.services.imports import import_file
from field.services.reconcile import reconcile
from geo import gazetteer
from geo.boundaries import import_boundaries
from geo.models import Subdistrict

# Also what tells pytest-django to create the test database for this module.
pytestmark = pytest.mark.django_db

TAMBONS = sum(config.TAMBONS_PER_DISTRICT.values())
AFFILIATIONS = ("lao", "nfe", "obec", "onab", "opec", "ovec")
REVIEWED = "(sent to review)"
CLASSES = ("enrolled", "dropped_out", "never_enrolled", "graduated")


@dataclass(frozen=True)
class Demo:
    truth: dict[str, Any]
    runs: dict[str, ImportRun]
    counts: dict[str, Any]


@pytest.fixture(scope="module")
def demo(
    django_db_setup: None,
    django_db_blocker: Any,
    boundary_files: list[Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Demo]:
    with django_db_blocker.unblock(), transaction.atomic():
        if Subdistrict.objects.filter(district_id__in=config.DISTRICTS).count() != TAMBONS:
            import_boundaries(boundary_files, only_province=config.PROVINCE)
        directory = tmp_path_factory.mktemp("demo")
        # The files only: the villages and schools come in through their importers
        # too, as they would from DOPA and the school lists.
        write_files(generate(read_tambons()), directory)
        runs = {
            "villages": import_file(kind=ImportKind.VILLAGES, path=directory / "villages.csv"),
            "schools": import_file(kind=ImportKind.SCHOOLS, path=directory / "schools.csv"),
            "population": import_file(
                kind=ImportKind.POPULATION, path=directory / "population.csv"
            ),
        }
        for affiliation in AFFILIATIONS:
            runs[affiliation] = import_file(
                kind=ImportKind.ENROLMENT,
                path=directory / f"enrolment_{affiliation}.csv",
                affiliation=affiliation,
            )
        assert sorted(p.name for p in directory.glob("enrolment_*.csv")) == [
            f"enrolment_{a}.csv" for a in AFFILIATIONS
        ]
        counts = reconcile(academic_year=config.ACADEMIC_YEAR).counts
        truth = json.loads((directory / "truth.json").read_text("utf-8"))
        yield Demo(truth, runs, counts)
        transaction.set_rollback(True)
    gazetteer.clear_cache()
    # As in test_seed_demo: a connection left open in this module's context would
    # keep the test database from being dropped.
    connection.close()


def _warnings_by_file(truth: dict[str, Any]) -> Counter[str]:
    faults = truth["register_faults"]["rows"]
    return Counter(r["file"] for r in faults if r["kind"] in ("mistyped_ids", "missing_ids"))


def test_every_file_goes_in_whole(demo: Demo) -> None:
    truth = demo.truth
    for name, run in demo.runs.items():
        assert run.status == ImportStatus.DONE, (name, run.error)
        assert (run.rejected, run.duplicates, run.unresolved) == (0, 0, 0), name
    assert demo.runs["villages"].imported == truth["villages"]
    assert demo.runs["schools"].imported == truth["schools"]["total"]
    assert demo.runs["population"].imported == truth["population_rows"]
    # The demo's only faults are in the registers: a warning per mistyped or blank ID.
    for name in ("villages", "schools", "population"):
        assert list(demo.runs[name].problems.values_list("row", "reason")) == [], name
    warnings = _warnings_by_file(truth)
    for affiliation in AFFILIATIONS:
        run = demo.runs[affiliation]
        file = f"enrolment_{affiliation}.csv"
        assert run.imported == sum(truth["register_rows"][file].values()), file
        assert run.warnings == warnings[file], file
        assert set(run.problems.values_list("field", flat=True)) <= {"national_id"}


def test_the_counts_are_the_truth(demo: Demo) -> None:
    counts, truth = demo.counts, demo.truth
    assert {k: counts[k] for k in ("in_window", *CLASSES)} == {
        k: truth[k] for k in ("in_window", *CLASSES)
    }
    # Nothing in the demo is ambiguous: a review would be a child the truth counts elsewhere.
    assert counts["review"] == 0
    assert counts["unreached"] == truth["unreached"]


@pytest.mark.parametrize("status", [ChildStatus.NEVER_ENROLLED, ChildStatus.DROPPED_OUT])
def test_the_unreached_are_the_right_children(demo: Demo, status: ChildStatus) -> None:
    found = sorted(
        ChildYear.objects.filter(academic_year=config.ACADEMIC_YEAR, status=status).values_list(
            "child__national_id", flat=True
        )
    )
    assert found == demo.truth[f"{status.value}_ids"]


Where = tuple[str, int, str, str]
"""What a register row wrote: affiliation, academic year, school code, ID as written."""


def _expected_children(truth: dict[str, Any]) -> dict[Where, Counter[str]]:
    # Rows are told apart by what the register wrote; several blank IDs may share a
    # school and year, so each such group must hold exactly its children.
    expected: dict[Where, Counter[str]] = {}
    for r in truth["register_faults"]["rows"]:
        affiliation = r["file"].removeprefix("enrolment_").removesuffix(".csv")
        where = (affiliation, r["academic_year"], r["school_code"], r["written"])
        expected.setdefault(where, Counter())[r["national_id"]] += 1
    return expected


def _faulty_rows() -> list[tuple[Where, Enrolment]]:
    rows = Enrolment.objects.filter(id_kind__in=["invalid", "blank", "g_code"]).select_related(
        "child"
    )
    return [((e.affiliation, e.academic_year, e.school_code, e.national_id), e) for e in rows]


def test_no_faulty_register_row_is_matched_to_another_child(demo: Demo) -> None:
    """Mistyped IDs, blank IDs and G codes: matched by name and birth date to the
    right child, or left to a coordinator with the right child among the candidates."""
    truth = demo.truth
    assert {r["kind"] for r in truth["register_faults"]["rows"]} == {
        "mistyped_ids",
        "missing_ids",
        "g_codes",
    }
    expected = _expected_children(truth)
    found: dict[Where, Counter[str]] = {}
    reviewed = 0
    for where, row in _faulty_rows():
        if row.child is not None:
            assert row.match_method == MatchMethod.NAME, where
            found.setdefault(where, Counter())[row.child.national_id] += 1
            continue
        assert row.match_method == MatchMethod.REVIEW, where
        candidates = Child.objects.filter(pk__in=[c["child"] for c in row.review.candidates])
        assert set(candidates.values_list("national_id", flat=True)) & set(expected[where]), where
        found.setdefault(where, Counter())[REVIEWED] += 1
        reviewed += 1
    assert set(found) == set(expected)
    for where, children in found.items():
        matched = Counter({k: n for k, n in children.items() if k != REVIEWED})
        assert matched <= expected[where], where
        assert children.total() == expected[where].total(), where
    assert reviewed == demo.counts["sent_to_review"]
    # Rows with a usable ID all found their child at import.
    assert not Enrolment.objects.filter(child__isnull=True, match_method="").exists()


def test_every_faulty_register_row_finds_its_child(demo: Demo) -> None:
    """What truth.json defines: each of these rows is its child's, by name and birth date."""
    found: dict[Where, Counter[str]] = {}
    for where, row in _faulty_rows():
        national_id = row.child.national_id if row.child else REVIEWED
        found.setdefault(where, Counter())[national_id] += 1
    assert found == _expected_children(demo.truth)
    assert demo.counts["sent_to_review"] == 0
