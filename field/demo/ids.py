"""Identifiers for the demo seed: made-up national IDs, G codes and school codes.

The national-ID layout and checksum live in ``field.registry.ids``, which the
registry importer uses to check real files; the seed must make IDs that pass it."""

from __future__ import annotations

import random

from field.registry.ids import (
    NATIONAL_ID_LENGTH,
    is_valid_national_id,
    national_id_check_digit,
)

# Re-exported: the demo seed and its tests import the checksum helpers from here.
__all__ = [
    "NATIONAL_ID_LENGTH",
    "is_valid_national_id",
    "make_g_code",
    "make_national_id",
    "mistype",
    "national_id_check_digit",
    "obec_school_code",
]


def make_national_id(rng: random.Random, *, person_type: str, office: str) -> str:
    """A valid ID of ``person_type`` (one digit) registered at ``office`` (4 digits)."""
    first12 = f"{person_type}{office}{rng.randrange(10**7):07d}"
    return f"{first12}{national_id_check_digit(first12)}"


def mistype(rng: random.Random, national_id: str) -> str:
    """The ID as a clerk might mistype it: one digit wrong, or two neighbours
    swapped, always with a failing checksum (so it can never be someone else's)."""
    while True:
        digits = list(national_id)
        if rng.random() < 0.5:
            i = rng.randrange(NATIONAL_ID_LENGTH - 1)
            digits[i], digits[i + 1] = digits[i + 1], digits[i]
        else:
            i = rng.randrange(NATIONAL_ID_LENGTH)
            digits[i] = str((int(digits[i]) + rng.randrange(1, 10)) % 10)
        typed = "".join(digits)
        if not is_valid_national_id(typed):
            return typed


def make_g_code(rng: random.Random, *, province: str) -> str:
    """A school's code for a pupil with no national ID: G and 12 digits."""
    return f"G{province}{rng.randrange(10**10):010d}"


def obec_school_code(*, province: str, area: int, number: int) -> str:
    """OBEC's 10-digit code: 10, the 2-digit province, the 2-digit service area,
    then the school's 4-digit number (its 8-digit SMIS code after the 10)."""
    return f"10{province}{area:02d}{number:04d}"
