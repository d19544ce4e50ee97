"""Two coordinators, two browsers, one village cluster: both open their team's
page, the first gives the cluster to team B, and the second, still on the page
loaded before, is told (HTTP 409) who changed the tambon and when, and sees it
as it stands now. Chromium at 1280×800 with touch."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import FieldWorld, _persona
from django.contrib.auth.models import User
from factories import TeamFactory, make
from playwright.sync_api import Browser, Page, Response, expect
from pytest_django.live_server_helper import LiveServer

from browser.conftest import log_in, tablet_context
from field.models import Role, Team, TeamArea
from geo.models import District, Province

pytestmark = [pytest.mark.browser]


def test_the_second_coordinator_is_told_of_the_first_ones_change(
    live_server: LiveServer,
    browser: Browser,
    touch_page: Page,
    shot: Callable[[str], Path],
    field_world: FieldWorld,
    persona_province: Province,
    persona_districts: tuple[District, District],
    team_b: Team,
    coordinator: User,
    blocked_requests: list[str],
) -> None:
    team_b.district = persona_districts[1]
    team_b.save()
    rival = make(TeamFactory, name="ทีมค้นหา ค", district=persona_districts[1])
    second = _persona("coordinator_2", Role.COORDINATOR, persona_province, persona_districts)
    east = field_world.east
    row = f'tr[data-place="c{east.pk}"]'

    first_context = tablet_context(browser, live_server, blocked_requests, has_touch=True)
    try:
        first = first_context.new_page()
        log_in(first, live_server, coordinator.get_username(), f"/teams/{team_b.pk}/")
        log_in(touch_page, live_server, second.get_username(), f"/teams/{rival.pk}/")
        expect(first.locator(f"{row} button[name=assign]")).to_have_count(1)
        expect(touch_page.locator(f"{row} button[name=assign]")).to_have_count(1)
        shot("1-second-coordinator-before")

        first.locator(f"{row} button[name=assign]").tap()
        expect(first.locator(".messages[role=status]")).to_contain_text(east.name)

        with touch_page.expect_response(lambda r: r.request.method == "POST") as posted:
            touch_page.locator(f"{row} button[name=assign]").tap()
        response: Response = posted.value
        assert response.status == 409
        alert = touch_page.locator(".messages[role=alert]")
        expect(alert).to_contain_text(coordinator.get_full_name())
        expect(alert).to_contain_text(field_world.split_b.name_th)
        # The page as it stands: team B holds the cluster, which offers only "End".
        expect(touch_page.locator(f"{row} .holder")).to_have_text(team_b.name)
        expect(touch_page.locator(f"{row} button[name=assign]")).to_have_count(0)
        shot("2-second-coordinator-conflict")
    finally:
        first_context.close()

    current = TeamArea.objects.get(cluster=east, ended_at__isnull=True)
    assert (current.team_id, current.assigned_by_id) == (team_b.pk, coordinator.pk)
