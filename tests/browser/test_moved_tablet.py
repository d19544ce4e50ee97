"""A member finds a child living in another team's area: the tablet's form takes
the new home from GPS and the ID on the child's documents, and once uploaded the
case leaves the member's tablet for the other team's."""

from __future__ import annotations

import pytest
from conftest import FieldWorld
from django.contrib.auth.models import User
from factories import TEST_PASSWORD
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from field.models import Case, Precision, Visit
from field.selectors import team_cases
from geo.boundaries import rebuild_subdistrict_cells

pytestmark = [pytest.mark.browser]


def test_a_child_moved_into_team_bs_area_leaves_the_tablet(
    touch_page: Page,
    live_server: LiveServer,
    field_world: FieldWorld,
    member_a: User,
    member_b: User,
) -> None:
    tablet = touch_page
    rebuild_subdistrict_cells([field_world.whole_a.code, field_world.split_b.code])
    x0, y0, x1, y1 = field_world.split_b.geom.extent
    # The member stands at the child's new home, in team B's west cluster.
    home = (x0 + 0.0015, (y0 + y1) / 2 + 0.001)
    tablet.context.grant_permissions(["geolocation"], origin=live_server.url)
    tablet.context.set_geolocation({"longitude": home[0], "latitude": home[1], "accuracy": 8})
    tablet.goto(f"{live_server.url}/accounts/login/?next=/my-area/")
    tablet.locator("input[name=username]").fill(member_a.get_username())
    tablet.locator("input[name=password]").fill(TEST_PASSWORD)
    tablet.get_by_role("button", name="เข้าสู่ระบบ").click()
    tablet.wait_for_url("**/my-area/")
    expect(tablet.locator("body[data-ready=true]")).to_have_count(1)
    rows = tablet.locator(".case-row")
    expect(rows).to_have_count(len(field_world.cases_a))

    case = field_world.cases_a[0]
    tablet.locator(f".case-row[data-case='{case.pk}']").tap()
    form = tablet.locator("#visit-form")
    moved = form.locator("fieldset[data-when=moved]")
    expect(moved).to_be_hidden()
    form.locator("select[name=outcome]").select_option("moved_away")
    expect(moved).to_be_visible()
    expect(moved.locator("legend")).to_have_text("ปัจจุบันเด็กอาศัยอยู่ที่ไหน")
    expect(tablet.locator("#fix")).not_to_have_text("ไม่มีตำแหน่ง GPS")
    tablet.locator("#new-home-gps").tap()
    expect(tablet.locator("#new-home")).to_contain_text("±8")
    form.locator("input[name=found_id]").fill("G123456789012")
    form.locator("button[type=submit]").tap()

    # Saved, uploaded at once (online), and the case is now team B's.
    expect(rows).to_have_count(len(field_world.cases_a) - 1)
    expect(tablet.locator(f".case-row[data-case='{case.pk}']")).to_have_count(0)
    expect(tablet.locator("#queue")).to_have_attribute("data-count", "0")
    visit = Visit.objects.get(case=case)
    assert (visit.outcome, visit.found_id) == ("moved_away", "G123456789012")
    moved_case = Case.objects.select_related("whereabouts").get(pk=case.pk)
    assert moved_case.whereabouts is not None
    assert moved_case.whereabouts.subdistrict_id == field_world.split_b.code
    assert moved_case.whereabouts.precision == Precision.FIELD_GPS
    assert team_cases(member_b).filter(pk=case.pk).exists()
