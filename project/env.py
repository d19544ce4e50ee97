"""Typed readers for settings that come from the environment.

Each reader also accepts ``NAME_FILE`` pointing at a file that holds the value, so
secrets can come from Docker or systemd credentials instead of the process list.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlparse


class EnvError(ValueError):
    """A setting in the environment has a value that cannot be used."""


def _raw(name: str) -> str | None:
    path = os.environ.get(f"{name}_FILE")
    if path:
        return Path(path).read_text(encoding="utf-8").strip()
    return os.environ.get(name)


def env_str(name: str, default: str) -> str:
    value = _raw(name)
    return default if value is None or value == "" else value


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise EnvError(f"{name}={value!r} is not a boolean (use true or false)")


def env_int(name: str, default: int) -> int:
    value = _raw(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise EnvError(f"{name}={value!r} is not a whole number") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    value = _raw(name)
    if value is None or value == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def database_from_url(url: str) -> dict[str, object]:
    """Turns ``postgres://user:pass@host:port/name`` into a PostGIS DATABASES entry.

    A socket directory goes in ``?host=/path`` as libpq does it.
    """
    parsed = urlparse(url)
    if parsed.scheme not in {"postgres", "postgresql", "postgis"}:
        raise EnvError(f"DATABASE_URL scheme {parsed.scheme!r} is not PostgreSQL")
    query = dict(part.split("=", 1) for part in parsed.query.split("&") if "=" in part)
    return {
        "ENGINE": "django.contrib.gis.db.backends.postgis",
        "NAME": unquote(parsed.path.lstrip("/")) or "takhai",
        "USER": unquote(parsed.username or ""),
        "PASSWORD": unquote(parsed.password or ""),
        "HOST": unquote(query.get("host", parsed.hostname or "")),
        "PORT": str(parsed.port or ""),
        "CONN_MAX_AGE": 60,
    }
