"""The tablet app's page, service worker and manifest: who may open the page, and
what the browser needs of the other two to install the app."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from field.models import Volunteer

pytestmark = pytest.mark.django_db


def test_a_search_team_member_gets_the_app_shell(client: Client, member_a: User) -> None:
    client.force_login(member_a)
    response = client.get(reverse("field-my-area"))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="tablet-strings"' in body
    assert "field/tablet/app.js" in body
    assert "no-cache" in response["Cache-Control"]
    assert "csrftoken" in response.cookies


@pytest.mark.parametrize("persona", ["coordinator", "official"])
def test_other_roles_are_refused(
    client: Client, persona: str, request: pytest.FixtureRequest
) -> None:
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("field-my-area")).status_code == 403


def test_a_volunteer_gets_the_app_shell_as_my_zone(client: Client, volunteer: User) -> None:
    client.force_login(volunteer)
    response = client.get(reverse("field-my-area"))
    assert response.status_code == 200
    assert 'id="zone-summary"' in response.content.decode()


def test_a_volunteer_login_with_no_volunteer_linked_is_refused(
    client: Client, volunteer: User
) -> None:
    Volunteer.objects.filter(user=volunteer).update(user=None)
    client.force_login(volunteer)
    assert client.get(reverse("field-my-area")).status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(client: Client) -> None:
    response = client.get(reverse("field-my-area"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_service_worker_is_served_from_the_root(client: Client) -> None:
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    assert "no-cache" in response["Cache-Control"]
    body = response.content.decode()
    assert "/static/leaflet/leaflet.js" in body
    assert "/static/field/tablet/app.js" in body
    assert '"shell": "/my-area/"' in body


def test_the_manifest_starts_the_app_on_my_area(client: Client) -> None:
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    data = json.loads(response.content)
    assert data["name"] == "ตาข่าย"
    assert data["start_url"] == "/my-area/"
    assert data["display"] == "standalone"
    for icon in data["icons"]:
        assert client.get(icon["src"]).status_code == 200
