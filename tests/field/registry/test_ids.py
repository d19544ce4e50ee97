"""National IDs, non-Thai IDs and G codes as they arrive in registry files."""

from __future__ import annotations

import pytest

from field.registry.ids import (
    IdentifierKind,
    InvalidReason,
    classify_identifier,
    is_valid_national_id,
    national_id_check_digit,
    normalise_national_id,
)

# Checked by hand: weights 13..2 over 140018109126 sum to 185; (11 - 185 % 11) % 10 = 1.
THAI_ID = "1400181091261"


def _with_check_digit(first12: str) -> str:
    return first12 + str(national_id_check_digit(first12))


def test_check_digit_matches_the_hand_computed_one() -> None:
    assert national_id_check_digit(THAI_ID[:12]) == 1
    assert is_valid_national_id(THAI_ID)


@pytest.mark.parametrize(
    "value",
    ["1400181091262", "140018109126", "14001810912611", "", "1400181O91261", "๑400181091261"],
)
def test_invalid_national_ids(value: str) -> None:
    assert not is_valid_national_id(value)


def test_demo_ids_still_export_the_checksum_helpers() -> None:
    from field.demo import ids as demo_ids

    assert demo_ids.is_valid_national_id is is_valid_national_id
    assert demo_ids.national_id_check_digit is national_id_check_digit


@pytest.mark.parametrize(
    "raw",
    ["1-4001-81091-26-1", " 1 4001 81091 26 1 ", "๑๔๐๐๑๘๑๐๙๑๒๖๑", "1\u20134001\u201381091261"],
)
def test_normalise_strips_separators_and_thai_digits(raw: str) -> None:
    assert normalise_national_id(raw) == THAI_ID


def test_thai_id() -> None:
    result = classify_identifier("1-4001-81091-26-1")
    assert (result.kind, result.value, result.reason) == (IdentifierKind.THAI_ID, THAI_ID, None)
    assert result.is_usable


@pytest.mark.parametrize("prefix", ["0", "6", "7"])
def test_non_thai_ids(prefix: str) -> None:
    value = _with_check_digit(prefix + "40018109126")
    assert classify_identifier(value).kind == IdentifierKind.NON_THAI_ID


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("G401234567890", "G401234567890"),
        ("g4012345678901", "G4012345678901"),
        ("G-40 1234567890", "G401234567890"),
    ],
)
def test_g_codes(raw: str, value: str) -> None:
    result = classify_identifier(raw)
    assert (result.kind, result.value) == (IdentifierKind.G_CODE, value)


@pytest.mark.parametrize("raw", ["", "   ", None, "\ufeff"])
def test_blank(raw: str | None) -> None:
    result = classify_identifier(raw)
    assert (result.kind, result.value, result.is_usable) == (IdentifierKind.BLANK, "", False)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("1400181091262", InvalidReason.CHECKSUM),
        ("140018109126", InvalidReason.LENGTH),
        ("14001810912610", InvalidReason.LENGTH),
        ("1400181O91261", InvalidReason.CHARACTERS),
        ("1.400181E+12", InvalidReason.CHARACTERS),
        ("G12345", InvalidReason.LENGTH),
        ("G40123456789X", InvalidReason.CHARACTERS),
        ("=HYPERLINK(1)", InvalidReason.CHARACTERS),
    ],
)
def test_invalid_identifiers(raw: str, reason: InvalidReason) -> None:
    result = classify_identifier(raw)
    assert (result.kind, result.reason) == (IdentifierKind.INVALID, reason)
    assert not result.is_usable
