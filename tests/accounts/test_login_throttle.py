"""Login throttling (django-axes): by username and address together."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from factories import TEST_PASSWORD, UserFactory, make

LOGIN = "/accounts/login/"
TABLET_IP = "203.0.113.7"


def _log_in(client: Client, user: User, password: str, ip: str = TABLET_IP) -> int:
    response = client.post(
        LOGIN, {"username": user.get_username(), "password": password}, REMOTE_ADDR=ip
    )
    return response.status_code


def _lock(client: Client, user: User) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _log_in(client, user, "wrong") == 200
    # The last failure allowed locks the username on this address.
    assert _log_in(client, user, "wrong") == 429


@pytest.mark.django_db
def test_five_failures_lock_the_username_on_that_address(member_a: User) -> None:
    assert settings.AXES_FAILURE_LIMIT == 5
    client = Client()
    _lock(client, member_a)
    # Even the right password is refused now, with a message in Thai.
    response = client.post(
        LOGIN, {"username": "member_a", "password": TEST_PASSWORD}, REMOTE_ADDR=TABLET_IP
    )
    assert response.status_code == 429
    page = response.content.decode()
    assert 'id="locked-out"' in page
    assert "เข้าสู่ระบบผิดหลายครั้งเกินไป" in page
    assert "_auth_user_id" not in client.session
    # The same member on another tablet, and another member here, still log in.
    assert _log_in(Client(), member_a, TEST_PASSWORD, ip="198.51.100.20") == 302
    colleague = make(UserFactory, username="colleague")
    assert _log_in(Client(), colleague, TEST_PASSWORD) == 302


@pytest.mark.django_db
def test_a_success_before_the_limit_starts_the_count_again(member_a: User) -> None:
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _log_in(client, member_a, "wrong") == 200
    assert _log_in(client, member_a, TEST_PASSWORD) == 302
    assert _log_in(Client(), member_a, "wrong") == 200


@pytest.mark.django_db
def test_an_administrator_unlocks_in_the_admin_or_with_a_command(member_a: User) -> None:
    _lock(Client(), member_a)
    admin = make(UserFactory, username="root", is_staff=True, is_superuser=True)
    office = Client()
    office.force_login(admin)
    listing = office.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200
    assert "member_a" in listing.content.decode()
    # Deleting the attempt in the admin unlocks.
    attempt = AccessAttempt.objects.get(username="member_a")
    response = office.post(
        "/admin/axes/accessattempt/",
        {"action": "delete_selected", "_selected_action": [attempt.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert _log_in(Client(), member_a, TEST_PASSWORD) == 302

    _lock(Client(), member_a)
    call_command("axes_reset_username", "member_a")
    assert _log_in(Client(), member_a, TEST_PASSWORD) == 302


@pytest.mark.django_db
def test_behind_the_proxy_the_client_is_the_address_it_appended(
    member_a: User, settings: object
) -> None:
    settings.TRUSTED_PROXIES = ["172.18.0.0/16"]  # type: ignore[attr-defined]
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):  # type: ignore[attr-defined]
        client.post(
            LOGIN,
            {"username": "member_a", "password": "wrong"},
            REMOTE_ADDR="172.18.0.5",
            # A forged first entry, then the address the proxy saw.
            HTTP_X_FORWARDED_FOR=f"10.9.9.9, {TABLET_IP}",
        )
    assert AccessAttempt.objects.get(username="member_a").ip_address == TABLET_IP
    # Another client through the same proxy is not locked out.
    response = Client().post(
        LOGIN,
        {"username": "member_a", "password": TEST_PASSWORD},
        REMOTE_ADDR="172.18.0.5",
        HTTP_X_FORWARDED_FOR="198.51.100.20",
    )
    assert response.status_code == 302
