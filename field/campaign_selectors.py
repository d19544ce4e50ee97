"""Reads for the coordinator's home-visit campaign pages. Every read starts from
``manager_scope`` (PermissionDenied for roles that do not manage) and the schools
of the user's area (Http404 for any other school)."""

from __future__ import annotations

import datetime as dt
import operator
from dataclasses import dataclass, field
from functools import reduce
from typing import Any

from django.contrib.auth.models import User
from django.contrib.gis.geos import Point
from django.db.models import Max, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from field.models import (
    Campaign,
    CampaignTeacher,
    CampaignUnplanned,
    CampaignVisit,
    Enrolment,
    School,
)
from field.selectors import AreaScope
from field.services.campaigns import Progress, campaign_progress, progress_by_school
from field.team_selectors import manager_scope


def latest_register_year(default: int) -> int:
    """The newest academic year with school registers imported, else ``default``: a
    campaign visits the students the registers list, so a year with none shows
    nothing to plan (the registers of a new year arrive weeks after it starts)."""
    latest = Enrolment.objects.aggregate(latest=Max("academic_year"))["latest"]
    return int(latest) if latest is not None else default


def schools_in_scope(scope: AreaScope) -> QuerySet[School]:
    """The schools whose tambon lies in the scope's districts (every school for an
    administrator). A school with no tambon lies in none: only an administrator sees it."""
    schools = School.objects.all()
    if scope.province is None:
        return schools
    codes = scope.districts or (scope.province,)
    return schools.filter(reduce(operator.or_, (Q(subdistrict__code__startswith=c) for c in codes)))


def get_school(user: User, pk: int) -> School:
    """One school of the user's area; Http404 for any other."""
    school = schools_in_scope(manager_scope(user)).filter(pk=pk).first()
    if school is None:
        raise Http404
    return school


@dataclass(frozen=True)
class SchoolRow:
    school: School
    campaign: Campaign | None
    progress: Progress


def campaign_schools(user: User, academic_year: int) -> list[SchoolRow]:
    """The schools of the user's area with their campaign of ``academic_year`` (if any)
    and its progress: three queries however many schools."""
    schools = list(schools_in_scope(manager_scope(user)).order_by("name", "code"))
    campaigns = {
        c.school_id: c
        for c in Campaign.objects.filter(
            school__in=[s.pk for s in schools], academic_year=academic_year
        )
    }
    progress = progress_by_school([s.code for s in schools], academic_year)
    return [
        SchoolRow(s, campaigns.get(s.pk), progress.get(s.code, Progress(0, 0, 0, 0)))
        for s in schools
    ]


@dataclass
class TeacherRow:
    teacher: CampaignTeacher
    visits: int = 0
    visited: int = 0


@dataclass
class DayRoute:
    teacher: CampaignTeacher
    visits: list[CampaignVisit] = field(default_factory=list)


@dataclass
class DayRow:
    day: dt.date
    routes: list[DayRoute] = field(default_factory=list)

    @property
    def visits(self) -> int:
        return sum(len(r.visits) for r in self.routes)


@dataclass(frozen=True)
class CampaignDetail:
    campaign: Campaign
    progress: Progress
    teachers: list[TeacherRow]
    days: list[DayRow]
    unplanned: list[CampaignUnplanned]
    # What the page's map draws (``campaign_map``), and the day it opens on.
    map: dict[str, Any] = field(default_factory=dict)
    map_day: dt.date | None = None


# Coordinates for the map: about a metre, plenty for a house.
LONLAT_DIGITS = 5


def _latlon(point: Point | None) -> list[float] | None:
    if point is None:
        return None
    return [round(point.y, LONLAT_DIGITS), round(point.x, LONLAT_DIGITS)]


def campaign_map(
    campaign: Campaign, teachers: list[TeacherRow], days: list[DayRow]
) -> dict[str, Any]:
    """The map of a campaign page from what the page already read (no query): the
    school, and per day each teacher's route (teachers by their place in
    ``teachers``, the page's order, which gives their colour). A stop holds only what
    the page lists beside it (address, arrival, visited); no student's name. Houses
    with no point are left off the map, not off the list. Paths are straight lines
    from the school and back, as the planner's costs are."""
    index = {row.teacher.pk: i for i, row in enumerate(teachers)}
    school = _latlon(campaign.school.point)
    out_days = []
    for day in days:
        routes = []
        for route in day.routes:
            stops = [
                {
                    "sequence": visit.sequence,
                    "at": _latlon(visit.household.point),
                    "arrives": f"{visit.arrives:%H:%M}",
                    "visited": visit.visited_at is not None,
                    "address": visit.household.address,
                }
                for visit in route.visits
                if visit.household.point is not None
            ]
            ends = [school] if school is not None and stops else []
            routes.append(
                {
                    "teacher": index[route.teacher.pk],
                    "stops": stops,
                    "path": [*ends, *(stop["at"] for stop in stops), *ends],
                }
            )
        out_days.append({"day": day.day.isoformat(), "routes": routes})
    return {
        "school": school,
        "teachers": [row.teacher.name for row in teachers],
        "days": out_days,
    }


def _map_day(days: list[DayRow], today: dt.date) -> dt.date | None:
    """Today when it is a campaign day, else the first day with a visit not yet made
    (the one a coordinator checks on), else the first day."""
    if any(day.day == today for day in days):
        return today
    for day in days:
        if any(v.visited_at is None for r in day.routes for v in r.visits):
            return day.day
    return days[0].day if days else None


def get_campaign(user: User, pk: int) -> Campaign:
    """One campaign of a school in the user's area; Http404 for any other."""
    scope = manager_scope(user)
    campaign = (
        Campaign.objects.filter(pk=pk, school__in=schools_in_scope(scope))
        .select_related("school")
        .first()
    )
    if campaign is None:
        raise Http404
    return campaign


def campaign_detail(user: User, pk: int, *, today: dt.date | None = None) -> CampaignDetail:
    """A campaign with its progress, its visits per teacher and per day in route
    order, and its map (opening on ``today``'s routes, Bangkok's date by default,
    when that is a campaign day): a fixed number of queries however many visits."""
    campaign = get_campaign(user, pk)
    teachers = {t.pk: TeacherRow(t) for t in campaign.teachers.order_by("pk")}
    days: dict[dt.date, DayRow] = {}
    routes: dict[tuple[dt.date, int], DayRoute] = {}
    visits = (
        CampaignVisit.objects.filter(campaign=campaign)
        .select_related("household")
        .order_by("day", "teacher_id", "sequence", "pk")
    )
    for visit in visits:
        row = teachers[visit.teacher_id]
        row.visits += 1
        row.visited += visit.visited_at is not None
        route = routes.get((visit.day, visit.teacher_id))
        if route is None:
            route = routes[visit.day, visit.teacher_id] = DayRoute(row.teacher)
            days.setdefault(visit.day, DayRow(visit.day)).routes.append(route)
        route.visits.append(visit)
    unplanned = list(
        CampaignUnplanned.objects.filter(campaign=campaign)
        .select_related("household")
        .order_by("reason", "household_id")
    )
    rows = list(teachers.values())
    day_rows = list(days.values())
    return CampaignDetail(
        campaign=campaign,
        progress=campaign_progress(campaign),
        teachers=rows,
        days=day_rows,
        unplanned=unplanned,
        map=campaign_map(campaign, rows, day_rows),
        map_day=_map_day(day_rows, today or timezone.localdate()),
    )


def get_visit(user: User, campaign_pk: int, pk: int) -> CampaignVisit:
    """One visit of a campaign in the user's area; Http404 for any other."""
    campaign = get_campaign(user, campaign_pk)
    visit = CampaignVisit.objects.filter(campaign=campaign, pk=pk).first()
    if visit is None:
        raise Http404
    return visit
