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
from geo.models import Province

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
import datetime as dt  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402

from django.contrib.auth.models import User  # noqa: E402
from django.contrib.gis.geos import Point  # noqa: E402
from factories import (  # noqa: E402
    CaseFactory,
    ChildFactory,
    DistrictFactory,
    HouseholdFactory,
    ProfileFactory,
    ProvinceFactory,
    SubdistrictFactory,
    TeamFactory,
    UserFactory,
    VillageFactory,
    VolunteerFactory,
    make,
)

from field.models import Case, Household, Role, Team, TeamArea, Volunteer  # noqa: E402
from field.services.teams import team_area_assign  # noqa: E402
from geo.models import District, Subdistrict, Village, VillageCluster  # noqa: E402
from geo.models import Province as _Province  # noqa: E402
from geo.services import clusters_replace  # noqa: E402


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
def team_a(persona_districts: tuple[District, District]) -> Team:
    return make(TeamFactory, name="ทีมค้นหา ก", district=persona_districts[0])


@pytest.fixture
def team_b(persona_districts: tuple[District, District]) -> Team:
    return make(TeamFactory, name="ทีมค้นหา ข", district=persona_districts[1])


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


# --- teams in the field ------------------------------------------------------------------


@dataclass
class FieldWorld:
    """Two teams' areas, and open cases in and between them.

    - tambon ``whole_a`` (district A) is team A's, whole;
    - tambon ``split_b`` (district B) has a west and an east cluster, one village
      each: the west cluster is team B's, the east one nobody's.
    Each list holds open cases, one child per household.
    """

    whole_a: Subdistrict
    split_b: Subdistrict
    west: VillageCluster
    east: VillageCluster
    cases_a: list[Case]
    cases_b: list[Case]
    cases_unassigned: list[Case]
    areas: dict[str, TeamArea] = field(default_factory=dict)


def _open_cases(
    tambon: Subdistrict, x: float, y: float, n: int, village: Village | None
) -> list[Case]:
    cases = []
    for i in range(n):
        household = make(
            HouseholdFactory,
            subdistrict=tambon,
            village=village,
            point=Point(x + i * 0.0002, y, srid=4326),
        )
        cases.append(make(CaseFactory, child=make(ChildFactory, household=household)))
    return cases


@pytest.fixture
def field_world(
    persona_districts: tuple[District, District], team_a: Team, team_b: Team
) -> FieldWorld:
    whole_a = make(SubdistrictFactory, district=persona_districts[0])
    split_b = make(SubdistrictFactory, district=persona_districts[1])
    x0, y0, x1, y1 = split_b.geom.extent
    middle = (y0 + y1) / 2
    west_village = make(
        VillageFactory, subdistrict=split_b, point=Point(x0 + 0.002, middle, srid=4326)
    )
    east_village = make(
        VillageFactory, subdistrict=split_b, point=Point(x1 - 0.002, middle, srid=4326)
    )
    west, east = clusters_replace(
        subdistrict=split_b, groups={"ตะวันตก": [west_village], "ตะวันออก": [east_village]}
    )
    ax, ay = whole_a.geom.centroid.coords
    world = FieldWorld(
        whole_a=whole_a,
        split_b=split_b,
        west=west,
        east=east,
        cases_a=_open_cases(whole_a, ax - 0.002, ay, 3, None),
        cases_b=_open_cases(split_b, x0 + 0.001, middle, 3, west_village),
        cases_unassigned=_open_cases(split_b, x1 - 0.003, middle, 2, east_village),
    )
    world.areas["a"] = team_area_assign(team=team_a, subdistrict=whole_a, by=None)
    world.areas["b"] = team_area_assign(team=team_b, subdistrict=split_b, cluster=west, by=None)
    return world


# --- volunteer zones -------------------------------------------------------------------------


@dataclass
class ZoneWorld:
    """District A's volunteer zones, in metres at about 5°N (0.001° ≈ 111 m):

    - the ``volunteer`` persona's Volunteer (``west``) lives 1.1 km west of the
      district's centre, ``east`` 1.1 km east of it: 2.2 km apart, so each can
      reach the other's households within the 3 km limit;
    - four households with open cases beside each home (``west_homes``, the
      first with two cases, and ``east_homes``);
    - ``far``: one household 5.9 km from the nearer home, beyond both; only
      ``gone``, a volunteer who stopped in 2025, lived beside it;
    - villages ``west_village``, ``east_village`` and ``far_village``, one
      cluster each.
    """

    district: District
    tambon: Subdistrict
    west: Volunteer
    east: Volunteer
    gone: Volunteer
    west_homes: list[Household]
    east_homes: list[Household]
    far: Household
    west_village: Village
    east_village: Village
    far_village: Village
    clusters: dict[str, VillageCluster]


def _zone_household(
    tambon: Subdistrict, village: Village, x: float, y: float, cases: int
) -> Household:
    household = make(
        HouseholdFactory, subdistrict=tambon, village=village, point=Point(x, y, srid=4326)
    )
    for _ in range(cases):
        make(CaseFactory, child=make(ChildFactory, household=household))
    return household


@pytest.fixture
def zone_world(persona_districts: tuple[District, District], volunteer: User) -> ZoneWorld:
    district = persona_districts[0]
    x0, y0, _x1, _y1 = district.geom.extent
    cx, cy = x0 + 0.05, y0 + 0.05
    tambon = make(SubdistrictFactory, district=district)
    west_village = make(VillageFactory, subdistrict=tambon, point=Point(cx - 0.01, cy, srid=4326))
    east_village = make(VillageFactory, subdistrict=tambon, point=Point(cx + 0.01, cy, srid=4326))
    far_village = make(
        VillageFactory, subdistrict=tambon, point=Point(cx + 0.045, cy + 0.04, srid=4326)
    )
    clusters = dict(
        zip(
            ("west", "east", "far"),
            clusters_replace(
                subdistrict=tambon,
                groups={"ตะวันตก": [west_village], "ตะวันออก": [east_village], "ไกล": [far_village]},
            ),
            strict=True,
        )
    )
    west = volunteer.volunteer
    west.home = Point(cx - 0.01, cy, srid=4326)
    west.village = west_village
    west.save()
    east = make(
        VolunteerFactory, name="นางอาสา ตะวันออก", village=east_village, home=east_village.point
    )
    gone = make(
        VolunteerFactory,
        name="นายอาสา ย้ายไปแล้ว",
        village=far_village,
        home=far_village.point,
        active_to=dt.date(2025, 12, 31),
    )
    west_homes = [
        _zone_household(
            tambon,
            west_village,
            cx - 0.012 + i * 0.001,
            cy + 0.001 + 0.0008 * (i % 2),
            2 if i == 0 else 1,
        )
        for i in range(4)
    ]
    east_homes = [
        _zone_household(
            tambon, east_village, cx + 0.009 + i * 0.001, cy + 0.001 + 0.0008 * (i % 2), 1
        )
        for i in range(4)
    ]
    far = _zone_household(tambon, far_village, cx + 0.045, cy + 0.04, 1)
    return ZoneWorld(
        district=district,
        tambon=tambon,
        west=west,
        east=east,
        gone=gone,
        west_homes=west_homes,
        east_homes=east_homes,
        far=far,
        west_village=west_village,
        east_village=east_village,
        far_village=far_village,
        clusters=clusters,
    )


# --- the append-only audit log -------------------------------------------------------------
from django.db import connection  # noqa: E402
from django.test import TransactionTestCase  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def _audit_log_flushable() -> Iterator[None]:
    """Transactional tests end by truncating every table, which the audit log's
    trigger refuses (migration 0016), as it should anywhere but here. The test
    database's owner lifts it for the flush alone."""
    original = TransactionTestCase._fixture_teardown  # type: ignore[attr-defined]

    def teardown(self: TransactionTestCase) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "ALTER TABLE field_auditevent DISABLE TRIGGER field_auditevent_no_truncate"
            )
        try:
            original(self)
        finally:
            with connection.cursor() as cursor:
                cursor.execute(
                    "ALTER TABLE field_auditevent ENABLE TRIGGER field_auditevent_no_truncate"
                )

    TransactionTestCase._fixture_teardown = teardown  # type: ignore[attr-defined]
    yield
    TransactionTestCase._fixture_teardown = original  # type: ignore[attr-defined]
