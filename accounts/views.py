"""The login lockout page, and the coordinator's devices page."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from accounts.selectors import devices_in_scope, get_device
from accounts.services import device_revoke
from field.selectors import user_area


def locked_out(
    request: HttpRequest, original_response: HttpResponse | None, credentials: Any
) -> HttpResponse:
    """django-axes' answer to a locked-out login: the login page again, with why and
    for how long, and 429 Too Many Requests."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    form = AuthenticationForm(request)
    return render(
        request,
        "registration/login.html",
        {
            "form": form,
            "locked_out": True,
            "lockout_minutes": minutes,
            "next": request.POST.get("next", request.GET.get("next", "")),
        },
        status=429,
    )


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # noqa: S101 (login_required ran)
    return user


@login_required
@require_safe
def devices(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    rows = devices_in_scope(user).order_by("-revoked_at", "-last_seen_at")
    return render(request, "accounts/devices.html", {"devices": rows, "scope": user_area(user)})


@login_required
@require_POST
def device_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    device = get_device(user, pk)
    device_revoke(device=device, by=user)
    messages.success(
        request,
        _("The device of %(name)s was revoked: its sessions have ended.")
        % {"name": device.user.get_full_name() or device.user.get_username()},
    )
    return redirect("accounts-devices")
