"""The audit log: an event for every view, edit, export and assignment change,
with who, when, what and from where; append-only in the database, even for the
postgres superuser; and nothing in it that names a child."""

from __future__ import annotations

import datetime as dt
import json
import uuid
import zoneinfo
from typing import Any

import pytest
from conftest import FieldWorld, ZoneWorld
from django.contrib.auth.models import User
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.test import Client, RequestFactory
from django.test.utils import override_settings
from django.urls import reverse
from django.utils import timezone
from factories import (
    MatchReviewFactory,
    RoutePlanFactory,
    RouteStopFactory,
    ZoneAssignmentFactory,
    make,
)

from field.models import (
    AuditAction,
    AuditEvent,
    AuditObject,
    Case,
    Role,
    SearchOutcome,
    TeamArea,
)
from field.services.audit import (
    audit_record,
    client_ip,
    common_area,
    device_of,
    origin_kept,
)
from field.services.cases import case_note_set, review_decide, visit_record
from field.services.zones import zone_move

pytestmark = pytest.mark.django_db

ANDROID_CHROME = (
    "Mozilla/5.0 (Linux; Android 13; SM-X200) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)
BANGKOK = zoneinfo.ZoneInfo("Asia/Bangkok")


def _client(user: User, ip: str = "203.0.113.9") -> Client:
    client = Client(REMOTE_ADDR=ip, HTTP_USER_AGENT=ANDROID_CHROME)
    client.force_login(user)
    return client


def _only(**filters: Any) -> AuditEvent:
    events = list(AuditEvent.objects.filter(**filters))
    assert len(events) == 1, events
    return events[0]


def _tambon(case: Case) -> str:
    code = case.child.household.subdistrict_id
    assert code is not None
    return code


def _assert_recent(event: AuditEvent) -> None:
    assert timezone.is_aware(event.at)
    assert abs(timezone.now() - event.at) < dt.timedelta(minutes=1)
    # Shown in the project's zone, whatever the server's.
    assert timezone.localtime(event.at).tzinfo == BANGKOK


# --- from where ---------------------------------------------------------------------------


def test_the_address_is_remote_addr_and_a_forwarded_for_header_is_ignored() -> None:
    request = RequestFactory().get(
        "/", REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR="198.51.100.1"
    )
    assert client_ip(request) == "203.0.113.5"


@override_settings(TRUSTED_PROXIES=["10.0.0.0/8"])
def test_behind_a_trusted_proxy_the_last_untrusted_hop_is_the_client() -> None:
    factory = RequestFactory()
    plain = factory.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.7, 10.0.0.3")
    assert client_ip(plain) == "198.51.100.7"
    # The client wrote the left-most hop itself: it proves nothing.
    spoofed = factory.get(
        "/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="192.0.2.1, 198.51.100.7"
    )
    assert client_ip(spoofed) == "198.51.100.7"
    direct = factory.get("/", REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR="192.0.2.1")
    assert client_ip(direct) == "203.0.113.5"


def test_the_device_is_summed_up() -> None:
    assert device_of(ANDROID_CHROME) == "Chrome / Android"
    assert device_of("Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) Safari/604.1") == (
        "Safari / iPadOS"
    )
    assert device_of("curl/8.5.0") == "curl/8.5.0"
    assert len(device_of("x" * 500)) == 120


def test_the_smallest_common_area_of_tambons() -> None:
    assert common_area(["400101", "400102"]) == "4001"
    assert common_area(["400101", "410101"]) == ""
    assert common_area(["400101", None, "400101"]) == "400101"
    assert common_area([]) == ""


# --- one event per kind of action -------------------------------------------------------------


def test_viewing_a_case_on_the_tablet_is_a_view(field_world: FieldWorld, member_a: User) -> None:
    case = field_world.cases_a[0]
    response = _client(member_a).get(reverse("api-case", args=[case.pk]))
    assert response.status_code == 200
    event = _only(action=AuditAction.VIEW, obj_kind=AuditObject.CASE, obj_id=case.pk)
    assert (event.user, event.username, event.role) == (member_a, "member_a", Role.TEAM_MEMBER)
    assert event.tambon == _tambon(case)
    assert (event.ip, event.device) == ("203.0.113.9", "Chrome / Android")
    _assert_recent(event)


def test_a_sync_records_one_event_per_tambon_with_the_count(
    field_world: FieldWorld, member_b: User
) -> None:
    assert _client(member_b).get(reverse("api-sync")).status_code == 200
    event = _only(action=AuditAction.VIEW, obj_kind=AuditObject.CASE, obj_id=None)
    assert event.tambon == field_world.split_b.code
    assert event.detail == f"sync count={len(field_world.cases_b)}"


def test_an_uploaded_visit_is_an_edit(field_world: FieldWorld, member_a: User) -> None:
    case = field_world.cases_a[0]
    visit = {
        "client_id": str(uuid.uuid4()),
        "case": case.pk,
        "at": timezone.now().isoformat(),
        "outcome": SearchOutcome.NOT_FOUND,
        "note": "nobody home",
    }
    response = _client(member_a, ip="198.51.100.20").post(
        reverse("api-sync-visits"), json.dumps({"visits": [visit]}), content_type="application/json"
    )
    assert response.status_code == 200, response.content
    event = _only(action=AuditAction.EDIT, obj_id=case.pk)
    assert event.obj_kind == AuditObject.CASE
    assert (event.user, event.role, event.tambon) == (member_a, Role.TEAM_MEMBER, _tambon(case))
    assert event.detail.startswith("visit=") and "outcome=not_found" in event.detail
    assert (event.ip, event.device) == ("198.51.100.20", "Chrome / Android")
    _assert_recent(event)


def test_a_visit_recorded_outside_a_request_has_no_origin(
    field_world: FieldWorld, member_a: User
) -> None:
    case = field_world.cases_a[0]
    visit_record(
        case=case, by=member_a, at=timezone.now(), point=None, outcome=SearchOutcome.NOT_FOUND
    )
    event = _only(action=AuditAction.EDIT, obj_id=case.pk)
    assert (event.ip, event.device) == (None, "")


def test_a_route_sheet_download_is_an_export(
    field_world: FieldWorld, coordinator: User, member_a: User, team_a: Any
) -> None:
    plan = make(RoutePlanFactory, team=team_a, solver={"routes": [{"member": member_a.pk}]})
    for sequence, case in enumerate(field_world.cases_a, start=1):
        make(
            RouteStopFactory,
            plan=plan,
            case=case,
            household=case.child.household,
            member=member_a,
            sequence=sequence,
        )
    response = _client(coordinator).get(reverse("field-route-gpx", args=[plan.pk]))
    assert response.status_code == 200
    event = _only(action=AuditAction.EXPORT, obj_kind=AuditObject.ROUTE_PLAN)
    assert (event.obj_id, event.user, event.role) == (plan.pk, coordinator, Role.COORDINATOR)
    assert event.tambon == field_world.whole_a.code
    assert event.detail == f"gpx stops={len(field_world.cases_a)} unplanned=0"
    assert event.ip == "203.0.113.9"


def test_an_officials_download_is_an_export_of_the_area(
    official: User, persona_province: Any
) -> None:
    response = _client(official).get(reverse("field-dashboard-export", args=["csv"]))
    assert response.status_code == 200
    event = _only(action=AuditAction.EXPORT, obj_kind=AuditObject.AREA)
    assert (event.user, event.role) == (official, Role.OFFICIAL)
    assert event.tambon == persona_province.code
    assert event.detail.startswith("dashboard.csv")


def test_assigning_and_ending_a_team_area_are_recorded(
    field_world: FieldWorld, coordinator: User, team_b: Any
) -> None:
    client = _client(coordinator)
    url = reverse("field-team", args=[team_b.pk])
    client.post(url, {"assign": f"c{field_world.east.pk}"})
    area = TeamArea.objects.get(cluster=field_world.east, ended_at__isnull=True)
    assigned = _only(action=AuditAction.ASSIGN, obj_kind=AuditObject.TEAM_AREA, obj_id=area.pk)
    assert (assigned.user, assigned.role) == (coordinator, Role.COORDINATOR)
    assert assigned.tambon == field_world.split_b.code
    assert assigned.detail == f"team={team_b.pk} cluster={field_world.east.pk}"
    assert assigned.ip == "203.0.113.9"

    client.post(url, {"end": str(area.pk)})
    ended = _only(action=AuditAction.UNASSIGN, obj_id=area.pk)
    assert (ended.user, ended.tambon) == (coordinator, field_world.split_b.code)


def test_moving_a_household_between_zones_is_a_reassignment(
    zone_world: ZoneWorld, coordinator: User
) -> None:
    household = zone_world.west_homes[1]
    make(ZoneAssignmentFactory, household=household, volunteer=zone_world.west)
    request = RequestFactory().post("/", REMOTE_ADDR="192.0.2.44")
    with origin_kept(request):
        zone_move(
            district=zone_world.district,
            households=[household.pk],
            to=zone_world.east,
            by=coordinator,
        )
    event = _only(action=AuditAction.REASSIGN, obj_kind=AuditObject.ZONE_ASSIGNMENT)
    assert event.obj_id == household.zones.get(ended_at__isnull=True).pk
    assert event.tambon == zone_world.tambon.code
    assert f"household={household.pk}" in event.detail
    assert f"volunteer_from={zone_world.west.pk} volunteer_to={zone_world.east.pk}" in event.detail
    assert (event.user, event.ip) == (coordinator, "192.0.2.44")


def test_a_household_given_its_first_volunteer_is_an_assignment(
    zone_world: ZoneWorld, coordinator: User
) -> None:
    household = zone_world.east_homes[0]
    zone_move(
        district=zone_world.district, households=[household.pk], to=zone_world.east, by=coordinator
    )
    event = _only(action=AuditAction.ASSIGN, obj_kind=AuditObject.ZONE_ASSIGNMENT)
    assert f"volunteer_from=- volunteer_to={zone_world.east.pk}" in event.detail


def test_a_case_reported_moved_is_reassigned_to_its_new_tambon(
    field_world: FieldWorld, member_a: User
) -> None:
    case = Case.objects.select_related("child").get(pk=field_world.cases_a[0].pk)
    visit_record(
        case=case,
        by=member_a,
        at=timezone.now(),
        point=None,
        outcome=SearchOutcome.MOVED_AWAY,
        moved_subdistrict=field_world.split_b.code,
    )
    event = _only(action=AuditAction.REASSIGN, obj_id=case.pk)
    assert event.tambon == field_world.split_b.code
    assert f"from={field_world.whole_a.code} to={field_world.split_b.code}" in event.detail


# --- append-only -------------------------------------------------------------------------------


def _event(user: User | None = None) -> AuditEvent:
    return audit_record(
        user=user,
        action=AuditAction.VIEW,
        obj_kind=AuditObject.CASE,
        obj_id=1,
        tambon="400101",
    )


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE field_auditevent SET username = 'someone else'",
        "DELETE FROM field_auditevent",
        "TRUNCATE field_auditevent",
        "TRUNCATE field_auditevent CASCADE",
    ],
)
def test_the_database_refuses_changes_even_from_the_superuser(statement: str) -> None:
    _event()
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        assert cursor.fetchone() == (True,)
        # The insert's foreign key checks wait for the commit; TRUNCATE would refuse
        # to run over them before ever reaching the trigger.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            cursor.execute(statement)
    assert AuditEvent.objects.filter(username="").count() == 1


def test_the_orm_cannot_change_or_delete_an_event_either(member_a: User) -> None:
    event = _event(member_a)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(detail="changed")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        event.delete()
    event.refresh_from_db()
    assert event.detail == ""


def test_a_user_with_events_cannot_be_deleted(member_a: User) -> None:
    from django.db.models import ProtectedError

    _event(member_a)
    with pytest.raises(ProtectedError):
        member_a.delete()


# --- nothing that names a child -----------------------------------------------------------


def test_a_national_id_in_the_detail_is_refused_by_the_database() -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        audit_record(
            user=None,
            action=AuditAction.EDIT,
            obj_kind=AuditObject.CHILD,
            obj_id=1,
            tambon="",
            detail="found_id=1101700203451",
        )


def test_no_event_names_the_child_or_their_home(field_world: FieldWorld, member_a: User) -> None:
    case = field_world.cases_a[0]
    child = case.child
    child.national_id = "1101700203451"
    child.save(update_fields=["national_id"])
    client = _client(member_a)
    client.get(reverse("api-case", args=[case.pk]))
    client.get(reverse("api-sync"))
    visit = {
        "client_id": str(uuid.uuid4()),
        "case": case.pk,
        "at": timezone.now().isoformat(),
        "outcome": SearchOutcome.FOUND_ELSEWHERE,
        "note": f"{child.first_name} {child.last_name} lives with an aunt",
        "detail": child.household.address,
        "found_id": child.national_id,
        "moved_subdistrict": field_world.whole_a.code,
    }
    client.post(
        reverse("api-sync-visits"), json.dumps({"visits": [visit]}), content_type="application/json"
    )
    details = list(AuditEvent.objects.values_list("detail", flat=True))
    assert len(details) >= 3
    personal = [child.first_name, child.last_name, child.national_id, child.household.address]
    for detail in details:
        for value in personal:
            assert value not in detail, (value, detail)


def test_a_review_decision_and_a_note_are_edits(field_world: FieldWorld, coordinator: User) -> None:
    case = field_world.cases_a[0]
    child = case.child
    review = make(MatchReviewFactory, candidates=[{"child": child.pk, "score": 91.0}])
    review_decide(review=review, child=child, by=coordinator)
    decided = _only(action=AuditAction.EDIT, obj_kind=AuditObject.CHILD)
    assert (decided.obj_id, decided.tambon) == (child.pk, _tambon(case))
    assert (
        decided.detail == f"review={review.pk} decision=confirmed enrolment={review.enrolment_id}"
    )

    case_note_set(case=case, note=f"{child.first_name} asked to call back", by=coordinator)
    noted = _only(action=AuditAction.EDIT, obj_kind=AuditObject.CASE)
    assert (noted.obj_id, noted.detail, noted.user) == (case.pk, "note", coordinator)
