"""Production settings: check --deploy is clean with the production environment,
and the demo's plain-HTTP flag turns HTTPS off."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

from django.conf import settings

from project.security import tile_sources

ROOT = Path(settings.BASE_DIR)


def _env(**extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "TAKHAI_")) and key != "PYTEST_CURRENT_TEST"
    }
    env.update(extra)
    return env


def test_check_deploy_is_clean_with_production_settings() -> None:
    env = _env(
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(60),
        DJANGO_ALLOWED_HOSTS="takhai.example.org",
        TAKHAI_BEHIND_PROXY="true",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def _setting(code: str, **env: str) -> str:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'project.settings';"
            f"django.setup(); from django.conf import settings as s; print(({code}))",
        ],
        cwd=ROOT,
        env=_env(DJANGO_SECRET_KEY=secrets.token_urlsafe(60), **env),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout.strip()


def test_production_defaults_to_https_and_the_demo_flag_turns_it_off() -> None:
    values = "s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.SECURE_HSTS_SECONDS > 0"
    assert _setting(values) == "(True, True, True)"
    assert _setting(values, TAKHAI_HTTPS="false") == "(False, False, False)"
    # The proxy's header is trusted only when said so.
    assert _setting("hasattr(s, 'SECURE_PROXY_SSL_HEADER') and s.SECURE_PROXY_SSL_HEADER") == (
        "None"
    )


def test_tile_sources() -> None:
    assert tile_sources("https://{s}.tile.example.org/{z}/{x}/{y}.png") == [
        "https://*.tile.example.org"
    ]
    assert tile_sources("https://tiles.example.org:8443/{z}/{x}/{y}.png") == [
        "https://tiles.example.org:8443"
    ]
    assert tile_sources("/tiles/{z}/{x}/{y}.png") == []
