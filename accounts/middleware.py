"""Session limits for shared tablets, and the device check of every API call."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from accounts.models import Device
from accounts.services import device_contact, device_wiped

DEVICE_HEADER = "X-Takhai-Device"
STARTED_KEY = "_takhai_started"
SEEN_KEY = "_takhai_seen"
DEVICE_KEY = "_takhai_device"
# The idle clock is moved by saving the session, at most this often: saving on
# every request would write a row for every map tile.
SEEN_EVERY_SECONDS = 60

Handler = Callable[[HttpRequest], HttpResponse]


class SessionLimitsMiddleware:
    """Ends a session past its absolute limit (settings.SESSION_MAX_SECONDS) and
    keeps the idle limit sliding: Django drops a session whose row was last saved
    more than SESSION_COOKIE_AGE (the idle limit) ago, and a session in use is
    saved again every minute."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = int(time.time())
            session = request.session
            started = session.get(STARTED_KEY)
            if not isinstance(started, int):
                session[STARTED_KEY] = now
            elif now - started > settings.SESSION_MAX_SECONDS:
                logout(request)
                return self.get_response(request)
            seen = session.get(SEEN_KEY)
            if not isinstance(seen, int) or now - seen >= SEEN_EVERY_SECONDS:
                session[SEEN_KEY] = now
        return self.get_response(request)


def revoked_response() -> JsonResponse:
    return JsonResponse(
        {
            "code": "device_revoked",
            "detail": _(
                "This device was revoked by a coordinator: its data has been removed. "
                "Ask your coordinator before using it again."
            ),
        },
        status=403,
    )


class DeviceMiddleware:
    """For requests carrying the tablet app's device id (its API calls): refuses a
    revoked device, ending the session it came with, and otherwise registers the
    device and ties the session to it (the first call after a log-in)."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        raw = request.headers.get(DEVICE_HEADER)
        if raw is None:
            return self.get_response(request)
        try:
            device_id = uuid.UUID(raw)
        except ValueError:
            return JsonResponse(
                {"code": "device_invalid", "detail": "X-Takhai-Device is not a UUID"}, status=400
            )
        if Device.objects.filter(device_id=device_id, revoked_at__isnull=False).exists():
            device_wiped(device_id=device_id)
            if request.user.is_authenticated:
                logout(request)
            return revoked_response()
        user = request.user
        if isinstance(user, User) and user.is_authenticated:
            session = request.session
            if session.session_key is None:
                session.save()
            key = session.session_key
            # The session key with the id: a log-in cycles the key and keeps the data.
            tie = f"{device_id}:{key}"
            # Once per session and device, then whenever the idle clock moves.
            if key is not None and (session.get(DEVICE_KEY) != tie or session.modified):
                device_contact(
                    device_id=device_id,
                    user=user,
                    session_key=key,
                    user_agent=request.headers.get("User-Agent", ""),
                )
                session[DEVICE_KEY] = tie
        return self.get_response(request)
