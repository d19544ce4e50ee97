"""Per-area statistics (``field.services.stats``): a small world with every count
known at tambon, district, province and country level; incremental refreshes that
must leave exactly what a full refresh leaves; the ``refresh_stats`` command.

The world, for academic year 2568 (starting 16 May 2025), in one test province:

- district ``d1``: tambon ``t1`` (team A's, whole) and tambon ``t2`` (a west and an
  east cluster; team B holds the west one);
- district ``d2``: tambon ``t3`` (team C's until it ended) and tambon ``t4`` (one
  open case and nothing else);
- one household with no tambon.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.contrib.gis.geos import Point
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from factories import (
    CaseFactory,
    ChildFactory,
    ChildYearFactory,
    DistrictFactory,
    HouseholdFactory,
    ImportRunFactory,
    ProfileFactory,
    ProvinceFactory,
    SchoolFactory,
    SubdistrictFactory,
    TeamFactory,
    UserFactory,
    VillageFactory,
    VolunteerFactory,
    ZoneAssignmentFactory,
    make,
)

from field.gap_selectors import gap_layer
from field.models import (
    AREA_STAT_COUNTS,
    AreaPublication,
    AreaStat,
    Case,
    CaseStatus,
    ChildStatus,
    CloseReason,
    Household,
    ImportKind,
    ImportRun,
    Precision,
    Resolution,
    Role,
    School,
    SchoolLevel,
    SearchOutcome,
    StatLevel,
    Team,
)
from field.services.cases import visit_record
from field.services.schools import schools_upsert
from field.services.stats import (
    stats_changed_tambons,
    stats_refresh,
    stats_refresh_changed,
)
from field.services.teams import team_area_assign, team_area_end
from geo.models import District, Subdistrict, VillageCluster
from geo.services import clusters_replace

YEAR = 2568
LONG_AGO = dt.timedelta(days=1)


@dataclass
class StatWorld:
    d1: District
    d2: District
    t1: Subdistrict
    t2: Subdistrict
    t3: Subdistrict
    t4: Subdistrict
    east: VillageCluster
    team_b: Team
    cases: dict[str, Case]
    households: dict[str, Household]
    member: User


def _child(household: Household, run: ImportRun, status: str | None, age: int = 10) -> Any:
    child = make(ChildFactory, household=household, run=run)
    if status is not None:
        make(ChildYearFactory, child=child, status=status, age=age)
    return child


@pytest.fixture
def world(db: None) -> StatWorld:
    ago = timezone.now() - LONG_AGO
    # Imports and writes well before the first refresh: the incremental runs in the
    # tests then see only what each test changes.
    run = make(ImportRunFactory, started_at=ago, finished_at=ago)
    member = make(UserFactory)
    province = make(ProvinceFactory)
    d1 = make(DistrictFactory, province=province)
    d2 = make(DistrictFactory, province=province)
    t1 = make(SubdistrictFactory, district=d1)
    t2 = make(SubdistrictFactory, district=d1)
    t3 = make(SubdistrictFactory, district=d2)
    t4 = make(SubdistrictFactory, district=d2)
    x0, y0, x1, y1 = t2.geom.extent
    middle = (y0 + y1) / 2
    west_village = make(VillageFactory, subdistrict=t2, point=Point(x0 + 0.002, middle, srid=4326))
    east_village = make(VillageFactory, subdistrict=t2, point=Point(x1 - 0.002, middle, srid=4326))
    west, east = clusters_replace(
        subdistrict=t2, groups={"ตะวันตก": [west_village], "ตะวันออก": [east_village]}
    )

    def household(tambon: Subdistrict | None, point: Point | None = None) -> Household:
        if tambon is None:
            return make(HouseholdFactory, subdistrict=None, precision=Precision.UNRESOLVED)
        if point is None:
            return make(HouseholdFactory, subdistrict=tambon)
        return make(HouseholdFactory, subdistrict=tambon, point=point)

    h = {
        "h1": household(t1),
        "h2": household(t1),
        "h3": household(t2, Point(x0 + 0.002, middle + 0.001, srid=4326)),
        "h4": household(t2, Point(x1 - 0.002, middle + 0.001, srid=4326)),
        "h5": household(t2, Point(x1 - 0.003, middle, srid=4326)),
        "h6": household(t1),
        "h7": household(t3),
        "h8": household(t3),
        "h9": household(t4),
        "unplaced": household(None),
    }
    start = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
    c = {
        # t1: two unreached children in one household, one brought back.
        "k1": make(CaseFactory, child=_child(h["h1"], run, ChildStatus.NEVER_ENROLLED, 10)),
        "k2": make(CaseFactory, child=_child(h["h1"], run, ChildStatus.DROPPED_OUT, 16)),
        # t2: visited in the west cluster, found in the east one.
        "k3": make(CaseFactory, child=_child(h["h3"], run, ChildStatus.REVIEW, 12)),
        "k4": make(CaseFactory, child=_child(h["h4"], run, ChildStatus.NEVER_ENROLLED, 5)),
        # t2: brought back and closed this year; and one closed the year before.
        "k5": make(
            CaseFactory,
            child=_child(h["h5"], run, ChildStatus.ENROLLED, 9),
            status=CaseStatus.CLOSED,
            closed_at=start + dt.timedelta(days=60),
            close_reason=CloseReason.FOUND_ENROLLED,
        ),
        "k6": make(
            CaseFactory,
            child=_child(h["h5"], run, None),
            academic_year=2566,
            status=CaseStatus.CLOSED,
            closed_at=dt.datetime(2024, 1, 10, tzinfo=dt.UTC),
            close_reason=CloseReason.FOUND_ENROLLED,
        ),
        # Registered in t1, found living in t3: the child counts in t1, the case in t3.
        "k7": make(
            CaseFactory,
            child=_child(h["h6"], run, ChildStatus.DROPPED_OUT, 14),
            whereabouts=h["h7"],
        ),
        # Opened for next year: not this year's business.
        "k8": make(CaseFactory, child=_child(h["h8"], run, None), academic_year=2569),
        "k9": make(CaseFactory, child=_child(h["h9"], run, None)),
        "k10": make(CaseFactory, child=_child(h["unplaced"], run, ChildStatus.NEVER_ENROLLED, 7)),
    }
    _child(h["h2"], run, ChildStatus.ENROLLED, 8)
    _child(h["h8"], run, ChildStatus.GRADUATED, 17)

    for key, outcome, resolution in (
        ("k2", SearchOutcome.FOUND_AT_ADDRESS, Resolution.RETURNED_TO_SCHOOL),
        ("k3", SearchOutcome.NOT_FOUND, ""),
        ("k4", SearchOutcome.FOUND_AT_ADDRESS, ""),
        ("k5", SearchOutcome.FOUND_ELSEWHERE, Resolution.RETURNED_TO_SCHOOL),
        ("k6", SearchOutcome.FOUND_AT_ADDRESS, Resolution.RETURNED_TO_SCHOOL),
    ):
        visit_record(
            case=c[key], by=member, at=ago, point=None, outcome=outcome, resolution=resolution
        )

    team_a = make(TeamFactory, district=d1)
    team_b = make(TeamFactory, district=d1)
    team_c = make(TeamFactory, district=d2)
    team_area_assign(team=team_a, subdistrict=t1, by=None, at=ago)
    team_area_assign(team=team_b, subdistrict=t2, cluster=west, by=None, at=ago)
    ended = team_area_assign(team=team_c, subdistrict=t3, by=None, at=ago - LONG_AGO)
    team_area_end(area=ended, at=ago)

    volunteer = make(VolunteerFactory)
    make(ZoneAssignmentFactory, household=h["h1"], volunteer=volunteer)
    make(
        ZoneAssignmentFactory,
        household=h["h7"],
        volunteer=volunteer,
        started_at=ago - LONG_AGO,
        ended_at=ago,
    )
    Case.objects.update(updated_at=ago)
    return StatWorld(
        d1=d1,
        d2=d2,
        t1=t1,
        t2=t2,
        t3=t3,
        t4=t4,
        east=east,
        team_b=team_b,
        cases=c,
        households=h,
        member=member,
    )


def _counts(**given: int) -> dict[str, int]:
    unknown = set(given) - set(AREA_STAT_COUNTS)
    assert not unknown, unknown
    return {name: given.get(name, 0) for name in AREA_STAT_COUNTS}


def _rows(year: int = YEAR) -> dict[tuple[str, str], dict[str, int]]:
    return {
        (row["level"], row["code"]): {name: row[name] for name in AREA_STAT_COUNTS}
        for row in AreaStat.objects.filter(academic_year=year).values(
            "level", "code", *AREA_STAT_COUNTS
        )
    }


def test_full_refresh_counts_every_level(world: StatWorld) -> None:
    result = stats_refresh(academic_year=YEAR)

    # This world has no school: every child of 6-17 with a placed household is far.
    t1 = _counts(
        children_in_window=4,
        compulsory_age=3,
        enrolled=1,
        dropped_out=2,
        never_enrolled=1,
        cases_open=2,
        cases_resolved=1,
        cases_brought_back=1,
        unreached_households=1,
        unreached_in_zone=1,
        unreached_in_team_area=1,
        age_primary=2,
        far_primary=2,
        age_secondary=2,
        far_secondary=2,
    )
    t2 = _counts(
        children_in_window=3,
        compulsory_age=2,
        enrolled=1,
        never_enrolled=1,
        in_review=1,
        cases_open=2,
        cases_visited=1,
        cases_found=1,
        cases_brought_back=1,
        unreached_households=2,
        unreached_in_team_area=1,
        age_primary=1,
        far_primary=1,
        age_secondary=1,
        far_secondary=1,
    )
    t3 = _counts(
        children_in_window=1,
        graduated=1,
        cases_open=1,
        unreached_households=1,
        age_secondary=1,
        far_secondary=1,
    )
    t4 = _counts(cases_open=1, unreached_households=1)
    d1 = _counts(
        children_in_window=7,
        compulsory_age=5,
        enrolled=2,
        dropped_out=2,
        never_enrolled=2,
        in_review=1,
        cases_open=4,
        cases_visited=1,
        cases_found=1,
        cases_resolved=1,
        cases_brought_back=2,
        unreached_households=3,
        unreached_in_zone=1,
        unreached_in_team_area=2,
        age_primary=3,
        far_primary=3,
        age_secondary=3,
        far_secondary=3,
    )
    d2 = _counts(
        children_in_window=1,
        graduated=1,
        cases_open=2,
        unreached_households=2,
        age_secondary=1,
        far_secondary=1,
    )
    province = {name: d1[name] + d2[name] for name in AREA_STAT_COUNTS}
    unplaced = _counts(
        children_in_window=1,
        compulsory_age=1,
        never_enrolled=1,
        cases_open=1,
        unreached_households=1,
    )
    country = {name: province[name] + unplaced[name] for name in AREA_STAT_COUNTS}
    assert _rows() == {
        (StatLevel.TAMBON, world.t1.code): t1,
        (StatLevel.TAMBON, world.t2.code): t2,
        (StatLevel.TAMBON, world.t3.code): t3,
        (StatLevel.TAMBON, world.t4.code): t4,
        (StatLevel.DISTRICT, world.d1.code): d1,
        (StatLevel.DISTRICT, world.d2.code): d2,
        (StatLevel.PROVINCE, world.d1.province_id): province,
        (StatLevel.COUNTRY, "TH"): country,
    }
    assert result.full
    assert result.tambons_recounted == 4
    assert result.rows_written == 8
    assert timezone.is_aware(result.refreshed_at)
    assert (
        AreaStat.objects.filter(academic_year=YEAR)
        .exclude(refreshed_at=result.refreshed_at)
        .count()
        == 0
    )
    # Another year has its own rows: none here, since no child is in its window.
    assert _rows(2569) == {}


def test_a_full_refresh_removes_rows_of_areas_left_empty(world: StatWorld) -> None:
    stats_refresh(academic_year=YEAR)
    Case.objects.filter(pk=world.cases["k9"].pk).update(
        status=CaseStatus.CLOSED,
        closed_at=dt.datetime(2025, 4, 1, tzinfo=dt.UTC),
        close_reason=CloseReason.OUT_OF_WINDOW,
    )
    result = stats_refresh(academic_year=YEAR)
    assert (StatLevel.TAMBON, world.t4.code) not in _rows()
    assert result.rows_deleted == 1


def _publications(year: int = YEAR) -> dict[tuple[str, str], Any]:
    return {
        (p.level, p.code): (p.k, p.areas)
        for p in AreaPublication.objects.filter(academic_year=year)
    }


def _incremental_then_full(world: StatWorld) -> tuple[Any, dict[Any, Any], dict[Any, Any]]:
    incremental = stats_refresh_changed(academic_year=YEAR)
    after_incremental, published = _rows(), _publications()
    stats_refresh(academic_year=YEAR)
    # What the map publishes, too, is what a full refresh would publish.
    assert published == _publications()
    return incremental, after_incremental, _rows()


def _close(case: Case, reason: CloseReason = CloseReason.OUT_OF_WINDOW) -> None:
    # As find_unreached closes a case: the time of the change goes with it.
    now = timezone.now()
    Case.objects.filter(pk=case.pk).update(
        status=CaseStatus.CLOSED, closed_at=now, close_reason=reason, updated_at=now
    )


def test_first_changed_refresh_is_full(world: StatWorld) -> None:
    result = stats_refresh_changed(academic_year=YEAR)
    assert result.full
    assert len(_rows()) == 8


def test_incremental_after_a_visit_matches_a_full_refresh(world: StatWorld) -> None:
    stats_refresh(academic_year=YEAR)
    before = _rows()
    visit_record(
        case=world.cases["k1"],
        by=world.member,
        at=timezone.now(),
        point=None,
        outcome=SearchOutcome.FOUND_AT_ADDRESS,
        resolution=Resolution.RETURNED_TO_SCHOOL,
    )
    incremental, after_incremental, after_full = _incremental_then_full(world)
    assert not incremental.full
    assert incremental.tambons_recounted == 1
    assert after_incremental == after_full
    t1 = after_full[(StatLevel.TAMBON, world.t1.code)]
    assert t1["cases_brought_back"] == 2
    assert t1["cases_resolved"] == 2
    country = after_full[(StatLevel.COUNTRY, "TH")]
    assert (
        country["cases_brought_back"] == before[(StatLevel.COUNTRY, "TH")]["cases_brought_back"] + 1
    )


def test_incremental_after_a_case_closed_matches_a_full_refresh(world: StatWorld) -> None:
    stats_refresh(academic_year=YEAR)
    _close(world.cases["k3"])
    incremental, after_incremental, after_full = _incremental_then_full(world)
    assert not incremental.full
    assert incremental.tambons_recounted == 1
    assert after_incremental == after_full
    t2 = after_full[(StatLevel.TAMBON, world.t2.code)]
    assert (t2["cases_open"], t2["cases_visited"], t2["unreached_in_team_area"]) == (1, 0, 0)


def test_incremental_after_a_team_area_added_matches_a_full_refresh(world: StatWorld) -> None:
    stats_refresh(academic_year=YEAR)
    team_area_assign(team=world.team_b, subdistrict=world.t2, cluster=world.east, by=None)
    incremental, after_incremental, after_full = _incremental_then_full(world)
    assert not incremental.full
    assert after_incremental == after_full
    assert after_full[(StatLevel.TAMBON, world.t2.code)]["unreached_in_team_area"] == 2
    assert after_full[(StatLevel.PROVINCE, world.d1.province_id)]["unreached_in_team_area"] == 3


def test_incremental_after_a_zone_assignment_matches_a_full_refresh(world: StatWorld) -> None:
    stats_refresh(academic_year=YEAR)
    make(
        ZoneAssignmentFactory,
        household=world.households["h4"],
        volunteer=make(VolunteerFactory),
        started_at=timezone.now(),
    )
    incremental, after_incremental, after_full = _incremental_then_full(world)
    assert not incremental.full
    assert after_incremental == after_full
    assert after_full[(StatLevel.TAMBON, world.t2.code)]["unreached_in_zone"] == 1


def test_a_tambon_whose_last_case_closes_loses_its_rows(world: StatWorld) -> None:
    stats_refresh(academic_year=YEAR)
    _close(world.cases["k9"])
    incremental, after_incremental, after_full = _incremental_then_full(world)
    assert after_incremental == after_full
    assert (StatLevel.TAMBON, world.t4.code) not in after_full
    # t3 still has its case and its graduate: the district stays, one case fewer.
    assert after_full[(StatLevel.DISTRICT, world.d2.code)]["cases_open"] == 1
    assert incremental.rows_deleted == 1


def test_a_tambon_whose_last_case_moves_away_loses_its_rows(world: StatWorld) -> None:
    stats_refresh(academic_year=YEAR)
    visit_record(
        case=world.cases["k9"],
        by=world.member,
        at=timezone.now(),
        point=None,
        outcome=SearchOutcome.MOVED_AWAY,
        moved_subdistrict=world.t1.code,
    )
    assert stats_changed_tambons(since=timezone.now() - dt.timedelta(minutes=1)) == {
        world.t4.code,
        world.t1.code,
    }
    incremental, after_incremental, after_full = _incremental_then_full(world)
    assert not incremental.full
    assert after_incremental == after_full
    assert (StatLevel.TAMBON, world.t4.code) not in after_full
    assert after_full[(StatLevel.TAMBON, world.t1.code)]["cases_open"] == 3


def test_a_district_whose_last_tambon_empties_loses_its_row(world: StatWorld) -> None:
    stats_refresh(academic_year=YEAR)
    other = make(SubdistrictFactory, district=make(DistrictFactory, province=world.d1.province))
    household = make(HouseholdFactory, subdistrict=other)
    case = make(CaseFactory, child=_child(household, ImportRun.objects.get(), None))
    stats_refresh_changed(academic_year=YEAR)
    assert (StatLevel.DISTRICT, other.district_id) in _rows()
    _close(case)
    incremental, after_incremental, after_full = _incremental_then_full(world)
    assert not incremental.full
    assert after_incremental == after_full
    assert (StatLevel.DISTRICT, other.district_id) not in after_full


def test_a_reconciliation_since_the_last_run_makes_it_full(world: StatWorld) -> None:
    from factories import ReconciliationFactory

    stats_refresh_changed(academic_year=YEAR)
    make(ReconciliationFactory)
    assert stats_refresh_changed(academic_year=YEAR).full


def test_refresh_of_chosen_tambons_leaves_the_others(world: StatWorld) -> None:
    stats_refresh(academic_year=YEAR)
    _close(world.cases["k9"])
    _close(world.cases["k3"])
    stats_refresh(academic_year=YEAR, tambons=[world.t4.code])
    rows = _rows()
    assert (StatLevel.TAMBON, world.t4.code) not in rows
    assert rows[(StatLevel.TAMBON, world.t2.code)]["cases_open"] == 2


def test_changed_tambons_need_an_aware_time(world: StatWorld) -> None:
    with pytest.raises(ValueError, match="aware"):
        stats_changed_tambons(since=dt.datetime(2025, 6, 1))  # noqa: DTZ001


def test_command_prints_json(world: StatWorld) -> None:
    out = io.StringIO()
    call_command("refresh_stats", "--academic-year", str(YEAR), "--full", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["academic_year"] == YEAR
    assert data["full"] is True
    assert data["tambons_recounted"] == 4
    assert data["rows_written"] == 8
    assert data["seconds"] >= 0
    assert dt.datetime.fromisoformat(data["refreshed_at"]).tzinfo is not None

    _close(world.cases["k1"])
    out = io.StringIO()
    call_command("refresh_stats", "--academic-year", str(YEAR), "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert (data["full"], data["tambons_recounted"]) == (False, 1)

    out = io.StringIO()
    call_command("refresh_stats", "--academic-year", str(YEAR), stdout=out)
    assert "changed tambons only" in out.getvalue()
    assert " s" in out.getvalue()


# --- access to school ----------------------------------------------------------------
#
# Households at 15 N, schools placed at known distances on the ground with PostGIS's
# own geodesic (ST_Project), so each count is known by hand:
#
# - tambon ``ta`` (district ``da``), household ``near`` at 15 N 100.5 E: children of
#   8, 13 and 16, and of 4 and 18 (out of the indicator). A primary school 2.9 km
#   north; a lower-secondary school 4.9 km east; a vocational school 5.1 km south.
#   And household ``unplaced`` (no point) with a child of 9.
# - tambon ``tb`` (district ``db``), household ``far`` 20 km north of ``near``: a
#   child of 10 (with an open case). A primary school 3.1 km west, and a lower-
#   secondary one 1 km away, which does not teach a primary child.

ACCESS_KEYS = ("age_primary", "far_primary", "age_secondary", "far_secondary")


def _project(origin: Point, metres: float, azimuth_degrees: float) -> Point:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Project(ST_GeomFromEWKT(%s)::geography, "
            "%s, radians(%s))::geometry AS p) AS projected",
            [origin.ewkt, metres, azimuth_degrees],
        )
        x, y = cursor.fetchone()
    return Point(x, y, srid=4326)


def _metres(a: Point, b: Point) -> float:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_Distance(ST_GeomFromEWKT(%s)::geography, ST_GeomFromEWKT(%s)::geography)",
            [a.ewkt, b.ewkt],
        )
        (metres,) = cursor.fetchone()
    return float(metres)


def _school(point: Point | None, *levels: SchoolLevel) -> School:
    return make(SchoolFactory, point=point, levels=list(levels))


def _access(year: int = YEAR) -> dict[tuple[str, str], tuple[int, ...]]:
    return {key: tuple(row[name] for name in ACCESS_KEYS) for key, row in _rows(year).items()}


@dataclass
class AccessWorld:
    ta: Subdistrict
    tb: Subdistrict
    near: Household
    far: Household
    far_case: Case
    member: User


@pytest.fixture
def access_world(db: None) -> AccessWorld:
    ago = timezone.now() - LONG_AGO
    run = make(ImportRunFactory, started_at=ago, finished_at=ago)
    province = make(ProvinceFactory)
    ta = make(SubdistrictFactory, district=make(DistrictFactory, province=province))
    tb = make(SubdistrictFactory, district=make(DistrictFactory, province=province))
    home = Point(100.5, 15.0, srid=4326)
    near = make(HouseholdFactory, subdistrict=ta, point=home)
    far_home = _project(home, 20_000, 0)
    far = make(HouseholdFactory, subdistrict=tb, point=far_home)
    unplaced = make(HouseholdFactory, subdistrict=ta, precision=Precision.UNRESOLVED)
    for age in (8, 13, 16, 4, 18):
        _child(near, run, ChildStatus.ENROLLED, age)
    _child(unplaced, run, ChildStatus.NEVER_ENROLLED, 9)
    far_case = make(CaseFactory, child=_child(far, run, ChildStatus.NEVER_ENROLLED, 10))
    Case.objects.update(updated_at=ago)

    _school(_project(home, 2_900, 0), SchoolLevel.PREPRIMARY, SchoolLevel.PRIMARY)
    _school(_project(home, 4_900, 90), SchoolLevel.LOWER_SECONDARY)
    _school(_project(home, 5_100, 180), SchoolLevel.VOCATIONAL)
    _school(_project(far_home, 3_100, 270), SchoolLevel.PRIMARY)
    _school(_project(far_home, 1_000, 90), SchoolLevel.LOWER_SECONDARY)
    # Not located: in no distance.
    _school(None, SchoolLevel.PRIMARY, SchoolLevel.UPPER_SECONDARY)
    return AccessWorld(
        ta=ta, tb=tb, near=near, far=far, far_case=far_case, member=make(UserFactory)
    )


def _expected_access(
    ta: tuple[int, int, int, int], tb: tuple[int, int, int, int], w: AccessWorld
) -> dict[tuple[str, str], tuple[int, ...]]:
    province = tuple(a + b for a, b in zip(ta, tb, strict=True))
    return {
        (StatLevel.TAMBON, w.ta.code): ta,
        (StatLevel.TAMBON, w.tb.code): tb,
        (StatLevel.DISTRICT, w.ta.district_id): ta,
        (StatLevel.DISTRICT, w.tb.district_id): tb,
        (StatLevel.PROVINCE, w.ta.code[:2]): province,
        (StatLevel.COUNTRY, "TH"): province,
    }


def test_access_counts_children_beyond_the_distance_of_their_level(
    access_world: AccessWorld,
) -> None:
    w = access_world
    stats_refresh(academic_year=YEAR)
    # ta: the child of 8 is 2.9 km from primary (near); the child of 13 4.9 km from
    # lower secondary (near); the child of 16 5.1 km from vocational (far). The
    # unplaced child of 9, and the children of 4 and 18, are in no count.
    # tb: the child of 10 is 3.1 km from primary (far), 1 km from a school that
    # teaches lower secondary only.
    assert _access() == _expected_access((1, 0, 2, 1), (1, 1, 0, 0), w)
    assert _rows()[(StatLevel.TAMBON, w.ta.code)]["children_in_window"] == 6


def test_access_distances_come_from_the_settings(access_world: AccessWorld, settings: Any) -> None:
    settings.SCHOOL_DISTANCE_PRIMARY_M = 2_800
    settings.SCHOOL_DISTANCE_SECONDARY_M = 5_200
    stats_refresh(academic_year=YEAR)
    assert _access() == _expected_access((1, 1, 2, 0), (1, 1, 0, 0), access_world)

    settings.SCHOOL_DISTANCE_PRIMARY_M = 3_200
    settings.SCHOOL_DISTANCE_SECONDARY_M = 4_800
    stats_refresh(academic_year=YEAR)
    assert _access() == _expected_access((1, 0, 2, 2), (1, 0, 0, 0), access_world)


def test_a_level_no_located_school_teaches_is_far(access_world: AccessWorld) -> None:
    School.objects.filter(levels__overlap=[SchoolLevel.VOCATIONAL]).delete()
    School.objects.filter(levels__overlap=[SchoolLevel.LOWER_SECONDARY]).update(
        levels=[SchoolLevel.UPPER_SECONDARY], point=None
    )
    stats_refresh(academic_year=YEAR)
    assert _access() == _expected_access((1, 0, 2, 2), (1, 1, 0, 0), access_world)


def test_access_measures_metres_not_degrees(db: None) -> None:
    """At 15 N a degree of longitude is 3% shorter than one of latitude: a school
    3,050 m north is nearer in degrees than one 2,985 m east, yet farther on the
    ground. Taking the nearest by degrees would call the child 3.05 km away, far."""
    run = make(ImportRunFactory)
    home = Point(101.0, 15.0, srid=4326)
    household = make(HouseholdFactory, subdistrict=make(SubdistrictFactory), point=home)
    _child(household, run, ChildStatus.ENROLLED, 9)
    north = _project(home, 3_050, 0)
    east = _project(home, 2_985, 90)
    assert home.distance(north) < home.distance(east)
    assert _metres(home, north) > 3_000 > _metres(home, east)
    # The nearer by degrees first: a refresh that stopped at it would see it alone.
    _school(north, SchoolLevel.PRIMARY)
    _school(east, SchoolLevel.PRIMARY)

    stats_refresh(academic_year=YEAR)
    country = _rows()[(StatLevel.COUNTRY, "TH")]
    assert (country["age_primary"], country["far_primary"]) == (1, 0)

    School.objects.filter(point=east).delete()
    stats_refresh(academic_year=YEAR)
    assert _rows()[(StatLevel.COUNTRY, "TH")]["far_primary"] == 1


def test_incremental_after_a_household_located_matches_a_full_refresh(
    access_world: AccessWorld,
) -> None:
    w = access_world
    stats_refresh(academic_year=YEAR)
    # The house is found 1 km from the primary school that was 3.1 km away.
    school = School.objects.get(levels=[SchoolLevel.PRIMARY], point__isnull=False)
    assert school.point is not None
    visit_record(
        case=w.far_case,
        by=w.member,
        at=timezone.now(),
        point=_project(school.point, 1_000, 0),
        outcome=SearchOutcome.FOUND_AT_ADDRESS,
        house_here=True,
    )
    incremental = stats_refresh_changed(academic_year=YEAR)
    after_incremental = _rows()
    stats_refresh(academic_year=YEAR)
    assert not incremental.full
    assert incremental.tambons_recounted == 1
    assert after_incremental == _rows()
    assert _access() == _expected_access((1, 0, 2, 1), (1, 0, 0, 0), w)


def test_refresh_of_chosen_tambons_counts_access_as_a_full_one(
    access_world: AccessWorld,
) -> None:
    stats_refresh(academic_year=YEAR)
    full = _rows()
    AreaStat.objects.all().delete()
    stats_refresh(academic_year=YEAR, tambons=[access_world.ta.code, access_world.tb.code])
    assert _rows() == full


def test_a_schools_import_since_the_last_run_makes_it_full(access_world: AccessWorld) -> None:
    w = access_world
    stats_refresh_changed(academic_year=YEAR)
    assert w.far.point is not None
    schools_upsert(
        schools=[
            School(
                code="1099999999",
                name="โรงเรียนใหม่",
                affiliation="obec",
                levels=[SchoolLevel.PRIMARY],
                point=_project(w.far.point, 500, 180),
            )
        ]
    )
    make(ImportRunFactory, kind=ImportKind.SCHOOLS, file_name="schools.csv")
    result = stats_refresh_changed(academic_year=YEAR)
    assert result.full
    assert _access() == _expected_access((1, 0, 2, 1), (1, 0, 0, 0), w)


# --- what the map publishes -------------------------------------------------------------


def test_a_refresh_publishes_what_the_gap_map_shows(world: StatWorld) -> None:
    stats_refresh(academic_year=YEAR)
    province = world.d1.code[:2]
    published = _publications()
    # Every area with areas below it on the map and something counted; no tambon.
    assert set(published) == {
        (StatLevel.COUNTRY, "TH"),
        (StatLevel.PROVINCE, province),
        (StatLevel.DISTRICT, world.d1.code),
        (StatLevel.DISTRICT, world.d2.code),
    }
    administrator = make(ProfileFactory, role=Role.ADMINISTRATOR).user
    for (_level, code), (k, areas) in published.items():
        assert k == 5
        layer = gap_layer(
            user=administrator,
            area_code=None if code == "TH" else code,
            year=YEAR,
            indicator="unreached",
        )
        shown = {area.code: area.counts for area in layer.areas}
        assert layer.total is not None
        shown["total"] = layer.total.counts
        if layer.unplaced is not None:
            shown["unplaced"] = layer.unplaced.counts
        assert areas == shown, code
    # Small counts are withheld in them: t1 has 2 children out of school.
    assert published[(StatLevel.DISTRICT, world.d1.code)][1][world.t1.code]["unreached"] is None


def test_a_refresh_of_some_tambons_publishes_above_them_only(world: StatWorld) -> None:
    stats_refresh(academic_year=YEAR)
    before = {p.code: p.refreshed_at for p in AreaPublication.objects.all()}
    stats_refresh(academic_year=YEAR, tambons=[world.t3.code])
    after = {p.code: p.refreshed_at for p in AreaPublication.objects.all()}
    assert after[world.d1.code] == before[world.d1.code]
    for code in ("TH", world.d1.code[:2], world.d2.code):
        assert after[code] > before[code], code
        stat = AreaStat.objects.get(academic_year=YEAR, code=code)
        assert after[code] == stat.refreshed_at


def test_an_area_left_with_nothing_publishes_nothing(world: StatWorld) -> None:
    stats_refresh(academic_year=YEAR)
    for key in ("k7", "k8", "k9"):
        _close(world.cases[key])
    Household.objects.filter(pk__in=[world.households["h7"].pk, world.households["h8"].pk]).update(
        subdistrict=world.t1
    )
    stats_refresh(academic_year=YEAR)
    assert not AreaStat.objects.filter(code=world.d2.code).exists()
    assert (StatLevel.DISTRICT, world.d2.code) not in _publications()


def test_publications_follow_k(world: StatWorld, settings: Any) -> None:
    settings.SUPPRESS_K = 1  # nothing is under 1
    stats_refresh(academic_year=YEAR)
    k, areas = _publications()[(StatLevel.DISTRICT, world.d1.code)]
    assert k == 1
    assert areas[world.t1.code]["unreached"] == 3
