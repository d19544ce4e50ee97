"""Finding the unreached: the population minus every school register, as cases.

``reconcile`` (the ``find_unreached`` command) runs in one transaction:

1. Register rows not yet matched are matched to children: by national ID or G
   code first, then by name, birth date and area (``field.registry.matching``);
   doubtful rows go to a coordinator's review list, never guessed.
2. Every child in the age window on the academic year's first day (16 May) is
   classed: enrolled (in a register of the year), dropped out (only in earlier
   years' registers, and not graduated from the last grade), never enrolled (in
   no register), graduated, or waiting for a review. The classes are saved per
   child and year (``ChildYear``), which the funnel reads.
3. Cases follow the classes: a newly unreached child opens a case; an open case
   whose child is now enrolled closes as "found enrolled" (or finished school,
   or aged out). Visits, notes and households placed in the field belong to the
   case and its household and are never touched here.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any, Final

from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from field.models import (
    Case,
    CaseKind,
    CaseStatus,
    ChildStatus,
    CloseReason,
    MatchMethod,
    MatchReview,
    Reconciliation,
    ReviewStatus,
)
from field.registry.enrolment import BE_OFFSET, FINAL_GRADES
from field.registry.matching import Candidate, Decision, Unmatched, decide, swapped
from field.services.imports import copy_rows, timed

# The Thai academic year opens in mid-May; ages are counted on that day.
YEAR_START: Final = (5, 16)
_ID_KINDS: Final = ("thai_id", "non_thai_id", "g_code")


def reference_date(academic_year: int) -> dt.date:
    return dt.date(academic_year - BE_OFFSET, *YEAR_START)


@transaction.atomic
def reconcile(
    *,
    academic_year: int,
    by: User | None = None,
    min_age: int | None = None,
    max_age: int | None = None,
) -> Reconciliation:
    """Matches, classes and updates cases for ``academic_year`` (Buddhist era)."""
    low = settings.TARGET_MIN_AGE if min_age is None else min_age
    high = settings.TARGET_MAX_AGE if max_age is None else max_age
    if not 0 <= low <= high <= 25:
        raise ValueError(f"age window {low}-{high} is not a window of school ages")
    if not 2500 <= academic_year <= 2700:
        raise ValueError(f"academic year {academic_year} is not a Buddhist-era year (e.g. 2568)")
    now = timezone.now()
    day = reference_date(academic_year)
    with connection.cursor() as cursor:
        with timed("match by ID"):
            by_id = _match_by_id(cursor, academic_year)
        with timed("match by name"):
            by_name, to_review = _match_by_name(cursor, academic_year, now)
        with timed("classify"):
            classes = _classify(cursor, academic_year, day, low, high)
        with timed("cases"):
            cases = _update_cases(cursor, academic_year, now)
    counts: dict[str, Any] = {
        "academic_year": academic_year,
        "reference_date": day.isoformat(),
        "age_window": [low, high],
        **classes,
        "unreached": classes["dropped_out"] + classes["never_enrolled"],
        **cases,
        "matched_by_id": by_id,
        "matched_by_name": by_name,
        "sent_to_review": to_review,
        "review_rows_open": MatchReview.objects.filter(status=ReviewStatus.OPEN).count(),
    }
    return Reconciliation.objects.create(
        academic_year=academic_year,
        reference_date=day,
        min_age=low,
        max_age=high,
        at=now,
        by=by,
        counts=counts,
    )


def _match_by_id(cursor: Any, year: int) -> int:
    # Rows imported before the population are matched here; the importer
    # matches the rest by ID as it saves them.
    cursor.execute(
        """
        UPDATE field_enrolment e SET child_id = c.id, match_method = %s, match_score = 100
        FROM field_child c
        WHERE e.match_method = '' AND e.academic_year <= %s
          AND e.id_kind IN %s AND c.key = e.national_id
        """,
        [MatchMethod.ID, year, _ID_KINDS],
    )
    return int(cursor.rowcount)


def _match_by_name(cursor: Any, year: int, now: dt.datetime) -> tuple[int, int]:
    cursor.execute(
        """
        SELECT e.id, e.name_key, e.birth_date, e.national_id, e.id_kind,
               coalesce(s.subdistrict_id, '')
        FROM field_enrolment e LEFT JOIN field_school s ON s.id = e.school_id
        WHERE e.match_method = '' AND e.birth_date IS NOT NULL AND e.academic_year <= %s
        """,
        [year],
    )
    rows = [Unmatched(*r) for r in cursor.fetchall()]
    if not rows:
        return 0, 0
    pools = _candidate_pools(cursor, rows)
    decisions = [d for d in (decide(row, pools.get(row.row, {})) for row in rows) if d is not None]
    matches = [d for d in decisions if d.outcome == "match"]
    reviews = [d for d in decisions if d.outcome == "review"]
    _save_matches(cursor, matches)
    _save_reviews(cursor, reviews, now)
    return len(matches), len(reviews)


def _candidate_pools(
    cursor: Any, rows: list[Unmatched]
) -> dict[int, dict[dt.date, list[Candidate]]]:
    """The children each row could be, by birth date, found by the database.

    Blocking: born on the row's date or with day and month swapped, and the
    first or the last name the same (in either order; names are compared as
    keys, so titles, spacing and typing slips do not count). A true match fails
    that only with both names misspelt; the pairs to score fall from about 300
    per row to one or two (the first letters alone left 30: Thai names share
    few initial letters).
    """
    cursor.execute(
        "CREATE TEMPORARY TABLE takhai_unmatched (id bigint, born date, swapped date, "
        "first_name text, last_name text) ON COMMIT DROP"
    )
    copy_rows(
        "takhai_unmatched",
        ("id", "born", "swapped", "first_name", "last_name"),
        [
            (
                r.row,
                r.birth_date,
                swapped(r.birth_date),
                r.name_key.partition(" ")[0],
                r.name_key.partition(" ")[2],
            )
            for r in rows
        ],
    )
    cursor.execute("ANALYZE takhai_unmatched")
    # Two equi-joins, not one join on "born OR swapped", which PostgreSQL can
    # only run as a nested loop over every child.
    shared_name = (
        "(split_part(c.name_key, ' ', 1) IN (u.first_name, u.last_name)"
        " OR split_part(c.name_key, ' ', 2) IN (u.first_name, u.last_name))"
    )
    pick = (
        "SELECT u.id, c.birth_date, c.id, c.name_key, c.national_id, c.id_kind, "  # noqa: S608
        "coalesce(h.subdistrict_id, '') FROM takhai_unmatched u "
        "JOIN field_child c ON c.birth_date = u.{day} "
        "JOIN field_household h ON h.id = c.household_id WHERE " + shared_name
    )
    cursor.execute(pick.format(day="born") + " UNION ALL " + pick.format(day="swapped"))
    pools: dict[int, dict[dt.date, list[Candidate]]] = defaultdict(lambda: defaultdict(list))
    for row, born, *rest in cursor.fetchall():
        pools[row][born].append(Candidate(*rest))
    cursor.execute("DROP TABLE takhai_unmatched")
    return pools


def _save_matches(cursor: Any, matches: list[Decision]) -> None:
    if not matches:
        return
    cursor.execute(
        "CREATE TEMPORARY TABLE takhai_matches (row bigint, child bigint, score float8) "
        "ON COMMIT DROP"
    )
    copy_rows(
        "takhai_matches", ("row", "child", "score"), [(d.row, d.child, d.score) for d in matches]
    )
    cursor.execute(
        """
        UPDATE field_enrolment e SET child_id = m.child, match_method = %s, match_score = m.score
        FROM takhai_matches m WHERE e.id = m.row
        """,
        [MatchMethod.NAME],
    )
    cursor.execute("DROP TABLE takhai_matches")


def _save_reviews(cursor: Any, reviews: list[Decision], now: dt.datetime) -> None:
    if not reviews:
        return
    MatchReview.objects.bulk_create(
        [
            MatchReview(
                enrolment_id=d.row,
                candidates=[{"child": c, "score": s} for c, s in d.candidates],
                created_at=now,
            )
            for d in reviews
        ]
    )
    cursor.execute(
        "UPDATE field_enrolment SET match_method = %s WHERE id = ANY(%s)",
        [MatchMethod.REVIEW, [d.row for d in reviews]],
    )


def _classify(cursor: Any, year: int, day: dt.date, low: int, high: int) -> dict[str, int]:
    """Writes the ChildYear rows of ``year``; returns the count of each class."""
    # Ages in completed years on ``day``: born after day - (high + 1) years and
    # on or before day - low years.
    oldest = _years_before(day, high + 1)
    youngest = _years_before(day, low)
    young, old = settings.COMPULSORY_AGES
    cursor.execute("DELETE FROM field_childyear WHERE academic_year = %s", [year])
    cursor.execute(
        """
        WITH win AS (
            SELECT c.id, date_part('year', age(%(day)s::date, c.birth_date))::int AS age
            FROM field_child c
            WHERE c.birth_date > %(oldest)s AND c.birth_date <= %(youngest)s
        ),
        now_enrolled AS (
            SELECT DISTINCT child_id FROM field_enrolment
            WHERE academic_year = %(year)s AND child_id IS NOT NULL
        ),
        last_seen AS (
            SELECT DISTINCT ON (child_id) child_id, status, grade FROM field_enrolment
            WHERE academic_year < %(year)s AND child_id IS NOT NULL
            ORDER BY child_id, academic_year DESC, (status = 'graduated') DESC
        ),
        in_review AS (
            SELECT DISTINCT (jsonb_array_elements(r.candidates) ->> 'child')::bigint AS child_id
            FROM field_matchreview r JOIN field_enrolment e ON e.id = r.enrolment_id
            WHERE r.status = 'open' AND e.academic_year <= %(year)s
        )
        INSERT INTO field_childyear (academic_year, child_id, status, age, compulsory)
        SELECT %(year)s, win.id,
            CASE WHEN n.child_id IS NOT NULL THEN %(enrolled)s
                 WHEN r.child_id IS NOT NULL THEN %(review)s
                 WHEN l.child_id IS NULL THEN %(never)s
                 WHEN l.status = 'graduated' AND l.grade = ANY(%(final)s) THEN %(graduated)s
                 ELSE %(dropped)s END,
            win.age, win.age BETWEEN %(young)s AND %(old)s
        FROM win
        LEFT JOIN now_enrolled n ON n.child_id = win.id
        LEFT JOIN last_seen l ON l.child_id = win.id
        LEFT JOIN in_review r ON r.child_id = win.id
        """,
        {
            "day": day,
            "oldest": oldest,
            "youngest": youngest,
            "year": year,
            "final": list(FINAL_GRADES),
            "young": young,
            "old": old,
            "enrolled": ChildStatus.ENROLLED,
            "review": ChildStatus.REVIEW,
            "never": ChildStatus.NEVER_ENROLLED,
            "graduated": ChildStatus.GRADUATED,
            "dropped": ChildStatus.DROPPED_OUT,
        },
    )
    cursor.execute(
        """
        SELECT status, count(*), count(*) FILTER (WHERE compulsory)
        FROM field_childyear WHERE academic_year = %s GROUP BY status
        """,
        [year],
    )
    found = {status: (total, compulsory) for status, total, compulsory in cursor.fetchall()}
    counts = {status.value: found.get(status.value, (0, 0))[0] for status in ChildStatus}
    counts["in_window"] = sum(total for total, _ in found.values())
    counts["compulsory_age"] = sum(compulsory for _, compulsory in found.values())
    counts["unreached_compulsory_age"] = sum(
        found.get(s, (0, 0))[1] for s in (ChildStatus.DROPPED_OUT, ChildStatus.NEVER_ENROLLED)
    )
    return counts


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _update_cases(cursor: Any, year: int, now: dt.datetime) -> dict[str, int]:
    unreached = [ChildStatus.DROPPED_OUT.value, ChildStatus.NEVER_ENROLLED.value]
    # Cases opened for a later year are that year's business.
    cursor.execute(
        """
        UPDATE field_case k SET status = %(closed)s, closed_at = %(now)s, updated_at = %(now)s,
            close_reason = CASE y.status
                WHEN %(enrolled)s THEN %(found)s
                WHEN %(graduated)s THEN %(finished)s
                ELSE %(aged_out)s END
        FROM field_case o LEFT JOIN field_childyear y
            ON y.child_id = o.child_id AND y.academic_year = %(year)s
        WHERE k.id = o.id AND o.status = %(open)s AND o.academic_year <= %(year)s
          AND (y.status IS NULL OR y.status IN (%(enrolled)s, %(graduated)s))
        RETURNING k.close_reason
        """,
        {
            "closed": CaseStatus.CLOSED,
            "open": CaseStatus.OPEN,
            "now": now,
            "year": year,
            "enrolled": ChildStatus.ENROLLED,
            "graduated": ChildStatus.GRADUATED,
            "found": CloseReason.FOUND_ENROLLED,
            "finished": CloseReason.FINISHED_SCHOOL,
            "aged_out": CloseReason.OUT_OF_WINDOW,
        },
    )
    reasons = [reason for (reason,) in cursor.fetchall()]
    # A child first seen as never enrolled may turn out, from an older register
    # imported later, to have dropped out: the kind follows, the case stays.
    cursor.execute(
        """
        UPDATE field_case k SET kind = y.status, updated_at = %s
        FROM field_childyear y
        WHERE y.child_id = k.child_id AND y.academic_year = %s AND k.status = %s
          AND y.status = ANY(%s) AND k.kind <> y.status
        """,
        [now, year, CaseStatus.OPEN, unreached],
    )
    changed = int(cursor.rowcount)
    cursor.execute(
        """
        INSERT INTO field_case
            (child_id, kind, status, academic_year, opened_at, close_reason, note, updated_at)
        SELECT y.child_id, y.status, %s, %s, %s, '', '', %s
        FROM field_childyear y
        WHERE y.academic_year = %s AND y.status = ANY(%s)
          AND NOT EXISTS (
              SELECT 1 FROM field_case k WHERE k.child_id = y.child_id AND k.status = %s)
          -- A coordinator found this record to be another case's child: a new
          -- case would bring the duplicate back at every run.
          AND NOT EXISTS (
              SELECT 1 FROM field_case d
              WHERE d.child_id = y.child_id AND d.close_reason = %s)
        """,
        [
            CaseStatus.OPEN,
            year,
            now,
            now,
            year,
            unreached,
            CaseStatus.OPEN,
            CloseReason.DUPLICATE,
        ],
    )
    opened = int(cursor.rowcount)
    open_now = dict(
        Case.objects.filter(status=CaseStatus.OPEN)
        .values_list("kind")
        .annotate(n=Count("id"))
        .values_list("kind", "n")
    )
    return {
        "opened": opened,
        "closed": len(reasons),
        "closed_found_enrolled": reasons.count(CloseReason.FOUND_ENROLLED),
        "closed_finished_school": reasons.count(CloseReason.FINISHED_SCHOOL),
        "closed_out_of_window": reasons.count(CloseReason.OUT_OF_WINDOW),
        "kind_changed": changed,
        "open_cases": sum(open_now.values()),
        **{f"open_{kind}": open_now.get(kind, 0) for kind in CaseKind.values},
    }
