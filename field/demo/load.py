"""Reads the real tambons, and writes the generated demo to the database.

The demo owns the villages, clusters, schools and volunteers of its 30 tambons:
whatever else is there is replaced, so a second run leaves the same rows.
Villages, clusters and schools are upserted by code (their ids stay stable);
demo teams, volunteers and logins are replaced or reset.
"""

from __future__ import annotations

from dataclasses import dataclass

import geothai
import shapely
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.contrib.gis.geos import Point
from django.db import transaction
from django.db.models import Q
from shapely.geometry import MultiPolygon, Polygon

from field.demo import config
from field.demo.geometry import Area
from field.demo.people import LOGINS
from field.demo.records import DemoData, SchoolRecord, Tambon
from field.models import (
    RoutePlan,
    School,
    Team,
    Volunteer,
    ZoneArea,
    ZoneAssignment,
    ZoneChange,
)
from field.services.accounts import profile_set
from field.services.schools import schools_upsert
from field.services.teams import team_area_assign, team_create
from field.services.volunteers import volunteer_create
from geo.models import District, Province, Subdistrict, Village, VillageCluster
from geo.services import clusters_replace, villages_upsert


class MissingBoundaries(Exception):
    """The tambons the demo is placed in have not been imported."""

    def __init__(self, missing: dict[str, int]) -> None:
        self.missing = missing
        found = ", ".join(
            f"district {d}: {n} of {config.TAMBONS_PER_DISTRICT[d]} tambons"
            for d, n in missing.items()
        )
        super().__init__(
            f"the demo needs the tambons of Khon Kaen districts {', '.join(config.DISTRICTS)} "
            f"({found}). Import them first: python manage.py import_boundaries "
            "<dir>/tha_adm1.geojson <dir>/tha_adm2.geojson <dir>/tha_adm3.geojson "
            f"--only {config.PROVINCE}"
        )


def read_tambons() -> list[Tambon]:
    rows = list(
        Subdistrict.objects.filter(district_id__in=config.DISTRICTS)
        .select_related("district__province")
        .order_by("code")
    )
    found = {d: sum(r.district_id == d for r in rows) for d in config.DISTRICTS}
    missing = {d: n for d, n in found.items() if n != config.TAMBONS_PER_DISTRICT[d]}
    if missing:
        raise MissingBoundaries(missing)
    tambons = []
    for row in rows:
        shape = shapely.from_wkb(bytes(row.geom.wkb))
        if not isinstance(shape, Polygon | MultiPolygon):
            raise TypeError(f"tambon {row.code} is a {shape.geom_type}")
        postal = geothai.subdistrict(row.code)
        tambons.append(
            Tambon(
                code=row.code,
                name_th=row.name_th,
                district_code=row.district_id,
                district_name=row.district.name_th,
                province_name=row.district.province.name_th,
                postcode=postal.postal_codes[0] if postal else "",
                area=Area(shape),
            )
        )
    return tambons


@dataclass(frozen=True)
class Loaded:
    villages: int
    clusters: int
    schools: int
    teams: int
    volunteers: int
    logins: int


def _point(xy: tuple[float, float]) -> Point:
    return Point(xy[0], xy[1], srid=4326)


def _load_villages(data: DemoData, tambon_codes: list[str]) -> None:
    codes = [v.code for v in data.villages]
    Village.objects.filter(subdistrict_id__in=tambon_codes).exclude(code__in=codes).delete()
    villages_upsert(
        villages=[
            Village(code=v.code, subdistrict_id=v.tambon, name=v.name, point=_point(v.xy))
            for v in data.villages
        ]
    )


def _load_clusters(data: DemoData, tambon_codes: list[str]) -> None:
    subdistricts = Subdistrict.objects.defer("geom").in_bulk(tambon_codes)
    villages = Village.objects.filter(subdistrict_id__in=tambon_codes).defer("area").in_bulk()
    for code in tambon_codes:
        clusters_replace(
            subdistrict=subdistricts[code],
            groups={
                c.name: [villages[v] for v in c.villages] for c in data.clusters if c.tambon == code
            },
        )


def _load_schools(data: DemoData, tambon_codes: list[str]) -> dict[str, School]:
    codes = [s.code for s in data.schools]
    School.objects.filter(subdistrict_id__in=tambon_codes).exclude(code__in=codes).delete()
    schools_upsert(
        schools=[
            School(
                code=s.code,
                name=s.name,
                affiliation=s.affiliation,
                levels=list(s.levels),
                students=s.students,
                point=_point(s.xy),
                subdistrict_id=s.tambon,
            )
            for s in data.schools
        ]
    )
    return School.objects.in_bulk(codes, field_name="code")


def _load_logins(data: DemoData) -> dict[str, User]:
    # One hash for all demo logins: PBKDF2 is slow on purpose, and they share a
    # password anyway.
    password = make_password(config.DEMO_PASSWORD)
    province = Province.objects.get(code=config.PROVINCE)
    districts = District.objects.in_bulk(list(config.DISTRICTS))
    volunteer_district = data.volunteers[0].village[:4]
    users: dict[str, User] = {}
    for login in LOGINS:
        admin = login.username == "admin"
        user, _ = User.objects.update_or_create(
            username=login.username,
            defaults={
                "first_name": login.first_name,
                "last_name": login.last_name,
                "email": "",
                "is_active": True,
                "is_staff": admin,
                "is_superuser": admin,
                "password": password,
            },
        )
        area = (volunteer_district,) if login.username == "volunteer" else login.districts
        profile_set(
            user=user,
            role=login.role,
            province=None if admin else province,
            districts=[districts[d] for d in area],
        )
        users[login.username] = user
    return users


def _base(schools: list[SchoolRecord], district: str) -> SchoolRecord:
    """A team's base: the first large OBEC school of the district, else any."""
    local = [s for s in schools if s.tambon.startswith(district)]
    return next((s for s in local if s.affiliation == "obec" and not s.small), local[0])


def _load_people(
    data: DemoData, tambon_codes: list[str], schools: dict[str, School], users: dict[str, User]
) -> None:
    for name, district, member in (
        (config.TEAM_A, "4001", "member_a"),
        (config.TEAM_B, "4002", "member_b"),
    ):
        base = schools[_base(data.schools, district).code]
        team = team_create(
            name=name,
            base_school=base,
            members=[users[member]],
            district=District.objects.get(code=district),
        )
        _assign_demo_areas(team, sorted(c for c in tambon_codes if c.startswith(district)))
    villages = Village.objects.filter(subdistrict_id__in=tambon_codes).defer("area").in_bulk()
    for number, v in enumerate(data.volunteers):
        volunteer_create(
            name=v.name,
            home=_point(v.xy),
            kind=v.kind,
            active_from=v.active_from,
            active_to=v.active_to,
            phone=v.phone,
            village=villages[v.village],
            capacity=v.capacity,
            user=users["volunteer"] if number == 0 else None,
        )


def _assign_demo_areas(team: Team, tambons: list[str]) -> None:
    """Two whole tambons and all but one cluster of a third: the rest of the
    district is left for the coordinator to assign (the unassigned count)."""
    whole, split = tambons[:2], tambons[2] if len(tambons) > 2 else None
    for code in whole:
        team_area_assign(team=team, subdistrict=Subdistrict.objects.get(code=code), by=None)
    if split is not None:
        subdistrict = Subdistrict.objects.get(code=split)
        for cluster in list(VillageCluster.objects.filter(subdistrict=subdistrict))[:-1]:
            team_area_assign(team=team, subdistrict=subdistrict, cluster=cluster, by=None)


@transaction.atomic
def load(data: DemoData) -> Loaded:
    tambon_codes = [t.code for t in data.tambons]
    # Zones, then volunteers: deleting a village would otherwise leave its
    # volunteers with no village, out of the demo's reach, and their zones'
    # records hold on to them.
    demo_volunteers = Volunteer.objects.filter(
        Q(village__subdistrict_id__in=tambon_codes)
        | Q(user__username__in=[login.username for login in LOGINS])
    )
    # Day plans hold on to the teams and volunteers they were made for (their
    # stops cascade with them).
    RoutePlan.objects.filter(
        Q(volunteer__in=demo_volunteers) | Q(team__name__in=[config.TEAM_A, config.TEAM_B])
    ).delete()
    ZoneChange.objects.filter(district_id__in=config.DISTRICTS).delete()
    ZoneAssignment.objects.filter(volunteer__in=demo_volunteers).delete()
    ZoneArea.objects.filter(district_id__in=config.DISTRICTS).delete()
    Volunteer.objects.filter(
        Q(village__subdistrict_id__in=tambon_codes)
        | Q(user__username__in=[login.username for login in LOGINS])
    ).delete()
    # Teams first: their areas hold on to the clusters that are rebuilt below.
    Team.objects.filter(name__in=[config.TEAM_A, config.TEAM_B]).delete()
    _load_villages(data, tambon_codes)
    _load_clusters(data, tambon_codes)
    schools = _load_schools(data, tambon_codes)
    users = _load_logins(data)
    _load_people(data, tambon_codes, schools, users)
    return Loaded(
        villages=Village.objects.filter(subdistrict_id__in=tambon_codes).count(),
        clusters=VillageCluster.objects.filter(subdistrict_id__in=tambon_codes).count(),
        schools=len(schools),
        teams=Team.objects.filter(name__in=[config.TEAM_A, config.TEAM_B]).count(),
        volunteers=Volunteer.objects.filter(village__subdistrict_id__in=tambon_codes).count(),
        logins=len(users),
    )
