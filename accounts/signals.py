from __future__ import annotations

import time
from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest

from accounts.middleware import SEEN_KEY, STARTED_KEY


@receiver(user_logged_in)
def session_started(sender: Any, request: HttpRequest | None, **kwargs: Any) -> None:
    """The absolute session limit counts from the log-in."""
    if request is not None and hasattr(request, "session"):
        now = int(time.time())
        request.session[STARTED_KEY] = now
        request.session[SEEN_KEY] = now
