"""Device revocation: a coordinator revokes a member's tablet; its sessions end at
once and its next contact is told to wipe."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.test import Client
from factories import ProfileFactory, ProvinceFactory, UserFactory, make

from accounts.models import Device, DeviceSession
from field.models import Role

AREA = "/api/v1/area/"


def _tablet(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _call(client: Client, device: uuid.UUID | None) -> int:
    headers = {"X-Takhai-Device": str(device)} if device else {}
    return client.get(AREA, headers=headers).status_code


@pytest.mark.django_db
def test_the_first_api_call_registers_the_device_and_ties_the_session(member_a: User) -> None:
    device = uuid.uuid4()
    tablet = _tablet(member_a)
    assert _call(tablet, device) == 200
    assert _call(tablet, device) == 200
    registered = Device.objects.get(device_id=device)
    assert registered.user == member_a
    assert not registered.revoked
    assert list(DeviceSession.objects.values_list("session_key", flat=True)) == [
        tablet.session.session_key
    ]


@pytest.mark.django_db
def test_revoking_ends_the_devices_sessions_at_once_and_refuses_it(
    member_a: User, member_b: User, coordinator: User
) -> None:
    lost, other = uuid.uuid4(), uuid.uuid4()
    # Two logins on the lost tablet (one member's, twice), one on another tablet.
    first, second, elsewhere = _tablet(member_a), _tablet(member_a), _tablet(member_b)
    assert _call(first, lost) == 200
    assert _call(second, lost) == 200
    assert _call(elsewhere, other) == 200
    device = Device.objects.get(device_id=lost)

    office = _tablet(coordinator)
    page = office.get("/devices/")
    assert page.status_code == 200
    assert str(lost)[:8] in page.content.decode()
    response = office.post(f"/devices/{device.pk}/revoke/")
    assert response.status_code == 302

    # The sessions are gone from the database: nothing to wait for.
    keys = {first.session.session_key, second.session.session_key}
    assert not Session.objects.filter(session_key__in=keys).exists()
    assert Session.objects.filter(session_key=elsewhere.session.session_key).exists()
    # Without the header, the old cookie is simply logged out...
    assert _call(first, None) == 403
    # ...with it, the answer says why, for the app to wipe itself.
    refused = second.get(AREA, headers={"X-Takhai-Device": str(lost)})
    assert refused.status_code == 403
    assert refused.json()["code"] == "device_revoked"
    device.refresh_from_db()
    assert device.revoked_by == coordinator
    assert device.wiped_at is not None
    # The other tablet works on.
    assert _call(elsewhere, other) == 200


@pytest.mark.django_db
def test_a_revoked_device_is_refused_after_a_new_log_in_and_the_session_ends(
    member_a: User, coordinator: User
) -> None:
    lost = uuid.uuid4()
    assert _call(_tablet(member_a), lost) == 200
    device = Device.objects.get(device_id=lost)
    assert _tablet(coordinator).post(f"/devices/{device.pk}/revoke/").status_code == 302

    found = _tablet(member_a)
    response = found.get(AREA, headers={"X-Takhai-Device": str(lost)})
    assert response.status_code == 403
    assert response.json()["code"] == "device_revoked"
    # The session it came with ended too.
    assert _call(found, None) == 403


@pytest.mark.django_db
def test_devices_are_scoped_to_the_coordinators_area(
    member_a: User, coordinator: User, official: User
) -> None:
    device_id = uuid.uuid4()
    assert _call(_tablet(member_a), device_id) == 200
    device = Device.objects.get(device_id=device_id)

    elsewhere = make(UserFactory, username="coordinator_elsewhere")
    make(ProfileFactory, user=elsewhere, role=Role.COORDINATOR, province=make(ProvinceFactory))
    other = _tablet(elsewhere)
    assert str(device_id)[:8] not in other.get("/devices/").content.decode()
    assert other.post(f"/devices/{device.pk}/revoke/").status_code == 404
    # Neither members nor officials manage devices.
    assert _tablet(member_a).get("/devices/").status_code == 403
    assert _tablet(official).post(f"/devices/{device.pk}/revoke/").status_code == 403
    device.refresh_from_db()
    assert not device.revoked


@pytest.mark.django_db
def test_a_malformed_device_header_is_refused(member_a: User) -> None:
    response = _tablet(member_a).get(AREA, headers={"X-Takhai-Device": "not-a-uuid"})
    assert response.status_code == 400
    assert response.json()["code"] == "device_invalid"
