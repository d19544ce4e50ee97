"""The compose files stay valid YAML with the services docs/deploy.md names (CI has
no docker to run `docker compose config`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def _load(name: str) -> dict[str, Any]:
    data = yaml.safe_load((ROOT / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_the_production_compose_file() -> None:
    compose = _load("docker-compose.prod.yml")
    services = compose["services"]
    assert {"db", "web", "proxy", "migrate"} <= set(services)
    web = services["web"]
    assert "gunicorn" in " ".join(web["command"])
    assert "WEB_CONCURRENCY" in " ".join(web["command"])
    assert web["environment"]["DJANGO_DEBUG"] == "false"
    assert web["environment"]["TAKHAI_BEHIND_PROXY"] == "true"
    # Secrets come from files, never from the compose file or the env file.
    assert "DJANGO_SECRET_KEY" not in web["environment"]
    assert set(web["secrets"]) == {"database_url", "django_secret_key"}
    # Only the proxy is published; the app and database sit on an internal network.
    assert "ports" not in web and "ports" not in services["db"]
    assert compose["networks"]["backend"]["internal"] is True
    assert services["db"]["image"].startswith("postgis/postgis:")
    assert (ROOT / "deploy" / "Caddyfile").exists()


def test_the_env_example_holds_no_secret() -> None:
    text = (ROOT / "deploy" / "takhai.env.example").read_text(encoding="utf-8")
    keys = {line.split("=", 1)[0] for line in text.splitlines() if "=" in line and line[0] != "#"}
    assert "DJANGO_SECRET_KEY" not in keys and "DATABASE_URL" not in keys
    assert "POSTGRES_PASSWORD" not in keys


def test_the_demo_compose_file_serves_plain_http() -> None:
    compose = _load("docker-compose.yml")
    assert compose["services"]["web"]["environment"]["TAKHAI_HTTPS"] == "false"
