"""The coordinator's campaign pages: who may open them (403 for other roles, 404 for a
school outside the area), planning from the form, the progress shown, marking a visit
done, and a query count that does not grow with the visits."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.contrib.gis.geos import Point
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from factories import (
    DistrictFactory,
    HouseholdFactory,
    ProvinceFactory,
    SchoolFactory,
    SubdistrictFactory,
    enrolled_child,
    make,
)
from pytest_django import DjangoAssertNumQueries

from field.campaign_selectors import campaign_detail
from field.models import (
    Campaign,
    CampaignVisit,
    Child,
    Household,
    Precision,
    School,
    TravelMode,
)
from field.services.campaigns import campaign_plan, campaign_visit_mark
from geo.models import District, Subdistrict

pytestmark = pytest.mark.django_db
YEAR = 2568
# A campaign page, map included, whatever the number of visits: the session and the
# user, the scope, the campaign, its teachers, visits, unplanned and progress.
CAMPAIGN_PAGE_QUERIES = 8
MONDAY = dt.date(2030, 6, 3)


def _client(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def _school(tambon: Subdistrict, households: int) -> School:
    x, y = tambon.geom.centroid.coords
    school = make(SchoolFactory, subdistrict=tambon, point=Point(x, y, srid=4326))
    _students(school, tambon, households)
    return school


def _students(school: School, tambon: Subdistrict, n: int, start: int = 0) -> None:
    x, y = tambon.geom.centroid.coords
    for i in range(start, start + n):
        household = make(
            HouseholdFactory,
            subdistrict=tambon,
            point=Point(x + (i % 5) * 0.001, y + (i // 5) * 0.001, srid=4326),
        )
        enrolled_child(school, household, YEAR)


def _plan(school: School) -> Campaign:
    return campaign_plan(
        school=school,
        academic_year=YEAR,
        first_day=MONDAY,
        last_day=MONDAY + dt.timedelta(days=4),
        teachers=["ครูหนึ่ง", "ครูสอง"],
        mode=TravelMode.MOTORCYCLE,
        starts=dt.time(8, 30),
        ends=dt.time(16, 30),
        by=None,
    )


@pytest.fixture
def tambon(persona_districts: tuple[District, District]) -> Subdistrict:
    return make(SubdistrictFactory, district=persona_districts[0])


@pytest.fixture
def elsewhere() -> Subdistrict:
    """A tambon of another province, outside every persona's area."""
    district = make(DistrictFactory, province=make(ProvinceFactory))
    return make(SubdistrictFactory, district=district)


def test_other_roles_are_refused(
    tambon: Subdistrict, member_a: User, volunteer: User, official: User
) -> None:
    campaign = _plan(_school(tambon, 2))
    for user in (member_a, volunteer, official):
        client = _client(user)
        assert client.get(reverse("field-campaigns")).status_code == 403
        assert client.get(reverse("field-campaign", args=[campaign.pk])).status_code == 403
    assert Client().get(reverse("field-campaigns")).status_code == 302  # to the login


def test_a_school_outside_the_area_is_not_found(
    coordinator: User, tambon: Subdistrict, elsewhere: Subdistrict
) -> None:
    mine = _school(tambon, 1)
    theirs = _school(elsewhere, 2)
    campaign = _plan(theirs)
    visit = CampaignVisit.objects.filter(campaign=campaign).first()
    assert visit is not None
    client = _client(coordinator)

    listed = client.get(reverse("field-campaigns"), {"year": YEAR})
    assert [r.school for r in listed.context["rows"]] == [mine]
    assert client.get(reverse("field-campaign", args=[campaign.pk])).status_code == 404
    done = reverse("field-campaign-visit-done", args=[campaign.pk, visit.pk])
    assert client.post(done).status_code == 404
    visit.refresh_from_db()
    assert visit.visited_at is None
    form = {
        "school": str(theirs.pk),
        "academic_year": YEAR,
        "first_day": "2030-06-03",
        "last_day": "2030-06-07",
        "teachers": "ครูหนึ่ง",
        "mode": TravelMode.CAR,
        "starts": "08:30",
        "ends": "16:30",
        "service_minutes": 30,
    }
    assert client.post(reverse("field-campaigns"), form).status_code == 400
    assert Campaign.objects.filter(school=theirs).count() == 1
    assert not Campaign.objects.filter(school=mine).exists()


def test_planning_from_the_form(coordinator: User, tambon: Subdistrict) -> None:
    school = _school(tambon, 4)
    client = _client(coordinator)
    form = {
        "school": str(school.pk),
        "academic_year": YEAR,
        "first_day": "2030-06-03",
        "last_day": "2030-06-07",
        "teachers": "ครูหนึ่ง\r\nครูสอง\r\n",
        "mode": TravelMode.CAR,
        "starts": "08:30",
        "ends": "16:30",
        "service_minutes": 30,
    }
    response = client.post(reverse("field-campaigns"), form)
    campaign = Campaign.objects.get(school=school, academic_year=YEAR)
    assert response.status_code == 302
    assert response["Location"] == reverse("field-campaign", args=[campaign.pk])
    assert campaign.created_by == coordinator
    assert sorted(campaign.teachers.values_list("name", flat=True)) == ["ครูสอง", "ครูหนึ่ง"]
    assert campaign.visits.count() == 4

    refused = client.post(reverse("field-campaigns"), {**form, "teachers": " \n "})
    assert refused.status_code == 400
    assert campaign.visits.count() == 4


def test_the_page_shows_progress_and_marks_visits(coordinator: User, tambon: Subdistrict) -> None:
    school = _school(tambon, 4)
    campaign = _plan(school)
    client = _client(coordinator)
    page = client.get(reverse("field-campaign", args=[campaign.pk]))
    assert page.status_code == 200
    assert 'aria-valuenow="0"' in page.content.decode()
    thai = Client(HTTP_ACCEPT_LANGUAGE="th")
    thai.force_login(coordinator)
    # Thai first: the days in the Buddhist era (2030 is 2573).
    assert "2573" in thai.get(reverse("field-campaign", args=[campaign.pk])).content.decode()

    visit = CampaignVisit.objects.filter(campaign=campaign).first()
    assert visit is not None
    marked = client.post(reverse("field-campaign-visit-done", args=[campaign.pk, visit.pk]))
    assert marked.status_code == 302
    visit.refresh_from_db()
    assert visit.visited_at is not None
    assert visit.visited_by == coordinator

    page = client.get(reverse("field-campaign", args=[campaign.pk]))
    html = page.content.decode()
    assert 'aria-valuenow="25"' in html
    assert "1 / 4 (25%)" in html
    assert sum(row.visited for row in page.context["detail"].teachers) == 1
    listed = client.get(reverse("field-campaigns"), {"year": YEAR})
    (row,) = listed.context["rows"]
    assert (row.progress.students_visited, row.progress.students) == (1, 4)


def test_queries_do_not_grow_with_visits(coordinator: User, tambon: Subdistrict) -> None:
    school = _school(tambon, 2)
    campaign = _plan(school)
    client = _client(coordinator)
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("field-campaign", args=[campaign.pk])).status_code == 200
    with CaptureQueriesContext(connection) as few_list:
        assert client.get(reverse("field-campaigns"), {"year": YEAR}).status_code == 200

    _students(school, tambon, 18, start=2)
    _school(tambon, 3)
    campaign = _plan(school)
    assert campaign.visits.count() == 20
    with CaptureQueriesContext(connection) as many:
        assert client.get(reverse("field-campaign", args=[campaign.pk])).status_code == 200
    with CaptureQueriesContext(connection) as many_list:
        assert client.get(reverse("field-campaigns"), {"year": YEAR}).status_code == 200
    assert len(many) <= len(few)
    assert len(many_list) <= len(few_list)


def test_the_list_opens_on_the_newest_year_with_registers(
    coordinator: User, tambon: Subdistrict
) -> None:
    _school(tambon, 3)  # register rows of 2568, whatever today's year is

    response = _client(coordinator).get(reverse("field-campaigns"))

    assert response.context["year"] == YEAR
    assert [row.progress.students for row in response.context["rows"]] == [3]


# --- the map ----------------------------------------------------------------------------


def _page_data(html: str) -> Any:
    start = html.index('<script id="campaign-data" type="application/json">')
    body = html[html.index(">", start) + 1 : html.index("</script>", start)]
    return json.loads(body)


def test_the_map_data_holds_the_school_and_each_teachers_routes(
    coordinator: User, tambon: Subdistrict
) -> None:
    school = _school(tambon, 6)
    campaign = _plan(school)
    visit = CampaignVisit.objects.filter(campaign=campaign).order_by("day", "sequence").first()
    assert visit is not None
    campaign_visit_mark(visit=visit, at=dt.datetime(2030, 6, 3, 17, tzinfo=dt.UTC), by=None)
    # A household with no point stays in the list but not on the map.
    lost = CampaignVisit.objects.exclude(pk=visit.pk).filter(campaign=campaign).first()
    assert lost is not None
    Household.objects.filter(pk=lost.household_id).update(
        point=None, precision=Precision.UNRESOLVED
    )

    response = _client(coordinator).get(reverse("field-campaign", args=[campaign.pk]))
    html = response.content.decode()
    data = _page_data(html)

    assert school.point is not None
    assert data["school"] == [round(school.point.y, 5), round(school.point.x, 5)]
    assert data["teachers"] == [t.name for t in campaign.teachers.order_by("pk")]
    assert len(data["colours"]) == 2
    stops = [
        (day["day"], route["teacher"], stop)
        for day in data["days"]
        for route in day["routes"]
        for stop in route["stops"]
    ]
    assert len(stops) == 5
    assert sum(stop["visited"] for _, _, stop in stops) == 1
    assert {(d, s["sequence"]) for d, _, s in stops if s["visited"]} == {
        (visit.day.isoformat(), visit.sequence)
    }
    for day in data["days"]:
        for route in day["routes"]:
            if route["stops"]:
                # From the school, through the stops in order, and back.
                assert route["path"] == [
                    data["school"],
                    *(s["at"] for s in route["stops"]),
                    data["school"],
                ]
                assert [s["sequence"] for s in route["stops"]] == sorted(
                    s["sequence"] for s in route["stops"]
                )
    # The day the map opens on has a visit still to make; the list offers every day.
    assert data["day"] in {d["day"] for d in data["days"]}
    assert f'value="{data["day"]}" selected' in html
    # No student's name: only what the page lists already (teachers, addresses).
    children = Child.objects.filter(household__in=campaign.visits.values("household"))
    assert children.count() == 6
    shown = json.dumps(data, ensure_ascii=False)
    for child in children:
        assert child.first_name not in shown and child.last_name not in shown
    assert 'id="campaign-map"' in html
    assert "leaflet/leaflet.js" in html and "field/campaign.js" in html


def test_the_map_opens_on_today_during_the_campaign(coordinator: User, tambon: Subdistrict) -> None:
    campaign = _plan(_school(tambon, 6))
    days = sorted(set(campaign.visits.values_list("day", flat=True)))
    assert len(days) > 1
    assert (
        campaign_detail(coordinator, campaign.pk, today=MONDAY - dt.timedelta(days=30)).map_day
        == days[0]
    )
    assert campaign_detail(coordinator, campaign.pk, today=days[-1]).map_day == days[-1]
    # Once every visit of the first day is made, the map opens on the next.
    campaign.visits.filter(day=days[0]).update(
        visited_at=dt.datetime(2030, 6, 3, 10, tzinfo=dt.UTC)
    )
    assert (
        campaign_detail(coordinator, campaign.pk, today=MONDAY - dt.timedelta(days=30)).map_day
        == days[1]
    )


@pytest.mark.parametrize("households", [2, 24])
def test_the_page_with_its_map_takes_a_fixed_number_of_queries(
    coordinator: User,
    tambon: Subdistrict,
    households: int,
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    campaign = _plan(_school(tambon, households))
    assert campaign.visits.count() == households
    client = _client(coordinator)
    with django_assert_num_queries(CAMPAIGN_PAGE_QUERIES):
        response = client.get(reverse("field-campaign", args=[campaign.pk]))
    stops = sum(
        len(r["stops"]) for d in _page_data(response.content.decode())["days"] for r in d["routes"]
    )
    assert stops == households
