"""The scope walk: every route, as every persona, against one world.

Every URL name of ``project/urls.py`` must be declared in ``field/route_scopes.py``
(who may open it, what personal data it may return), and every declaration must
name a route. Then each route is opened as each persona with real arguments: ids
and area codes inside and outside the persona's scope, the ids next to them,
ids that do not exist, tiles over each area, and query strings that might widen
an API list. Each answer is held to the declaration:

- a role not declared is refused (a redirect to log in, 401, 403 or 404), and so
  is an id or area outside the persona's scope (never a 200);
- no body (HTML, JSON, CSV, XLSX, GeoJSON, GPX, GeoPackage, vector tile) holds a
  marker of data outside the scope: a name, an address, a national ID or a
  household's position; a route declared without personal data holds none at
  all, whoever asks, and officials get none anywhere;
- writes outside the scope, and sync uploads for other areas' cases, are refused
  and change nothing.

The world is built once per module inside a transaction that is rolled back at
the end; each test runs in a savepoint of it.

The world (two provinces, P and Q; P has districts A and B):

========  ========================================================================
tag       what
========  ========================================================================
TA        tambon ``ta`` of district A: team A's whole tambon, its cases
ZV        tambon ``tz`` of district A: the volunteer persona's zone
TB        tambon ``tb`` of district B: team B's whole tambon
UN        tambon ``tu`` of district B: nobody's area
QQ        tambon ``tq`` of province Q: team Q's, volunteer Q's zone
NC / NQ   households with no tambon, from the coordinator's / Q coordinator's file
RS        import runs with no uploader (visible to every coordinator)
RC / RQ   import runs of the coordinator / of the Q coordinator
QA        the places and schools of province Q (not personal data, but no one
          scoped to P should be shown them outside the public boundaries)
========  ========================================================================
"""

from __future__ import annotations

import datetime as dt
import html
import io
import json
import re
import struct
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from math import cos, floor, log, pi, radians, tan
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.contrib.gis.geos import Point
from django.db import transaction
from django.http import HttpResponseBase
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from factories import (
    TEST_ACADEMIC_YEAR,
    CaseFactory,
    ChildFactory,
    ChildYearFactory,
    DistrictFactory,
    EnrolmentFactory,
    HouseholdFactory,
    ImportProblemFactory,
    ImportRunFactory,
    MatchReviewFactory,
    ProfileFactory,
    ProvinceFactory,
    ReconciliationFactory,
    RoutePlanFactory,
    RouteStopFactory,
    SchoolFactory,
    SubdistrictFactory,
    TeamFactory,
    UserFactory,
    VillageFactory,
    VolunteerFactory,
    ZoneAssignmentFactory,
    make,
    square,
    thai_national_id,
)

from accounts.models import Device
from field import route_scopes
from field.models import (
    Affiliation,
    Campaign,
    CampaignTeacher,
    CampaignVisit,
    Case,
    CaseKind,
    CaseLink,
    ChildStatus,
    Household,
    ImportKind,
    ImportRun,
    MatchReview,
    Precision,
    Profile,
    ReviewStatus,
    Role,
    RoutePlan,
    RouteStop,
    School,
    SearchOutcome,
    Team,
    TeamArea,
    TravelMode,
    Visit,
    Volunteer,
    ZoneAssignment,
)
from field.registry.ids import IdentifierKind
from field.route_scopes import ANONYMOUS, Data, Route, RouteScope
from field.services.stats import stats_refresh
from field.services.teams import team_area_assign
from geo.models import District, Province, Subdistrict

YEAR = TEST_ACADEMIC_YEAR
MISSING = "missing"
"""The key of an id that names nothing a persona may open: refused, whoever asks."""
NOWHERE = "nowhere"
"""The key of an area code that names no area: refused, or answered with nothing."""
PERSONAL_TAGS = ("TA", "ZV", "TB", "UN", "QQ", "NC", "NQ", "RS", "RC", "RQ")
PLACE_TAG = "QA"
FAR_ID = 9_000_000


# --- the world ----------------------------------------------------------------------------


@dataclass
class World:
    users: dict[str, User]
    areas: dict[str, str]
    """Area key ("P", "dA", "ta", "Q", ...) -> DOPA code."""
    extents: dict[str, tuple[float, float, float, float]]
    cases: dict[str, list[Case]]
    households: dict[str, list[Household]]
    teams: dict[str, Team]
    volunteers: dict[str, Volunteer]
    plans: dict[str, RoutePlan]
    stops: dict[str, RouteStop]
    campaigns: dict[str, Campaign]
    campaign_visits: dict[str, CampaignVisit]
    links: dict[str, CaseLink]
    reviews: dict[str, MatchReview]
    runs: dict[str, ImportRun]
    team_areas: dict[str, TeamArea]
    visits: dict[str, Visit] = field(default_factory=dict)
    markers: dict[str, set[str]] = field(default_factory=dict)
    """Tag -> strings that must not show where the tag is out of scope."""
    binary: dict[str, set[bytes]] = field(default_factory=dict)
    """Tag -> household coordinates as little-endian doubles (GeoPackage geometry)."""
    keys: dict[str, dict[int, tuple[str, ...]]] = field(default_factory=dict)
    """Kind of object -> pk -> the keys any one of which opens it."""
    own: dict[str, set[str]] = field(default_factory=dict)
    """Persona -> their own name: every page greets them by it."""
    by_design: dict[str, set[str]] = field(default_factory=dict)
    """Route -> markers out of scope that it shows on purpose (see ``build_world``)."""

    def mark(self, tag: str, *strings: str) -> None:
        self.markers.setdefault(tag, set()).update(s for s in strings if s)

    def mark_point(self, tag: str, point: Point) -> None:
        # Four decimals: both the 5-decimal rounding of the map data and a full
        # repr start so, and no boundary or village lies on these offsets.
        self.mark(tag, f"{point.x:.4f}")
        self.binary.setdefault(tag, set()).update(
            struct.pack("<d", value) for value in (point.x, point.y)
        )

    def key(self, kind: str, pk: int, *keys: str) -> None:
        self.keys.setdefault(kind, {})[pk] = keys


def _persona(
    world: World,
    name: str,
    role: Role,
    province: Province | None,
    districts: tuple[District, ...] = (),
    tag: str = "",
    **fields: Any,
) -> User:
    user = make(UserFactory, username=f"walk_{name}", **fields)
    if tag:
        world.mark(tag, user.first_name, user.last_name, user.username)
    world.own[name] = {user.first_name, user.last_name, user.username}
    make(ProfileFactory, user=user, role=role, province=province, districts=list(districts))
    world.users[name] = user
    return user


def _tambon(district: District, index: int, **fields: Any) -> Subdistrict:
    x0, y0 = district.province.geom.extent[:2]
    return make(
        SubdistrictFactory,
        district=district,
        geom=square(x0 + index * 0.01, y0 + 0.02, 0.01),
        **fields,
    )


def _cases(
    world: World,
    tag: str,
    tambon: Subdistrict | None,
    run: ImportRun,
    number: int,
    n: int = 2,
) -> None:
    cases, households = [], []
    for i in range(n):
        point = None
        if tambon is not None:
            x0, y0 = tambon.geom.extent[:2]
            point = Point(x0 + 0.00312 + i * 0.0011, y0 + 0.00413 + i * 0.0011, srid=4326)
            world.mark_point(tag, point)
        household = make(
            HouseholdFactory,
            subdistrict=tambon,
            point=point,
            precision=Precision.GIVEN if tambon is not None else Precision.UNRESOLVED,
            house_no=f"{tag}{i}/9",
            address=f"บ้านลับ{tag}{i} หมู่ 1",
        )
        national_id = thai_national_id(f"1{number:03d}{i:08d}")
        child = make(
            ChildFactory,
            household=household,
            run=run,
            national_id=national_id,
            id_kind=IdentifierKind.THAI_ID,
            first_name=f"ชื่อลับ{tag}{i}",
            last_name=f"สกุลลับ{tag}",
        )
        status = ChildStatus.NEVER_ENROLLED if i % 2 == 0 else ChildStatus.DROPPED_OUT
        make(ChildYearFactory, child=child, status=status)
        kind = CaseKind.NEVER_ENROLLED if i % 2 == 0 else CaseKind.DROPPED_OUT
        case = make(CaseFactory, child=child, kind=kind)
        world.mark(tag, f"ชื่อลับ{tag}", f"สกุลลับ{tag}", f"บ้านลับ{tag}", national_id)
        world.key("case", case.pk, tag)
        world.key("household", household.pk, tag)
        cases.append(case)
        households.append(household)
    world.cases[tag] = cases
    world.households[tag] = households


def _visit(world: World, tag: str, by: User, team: Team | None) -> None:
    world.visits[tag] = Visit.objects.create(
        case=world.cases[tag][0],
        by=by,
        at=timezone.now() - dt.timedelta(days=1),
        outcome=SearchOutcome.NOT_FOUND,
        note=f"บันทึกลับ{tag}",
        team=team,
    )
    world.mark(tag, f"บันทึกลับ{tag}")


def _link(world: World, name: str, a: Case, b: Case, found: Visit, *keys: str) -> None:
    low, high = sorted((a, b), key=lambda case: case.pk)
    link = CaseLink.objects.create(case=low, other=high, found_by=found, created_at=timezone.now())
    world.links[name] = link
    world.key("link", link.pk, *keys)


def _review(world: World, name: str, tag: str, children: list[int], *keys: str) -> None:
    enrolment = make(
        EnrolmentFactory,
        run=world.runs["RS_enrolment"],
        first_name=f"ชื่อลับ{tag}r{name}",
        last_name=f"สกุลลับ{tag}",
    )
    review = make(
        MatchReviewFactory,
        enrolment=enrolment,
        candidates=[{"child": pk, "score": 90.0} for pk in children],
    )
    world.reviews[name] = review
    world.key("review", review.pk, *keys)


def _campaign(world: World, name: str, tag: str, school: School, household: Household) -> None:
    today = timezone.localdate()
    campaign = Campaign.objects.create(
        school=school,
        academic_year=YEAR,
        first_day=today,
        last_day=today + dt.timedelta(days=4),
        mode=TravelMode.MOTORCYCLE,
        starts=dt.time(8, 30),
        ends=dt.time(16, 30),
    )
    teacher = CampaignTeacher.objects.create(campaign=campaign, name=f"ครูลับ{tag}")
    visit = CampaignVisit.objects.create(
        campaign=campaign,
        household=household,
        teacher=teacher,
        day=today,
        sequence=1,
        arrives=dt.time(9, 0),
    )
    world.mark(tag, f"ครูลับ{tag}")
    world.campaigns[name] = campaign
    world.campaign_visits[name] = visit


def build_world() -> World:
    users: dict[str, User] = {}
    world = World(
        users=users,
        areas={},
        extents={},
        cases={},
        households={},
        teams={},
        volunteers={},
        plans={},
        stops={},
        campaigns={},
        campaign_visits={},
        links={},
        reviews={},
        runs={},
        team_areas={},
    )
    province_p = make(ProvinceFactory)
    province_q = make(ProvinceFactory, name_th="จังหวัดลับQA", name_en="Province QA")
    district_a = make(DistrictFactory, province=province_p)
    district_b = make(DistrictFactory, province=province_p)
    district_q = make(
        DistrictFactory, province=province_q, name_th="อำเภอลับQA", name_en="District QA"
    )
    tambons = {
        "ta": _tambon(district_a, 0),
        "tz": _tambon(district_a, 1),
        "tb": _tambon(district_b, 2),
        "tu": _tambon(district_b, 3),
        "tq": _tambon(district_q, 0, name_th="ตำบลลับQA", name_en="Tambon QA"),
    }
    world.mark(PLACE_TAG, "จังหวัดลับQA", "อำเภอลับQA", "ตำบลลับQA", "โรงเรียนลับQA")
    world.areas = {
        "P": province_p.code,
        "dA": district_a.code,
        "dB": district_b.code,
        "Q": province_q.code,
        "dQ": district_q.code,
        **{key: tambon.code for key, tambon in tambons.items()},
    }
    world.extents = {
        "P": province_p.geom.extent,
        "Q": province_q.geom.extent,
        **{key: tambon.geom.extent for key, tambon in tambons.items()},
    }
    villages = {
        key: make(VillageFactory, subdistrict=tambon, name=f"หมู่บ้าน{key}")
        for key, tambon in tambons.items()
    }

    # The personas, and the users behind province Q's data.
    def named(tag: str) -> dict[str, str]:
        return {"first_name": f"ผู้ใช้ลับ{tag}", "last_name": f"นามสกุลผู้ใช้ลับ{tag}"}

    _persona(world, "admin", Role.ADMINISTRATOR, None, is_staff=True, is_superuser=True)
    _persona(world, "coordinator", Role.COORDINATOR, province_p, (district_a, district_b))
    _persona(world, "coordinator_a", Role.COORDINATOR, province_p, (district_a,))
    _persona(world, "official", Role.OFFICIAL, province_p)
    national = _persona(world, "official_national", Role.OFFICIAL, None)
    Profile.objects.filter(user=national).update(national=True)
    _persona(world, "member_a", Role.TEAM_MEMBER, province_p, (district_a,), "TA", **named("TA"))
    _persona(world, "member_b", Role.TEAM_MEMBER, province_p, (district_b,), "TB", **named("TB"))
    _persona(world, "volunteer", Role.VOLUNTEER, province_p, (district_a,), "ZV", **named("ZV"))
    coordinator_q = _persona(
        world, "coordinator_q", Role.COORDINATOR, province_q, (), "QQ", **named("QQc")
    )
    member_q = _persona(
        world, "member_q", Role.TEAM_MEMBER, province_q, (district_q,), "QQ", **named("QQm")
    )
    volunteer_q = _persona(
        world, "volunteer_q", Role.VOLUNTEER, province_q, (district_q,), "QQ", **named("QQv")
    )

    # Import runs: the operator's, the coordinator's and the Q coordinator's.
    def run(tag: str, by: User | None, kind: ImportKind = ImportKind.POPULATION) -> ImportRun:
        made = make(
            ImportRunFactory,
            by=by,
            kind=kind,
            affiliation=Affiliation.OBEC if kind == ImportKind.ENROLMENT else "",
            file_name=f"ไฟล์ลับ{tag}-{kind}.csv",
        )
        make(ImportProblemFactory, run=made, reason=f"แถวลับ{tag}")
        world.mark(tag, f"ไฟล์ลับ{tag}", f"แถวลับ{tag}")
        world.key("run", made.pk, tag)
        return made

    world.runs = {
        "RS": run("RS", None),
        "RC": run("RC", users["coordinator"]),
        "RQ": run("RQ", coordinator_q),
        "RS_enrolment": run("RS", None, ImportKind.ENROLMENT),
    }

    # Households, children and open cases.
    for number, (tag, key) in enumerate(
        (("TA", "ta"), ("ZV", "tz"), ("TB", "tb"), ("UN", "tu"), ("QQ", "tq")), start=1
    ):
        _cases(world, tag, tambons[key], world.runs["RS"], number)
    _cases(world, "NC", None, world.runs["RC"], 6)
    _cases(world, "NQ", None, world.runs["RQ"], 7)

    # Teams, their areas and visits.
    for tag, district, key, district_key, member in (
        ("TA", district_a, "ta", "dA", users["member_a"]),
        ("TB", district_b, "tb", "dB", users["member_b"]),
        ("QQ", district_q, "tq", "dQ", member_q),
    ):
        x0, y0 = tambons[key].geom.extent[:2]
        team = make(
            TeamFactory,
            name=f"ทีมลับ{tag}",
            district=district,
            base_point=Point(x0 + 0.0071, y0 + 0.0071, srid=4326),
        )
        team.members.add(member)
        world.mark(tag, f"ทีมลับ{tag}")
        world.teams[tag] = team
        world.key("team", team.pk, district_key)
        world.team_areas[tag] = team_area_assign(team=team, subdistrict=tambons[key], by=None)
        _visit(world, tag, member, team)
    _visit(world, "UN", users["admin"], None)

    # Volunteers and their zones.
    for tag, user, key, district_key in (
        ("ZV", users["volunteer"], "tz", "dA"),
        ("QQ", volunteer_q, "tq", "dQ"),
    ):
        village = villages[key]
        x0, y0 = tambons[key].geom.extent[:2]
        volunteer = make(
            VolunteerFactory,
            user=user,
            name=f"อาสาลับ{tag}",
            village=village,
            home=Point(x0 + 0.0061, y0 + 0.0061, srid=4326),
        )
        world.mark(tag, f"อาสาลับ{tag}")
        world.volunteers[tag] = volunteer
        world.key("volunteer", volunteer.pk, district_key)
        for household in world.households[tag]:
            make(ZoneAssignmentFactory, household=household, volunteer=volunteer)

    # Route plans for today: each team's and the volunteer's.
    for tag, team_tag, key in (("TA", "TA", "dA"), ("TB", "TB", "dB"), ("QQ", "QQ", "dQ")):
        plan = make(RoutePlanFactory, team=world.teams[team_tag])
        world.plans[tag] = plan
        world.stops[tag] = make(RouteStopFactory, plan=plan, case=world.cases[tag][0])
        world.key("plan", plan.pk, key)
    plan = make(RoutePlanFactory, team=None, volunteer=world.volunteers["ZV"])
    world.plans["ZV"] = plan
    world.stops["ZV"] = make(RouteStopFactory, plan=plan, case=world.cases["ZV"][0])
    world.key("plan", plan.pk, "dA")

    # Home-visit campaigns of a school in tambon ta and one in province Q.
    school_a = make(SchoolFactory, subdistrict=tambons["ta"], point=tambons["ta"].geom.centroid)
    school_q = make(
        SchoolFactory,
        subdistrict=tambons["tq"],
        point=tambons["tq"].geom.centroid,
        name="โรงเรียนลับQA",
    )
    world.key("school", school_a.pk, "dA")
    world.key("school", school_q.pk, "dQ")
    _campaign(world, "TA", "TA", school_a, world.households["TA"][1])
    _campaign(world, "QQ", "QQ", school_q, world.households["QQ"][1])
    world.key("campaign", world.campaigns["TA"].pk, "dA")
    world.key("campaign", world.campaigns["QQ"].pk, "dQ")

    # Same-child links: inside district A, inside Q, and across B and Q.
    # The cross link was found by Q's team, on a visit to Q's case.
    found = world.visits
    _link(world, "TA", world.cases["TA"][0], world.cases["TA"][1], found["TA"], "TA")
    _link(world, "QQ", world.cases["QQ"][0], world.cases["QQ"][1], found["QQ"], "QQ")
    cross = (world.cases["TB"][1], world.cases["QQ"][1])
    _link(world, "cross", *cross, found["QQ"], "TB", "QQ")
    # By design, B's coordinator is shown who found such a link (member and team)
    # and the tambon of the other case, never its child: they must call that team
    # to settle it (team_selectors.LinkSide, templates/field/teams.html).
    member_q.refresh_from_db()
    world.by_design["field-teams"] = {
        member_q.first_name,
        member_q.last_name,
        member_q.username,
        "ทีมลับQQ",
        "ตำบลลับQA",
    }

    # Match reviews: candidates in A, in Q, and one of each.
    child = {tag: [case.child_id for case in cases] for tag, cases in world.cases.items()}
    _review(world, "TA", "TA", [child["TA"][0]], "TA")
    _review(world, "QQ", "QQ", [child["QQ"][0]], "QQ")
    # The register row of a mixed review is seen by A's coordinators: it is theirs.
    _review(world, "cross", "TA", [child["TA"][1], child["QQ"][1]], "TA", "QQ")

    # The tablets the members and volunteers last used.
    for user, district_key in (
        (users["member_a"], "dA"),
        (users["member_b"], "dB"),
        (users["volunteer"], "dA"),
        (member_q, "dQ"),
        (volunteer_q, "dQ"),
    ):
        device = Device.objects.create(
            device_id=uuid.uuid4(), user=user, last_seen_at=timezone.now()
        )
        world.key("device", device.pk, district_key)

    make(ReconciliationFactory)
    stats_refresh(academic_year=YEAR)
    return world


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield build_world()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


# --- personas -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Persona:
    name: str
    role: str
    allowed: frozenset[str]
    """The tags and area keys inside this persona's scope."""

    @property
    def everything(self) -> bool:
        return self.role == route_scopes.ADMINISTRATOR


P_AREAS = ("P", "dA", "dB", "ta", "tz", "tb", "tu")
A_AREAS = ("P", "dA", "ta", "tz")
PERSONAS = {
    "admin": Persona("admin", route_scopes.ADMINISTRATOR, frozenset()),
    "coordinator": Persona(
        "coordinator",
        route_scopes.COORDINATOR,
        frozenset({"TA", "ZV", "TB", "UN", "NC", "RS", "RC", *P_AREAS}),
    ),
    "coordinator_a": Persona(
        "coordinator_a", route_scopes.COORDINATOR, frozenset({"TA", "ZV", "RS", *A_AREAS})
    ),
    "official": Persona("official", route_scopes.OFFICIAL, frozenset(P_AREAS)),
    # The whole country, aggregates only: every area opens, no name anywhere.
    "official_national": Persona(
        "official_national",
        route_scopes.OFFICIAL,
        frozenset((*P_AREAS, "Q", "dQ", "tq", PLACE_TAG)),
    ),
    "member_a": Persona("member_a", route_scopes.TEAM_MEMBER, frozenset({"TA"})),
    "member_b": Persona("member_b", route_scopes.TEAM_MEMBER, frozenset({"TB"})),
    "volunteer": Persona("volunteer", route_scopes.VOLUNTEER, frozenset({"ZV"})),
    ANONYMOUS: Persona(ANONYMOUS, ANONYMOUS, frozenset()),
}


# What each persona must meet somewhere on the walk: their own area's data.
SEEN = {
    "admin": {"TA", "TB", "ZV", "QQ", "RQ"},
    "coordinator": {"TA", "TB", "ZV", "UN", "RC"},
    "coordinator_a": {"TA", "ZV"},
    "official": set(),
    "official_national": set(),
    "member_a": {"TA"},
    "member_b": {"TB"},
    "volunteer": {"ZV"},
    ANONYMOUS: set(),
}


def _client(world: World, persona: Persona) -> Client:
    # A crash is an answer like any other here: counted, not raised.
    client = Client(HTTP_ACCEPT_LANGUAGE="th", raise_request_exception=False)
    if persona.role != ANONYMOUS:
        client.force_login(world.users[persona.name])
    return client


# --- what to ask ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    route: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    keys: tuple[str, ...] | None = None
    """The keys any one of which puts the object asked for in scope; None when only
    the role decides (the answer is then held to the markers alone)."""

    def url(self) -> str:
        return reverse(self.route, kwargs=self.kwargs)


def _ids(world: World, kind: str) -> list[tuple[int, tuple[str, ...]]]:
    """Every id of ``kind`` in the world, the ids beside them, and one far off:
    each with the keys that open it (MISSING for none)."""
    known = world.keys[kind]
    ids = set(known) | {pk + step for pk in known for step in (-1, 1)} | {FAR_ID}
    out = []
    for pk in sorted(ids):
        if pk in known:
            out.append((pk, known[pk]))
        elif pk == FAR_ID or not _exists(kind, pk):
            out.append((pk, (MISSING,)))
        # An id beside ours held by a row this module did not make: left out.
    return out


_MODELS: dict[str, Any] = {
    "device": Device,
    "case": Case,
    "run": ImportRun,
    "team": Team,
    "plan": RoutePlan,
    "campaign": Campaign,
    "link": CaseLink,
    "review": MatchReview,
    "volunteer": Volunteer,
}


def _exists(kind: str, pk: int) -> bool:
    return bool(_MODELS[kind].objects.filter(pk=pk).exists())


def _codes(world: World, length: int) -> list[tuple[str, tuple[str, ...]]]:
    found = [(code, (key,)) for key, code in world.areas.items() if len(code) == length]
    missing = "0" * length
    return [*found, (missing, (MISSING,))]


def _tile(lon: float, lat: float, z: int) -> dict[str, int]:
    n = 2**z
    x = floor((lon + 180) / 360 * n)
    y = floor((1 - log(tan(radians(lat)) + 1 / cos(radians(lat))) / pi) / 2 * n)
    return {"z": z, "x": x, "y": y}


def _centre(extent: tuple[float, float, float, float]) -> tuple[float, float]:
    return (extent[0] + extent[2]) / 2, (extent[1] + extent[3]) / 2


def _bbox(extent: tuple[float, float, float, float]) -> str:
    return ",".join(f"{v:.5f}" for v in extent)


def _area_queries(world: World, extra: dict[str, Any]) -> list[tuple[dict[str, Any], Any]]:
    """The area parameter: none, each area of the world, one that does not exist,
    one malformed."""
    out: list[tuple[dict[str, Any], Any]] = [({**extra}, None)]
    for key in ("P", "dA", "dB", "ta", "tb", "Q", "dQ", "tq"):
        out.append(({**extra, "area": world.areas[key]}, (key,)))
    out.append(({**extra, "area": world.areas["P"] + "0000"}, (NOWHERE,)))
    out.append(({**extra, "area": "000000"}, (NOWHERE,)))
    out.append(({**extra, "area": "1"}, (MISSING,)))
    return out


def _widening(world: World) -> dict[str, Any]:
    """Query parameters an API list might be tempted to honour."""
    return {
        "all": "1",
        "team": world.teams["QQ"].pk,
        "volunteer": world.volunteers["QQ"].pk,
        "user": world.users["member_q"].pk,
        "area": world.areas["tq"],
        "province": world.areas["Q"],
        "district": world.areas["dQ"],
        "case": world.cases["QQ"][0].pk,
        "since": "",
    }


def probes(world: World, route: Route) -> list[Probe] | None:
    """The requests that walk ``route``; None when the walk does not know how to
    fill its arguments (a new route: teach it here)."""
    name = route.name
    if route.namespace == "admin":
        return _admin_probes(route)
    by_pk = {
        "field-import-run": "run",
        "field-import-progress": "run",
        "field-import-problems": "run",
        "field-review-decide": "review",
        "field-team": "team",
        "field-case-link": "link",
        "field-route": "plan",
        "field-route-print": "plan",
        "field-route-gpx": "plan",
        "field-campaign": "campaign",
        "api-case": "case",
        "accounts-device-revoke": "device",
    }
    if name in by_pk:
        return [Probe(name, {"pk": pk}, keys=keys) for pk, keys in _ids(world, by_pk[name])]
    if name in ("field-team-propose", "field-zones", "field-volunteer-new"):
        return [Probe(name, {"district_code": code}, keys=keys) for code, keys in _codes(world, 4)]
    if name == "field-clusters":
        return [Probe(name, {"tambon_code": code}, keys=keys) for code, keys in _codes(world, 6)]
    if name == "field-volunteer-edit":
        out = []
        for district in ("dA", "dB", "dQ"):
            for pk, keys in _ids(world, "volunteer"):
                # A volunteer opens only under their own district.
                opens = keys if keys == (district,) else (MISSING,)
                out.append(
                    Probe(name, {"district_code": world.areas[district], "pk": pk}, keys=opens)
                )
        return out
    if name == "field-campaign-visit-done":
        return [
            Probe(name, {"pk": campaign.pk, "visit_pk": visit.pk}, keys=(MISSING,))
            for campaign in world.campaigns.values()
            for visit in world.campaign_visits.values()
        ]
    if name == "field-gap-tile":
        out = [Probe(name, {"z": 0, "x": 0, "y": 0})]
        for key in ("P", "Q", "ta", "tb", "tq"):
            lon, lat = _centre(world.extents[key])
            for z in (5, 8, 12):
                out.append(Probe(name, _tile(lon, lat, z), {"year": YEAR}))
        out.append(Probe(name, {"z": 3, "x": 99, "y": 0}, keys=(MISSING,)))
        return out
    if name == "geo-boundaries":
        return [
            Probe(name, {"level": level}, {"bbox": _bbox(world.extents[key]), "zoom": zoom})
            for level, zoom in (("province", 6), ("district", 8), ("subdistrict", 12))
            for key in ("P", "Q")
        ]
    if name in ("field-funnel", "field-funnel-households", "field-gaps", "field-gap-layer"):
        return [Probe(name, query=q, keys=k) for q, k in _area_queries(world, {"year": YEAR})]
    if name == "field-dashboard":
        return [Probe(name, query=q, keys=k) for q, k in _area_queries(world, {"year": YEAR})]
    if name in ("field-gap-export", "field-dashboard-export"):
        formats: tuple[str, ...] = ("csv", "xlsx")
        if name == "field-gap-export":
            formats += ("geojson", "gpkg", "html")
        out = []
        for fmt in formats:
            queries = _area_queries(world, {"year": YEAR})
            if fmt != "csv":
                # The other formats are built from the same rows as the CSV (and
                # ogr2ogr takes a while): the country, each province, a district
                # and a tambon of each, an area that does not exist.
                queries = [queries[i] for i in (0, 1, 2, 4, 6, 7, 8, -2)]
            out += [Probe(name, {"fmt": fmt}, q, k) for q, k in queries]
        return out
    if name == "field-gap-schools":
        return [
            Probe(name, query={"bbox": _bbox(world.extents[key]), "zoom": zoom})
            for key in ("P", "Q", "ta", "tq")
            for zoom in (8, 12)
        ]
    if name in ("api-cases", "api-sync", "api-area", "api-today"):
        return [Probe(name), Probe(name, query=_widening(world))]
    if name == "field-reviews":
        return [Probe(name, query={"status": s}) for s in ReviewStatus.values]
    if name == "field-audit":
        return [
            Probe(name),
            *(
                Probe(name, query={"user": world.users[who].username})
                for who in ("member_q", "coordinator_q", "member_b")
            ),
        ]
    if name == "field-routes":
        return [Probe(name), Probe(name, query={"day": timezone.localdate().isoformat()})]
    if name == "field-campaigns":
        return [Probe(name), Probe(name, query={"year": YEAR})]
    if route.pattern.count("<") or route.pattern.count("(?P"):
        return None
    return [Probe(name)]


def _admin_probes(route: Route) -> list[Probe]:
    guesses = {"app_label": "field", "object_id": "1", "content_type_id": "1", "user_id": "1"}
    try:
        url_kwargs = {key: guesses.get(key, "1") for key in route.entry.pattern.regex.groupindex}
        reverse(route.name, kwargs=url_kwargs)
    except NoReverseMatch:
        return []
    return [Probe(route.name, url_kwargs)]


# --- judging an answer ------------------------------------------------------------------------

OK = {200, 204, 304}
REFUSED = {400, 403, 404, 405}
LOGIN_PATHS = ("/accounts/login/", "/admin/login/")
_ESCAPED = re.compile(r"\\u([0-9a-fA-F]{4})")


def body_of(response: HttpResponseBase) -> tuple[str, bytes]:
    """The answer's text (JSON and HTML escapes undone, an XLSX's sheets unzipped)
    and its bytes."""
    raw = b"".join(response.streaming_content) if response.streaming else response.content  # type: ignore[attr-defined]
    parts = [raw]
    if raw[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            parts += [archive.read(member) for member in archive.namelist()]
    text = "\n".join(part.decode("utf-8", "replace") for part in parts)
    text = html.unescape(_ESCAPED.sub(lambda m: chr(int(m[1], 16)), text))
    return text, b"".join(parts)


def _to_login(response: HttpResponseBase) -> bool:
    location = response.get("Location", "")
    return response.status_code == 302 and any(path in location for path in LOGIN_PATHS)


def judge(
    world: World,
    persona: Persona,
    scope: RouteScope,
    probe: Probe,
    response: HttpResponseBase,
    seen: set[str] | None = None,
) -> list[str]:
    """What is wrong with ``response``; [] when nothing. ``seen`` collects the tags
    whose markers the answer holds."""
    problems = []
    status = response.status_code
    role_ok = persona.role in scope.roles and "GET" in scope.methods
    if probe.keys is None:
        expect = "serve" if role_ok else "refuse"
    elif probe.keys == (NOWHERE,):
        expect = "either" if role_ok else "refuse"
    else:
        in_scope = MISSING not in probe.keys and (
            persona.everything or any(key in persona.allowed for key in probe.keys)
        )
        expect = "serve" if role_ok and in_scope else "refuse"
    refused = status in REFUSED or _to_login(response)
    if persona.role == ANONYMOUS:
        refused = refused or status == 401
    served = status in OK or (status == 302 and not _to_login(response))
    if expect == "refuse" and not refused:
        problems.append(f"answered {status} where it should refuse")
    elif expect == "serve" and not served:
        problems.append(f"answered {status} where it should serve")
    elif expect == "either" and not (refused or served):
        problems.append(f"answered {status} for an area that does not exist")
    if status in (301, 302, 304):
        return problems
    text, raw = body_of(response)
    # What the persona typed into a filter comes back in the form: not a leak.
    echoed = {str(value) for value in probe.query.values()}
    echoed |= world.by_design.get(probe.route, set()) | world.own.get(persona.name, set())
    personal = scope.data - {Data.NONE, Data.AGGREGATES}
    for tag in PERSONAL_TAGS:
        allowed = personal and (persona.everything or tag in persona.allowed)
        if allowed:
            if seen is not None and any(m in text for m in world.markers.get(tag, ())):
                seen.add(tag)
            continue
        for marker in world.markers.get(tag, ()):
            if marker in text and marker not in echoed:
                problems.append(f"holds {marker!r} ({tag}, out of scope)")
        for packed in world.binary.get(tag, ()):
            if packed in raw:
                problems.append(f"holds a household coordinate of {tag} (binary)")
    if scope.data != {Data.NONE} and not persona.everything and PLACE_TAG not in persona.allowed:
        for marker in world.markers[PLACE_TAG]:
            if marker in text and marker not in echoed:
                problems.append(f"holds {marker!r} (province Q's places)")
    return problems


# --- the tests --------------------------------------------------------------------------------


def test_every_route_is_declared() -> None:
    missing = route_scopes.undeclared()
    assert not missing, (
        "routes with no scope declared in field/route_scopes.py (ROUTE_SCOPES): "
        + ", ".join(missing)
    )


def test_every_declaration_names_a_route() -> None:
    stale = route_scopes.unused()
    assert not stale, "declarations in field/route_scopes.py with no route: " + ", ".join(stale)


def test_every_declared_role_is_a_role() -> None:
    for name, scope in {**route_scopes.ROUTE_SCOPES, **route_scopes.NAMESPACE_SCOPES}.items():
        assert scope.roles <= route_scopes.EVERYONE, name
        assert scope.roles and scope.data and scope.methods, name


def test_the_walk_knows_every_route(world: World, db: None) -> None:
    unknown = [r.name for r in route_scopes.routes() if r.name and probes(world, r) is None]
    assert not unknown, (
        "routes the scope walk cannot fill arguments for; teach probes() in "
        "tests/test_scope_walk.py: " + ", ".join(unknown)
    )


@pytest.mark.parametrize("persona_name", list(PERSONAS))
def test_walk(world: World, db: None, persona_name: str) -> None:
    persona = PERSONAS[persona_name]
    client = _client(world, persona)
    failures: list[str] = []
    checked = 0
    seen: set[str] = set()
    for route in route_scopes.routes():
        scope = route_scopes.scope_of(route)
        if scope is None or not route.name:
            continue
        if route.namespace == "admin" and persona.everything and route.name != "admin:index":
            # Administrators see every record there by design; the index stands for it.
            continue
        for probe in probes(world, route) or []:
            url = probe.url()
            response = client.get(url, probe.query)
            checked += 1
            failures += [
                f"{persona.name} GET {url}?{_query(probe)} [{route.name}]: {problem}"
                for problem in judge(world, persona, scope, probe, response, seen)
            ]
    assert checked > 100
    # The markers are found where they belong: the walk is not looking past them.
    assert SEEN[persona.name] <= seen, f"never saw {SEEN[persona.name] - seen}"
    assert not failures, f"{len(failures)} of {checked} answers out of scope:\n" + "\n".join(
        failures
    )


def _query(probe: Probe) -> str:
    return "&".join(f"{k}={v}" for k, v in probe.query.items())


# --- writes -------------------------------------------------------------------------------------


def fingerprint() -> dict[str, list[Any]]:
    """What the refused writes below could change."""
    return {
        "visits": list(Visit.objects.order_by("pk").values_list("pk", "case_id")),
        "cases": list(
            Case.objects.order_by("pk").values_list("pk", "status", "whereabouts_id", "progress")
        ),
        "links": list(CaseLink.objects.order_by("pk").values_list("pk", "resolved_at", "kept")),
        "reviews": list(MatchReview.objects.order_by("pk").values_list("pk", "status")),
        "campaign_visits": list(
            CampaignVisit.objects.order_by("pk").values_list("pk", "visited_at")
        ),
        "team_areas": list(TeamArea.objects.order_by("pk").values_list("pk", "ended_at")),
        "volunteers": list(Volunteer.objects.order_by("pk").values_list("pk", "name", "home")),
        "zones": list(
            ZoneAssignment.objects.order_by("pk").values_list("pk", "ended_at", "locked")
        ),
        "plans": list(RoutePlan.objects.order_by("pk").values_list("pk", "status")),
        "stops": list(RouteStop.objects.order_by("pk").values_list("pk", "state")),
        "campaigns": list(Campaign.objects.order_by("pk").values_list("pk")),
        "households": list(Household.objects.order_by("pk").values_list("pk", "point")),
    }


@dataclass(frozen=True)
class Write:
    route: str
    kwargs: dict[str, Any]
    data: dict[str, Any]
    json: bool = False
    """Whether ``data`` goes as a JSON body (the API)."""
    everyone: bool = False
    """Whether even an administrator must be refused (the target names nothing real)."""


def writes(world: World, persona: Persona) -> list[Write]:
    """Writes aimed outside the scope of every persona but the administrator (and,
    for the tablet's API, outside the persona's own cases)."""
    qq = world.cases["QQ"]
    others = [
        case
        for tag, cases in world.cases.items()
        if tag not in persona.allowed
        for case in cases[:1]
    ]
    now = timezone.now().isoformat()
    district_q = world.areas["dQ"]
    return [
        Write(
            "field-review-decide",
            {"pk": world.reviews["QQ"].pk},
            {"child": str(world.cases["TA"][0].child_id)},
        ),
        # A coordinator of A sees the mixed review but may not choose Q's candidate.
        Write(
            "field-review-decide",
            {"pk": world.reviews["cross"].pk},
            {"child": str(qq[1].child_id)},
        ),
        Write("field-case-link", {"pk": world.links["QQ"].pk}, {"keep": str(qq[0].pk)}),
        Write(
            "field-campaign-visit-done",
            {"pk": world.campaigns["TA"].pk, "visit_pk": world.campaign_visits["QQ"].pk},
            {},
            everyone=True,
        ),
        Write(
            "field-campaign-visit-done",
            {"pk": world.campaigns["QQ"].pk, "visit_pk": world.campaign_visits["QQ"].pk},
            {},
        ),
        Write(
            "field-team",
            {"pk": world.teams["TA"].pk},
            {"assign": "t" + world.areas["tq"]},
            everyone=True,
        ),
        Write(
            "field-team",
            {"pk": world.teams["TA"].pk},
            {"end": world.team_areas["QQ"].pk},
            everyone=True,
        ),
        Write("field-team", {"pk": world.teams["QQ"].pk}, {"end": world.team_areas["QQ"].pk}),
        Write("field-team-propose", {"district_code": district_q}, {"unit": []}),
        Write("field-clusters", {"tambon_code": world.areas["tq"]}, {}),
        Write("field-zones", {"district_code": district_q}, {"action": "lock", "village": ""}),
        Write(
            "field-zones",
            {"district_code": world.areas["dA"]},
            {
                "action": "move",
                "households": ",".join(str(h.pk) for h in world.households["QQ"]),
                "volunteer": str(world.volunteers["ZV"].pk),
            },
            everyone=True,
        ),
        Write(
            "field-volunteer-edit",
            {"district_code": world.areas["dA"], "pk": world.volunteers["QQ"].pk},
            {"name": "x", "lat": "5", "lon": "102", "kind": "parent"},
            everyone=True,
        ),
        Write("field-volunteer-new", {"district_code": district_q}, {"name": "x"}),
        Write(
            "field-routes",
            {},
            {
                "target": f"t{world.teams['QQ'].pk}",
                "day": timezone.localdate().isoformat(),
                "mode": TravelMode.MOTORCYCLE,
                "starts": "08:00",
                "ends": "17:00",
                "service_minutes": "30",
            },
        ),
        Write(
            "field-campaigns",
            {},
            {
                "school": str(world.campaigns["QQ"].school_id),
                "academic_year": str(YEAR + 1),
                "first_day": "2031-06-02",
                "last_day": "2031-06-06",
                "teachers": "ครู",
                "mode": TravelMode.MOTORCYCLE,
                "starts": "08:00",
                "ends": "17:00",
                "service_minutes": "30",
            },
        ),
        Write(
            "api-sync-visits",
            {},
            {
                "visits": [
                    {
                        "client_id": str(uuid.uuid4()),
                        "case": case.pk,
                        "at": now,
                        "outcome": SearchOutcome.NOT_FOUND,
                        "note": "guess",
                    }
                    for case in others
                ]
                + [
                    {
                        "client_id": str(uuid.uuid4()),
                        "case": FAR_ID,
                        "at": now,
                        "outcome": SearchOutcome.NOT_FOUND,
                    }
                ]
            },
            json=True,
            everyone=False,
        ),
        Write(
            "api-today-stops",
            {},
            {
                "changes": [
                    {"client_id": str(uuid.uuid4()), "at": now, "add_case": qq[0].pk},
                    {
                        "client_id": str(uuid.uuid4()),
                        "at": now,
                        "stop": world.stops["QQ"].pk,
                        "state": "done",
                    },
                    *(
                        {
                            "client_id": str(uuid.uuid4()),
                            "at": now,
                            "case": case.pk,
                            "state": "done",
                        }
                        for case in others
                    ),
                ]
            },
            json=True,
            everyone=False,
        ),
    ]


@pytest.mark.parametrize("persona_name", list(PERSONAS))
def test_writes_outside_the_scope_change_nothing(world: World, db: None, persona_name: str) -> None:
    persona = PERSONAS[persona_name]
    client = _client(world, persona)
    failures = []
    for write in writes(world, persona):
        if persona.everything and not write.everyone:
            continue
        scope = route_scopes.ROUTE_SCOPES[write.route]
        url = reverse(write.route, kwargs=write.kwargs)
        before = fingerprint()
        if write.json:
            response = client.post(url, json.dumps(write.data), content_type="application/json")
        else:
            response = client.post(url, write.data)
        after = fingerprint()
        changed = [key for key in before if before[key] != after[key]]
        if changed:
            failures.append(f"{persona.name} POST {url}: changed {', '.join(changed)}")
        status = response.status_code
        role_ok = persona.role in scope.roles
        if not role_ok:
            if not (status in REFUSED or status == 401 or _to_login(response)):
                failures.append(f"{persona.name} POST {url}: {status}, not refused")
        elif write.json:
            # The tablet's API answers each item: every one must be refused.
            results = response.json().get("results", []) if status == 200 else []
            saved = [r for r in results if r.get("status") in ("saved", "applied", "done")]
            if status not in (200, 400) or saved:
                failures.append(f"{persona.name} POST {url}: {status} {results}")
        elif status not in REFUSED | {302}:
            failures.append(f"{persona.name} POST {url}: {status}, not refused")
        if status not in (301, 302):
            for problem in judge(world, persona, scope, Probe(write.route), response):
                if "holds" in problem:
                    failures.append(f"{persona.name} POST {url}: {problem}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("persona_name", ["member_a", "member_b", "volunteer"])
def test_sync_refuses_other_areas_cases(world: World, db: None, persona_name: str) -> None:
    """Every case of the world but the persona's own, uploaded as a visit: none saved."""
    persona = PERSONAS[persona_name]
    client = _client(world, persona)
    mine = {tag for tag in persona.allowed}
    others = [case for tag, cases in world.cases.items() if tag not in mine for case in cases]
    before = Visit.objects.count()
    visits = [
        {
            "client_id": str(uuid.uuid4()),
            "case": case.pk,
            "at": timezone.now().isoformat(),
            "outcome": SearchOutcome.FOUND_AT_ADDRESS,
            "note": "guess",
        }
        for case in others
    ]
    response = client.post(
        reverse("api-sync-visits"), json.dumps({"visits": visits}), content_type="application/json"
    )
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert len(results) == len(others)
    assert all(result["visit"] is None for result in results), results
    assert Visit.objects.count() == before
    # And an own case is accepted, so the refusals above are the scope's doing.
    own = world.cases[next(iter(mine))][1]
    visits[0]["case"] = own.pk
    visits[0]["client_id"] = str(uuid.uuid4())
    response = client.post(
        reverse("api-sync-visits"),
        json.dumps({"visits": visits[:1]}),
        content_type="application/json",
    )
    assert response.json()["results"][0]["visit"] is not None, response.content
    assert Visit.objects.count() == before + 1
