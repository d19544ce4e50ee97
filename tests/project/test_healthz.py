from __future__ import annotations

import pytest
from django.test import Client

from project import health


@pytest.mark.django_db
def test_healthz_answers_ok_without_a_login() -> None:
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "postgis": "ok"}}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_healthz_answers_503_when_postgis_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    # As if restored into a server without the extension: the function is unknown.
    monkeypatch.setattr(
        health,
        "CHECKS",
        (("database", "SELECT 1"), ("postgis", "SELECT takhai_no_such_function()")),
    )
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "fail", "checks": {"database": "ok", "postgis": "fail"}}
