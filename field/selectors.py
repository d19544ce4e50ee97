"""Reads that scope personal data to the user's area, and the funnel's counts.

``user_area`` is the one place that decides who sees what; every page that shows
children, households or import reports fetches through the functions below it,
which raise ``PermissionDenied`` (wrong role) or ``Http404`` (not there, or not
theirs to know about).

- Administrators (the role, or a superuser) see every province.
- Coordinators see their province, narrowed to their districts when any are listed.
- Officials see the same area as a coordinator but only as counts: never a name,
  an ID or an address (``AreaScope.names`` is false).
- Search team members see the households in their teams' current areas: whole
  tambons, or village clusters of a tambon (a household is in a cluster when its
  point lies inside the cluster's area and it is registered in that tambon).
  ``households(at=...)`` gives the areas their teams held at another time: a visit
  recorded offline is accepted from the team that held the case when it was made.
  They open no area map or funnel.
- A case lies where the child lives: its whereabouts when the field found the
  child moved (``Case.whereabouts``), else its child's registry household
  (``AreaScope.cases``). A child who moved into another team's area is that
  team's case from then on: one case, which keeps its visits.
- Volunteers see the households of their own zone (``ZoneAssignment``), as a
  team member sees a team's areas, and nothing outside it; ``households(at=...)``
  gives the zone as it was then. They open no area map or funnel either.

A household whose tambon is unknown lies in no area. Administrators see it, and
so does the coordinator who uploaded the file its children came from: they hold
that file already, and would otherwise never see those children again.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import reduce
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.gis.db.models.functions import Envelope
from django.contrib.postgres.aggregates import ArrayAgg
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import PermissionDenied
from django.db.models import (
    BigIntegerField,
    BooleanField,
    Count,
    Exists,
    F,
    FloatField,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce, Floor, Substr
from django.http import Http404
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from field.models import (
    Case,
    CaseKind,
    CaseStatus,
    Child,
    ChildStatus,
    ChildYear,
    Household,
    ImportRun,
    MatchReview,
    Precision,
    Profile,
    Reconciliation,
    ReviewStatus,
    Role,
    Team,
    TeamArea,
    Visit,
    Volunteer,
    ZoneAssignment,
)
from geo.models import District, Province, Subdistrict, Village

User = AbstractBaseUser | AnonymousUser

# Thailand's extent (west, south, east, north): the national funnel opens on it.
THAILAND_BBOX = (97.34, 5.61, 105.64, 20.47)
# More points than this would make the map page slow on a tablet and say nothing
# a cluster count does not; the response says when it was cut.
MAP_FEATURE_LIMIT = 20_000
# Six decimals of a degree are 11 cm: far finer than any household position here.
MAP_DIGITS = 5
# Officials see unreached households summed in cells of this many degrees (about
# 1.1 km at Thai latitudes), never a household's own point.
OFFICIAL_GRID_DEGREES = 0.01

UNREACHED = (ChildStatus.DROPPED_OUT, ChildStatus.NEVER_ENROLLED)
_SCOPE_CACHE = "_takhai_area_scope"


# --- who sees what -----------------------------------------------------------------


@dataclass(frozen=True)
class AreaScope:
    """The area a user may look at. ``province`` None means the whole country."""

    user_id: int
    role: Role
    province: str | None
    districts: tuple[str, ...] = ()
    names: bool = True
    """Whether the user may see personal data (names, IDs, addresses)."""
    teams: tuple[int, ...] = ()
    """A search team member's teams; their areas are the scope."""
    volunteer: int | None = None
    """A volunteer's own record; their zone is the scope."""

    @property
    def in_field(self) -> bool:
        """A team member or a volunteer: the scope is places given to them, case by
        case, never a whole area to browse."""
        return self.role in (Role.TEAM_MEMBER, Role.VOLUNTEER)

    @property
    def root(self) -> str:
        """The DOPA code of the widest area the user may open ("" for the country)."""
        return self.province or ""

    @property
    def may_manage(self) -> bool:
        """Whether the user may import registry files and reconcile them."""
        return self.role in (Role.ADMINISTRATOR, Role.COORDINATOR)

    def may_open(self, code: str) -> bool:
        """Whether the area ``code`` may be opened: inside the scope, or the user's
        own province when they are narrowed to some of its districts (which then
        shows those districts only)."""
        if self.in_field:
            return False
        if self.province is None:
            return True
        if not code.startswith(self.province):
            return False
        return not self.districts or len(code) == 2 or code[:4] in self.districts

    def households(
        self, to_household: str = "", to_child: str | None = None, at: dt.datetime | None = None
    ) -> Q:
        """A filter on rows that reach a household through ``to_household``
        ("child__household__" from a ChildYear); ``to_child`` is the path to one
        of its children, for the unplaced rule (default: through ``children``).
        ``at``: for a team member, the areas their teams held then, for a volunteer
        their zone then (default: now)."""
        if self.role == Role.VOLUNTEER:
            return self._zone_households(to_household, at)
        if self.role == Role.TEAM_MEMBER:
            return self._team_households(to_household, at)
        if self.province is None:
            return Q()
        prefix = f"{to_household}subdistrict__code__startswith"
        codes = self.districts or (self.province,)
        placed = reduce(operator.or_, (Q(**{prefix: code}) for code in codes))
        unplaced = Q(**{f"{to_household}subdistrict__isnull": True})
        if to_child is None:
            own = Exists(Child.objects.filter(household=OuterRef("pk"), run__by_id=self.user_id))
            return placed | (unplaced & Q(own))
        return placed | (unplaced & Q(**{f"{to_child}run__by_id": self.user_id}))

    def cases(self, to_case: str = "", at: dt.datetime | None = None) -> Q:
        """A filter on rows that reach a case through ``to_case`` ("case__" from a
        Visit): the cases lying in the scope, each where its whereabouts is when
        the field reported one, else at its child's registry household.
        ``at`` as for ``households``: the areas held then, the cases where they are now."""
        registered = Q(**{f"{to_case}whereabouts__isnull": True}) & self.households(
            f"{to_case}child__household__", to_child=f"{to_case}child__", at=at
        )
        # The guard matters for coordinators: with no whereabouts, the joined
        # household is all NULLs, which their rule for unplaced households would
        # otherwise take for a household of their own file.
        moved = Q(**{f"{to_case}whereabouts__isnull": False}) & self.households(
            f"{to_case}whereabouts__", to_child=f"{to_case}child__", at=at
        )
        return registered | moved

    def cases_then(self, at: dt.datetime) -> Q:
        """A filter on cases: those that lay in the areas the scope held at ``at``,
        where they lay then: at the destination of the latest move recorded
        before ``at``, else at the registry household. A visit recorded offline
        before a move is so accepted from the team that held the case then, and
        one recorded after it only from the team of the new home."""
        moved = (
            Visit.objects.filter(case=OuterRef(OuterRef("pk")), moved_to__isnull=False, at__lt=at)
            .order_by("-at", "-pk")
            .values("moved_to")[:1]
        )
        then = Household.objects.filter(
            pk=Coalesce(Subquery(moved), OuterRef("child__household_id"))
        ).filter(self.households(at=at))
        return Q(Exists(then))

    def _team_households(self, to_household: str, at: dt.datetime | None) -> Q:
        areas = TeamArea.objects.filter(team_id__in=self.teams)
        if at is None:
            areas = areas.filter(ended_at__isnull=True)
        else:
            areas = areas.filter(assigned_at__lte=at).filter(
                Q(ended_at__isnull=True) | Q(ended_at__gt=at)
            )
        tambon = OuterRef(f"{to_household}subdistrict")
        whole = areas.filter(cluster__isnull=True, subdistrict=tambon)
        # Interior only: neighbouring clusters share their edge, so a point on it
        # is inside one of them at most (rounding decides which), never in two
        # teams' lists; one that falls in neither shows among the unassigned.
        clustered = areas.filter(
            cluster__isnull=False,
            subdistrict=tambon,
            cluster__area__contains=OuterRef(f"{to_household}point"),
        )
        # The tambon list first, so that PostgreSQL reads the households of those
        # tambons by index instead of testing every household of the country.
        return Q(**{f"{to_household}subdistrict__in": areas.values("subdistrict_id")}) & (
            Q(Exists(whole)) | Q(Exists(clustered))
        )

    def _zone_households(self, to_household: str, at: dt.datetime | None) -> Q:
        if self.volunteer is None:
            return Q(pk__in=[])
        zone = ZoneAssignment.objects.filter(
            volunteer_id=self.volunteer, household=OuterRef(f"{to_household}pk")
        )
        if at is None:
            zone = zone.filter(ended_at__isnull=True)
        else:
            zone = zone.filter(started_at__lte=at).filter(
                Q(ended_at__isnull=True) | Q(ended_at__gt=at)
            )
        return Q(Exists(zone))


def user_area(user: User) -> AreaScope:
    """The scope of ``user``; PermissionDenied for roles without one.

    One query, then kept on the user object for the rest of the request.
    """
    if not user.is_authenticated:
        raise PermissionDenied
    cached = getattr(user, _SCOPE_CACHE, None)
    if isinstance(cached, AreaScope):
        return cached
    scope = _load_area(user)
    setattr(user, _SCOPE_CACHE, scope)
    return scope


def _load_area(user: AbstractBaseUser) -> AreaScope:
    profile = (
        Profile.objects.filter(user_id=user.pk)
        .annotate(district_codes=ArrayAgg("districts__code", default=[], distinct=True))
        .values("role", "province_id", "district_codes", "national")
        .first()
    )
    role = profile["role"] if profile else None
    if getattr(user, "is_superuser", False) or role == Role.ADMINISTRATOR:
        return AreaScope(user_id=user.pk, role=Role.ADMINISTRATOR, province=None)
    if role == Role.TEAM_MEMBER:
        teams = tuple(sorted(Team.objects.filter(members__pk=user.pk).values_list("pk", flat=True)))
        return AreaScope(user_id=user.pk, role=Role.TEAM_MEMBER, province=None, teams=teams)
    if role == Role.VOLUNTEER:
        volunteer = Volunteer.objects.filter(user_id=user.pk).values_list("pk", flat=True).first()
        if volunteer is None:
            # A volunteer login not yet linked to a volunteer has no zone to see.
            raise PermissionDenied
        return AreaScope(user_id=user.pk, role=Role.VOLUNTEER, province=None, volunteer=volunteer)
    if profile is None or role not in (Role.COORDINATOR, Role.OFFICIAL):
        raise PermissionDenied
    if role == Role.OFFICIAL and profile["national"]:
        # The whole country, aggregates only (names=False), as an official of a
        # province reads theirs.
        return AreaScope(user_id=user.pk, role=Role.OFFICIAL, province=None, names=False)
    if profile["province_id"] is None:
        # A coordinator or official not yet given an area sees nothing rather than all.
        raise PermissionDenied
    return AreaScope(
        user_id=user.pk,
        role=Role(role),
        province=profile["province_id"],
        districts=tuple(sorted(code for code in profile["district_codes"] if code)),
        names=role == Role.COORDINATOR,
    )


def _scope_with_names(user: User) -> AreaScope:
    scope = user_area(user)
    if not scope.names:
        raise PermissionDenied
    return scope


def scope_children(user: User, queryset: QuerySet[Child]) -> QuerySet[Child]:
    """``queryset`` narrowed to the children the user may see by name."""
    scope = _scope_with_names(user)
    return queryset.filter(scope.households("household__", to_child=""))


def scope_households(user: User, queryset: QuerySet[Household]) -> QuerySet[Household]:
    """``queryset`` narrowed to the households the user may see with their address."""
    return queryset.filter(_scope_with_names(user).households())


def import_runs_for_user(user: User) -> QuerySet[ImportRun]:
    """The import runs the user may open.

    Administrators see every run. A coordinator sees the runs they uploaded and
    those with no uploader (run from the command line by an operator): a run's
    report quotes rows of its file, so it stays with whoever sent the file.
    Officials and field roles get PermissionDenied.
    """
    scope = user_area(user)
    if not scope.may_manage:
        raise PermissionDenied
    runs = ImportRun.objects.all()
    if scope.province is None:
        return runs
    return runs.filter(Q(by_id=user.pk) | Q(by__isnull=True))


def get_import_run(user: User, pk: int) -> ImportRun:
    """One run the user may open; Http404 when there is none they may see."""
    run = import_runs_for_user(user).filter(pk=pk).first()
    if run is None:
        raise Http404
    return run


# --- match reviews -------------------------------------------------------------------


class _CandidateIds(Func):
    """The child ids of a review's ``candidates`` ([{"child": id, "score": s}]), as an
    array."""

    template = (
        "ARRAY(SELECT (candidate ->> 'child')::bigint "
        "FROM jsonb_array_elements(%(expressions)s) AS candidate)"
    )
    output_field = ArrayField(BigIntegerField())


class _AnyOf(Func):
    """``value = ANY(array)``. Written so rather than as ``IN (subquery)``: PostgreSQL
    then looks each candidate up in the primary key's index, where it would
    otherwise test every child of the area against every review's JSON."""

    template = "%(expressions)s)"
    arg_joiner = " = ANY("
    arity = 2
    output_field = BooleanField()


def reviews_for_user(
    user: User, *, status: ReviewStatus | None = ReviewStatus.OPEN
) -> QuerySet[MatchReview]:
    """The match reviews the user may decide, in ``status`` (None: any).

    Coordinators and administrators only: a review shows the candidates' names and
    IDs. A coordinator sees a review when any candidate's household is in their
    area, since the register row itself has no address; candidates outside it
    stay hidden (``review_rows``).
    """
    scope = _scope_with_names(user)
    if not scope.may_manage:
        raise PermissionDenied
    reviews = MatchReview.objects.all()
    if status is not None:
        reviews = reviews.filter(status=status)
    if scope.province is None:
        return reviews
    in_area = scope_children(
        user, Child.objects.filter(_AnyOf(F("pk"), _CandidateIds(OuterRef("candidates"))))
    )
    return reviews.filter(Exists(in_area))


def get_review(user: User, pk: int, *, for_update: bool = False) -> MatchReview:
    """One review the user may decide, whatever its status; Http404 when there is
    none they may see. ``for_update`` locks it (inside a transaction), so that two
    coordinators deciding at once cannot both pass the "still open" check."""
    reviews = reviews_for_user(user, status=None).select_related("enrolment")
    if for_update:
        reviews = reviews.select_for_update(of=("self", "enrolment"))
    review = reviews.filter(pk=pk).first()
    if review is None:
        raise Http404
    return review


@dataclass(frozen=True)
class ReviewCandidate:
    child_id: int
    score: float
    child: Child | None
    """None when the child lives outside the user's area: shown only as a score."""

    @property
    def tambon(self) -> str:
        subdistrict = self.child.household.subdistrict if self.child else None
        if subdistrict is None:
            return ""
        english = (get_language() or "").startswith("en")
        return subdistrict.name_en if english and subdistrict.name_en else subdistrict.name_th


@dataclass(frozen=True)
class ReviewRow:
    review: MatchReview
    candidates: list[ReviewCandidate]


def review_rows(user: User, reviews: Sequence[MatchReview]) -> list[ReviewRow]:
    """``reviews`` with their candidates, best first; one query for all of them."""
    ids = {int(c["child"]) for review in reviews for c in review.candidates}
    children = scope_children(user, Child.objects.filter(pk__in=ids)).select_related(
        "household__subdistrict"
    )
    by_id = {child.pk: child for child in children}
    return [
        ReviewRow(
            review=review,
            candidates=[
                ReviewCandidate(
                    child_id=int(c["child"]), score=float(c["score"]), child=by_id.get(c["child"])
                )
                for c in review.candidates
            ],
        )
        for review in reviews
    ]


# --- areas -------------------------------------------------------------------------


@dataclass(frozen=True)
class AreaRef:
    code: str
    """"" for the whole country."""
    name: str
    extent: tuple[float, float, float, float]
    trail: tuple[tuple[str, str], ...] = ()
    """(code, name) of the areas above it, widest first."""

    @property
    def level(self) -> str:
        return {0: "country", 2: "province", 4: "district", 6: "subdistrict"}[len(self.code)]


AreaModel = type[Province] | type[District] | type[Subdistrict]
# Per length of code: the model, and the paths to its parents' names, widest first.
_AREA_MODELS: dict[int, tuple[AreaModel, tuple[str, ...]]] = {
    2: (Province, ()),
    4: (District, ("province__",)),
    6: (Subdistrict, ("district__province__", "district__")),
}
# Per length of the parent's code: the model of the areas one level down.
_CHILD_MODELS: dict[int, AreaModel] = {0: Province, 2: District, 4: Subdistrict}


def _checked_code(scope: AreaScope, code: str | None) -> str:
    code = scope.root if not code else code
    if code and (len(code) not in (2, 4, 6) or not code.isdigit()):
        raise Http404
    if not scope.may_open(code):
        raise PermissionDenied
    return code


def _name(row: Mapping[str, Any], prefix: str = "") -> str:
    english = (get_language() or "").startswith("en")
    thai = str(row[f"{prefix}name_th"])
    return str(row[f"{prefix}name_en"]) if english and row[f"{prefix}name_en"] else thai


def resolve_area(scope: AreaScope, code: str | None) -> AreaRef:
    """The area ``code`` (default: the user's widest), if the user may open it."""
    code = _checked_code(scope, code)
    if not code:
        return AreaRef(code="", name=_("Thailand"), extent=THAILAND_BBOX)
    model, parents = _AREA_MODELS[len(code)]
    fields = ["code", "name_th", "name_en", "box"]
    for parent in parents:
        fields += [f"{parent}code", f"{parent}name_th", f"{parent}name_en"]
    row = (
        model._default_manager.filter(code=code)
        .annotate(box=Envelope("geom"))
        .values(*fields)
        .first()
    )
    if row is None:
        raise Http404
    trail = tuple((str(row[f"{parent}code"]), _name(row, parent)) for parent in parents)
    return AreaRef(code=code, name=_name(row), extent=row["box"].extent, trail=trail)


# --- the funnel --------------------------------------------------------------------


COUNTS = ("population", "enrolled", "graduated", "review", "dropped_out", "never_enrolled")
UNREACHED_COUNTS = ("unreached", "unreached_compulsory") + tuple(
    f"unreached_{precision}" for precision in Precision.values
)


def _funnel_aggregates(to_household: str) -> dict[str, Count]:
    unreached = Q(status__in=UNREACHED)
    aggregates = {
        "population": Count("pk"),
        "enrolled": Count("pk", filter=Q(status=ChildStatus.ENROLLED)),
        "graduated": Count("pk", filter=Q(status=ChildStatus.GRADUATED)),
        "review": Count("pk", filter=Q(status=ChildStatus.REVIEW)),
        "dropped_out": Count("pk", filter=Q(status=ChildStatus.DROPPED_OUT)),
        "never_enrolled": Count("pk", filter=Q(status=ChildStatus.NEVER_ENROLLED)),
        "unreached": Count("pk", filter=unreached),
        "unreached_compulsory": Count("pk", filter=unreached & Q(compulsory=True)),
    }
    for precision in Precision.values:
        aggregates[f"unreached_{precision}"] = Count(
            "pk", filter=unreached & Q(**{f"{to_household}precision": precision})
        )
    return aggregates


@dataclass(frozen=True)
class FunnelRow:
    code: str | None
    """The child area's code; None for households with no tambon (or village)."""
    name: str
    counts: dict[str, int]
    drill: bool = False
    """Whether the row opens an area one level down."""


@dataclass(frozen=True)
class YearRun:
    """The latest reconciliation of an academic year."""

    academic_year: int
    at: dt.datetime
    min_age: int
    max_age: int


@dataclass(frozen=True)
class Funnel:
    scope: AreaScope
    area: AreaRef
    year: int | None
    runs: list[YearRun]
    """Every reconciled year, the most recently reconciled first."""
    rows: list[FunnelRow] = field(default_factory=list)
    total: dict[str, int] = field(default_factory=dict)

    @property
    def run(self) -> YearRun | None:
        """The latest reconciliation of the year shown."""
        return next((run for run in self.runs if run.academic_year == self.year), None)


def reconciled_years() -> list[YearRun]:
    """The latest reconciliation of each academic year, the most recent first."""
    latest = (
        Reconciliation.objects.order_by("academic_year", "-at", "-pk")
        .distinct("academic_year")
        .values_list("academic_year", "at", "min_age", "max_age")
    )
    return sorted((YearRun(*row) for row in latest), key=lambda run: run.at, reverse=True)


def _child_key(area_code: str, to_household: str) -> Func | F:
    if len(area_code) == 6:
        return F(f"{to_household}village_id")
    return Substr(f"{to_household}subdistrict_id", 1, len(area_code) + 2)


def _child_names(area_code: str, codes: Sequence[str]) -> dict[str, str]:
    if len(area_code) == 6:
        villages = Village.objects.filter(code__in=codes).values_list("code", "moo", "name")
        label = _("Moo %(moo)s %(name)s")
        return {code: label % {"moo": moo, "name": name} for code, moo, name in villages}
    model = _CHILD_MODELS[len(area_code)]
    rows = model._default_manager.filter(code__in=codes).values("code", "name_th", "name_en")
    return {str(row["code"]): _name(row) for row in rows}


def funnel(*, user: User, area_code: str | None, year: int | None) -> Funnel:
    """Children of the age window in ``year``, counted per area one level below
    ``area_code``: provinces, districts, tambons, or the villages of a tambon.

    Counts come from ChildYear (written by ``reconcile``); the area is the one of
    the child's household. One query for the scope, one for the area, one for the
    years, one for the counts, one for the names.
    """
    scope = user_area(user)
    area = resolve_area(scope, area_code)
    runs = reconciled_years()
    year = year if year is not None else (runs[0].academic_year if runs else None)
    result = Funnel(scope=scope, area=area, year=year, runs=runs)
    if year is None:
        return result
    to_household = "child__household__"
    rows = ChildYear.objects.filter(academic_year=year).filter(
        scope.households(to_household, to_child="child__")
    )
    if area.code != scope.root:
        rows = rows.filter(**{f"{to_household}subdistrict__code__startswith": area.code})
    grouped = (
        rows.annotate(key=_child_key(area.code, to_household))
        .values("key")
        .annotate(**_funnel_aggregates(to_household))
        .order_by("key")
    )
    counted = [(row.pop("key"), row) for row in grouped]
    names = _child_names(area.code, [key for key, _row in counted if key])
    unplaced = _("No village recorded") if len(area.code) == 6 else _("No tambon recorded")
    for key, counts in counted:
        name = names.get(key, key) if key else unplaced
        drill = bool(key) and len(area.code) < 6 and scope.may_open(key)
        result.rows.append(FunnelRow(code=key, name=name, counts=counts, drill=drill))
    result.rows.sort(key=lambda row: (row.code is None, row.code or ""))
    for name in COUNTS + UNREACHED_COUNTS:
        result.total[name] = sum(row.counts[name] for row in result.rows)
    return result


# --- the map of unreached households -------------------------------------------------


@dataclass(frozen=True)
class HouseholdPoints:
    features: list[dict[str, Any]]
    year: int | None
    truncated: bool


def unreached_households(
    *, user: User, area_code: str | None, year: int | None, limit: int = MAP_FEATURE_LIMIT
) -> HouseholdPoints:
    """Where the children with an open case, unreached in ``year``, live.

    One point per household and kind of case, with how many children and how
    well the household is placed. Nothing that names anyone: no name, ID, house
    number or address, so officials may see it too.
    """
    scope = user_area(user)
    code = _checked_code(scope, area_code)
    if year is None:
        runs = reconciled_years()
        year = runs[0].academic_year if runs else None
    if year is None:
        return HouseholdPoints(features=[], year=None, truncated=False)
    to_household = "child__household__"
    cases = Case.objects.filter(
        scope.households(to_household, to_child="child__"),
        status=CaseStatus.OPEN,
        kind__in=(CaseKind.NEVER_ENROLLED, CaseKind.DROPPED_OUT),
        child__household__point__isnull=False,
        child__years__academic_year=year,
        child__years__status__in=UNREACHED,
    )
    if code != scope.root:
        cases = cases.filter(child__household__subdistrict__code__startswith=code)
    point = F("child__household__point")
    if scope.role == Role.OFFICIAL:
        return _unreached_cells(cases, year=year, limit=limit)
    rows = (
        cases.annotate(
            lon=Func(point, function="ST_X", output_field=FloatField()),
            lat=Func(point, function="ST_Y", output_field=FloatField()),
        )
        .values("child__household_id", "kind", "child__household__precision", "lon", "lat")
        .annotate(children=Count("pk"))
        .order_by("child__household_id", "kind")[: limit + 1]
    )
    features = [
        {
            "type": "Feature",
            "geometry": {
                "type": "Point",
                "coordinates": [round(row["lon"], MAP_DIGITS), round(row["lat"], MAP_DIGITS)],
            },
            "properties": {
                "kind": row["kind"],
                "precision": row["child__household__precision"],
                "children": row["children"],
            },
        }
        for row in rows
    ]
    return HouseholdPoints(features=features[:limit], year=year, truncated=len(features) > limit)


def _unreached_cells(cases: QuerySet[Case], *, year: int, limit: int) -> HouseholdPoints:
    """The officials' form of the map: children with an open case summed per grid
    cell and kind. A cell under k children (``TAKHAI_SUPPRESS_K``) says only that it
    is under k: too few to stay anonymous."""
    point = F("child__household__point")
    size = OFFICIAL_GRID_DEGREES
    rows = (
        cases.annotate(
            ix=Floor(Func(point, function="ST_X", output_field=FloatField()) / size),
            iy=Floor(Func(point, function="ST_Y", output_field=FloatField()) / size),
        )
        .values("ix", "iy", "kind")
        .annotate(children=Count("pk"))
        .order_by("ix", "iy", "kind")[: limit + 1]
    )
    k = settings.SUPPRESS_K
    features = []
    for row in rows:
        x, y = round(row["ix"] * size, 6), round(row["iy"] * size, 6)
        ring = [[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]
        features.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[[round(a, 6), round(b, 6)] for a, b in ring]],
                },
                "properties": {
                    "kind": row["kind"],
                    "children": row["children"] if row["children"] >= k else None,
                    "under": k,
                },
            }
        )
    return HouseholdPoints(features=features[:limit], year=year, truncated=len(features) > limit)


# --- search teams ----------------------------------------------------------------------


def _team_scope(user: User) -> AreaScope:
    scope = user_area(user)
    if not scope.in_field:
        raise PermissionDenied
    return scope


def team_cases(user: User, *, open_only: bool = True) -> QuerySet[Case]:
    """The cases lying in the member's teams' current areas (``AreaScope.cases``)."""
    scope = _team_scope(user)
    cases = Case.objects.filter(scope.cases())
    if open_only:
        cases = cases.filter(status=CaseStatus.OPEN)
    return cases


def get_team_case(user: User, pk: int) -> Case:
    """One case in the member's areas now; Http404 for any other, guessed or not."""
    case = (
        team_cases(user, open_only=False)
        .select_related(
            "child__household__village",
            "child__household__subdistrict",
            "whereabouts__subdistrict",
        )
        .defer("whereabouts__subdistrict__geom")
        .filter(pk=pk)
        .first()
    )
    if case is None:
        raise Http404
    return case


def case_for_visit(user: User, pk: int, at: dt.datetime) -> Case | None:
    """The case a member's visit is for, when it lies in one of their teams' areas
    now, or lay in the areas they held at ``at``, the time the visit was recorded:
    a visit made offline before the case was reassigned, or before the child was
    reported moved, is still accepted. None for any other case."""
    scope = _team_scope(user)
    now_or_then = scope.cases() | scope.cases_then(at)
    return Case.objects.filter(now_or_then).filter(pk=pk).select_related("child").first()


def home_for(user: User) -> str:
    """The name of the page a user starts from after logging in: their own work
    first (a member's area, a coordinator's teams and their unassigned cases, an
    official's funnel), the map for anyone else."""
    try:
        scope = user_area(user)
    except PermissionDenied:
        return "home"
    if scope.in_field:
        return "field-my-area"
    if scope.may_manage:
        return "field-teams"
    return "field-funnel"
