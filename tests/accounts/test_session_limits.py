"""Sessions on shared tablets: an idle limit, a limit from the log-in, and none
kept past the browser's closing."""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone
from factories import TEST_PASSWORD

from accounts.middleware import SEEN_KEY, STARTED_KEY


def test_the_session_settings_suit_shared_tablets() -> None:
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE
    assert settings.SESSION_COOKIE_AGE == settings.SESSION_IDLE_SECONDS == 30 * 60
    assert settings.SESSION_MAX_SECONDS > settings.SESSION_IDLE_SECONDS


def _edit_session(client: Client, **values: int) -> None:
    session = client.session
    for key, value in values.items():
        session[key] = value
    session.save()


@pytest.mark.django_db
def test_a_log_in_starts_both_clocks(member_a: User) -> None:
    client = Client()
    before = int(time.time())
    client.post("/accounts/login/", {"username": "member_a", "password": TEST_PASSWORD})
    assert client.session[STARTED_KEY] >= before
    assert client.session[SEEN_KEY] >= before


@pytest.mark.django_db
def test_use_moves_the_idle_limit_at_most_once_a_minute(member_a: User) -> None:
    client = Client()
    client.force_login(member_a)
    now = int(time.time())
    _edit_session(client, **{STARTED_KEY: now, SEEN_KEY: now - 20 * 60})
    key = client.session.session_key
    before = Session.objects.get(session_key=key).expire_date
    assert client.get("/my-area/").status_code == 200
    moved = Session.objects.get(session_key=key).expire_date
    assert moved > before
    # Again within the minute: no write.
    assert client.get("/my-area/").status_code == 200
    assert Session.objects.get(session_key=key).expire_date == moved


@pytest.mark.django_db
def test_an_idle_session_ends(member_a: User) -> None:
    client = Client()
    client.force_login(member_a)
    key = client.session.session_key
    # Past the idle limit since the last save.
    Session.objects.filter(session_key=key).update(expire_date=timezone.now())
    response = client.get("/my-area/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_a_session_ends_at_its_absolute_limit_even_in_use(member_a: User) -> None:
    client = Client()
    client.force_login(member_a)
    now = int(time.time())
    _edit_session(client, **{STARTED_KEY: now - settings.SESSION_MAX_SECONDS - 1, SEEN_KEY: now})
    response = client.get("/my-area/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    # The API answers as to anyone logged out: the tablet keeps its queue and asks.
    assert client.get("/api/v1/area/").status_code == 403
