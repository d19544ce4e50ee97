"""Matching register rows without a usable ID to children of the population.

Pure: candidates come in as plain tuples, decisions go out. A row is compared
with the children born on its birth date, or on the date with day and month
swapped (a common slip: 03/04 for 04/03). The score is rapidfuzz's
``token_sort_ratio`` of the name keys (0-100; word order does not matter, as
registers swap first and last names), adjusted by the evidence around it:

- day and month swapped: -5;
- the school in the child's district: +4, in the child's province: +2 (a
  family that moved keeps its old address, so other areas are not penalised);
- a mistyped ID one or two digits away from the child's ID: +6, and it tells
  near-twins apart;
- two different valid IDs: -20 (namesakes born the same day are rare, but a
  valid ID is strong evidence of another child).

A match is taken when the best score reaches ``ACCEPT`` and leads the next
candidate by ``MARGIN`` (twins a letter apart are never told apart by the
machine; scores are compared before capping at 100); a row whose best
score is at least ``REVIEW`` but which is not taken goes to a coordinator with
its candidates. Nothing ambiguous is decided silently. Thresholds were set on
the demo and the benchmark registers (docs/benchmarks.md reports the precision
and recall they give).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final, Literal, NamedTuple

from rapidfuzz import fuzz, process

ACCEPT: Final = 88.0
MARGIN: Final = 8.0
REVIEW: Final = 75.0
CANDIDATES_SHOWN: Final = 3
SWAPPED_DATE: Final = -5.0
SAME_DISTRICT: Final = 4.0
SAME_PROVINCE: Final = 2.0
NEAR_ID: Final = 6.0
OTHER_ID: Final = -20.0
_VALID_ID_KINDS: Final = frozenset({"thai_id", "non_thai_id"})


class Candidate(NamedTuple):
    child: int
    name_key: str
    national_id: str
    id_kind: str
    subdistrict: str
    """The tambon code of the child's household, or ""."""


class Unmatched(NamedTuple):
    row: int
    name_key: str
    birth_date: date
    national_id: str
    id_kind: str
    subdistrict: str
    """The tambon code of the school, or ""."""


@dataclass(frozen=True, slots=True)
class Decision:
    row: int
    outcome: Literal["match", "review"]
    child: int | None
    score: float
    candidates: tuple[tuple[int, float], ...]


def swapped(day: date) -> date | None:
    """The date with day and month exchanged, when that is another real date."""
    if day.day > 12 or day.day == day.month:
        return None
    try:
        return day.replace(month=day.day, day=day.month)
    except ValueError:
        return None


def needed_dates(rows: Iterable[Unmatched]) -> set[date]:
    dates: set[date] = set()
    for row in rows:
        dates.add(row.birth_date)
        other = swapped(row.birth_date)
        if other is not None:
            dates.add(other)
    return dates


def _digits_apart(a: str, b: str) -> int:
    if len(a) != len(b):
        return 99
    return sum(x != y for x, y in zip(a, b, strict=True))


def _adjust(row: Unmatched, candidate: Candidate) -> float:
    bonus = 0.0
    if row.subdistrict and candidate.subdistrict:
        if row.subdistrict[:4] == candidate.subdistrict[:4]:
            bonus += SAME_DISTRICT
        elif row.subdistrict[:2] == candidate.subdistrict[:2]:
            bonus += SAME_PROVINCE
    if row.national_id and candidate.national_id and row.national_id != candidate.national_id:
        if row.id_kind in _VALID_ID_KINDS and candidate.id_kind in _VALID_ID_KINDS:
            bonus += OTHER_ID
        elif (
            row.id_kind == "invalid" and _digits_apart(row.national_id, candidate.national_id) <= 2
        ):
            bonus += NEAR_ID
    return bonus


def _near_id(row: Unmatched, candidate: Candidate) -> bool:
    return (
        row.id_kind == "invalid"
        and bool(candidate.national_id)
        and _digits_apart(row.national_id, candidate.national_id) <= 2
    )


def _scored(
    row: Unmatched, pool: Sequence[Candidate], penalty: float
) -> Iterator[tuple[int, float, bool]]:
    if not pool:
        return
    # A cut-off well below REVIEW: the adjustments can lift a candidate over it.
    found = process.extract(
        row.name_key,
        [c.name_key for c in pool],
        scorer=fuzz.token_sort_ratio,
        limit=CANDIDATES_SHOWN + 2,
        score_cutoff=REVIEW - SAME_DISTRICT - NEAR_ID,
    )
    for _, score, index in found:
        candidate = pool[index]
        # Not capped at 100 here: an exact name in the school's district must
        # still lead a namesake by its bonus.
        yield candidate.child, score + penalty + _adjust(row, candidate), _near_id(row, candidate)


def decide(row: Unmatched, by_date: Mapping[date, Sequence[Candidate]]) -> Decision | None:
    """The match or review for one row, or None when no child comes close."""
    best: dict[int, float] = {}
    near: set[int] = set()
    pools: list[tuple[Sequence[Candidate], float]] = [(by_date.get(row.birth_date, ()), 0.0)]
    other = swapped(row.birth_date)
    if other is not None:
        pools.append((by_date.get(other, ()), SWAPPED_DATE))
    for pool, penalty in pools:
        for child, score, near_id in _scored(row, pool, penalty):
            if score > best.get(child, -1.0):
                best[child] = score
            if near_id:
                near.add(child)
    ranked = sorted(best.items(), key=lambda item: (-item[1], item[0]))
    if not ranked or ranked[0][1] < REVIEW:
        return None
    top_child, top = ranked[0]
    runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
    shown = tuple(
        (c, round(min(s, 100.0), 1)) for c, s in ranked[:CANDIDATES_SHOWN] if s >= REVIEW - 10
    )
    # Twins a letter apart are within the margin of each other: for a person,
    # unless the row's mistyped ID is a digit or two from one of them only.
    clear = top - runner_up >= MARGIN or (
        top_child in near and len(ranked) > 1 and ranked[1][0] not in near
    )
    if top >= ACCEPT and clear:
        return Decision(row.row, "match", top_child, round(min(top, 100.0), 1), shown)
    return Decision(row.row, "review", None, round(min(top, 100.0), 1), shown)
