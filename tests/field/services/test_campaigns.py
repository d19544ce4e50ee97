"""School home-visit campaigns: households split among teachers and over the working
days, routes inside the working hours, every household planned once or listed, the
progress toward "100% of students visited", and planning again keeping done visits."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

import pytest
from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.utils import timezone
from factories import (
    HouseholdFactory,
    SchoolFactory,
    SubdistrictFactory,
    enrolled_child,
    make,
)

from field.models import (
    Campaign,
    CampaignGap,
    CampaignUnplanned,
    CampaignVisit,
    Household,
    Precision,
    School,
    TravelMode,
)
from field.services.campaigns import (
    Progress,
    campaign_plan,
    campaign_progress,
    campaign_visit_mark,
    kd_split,
    working_days,
)
from geo.models import District

YEAR = 2568
MONDAY = dt.date(2030, 6, 3)
FRIDAY = dt.date(2030, 6, 7)
BANGKOK = dt.timezone(dt.timedelta(hours=7))


@dataclass
class SchoolWorld:
    school: School
    located: list[Household]
    unlocated: Household
    students: int


@pytest.fixture
def school_world(persona_districts: tuple[District, District]) -> SchoolWorld:
    """A school with 12 located households on a grid within about 1.5 km (the
    first holding two students) and one household with no point: 14 students."""
    tambon = make(SubdistrictFactory, district=persona_districts[0])
    x, y = tambon.geom.centroid.coords
    school = make(SchoolFactory, subdistrict=tambon, point=Point(x, y, srid=4326))
    located = [
        make(
            HouseholdFactory,
            subdistrict=tambon,
            point=Point(x + (i % 4 - 1.5) * 0.004, y + (i // 4 - 1) * 0.004, srid=4326),
        )
        for i in range(12)
    ]
    unlocated = make(HouseholdFactory, subdistrict=tambon, precision=Precision.UNRESOLVED)
    for household in [located[0], *located, unlocated]:
        enrolled_child(school, household, YEAR)
    return SchoolWorld(school, located, unlocated, students=14)


def _plan(world: SchoolWorld, **changes: object) -> Campaign:
    arguments: dict[str, object] = {
        "school": world.school,
        "academic_year": YEAR,
        "first_day": MONDAY,
        "last_day": FRIDAY,
        "teachers": ["ครูหนึ่ง", "ครูสอง", "ครูสาม"],
        "mode": TravelMode.MOTORCYCLE,
        "starts": dt.time(8, 30),
        "ends": dt.time(16, 30),
        "service_minutes": 30,
        "by": None,
    }
    arguments.update(changes)
    return campaign_plan(**arguments)  # type: ignore[arg-type]


def _gaps(campaign: Campaign) -> dict[int, str]:
    return dict(
        CampaignUnplanned.objects.filter(campaign=campaign).values_list("household_id", "reason")
    )


def test_working_days_are_monday_to_friday() -> None:
    days = working_days(dt.date(2030, 6, 1), dt.date(2030, 6, 10))
    assert days == [dt.date(2030, 6, d) for d in (3, 4, 5, 6, 7, 10)]


def test_kd_split_is_balanced_and_compact() -> None:
    points = [(float(i), 0.0) for i in range(10)]
    groups = kd_split(points, 3)
    assert sorted(len(g) for g in groups) == [3, 3, 4]
    # Along a line, each group is a run of neighbours.
    assert all(max(g) - min(g) == len(g) - 1 for g in groups)
    # Fewer points than groups: some groups are empty, every point is in one.
    few = kd_split(points[:2], 4)
    assert len(few) == 4
    assert sorted(i for g in few for i in g) == [0, 1]


def test_households_are_split_among_teachers_and_days(school_world: SchoolWorld) -> None:
    campaign = _plan(school_world)

    visits = list(CampaignVisit.objects.filter(campaign=campaign))
    per_teacher = Counter(v.teacher_id for v in visits)
    assert len(per_teacher) == 3
    assert max(per_teacher.values()) - min(per_teacher.values()) <= 1
    # One visit per household, however many students live there.
    planned = [v.household_id for v in visits]
    assert sorted(planned) == sorted(h.pk for h in school_world.located)
    assert _gaps(campaign) == {school_world.unlocated.pk: CampaignGap.NO_LOCATION}
    for visit in visits:
        assert MONDAY <= visit.day <= FRIDAY
        assert visit.arrives >= dt.time(8, 30)
        end = dt.datetime.combine(visit.day, visit.arrives) + dt.timedelta(minutes=30)
        assert end.time() <= dt.time(16, 30)
    # Each (teacher, day) is a route numbered from 1 with arrivals in order.
    routes: dict[tuple[int, dt.date], list[CampaignVisit]] = {}
    for visit in visits:
        routes.setdefault((visit.teacher_id, visit.day), []).append(visit)
    for route in routes.values():
        route.sort(key=lambda v: v.sequence)
        assert [v.sequence for v in route] == list(range(1, len(route) + 1))
        assert [v.arrives for v in route] == sorted(v.arrives for v in route)


def test_what_does_not_fit_moves_on_then_is_listed(school_world: SchoolWorld) -> None:
    # One teacher, two days of 08:00-09:00 with 30-minute visits: at most two a day.
    campaign = _plan(
        school_world,
        teachers=["ครูคนเดียว"],
        first_day=MONDAY,
        last_day=MONDAY + dt.timedelta(days=1),
        starts=dt.time(8, 0),
        ends=dt.time(9, 0),
    )
    visits = list(CampaignVisit.objects.filter(campaign=campaign))
    per_day = Counter(v.day for v in visits)
    assert set(per_day) == {MONDAY, MONDAY + dt.timedelta(days=1)}
    assert all(1 <= n <= 2 for n in per_day.values())
    gaps = _gaps(campaign)
    planned = {v.household_id for v in visits}
    assert not planned & set(gaps)
    assert planned | set(gaps) == {h.pk for h in [*school_world.located, school_world.unlocated]}
    assert Counter(gaps.values())[CampaignGap.NO_DAY_LEFT] == 12 - len(visits)


def test_progress_counts_students_and_households(school_world: SchoolWorld) -> None:
    campaign = _plan(school_world)
    assert campaign_progress(campaign) == Progress(14, 0, 13, 0)

    by = {v.household_id: v for v in CampaignVisit.objects.filter(campaign=campaign)}
    at = dt.datetime(2030, 6, 3, 10, 0, tzinfo=BANGKOK)
    # The first household holds two students.
    campaign_visit_mark(visit=by[school_world.located[0].pk], at=at, by=None)
    campaign_visit_mark(visit=by[school_world.located[1].pk], at=at, by=None)
    progress = campaign_progress(campaign)
    assert progress == Progress(14, 3, 13, 2)
    assert progress.percent == 21


def test_marking_again_keeps_the_first_time(school_world: SchoolWorld) -> None:
    campaign = _plan(school_world)
    visit = CampaignVisit.objects.filter(campaign=campaign).first()
    assert visit is not None
    first = dt.datetime(2030, 6, 3, 10, 0, tzinfo=BANGKOK)
    campaign_visit_mark(visit=visit, at=first, by=None)
    again = campaign_visit_mark(visit=visit, at=first + dt.timedelta(hours=1), by=None)
    assert again.visited_at == first
    with pytest.raises(ValidationError):
        # A naive time is the mistake under test.
        campaign_visit_mark(visit=visit, at=dt.datetime(2030, 6, 3, 10, 0), by=None)  # noqa: DTZ001


def test_planning_again_keeps_done_visits(school_world: SchoolWorld) -> None:
    campaign = _plan(school_world)
    visits = list(CampaignVisit.objects.filter(campaign=campaign).order_by("pk"))
    at = timezone.now()
    done = [campaign_visit_mark(visit=v, at=at, by=None) for v in visits[:2]]

    again = _plan(school_world, teachers=["ครูสี่", "ครูห้า"])

    assert again.pk == campaign.pk
    after = list(CampaignVisit.objects.filter(campaign=campaign).select_related("teacher"))
    kept = {v.pk: v for v in after if v.visited_at is not None}
    assert set(kept) == {v.pk for v in done}
    for visit in done:
        assert kept[visit.pk].teacher_id == visit.teacher_id
        assert kept[visit.pk].day == visit.day
    new = [v for v in after if v.visited_at is None]
    assert {v.teacher.name for v in new} == {"ครูสี่", "ครูห้า"}
    per_teacher = Counter(v.teacher_id for v in new)
    assert max(per_teacher.values()) - min(per_teacher.values()) <= 1
    assert sorted(v.household_id for v in after) == sorted(h.pk for h in school_world.located)
    assert campaign_progress(again).households_visited == 2


def test_a_school_with_no_located_students(persona_districts: tuple[District, District]) -> None:
    tambon = make(SubdistrictFactory, district=persona_districts[0])
    school = make(SchoolFactory, subdistrict=tambon)
    homes = [
        make(HouseholdFactory, subdistrict=tambon, precision=Precision.UNRESOLVED) for _ in range(3)
    ]
    for home in homes:
        enrolled_child(school, home, YEAR)
    campaign = campaign_plan(
        school=school,
        academic_year=YEAR,
        first_day=MONDAY,
        last_day=FRIDAY,
        teachers=["ครูหนึ่ง"],
        mode=TravelMode.WALK,
        starts=dt.time(8, 30),
        ends=dt.time(16, 30),
        by=None,
    )
    assert not CampaignVisit.objects.filter(campaign=campaign).exists()
    assert _gaps(campaign) == {h.pk: CampaignGap.NO_LOCATION for h in homes}
    progress = campaign_progress(campaign)
    assert progress == Progress(3, 0, 3, 0)
    assert progress.percent == 0


@pytest.mark.parametrize(
    "changes",
    [
        {"teachers": [" ", ""]},
        {"first_day": dt.date(2030, 6, 8), "last_day": dt.date(2030, 6, 9)},  # a weekend
        {"last_day": MONDAY - dt.timedelta(days=1)},
        {"ends": dt.time(8, 45)},
    ],
)
def test_refused(school_world: SchoolWorld, changes: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        _plan(school_world, **changes)
    assert not Campaign.objects.exists()


def test_a_school_with_no_point_is_refused(school_world: SchoolWorld) -> None:
    school_world.school.point = None
    school_world.school.save()
    with pytest.raises(ValidationError):
        _plan(school_world)
