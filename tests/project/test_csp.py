"""The Content-Security-Policy: on every page, with no inline script to allow."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client

# The exported map report: a standalone file with Leaflet inlined, downloaded and
# opened from disk; its response is exempt from the policy (field/export_views.py).
STANDALONE = {"field/gap_report.html"}
# <script> elements that hold data, not code.
DATA_TYPES = ("application/json", "application/ld+json")

_SCRIPT = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
_HANDLER = re.compile(r"<[a-zA-Z][^>]*?\son[a-z]+\s*=", re.DOTALL)


def _directives(header: str) -> dict[str, list[str]]:
    parts = (part.split() for part in header.split(";") if part.strip())
    return {words[0]: words[1:] for words in parts}


def _templates() -> list[tuple[str, Path]]:
    roots = [Path(settings.BASE_DIR) / "templates"]
    roots += [
        p / "templates"
        for p in Path(settings.BASE_DIR).iterdir()
        if p.is_dir() and (p / "templates").is_dir() and p.name not in {"node_modules", ".venv"}
    ]
    found = []
    for root in roots:
        for path in sorted(root.rglob("*.html")):
            found.append((path.relative_to(root).as_posix(), path))
    return found


def test_no_template_has_an_inline_script_or_a_handler_attribute() -> None:
    templates = _templates()
    assert len(templates) > 20
    offenders = []
    for name, path in templates:
        if name in STANDALONE:
            continue
        text = path.read_text(encoding="utf-8")
        for match in _SCRIPT.finditer(text):
            attrs = match.group(1)
            if "src=" in attrs or any(kind in attrs for kind in DATA_TYPES):
                continue
            offenders.append(f"{name}: inline <script{attrs}>")
        for match in _HANDLER.finditer(text):
            offenders.append(f"{name}: handler attribute in {match.group(0)[:60]!r}")
        if "javascript:" in text:
            offenders.append(f"{name}: javascript: URL")
    assert offenders == []


def _assert_strict(response: object) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]  # type: ignore[index]
    policy = _directives(header)
    assert policy["script-src"] == ["'self'"]
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in policy["style-src"]
    return policy


@pytest.mark.django_db
def test_pages_carry_the_policy(member_a: User, coordinator: User) -> None:
    anonymous = Client()
    for url in ("/accounts/login/", "/"):
        response = anonymous.get(url)
        assert response.status_code == 200, url
        policy = _assert_strict(response)
    # The base map's tiles, fetched by Leaflet and by the service worker.
    assert "https://tile.openstreetmap.org" in policy["img-src"]
    assert "https://tile.openstreetmap.org" in policy["connect-src"]

    member = Client()
    member.force_login(member_a)
    for url in ("/my-area/", "/sw.js"):
        response = member.get(url)
        assert response.status_code == 200, url
        _assert_strict(response)

    office = Client()
    office.force_login(coordinator)
    for url in ("/teams/", "/dashboard/", "/devices/"):
        response = office.get(url)
        assert response.status_code == 200, url
        _assert_strict(response)
