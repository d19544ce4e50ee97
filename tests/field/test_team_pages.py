"""The coordinator's search-team pages: who may open them, what the overview
counts, giving and ending places, and the proposed division of a district."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pytest
from conftest import FieldWorld, _open_cases
from django.contrib.auth.models import User
from django.contrib.gis.geos import Point
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from factories import (
    DistrictFactory,
    ProfileFactory,
    ProvinceFactory,
    SubdistrictFactory,
    TeamFactory,
    UserFactory,
    make,
)

from field.models import Case, CaseProgress, Role, SearchOutcome, Team, TeamArea, Visit
from field.services.teams import team_area_assign
from geo.models import District

pytestmark = pytest.mark.django_db
Districts = tuple[District, District]


def _client(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


@pytest.fixture
def world(
    field_world: FieldWorld, persona_districts: Districts, team_a: Team, team_b: Team
) -> FieldWorld:
    """field_world with its teams placed in their districts, as a coordinator forms them."""
    team_a.district = persona_districts[0]
    team_a.save()
    team_b.district = persona_districts[1]
    team_b.save()
    return field_world


@pytest.fixture
def stranger() -> User:
    """A coordinator of another province."""
    province = make(ProvinceFactory)
    make(DistrictFactory, province=province)
    user = make(UserFactory, username="stranger")
    make(ProfileFactory, user=user, role=Role.COORDINATOR, province=province)
    return user


def _visit(case: Case, by: User, at: dt.datetime, received: dt.datetime, outcome: str) -> Visit:
    return Visit.objects.create(case=case, by=by, at=at, received_at=received, outcome=outcome)


# --- who may open the pages ------------------------------------------------------------------


def _urls(world: FieldWorld, team: Team) -> list[str]:
    return [
        reverse("field-teams"),
        reverse("field-team", args=[team.pk]),
        reverse("field-team-propose", args=[world.split_b.district_id]),
    ]


@pytest.mark.parametrize("persona", ["member_a", "volunteer", "official"])
def test_other_roles_are_refused(
    request: pytest.FixtureRequest, persona: str, world: FieldWorld, team_b: Team
) -> None:
    client = _client(request.getfixturevalue(persona))
    for url in _urls(world, team_b):
        assert client.get(url).status_code == 403, url
    response = client.post(reverse("field-team", args=[team_b.pk]), {"assign": f"c{world.east.pk}"})
    assert response.status_code == 403
    assert not TeamArea.objects.filter(cluster=world.east).exists()


def test_anonymous_is_sent_to_log_in(world: FieldWorld, team_b: Team) -> None:
    for url in _urls(world, team_b):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_a_coordinator_of_another_province_cannot_open_or_assign(
    stranger: User, world: FieldWorld, team_b: Team
) -> None:
    client = _client(stranger)
    assert client.get(reverse("field-team", args=[team_b.pk])).status_code == 404
    assert (
        client.get(reverse("field-team-propose", args=[world.split_b.district_id])).status_code
        == 404
    )
    response = client.post(reverse("field-team", args=[team_b.pk]), {"assign": f"c{world.east.pk}"})
    assert response.status_code == 404
    assert not TeamArea.objects.filter(cluster=world.east).exists()
    overview = client.get(reverse("field-teams")).context["overview"]
    assert overview.teams == []
    assert overview.unassigned == []


def test_teams_without_a_district_are_for_administrators_only(
    coordinator: User, world: FieldWorld
) -> None:
    loose = make(TeamFactory, name="ทีมไม่มีอำเภอ")
    admin = make(UserFactory, username="admin", is_superuser=True)
    coordinator_sees = [
        r.team for r in _client(coordinator).get(reverse("field-teams")).context["overview"].teams
    ]
    admin_sees = [
        r.team for r in _client(admin).get(reverse("field-teams")).context["overview"].teams
    ]
    assert loose not in coordinator_sees
    assert loose in admin_sees
    assert _client(coordinator).get(reverse("field-team", args=[loose.pk])).status_code == 404
    assert _client(admin).get(reverse("field-team", args=[loose.pk])).status_code == 200


# --- the overview ---------------------------------------------------------------------------------


def test_overview_counts_progress_per_team_and_the_unassigned_per_tambon(
    coordinator: User, member_a: User, world: FieldWorld, team_a: Team, team_b: Team
) -> None:
    Case.objects.filter(pk=world.cases_a[0].pk).update(progress=CaseProgress.VISITED)
    Case.objects.filter(pk=world.cases_a[1].pk).update(progress=CaseProgress.FOUND)
    Case.objects.filter(pk=world.cases_b[0].pk).update(progress=CaseProgress.RESOLVED)
    # A closed case counts nowhere.
    Case.objects.filter(pk=world.cases_unassigned[0].pk).update(
        status="closed", closed_at=timezone.now(), close_reason="found_enrolled"
    )
    received = timezone.now() - dt.timedelta(hours=2)
    _visit(world.cases_a[0], member_a, received - dt.timedelta(hours=1), received, "not_found")

    response = _client(coordinator).get(reverse("field-teams"))

    assert response.status_code == 200
    overview = response.context["overview"]
    rows = {row.team: row for row in overview.teams}
    assert (rows[team_a].progress.open, rows[team_a].progress.visited) == (3, 1)
    assert (rows[team_a].progress.found, rows[team_a].progress.resolved) == (1, 0)
    assert (rows[team_b].progress.open, rows[team_b].progress.resolved) == (3, 1)
    assert [a.subdistrict_id for a in rows[team_a].areas] == [world.whole_a.code]
    assert [a.cluster_id for a in rows[team_b].areas] == [world.west.pk]
    assert [(m.user, m.last_sync) for m in rows[team_a].members] == [(member_a, received)]
    assert [(r.code, r.open) for r in overview.unassigned] == [(world.split_b.code, 1)]
    assert overview.unassigned_total == 1
    html = response.content.decode()
    assert 'id="unassigned-total">1<' in html
    assert reverse("field-team", args=[team_a.pk]) in html


def test_a_case_on_no_area_of_a_whole_tambon_is_unassigned_until_the_tambon_is_given(
    coordinator: User, world: FieldWorld, team_b: Team
) -> None:
    team_area_assign(team=team_b, subdistrict=world.split_b, cluster=world.east, by=None)
    overview = _client(coordinator).get(reverse("field-teams")).context["overview"]
    assert overview.unassigned == []
    assert {r.team: r.progress.open for r in overview.teams}[team_b] == 5


def test_conflicts_are_concurrent_visits_by_two_members_that_disagree(
    coordinator: User, member_a: User, member_b: User, world: FieldWorld
) -> None:
    t = timezone.now() - dt.timedelta(days=1)
    hour = dt.timedelta(hours=1)
    disputed, agreed, sequential = world.cases_b[0], world.cases_b[1], world.cases_b[2]
    # Both made offline before either was uploaded, and they disagree.
    _visit(disputed, member_b, t, t + 3 * hour, SearchOutcome.FOUND_AT_ADDRESS)
    _visit(disputed, member_a, t + hour, t + 2 * hour, SearchOutcome.MOVED_AWAY)
    # Concurrent, but the same outcome.
    _visit(agreed, member_b, t, t + 3 * hour, SearchOutcome.NOT_FOUND)
    _visit(agreed, member_a, t + hour, t + 2 * hour, SearchOutcome.NOT_FOUND)
    # The second was made after the first reached the server: a later visit, not a conflict.
    _visit(sequential, member_b, t, t + hour, SearchOutcome.NOT_FOUND)
    _visit(sequential, member_a, t + 2 * hour, t + 3 * hour, SearchOutcome.FOUND_ELSEWHERE)
    # Concurrent and different, but by one member (two tablets of one person).
    _visit(world.cases_a[0], member_a, t, t + 3 * hour, SearchOutcome.NOT_FOUND)
    _visit(world.cases_a[0], member_a, t + hour, t + 2 * hour, SearchOutcome.MOVED_AWAY)

    response = _client(coordinator).get(reverse("field-teams"))

    conflicts = response.context["overview"].conflicts
    assert [c.case.pk for c in conflicts] == [disputed.pk]
    assert [v.by for v in conflicts[0].visits] == [member_b, member_a]
    assert f'data-case="{disputed.pk}"' in response.content.decode()


def _more_teams(district: District, n: int) -> None:
    """``n`` more teams, each with a tambon of ``district``, two open cases there,
    a member and a visit."""
    for i in range(n):
        tambon = make(SubdistrictFactory, district=district)
        member = make(UserFactory)
        team = make(TeamFactory, district=district, members=[member])
        team_area_assign(team=team, subdistrict=tambon, by=None)
        centre = tambon.geom.centroid
        for case in _open_cases(tambon, centre.x, centre.y, 2, None):
            now = timezone.now()
            _visit(case, member, now, now, "not_found")
        if i % 2:
            make(SubdistrictFactory, district=district)


def test_overview_costs_the_same_queries_for_many_teams(
    coordinator: User,
    member_a: User,
    world: FieldWorld,
    persona_districts: Districts,
    django_assert_max_num_queries: Any,
) -> None:
    client = _client(coordinator)
    client.get(reverse("field-teams"))  # the session and language are warm from here
    with django_assert_max_num_queries(12) as few:
        client.get(reverse("field-teams"))
    _more_teams(persona_districts[0], 6)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("field-teams"))
    assert len(response.context["overview"].teams) == 8


# --- one team's places ----------------------------------------------------------------------------


def test_team_page_lists_the_district_places_with_holders_and_counts(
    coordinator: User, world: FieldWorld, team_b: Team, django_assert_max_num_queries: Any
) -> None:
    client = _client(coordinator)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("field-team", args=[team_b.pk]))
    assert response.status_code == 200
    (tambon,) = response.context["district"].places
    assert tambon.subdistrict == world.split_b
    assert tambon.open == 5
    clusters = {p.cluster: p for p in tambon.clusters}
    assert clusters[world.west].open == 3
    assert [h.team for h in clusters[world.west].holders] == [team_b]
    assert clusters[world.east].open == 2
    assert clusters[world.east].holders == []
    features = {
        f["properties"]["key"]: f["properties"] for f in response.context["page_data"]["features"]
    }
    assert features[f"c{world.west.pk}"]["team"] == team_b.pk
    assert features[f"c{world.east.pk}"]["team"] is None
    html = response.content.decode()
    assert f'name="assign" value="c{world.east.pk}"' in html
    assert f'name="end" value="{world.areas["b"].pk}"' in html


def test_assigning_a_cluster_and_ending_it(
    coordinator: User, world: FieldWorld, team_b: Team
) -> None:
    client = _client(coordinator)
    url = reverse("field-team", args=[team_b.pk])
    response = client.post(url, {"assign": f"c{world.east.pk}"}, follow=True)
    assert response.status_code == 200
    area = TeamArea.objects.get(cluster=world.east, ended_at__isnull=True)
    assert area.team == team_b
    assert area.assigned_by == coordinator
    assert [m.level_tag for m in response.context["messages"]] == ["success"]

    client.post(url, {"end": str(area.pk)})
    area.refresh_from_db()
    assert area.ended_at is not None


def test_an_overlapping_assignment_shows_why_and_creates_nothing(
    coordinator: User, world: FieldWorld, team_b: Team, persona_districts: Districts
) -> None:
    rival = make(TeamFactory, name="ทีมค้นหา ค", district=persona_districts[1])
    before = TeamArea.objects.count()
    client = _client(coordinator)

    taken = client.post(
        reverse("field-team", args=[rival.pk]), {"assign": f"c{world.west.pk}"}, follow=True
    )
    whole = client.post(
        reverse("field-team", args=[rival.pk]), {"assign": f"t{world.split_b.code}"}, follow=True
    )

    assert TeamArea.objects.count() == before
    for response in (taken, whole):
        (message,) = list(response.context["messages"])
        assert message.level_tag == "error"
        assert team_b.name in str(message)
        assert 'role="alert"' in response.content.decode()


def test_a_place_outside_the_team_district_is_not_found(
    coordinator: User, world: FieldWorld, team_a: Team
) -> None:
    response = _client(coordinator).post(
        reverse("field-team", args=[team_a.pk]), {"assign": f"c{world.east.pk}"}
    )
    assert response.status_code == 404
    assert not TeamArea.objects.filter(cluster=world.east).exists()


# --- the proposal -----------------------------------------------------------------------------


def _ground_metres(a: Point, b: Point) -> float:
    """Haversine distance: within 0.5 % of the spheroid's, which the page uses."""
    lon1, lat1, lon2, lat2 = map(math.radians, (a.x, a.y, b.x, b.y))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_008.8 * math.asin(math.sqrt(h))


@pytest.fixture
def two_teams_in_b(world: FieldWorld, team_b: Team, persona_districts: Districts) -> Team:
    """Team B based at the west village, a new team C at the east one."""
    west_village = world.west.villages.get()
    east_village = world.east.villages.get()
    team_b.base_point = west_village.point
    team_b.save()
    return make(
        TeamFactory, name="ทีมค้นหา ค", district=persona_districts[1], base_point=east_village.point
    )


def test_proposal_gives_each_team_the_clusters_by_its_base_with_its_numbers(
    coordinator: User, world: FieldWorld, team_b: Team, two_teams_in_b: Team
) -> None:
    response = _client(coordinator).get(
        reverse("field-team-propose", args=[world.split_b.district_id])
    )

    assert response.status_code == 200
    proposal = response.context["proposal"]
    assert proposal.mapping() == {
        f"c{world.west.pk}": team_b.pk,
        f"c{world.east.pk}": two_teams_in_b.pk,
    }
    rows = {row.team: row for row in proposal.teams}
    assert (rows[team_b].cases, rows[team_b].units) == (3, 1)
    assert (rows[two_teams_in_b].cases, rows[two_teams_in_b].units) == (2, 1)
    for team, cases in ((team_b, world.cases_b), (two_teams_in_b, world.cases_unassigned)):
        assert team.base_point is not None
        points = [c.child.household.point for c in cases]
        expected = max(_ground_metres(p, team.base_point) for p in points if p is not None)
        assert rows[team].farthest_m == pytest.approx(expected, rel=0.005)


def test_a_tambon_without_clusters_is_one_unit(
    coordinator: User, world: FieldWorld, team_a: Team
) -> None:
    team_a.base_point = world.whole_a.geom.centroid
    team_a.save()
    proposal = (
        _client(coordinator)
        .get(reverse("field-team-propose", args=[world.whole_a.district_id]))
        .context["proposal"]
    )
    assert proposal.mapping() == {f"t{world.whole_a.code}": team_a.pk}
    assert [(r.team, r.cases, r.units) for r in proposal.teams] == [(team_a, 3, 1)]


def test_teams_without_a_base_are_left_out_and_said_so(
    coordinator: User, world: FieldWorld, team_b: Team
) -> None:
    response = _client(coordinator).get(
        reverse("field-team-propose", args=[world.split_b.district_id])
    )
    assert response.context["proposal"].without_base == [team_b]
    assert response.context["proposal"].teams == []


def test_accepting_replaces_the_district_assignments_in_one_go(
    coordinator: User, world: FieldWorld, team_a: Team, team_b: Team, two_teams_in_b: Team
) -> None:
    url = reverse("field-team-propose", args=[world.split_b.district_id])
    client = _client(coordinator)
    mapping = client.get(url).context["proposal"].mapping()

    response = client.post(url, {"unit": [f"{k}:{v}" for k, v in mapping.items()]})

    assert response.status_code == 302
    current = {
        (a.cluster_id, a.team_id)
        for a in TeamArea.objects.filter(ended_at__isnull=True, subdistrict=world.split_b)
    }
    assert current == {(world.west.pk, team_b.pk), (world.east.pk, two_teams_in_b.pk)}
    world.areas["b"].refresh_from_db()
    assert world.areas["b"].ended_at is not None
    world.areas["a"].refresh_from_db()
    assert world.areas["a"].ended_at is None, "another district is left alone"


def test_accepting_with_a_team_of_another_district_changes_nothing(
    coordinator: User, world: FieldWorld, team_a: Team, two_teams_in_b: Team
) -> None:
    url = reverse("field-team-propose", args=[world.split_b.district_id])
    response = _client(coordinator).post(
        url,
        {"unit": [f"c{world.west.pk}:{two_teams_in_b.pk}", f"c{world.east.pk}:{team_a.pk}"]},
        follow=True,
    )
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    world.areas["b"].refresh_from_db()
    assert world.areas["b"].ended_at is None
    assert not TeamArea.objects.filter(cluster=world.east).exists()
