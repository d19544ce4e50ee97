"""Reads for the coordinator's volunteer-zone page: a district's target households,
its volunteers, their zones, the change log, and what the zone builder is given.

Every read starts from ``get_district`` (``field.team_selectors.managed_area``),
so a district outside the coordinator's scope is a 404 and any other role is
refused before a household is read.

Target households are those where an open case lies now: the case's whereabouts
when the field reported one, else its child's registry household (as
``AreaScope.cases`` places a case). A household with no point cannot be zoned:
it is counted, not drawn.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import shapely
import shapely.geometry
from django.db import connection
from django.db.models import Count, Q
from django.http import Http404
from django.utils import timezone

from field.models import (
    Volunteer,
    ZoneArea,
    ZoneAssignment,
    ZoneChange,
    zone_default_distance,
)
from field.selectors import User
from field.team_selectors import get_district, manager_scope
from geo.algorithms import recruitment as recruit
from geo.algorithms import zones as builder
from geo.models import District, Village

# How many recent changes the page lists; the full log stays in the table.
CHANGE_LOG_ROWS = 50


def utm_srid(longitude: float) -> int:
    """UTM 47N west of 102°E, 48N east of it: the two zones Thailand lies in."""
    return 32647 if longitude < 102.0 else 32648


@dataclass
class ZoneHousehold:
    id: int
    lon: float
    lat: float
    x: float
    y: float
    cases: int
    """Open cases lying here: the household's weight in the workload."""
    address: str
    village: str | None
    village_name: str
    cluster: int | None
    cluster_name: str
    group: str | None
    """Households at one exact field or registry position are one house cluster,
    never split; a village or tambon point is a guess, shared by unrelated houses."""
    volunteer: int | None = None
    locked: bool = False


@dataclass
class ZoneVolunteer:
    volunteer: Volunteer
    x: float
    y: float
    active: bool
    households: int = 0
    cases: int = 0

    @property
    def id(self) -> int:
        return self.volunteer.pk

    @property
    def over_capacity(self) -> bool:
        return self.households > self.volunteer.capacity


@dataclass
class DistrictZones:
    district: District
    srid: int
    max_distance_m: int
    version: int
    households: list[ZoneHousehold]
    volunteers: list[ZoneVolunteer]
    unlocated: int
    """Households with open cases but no point: no zone can hold them."""
    stale: dict[int, int] = field(default_factory=dict)
    """Households in a zone now that no longer have an open case (or a point),
    and their volunteer: a rebalance releases them."""

    def volunteer(self, pk: int) -> ZoneVolunteer | None:
        return next((v for v in self.volunteers if v.id == pk), None)

    def builder_volunteers(self) -> list[builder.Volunteer]:
        """The active volunteers, as the zone builder takes them."""
        return [
            builder.Volunteer(v.id, v.x, v.y, v.volunteer.capacity, float(self.max_distance_m))
            for v in self.volunteers
            if v.active
        ]

    def builder_households(self) -> list[builder.Household]:
        return [
            builder.Household(h.id, h.x, h.y, max(h.cases, 1), h.group) for h in self.households
        ]


def _in_reach(zones: DistrictZones, household: ZoneHousehold) -> list[ZoneVolunteer]:
    """The active volunteers living within the limit of ``household``."""
    limit = float(zones.max_distance_m)
    return [
        p
        for p in zones.volunteers
        if p.active and math.hypot(household.x - p.x, household.y - p.y) <= limit
    ]


def beyond_reach(zones: DistrictZones) -> set[int]:
    """Households farther than the limit from every active volunteer's home."""
    return {h.id for h in zones.households if not _in_reach(zones, h)}


class Uncovered(StrEnum):
    """Why a household with an open case is in no zone, as the page says it."""

    BEYOND = "beyond"
    """No active volunteer lives within the limit: recruit nearby."""
    FULL = "full"
    """Every active volunteer within the limit has all the households they can take."""
    WAITING = "waiting"
    """Someone in reach has room: the next rebalance places it."""


def uncovered_reasons(zones: DistrictZones) -> dict[int, Uncovered]:
    """The households in no zone, each with why."""
    reasons = {}
    for h in zones.households:
        if h.volunteer is not None:
            continue
        near = _in_reach(zones, h)
        if not near:
            reasons[h.id] = Uncovered.BEYOND
        elif all(p.households >= p.volunteer.capacity or p.volunteer.zone_locked for p in near):
            reasons[h.id] = Uncovered.FULL
        else:
            reasons[h.id] = Uncovered.WAITING
    return reasons


def district_zones(user: User, code: str, *, today: dt.date | None = None) -> DistrictZones:
    """District ``code``'s zones as they are now; Http404 outside the user's scope."""
    district = get_district(user, code)
    return load_zones(district, today=today)


def load_zones(district: District, *, today: dt.date | None = None) -> DistrictZones:
    """``district``'s zones, for callers that have scoped it already (the page's
    selectors above, the services, the demo)."""
    today = today or timezone.localdate()
    area = ZoneArea.objects.filter(district=district).values("max_distance_m", "version").first()
    max_distance = area["max_distance_m"] if area else zone_default_distance()
    version = area["version"] if area else 0
    volunteers = list(
        Volunteer.objects.filter(village__subdistrict__district=district)
        .select_related("village")
        .defer("village__area")
        .order_by("name", "pk")
    )
    lon0 = _district_longitude(district, volunteers)
    srid = utm_srid(lon0)
    homes = _project([(v.home.x, v.home.y) for v in volunteers], srid)
    zone_volunteers = [
        ZoneVolunteer(
            volunteer=v,
            x=x,
            y=y,
            active=v.active_from <= today and (v.active_to is None or v.active_to >= today),
        )
        for v, (x, y) in zip(volunteers, homes, strict=True)
    ]
    households, unlocated = _targets(district.code, srid)
    open_rows = (
        ZoneAssignment.objects.filter(ended_at__isnull=True)
        .filter(Q(household__subdistrict__district=district) | Q(volunteer__in=volunteers))
        .values_list("household_id", "volunteer_id", "locked")
    )
    current: dict[int, int] = {}
    locked: set[int] = set()
    for household_id, volunteer_id, is_locked in open_rows:
        current[household_id] = volunteer_id
        if is_locked:
            locked.add(household_id)
    by_id = {v.id: v for v in zone_volunteers}
    targets = set()
    for h in households:
        targets.add(h.id)
        h.volunteer = current.get(h.id)
        h.locked = h.id in locked
        owner = by_id.get(h.volunteer) if h.volunteer is not None else None
        if owner is not None:
            owner.households += 1
            owner.cases += h.cases
    stale = {hid: vid for hid, vid in current.items() if hid not in targets}
    return DistrictZones(
        district=district,
        srid=srid,
        max_distance_m=max_distance,
        version=version,
        households=households,
        volunteers=zone_volunteers,
        unlocated=unlocated,
        stale=stale,
    )


def _district_longitude(district: District, volunteers: list[Volunteer]) -> float:
    if volunteers:
        return sum(v.home.x for v in volunteers) / len(volunteers)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_X(ST_PointOnSurface(geom)) FROM geo_district WHERE code = %s",
            [district.code],
        )
        row = cursor.fetchone()
    return float(row[0]) if row and row[0] is not None else 100.0


def _project(coords: list[tuple[float, float]], srid: int) -> list[tuple[float, float]]:
    if not coords:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_X(p), ST_Y(p) FROM unnest(%s::float8[], %s::float8[]) WITH ORDINALITY"
            " AS t(lon, lat, n), LATERAL ST_Transform(ST_SetSRID(ST_MakePoint(lon, lat), 4326), %s)"
            " AS p ORDER BY n",
            [[c[0] for c in coords], [c[1] for c in coords], srid],
        )
        return [(float(x), float(y)) for x, y in cursor.fetchall()]


_TARGETS = """
WITH located AS (
    SELECT COALESCE(c.whereabouts_id, ch.household_id) AS household, count(*) AS cases
    FROM field_case c JOIN field_child ch ON ch.id = c.child_id
    WHERE c.status = 'open'
    GROUP BY 1
)
SELECT h.id, ST_X(h.point), ST_Y(h.point),
       ST_X(ST_Transform(h.point, %(srid)s)), ST_Y(ST_Transform(h.point, %(srid)s)),
       l.cases, h.house_no, h.moo, h.address, h.village_id, coalesce(v.name, ''),
       v.cluster_id, coalesce(vc.name, ''),
       CASE WHEN h.precision IN ('field_gps', 'given') THEN ST_AsText(h.point) END
FROM located l
JOIN field_household h ON h.id = l.household
LEFT JOIN geo_village v ON v.code = h.village_id
LEFT JOIN geo_villagecluster vc ON vc.id = v.cluster_id
WHERE h.subdistrict_id LIKE %(prefix)s AND h.point IS NOT NULL
ORDER BY h.id
"""

_UNLOCATED = """
SELECT count(DISTINCT h.id)
FROM field_case c JOIN field_child ch ON ch.id = c.child_id
JOIN field_household h ON h.id = COALESCE(c.whereabouts_id, ch.household_id)
WHERE c.status = 'open' AND h.subdistrict_id LIKE %(prefix)s AND h.point IS NULL
"""


def _targets(code: str, srid: int) -> tuple[list[ZoneHousehold], int]:
    params: dict[str, Any] = {"srid": srid, "prefix": f"{code}%"}
    with connection.cursor() as cursor:
        cursor.execute(_TARGETS, params)
        rows = cursor.fetchall()
        cursor.execute(_UNLOCATED, params)
        unlocated_row = cursor.fetchone()
    households = [
        ZoneHousehold(
            id=row[0],
            lon=row[1],
            lat=row[2],
            x=row[3],
            y=row[4],
            cases=row[5],
            address=_short_address(row[6], row[7], row[8]),
            village=row[9],
            village_name=row[10],
            cluster=row[11],
            cluster_name=row[12],
            group=row[13],
        )
        for row in rows
    ]
    return households, int(unlocated_row[0]) if unlocated_row else 0


def _short_address(house_no: str, moo: int | None, address: str) -> str:
    if house_no and moo:
        return f"{house_no} ม.{moo}"
    return house_no or address


def zone_changes(district: District, *, limit: int = CHANGE_LOG_ROWS) -> list[ZoneChange]:
    """The latest changes to ``district``'s zones, newest first."""
    return list(
        ZoneChange.objects.filter(district=district)
        .select_related("by", "volunteer_from", "volunteer_to", "household")
        .only(
            "at",
            "action",
            "detail",
            "by__username",
            "by__first_name",
            "by__last_name",
            "volunteer_from__name",
            "volunteer_to__name",
            "household__house_no",
            "household__moo",
            "household__address",
        )
        .order_by("-at", "-pk")[:limit]
    )


# --- the page -----------------------------------------------------------------------------

# Around each zone's households, so that a zone of one house is still an area on
# the map; in degrees (about 130 m), which is all a drawing needs.
ZONE_MARGIN_DEGREES = 0.0012


def volunteer_colour(index: int) -> str:
    """A distinct colour per volunteer: hues a golden angle apart, so neighbours in
    the list never look alike, at a lightness that reads on the base map."""
    return f"hsl({(index * 137.508) % 360:.0f}, 70%, 45%)"


def zone_shapes(zones: DistrictZones) -> list[dict[str, Any]]:
    """Each zone as a GeoJSON feature: the hull of its households, with a margin."""
    points: dict[int, list[tuple[float, float]]] = {}
    for h in zones.households:
        if h.volunteer is not None:
            points.setdefault(h.volunteer, []).append((h.lon, h.lat))
    features = []
    for volunteer, coords in sorted(points.items()):
        hull = shapely.MultiPoint(coords).convex_hull.buffer(ZONE_MARGIN_DEGREES, quad_segs=4)
        features.append(
            {
                "type": "Feature",
                "properties": {"volunteer": volunteer},
                "geometry": shapely.geometry.mapping(shapely.set_precision(hull, 1e-5)),
            }
        )
    return features


@dataclass(frozen=True)
class RecruitPick:
    village: str
    name: str
    tambon: str
    lon: float
    lat: float
    households: int
    cases: int


@dataclass(frozen=True)
class Recruitment:
    asked: int
    picks: list[RecruitPick]
    households_total: int
    households_before: int
    households_after: int
    method: str

    @property
    def coverage_before(self) -> float:
        return self.households_before / self.households_total if self.households_total else 1.0

    @property
    def coverage_after(self) -> float:
        return self.households_after / self.households_total if self.households_total else 1.0


def recruitment(zones: DistrictZones, n: int, covered: set[int]) -> Recruitment:
    """Where ``n`` new volunteers would reach the most households no one reaches now:
    a maximal covering problem over the district's villages
    (``geo.algorithms.recruitment``, OR-Tools CP-SAT), weighted by open cases."""
    villages = list(
        Village.objects.filter(subdistrict__district=zones.district, point__isnull=False)
        .select_related("subdistrict")
        .only("code", "name", "point", "subdistrict__name_th")
        .order_by("code")
    )
    planar = _project([(v.point.x, v.point.y) for v in villages], zones.srid)
    candidates = [
        recruit.Candidate(v.code, x, y) for v, (x, y) in zip(villages, planar, strict=True)
    ]
    homes = [recruit.Household(h.id, h.x, h.y, max(h.cases, 1)) for h in zones.households]
    result = recruit.suggest_recruitment(
        candidates,
        homes,
        n,
        max_distance_m=float(zones.max_distance_m),
        already_covered=covered,
        time_limit_s=5.0,
    )
    by_code = {v.code: v for v in villages}
    cases = {h.id: h.cases for h in zones.households}
    picks = []
    for pick in result.picks:
        village = by_code[str(pick.village_id)]
        picks.append(
            RecruitPick(
                village=village.code,
                name=village.name,
                tambon=village.subdistrict.name_th,
                lon=village.point.x,
                lat=village.point.y,
                households=len(pick.household_ids),
                cases=sum(cases.get(int(str(h)), 0) for h in pick.household_ids),
            )
        )
    return Recruitment(
        asked=n,
        picks=picks,
        households_total=result.households_total,
        households_before=result.households_before,
        households_after=result.households_after,
        method=str(result.method),
    )


@dataclass(frozen=True)
class ZoneDistrict:
    district: District
    volunteers: int


def zone_districts(user: User) -> list[ZoneDistrict]:
    """The districts whose zones the user may draw, with their volunteers."""
    scope = manager_scope(user)
    districts = District.objects.defer("geom").order_by("code")
    if scope.province is not None:
        districts = districts.filter(province_id=scope.province)
        if scope.districts:
            districts = districts.filter(code__in=scope.districts)
    counted = districts.annotate(
        volunteer_count=Count("subdistricts__villages__volunteers", distinct=True)
    )
    return [ZoneDistrict(d, d.volunteer_count) for d in counted]


def district_volunteer(district: District, pk: int) -> Volunteer:
    """A volunteer of ``district`` (by their village); Http404 for any other. The
    district comes scoped already (``get_district``)."""
    volunteer = (
        Volunteer.objects.filter(pk=pk, village__subdistrict__district=district)
        .select_related("village")
        .defer("village__area")
        .first()
    )
    if volunteer is None:
        raise Http404
    return volunteer
