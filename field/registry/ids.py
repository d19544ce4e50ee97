"""Identifiers in registry files: Thai national IDs and school G codes.

A national ID is 13 digits: the person type (1 = Thai, born and registered on
time; 0, 6 and 7 = non-Thai and stateless people), the registration office
(4 digits), a book and sequence (7 digits) and a check digit: the first twelve
digits times the weights 13 down to 2, summed; check = (11 - sum mod 11) mod 10.

Schools give pupils with no national ID a "G code": G and 12 or 13 digits.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _

from geo.algorithms.thai_names import THAI_DIGITS

NATIONAL_ID_LENGTH = 13
# Person types of non-Thai and stateless people; their IDs carry the same checksum.
NON_THAI_PREFIXES = frozenset("067")

# Registry clerks type Thai digits as often as Arabic ones.
# Separators seen in exports: dashes of every width, spaces (incl. no-break and
# zero-width ones from copy-paste) and dots.
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212\u00a0\u200b\u200c\u200d\ufeff.]+")
_G_CODE = re.compile(r"G(\d{12,13})")


class IdentifierKind(models.TextChoices):
    THAI_ID = "thai_id", _("Thai national ID")
    NON_THAI_ID = "non_thai_id", _("Non-Thai national ID")
    G_CODE = "g_code", _("School G code")
    BLANK = "blank", _("Blank")
    INVALID = "invalid", _("Invalid")


class InvalidReason(models.TextChoices):
    CHECKSUM = "checksum", _("Check digit does not match")
    LENGTH = "length", _("Wrong number of digits")
    CHARACTERS = "characters", _("Characters other than digits")


@dataclass(frozen=True)
class IdentifierResult:
    kind: IdentifierKind
    value: str
    """The normalised identifier; for an invalid one, what was normalised so far."""
    reason: InvalidReason | None = None

    @property
    def is_usable(self) -> bool:
        return self.kind not in (IdentifierKind.BLANK, IdentifierKind.INVALID)


def national_id_check_digit(first12: str) -> int:
    if len(first12) != NATIONAL_ID_LENGTH - 1 or not first12.isdigit():
        raise ValueError(f"expected 12 digits, got {first12!r}")
    weights = range(13, 1, -1)
    total = sum(int(digit) * weight for digit, weight in zip(first12, weights, strict=True))
    return (11 - total % 11) % 10


_WEIGHTS = bytes(range(13, 1, -1))
# The ASCII codes of the digits add 48 x the sum of the weights to the weighted sum.
_ASCII_BIAS = 48 * sum(_WEIGHTS)


def is_valid_national_id(digits: str) -> bool:
    # isascii: str.isdigit also accepts Thai and other Unicode digits, which
    # int() would silently convert; callers must normalise first.
    if not (len(digits) == NATIONAL_ID_LENGTH and digits.isascii() and digits.isdigit()):
        return False
    # The registry importer's hot path: multiplying bytes in C is five times
    # faster than national_id_check_digit's per-digit int().
    code = digits.encode()
    total: int = sum(map(operator.mul, code[:12], _WEIGHTS)) - _ASCII_BIAS
    return (11 - total % 11) % 10 == code[12] - 48


def normalise_national_id(raw: str) -> str:
    """Thai digits to Arabic, separators removed; anything else is kept so the
    caller can see it is not an ID."""
    return _SEPARATORS.sub("", raw.translate(THAI_DIGITS))


def classify_identifier(raw: str | None) -> IdentifierResult:
    if raw is not None and len(raw) == NATIONAL_ID_LENGTH and raw.isascii() and raw.isdigit():
        # Most IDs in a register are already clean: skip the normalising.
        value = raw
    else:
        value = normalise_national_id(raw or "").upper()
    if not value:
        return IdentifierResult(IdentifierKind.BLANK, "")
    if value.startswith("G"):
        return _classify_g_code(value)
    if not (value.isascii() and value.isdigit()):
        return IdentifierResult(IdentifierKind.INVALID, value, InvalidReason.CHARACTERS)
    if len(value) != NATIONAL_ID_LENGTH:
        return IdentifierResult(IdentifierKind.INVALID, value, InvalidReason.LENGTH)
    if not is_valid_national_id(value):
        return IdentifierResult(IdentifierKind.INVALID, value, InvalidReason.CHECKSUM)
    kind = IdentifierKind.NON_THAI_ID if value[0] in NON_THAI_PREFIXES else IdentifierKind.THAI_ID
    return IdentifierResult(kind, value)


def _classify_g_code(value: str) -> IdentifierResult:
    # G codes carry no check digit, so only their shape can be checked.
    if _G_CODE.fullmatch(value):
        return IdentifierResult(IdentifierKind.G_CODE, value)
    digits = value[1:]
    if digits.isascii() and digits.isdigit():
        return IdentifierResult(IdentifierKind.INVALID, value, InvalidReason.LENGTH)
    return IdentifierResult(IdentifierKind.INVALID, value, InvalidReason.CHARACTERS)
