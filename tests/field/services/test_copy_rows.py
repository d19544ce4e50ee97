"""COPY of staged rows: values that COPY's text format would misread survive."""

from __future__ import annotations

import pytest
from django.db import connection

from field.services.imports import copy_rows

pytestmark = pytest.mark.django_db


def test_tabs_backslashes_newlines_and_nulls_round_trip() -> None:
    rows = [
        (1, "plain", None),
        (2, "a\tb", "c\\N"),
        (3, "line\nbreak\r", "back\\slash"),
        (4, None, "\\"),
    ]
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE copy_check (n integer, a text, b text)")
        copy_rows("copy_check", ("n", "a", "b"), rows)
        cursor.execute("SELECT n, a, b FROM copy_check ORDER BY n")
        assert [tuple(r) for r in cursor.fetchall()] == rows
