"""Reads for the coordinator's search-team pages: teams and their progress, the
places of a district and who holds them, and a proposed division of a district.

Every function starts from ``user_area`` and requires ``may_manage``: the pages
show children's names and move teams about. A team is in a coordinator's scope
when its district is; a team with no district only an administrator sees. A team
or district outside the scope is not found (Http404), so that guessing ids
tells nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import operator
from collections import defaultdict
from dataclasses import dataclass, field
from functools import reduce
from typing import Any, TypeVar

from django.contrib.auth.models import AbstractBaseUser
from django.contrib.gis.db.models import GeometryField, PointField
from django.contrib.gis.db.models.functions import AsGeoJSON
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Case as CaseWhen
from django.db.models import (
    CharField,
    Count,
    Exists,
    F,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Greatest
from django.http import Http404
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from field.models import (
    Case,
    CaseLink,
    CaseProgress,
    CaseStatus,
    Profile,
    Team,
    TeamArea,
    TeamPlaceVersion,
    Visit,
)
from field.selectors import AreaScope, User, user_area
from geo.algorithms.assignment import Base, Unit, propose
from geo.models import District, Subdistrict, VillageCluster

HH = "child__household__"
# Conflicting visits shown at most: past this the coordinator has a sync problem
# to fix, not a list to read.
AreaT = TypeVar("AreaT", District, Subdistrict)
CONFLICT_LIMIT = 200
# Open links shown at most, oldest first: more than this is a registry problem to
# raise, not a list to work through.
LINK_LIMIT = 200
# Tambon and cluster outlines are simplified to about 20 m for the map: plenty for
# telling places apart on a tablet, and a district's outlines stay small.
MAP_SIMPLIFY_DEGREES = 0.0002
MAP_DIGITS = 5
# Places closer than this (degrees, about 50 m) count as neighbours: real tambon
# boundaries leave slivers between places that share a road on the ground.
NEIGHBOUR_GAP_DEGREES = 0.0005
EARTH_RADIUS_M = 6_371_008.8


def manager_scope(user: User) -> AreaScope:
    scope = user_area(user)
    if not scope.may_manage:
        raise PermissionDenied
    return scope


def _name(obj: Subdistrict | District) -> str:
    english = (get_language() or "").startswith("en")
    return obj.name_en if english and obj.name_en else obj.name_th


def teams_in_scope(scope: AreaScope) -> QuerySet[Team]:
    """The teams whose district lies in the scope (every team for an administrator)."""
    teams = Team.objects.all()
    if scope.province is None:
        return teams
    codes = scope.districts or (scope.province,)
    return teams.filter(reduce(operator.or_, (Q(district__code__startswith=c) for c in codes)))


def get_team(user: User, pk: int) -> Team:
    """One team the user manages; Http404 for any other."""
    scope = manager_scope(user)
    team = (
        teams_in_scope(scope)
        .select_related("district", "base_school")
        .defer("district__geom")
        .prefetch_related("members")
        .filter(pk=pk)
        .first()
    )
    if team is None:
        raise Http404
    return team


def _placed(cases: QuerySet[Case]) -> QuerySet[Case]:
    """``cases`` with where each lies (``AreaScope.cases``): ``place_tambon`` and
    ``place_point``, of its whereabouts when the field reported one, else of its
    child's registry household."""
    moved = Q(whereabouts__isnull=False)
    return cases.annotate(
        place_tambon=CaseWhen(
            When(moved, then=F("whereabouts__subdistrict_id")),
            default=F(f"{HH}subdistrict_id"),
            output_field=CharField(),
        ),
        place_point=CaseWhen(
            When(moved, then=F("whereabouts__point")),
            default=F(f"{HH}point"),
            output_field=PointField(srid=4326),
        ),
    )


def lying_in(lookup: str, code: str, *, to_case: str = "") -> Q:
    """A filter on cases lying where ``lookup`` (from a household, e.g.
    ``subdistrict_id``) is ``code``: at their whereabouts when the field reported
    one, else at their child's registry household, as ``_placed``. ``to_case`` is
    the path to the case from the model filtered (``case__`` from visits)."""
    return Q(**{f"{to_case}whereabouts__isnull": True, f"{to_case}{HH}{lookup}": code}) | Q(
        **{f"{to_case}whereabouts__{lookup}": code}
    )


def _holder_team() -> Subquery:
    """The team holding a case's place now (``_placed``): a whole-tambon area of its
    tambon, or a cluster area of its tambon whose interior holds its point (a point
    on the edge between two clusters is in neither, as in ``AreaScope.households``)."""
    holding = TeamArea.objects.filter(
        ended_at__isnull=True, subdistrict=OuterRef("place_tambon")
    ).filter(Q(cluster__isnull=True) | Q(cluster__area__contains=OuterRef("place_point")))
    return Subquery(holding.order_by("cluster_id").values("team_id")[:1])


def _cluster_of() -> Subquery:
    """The village cluster whose area holds a case's place (``_placed``), in its tambon."""
    clusters = VillageCluster.objects.filter(
        subdistrict=OuterRef("place_tambon"), area__contains=OuterRef("place_point")
    )
    return Subquery(clusters.order_by("pk").values("pk")[:1])


def _progress_counts() -> dict[str, Count]:
    return {
        "open": Count("pk"),
        "visited": Count("pk", filter=Q(progress=CaseProgress.VISITED)),
        "found": Count("pk", filter=Q(progress=CaseProgress.FOUND)),
        "resolved": Count("pk", filter=Q(progress=CaseProgress.RESOLVED)),
    }


# --- the overview ------------------------------------------------------------------------


@dataclass
class Progress:
    open: int = 0
    visited: int = 0
    found: int = 0
    resolved: int = 0

    def add(self, row: dict[str, Any]) -> None:
        self.open += row["open"]
        self.visited += row["visited"]
        self.found += row["found"]
        self.resolved += row["resolved"]


@dataclass(frozen=True)
class MemberRow:
    user: AbstractBaseUser
    last_sync: dt.datetime | None


@dataclass
class TeamRow:
    team: Team
    members: list[MemberRow]
    areas: list[TeamArea]
    progress: Progress = field(default_factory=Progress)


@dataclass(frozen=True)
class UnassignedRow:
    code: str | None
    name: str
    open: int


@dataclass(frozen=True)
class Conflict:
    case: Case
    visits: list[Visit]


@dataclass(frozen=True)
class LinkSide:
    case: Case
    seen: bool
    """Whether the case lies in the user's scope: only then are the child's name and
    ID shown, since the link may come from a misread ID and name another child."""

    @property
    def tambon(self) -> str:
        place = self.case.whereabouts or self.case.child.household
        return _name(place.subdistrict) if place.subdistrict else _("No tambon recorded")

    @property
    def moved(self) -> bool:
        return self.case.whereabouts_id is not None


@dataclass(frozen=True)
class LinkRow:
    """Two open cases the field says are one child, for a coordinator to decide."""

    link: CaseLink
    sides: tuple[LinkSide, LinkSide]


@dataclass(frozen=True)
class TeamsOverview:
    scope: AreaScope
    teams: list[TeamRow]
    unassigned: list[UnassignedRow]
    conflicts: list[Conflict]
    links: list[LinkRow] = field(default_factory=list)

    @property
    def unassigned_total(self) -> int:
        return sum(row.open for row in self.unassigned)


def teams_overview(user: User) -> TeamsOverview:
    """The teams the user manages with their members, areas and progress, the open
    cases of the user's area that no team holds, and conflicting visits.

    A fixed number of queries whatever the number of teams, areas or cases.
    """
    scope = manager_scope(user)
    teams = list(
        teams_in_scope(scope)
        .select_related("district", "base_school")
        .defer("district__geom")
        .prefetch_related("members")
        .order_by("name")
    )
    team_ids = [team.pk for team in teams]
    areas: dict[int, list[TeamArea]] = defaultdict(list)
    current = (
        TeamArea.objects.filter(team_id__in=team_ids, ended_at__isnull=True)
        .select_related("subdistrict", "cluster")
        .defer("subdistrict__geom", "cluster__area")
        .order_by("subdistrict_id", "cluster__name")
    )
    for area in current:
        areas[area.team_id].append(area)
    # A sync notes its time on the member's profile; a visit received later (an
    # upload whose follow-up sync failed) counts too.
    member_ids = {member.pk for team in teams for member in team.members.all()}
    last_sync = dict(
        Profile.objects.filter(user_id__in=member_ids)
        .annotate(
            last=Greatest(
                "last_sync_at",
                Subquery(
                    Visit.objects.filter(by_id=OuterRef("user_id"))
                    .order_by("-received_at")
                    .values("received_at")[:1]
                ),
            )
        )
        .values_list("user_id", "last")
    )
    rows = {
        team.pk: TeamRow(
            team=team,
            members=[MemberRow(m, last_sync.get(m.pk)) for m in team.members.all()],
            areas=areas[team.pk],
        )
        for team in teams
    }

    counted = (
        _placed(Case.objects.filter(status=CaseStatus.OPEN).filter(scope.cases()))
        .annotate(holder=_holder_team())
        .values("holder", "place_tambon")
        .annotate(**_progress_counts())
        .order_by()
    )
    unassigned_counts: dict[str | None, int] = defaultdict(int)
    for row in counted:
        if row["holder"] is None:
            unassigned_counts[row["place_tambon"]] += row["open"]
        elif row["holder"] in rows:
            rows[row["holder"]].progress.add(row)
    names = {
        s.code: s
        for s in Subdistrict.objects.filter(code__in=[c for c in unassigned_counts if c]).only(
            "code", "name_th", "name_en"
        )
    }
    unassigned = sorted(
        (
            UnassignedRow(
                code=code,
                name=_name(names[code]) if code in names else _("No tambon recorded"),
                open=count,
            )
            for code, count in unassigned_counts.items()
        ),
        key=lambda row: (row.code is None, row.code or ""),
    )
    return TeamsOverview(
        scope=scope,
        teams=[rows[team.pk] for team in teams],
        unassigned=unassigned,
        conflicts=_conflicts(scope),
        links=_open_links(scope),
    )


_LINK_TAMBONS = tuple(
    f"{side}__{path}subdistrict"
    for side in ("case", "other")
    for path in ("whereabouts__", "child__household__")
)


def _links_seen(scope: AreaScope) -> QuerySet[CaseLink]:
    """The links where either case lies in the scope (``AreaScope.cases``): the
    coordinators of both cases see the link."""

    def seen(column: str) -> Exists:
        return Exists(Case.objects.filter(scope.cases()).filter(pk=OuterRef(column)))

    return CaseLink.objects.annotate(case_seen=seen("case_id"), other_seen=seen("other_id")).filter(
        Q(case_seen=True) | Q(other_seen=True)
    )


def _open_links(scope: AreaScope) -> list[LinkRow]:
    """Open same-child links in the scope, with both cases; one query."""
    links = (
        _links_seen(scope)
        .filter(resolved_at__isnull=True)
        .select_related(
            "case__child__household",
            "other__child__household",
            "case__whereabouts",
            "other__whereabouts",
            "found_by__by",
            "found_by__team",
            *_LINK_TAMBONS,
        )
        .defer(*(f"{tambon}__geom" for tambon in _LINK_TAMBONS))
        .order_by("created_at", "pk")[:LINK_LIMIT]
    )
    return [
        LinkRow(
            link=link,
            sides=(
                LinkSide(link.case, bool(getattr(link, "case_seen", False))),
                LinkSide(link.other, bool(getattr(link, "other_seen", False))),
            ),
        )
        for link in links
    ]


def get_case_link(user: User, pk: int) -> CaseLink:
    """One link the user may decide: either case lies in their scope. Http404 for
    any other, so that guessing ids tells nothing."""
    scope = manager_scope(user)
    link = _links_seen(scope).select_related("case", "other").filter(pk=pk).first()
    if link is None:
        raise Http404
    return link


def _conflicts(scope: AreaScope) -> list[Conflict]:
    """Cases with two visits by different members, each recorded before the other
    reached the server (neither knew of the other), with different outcomes."""
    rival = (
        Visit.objects.filter(
            case=OuterRef("case"),
            at__lt=OuterRef("received_at"),
            received_at__gt=OuterRef("at"),
        )
        .exclude(by=OuterRef("by"))
        .exclude(outcome=OuterRef("outcome"))
    )
    visits = (
        Visit.objects.filter(Exists(rival))
        .filter(scope.cases("case__"))
        # The households too: the audit log records the tambon of each case shown.
        .select_related("case__child__household", "case__whereabouts", "by", "team")
        .defer("case__child__household__given_point", "case__whereabouts__given_point")
        .order_by("-case__updated_at", "case_id", "at", "pk")[:CONFLICT_LIMIT]
    )
    grouped: dict[int, Conflict] = {}
    for visit in visits:
        grouped.setdefault(visit.case_id, Conflict(case=visit.case, visits=[])).visits.append(visit)
    return list(grouped.values())


# --- one team's district -------------------------------------------------------------------


@dataclass
class Place:
    """A tambon, or one cluster of it, with its open cases and who holds it."""

    subdistrict: Subdistrict
    cluster: VillageCluster | None
    open: int = 0
    holders: list[TeamArea] = field(default_factory=list)
    """Current assignments of exactly this place."""
    clusters: list[Place] = field(default_factory=list)
    """A tambon's clusters."""
    version: int = 0
    """The tambon's ``TeamPlaceVersion`` as read: the page sends it back with a change."""

    @property
    def key(self) -> str:
        return f"c{self.cluster.pk}" if self.cluster else f"t{self.subdistrict.code}"

    @property
    def name(self) -> str:
        return self.cluster.name if self.cluster else _name(self.subdistrict)


@dataclass(frozen=True)
class TeamDistrict:
    team: Team
    places: list[Place]
    """The district's tambons, each with its clusters."""
    map_features: list[dict[str, Any]]
    extent: tuple[float, float, float, float] | None
    teams: dict[int, str]
    """Every team holding a place shown, by id."""


def team_district(user: User, team: Team) -> TeamDistrict:
    """The tambons of ``team``'s district with their clusters, open cases and
    holders, and their outlines for the map. ``team`` comes from ``get_team``."""
    manager_scope(user)
    if team.district_id is None:
        return TeamDistrict(team=team, places=[], map_features=[], extent=None, teams={})
    district = team.district_id
    tambons = list(
        Subdistrict.objects.filter(district_id=district)
        .annotate(
            outline=AsGeoJSON(_simplified("geom"), precision=MAP_DIGITS),
        )
        .defer("geom")
        .order_by("code")
    )
    # A cluster left without villages (kept only for the assignment history, see
    # field.services.clusters) is no place to give, unless someone still holds it.
    held_now = TeamArea.objects.filter(cluster=OuterRef("pk"), ended_at__isnull=True)
    clusters = list(
        VillageCluster.objects.filter(subdistrict__district_id=district)
        .filter(Q(area__isnull=False) | Q(Exists(held_now)))
        .annotate(outline=AsGeoJSON(_simplified("area"), precision=MAP_DIGITS))
        .defer("area")
        .order_by("subdistrict_id", "name")
    )
    holders = list(
        TeamArea.objects.filter(subdistrict__district_id=district, ended_at__isnull=True)
        .select_related("team")
        .defer("team__base_point")
    )
    counts = (
        _placed(Case.objects.filter(status=CaseStatus.OPEN))
        .filter(lying_in("subdistrict__district_id", district))
        .annotate(cluster=_cluster_of())
        .values("place_tambon", "cluster")
        .annotate(open=Count("pk"))
        .order_by()
    )
    versions = dict(
        TeamPlaceVersion.objects.filter(subdistrict__district_id=district).values_list(
            "subdistrict_id", "version"
        )
    )
    by_tambon = {
        t.code: Place(subdistrict=t, cluster=None, version=versions.get(t.code, 0)) for t in tambons
    }
    by_cluster: dict[int, Place] = {}
    for cluster in clusters:
        place = Place(subdistrict=by_tambon[cluster.subdistrict_id].subdistrict, cluster=cluster)
        by_tambon[cluster.subdistrict_id].clusters.append(place)
        by_cluster[cluster.pk] = place
    for row in counts:
        tambon = by_tambon.get(row["place_tambon"])
        if tambon is None:
            continue
        tambon.open += row["open"]
        if row["cluster"] in by_cluster:
            by_cluster[row["cluster"]].open += row["open"]
    for area in holders:
        held: Place | None = (
            by_cluster.get(area.cluster_id)
            if area.cluster_id
            else by_tambon.get(area.subdistrict_id)
        )
        if held is not None:
            held.holders.append(area)
    teams = {area.team_id: area.team.name for area in holders}
    features = []
    boxes = []
    for tambon in by_tambon.values():
        whole = tambon.holders[0].team_id if tambon.holders else None
        units = [(c, c.holders[0].team_id if c.holders else whole) for c in tambon.clusters]
        if not units:
            units = [(tambon, whole)]
        for place, holder in units:
            outline = getattr(place.cluster or place.subdistrict, "outline", None)
            if not outline:
                continue
            geometry = json.loads(outline)
            boxes.append(_bbox(geometry))
            features.append(
                {
                    "type": "Feature",
                    "geometry": geometry,
                    "properties": {
                        "key": place.key,
                        "name": place.name,
                        "tambon": _name(tambon.subdistrict),
                        "open": place.open,
                        "team": holder,
                        "teamName": teams.get(holder, "") if holder else "",
                        "whole": holder is not None and holder == whole,
                    },
                }
            )
    extent = (
        (
            min(b[0] for b in boxes),
            min(b[1] for b in boxes),
            max(b[2] for b in boxes),
            max(b[3] for b in boxes),
        )
        if boxes
        else None
    )
    return TeamDistrict(
        team=team,
        places=list(by_tambon.values()),
        map_features=features,
        extent=extent,
        teams=teams,
    )


def _simplified(column: str) -> Func:
    return Func(
        F(column),
        Value(MAP_SIMPLIFY_DEGREES),
        function="ST_SimplifyPreserveTopology",
        output_field=GeometryField(srid=4326),
    )


def _bbox(geometry: dict[str, Any]) -> tuple[float, float, float, float]:
    xs: list[float] = []
    ys: list[float] = []

    def walk(node: Any) -> None:
        if node and isinstance(node[0], (int, float)):
            xs.append(float(node[0]))
            ys.append(float(node[1]))
        else:
            for child in node:
                walk(child)

    walk(geometry.get("coordinates", []))
    return (min(xs), min(ys), max(xs), max(ys)) if xs else (0.0, 0.0, 0.0, 0.0)


def place_for_assignment(
    user: User, team: Team, key: str
) -> tuple[Subdistrict, VillageCluster | None]:
    """The tambon (``t<code>``) or cluster (``c<id>``) ``key`` names, in ``team``'s
    district; Http404 for anything else."""
    manager_scope(user)
    if team.district_id is None or len(key) < 2 or key[0] not in "tc":
        raise Http404
    if key[0] == "t":
        tambon = Subdistrict.objects.filter(code=key[1:], district_id=team.district_id).first()
        if tambon is None:
            raise Http404
        return tambon, None
    if not key[1:].isdigit():
        raise Http404
    cluster = (
        VillageCluster.objects.filter(pk=int(key[1:]), subdistrict__district_id=team.district_id)
        .select_related("subdistrict")
        .first()
    )
    if cluster is None:
        raise Http404
    return cluster.subdistrict, cluster


def area_to_end(user: User, team: Team, pk: int, *, current_only: bool = True) -> TeamArea:
    """A current assignment in ``team``'s district (of any team: ending another
    team's place is how a coordinator frees it); Http404 for any other.
    ``current_only=False`` also finds one already ended, so that a page shown
    before another coordinator ended it can be told so (a conflict, not a 404)."""
    manager_scope(user)
    current = Q(ended_at__isnull=True) if current_only else Q()
    area = (
        TeamArea.objects.filter(current, pk=pk, subdistrict__district_id=team.district_id)
        .select_related("team", "subdistrict", "cluster")
        .first()
    )
    if area is None or team.district_id is None:
        raise Http404
    return area


# --- proposing a division of a district ------------------------------------------------------


@dataclass(frozen=True)
class ProposedUnit:
    key: str
    subdistrict: str
    cluster: int | None
    name: str
    tambon: str
    open: int
    team: int | None


@dataclass(frozen=True)
class ProposedTeam:
    team: Team
    cases: int
    units: int
    farthest_m: float | None
    """Farthest household with an open case from the team's base, in metres."""


@dataclass(frozen=True)
class Proposal:
    district: District
    units: list[ProposedUnit]
    teams: list[ProposedTeam]
    without_base: list[Team]
    """Teams of the district with no base point: left out of the proposal."""

    def mapping(self) -> dict[str, int]:
        return {unit.key: unit.team for unit in self.units if unit.team is not None}


def tambon_versions(district: District) -> list[tuple[str, int]]:
    """Every tambon of ``district`` with its ``TeamPlaceVersion`` (0 before its
    first change): a page that changes the whole district sends them back."""
    versions = dict(
        TeamPlaceVersion.objects.filter(subdistrict__district=district).values_list(
            "subdistrict_id", "version"
        )
    )
    codes = Subdistrict.objects.filter(district=district).order_by("code")
    return [(code, versions.get(code, 0)) for code in codes.values_list("code", flat=True)]


def managed_area(user: User, code: str, areas: QuerySet[AreaT], digits: int) -> AreaT:
    """The district or tambon ``code`` from ``areas``, when the user manages it;
    Http404 outside their scope, PermissionDenied for anyone who manages nothing."""
    scope = manager_scope(user)
    if len(code) != digits or not code.isdigit() or not scope.may_open(code):
        raise Http404
    area = areas.filter(code=code).first()
    if area is None:
        raise Http404
    return area


def get_district(user: User, code: str) -> District:
    """A district the user manages; Http404 outside their scope."""
    return managed_area(user, code, District.objects.defer("geom"), 4)


def district_proposal(user: User, code: str) -> Proposal:
    """The teams of district ``code`` and a division of its places among them
    (``geo.algorithms.assignment.propose``), with each team's open cases, places
    and farthest household from its base."""
    scope = manager_scope(user)
    district = get_district(user, code)
    teams = list(
        teams_in_scope(scope)
        .filter(district_id=district.code)
        .select_related("base_school")
        .order_by("name")
    )
    bases = {
        team.pk: team.base_point or (team.base_school.point if team.base_school else None)
        for team in teams
    }
    with_base = [team for team in teams if bases[team.pk] is not None]
    units = _district_units(district.code)
    if not units:
        return Proposal(district=district, units=[], teams=[], without_base=[])
    lon0 = sum(u["lon"] for u in units) / len(units)
    lat0 = sum(u["lat"] for u in units) / len(units)

    def planar(lon: float, lat: float) -> tuple[float, float]:
        # A local equirectangular projection: for a district, far closer than the
        # balancing needs, and it keeps the algorithm free of any CRS.
        scale = math.pi / 180 * EARTH_RADIUS_M
        return ((lon - lon0) * scale * math.cos(math.radians(lat0)), (lat - lat0) * scale)

    mapping = propose(
        [Unit(u["key"], *planar(u["lon"], u["lat"]), u["open"], u["neighbours"]) for u in units],
        [
            Base(team.pk, *planar(bases[team.pk].x, bases[team.pk].y))  # type: ignore[union-attr]
            for team in with_base
        ],
    )
    proposed = [
        ProposedUnit(
            key=u["key"],
            subdistrict=u["subdistrict"],
            cluster=u["cluster"],
            name=u["name"],
            tambon=u["tambon"],
            open=u["open"],
            team=mapping.get(u["key"]),
        )
        for u in units
    ]
    farthest = _farthest(proposed, {t.pk: bases[t.pk] for t in with_base})
    rows = [
        ProposedTeam(
            team=team,
            cases=sum(u.open for u in proposed if u.team == team.pk),
            units=sum(1 for u in proposed if u.team == team.pk),
            farthest_m=farthest.get(team.pk),
        )
        for team in with_base
    ]
    return Proposal(
        district=district,
        units=proposed,
        teams=rows,
        without_base=[t for t in teams if bases[t.pk] is None],
    )


_UNITS_SQL = """
WITH units AS (
    SELECT 'c' || c.id AS key, s.code AS subdistrict, c.id AS cluster, c.name AS name,
           s.name_th, s.name_en, c.area AS geom
    FROM geo_villagecluster c JOIN geo_subdistrict s ON s.code = c.subdistrict_id
    WHERE s.district_id = %(district)s AND c.area IS NOT NULL
    UNION ALL
    SELECT 't' || s.code, s.code, NULL, NULL, s.name_th, s.name_en, s.geom
    FROM geo_subdistrict s
    WHERE s.district_id = %(district)s AND NOT EXISTS (
        SELECT 1 FROM geo_villagecluster c WHERE c.subdistrict_id = s.code AND c.area IS NOT NULL
    )
),
cases AS (
    SELECT u.key, count(*) AS open
    FROM field_case fc
    JOIN field_child ch ON ch.id = fc.child_id
    -- Where the case lies: the child's new home once reported, else the registry's.
    JOIN field_household h ON h.id = coalesce(fc.whereabouts_id, ch.household_id)
    JOIN units u ON u.subdistrict = h.subdistrict_id
        AND (u.cluster IS NULL OR ST_Contains(u.geom, h.point))
    WHERE fc.status = 'open'
    GROUP BY u.key
)
SELECT u.key, u.subdistrict, u.cluster, u.name, u.name_th, u.name_en,
       ST_X(ST_PointOnSurface(u.geom)), ST_Y(ST_PointOnSurface(u.geom)),
       coalesce(cases.open, 0),
       coalesce(ARRAY(
           SELECT o.key FROM units o
           WHERE o.key <> u.key AND ST_DWithin(o.geom, u.geom, %(gap)s)
           ORDER BY o.key
       ), '{}')
FROM units u LEFT JOIN cases ON cases.key = u.key
ORDER BY u.subdistrict, u.name NULLS FIRST
"""


def _district_units(district: str) -> list[dict[str, Any]]:
    """The clusters of the district, and its tambons without clusters, each with
    a point inside it, its open cases and its neighbours. One query."""
    english = (get_language() or "").startswith("en")
    with connection.cursor() as cursor:
        cursor.execute(_UNITS_SQL, {"district": district, "gap": NEIGHBOUR_GAP_DEGREES})
        rows = cursor.fetchall()
    units = []
    for key, subdistrict, cluster, name, name_th, name_en, lon, lat, open_, near in rows:
        tambon = name_en if english and name_en else name_th
        units.append(
            {
                "key": key,
                "subdistrict": subdistrict,
                "cluster": cluster,
                "name": name or tambon,
                "tambon": tambon,
                "lon": float(lon),
                "lat": float(lat),
                "open": int(open_),
                "neighbours": frozenset(near),
            }
        )
    return units


_FARTHEST_SQL = """
SELECT p.team, max(ST_Distance(h.point::geography,
                               ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326)::geography))
FROM unnest(%(subdistricts)s::text[], %(clusters)s::bigint[], %(teams)s::bigint[],
            %(lons)s::float8[], %(lats)s::float8[]) AS p(subdistrict, cluster, team, lon, lat)
JOIN field_household h ON h.subdistrict_id = p.subdistrict
LEFT JOIN geo_villagecluster vc ON vc.id = p.cluster
WHERE (p.cluster IS NULL OR ST_Contains(vc.area, h.point))
  AND h.point IS NOT NULL
  AND (
      EXISTS (
          SELECT 1 FROM field_child ch JOIN field_case fc ON fc.child_id = ch.id
          WHERE ch.household_id = h.id AND fc.status = 'open' AND fc.whereabouts_id IS NULL
      )
      -- Two tests rather than one on coalesce(): each can use its foreign key's index.
      OR EXISTS (
          SELECT 1 FROM field_case fc WHERE fc.whereabouts_id = h.id AND fc.status = 'open'
      )
  )
GROUP BY p.team
"""


def _farthest(units: list[ProposedUnit], bases: dict[int, Any]) -> dict[int, float]:
    """Per team, the ground distance from its base to its farthest household with
    an open case, on the spheroid (geography). One query."""
    given = [(u, u.team) for u in units if u.team is not None]
    if not given:
        return {}
    params: dict[str, list[Any]] = {
        "subdistricts": [u.subdistrict for u, _team in given],
        "clusters": [u.cluster for u, _team in given],
        "teams": [team for _u, team in given],
        "lons": [bases[team].x for _u, team in given],
        "lats": [bases[team].y for _u, team in given],
    }
    with connection.cursor() as cursor:
        cursor.execute(_FARTHEST_SQL, params)
        return {int(team): float(distance) for team, distance in cursor.fetchall()}


__all__ = [
    "area_to_end",
    "district_proposal",
    "get_district",
    "get_team",
    "place_for_assignment",
    "team_district",
    "teams_in_scope",
    "teams_overview",
]
