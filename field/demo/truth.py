"""The expected result of reconciling academic year 2568, written as truth.json.

Counts come from the outcomes the generator decided, not from re-reading the
files; the seed test checks that a reconciliation of the files agrees.
"""

from __future__ import annotations

from collections import Counter

from field.demo import config
from field.demo.ids import is_valid_national_id
from field.demo.records import Child, DemoData, EnrolmentRow, Outcome
from field.demo.schools import OTHER_CODE_PREFIX

DEFINITIONS = {
    "reference_date": "ages are completed years on 16/05/2568 BE (2025-05-16), "
    "the first day of academic year 2568",
    "in_window": "children aged 3 to 18 on the reference date",
    "enrolled": "in a 2568 register, matched by national ID, or by first name, last name "
    "and birth date where the register has a G code, a mistyped or a blank ID",
    "dropped_out": "not in a 2568 register but in a 2567 one, whatever its status, except "
    "those who graduated from the last level (includes pupils who finished "
    "ป.6 or ม.3 and went no further)",
    "graduated": "not in a 2568 register; their 2567 row has status graduated in grade "
    "ม.6 or ปวช.3: finished school, not unreached",
    "never_enrolled": "in no register of 2567 or 2568",
    "unreached": "dropped_out + never_enrolled",
    "mistyped_ids": "register rows whose 13-digit ID fails the checksum; name and birth date "
    "are the child's",
    "missing_ids": "register rows with a blank ID; name and birth date are the child's",
    "g_codes": "register rows of children without a Thai ID, known to the school by G + 12 digits",
}


def _outcomes(children: list[Child], keep: list[int]) -> dict[str, int]:
    counts = Counter(children[i].outcome for i in keep)
    return {o.value: counts[o] for o in Outcome if o is not Outcome.OUTSIDE_WINDOW}


def _faults(rows: list[EnrolmentRow], children: list[Child]) -> dict[str, object]:
    mistyped: list[dict[str, object]] = []
    counts: Counter[tuple[str, int]] = Counter()
    for row in rows:
        child = children[row.child]
        if row.national_id == child.national_id:
            continue
        kind = (
            "missing_ids"
            if row.national_id == ""
            else "g_codes"
            if row.national_id.startswith("G")
            else "mistyped_ids"
        )
        counts[(kind, row.academic_year)] += 1
        if kind == "mistyped_ids" and is_valid_national_id(row.national_id):
            raise RuntimeError(f"a mistyped ID passes the checksum: {row.national_id}")
        mistyped.append(
            {
                "file": f"enrolment_{row.affiliation}.csv",
                "academic_year": row.academic_year,
                "school_code": row.school_code,
                "written": row.national_id,
                "national_id": child.national_id,
                "kind": kind,
            }
        )
    years = (config.PREVIOUS_YEAR, config.ACADEMIC_YEAR)
    summary: dict[str, object] = {
        kind: {str(y): counts[(kind, y)] for y in years}
        for kind in ("mistyped_ids", "missing_ids", "g_codes")
    }
    summary["rows"] = mistyped
    return summary


def make_truth(data: DemoData) -> dict[str, object]:
    children = data.children
    in_window = [i for i, c in enumerate(children) if c.outcome is not Outcome.OUTSIDE_WINDOW]
    outcomes = _outcomes(children, in_window)
    stateless = [i for i in in_window if children[i].stateless]
    rows_2568 = [r for r in data.enrolment if r.academic_year == config.ACADEMIC_YEAR]
    ids_2568 = {r.national_id for r in rows_2568}
    districts = {t.code: t.district_code for t in data.tambons}
    village_tambon = {v.code: v.tambon for v in data.villages}

    def district_of(child: Child) -> str:
        return districts[village_tambon[data.households[child.household].village]]

    register_rows = Counter((r.affiliation, r.academic_year) for r in data.enrolment)
    outside = [c.age for c in children if c.outcome is Outcome.OUTSIDE_WINDOW]
    small = [s for s in data.schools if s.students <= 120]
    return {
        "synthetic": True,
        "note": "SYNTHETIC demo data: no real person, household or school record.",
        "seed": config.SEED,
        "province": config.PROVINCE,
        "districts": list(config.DISTRICTS),
        "academic_year": config.ACADEMIC_YEAR,
        "reference_date": config.REFERENCE_DATE.strftime("%d/%m/") + str(config.ACADEMIC_YEAR),
        "age_window": [config.MIN_AGE, config.MAX_AGE],
        "population_rows": len(children),
        "outside_window": {
            "total": len(outside),
            "under_3": sum(a < 3 for a in outside),
            "over_18": sum(a > 18 for a in outside),
        },
        "in_window": len(in_window),
        **outcomes,
        "unreached": outcomes["dropped_out"] + outcomes["never_enrolled"],
        "stateless": {
            "total": len(stateless),
            **_outcomes(children, stateless),
            "g_coded": sum(children[i].g_coded for i in stateless),
        },
        # What matching on the exact ID alone would miss: a reconciler must do better.
        "in_window_without_exact_id_in_2568": sum(
            children[i].national_id not in ids_2568 for i in in_window
        ),
        "by_district": {
            d: dict(
                sorted(
                    Counter(
                        children[i].outcome.value
                        for i in in_window
                        if district_of(children[i]) == d
                    ).items()
                )
            )
            for d in config.DISTRICTS
        },
        "schools": {
            "total": len(data.schools),
            "small": len(small),
            "by_affiliation": dict(sorted(Counter(s.affiliation for s in data.schools).items())),
        },
        "school_code_prefixes": {"obec": "10", **OTHER_CODE_PREFIX},
        "villages": len(data.villages),
        "clusters": len(data.clusters),
        "households": len(data.households),
        "register_rows": {
            f"enrolment_{a}.csv": {
                str(y): register_rows[(a, y)] for y in (config.PREVIOUS_YEAR, config.ACADEMIC_YEAR)
            }
            for a in sorted({a for a, _ in register_rows})
        },
        "register_faults": _faults(data.enrolment, children),
        "never_enrolled_ids": sorted(
            children[i].national_id
            for i in in_window
            if children[i].outcome is Outcome.NEVER_ENROLLED
        ),
        "dropped_out_ids": sorted(
            children[i].national_id for i in in_window if children[i].outcome is Outcome.DROPPED_OUT
        ),
        "definitions": DEFINITIONS,
    }
