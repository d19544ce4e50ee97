"""Shared fixtures: the real Thai boundaries, loaded once per test database.

The boundary files are read from ``settings.BOUNDARIES_DIR`` (by default the
shared data folder beside the repository); they are never copied into it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from geo import gazetteer
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
    gazetteer.clear_cache()


@pytest.fixture(scope="session")
def _khon_kaen_loaded(
    django_db_setup: None, django_db_blocker: pytest.FixtureRequest, boundary_files: list[Path]
) -> Iterator[None]:
    # Committed once per session like the national set: reading the national
    # files for one province takes tens of seconds, too long to repeat per test.
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        if not Province.objects.filter(code="40").exists():
            import_boundaries(boundary_files, only_province="40")
    yield


@pytest.fixture
def khon_kaen_boundaries(_khon_kaen_loaded: None, boundary_files: list[Path]) -> None:
    """Khon Kaen province only: quick enough for transactional and browser tests.

    Request it after `db`, `transactional_db` or `live_server`.
    """
    # A transactional test (browser tests) flushes the tables it ran against.
    if not Province.objects.filter(code="40").exists():
        import_boundaries(boundary_files, only_province="40")
    gazetteer.clear_cache()


# --- Personas (field models) ------------------------------------------------------
# One user per role, with a Profile, in a test province of tiny squares far from
# any real tambon (see tests/factories.py): `coordinator` and `official` cover the
# province, `member_a` and `member_b` one district each and belong to search teams
# A and B, `volunteer` is linked to a Volunteer in district A. All share the
# password factories.TEST_PASSWORD; most tests just use client.force_login.
from django.contrib.auth.models import User  # noqa: E402
from factories import (  # noqa: E402
    DistrictFactory,
    ProfileFactory,
    ProvinceFactory,
    SubdistrictFactory,
    TeamFactory,
    UserFactory,
    VillageFactory,
    VolunteerFactory,
    make,
)

from field.models import Role, Team  # noqa: E402
from geo.models import District  # noqa: E402
from geo.models import Province as _Province  # noqa: E402


@pytest.fixture
def persona_province(db: None) -> _Province:
    return make(ProvinceFactory)


@pytest.fixture
def persona_districts(persona_province: _Province) -> tuple[District, District]:
    """District A (member_a's, the volunteer's) and district B (member_b's)."""
    return (
        make(DistrictFactory, province=persona_province),
        make(DistrictFactory, province=persona_province),
    )


@pytest.fixture
def team_a(db: None) -> Team:
    return make(TeamFactory, name="ทีมค้นหา ก")


@pytest.fixture
def team_b(db: None) -> Team:
    return make(TeamFactory, name="ทีมค้นหา ข")


def _persona(
    username: str, role: Role, province: _Province | None, districts: tuple[District, ...] = ()
) -> User:
    user = make(UserFactory, username=username)
    make(ProfileFactory, user=user, role=role, province=province, districts=list(districts))
    return user


@pytest.fixture
def coordinator(persona_province: _Province, persona_districts: tuple[District, District]) -> User:
    return _persona("coordinator", Role.COORDINATOR, persona_province, persona_districts)


@pytest.fixture
def member_a(
    persona_province: _Province, persona_districts: tuple[District, District], team_a: Team
) -> User:
    user = _persona("member_a", Role.TEAM_MEMBER, persona_province, persona_districts[:1])
    team_a.members.add(user)
    return user


@pytest.fixture
def member_b(
    persona_province: _Province, persona_districts: tuple[District, District], team_b: Team
) -> User:
    user = _persona("member_b", Role.TEAM_MEMBER, persona_province, persona_districts[1:])
    team_b.members.add(user)
    return user


@pytest.fixture
def volunteer(persona_province: _Province, persona_districts: tuple[District, District]) -> User:
    user = _persona("volunteer", Role.VOLUNTEER, persona_province, persona_districts[:1])
    tambon = make(SubdistrictFactory, district=persona_districts[0])
    village = make(VillageFactory, subdistrict=tambon)
    make(VolunteerFactory, user=user, village=village, home=village.point)
    return user


@pytest.fixture
def official(persona_province: _Province) -> User:
    return _persona("official", Role.OFFICIAL, persona_province)


# --- end of personas -------------------------------------------------------------------
