"""The name matcher on its own: scores, swapped dates, ambiguity, ID evidence."""

from __future__ import annotations

import datetime as dt

from field.registry.matching import (
    ACCEPT,
    Candidate,
    Unmatched,
    decide,
    needed_dates,
    swapped,
)
from field.registry.names import name_key

BORN = dt.date(2015, 3, 4)


def row(name: str, born: dt.date = BORN, national_id: str = "", kind: str = "blank") -> Unmatched:
    return Unmatched(1, name, born, national_id, kind, "400101")


def child(
    pk: int, name: str, national_id: str = "", kind: str = "thai_id", at: str = "400101"
) -> Candidate:
    return Candidate(pk, name, national_id, kind, at)


def test_swapped_dates() -> None:
    assert swapped(dt.date(2015, 3, 4)) == dt.date(2015, 4, 3)
    assert swapped(dt.date(2015, 3, 13)) is None  # no 13th month
    assert swapped(dt.date(2015, 5, 5)) is None  # the same date
    assert needed_dates([row("a")]) == {dt.date(2015, 3, 4), dt.date(2015, 4, 3)}


def test_a_misspelt_name_on_the_same_day_is_matched() -> None:
    pool = {BORN: [child(7, name_key("สมชาย", "ใจดี")), child(8, name_key("มานี", "มีนา"))]}
    found = decide(row(name_key("ด.ช. สมชาย", "ใจดีี")), pool)
    assert found is not None and found.outcome == "match" and found.child == 7
    assert found.score >= ACCEPT


def test_day_and_month_swapped_is_matched_with_a_lower_score() -> None:
    pool = {dt.date(2015, 4, 3): [child(7, name_key("สมชาย", "ใจดี"))]}
    found = decide(row(name_key("สมชาย", "ใจดี")), pool)
    assert found is not None and found.child == 7 and found.score < 100


def test_twins_with_near_names_go_to_review_not_to_a_guess() -> None:
    pool = {BORN: [child(7, name_key("สมชาย", "ใจดี")), child(8, name_key("สมชัย", "ใจดี"))]}
    # A letter away from each twin: nothing tells them apart.
    found = decide(row(name_key("สมชย", "ใจดี")), pool)
    assert found is not None and found.outcome == "review" and found.child is None
    assert {c for c, _ in found.candidates} == {7, 8}


def test_an_exact_name_beats_a_namesake_by_the_margin() -> None:
    pool = {BORN: [child(7, name_key("สายสุนีย์", "ทองมา")), child(8, name_key("สายสุนีย์", "ทองคำ"))]}
    found = decide(row(name_key("สายสุนีย์", "ทองมา")), pool)
    assert found is not None and (found.outcome, found.child) == ("match", 7)


def test_a_stranger_is_left_unmatched() -> None:
    pool = {BORN: [child(7, name_key("มานี", "มีนา"))]}
    assert decide(row(name_key("สมชาย", "ใจดี")), pool) is None


def test_a_different_valid_id_is_evidence_against() -> None:
    pool = {BORN: [child(7, name_key("สมชาย", "ใจดี"), "1100100000011")]}
    other = row(name_key("สมชาย", "ใจดี"), national_id="1100100000029", kind="thai_id")
    found = decide(other, pool)
    assert found is None or found.outcome == "review"


def test_a_mistyped_id_near_the_childs_breaks_a_tie() -> None:
    pool = {
        BORN: [
            child(7, name_key("สมชาย", "ใจดี"), "1100100000011"),
            child(8, name_key("สมชัย", "ใจดี"), "1400100000099"),
        ]
    }
    mistyped = row(name_key("สมชาย", "ใจดี"), national_id="1100100000012", kind="invalid")
    found = decide(mistyped, pool)
    assert found is not None and found.outcome == "match" and found.child == 7
