"""Enrolment registers of academic years 2567 and 2568, from the children's outcomes.

Pupils go to the nearest school that teaches their grade and still has room;
small schools get at most 118 places, so they stay small. The registers then
carry the faults of real ones: mistyped and missing IDs, and G codes for
children without a Thai ID.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

import numpy as np

from field.demo import config
from field.demo.ids import make_g_code, mistype
from field.demo.population import largest_remainder
from field.demo.records import Child, EnrolmentRow, Household, Outcome, SchoolRecord
from field.demo.schools import LOW, NFE, PRE, PRI, UP, VOC

FINAL_GRADES = ("ม.6", "ปวช.3")
# Grades a pupil completes before changing school level.
LEVEL_END_GRADES = ("อ.3", "ป.6", "ม.3")
# How the 2567 register last saw a child who is gone in 2568.
DROPOUT_STATUSES = ("left", "studying", "moved")
DROPOUT_WEIGHTS = (0.55, 0.30, 0.15)
# Grade years per level, to share a small school's places among its levels.
LEVEL_YEARS = {PRE: 3, PRI: 6, LOW: 3, UP: 3}
_X_SCALE = math.cos(math.radians(16.4))  # Khon Kaen's latitude


def grade(age: int, track: str) -> tuple[str, str] | None:
    """(school level, grade label) of a pupil of ``age`` on the year's first day."""
    if age < 3:
        return None
    if age <= 5:
        return PRE, f"อ.{age - 2}"
    if age <= 11:
        return PRI, f"ป.{age - 5}"
    if age <= 14:
        return LOW, f"ม.{age - 11}"
    if age <= 17:
        if track == "vocational":
            return VOC, f"ปวช.{age - 14}"
        if track == "nonformal":
            return NFE, "ม.ปลาย"
        return UP, f"ม.{age - 11}"
    if age == 18 and track == "vocational":
        return VOC, "ปวส.1"
    return None


def grade_of(age: int, track: str) -> tuple[str, str]:
    """``grade`` for a child known to be in school that year."""
    found = grade(age, track)
    if found is None:
        raise ValueError(f"no grade at age {age} on the {track} track")
    return found


class _Schools:
    """Nearest-school lookups per level, on household coordinates."""

    def __init__(self, schools: list[SchoolRecord]) -> None:
        self.schools = schools
        self.by_level: dict[str, list[int]] = {}
        for index, school in enumerate(schools):
            for level in school.levels:
                self.by_level.setdefault(level, []).append(index)
        self.xy = np.array([(s.xy[0] * _X_SCALE, s.xy[1]) for s in schools])
        self.candidates = {
            (level, boy): np.array([i for i in found if boy or not schools[i].boys_only])
            for level, found in self.by_level.items()
            for boy in (False, True)
        }

    def nearest(self, level: str, xy: tuple[float, float], *, boy: bool) -> list[int]:
        """Schools teaching ``level`` that take this pupil, nearest first."""
        candidates = self.candidates[(level, boy)]
        offsets = self.xy[candidates] - (xy[0] * _X_SCALE, xy[1])
        order = np.argsort(np.einsum("ij,ij->i", offsets, offsets), kind="stable")
        return [int(i) for i in candidates[order]]


LARGE_SCHOOL_FLOOR = 130


def _quotas(
    rng: random.Random, schools: list[SchoolRecord], demand: dict[str, int]
) -> list[dict[str, int]]:
    """Places per school and level, summing to the demand of each level."""
    quotas: list[dict[str, int]] = [{} for _ in schools]
    for index, school in enumerate(schools):
        if school.small:
            places = rng.randint(25, 118)
            shares = largest_remainder(places, [LEVEL_YEARS[lv] for lv in school.levels])
            quotas[index] = dict(zip(school.levels, shares, strict=True))
    for level, pupils in sorted(demand.items()):
        left = pupils - sum(q.get(level, 0) for q in quotas)
        large = [i for i, s in enumerate(schools) if level in s.levels and not s.small]
        for i, n in zip(
            large, largest_remainder(left, [rng.uniform(1, 3) for _ in large]), strict=True
        ):
            quotas[i][level] = n
    _lift_large_schools(schools, quotas)
    return quotas


def _lift_large_schools(schools: list[SchoolRecord], quotas: list[dict[str, int]]) -> None:
    """Moves places from the biggest school of a level to any large school left
    with fewer than LARGE_SCHOOL_FLOOR, so that no large school turns small."""
    for index, school in enumerate(schools):
        while not school.small and sum(quotas[index].values()) < LARGE_SCHOOL_FLOOR:
            level = school.levels[0]
            donor = max(
                (
                    i
                    for i, s in enumerate(schools)
                    if level in s.levels and not s.small and i != index
                ),
                key=lambda i: (sum(quotas[i].values()), -i),
            )
            move = min(
                LARGE_SCHOOL_FLOOR - sum(quotas[index].values()),
                sum(quotas[donor].values()) - LARGE_SCHOOL_FLOOR,
                quotas[donor][level],
            )
            if move <= 0:
                raise RuntimeError(f"demo generator: too few pupils for {school.code}")
            quotas[donor][level] -= move
            quotas[index][level] += move


def _fill_boys_only(
    lookup: _Schools,
    children: list[Child],
    households: list[Household],
    pupils: list[int],
    levels: dict[int, str],
    quotas: list[dict[str, int]],
    placed: dict[int, int],
) -> None:
    """Boys-only schools first take the nearest boys, so their places are not
    left over at the end for girls who cannot take them."""
    for index, school in enumerate(lookup.schools):
        if not school.boys_only:
            continue
        for level in school.levels:
            boys = [
                i
                for i in pupils
                if levels[i] == level and children[i].sex == "ช" and i not in placed
            ]
            sx, sy = lookup.xy[index]
            boys.sort(
                key=lambda i: (
                    (households[children[i].household].xy[0] * _X_SCALE - sx) ** 2
                    + (households[children[i].household].xy[1] - sy) ** 2,
                    i,
                )
            )
            for i in boys[: quotas[index].get(level, 0)]:
                placed[i] = index
            quotas[index][level] = max(0, quotas[index].get(level, 0) - len(boys))


def assign_schools(
    rng: random.Random,
    schools: list[SchoolRecord],
    children: list[Child],
    households: list[Household],
) -> dict[int, int]:
    """Child index -> school index for academic year 2568."""
    lookup = _Schools(schools)
    pupils = [i for i, c in enumerate(children) if c.outcome is Outcome.ENROLLED]
    levels = {i: grade_of(children[i].age, children[i].track)[0] for i in pupils}
    demand: dict[str, int] = {}
    for level in levels.values():
        demand[level] = demand.get(level, 0) + 1
    quotas = _quotas(rng, schools, demand)
    placed: dict[int, int] = {}
    _fill_boys_only(lookup, children, households, pupils, levels, quotas, placed)
    rng.shuffle(pupils)
    for i in pupils:
        if i in placed:
            continue
        level = levels[i]
        child = children[i]
        ranked = lookup.nearest(level, households[child.household].xy, boy=child.sex == "ช")
        # A safety net: should places run out, the nearest large school takes the
        # pupil over its share (small schools never do, so they stay small).
        free = (s for s in ranked if quotas[s].get(level, 0) > 0)
        school = next(free, None)
        if school is None:
            school = next(s for s in ranked if not schools[s].small)
        quotas[school][level] = quotas[school].get(level, 0) - 1
        placed[i] = school
    for school_index in placed.values():
        schools[school_index].students += 1
    _check_sizes(schools)
    return placed


def _check_sizes(schools: Sequence[SchoolRecord]) -> None:
    for school in schools:
        if school.small != (school.students <= 120):
            raise RuntimeError(
                f"demo generator: {school.code} has {school.students} pupils"
                f" but small={school.small}"
            )


class _Register:
    """Writes register rows as schools keep them, with their faults."""

    def __init__(self, rng: random.Random, schools: list[SchoolRecord]) -> None:
        self.rng = rng
        self.schools = schools
        self.rows: list[EnrolmentRow] = []
        # Each school gives a pupil without an ID its own G code, kept across years.
        self.g_codes: dict[tuple[int, str], str] = {}
        self.g_codes_taken: set[str] = set()

    def add(
        self, index: int, child: Child, school: int, label: str, year: int, status: str
    ) -> None:
        record = self.schools[school]
        if child.g_coded:
            key = (index, record.code)
            if key not in self.g_codes:
                code = make_g_code(self.rng, province=config.PROVINCE)
                while code in self.g_codes_taken:
                    code = make_g_code(self.rng, province=config.PROVINCE)
                self.g_codes[key] = code
                self.g_codes_taken.add(code)
            written = self.g_codes[key]
        else:
            r = self.rng.random()
            written = (
                mistype(self.rng, child.national_id)
                if r < config.MISTYPED_SHARE
                else ""
                if r < config.MISTYPED_SHARE + config.MISSING_ID_SHARE
                else child.national_id
            )
        self.rows.append(
            EnrolmentRow(
                record.affiliation,
                written,
                child.first_name,
                child.last_name,
                child.birth_date,
                record.code,
                record.name,
                label,
                year,
                status,
                index,
            )
        )


def make_registers(
    rng: random.Random,
    schools: list[SchoolRecord],
    children: list[Child],
    households: list[Household],
) -> list[EnrolmentRow]:
    placed = assign_schools(rng, schools, children, households)
    lookup = _Schools(schools)
    register = _Register(rng, schools)
    for index, child in enumerate(children):
        boy = child.sex == "ช"
        xy = households[child.household].xy
        before = grade(child.age - 1, child.track)
        if child.outcome is Outcome.ENROLLED:
            now = grade_of(child.age, child.track)
            school = placed[index]
            register.add(index, child, school, now[1], config.ACADEMIC_YEAR, "studying")
            if before is None:
                continue
            if before[0] in schools[school].levels:
                if before[0] == now[0] and rng.random() < config.MOVED_SHARE:
                    elsewhere = [s for s in lookup.nearest(before[0], xy, boy=boy) if s != school]
                    register.add(
                        index, child, elsewhere[0], before[1], config.PREVIOUS_YEAR, "moved"
                    )
                    continue
                status = "graduated" if before[1] in FINAL_GRADES else "studying"
                register.add(index, child, school, before[1], config.PREVIOUS_YEAR, status)
            else:
                # Changed school with the level: finished the last grade of the old one.
                first = lookup.nearest(before[0], xy, boy=boy)[0]
                register.add(index, child, first, before[1], config.PREVIOUS_YEAR, "graduated")
        elif child.outcome is Outcome.DROPPED_OUT:
            level, label = grade_of(child.age - 1, child.track)  # dropouts are 7 or older
            school = rng.choice(lookup.nearest(level, xy, boy=boy)[:3])
            if label in LEVEL_END_GRADES and rng.random() < 0.5:
                status = "graduated"  # finished ป.6 or ม.3 and went no further
            else:
                status = rng.choices(DROPOUT_STATUSES, DROPOUT_WEIGHTS)[0]
            register.add(index, child, school, label, config.PREVIOUS_YEAR, status)
        elif child.outcome is Outcome.GRADUATED:
            level, label = grade_of(child.age - 1, child.track)  # ม.6 or ปวช.3
            school = lookup.nearest(level, xy, boy=boy)[0]
            register.add(index, child, school, label, config.PREVIOUS_YEAR, "graduated")
    return sorted(register.rows, key=_row_order)


_GRADE_ORDER = {
    g: n
    for n, g in enumerate(
        [
            "อ.1",
            "อ.2",
            "อ.3",
            *(f"ป.{n}" for n in range(1, 7)),
            *(f"ม.{n}" for n in range(1, 7)),
            "ม.ปลาย",
            "ปวช.1",
            "ปวช.2",
            "ปวช.3",
            "ปวส.1",
        ]
    )
}


def _row_order(row: EnrolmentRow) -> tuple[str, int, str, int, str, str, int]:
    return (
        row.affiliation,
        row.academic_year,
        row.school_code,
        _GRADE_ORDER[row.grade],
        row.last_name,
        row.first_name,
        row.child,
    )
