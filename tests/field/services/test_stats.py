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
from django.utils import timezone
from factories import (
    CaseFactory,
    ChildFactory,
    ChildYearFactory,
    DistrictFactory,
    HouseholdFactory,
    ImportRunFactory,
    ProvinceFactory,
    SubdistrictFactory,
    TeamFactory,
    UserFactory,
    VillageFactory,
    VolunteerFactory,
    ZoneAssignmentFactory,
    make,
)

from field.models import (
    AREA_STAT_COUNTS,
    AreaStat,
    Case,
    CaseStatus,
    ChildStatus,
    CloseReason,
    Household,
    ImportRun,
    Precision,
    Resolution,
    SearchOutcome,
    StatLevel,
    Team,
)
from field.services.cases import visit_record
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
    )
    t3 = _counts(children_in_window=1, graduated=1, cases_open=1, unreached_households=1)
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
    )
    d2 = _counts(children_in_window=1, graduated=1, cases_open=2, unreached_households=2)
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


def _incremental_then_full(world: StatWorld) -> tuple[Any, dict[Any, Any], dict[Any, Any]]:
    incremental = stats_refresh_changed(academic_year=YEAR)
    after_incremental = _rows()
    stats_refresh(academic_year=YEAR)
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
