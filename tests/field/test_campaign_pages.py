"""The coordinator's campaign pages: who may open them (403 for other roles, 404 for a
school outside the area), planning from the form, the progress shown, marking a visit
done, and a query count that does not grow with the visits."""

from __future__ import annotations

import datetime as dt

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

from field.models import Campaign, CampaignVisit, School, TravelMode
from field.services.campaigns import campaign_plan
from geo.models import District, Subdistrict

pytestmark = pytest.mark.django_db
YEAR = 2568
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
