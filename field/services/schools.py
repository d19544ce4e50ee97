"""Writes about schools."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection, transaction

from field.models import School
from geo.selectors import nearest_village_sql


@transaction.atomic
def schools_upsert(*, schools: Sequence[School]) -> int:
    """Inserts or updates schools by code; returns how many.

    For lists of hundreds or thousands: each school's fields are checked in
    Python, while the foreign key and the constraints are left to the database,
    which checks them in the same statement instead of one query per row.
    """
    for school in schools:
        school.full_clean(
            exclude=["subdistrict"], validate_unique=False, validate_constraints=False
        )
    School.objects.bulk_create(
        schools,
        update_conflicts=True,
        unique_fields=["code"],
        update_fields=["name", "affiliation", "levels", "students", "point", "subdistrict"],
    )
    schools_place_villages(codes=[school.code for school in schools])
    return len(schools)


def schools_place_villages(*, codes: Sequence[str]) -> int:
    """Each school's village: the nearest village point of its own tambon, or none
    without a point or a tambon. Only schools whose village changes are written."""
    village = nearest_village_sql("s.subdistrict_id", "s.point")
    placed = f"CASE WHEN s.point IS NOT NULL AND s.subdistrict_id IS NOT NULL THEN {village} END"
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE field_school s SET village_id = {placed} "  # noqa: S608
            f"WHERE s.code = ANY(%s) AND s.village_id IS DISTINCT FROM {placed}",
            [list(codes)],
        )
        return int(cursor.rowcount)
