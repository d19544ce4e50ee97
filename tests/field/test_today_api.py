"""The tablet's "Today": a member's own route of the day's plan, the changes made
in the field (done, skipped, added), uploaded as many times as it takes, and the
rest of the route re-planned by the server; scoped like every field read."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest
from conftest import FieldWorld
from django.contrib.auth.models import User
from django.contrib.gis.geos import Point
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from factories import (
    CaseFactory,
    ChildFactory,
    HouseholdFactory,
    HouseholdWindowFactory,
    RoutePlanFactory,
    RouteStopFactory,
    UserFactory,
    ZoneAssignmentFactory,
    make,
)

from field.models import Case, RoutePlan, RouteStop, StopState, Team, Volunteer

pytestmark = pytest.mark.django_db

BANGKOK = dt.timezone(dt.timedelta(hours=7))


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _today(client: Client, **query: str) -> Any:
    response = client.get(reverse("api-today"), query)
    assert response.status_code == 200, response.content
    return response.json()["plan"]


def _post(client: Client, changes: list[dict[str, Any]], **extra: Any) -> Any:
    return client.post(
        reverse("api-today-stops"),
        json.dumps({"changes": changes, **extra}),
        content_type="application/json",
    )


def _mark(stop: RouteStop | int, state: str, at: dt.datetime | None = None) -> dict[str, Any]:
    return {
        "client_id": str(uuid.uuid4()),
        "stop": stop if isinstance(stop, int) else stop.pk,
        "state": state,
        "at": (at or timezone.now()).isoformat(),
    }


def _add(case: Case, at: dt.datetime | None = None) -> dict[str, Any]:
    return {
        "client_id": str(uuid.uuid4()),
        "add_case": case.pk,
        "at": (at or timezone.now()).isoformat(),
    }


def _at_nine() -> dt.datetime:
    return dt.datetime.combine(timezone.localdate(), dt.time(9, 0), tzinfo=BANGKOK)


def _case_at(world: FieldWorld, dx: float) -> Case:
    """An open case of team A's tambon, ``dx`` degrees east of its west edge."""
    x0, y0, _x1, y1 = world.whole_a.geom.extent
    household = make(
        HouseholdFactory,
        subdistrict=world.whole_a,
        point=Point(x0 + dx, (y0 + y1) / 2, srid=4326),
    )
    return make(CaseFactory, child=make(ChildFactory, household=household))


@pytest.fixture
def day_a(field_world: FieldWorld, team_a: Team, member_a: User) -> RoutePlan:
    """Today's plan of team A: member_a's three stops, and one of a teammate's."""
    x0, y0, _x1, y1 = field_world.whole_a.geom.extent
    team_a.base_point = Point(x0 + 0.001, (y0 + y1) / 2, srid=4326)
    team_a.save()
    plan = make(RoutePlanFactory, team=team_a)
    for n, case in enumerate(field_world.cases_a, start=1):
        make(RouteStopFactory, plan=plan, member=member_a, case=case, sequence=n)
    mate = make(UserFactory, username="mate_a")
    team_a.members.add(mate)
    make(RouteStopFactory, plan=plan, member=mate, case=_case_at(field_world, 0.008), sequence=1)
    return plan


@pytest.fixture
def day_b(field_world: FieldWorld, team_b: Team, member_b: User) -> RoutePlan:
    plan = make(RoutePlanFactory, team=team_b)
    for n, case in enumerate(field_world.cases_b, start=1):
        make(RouteStopFactory, plan=plan, member=member_b, case=case, sequence=n)
    return plan


def _mine(plan: RoutePlan, user: User) -> list[RouteStop]:
    return list(RouteStop.objects.filter(plan=plan, member=user).order_by("sequence"))


# --- reading ------------------------------------------------------------------------------


def test_a_member_sees_their_own_route_of_today_only(
    day_a: RoutePlan, day_b: RoutePlan, member_a: User, field_world: FieldWorld
) -> None:
    plan = _today(_client(member_a))
    assert plan["id"] == day_a.pk
    assert [s["case"] for s in plan["stops"]] == [c.pk for c in field_world.cases_a]
    assert [s["sequence"] for s in plan["stops"]] == [1, 2, 3]
    first = plan["stops"][0]
    assert first["arrives"] == "09:00"
    assert first["leaves"] == "09:30"
    assert first["state"] == "planned"
    house = field_world.cases_a[0].child.household.point
    assert house is not None
    assert first["lon"] == pytest.approx(house.x, abs=1e-5)
    assert first["address"]
    assert plan["mode"] == "motorcycle"
    assert (plan["starts"], plan["ends"], plan["service_minutes"]) == ("08:00", "17:00", 30)
    assert (
        plan["start"]
        == plan["end"]
        == [
            round(day_a.team.base_point.x, 5),  # type: ignore[union-attr]
            round(day_a.team.base_point.y, 5),  # type: ignore[union-attr]
        ]
    )
    totals = plan["totals"]
    assert totals["visits"] == 3
    assert totals["remaining"] == 3
    # Three legs of 500 m as planned, and the way back to the base.
    assert totals["distance_m"] > 1500
    assert totals["duration_s"] > 0


def test_each_stop_carries_its_households_visiting_hours(
    day_a: RoutePlan, member_a: User, field_world: FieldWorld
) -> None:
    # The tablet's offline re-plan keeps visits inside them (static/field/tablet/route.js).
    house = field_world.cases_a[1].child.household
    make(HouseholdWindowFactory, household=house, opens=dt.time(17, 0), closes=dt.time(19, 0))
    make(HouseholdWindowFactory, household=house, opens=dt.time(7, 0), closes=dt.time(8, 30))

    stops = _today(_client(member_a))["stops"]

    assert [s["windows"] for s in stops] == [
        [],
        [{"opens": "07:00", "closes": "08:30"}, {"opens": "17:00", "closes": "19:00"}],
        [],
    ]


def test_another_teams_plan_and_a_teammates_stops_are_invisible(
    day_a: RoutePlan, day_b: RoutePlan, member_b: User, field_world: FieldWorld
) -> None:
    plan = _today(_client(member_b))
    assert plan["id"] == day_b.pk
    assert {s["case"] for s in plan["stops"]} == {c.pk for c in field_world.cases_b}


def test_no_plan_is_null_and_another_day_is_asked_for_by_date(
    day_a: RoutePlan, member_a: User, member_b: User
) -> None:
    assert _today(_client(member_b)) is None
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    assert _today(_client(member_a), day=tomorrow) is None
    assert _today(_client(member_a), day=day_a.day.isoformat())["id"] == day_a.pk
    response = _client(member_a).get(reverse("api-today"), {"day": "31/12/2025"})
    assert response.status_code == 400


def test_a_replaced_plan_is_not_today(day_a: RoutePlan, member_a: User) -> None:
    RoutePlan.objects.filter(pk=day_a.pk).update(status="replaced")
    assert _today(_client(member_a)) is None


def test_a_stop_whose_case_left_the_area_is_left_out(
    day_a: RoutePlan, member_a: User, field_world: FieldWorld
) -> None:
    moved = field_world.cases_a[1]
    # The child was found living in team B's cluster: the case is team B's now.
    moved.whereabouts = field_world.cases_b[0].child.household
    moved.save()
    plan = _today(_client(member_a))
    assert [s["case"] for s in plan["stops"]] == [
        field_world.cases_a[0].pk,
        field_world.cases_a[2].pk,
    ]
    refused = _post(_client(member_a), [_mark(_mine(day_a, member_a)[1], "done")]).json()
    assert refused["results"][0]["status"] == "refused"


def test_other_roles_are_refused(day_a: RoutePlan, coordinator: User, official: User) -> None:
    for user in (coordinator, official):
        assert _client(user).get(reverse("api-today")).status_code == 403
        assert _post(_client(user), []).status_code == 403
    assert Client().get(reverse("api-today")).status_code in (401, 403)


def test_a_volunteer_sees_the_route_of_their_zone(volunteer: User) -> None:
    record = Volunteer.objects.get(user=volunteer)
    inside = make(ZoneAssignmentFactory, volunteer=record).household
    case = make(CaseFactory, child=make(ChildFactory, household=inside))
    outside = make(CaseFactory)
    plan = make(RoutePlanFactory, team=None, volunteer=record, mode="walk")
    make(RouteStopFactory, plan=plan, member=volunteer, case=case, sequence=1)
    make(RouteStopFactory, plan=plan, member=volunteer, case=outside, sequence=2)
    shown = _today(_client(volunteer))
    assert [s["case"] for s in shown["stops"]] == [case.pk]
    assert shown["start"] == [round(record.home.x, 5), round(record.home.y, 5)]
    assert shown["speed_kmh"] == 4.5


# --- changes from the field ---------------------------------------------------------------


def test_done_and_skipped_are_saved_once_whatever_the_retries(
    day_a: RoutePlan, member_a: User
) -> None:
    first, second, third = _mine(day_a, member_a)
    changes = [_mark(first, "done"), _mark(second, "skipped")]
    client = _client(member_a)
    answer = _post(client, changes, now=_at_nine().isoformat())
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert [r["status"] for r in body["results"]] == ["saved", "saved"]
    assert [r["stop"] for r in body["results"]] == [first.pk, second.pk]
    states = {s["id"]: s["state"] for s in body["plan"]["stops"]}
    assert states == {first.pk: "done", second.pk: "skipped", third.pk: "planned"}
    assert body["plan"]["totals"]["remaining"] == 1
    assert body["plan"]["totals"]["visits"] == 2

    again = _post(client, changes, now=_at_nine().isoformat()).json()
    assert [r["status"] for r in again["results"]] == ["duplicate", "duplicate"]
    rows = {s.pk: (s.state, s.state_at) for s in _mine(day_a, member_a)}
    assert rows[first.pk][0] == StopState.DONE
    assert rows[second.pk][0] == StopState.SKIPPED
    assert rows[third.pk] == (StopState.PLANNED, None)
    assert RouteStop.objects.filter(plan=day_a, member=member_a).count() == 3


def test_an_older_change_never_undoes_a_newer_one(day_a: RoutePlan, member_a: User) -> None:
    stop = _mine(day_a, member_a)[0]
    client = _client(member_a)
    later = timezone.now()
    earlier = later - dt.timedelta(minutes=5)
    assert _post(client, [_mark(stop, "done", later)]).json()["results"][0]["status"] == "saved"
    old = _post(client, [_mark(stop, "skipped", earlier)]).json()
    assert old["results"][0]["status"] == "superseded"
    stop.refresh_from_db()
    assert stop.state == StopState.DONE
    # Undone on purpose, later still: back on the route.
    back = _post(client, [_mark(stop, "planned", later + dt.timedelta(minutes=1))]).json()
    assert back["results"][0]["status"] == "saved"
    stop.refresh_from_db()
    assert stop.state == StopState.PLANNED


def test_a_stop_not_theirs_is_refused_and_left_alone(
    day_a: RoutePlan, day_b: RoutePlan, member_a: User
) -> None:
    teammate = RouteStop.objects.get(plan=day_a, member__username="mate_a")
    other_team = RouteStop.objects.filter(plan=day_b).first()
    assert other_team is not None
    missing = RouteStop.objects.order_by("-pk").values_list("pk", flat=True)[0] + 100
    body = _post(
        _client(member_a),
        [_mark(teammate, "done"), _mark(other_team, "done"), _mark(missing, "done")],
    ).json()
    assert [r["status"] for r in body["results"]] == ["refused"] * 3
    # The same answer whether the stop exists or not: nothing to learn by guessing.
    assert len({r["reason"] for r in body["results"]}) == 1
    assert RouteStop.objects.exclude(state=StopState.PLANNED).count() == 0


def test_changes_with_no_plan_today_are_refused(member_b: User, field_world: FieldWorld) -> None:
    body = _post(_client(member_b), [_add(field_world.cases_b[0])]).json()
    assert body["plan"] is None
    assert body["results"][0]["status"] == "refused"
    # Shown on the tablet as it is: in the member's language, Thai.
    assert body["results"][0]["reason"] == "ไม่มีแผนสำหรับวันนั้น"
    assert not RouteStop.objects.exists()


def test_a_case_of_the_area_is_added_once(
    day_a: RoutePlan, member_a: User, field_world: FieldWorld
) -> None:
    case = _case_at(field_world, 0.006)
    change = _add(case)
    client = _client(member_a)
    body = _post(client, [change], now=_at_nine().isoformat()).json()
    assert body["results"][0]["status"] == "saved"
    added = RouteStop.objects.get(plan=day_a, case=case)
    assert added.member == member_a
    assert added.added_in_field
    assert added.household == case.child.household
    shown = {s["case"]: s for s in body["plan"]["stops"]}
    assert shown[case.pk]["added_in_field"] is True
    assert shown[case.pk]["state"] == "planned"
    assert sorted(s["sequence"] for s in body["plan"]["stops"]) == [1, 2, 3, 4]
    retry = _post(client, [change]).json()
    assert retry["results"][0]["status"] == "duplicate"
    assert retry["results"][0]["stop"] == added.pk
    assert RouteStop.objects.filter(plan=day_a, case=case).count() == 1
    # Marked done by the case it was added for, as a tablet does before it knows the id.
    done = {
        "client_id": str(uuid.uuid4()),
        "case": case.pk,
        "state": "done",
        "at": timezone.now().isoformat(),
    }
    assert _post(client, [done]).json()["results"][0]["status"] == "saved"
    added.refresh_from_db()
    assert added.state == StopState.DONE


def test_a_case_out_of_the_area_or_on_a_teammates_route_is_refused(
    day_a: RoutePlan, member_a: User, field_world: FieldWorld
) -> None:
    teammates = RouteStop.objects.get(plan=day_a, member__username="mate_a").case
    body = _post(
        _client(member_a),
        [_add(field_world.cases_b[0]), _add(field_world.cases_unassigned[0]), _add(teammates)],
    ).json()
    assert [r["status"] for r in body["results"]] == ["refused"] * 3
    assert RouteStop.objects.filter(plan=day_a, member=member_a).count() == 3
    assert not RouteStop.objects.filter(case=field_world.cases_b[0]).exists()


def test_a_badly_shaped_change_is_a_400(day_a: RoutePlan, member_a: User) -> None:
    client = _client(member_a)
    naive = {"client_id": str(uuid.uuid4()), "stop": 1, "state": "done", "at": "2026-01-05T09:00"}
    nothing = {"client_id": str(uuid.uuid4()), "at": timezone.now().isoformat()}
    wrong = _mark(1, "lost")
    for change in (naive, nothing, wrong):
        assert _post(client, [change]).status_code == 400
    assert _post(client, [], position=[200.0, 5.0]).status_code == 400


# --- the server's re-plan -----------------------------------------------------------------


def test_the_rest_of_the_route_is_replanned_from_where_the_member_is(
    day_a: RoutePlan, member_a: User, field_world: FieldWorld
) -> None:
    """Stops west to east, planned in a zigzag, the base at the west end: from the
    east end the server visits them east to west on the way back, the one done
    first, and times them from now."""
    RouteStop.objects.filter(plan=day_a, member=member_a).delete()
    cases = [_case_at(field_world, dx) for dx in (0.002, 0.004, 0.006, 0.008)]
    for sequence, case in zip((1, 4, 2, 3), cases, strict=True):
        make(RouteStopFactory, plan=day_a, member=member_a, case=case, sequence=sequence)
    done = RouteStop.objects.get(plan=day_a, case=cases[1])
    x0, y0, _x1, y1 = field_world.whole_a.geom.extent
    body = _post(
        _client(member_a),
        [_mark(done, "done", _at_nine())],
        position=[x0 + 0.0081, (y0 + y1) / 2],
        now=_at_nine().isoformat(),
    ).json()
    stops = body["plan"]["stops"]
    assert [s["case"] for s in stops] == [cases[1].pk, cases[3].pk, cases[2].pk, cases[0].pk]
    assert [s["sequence"] for s in stops] == [1, 2, 3, 4]
    remaining = stops[1:]
    arrivals = [s["arrives"] for s in remaining]
    assert arrivals == sorted(arrivals)
    assert arrivals[0] >= "09:00"
    # Standing a dozen metres from the first: a minute away, not the planned hour.
    assert arrivals[0] <= "09:02"
    assert remaining[0]["distance_m"] < 50
    assert all(b["arrives"] >= a["leaves"] for a, b in zip(remaining, remaining[1:], strict=False))
    db = {s.pk: s.sequence for s in _mine(day_a, member_a)}
    assert db == {s["id"]: s["sequence"] for s in stops}


def test_after_the_working_day_the_rest_keeps_its_order_with_late_times(
    day_a: RoutePlan, member_a: User
) -> None:
    evening = dt.datetime.combine(day_a.day, dt.time(18, 0), tzinfo=BANGKOK)
    body = _post(_client(member_a), [], now=evening.isoformat()).json()
    stops = body["plan"]["stops"]
    assert len(stops) == 3
    assert all(s["arrives"] >= "18:00" for s in stops)


# --- queries ------------------------------------------------------------------------------


def _grow(plan: RoutePlan, member: User, world: FieldWorld, n: int) -> None:
    start = RouteStop.objects.filter(plan=plan, member=member).count()
    for i in range(n):
        make(
            RouteStopFactory,
            plan=plan,
            member=member,
            case=_case_at(world, 0.001 + 0.0008 * i),
            sequence=start + i + 1,
        )


def test_queries_do_not_grow_with_the_stops(
    day_a: RoutePlan, member_a: User, field_world: FieldWorld
) -> None:
    client = _client(member_a)

    def count() -> tuple[int, int]:
        stop = _mine(day_a, member_a)[0]
        with CaptureQueriesContext(connection) as read:
            _today(client)
        with CaptureQueriesContext(connection) as write:
            response = _post(
                client,
                [_mark(stop, "done", timezone.now()), _mark(stop, "planned", timezone.now())],
                now=_at_nine().isoformat(),
            )
            assert response.status_code == 200
        return len(read), len(write)

    few = count()
    _grow(day_a, member_a, field_world, 9)
    assert len(_mine(day_a, member_a)) == 12
    assert count() == few
