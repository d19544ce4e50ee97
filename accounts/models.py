"""The devices members log in on, so that a coordinator can revoke a lost one.

A device is a random id the tablet app makes once and keeps (localStorage), sent
as the ``X-Takhai-Device`` header with every API call. The first call after a
log-in registers the device (or finds it) and ties the session to it
(``DeviceSession``); revoking the device deletes those sessions at once, and any
later call bearing its id is answered ``403 {"code": "device_revoked"}``, on which
the app wipes what it keeps of Takhai (accounts/middleware.py, app.js).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Device(models.Model):
    device_id = models.UUIDField(unique=True)
    # Who used it last: the coordinator finds a lost tablet by its member.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="devices"
    )
    # What the browser says it is, cut short: enough to tell two tablets apart.
    user_agent = models.CharField(max_length=200, blank=True)
    registered_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # When the revoked device was told to wipe (its first contact after revocation).
    wiped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("device")
        ordering = ["-last_seen_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(revoked_at__isnull=False) | models.Q(wiped_at__isnull=True),
                name="device_wiped_only_when_revoked",
            )
        ]

    def __str__(self) -> str:
        return f"{self.device_id} ({self.user_id})"

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


class DeviceSession(models.Model):
    """A login session opened on a device: deleted with the session when revoked."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="sessions")
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.session_key[:8]
