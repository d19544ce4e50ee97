"""plan_routes: every team's day (and volunteers'), as a summary or one JSON object."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from conftest import FieldWorld
from django.contrib.auth.models import User
from django.contrib.gis.geos import Point
from django.core.management import call_command
from django.core.management.base import CommandError
from factories import CaseFactory, ChildFactory, HouseholdFactory, ZoneAssignmentFactory, make

from field.models import RoutePlan, RouteStatus, Team

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = StringIO()
    call_command("plan_routes", *args, "--seconds", "0.1", stdout=out)
    return out.getvalue()


@pytest.fixture
def bases(field_world: FieldWorld, team_a: Team, team_b: Team, member_a: User) -> FieldWorld:
    """Team A with a base and a member; team B with neither."""
    x, y = field_world.whole_a.geom.centroid.coords
    team_a.base_point = Point(x, y, srid=4326)
    team_a.save()
    return field_world


def test_json_plans_every_team_and_says_which_could_not_be(
    bases: FieldWorld, team_a: Team, team_b: Team
) -> None:
    result = json.loads(_run("--date", "2026-01-15", "--json"))
    assert result["date"] == "2026-01-15"
    assert isinstance(result["seconds"], float)
    [row] = result["plans"]
    assert row["team"] == {"id": team_a.pk, "name": team_a.name}
    assert row["members"] == 1
    assert row["visits"] == len(bases.cases_a)
    assert row["unplanned"] == 0
    assert row["distance_m"] > 0
    assert 3 * 30 * 60 < row["duration_s"] < 8 * 3600
    assert row["spread"] == 1.0
    [skipped] = result["skipped"]
    assert skipped["team"]["id"] == team_b.pk
    assert "จุดตั้งต้น" in skipped["reason"]  # "has no base", in the operator's language
    plan = RoutePlan.objects.get(pk=row["plan"])
    assert (plan.team, plan.day, plan.status) == (team_a, dt.date(2026, 1, 15), RouteStatus.PLANNED)


def test_one_team_by_name_or_id_and_a_rerun_replaces(bases: FieldWorld, team_a: Team) -> None:
    text = _run("--date", "2026-01-15", "--team", team_a.name)
    assert f"{team_a.name}: {len(bases.cases_a)} visits" in text
    assert "1 plans for 2026-01-15" in text
    first = RoutePlan.objects.get()
    result = json.loads(_run("--date", "2026-01-15", "--team", str(team_a.pk), "--json"))
    assert [p["team"]["id"] for p in result["plans"]] == [team_a.pk]
    first.refresh_from_db()
    assert first.status == RouteStatus.REPLACED
    assert RoutePlan.objects.filter(status=RouteStatus.PLANNED).count() == 1


def test_volunteers_are_planned_with_the_flag(
    bases: FieldWorld, team_a: Team, volunteer: User
) -> None:
    record = volunteer.volunteer
    x, y = record.home.coords
    household = make(HouseholdFactory, point=Point(x + 0.001, y, srid=4326))
    make(CaseFactory, child=make(ChildFactory, household=household))
    make(ZoneAssignmentFactory, household=household, volunteer=record)
    without = json.loads(_run("--date", "2026-01-15", "--json"))
    assert all("volunteer" not in p for p in without["plans"])
    result = json.loads(_run("--date", "2026-01-15", "--volunteers", "--json"))
    planned = [p for p in result["plans"] if "volunteer" in p]
    assert [(p["volunteer"]["id"], p["visits"]) for p in planned] == [(record.pk, 1)]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--date", "15/01/2026"), "YYYY-MM-DD"),
        (("--date", "2026-01-15", "--team", "no such team"), "no team"),
        (("--date", "2026-01-15", "--starts", "8 am"), "not a time"),
    ],
)
def test_bad_arguments_are_refused(bases: FieldWorld, args: tuple[str, ...], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        _run(*args)
    assert not RoutePlan.objects.exists()
