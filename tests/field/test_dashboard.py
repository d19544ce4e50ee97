"""The officials' dashboard: known answers for the funnel, the weekly series, the
tambon tables and the reasons; suppression of small counts; who may open it;
nothing personal in the page; and its cost in queries."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from factories import (
    TEST_ACADEMIC_YEAR,
    CaseFactory,
    ChildFactory,
    EnrolmentFactory,
    HouseholdFactory,
    SubdistrictFactory,
    UserFactory,
    make,
)

from field.dashboard_selectors import dashboard, year_bounds
from field.models import (
    Affiliation,
    AreaStat,
    Case,
    CaseKind,
    MatchMethod,
    Resolution,
    SearchOutcome,
    StatLevel,
    Visit,
)
from geo.models import District, Province, Subdistrict

YEAR = TEST_ACADEMIC_YEAR
BANGKOK = ZoneInfo("Asia/Bangkok")
# Monday 00:30 in Bangkok is still Sunday in UTC: a week cut in UTC would be wrong.
WEEK_1 = dt.datetime(2025, 6, 2, 0, 30, tzinfo=BANGKOK)
WEEK_2 = dt.datetime(2025, 6, 9, 0, 30, tzinfo=BANGKOK)
CHILD_NAME = "เด็กหญิงลับเฉพาะ"
HOUSE_NO = "987/65"
NATIONAL_ID = "1101700203451"


def _stat(level: StatLevel, code: str, **counts: int) -> AreaStat:
    counts.setdefault("graduated", 0)
    counts.setdefault("in_review", 0)
    counts["children_in_window"] = sum(
        counts[n] for n in ("enrolled", "dropped_out", "never_enrolled", "graduated", "in_review")
    )
    return AreaStat.objects.create(
        academic_year=YEAR, level=level, code=code, refreshed_at=timezone.now(), **counts
    )


@dataclass
class World:
    tambons: list[Subdistrict]
    cases: list[Case]


@pytest.fixture
def world(
    official: User, persona_province: Province, persona_districts: tuple[District, District]
) -> World:
    """AreaStat rows of the province and three tambons, and 17 cases in the first
    tambon: 10 dropped out, 7 never enrolled, all opened in week 1 and visited (not
    found) then; in week 2, cases 0-4 found and going to non-formal education,
    cases 5-9 returned to school."""
    t1 = make(SubdistrictFactory, district=persona_districts[0])
    t2 = make(SubdistrictFactory, district=persona_districts[0])
    t3 = make(SubdistrictFactory, district=persona_districts[1])
    _stat(
        StatLevel.PROVINCE,
        persona_province.code,
        enrolled=900,
        dropped_out=40,
        never_enrolled=30,
        graduated=20,
        in_review=10,
        cases_open=70,
        cases_visited=20,
        cases_found=10,
        cases_resolved=10,
        cases_brought_back=8,
    )
    _stat(StatLevel.TAMBON, t1.code, enrolled=440, dropped_out=30, never_enrolled=20, graduated=10)
    _stat(StatLevel.TAMBON, t2.code, enrolled=280, dropped_out=8, never_enrolled=2, graduated=10)
    _stat(StatLevel.TAMBON, t3.code, enrolled=30, dropped_out=2, never_enrolled=8)
    by = make(UserFactory)
    cases = []
    for i in range(17):
        household = make(HouseholdFactory, subdistrict=t1, house_no=HOUSE_NO)
        child = make(
            ChildFactory, household=household, first_name=CHILD_NAME, national_id=NATIONAL_ID
        )
        kind = CaseKind.DROPPED_OUT if i < 10 else CaseKind.NEVER_ENROLLED
        cases.append(make(CaseFactory, child=child, kind=kind, opened_at=WEEK_1))
    for case in cases:
        Visit.objects.create(case=case, by=by, at=WEEK_1, outcome=SearchOutcome.NOT_FOUND)
    for i, case in enumerate(cases[:10]):
        resolution = Resolution.NON_FORMAL if i < 5 else Resolution.RETURNED_TO_SCHOOL
        Visit.objects.create(
            case=case,
            by=by,
            at=WEEK_2,
            outcome=SearchOutcome.FOUND_AT_ADDRESS,
            resolution=resolution,
        )
    return World(tambons=[t1, t2, t3], cases=cases)


@pytest.fixture(autouse=True)
def _k(settings: Any) -> None:
    settings.SUPPRESS_K = 5


def _fresh(user: User) -> User:
    # The scope is kept on the user object: a fresh one counts its query again.
    return User.objects.get(pk=user.pk)


def _week(board: Any, monday: dt.date) -> dict[str, int | None]:
    i = board.weekly.weeks.index(monday)
    return {key: values[i] for key, values in board.weekly.series.items()}


# --- known answers --------------------------------------------------------------------


def test_the_funnel_reads_the_area_s_counts(official: User, world: World) -> None:
    board = dashboard(user=official, area_code=None, year=None)
    assert board.year == YEAR
    assert {bar.key: bar.value for bar in board.funnel} == {
        "population": 1000,
        "enrolled": 900,
        "unreached": 70,
        "visited": 40,  # visited, found and resolved open cases
        "found": 20,  # found and resolved
        "brought_back": 8,
    }
    assert board.split == {"dropped_out": 40, "never_enrolled": 30}
    assert [bar.width for bar in board.funnel][:3] == [100.0, 90.0, 7.0]


def test_weeks_are_mondays_in_bangkok_and_count_cases_visits_and_resolutions(
    official: User, world: World
) -> None:
    board = dashboard(user=official, area_code=None, year=YEAR)
    assert board.weekly is not None
    assert all(monday.weekday() == 0 for monday in board.weekly.weeks)
    start, end = year_bounds(YEAR)
    assert board.weekly.weeks[0] == dt.date(2025, 5, 12)
    assert (
        board.weekly.weeks[-1] < end.date()
        and board.weekly.weeks[-1] + dt.timedelta(7) >= end.date()
    )
    assert _week(board, dt.date(2025, 6, 2)) == {"new_cases": 17, "visits": 17, "resolutions": 0}
    assert _week(board, dt.date(2025, 6, 9)) == {"new_cases": 0, "visits": 10, "resolutions": 10}
    assert _week(board, dt.date(2025, 5, 26)) == {"new_cases": 0, "visits": 0, "resolutions": 0}
    assert board.weekly.totals == {"new_cases": 17, "visits": 27, "resolutions": 10}


def test_the_kind_narrows_the_series_and_the_reasons_not_the_funnel(
    official: User, world: World
) -> None:
    dropped = dashboard(user=official, area_code=None, year=YEAR, kind=CaseKind.DROPPED_OUT)
    assert _week(dropped, dt.date(2025, 6, 2)) == {"new_cases": 10, "visits": 10, "resolutions": 0}
    assert _week(dropped, dt.date(2025, 6, 9)) == {"new_cases": 0, "visits": 10, "resolutions": 10}
    reasons = {r.key: r.value for r in dropped.reasons}
    assert reasons["resolution_non_formal"] == 5
    assert reasons["outcome_not_found"] == 0
    assert dropped.reasons_total == 5
    never = dashboard(user=official, area_code=None, year=YEAR, kind=CaseKind.NEVER_ENROLLED)
    assert _week(never, dt.date(2025, 6, 2)) == {"new_cases": 7, "visits": 7, "resolutions": 0}
    assert {r.key: r.value for r in never.reasons}["outcome_not_found"] == 7
    assert [bar.value for bar in never.funnel] == [bar.value for bar in dropped.funnel]
    assert [row.code for row in never.top_unreached][0] == world.tambons[0].code


def _register(case: Case, affiliation: Affiliation, year: int = YEAR - 1) -> None:
    make(
        EnrolmentFactory,
        child=case.child,
        affiliation=affiliation,
        academic_year=year,
        match_method=MatchMethod.ID,
    )


def test_affiliation_is_the_last_register_of_dropped_out_children(
    official: User, world: World
) -> None:
    for case in world.cases[:5]:
        _register(case, Affiliation.OBEC, YEAR - 2)
        _register(case, Affiliation.LAO)
    for case in world.cases[5:10]:
        _register(case, Affiliation.OBEC)
    # A never-enrolled case has no register of its own: a stray row does not count it.
    _register(world.cases[10], Affiliation.LAO)
    lao = dashboard(user=official, area_code=None, year=YEAR, affiliation=Affiliation.LAO)
    assert _week(lao, dt.date(2025, 6, 2)) == {"new_cases": 5, "visits": 5, "resolutions": 0}
    assert _week(lao, dt.date(2025, 6, 9)) == {"new_cases": 0, "visits": 5, "resolutions": 5}
    assert {r.key: r.value for r in lao.reasons}["resolution_non_formal"] == 5
    assert lao.reasons_total == 5
    obec = dashboard(user=official, area_code=None, year=YEAR, affiliation=Affiliation.OBEC)
    assert _week(obec, dt.date(2025, 6, 2))["new_cases"] == 5
    assert obec.reasons_total == 0  # all five returned to school
    # The funnel is counted ahead, not by affiliation.
    assert [bar.value for bar in lao.funnel] == [bar.value for bar in obec.funnel]


def test_reasons_count_each_case_once_by_its_latest_visit(official: User, world: World) -> None:
    board = dashboard(user=official, area_code=None, year=YEAR)
    reasons = {r.key: r.value for r in board.reasons}
    assert "resolution_returned_to_school" not in reasons
    assert reasons["resolution_non_formal"] == 5
    assert reasons["outcome_not_found"] == 7  # cases 10-16; 0-9 were found later
    assert sum(v for v in reasons.values() if v) == 12
    assert board.reasons_total == 12


def test_the_tambon_tables_rank_by_count_and_by_rate(official: User, world: World) -> None:
    t1, t2, t3 = world.tambons
    board = dashboard(user=official, area_code=None, year=YEAR)
    # t2 and t3 tie at 10: by code.
    assert [row.code for row in board.top_unreached] == [t1.code, *sorted([t2.code, t3.code])]
    first = board.top_unreached[0]
    assert first.counts["unreached"] == 50 and first.counts["children"] == 500
    assert first.name == t1.name_th
    # t3 has 40 children: too few for a rate.
    assert [row.code for row in board.top_rate] == [t1.code, t2.code]
    assert board.top_rate[0].rate == 100.0


def test_small_counts_are_withheld_with_their_complements(official: User, world: World) -> None:
    t1, t2, t3 = world.tambons
    board = dashboard(user=official, area_code=None, year=YEAR)
    rows = {row.code: row for row in board.top_unreached}
    assert rows[t2.code].counts["never_enrolled"] is None  # 2
    assert rows[t3.code].counts["dropped_out"] is None  # 2
    for row in [*board.top_unreached, *board.top_rate]:
        for value in row.counts.values():
            assert value is None or value == 0 or value >= 5
    # Unreached = dropped out + never enrolled: one withheld part needs a second.
    assert (
        sum(
            value is None
            for value in (
                rows[t2.code].counts["dropped_out"],
                rows[t2.code].counts["unreached"],
            )
        )
        >= 1
    )


def test_a_small_week_is_withheld_and_another_with_it(official: User, world: World) -> None:
    by = make(UserFactory)
    late = dt.datetime(2025, 7, 1, 10, 0, tzinfo=BANGKOK)  # the week of 30 June
    for case in world.cases[10:12]:
        Visit.objects.create(case=case, by=by, at=late, outcome=SearchOutcome.MOVED_AWAY)
    board = dashboard(user=official, area_code=None, year=YEAR)
    assert _week(board, dt.date(2025, 6, 30))["visits"] is None
    published = [v for v in board.weekly.series["visits"] if v is not None] if board.weekly else []
    # Total 29 published, so a second week must be withheld too.
    assert board.weekly is not None and board.weekly.totals["visits"] == 29
    assert board.weekly.series["visits"].count(None) >= 2
    assert all(v == 0 or v >= 5 for v in published)
    # The two moved-away cases are the latest visits of theirs: 2 < k.
    assert {r.key: r.value for r in board.reasons}["outcome_moved_away"] is None


def test_a_narrowed_user_sees_only_their_districts(
    coordinator: User, world: World, persona_districts: tuple[District, District]
) -> None:
    # The coordinator holds both districts of the persona province, but is narrowed
    # to them: their total is the sum of their tambons, never the province row.
    board = dashboard(user=coordinator, area_code=None, year=YEAR)
    assert board.funnel[0].value == 500 + 300 + 40
    assert board.split == {"dropped_out": 40, "never_enrolled": 30}


# --- who may open it ------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["official", "coordinator"])
def test_officials_and_coordinators_open_it(
    persona: str, world: World, client: Client, request: pytest.FixtureRequest
) -> None:
    client.force_login(request.getfixturevalue(persona))
    response = client.get(reverse("field-dashboard"))
    assert response.status_code == 200


def test_an_administrator_opens_the_country(world: World, client: Client, admin_user: User) -> None:
    client.force_login(admin_user)
    response = client.get(reverse("field-dashboard"))
    assert response.status_code == 200
    assert response.context["board"].area.code == ""


@pytest.mark.parametrize("persona", ["member_a", "volunteer"])
def test_the_field_gets_403(
    persona: str, world: World, client: Client, request: pytest.FixtureRequest
) -> None:
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("field-dashboard")).status_code == 403


def test_another_province_is_refused(official: User, world: World, client: Client) -> None:
    client.force_login(official)
    assert client.get(reverse("field-dashboard"), {"area": "99"}).status_code in (403, 404)


def test_anonymous_goes_to_log_in(client: Client) -> None:
    response = client.get(reverse("field-dashboard"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_a_bad_query_is_400(official: User, client: Client) -> None:
    client.force_login(official)
    assert client.get(reverse("field-dashboard"), {"kind": "at_risk"}).status_code == 400
    assert client.get(reverse("field-dashboard"), {"affiliation": "x"}).status_code == 400


# --- nothing personal -------------------------------------------------------------------


def test_nothing_personal_in_the_page_or_its_json(
    official: User, world: World, client: Client
) -> None:
    client.force_login(official)
    for kind in ("", CaseKind.DROPPED_OUT):
        response = client.get(reverse("field-dashboard"), {"kind": kind} if kind else {})
        html = response.content.decode()
        for secret in (CHILD_NAME, HOUSE_NO, NATIONAL_ID, *(str(c.child.key) for c in world.cases)):
            assert secret not in html
        assert "POINT" not in html and "coordinates" not in html
        data = json.loads(
            re.search(r'id="dashboard-data"[^>]*>(.*?)</script>', html, re.S).group(1)  # type: ignore[union-attr]
        )
        assert set(data) == {"weeks", "series"}
        assert {s["key"] for s in data["series"]} == {"new_cases", "visits", "resolutions"}
        for series in data["series"]:
            assert all(v is None or isinstance(v, int) for v in series["values"])


def test_the_page_shows_the_counts_and_loads_chart_js_locally(
    official: User, world: World, client: Client
) -> None:
    client.force_login(official)
    html = client.get(reverse("field-dashboard")).content.decode()
    assert "chartjs/chart.umd.js" in html
    assert "cdn" not in html.lower()
    assert 'data-key="population">1,000<' in html
    assert 'data-key="brought_back">8<' in html


# --- cost -------------------------------------------------------------------------------


def test_queries_do_not_grow_with_the_data(
    official: User, world: World, django_assert_num_queries: Any
) -> None:
    # The scope, the area, the years, the areas below, the AreaStat rows, the tambon
    # names, the cases, the visits, the reasons.
    user = _fresh(official)
    with django_assert_num_queries(9):
        dashboard(user=user, area_code=None, year=YEAR)
    by = make(UserFactory)
    for case in world.cases:
        Visit.objects.create(
            case=case, by=by, at=WEEK_2 + dt.timedelta(days=21), outcome=SearchOutcome.NOT_FOUND
        )
        household = make(HouseholdFactory, subdistrict=world.tambons[1])
        make(CaseFactory, child=make(ChildFactory, household=household), opened_at=WEEK_2)
    _stat(
        StatLevel.TAMBON,
        make(SubdistrictFactory, district=world.tambons[0].district).code,
        enrolled=100,
        dropped_out=9,
        never_enrolled=9,
    )
    user = _fresh(official)
    with django_assert_num_queries(9):
        board = dashboard(user=user, area_code=None, year=YEAR)
    assert board.weekly is not None and board.weekly.totals["new_cases"] == 34
    user = _fresh(official)
    with django_assert_num_queries(9):
        dashboard(user=user, area_code=None, year=YEAR, affiliation=Affiliation.OBEC)
