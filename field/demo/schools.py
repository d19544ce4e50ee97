"""About 150 synthetic schools of six affiliations, 90 of them small.

OBEC codes follow OBEC's 10-digit form (see ``ids.obec_school_code``); the other
affiliations' codes are invented 10-digit numbers: a prefix per affiliation, the
tambon code and a sequence.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from field.demo import config
from field.demo.ids import obec_school_code
from field.demo.names import SCHOOL_PATTERNS
from field.demo.records import SchoolRecord, Tambon, VillageRecord

PRE, PRI, LOW, UP = "preprimary", "primary", "lower_secondary", "upper_secondary"
VOC, NFE = "vocational", "nonformal"

OTHER_CODE_PREFIX = {"lao": "11", "ovec": "13", "opec": "20", "onab": "30", "nfe": "50"}


@dataclass(frozen=True)
class Batch:
    kind: str  # a key of SCHOOL_PATTERNS
    affiliation: str
    count: int
    small: bool
    levels: tuple[str, ...]
    boys_only: bool = False


PLAN = (
    Batch("obec_small", "obec", 64, True, (PRE, PRI)),
    # ขยายโอกาส: small village schools that go on to lower secondary.
    Batch("obec_small", "obec", 20, True, (PRE, PRI, LOW)),
    Batch("obec_primary", "obec", 18, False, (PRE, PRI)),
    Batch("obec_primary", "obec", 6, False, (PRE, PRI, LOW)),
    Batch("obec_secondary", "obec", 12, False, (LOW, UP)),
    Batch("lao", "lao", 4, True, (PRE, PRI)),
    Batch("lao", "lao", 4, False, (PRE, PRI, LOW)),
    Batch("lao", "lao", 2, False, (PRE, PRI, LOW, UP)),
    Batch("opec", "opec", 6, False, (PRE, PRI)),
    Batch("opec", "opec", 3, False, (PRE, PRI, LOW, UP)),
    # Monastic schools teach novices: boys only.
    Batch("onab", "onab", 2, True, (LOW, UP), boys_only=True),
    Batch("onab", "onab", 1, False, (LOW, UP), boys_only=True),
    Batch("nfe", "nfe", 5, False, (NFE,)),
    Batch("ovec", "ovec", 3, False, (VOC,)),
)


def _short_district(name: str) -> str:
    # เมืองขอนแก่น's college is วิทยาลัยเทคนิคขอนแก่น, not ...เมืองขอนแก่น.
    return name.removeprefix("เมือง")


def _name(
    rng: random.Random, batch: Batch, village: VillageRecord, tambon: Tambon, taken: set[str]
) -> str:
    patterns = list(SCHOOL_PATTERNS[batch.kind])
    rng.shuffle(patterns)
    fields = {
        "v": village.name.removeprefix("บ้าน"),
        "t": tambon.name_th,
        "d": _short_district(tambon.district_name),
    }
    for pattern in patterns:
        name = pattern.format(**fields)
        if name not in taken:
            taken.add(name)
            return name
    number = 2
    while f"{name} {number}" in taken:
        number += 1
    taken.add(f"{name} {number}")
    return f"{name} {number}"


def _host_villages(
    rng: random.Random,
    batch: Batch,
    tambons: list[Tambon],
    villages: list[VillageRecord],
    used: set[str],
) -> list[VillageRecord]:
    """Where a batch's schools stand: small schools in rural villages, big ones
    mostly in Mueang Khon Kaen, and one non-formal centre per district seat."""
    free = [v for v in villages if v.code not in used]
    if batch.kind == "nfe":
        seats = [
            next(v for v in villages if v.tambon == t.code)
            for t in tambons
            if t.code.endswith("01")
        ]
        others = [v for v in free if v not in seats]
        return (seats + rng.sample(others, batch.count))[: batch.count]
    if batch.small:
        pool = [v for v in free if v.tambon != "400101"]  # the city has no small schools
        return rng.sample(pool, batch.count)
    weights = [3.0 if v.tambon.startswith("4001") else 1.0 for v in free]
    chosen: list[VillageRecord] = []
    while len(chosen) < batch.count:
        pick = rng.choices(free, weights)[0]
        if pick not in chosen:
            chosen.append(pick)
    return chosen


def make_schools(
    rng: random.Random, tambons: list[Tambon], villages: list[VillageRecord]
) -> list[SchoolRecord]:
    by_code = {t.code: t for t in tambons}
    used: set[str] = set()
    taken: set[str] = set()
    drafts: list[tuple[Batch, SchoolRecord]] = []
    for batch in PLAN:
        for village in _host_villages(rng, batch, tambons, villages, used):
            used.add(village.code)
            tambon = by_code[village.tambon]
            xy = tambon.area.near(rng, village.xy, spread_m=200)
            record = SchoolRecord(
                code="",
                name=_name(rng, batch, village, tambon, taken),
                affiliation=batch.affiliation,
                levels=batch.levels,
                tambon=tambon.code,
                xy=xy,
                small=batch.small,
                boys_only=batch.boys_only,
            )
            drafts.append((batch, record))
    _number(drafts)
    return sorted((record for _, record in drafts), key=lambda s: s.code)


def _number(drafts: list[tuple[Batch, SchoolRecord]]) -> None:
    """Codes run in tambon order within each register, as SMIS numbers do."""
    drafts.sort(key=lambda d: (d[1].tambon, d[1].name))
    sequence: dict[tuple[str, ...], int] = {}
    for batch, record in drafts:
        if batch.affiliation == "obec":
            secondary = batch.kind == "obec_secondary"
            area = config.OBEC_SECONDARY_AREA if secondary else config.OBEC_AREA
            key: tuple[str, ...] = ("obec", str(area))
            number = sequence[key] = sequence.get(key, 0) + 1
            record.code = obec_school_code(province=config.PROVINCE, area=area, number=number)
        else:
            key = (batch.affiliation, record.tambon)
            number = sequence[key] = sequence.get(key, 0) + 1
            prefix = OTHER_CODE_PREFIX[batch.affiliation]
            record.code = f"{prefix}{record.tambon}{number:02d}"
