"""After logging in, each role starts from its own page."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from factories import TEST_PASSWORD, UserFactory, make

from field.models import Volunteer

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("persona", "page"),
    [
        ("coordinator", "field-teams"),
        ("member_a", "field-my-area"),
        ("official", "field-funnel"),
        ("volunteer", "field-my-area"),
    ],
)
def test_each_role_lands_on_its_own_page(
    persona: str, page: str, request: pytest.FixtureRequest, client: Client
) -> None:
    user: User = request.getfixturevalue(persona)
    response = client.post(
        reverse("login"), {"username": user.username, "password": TEST_PASSWORD}, follow=False
    )
    assert response.status_code == 302
    start = client.get(response["Location"])
    assert start.status_code == 302
    assert start["Location"] == reverse(page)


def test_a_user_without_a_role_lands_on_the_map(client: Client) -> None:
    client.force_login(make(UserFactory, username="nobody"))
    assert client.get(reverse("field-start"))["Location"] == reverse("home")


def test_a_volunteer_login_with_no_volunteer_linked_lands_on_the_map(
    client: Client, volunteer: User
) -> None:
    Volunteer.objects.filter(user=volunteer).update(user=None)
    client.force_login(volunteer)
    assert client.get(reverse("field-start"))["Location"] == reverse("home")


def test_the_start_page_needs_a_login(client: Client) -> None:
    response = client.get(reverse("field-start"))
    assert response.status_code == 302 and reverse("login") in response["Location"]
