"""Reading PostgreSQL query plans, so tests and benchmarks can check a plan's shape."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from django.db import connection


def explain(sql: str, params: Sequence[Any] = ()) -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        raw = cursor.fetchone()[0]
    data = json.loads(raw) if isinstance(raw, str) else raw
    plan: dict[str, Any] = data[0]["Plan"]
    return plan


def nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def index_scans(plan: dict[str, Any]) -> set[str]:
    """Names of the indexes the plan reads."""
    return {n["Index Name"] for n in nodes(plan) if "Index Name" in n}


def seq_scanned_tables(plan: dict[str, Any]) -> set[str]:
    return {n["Relation Name"] for n in nodes(plan) if n["Node Type"] == "Seq Scan"}


def spatial_index_of(table: str, column: str = "geom") -> str:
    """The GiST index Django made for a geometry column."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = %s AND indexdef ILIKE %s",
            [table, f"%USING gist ({column})%"],
        )
        row = cursor.fetchone()
    if row is None:
        raise LookupError(f"{table}.{column} has no GiST index")
    return str(row[0])
