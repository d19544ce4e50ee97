"""Identifiers: Thai national IDs, school G codes and school codes.

A national ID is 13 digits: the person type (1 = Thai, born and registered on
time; 0, 6 and 7 = non-Thai and stateless people), the registration office
(4 digits), a book and sequence (7 digits) and a check digit: the first twelve
digits times the weights 13 down to 2, summed; check = (11 - sum mod 11) mod 10.
"""

from __future__ import annotations

import random

NATIONAL_ID_LENGTH = 13


def national_id_check_digit(first12: str) -> int:
    if len(first12) != NATIONAL_ID_LENGTH - 1 or not first12.isdigit():
        raise ValueError(f"expected 12 digits, got {first12!r}")
    weights = range(13, 1, -1)
    total = sum(int(digit) * weight for digit, weight in zip(first12, weights, strict=True))
    return (11 - total % 11) % 10


def is_valid_national_id(value: str) -> bool:
    return (
        len(value) == NATIONAL_ID_LENGTH
        and value.isdigit()
        and national_id_check_digit(value[:12]) == int(value[12])
    )


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
