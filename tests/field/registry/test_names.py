"""Name keys: titles, spacing, Unicode forms and typing slips fold away."""

from __future__ import annotations

import unicodedata

import pytest

from field.registry.names import clean_name, name_key, read_sex, split_title


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("ด.ช.สมชาย", ("ด.ช.", "สมชาย")),
        ("เด็กหญิง มาลี", ("เด็กหญิง", "มาลี")),
        ("นางสาวมาลี", ("นางสาว", "มาลี")),
        ("Mr. John", ("Mr.", "John")),
        ("Mrinal", ("", "Mrinal")),
        ("นายิกา", ("", "นายิกา")),  # a name, not นาย + ิกา
        ("นางาม", ("", "นางาม")),
    ],
)
def test_split_title(written: str, expected: tuple[str, str]) -> None:
    assert split_title(written) == expected


def test_variants_of_one_name_have_one_key() -> None:
    decomposed = unicodedata.normalize("NFD", "น้ำใส")
    assert clean_name("น\u0e4d\u0e49\u0e32ใส") == clean_name("น้ำใส") == clean_name(decomposed)
    assert name_key("ด.ญ.  มาลี", "ใจ  ดี") == name_key("มาลี", "ใจดี") == "มาลี ใจดี"
    assert name_key("Mr. John ", "SMITH") == "john smith"


@pytest.mark.parametrize(
    ("raw", "sex"),
    [
        ("ช", "M"),
        ("ชาย", "M"),
        ("M", "M"),
        ("1", "M"),
        ("ญ", "F"),
        ("หญิง", "F"),
        ("f", "F"),
        ("2", "F"),
        ("", ""),
        ("x", None),
    ],
)
def test_read_sex(raw: str, sex: str | None) -> None:
    assert read_sex(raw) == sex
