"""Writes of devices: registering on contact, revoking, noting the wipe."""

from __future__ import annotations

import datetime as dt
import uuid

from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

from accounts.models import Device, DeviceSession

# last_seen_at is moved at most this often: the tablet syncs every minute.
SEEN_EVERY = dt.timedelta(minutes=5)


@transaction.atomic
def device_contact(
    *, device_id: uuid.UUID, user: User, session_key: str, user_agent: str
) -> Device:
    """The device ``device_id`` called with ``user``'s session: registered if new,
    its session tied to it, its user and last contact brought up to date.

    The caller has checked that the device is not revoked."""
    now = timezone.now()
    device, created = Device.objects.select_for_update().get_or_create(
        device_id=device_id,
        defaults={"user": user, "user_agent": user_agent[:200], "last_seen_at": now},
    )
    if not created and (device.user_id != user.pk or now - device.last_seen_at > SEEN_EVERY):
        device.user = user
        device.user_agent = user_agent[:200]
        device.last_seen_at = now
        device.full_clean()
        device.save(update_fields=["user", "user_agent", "last_seen_at"])
    DeviceSession.objects.get_or_create(session_key=session_key, defaults={"device": device})
    return device


@transaction.atomic
def device_revoke(*, device: Device, by: User) -> int:
    """Revokes ``device``: its sessions end now (the number ended is returned), and
    its next contact is told to wipe. Revoking twice changes nothing more."""
    device = Device.objects.select_for_update().get(pk=device.pk)
    if device.revoked_at is None:
        device.revoked_at = timezone.now()
        device.revoked_by = by
        device.full_clean()
        device.save(update_fields=["revoked_at", "revoked_by"])
    keys = list(device.sessions.values_list("session_key", flat=True))
    ended, _ = Session.objects.filter(session_key__in=keys).delete()
    device.sessions.all().delete()
    return ended


@transaction.atomic
def device_wiped(*, device_id: uuid.UUID) -> None:
    """Notes the first time a revoked device was told to wipe."""
    Device.objects.filter(
        device_id=device_id, revoked_at__isnull=False, wiped_at__isnull=True
    ).update(wiped_at=timezone.now())
