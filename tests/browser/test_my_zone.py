"""A volunteer works their own zone on a phone (Chromium at 412×860, touch): they
log in and land on "My zone", see the households and cases of their zone and no
other volunteer's, record a visit with no connection, and the visit uploads once
when the signal returns."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import FieldWorld
from django.contrib.auth.models import User
from django.contrib.gis.geos import Point
from django.utils import translation
from factories import (
    TEST_PASSWORD,
    HouseholdFactory,
    VolunteerFactory,
    ZoneAssignmentFactory,
    make,
)
from playwright.sync_api import Page, ViewportSize, expect
from pytest_django.live_server_helper import LiveServer

from field.models import Visit, Volunteer

pytestmark = [pytest.mark.browser]
PHONE: ViewportSize = {"width": 412, "height": 860}
ZONE_STROKE = "#0b3d91"


def _ready(page: Page) -> None:
    expect(page.locator("body[data-ready=true]")).to_have_count(1)


def test_a_volunteer_works_their_zone_offline_on_a_phone(
    touch_page: Page,
    live_server: LiveServer,
    field_world: FieldWorld,
    volunteer: User,
    shot: Callable[[str], Path],
    blocked_requests: list[str],
) -> None:
    phone = touch_page
    phone.set_viewport_size(PHONE)
    own = Volunteer.objects.get(user=volunteer)
    x, y = field_world.whole_a.geom.centroid.coords
    # A zone is drawn near its volunteer's home: a few hundred metres west of it here.
    own.home = Point(x - 0.005, y + 0.0005, srid=4326)
    own.save(update_fields=["home"])
    other = make(VolunteerFactory, village=own.village)
    mine = field_world.cases_a[:2]
    theirs = field_world.cases_a[2]
    for case in mine:
        make(ZoneAssignmentFactory, household=case.child.household, volunteer=own)
    make(ZoneAssignmentFactory, household=theirs.child.household, volunteer=other)
    quiet = make(
        HouseholdFactory, subdistrict=field_world.whole_a, point=Point(x, y + 0.001, srid=4326)
    )
    make(ZoneAssignmentFactory, household=quiet, volunteer=own)

    # Logged in with no page asked for: the start page sends a volunteer to their zone.
    phone.goto(f"{live_server.url}/accounts/login/")
    phone.locator("input[name=username]").fill(volunteer.get_username())
    phone.locator("input[name=password]").fill(TEST_PASSWORD)
    phone.get_by_role("button", name="เข้าสู่ระบบ").click()
    phone.wait_for_url("**/my-area/")
    _ready(phone)
    phone.evaluate("navigator.serviceWorker.ready.then(() => true)")

    with translation.override("th"):
        my_zone, my_area = translation.gettext("My zone"), translation.gettext("My area")
    expect(phone.get_by_role("heading", level=1)).to_contain_text(my_zone)
    expect(phone.get_by_role("heading", level=1)).not_to_contain_text(my_area)
    assert phone.title().startswith(my_zone)
    rows = phone.locator(".case-row")
    expect(rows).to_have_count(len(mine))
    shown = {int(n) for n in rows.evaluate_all("rows => rows.map(r => r.dataset.case)")}
    assert shown == {case.pk for case in mine}
    expect(phone.locator(f".case-row[data-case='{theirs.pk}']")).to_have_count(0)
    # Every household of the zone is on the map, the one with no case too.
    expect(phone.locator("path.zone-household")).to_have_count(len(mine) + 1)
    expect(phone.locator("#zone-summary")).to_contain_text(own.name)
    expect(phone.locator("#zone-summary")).to_contain_text(str(len(mine) + 1))
    expect(phone.locator(f'#map path[stroke="{ZONE_STROKE}"]')).to_have_count(1)
    expect(phone.locator(".zone-home")).to_have_count(1)
    expect(phone.locator("#net")).to_have_attribute("data-online", "true")
    shot("1-online")

    phone.context.set_offline(True)
    expect(phone.locator("#net")).to_have_attribute("data-online", "false")
    case = mine[0]
    phone.locator(f".case-row[data-case='{case.pk}']").tap()
    form = phone.locator("#visit-form")
    form.locator("select[name=outcome]").select_option("not_found")
    form.locator("textarea[name=note]").fill("ไม่มีคนอยู่บ้าน")
    form.locator("button[type=submit]").tap()
    expect(phone.locator("#case-visits .visit.pending")).to_have_count(1)
    expect(phone.locator("#queue")).to_have_attribute("data-count", "1")
    shot("2-offline-visit")
    phone.locator("#back").tap()
    expect(phone.locator(f".case-row[data-case='{case.pk}'] .badge.pending")).to_have_count(1)
    assert not Visit.objects.exists()

    phone.context.set_offline(False)
    expect(phone.locator("#queue")).to_have_attribute("data-count", "0", timeout=20_000)
    expect(phone.locator(f".case-row[data-case='{case.pk}']")).to_have_attribute(
        "data-progress", "visited"
    )
    expect(phone.locator(f".case-row[data-case='{case.pk}'] .badge.pending")).to_have_count(0)
    shot("3-synced")
    [visit] = Visit.objects.filter(case=case)
    assert (visit.by_id, visit.team_id, visit.note) == (volunteer.pk, None, "ไม่มีคนอยู่บ้าน")

    # Another sync saves nothing twice.
    phone.locator("#sync-now").tap()
    expect(phone.locator("body[data-syncing]")).to_have_count(0)
    phone.wait_for_timeout(500)
    expect(phone.locator("body[data-syncing]")).to_have_count(0)
    assert Visit.objects.count() == 1
    assert all("tile.openstreetmap.org" in url for url in blocked_requests), blocked_requests
