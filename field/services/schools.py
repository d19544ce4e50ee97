"""Writes about schools."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction

from field.models import School


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
    return len(schools)
