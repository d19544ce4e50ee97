"""The proposed division of demo district 4001 (Mueang Khon Kaen) between team A
and a second team, checked against the database counted another way.

The demo is seeded once for the module (about a minute, most of it the registry
imports and find_unreached), inside a transaction rolled back at its end, as in
test_seed_demo.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.gis.geos import Point
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.test import Client, override_settings

from field.demo import config
from field.models import Case, CaseStatus, Household, Team
from field.services.teams import team_create
from field.team_selectors import Proposal
from geo import gazetteer
from geo.boundaries import import_boundaries
from geo.models import District, Subdistrict, VillageCluster

pytestmark = pytest.mark.django_db

DISTRICT = "4001"
TAMBONS = sum(config.TAMBONS_PER_DISTRICT.values())
# ST_Distance on geography in two queries of different shape: the same
# computation, so equal to well under a millimetre.
DISTANCE_TOLERANCE_M = 0.001


@pytest.fixture(scope="module")
def demo(
    django_db_setup: None,
    django_db_blocker: Any,
    boundary_files: list[Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[None]:
    with django_db_blocker.unblock(), transaction.atomic():
        if Subdistrict.objects.filter(district_id__in=config.DISTRICTS).count() != TAMBONS:
            import_boundaries(boundary_files, only_province=config.PROVINCE)
        with override_settings(DEMO_DIR=tmp_path_factory.mktemp("demo")):
            call_command("seed_demo", stdout=io.StringIO())
        yield
        transaction.set_rollback(True)
    gazetteer.clear_cache()
    # As in test_seed_demo: a connection left open in this module's context would
    # keep the test database from being dropped.
    connection.close()


@pytest.fixture
def second_team(demo: None) -> Team:
    """A team of 4001 setting out from the tambon farthest from team A's base, so
    that the two bases pull the division apart."""
    team_a = Team.objects.get(name=config.TEAM_A)
    base = team_a.base_point
    assert base is not None
    tambons = Subdistrict.objects.filter(district_id=DISTRICT).only("code", "geom")
    # Degrees are distance enough for picking the far end of one district.
    tambon = max(tambons, key=lambda t: t.geom.point_on_surface.distance(base))
    surface = tambon.geom.point_on_surface
    return team_create(
        name="ทีมค้นหา ค",
        base_point=Point(surface.x, surface.y, srid=4326),
        district=District.objects.get(code=DISTRICT),
    )


@pytest.fixture
def proposal(second_team: Team) -> Proposal:
    client = Client()
    # The documented demo login, not force_login: the demo's coordinator must be
    # able to open this page with what the README tells them.
    # django-axes checks every authentication against its request's address.
    assert client.login(
        request=HttpRequest(), username="coordinator", password=config.DEMO_PASSWORD
    )
    response = client.get(f"/teams/propose/{DISTRICT}/")
    assert response.status_code == 200
    found: Proposal = response.context["proposal"]
    return found


def _units_of_district() -> set[str]:
    """Clusters with an area, and tambons with no such cluster: the places a team is given."""
    clusters = VillageCluster.objects.filter(
        subdistrict__district_id=DISTRICT, area__isnull=False
    ).values_list("pk", "subdistrict_id")
    clustered = {code for _pk, code in clusters}
    tambons = Subdistrict.objects.filter(district_id=DISTRICT).exclude(code__in=clustered)
    return {f"c{pk}" for pk, _code in clusters} | {
        f"t{code}" for code in tambons.values_list("code", flat=True)
    }


def _households_of(keys: list[str]) -> Q:
    """Households in the given units, by the cluster's polygon (interior only, as the
    page counts) or the whole tambon."""
    where = Q(pk__in=[])
    for key in keys:
        if key.startswith("t"):
            where |= Q(subdistrict_id=key[1:])
        else:
            cluster = VillageCluster.objects.get(pk=int(key[1:]))
            where |= Q(subdistrict_id=cluster.subdistrict_id, point__within=cluster.area)
    return where


def test_every_place_of_the_district_is_given_once(proposal: Proposal, second_team: Team) -> None:
    team_a = Team.objects.get(name=config.TEAM_A)
    keys = [unit.key for unit in proposal.units]
    assert len(keys) == len(set(keys))
    assert set(keys) == _units_of_district()
    assert {unit.team for unit in proposal.units} == {team_a.pk, second_team.pk}
    assert proposal.without_base == []
    assert {row.team.pk for row in proposal.teams} == {team_a.pk, second_team.pk}
    for row in proposal.teams:
        assert row.units == sum(1 for unit in proposal.units if unit.team == row.team.pk)


def test_the_cases_add_up_and_are_shared_evenly(proposal: Proposal) -> None:
    open_cases = Case.objects.filter(
        status=CaseStatus.OPEN, child__household__subdistrict__district_id=DISTRICT
    ).count()
    # The demo has hundreds of unreached children in Mueang Khon Kaen.
    assert open_cases > 100
    assert sum(row.cases for row in proposal.teams) == open_cases
    assert sum(unit.open for unit in proposal.units) == open_cases
    for row in proposal.teams:
        mine = [unit.key for unit in proposal.units if unit.team == row.team.pk]
        assert row.cases == (
            Case.objects.filter(status=CaseStatus.OPEN)
            .filter(child__household__in=Household.objects.filter(_households_of(mine)))
            .count()
        )
    # Places are given whole, so the best split can be off by up to one place's
    # cases: while the difference exceeds the cases of a place on the border,
    # moving it to the lighter team lowers the sum of squared loads, and the
    # improvement step makes every such move (that keeps the areas in one piece).
    larger, smaller = sorted((row.cases for row in proposal.teams), reverse=True)
    largest_unit = max(unit.open for unit in proposal.units)
    assert larger - smaller <= largest_unit
    assert smaller > 0


def test_the_farthest_household_is_the_farthest(proposal: Proposal) -> None:
    for row in proposal.teams:
        mine = [unit.key for unit in proposal.units if unit.team == row.team.pk]
        households = Household.objects.filter(_households_of(mine)).filter(
            point__isnull=False, children__cases__status=CaseStatus.OPEN
        )
        ids = list(households.values_list("pk", flat=True).distinct())
        base = row.team.base_point
        assert base is not None
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT max(ST_Distance(point::geography, ST_GeomFromEWKT(%s)::geography)) "
                "FROM field_household WHERE id = ANY(%s)",
                [base.ewkt, ids],
            )
            (expected,) = cursor.fetchone()
        assert row.farthest_m is not None
        assert row.farthest_m > 0
        assert row.farthest_m == pytest.approx(expected, abs=DISTANCE_TOLERANCE_M)
