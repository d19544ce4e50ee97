"""Shared fixtures: the real Thai boundaries, loaded once per test database.

The boundary files are read from ``settings.BOUNDARIES_DIR`` (by default the
shared data folder beside the repository); they are never copied into it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from geo.boundaries import import_boundaries
from geo.models import Province, Subdistrict

BOUNDARY_FILES = ("tha_adm1.geojson", "tha_adm2.geojson", "tha_adm3.geojson")
NATIONAL_SUBDISTRICTS = 7425


@pytest.fixture(scope="session")
def boundary_files() -> list[Path]:
    paths = [Path(settings.BOUNDARIES_DIR) / name for name in BOUNDARY_FILES]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        pytest.fail(
            "real boundary files are missing: "
            + ", ".join(missing)
            + " (set TAKHAI_BOUNDARIES_DIR; see data/boundaries/README.md)"
        )
    return paths


@pytest.fixture(scope="session")
def _national_boundaries_loaded(
    django_db_setup: None, django_db_blocker: pytest.FixtureRequest, boundary_files: list[Path]
) -> Iterator[None]:
    # Committed once, outside the per-test transactions, so every `db` test shares it.
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        import_boundaries(boundary_files)
    yield


@pytest.fixture
def national_boundaries(
    _national_boundaries_loaded: None, db: None, boundary_files: list[Path]
) -> None:
    """All 77 provinces, 928 districts and 7,425 tambons."""
    # A transactional test (browser tests) flushes the tables it ran against.
    if Subdistrict.objects.count() != NATIONAL_SUBDISTRICTS:
        import_boundaries(boundary_files)


@pytest.fixture
def khon_kaen_boundaries(boundary_files: list[Path]) -> None:
    """Khon Kaen province only: quick enough for transactional and browser tests.

    Request it after `db`, `transactional_db` or `live_server`.
    """
    if not Province.objects.filter(code="40").exists():
        import_boundaries(boundary_files, only_province="40")
