"""School home-visit campaigns: every studying student's household visited once in
the year, split among the school's teachers and over the campaign's working days.

- **Students** are the children matched to the school's register rows of the year
  (``Enrolment.child``, ``school_code``, ``academic_year``) still studying; their
  registry households are the visits, one per household however many students live
  there. A household with no point cannot be routed and is listed as ``NO_LOCATION``.
- **Teachers.** The located households are cut into one compact patch per teacher by
  halving across the wider side again and again (a k-d split, as
  ``geo.algorithms.clustering.group_by_proximity``), so the teachers' counts differ by
  at most one and each teacher's houses lie together.
- **Days.** Each teacher's patch is cut the same way into one patch per working day
  (Monday to Friday, from ``first_day`` to ``last_day``), and each day is a route of
  ``geo.algorithms.routing.plan_day`` from the school and back. A visit that does not
  fit its day moves to the teacher's next day, ahead of that day's own; what is left
  after the last day is listed as ``NO_DAY_LEFT``.
- **Planning again** keeps the visits already done, with their day and teacher, and
  plans the rest afresh.

Distances are the solver's: metres on the sphere times the circuity factor
(``settings.ROUTE_CIRCUITY``); the k-d split compares longitude and latitude as
given, which over a school's catchment does not change the patches much.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.gis.geos import Point as GeosPoint
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from field.models import (
    Campaign,
    CampaignGap,
    CampaignTeacher,
    CampaignUnplanned,
    CampaignVisit,
    Child,
    Enrolment,
    EnrolmentStatus,
    HouseholdWindow,
    School,
    TravelMode,
)
from field.services.routes import MIN_DAY_MINUTES, seconds_of, time_of
from geo.algorithms import routing

# A campaign longer than this is a typing mistake (a school term is about 100 days).
MAX_CAMPAIGN_DAYS = 120
MAX_TEACHERS = 200
# Solver budget per stop of a day's route. A campaign is hundreds of routes of a few
# houses each, where VROOM's first answer is never bettered by a longer search: on the
# demo's largest school (878 households, 40 teachers, 21 days) plan_day's 0.05 s floor
# took 42 s for 840 routes, 2 ms a stop 0.8 s, for the same total distance.
ROUTE_SECONDS_PER_STOP = 0.002

_GAP_OF_REASON = {
    routing.Reason.BEYOND_WORKING_HOURS: CampaignGap.BEYOND_WORKING_HOURS,
    routing.Reason.TIME_WINDOW: CampaignGap.TIME_WINDOW,
}


@dataclass(frozen=True)
class Progress:
    """Toward the service areas' target: 100% of students visited."""

    students: int
    students_visited: int
    households: int
    households_visited: int

    @property
    def percent(self) -> int:
        """Students visited, in whole per cent, rounded down so 100 means all."""
        if not self.students:
            return 0
        return self.students_visited * 100 // self.students


def students_of(*, school: School, academic_year: int) -> Q:
    """A filter on ``Child``: the school's studying students of the year."""
    rows = Enrolment.objects.filter(
        school_code=school.code,
        academic_year=academic_year,
        status=EnrolmentStatus.STUDYING,
        child__isnull=False,
    ).values("child_id")
    return Q(pk__in=rows)


def working_days(first: dt.date, last: dt.date) -> list[dt.date]:
    """Monday to Friday from ``first`` to ``last``, both included."""
    count = (last - first).days + 1
    days = (first + dt.timedelta(days=i) for i in range(max(0, count)))
    return [day for day in days if day.weekday() < 5]


def kd_split(points: Sequence[tuple[float, float]], groups: int) -> list[list[int]]:
    """Indices of ``points`` in ``groups`` compact lists (some empty when there are
    fewer points than groups), sizes within one of each other, in spatial order along
    the cuts so that neighbouring lists lie side by side. Ties go to the lower index."""
    return _split(points, list(range(len(points))), groups)


def _split(
    points: Sequence[tuple[float, float]], indices: list[int], groups: int
) -> list[list[int]]:
    if groups == 1:
        return [sorted(indices)]
    if not indices:
        return [[] for _ in range(groups)]
    xs = [points[i][0] for i in indices]
    ys = [points[i][1] for i in indices]
    axis = 0 if max(xs) - min(xs) >= max(ys) - min(ys) else 1
    ordered = sorted(indices, key=lambda i: (points[i][axis], points[i][1 - axis], i))
    left = groups // 2
    # In proportion to the group counts, so every size stays within one of n / groups.
    cut = len(ordered) * left // groups
    return _split(points, ordered[:cut], left) + _split(points, ordered[cut:], groups - left)


@dataclass(frozen=True)
class _Home:
    household_id: int
    point: GeosPoint | None


def _homes(school: School, academic_year: int, skip: set[int]) -> list[_Home]:
    rows = (
        Child.objects.filter(students_of(school=school, academic_year=academic_year))
        .exclude(household_id__in=skip)
        .values_list("household_id", "household__point")
        .distinct()
        .order_by("household_id")
    )
    return [_Home(household_id, point) for household_id, point in rows]


def _windows(household_ids: list[int]) -> dict[int, tuple[routing.TimeWindow, ...]]:
    found: dict[int, list[routing.TimeWindow]] = defaultdict(list)
    for window in HouseholdWindow.objects.filter(household_id__in=household_ids).order_by("opens"):
        found[window.household_id].append(
            routing.TimeWindow(seconds_of(window.opens), seconds_of(window.closes))
        )
    return {k: tuple(v) for k, v in found.items()}


def _teachers(campaign: Campaign, names: list[str]) -> list[CampaignTeacher]:
    """The campaign's teachers for ``names``, in that order: existing rows kept (done
    visits point at them), new ones made, and the others removed unless they hold
    visits that stay."""
    existing = {t.name: t for t in campaign.teachers.all()}
    kept = []
    for name in names:
        teacher = existing.pop(name, None)
        if teacher is None:
            teacher = CampaignTeacher(campaign=campaign, name=name)
            teacher.full_clean()
            teacher.save()
        kept.append(teacher)
    CampaignTeacher.objects.filter(pk__in=[t.pk for t in existing.values()]).exclude(
        Exists(CampaignVisit.objects.filter(teacher=OuterRef("pk")))
    ).delete()
    return kept


@transaction.atomic
def campaign_plan(
    *,
    school: School,
    academic_year: int,
    first_day: dt.date,
    last_day: dt.date,
    teachers: list[str],
    mode: TravelMode,
    starts: dt.time,
    ends: dt.time,
    service_minutes: int = 30,
    by: User | None,
) -> Campaign:
    """Plans (or plans again) ``school``'s campaign of ``academic_year``.

    Refused (ValidationError) for a school with no point, no teacher, no working day
    in the dates, or a working day under 30 minutes. Visits already done stay as they
    are; every other visit and gap of an earlier plan is replaced.
    """
    names = list(dict.fromkeys(n.strip() for n in teachers if n.strip()))
    if not names:
        raise ValidationError(_("Name at least one teacher."))
    if len(names) > MAX_TEACHERS:
        raise ValidationError(_("At most %(n)s teachers.") % {"n": MAX_TEACHERS})
    if school.point is None:
        raise ValidationError(
            _("School %(school)s has no location: locate it first.") % {"school": school.name}
        )
    if last_day < first_day:
        raise ValidationError(_("The last day comes before the first."))
    if (last_day - first_day).days >= MAX_CAMPAIGN_DAYS:
        raise ValidationError(_("A campaign lasts at most %(n)s days.") % {"n": MAX_CAMPAIGN_DAYS})
    days = working_days(first_day, last_day)
    if not days:
        raise ValidationError(_("There is no working day (Monday to Friday) in those dates."))
    shift = (seconds_of(starts), seconds_of(ends))
    if shift[1] - shift[0] < MIN_DAY_MINUTES * 60:
        raise ValidationError(_("The working day must end at least 30 minutes after it starts."))

    campaign = (
        Campaign.objects.select_for_update()
        .filter(school=school, academic_year=academic_year)
        .first()
    ) or Campaign(school=school, academic_year=academic_year, created_by=by)
    campaign.first_day, campaign.last_day = first_day, last_day
    campaign.mode, campaign.starts, campaign.ends = mode, starts, ends
    campaign.service_minutes = service_minutes
    campaign.planned_at = timezone.now()
    campaign.full_clean()
    campaign.save()

    campaign.visits.filter(visited_at__isnull=True).delete()
    campaign.unplanned.all().delete()
    done = set(campaign.visits.values_list("household_id", flat=True))
    crew = _teachers(campaign, names)
    homes = _homes(school, academic_year, done)
    located = [h for h in homes if h.point is not None]
    gaps = {h.household_id: CampaignGap.NO_LOCATION for h in homes if h.point is None}
    windows = _windows([h.household_id for h in located])
    # A done visit keeps its place in its day; new ones on that day come after it.
    taken: dict[tuple[int, dt.date], int] = defaultdict(int)
    for teacher_id, day, sequence in campaign.visits.values_list("teacher_id", "day", "sequence"):
        taken[teacher_id, day] = max(taken[teacher_id, day], sequence)

    school_point = routing.Point(lon=float(school.point.x), lat=float(school.point.y))
    member = routing.Member(id=0, start=school_point, shift_start=shift[0], shift_end=shift[1])
    costs = routing.CostModel(circuity=float(settings.ROUTE_CIRCUITY))
    xy = [(float(h.point.x), float(h.point.y)) for h in located if h.point is not None]
    rows: list[CampaignVisit] = []
    for teacher, patch in zip(crew, kd_split(xy, len(crew)), strict=True):
        daily = kd_split([xy[i] for i in patch], len(days))
        carried: list[int] = []
        for day, part in zip(days, daily, strict=True):
            wanted = carried + [patch[i] for i in part]
            put_off = set(carried)
            if not wanted:
                continue
            stops = [
                routing.Stop(
                    id=i,
                    point=routing.Point(lon=xy[i][0], lat=xy[i][1]),
                    service=service_minutes * 60,
                    # Visits put off from an earlier day go first.
                    priority=routing.Priority.NEW if i in put_off else routing.Priority.ROUTINE,
                    windows=windows.get(located[i].household_id, ()),
                )
                for i in wanted
            ]
            result = routing.plan_day(
                stops,
                [member],
                mode=routing.TravelMode(mode),
                costs=costs,
                seconds=ROUTE_SECONDS_PER_STOP * len(stops),
            )
            first = taken[teacher.pk, day]
            for route in result.routes:
                for sequence, visit in enumerate(route.visits, start=first + 1):
                    rows.append(
                        CampaignVisit(
                            campaign=campaign,
                            household_id=located[int(visit.stop_id)].household_id,
                            teacher=teacher,
                            day=day,
                            sequence=sequence,
                            arrives=time_of(visit.start),
                        )
                    )
            carried = []
            for unplanned in result.unplanned:
                index = int(unplanned.stop_id)
                gap = _GAP_OF_REASON.get(unplanned.reason)
                if gap is None:
                    carried.append(index)
                else:
                    gaps[located[index].household_id] = gap
        for index in carried:
            gaps[located[index].household_id] = CampaignGap.NO_DAY_LEFT
    CampaignVisit.objects.bulk_create(rows)
    CampaignUnplanned.objects.bulk_create(
        CampaignUnplanned(campaign=campaign, household_id=household_id, reason=reason)
        for household_id, reason in sorted(gaps.items())
    )
    return campaign


@transaction.atomic
def campaign_visit_mark(*, visit: CampaignVisit, at: dt.datetime, by: User | None) -> CampaignVisit:
    """Records ``visit`` as done at ``at`` (aware). Marking it again keeps the first
    time: the target counts households visited, not visits."""
    if timezone.is_naive(at):
        raise ValidationError(_("The time of a visit must carry its time zone."))
    visit = CampaignVisit.objects.select_for_update().get(pk=visit.pk)
    if visit.visited_at is None:
        visit.visited_at = at
        visit.visited_by = by
        visit.full_clean()
        visit.save(update_fields=["visited_at", "visited_by"])
    return visit


def progress_by_school(codes: list[str], academic_year: int) -> dict[str, Progress]:
    """``campaign_progress`` for the campaigns of many schools (by code) in one query;
    a school with no studying student is left out. Students are counted from the
    register as it is now, so a student enrolled after the plan counts as not yet
    visited."""
    visited = Exists(
        CampaignVisit.objects.filter(
            campaign__school__code=OuterRef("school_code"),
            campaign__academic_year=academic_year,
            household_id=OuterRef("child__household_id"),
            visited_at__isnull=False,
        )
    )
    rows = (
        Enrolment.objects.filter(
            school_code__in=codes,
            academic_year=academic_year,
            status=EnrolmentStatus.STUDYING,
            child__isnull=False,
        )
        .values("school_code")
        .annotate(
            students=Count("child_id", distinct=True),
            students_visited=Count("child_id", distinct=True, filter=Q(visited)),
            households=Count("child__household_id", distinct=True),
            households_visited=Count("child__household_id", distinct=True, filter=Q(visited)),
        )
        .order_by()
    )
    return {
        row["school_code"]: Progress(
            students=row["students"],
            students_visited=row["students_visited"],
            households=row["households"],
            households_visited=row["households_visited"],
        )
        for row in rows
    }


def campaign_progress(campaign: Campaign) -> Progress:
    """Students visited out of the school's studying students (the service areas'
    target, "100% of students visited"), and households visited out of theirs."""
    found = progress_by_school([campaign.school.code], campaign.academic_year)
    return found.get(campaign.school.code, Progress(0, 0, 0, 0))
