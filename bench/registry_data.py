"""Synthetic registry files for ``bench/registry_pipeline.py``, with their truth.

Everything is drawn with numpy from one seed over real tambons (all 7,425 when
read from the database), so a million children and 900,000 register rows take
seconds rather than minutes, and the same seed writes the same bytes.

- ``villages.csv``: 8-20 villages per tambon, inside its polygon and no other.
- ``schools.csv``: a few thousand schools of the eight affiliations.
- ``population.csv``: the civil-registration extract, as DOPA hands it out:
  UTF-8 with BOM, Thai headers, dates dd/mm/yyyy in the Buddhist era,
  households of 1-4 children, a fifth of them with coordinates.
- ``enrolment_<affiliation>.csv``: the registers of academic years 2567 and
  2568 (OBEC's with Thai headers, the others English), with the faults of real
  registers: mistyped, blank and G-coded IDs, misspelled names, day and month
  swapped, families registered in one province whose children go to school in
  another, and pupils who are in no population extract at all.
- ``truth.json``: each register row's true child, each child's class in 2568,
  and the count of every injected fault (see ``Truth``).

A register row is told apart from the others of its file by school code, first
name, last name and birth date as written (``row_key``): the importers keep
those, so the benchmark can find each stored row's truth without a row number.

Sizes: every child in school has a 2568 row, every dropout and graduate a 2567
row, and 1% of the rows are pupils from outside the extract. When the rows asked
for are fewer than that needs (1,000,000 children and 900,000 rows), the extract
holds more children outside the age window (about 9% instead of 5%, as an
extract of ages 0-20 would) and the 2567 registers hold only the leavers; when
they are more, 2567 rows of pupils still in school fill the rest.

No two people share first name, surname and birth date (matching without an ID
has no true namesakes to tell apart), and surnames are as varied as Thai ones,
so the only ambiguity left is among the few names of non-Thai children.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

from field.demo.names import (
    BOYS,
    FOREIGN_BOYS,
    FOREIGN_GIRLS,
    FOREIGN_SURNAMES,
    GIRLS,
    SCHOOL_PATTERNS,
    SURNAMES,
    VILLAGE_HEADS,
    VILLAGE_SUFFIXES,
    VILLAGE_TAILS,
)
from field.registry.names import clean_name

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]
Strs = npt.NDArray[np.object_]

SEED = 2568
ACADEMIC_YEAR = 2568
PREVIOUS_YEAR = ACADEMIC_YEAR - 1
BE_OFFSET = 543
# Ages are completed years on the first day of academic year 2568.
REFERENCE_DATE = date(ACADEMIC_YEAR - BE_OFFSET, 5, 16)
MIN_AGE, MAX_AGE = 3, 18
OUTSIDE_AGES = (0, 1, 2, 19, 20)
# An extract of ages 0-20 always holds some children outside the window; when the
# register rows asked for are fewer than the children in school, more of them are.
MIN_OUTSIDE_SHARE = 0.05
BANGKOK = "10"

NEVER_SHARE = 0.02
DROPPED_SHARE = 0.03
# Of the 18-year-olds still in school in 2567, those who finished ม.6 then.
GRADUATING_AT_18 = 0.8
VOCATIONAL_SHARE = 0.25
NONFORMAL_SHARE = 0.08
NON_THAI_HOUSEHOLDS = 0.02
POPULATION_G_CODES = 0.0005
POPULATION_BLANK_IDS = 0.0005
NATIONALITIES = (("ไม่มีสัญชาติ", 0.5), ("ลาว", 0.2), ("เมียนมา", 0.2), ("กัมพูชา", 0.1))
# Of non-Thai pupils, those their school knows by a G code rather than their ID.
SCHOOL_G_CODES = 0.4
# Register rows of pupils whose household is in no population extract we hold.
OUTSIDER_ROWS = 0.01

MISTYPED_IDS = 0.02
MISSING_IDS = 0.005
MISSPELLED_NAMES = 0.02
SWAPPED_DATES = 0.01
MOVED_HOUSEHOLDS = 0.02

LOCATED_HOUSEHOLDS = 0.2
UNLISTED_MOO = 0.03
MISSPELLED_TAMBONS = 0.005
DISTRICT_PREFIXED = 0.3
HOUSEHOLD_SIZES = (1, 2, 3, 4)
HOUSEHOLD_SIZE_WEIGHTS = (0.45, 0.35, 0.15, 0.05)
VILLAGES_PER_TAMBON = (8, 20)
METRES_PER_DEGREE = 110_600.0
# Villages keep this far inside their tambon, so the published (simplified)
# polygons of neighbours never claim them.
VILLAGE_INSET_M = 150.0
HOUSE_SPREAD_M = 300.0

PRE, PRI, LOW, UP = "preprimary", "primary", "lower_secondary", "upper_secondary"
VOC, NFE = "vocational", "nonformal"
AFFILIATIONS = ("obec", "lao", "opec", "bpp", "onab", "bma", "nfe", "ovec")
THAI_HEADED = ("obec",)
TRACK_GENERAL, TRACK_VOCATIONAL, TRACK_NONFORMAL = 0, 1, 2
ENROLLED, DROPPED_OUT, NEVER_ENROLLED, GRADUATED, OUTSIDE_WINDOW = range(5)
CLASSES = ("enrolled", "dropped_out", "never_enrolled", "graduated")
ID_THAI, ID_NON_THAI, ID_G_CODE, ID_BLANK = range(4)

# Who is never enrolled: mostly pre-school ages and those past compulsory school.
NEVER_WEIGHT = {3: 5.0, 4: 3.0, 5: 1.5, **dict.fromkeys(range(6, 12), 0.5)}
NEVER_WEIGHT |= {**dict.fromkeys(range(12, 15), 0.8), **dict.fromkeys(range(15, 19), 1.6)}
# Who drops out: mostly in secondary school; never before a first school year.
DROPPED_WEIGHT = {**dict.fromkeys(range(7, 12), 0.3), **dict.fromkeys(range(12, 15), 1.0)}
DROPPED_WEIGHT |= {**dict.fromkeys(range(15, 18), 2.0), 18: 1.5}
# How the 2567 register last saw a child who is gone in 2568.
DROPOUT_STATUSES = (("left", 0.55), ("studying", 0.30), ("moved", 0.15))

# Which register a pupil of a level is in (onab takes boys only); Bangkok's own
# schools (กทม.) teach most of the capital's younger children.
AFFILIATION_MIX: dict[str, tuple[tuple[str, float], ...]] = {
    PRE: (("obec", 0.73), ("lao", 0.13), ("opec", 0.13), ("bpp", 0.01)),
    PRI: (("obec", 0.73), ("lao", 0.13), ("opec", 0.13), ("bpp", 0.01)),
    LOW: (("obec", 0.80), ("opec", 0.10), ("lao", 0.06), ("onab", 0.04)),
    UP: (("obec", 0.82), ("opec", 0.12), ("lao", 0.03), ("onab", 0.03)),
    VOC: (("ovec", 0.85), ("opec", 0.15)),
    NFE: (("nfe", 1.0),),
}
BANGKOK_MIX: dict[str, tuple[tuple[str, float], ...]] = {
    PRE: (("bma", 0.60), ("opec", 0.25), ("obec", 0.15)),
    PRI: (("bma", 0.60), ("opec", 0.25), ("obec", 0.15)),
    LOW: (("bma", 0.35), ("opec", 0.25), ("obec", 0.40)),
}
# Every province gets OBEC, vocational and non-formal schools of every level, so
# a pupil whose register has no school of its level nearby falls back on them.
FALLBACK = {PRE: "obec", PRI: "obec", LOW: "obec", UP: "obec", VOC: "ovec", NFE: "nfe"}

THAI_CONSONANTS = "กขคฆงจฉชซญฎฐณดตถทธนบปผฝพฟภมยรลวศษสหอฮ"
# Syllables of Isan and central Thai surnames: two or three of them make a
# surname, so that, as in Thailand, few families share one.
SURNAME_SYLLABLES = (
    "ศรี",
    "บุญ",
    "แก้ว",
    "ทอง",
    "คำ",
    "แสน",
    "จันทร์",
    "พรหม",
    "สุข",
    "วงศ์",
    "ชัย",
    "มณี",
    "อินทร์",
    "ภู",
    "พล",
    "นาม",
    "ไชย",
    "พิมพ์",
    "โพธิ์",
    "สุวรรณ",
    "เรือง",
    "ดวง",
    "นาค",
    "สาย",
    "ประทุม",
    "มงคล",
    "สวัสดิ์",
    "เจริญ",
    "รัตน์",
    "ธรรม",
    "กุล",
    "เพชร",
)
LAO_SYLLABLES = ("ไซ", "ยะ", "วง", "พม", "มะ", "จัน", "สี", "สุ", "พัน", "อิน", "ทะ", "บุน")
POPULATION_HEADER = (
    "เลขประจำตัวประชาชน",
    "คำนำหน้า",
    "ชื่อ",
    "นามสกุล",
    "เพศ",
    "วันเกิด",
    "บ้านเลขที่",
    "หมู่",
    "ตำบล",
    "อำเภอ",
    "จังหวัด",
    "รหัสไปรษณีย์",
    "สัญชาติ",
    "ละติจูด",
    "ลองจิจูด",
)
ENROLMENT_HEADER_TH = (
    "เลขประจำตัวประชาชน",
    "ชื่อ",
    "นามสกุล",
    "วันเกิด",
    "รหัสโรงเรียน",
    "ชื่อโรงเรียน",
    "ชั้น",
    "ปีการศึกษา",
    "สถานะ",
)
ENROLMENT_HEADER_EN = (
    "national_id",
    "first_name",
    "last_name",
    "birth_date",
    "school_code",
    "school_name",
    "grade",
    "academic_year",
    "status",
)
SCHOOL_HEADER = ("code", "name", "affiliation", "levels", "lat", "lon", "subdistrict", "students")
VILLAGE_HEADER = ("code", "name", "lat", "lon")

# Faults of a register row, as bits of ``Truth.files[...]["faults"]``.
FAULTS = (
    "mistyped_id",
    "missing_id",
    "g_code",
    "misspelled_name",
    "swapped_date",
    "moved_family",
    "not_in_population",
)
FAULT_BIT = {name: 1 << i for i, name in enumerate(FAULTS)}

_WEIGHTS = np.arange(13, 1, -1, dtype=np.int64)
_POWERS = 10 ** np.arange(12, -1, -1, dtype=np.int64)


@dataclass(frozen=True)
class Tambon:
    code: str
    name: str
    district_code: str
    district_name: str
    province_code: str
    province_name: str
    postcode: str
    geom: BaseGeometry


def load_tambons_geojson(path: Path, provinces: Iterable[str] | None = None) -> list[Tambon]:
    """Tambons of a COD-AB ADM3 file, for runs (and tests) without a database."""
    wanted = set(provinces) if provinces is not None else None
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    tambons = []
    for feature in features:
        props = feature["properties"]
        code = str(props["ADM3_PCODE"]).removeprefix("TH")
        if wanted is not None and code[:2] not in wanted:
            continue
        tambons.append(
            Tambon(
                code=code,
                name=props["ADM3_TH"],
                district_code=code[:4],
                district_name=props["ADM2_TH"],
                province_code=code[:2],
                province_name=props["ADM1_TH"],
                postcode=postcode(code),
                geom=shapely.from_geojson(json.dumps(feature["geometry"])),
            )
        )
    return sorted(tambons, key=lambda t: t.code)


def generator_version() -> str:
    """A digest of this file: files kept from an older generator are not reused."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]


def postcode(code: str) -> str:
    import geothai

    found = geothai.subdistrict(code)
    return str(found.postal_codes[0]) if found and found.postal_codes else ""


# --- names, dates, identifiers ------------------------------------------------------


def row_key(school_code: str, first_name: str, last_name: str, birth_iso: str) -> str:
    """What tells a register row from the others of its file and year.

    Names go through the importers' own ``clean_name``, so a row is found
    whatever they strip before storing it: a title typed into the first name,
    doubled spaces, and titles nobody meant ("ประเสริฐ" misspelled "พระเสริฐ"
    is stored as the monk "เสริฐ")."""
    return f"{school_code}|{clean_name(first_name)}|{clean_name(last_name)}|{birth_iso}"


def be_to_iso(text: str) -> str:
    """dd/mm/yyyy BE, as the generator writes it, to an ISO date in CE."""
    day, month, year = text.split("/")
    return f"{int(year) - BE_OFFSET:04d}-{int(month):02d}-{int(day):02d}"


def check_digits(first12: Ints) -> Ints:
    result: Ints = (11 - (first12 @ _WEIGHTS) % 11) % 10
    return result


def id_digits(values: Ints) -> Ints:
    digits: Ints = values[:, None] // _POWERS % 10
    return digits


def is_valid_ids(values: Ints) -> Bools:
    digits = id_digits(values)
    valid: Bools = check_digits(digits[:, :12]) == digits[:, 12]
    return valid


def make_ids(
    rng: np.random.Generator, person_type: Ints, office: Ints, exclude: Ints | None = None
) -> Ints:
    """Valid 13-digit IDs, unique and outside ``exclude``: type, office, 7 digits, check."""
    n = len(person_type)
    digits = np.zeros((n, 13), dtype=np.int64)
    digits[:, 0] = person_type
    digits[:, 1:5] = office[:, None] // np.array([1000, 100, 10, 1]) % 10
    redo = np.arange(n)
    while len(redo):
        digits[redo, 5:12] = rng.integers(0, 10, (len(redo), 7))
        digits[redo, 12] = check_digits(digits[redo, :12])
        values: Ints = digits @ _POWERS
        _, first = np.unique(values, return_index=True)
        repeated = np.ones(n, dtype=bool)
        repeated[first] = False
        if exclude is not None:
            repeated |= np.isin(values, exclude)
        redo = np.flatnonzero(repeated)
    result: Ints = digits @ _POWERS
    return result


def mistype(rng: np.random.Generator, values: Ints) -> list[str]:
    """Each ID with one digit changed so that its checksum fails. The digit of
    weight 11 is never the one: changing it keeps the sum, and the checksum, the same."""
    digits = id_digits(values)
    positions = np.array([p for p in range(13) if p != 2])
    redo = np.arange(len(values))
    typed = digits.copy()
    while len(redo):
        typed[redo] = digits[redo]
        where = positions[rng.integers(0, len(positions), len(redo))]
        typed[redo, where] = (typed[redo, where] + rng.integers(1, 10, len(redo))) % 10
        still_valid = check_digits(typed[redo, :12]) == typed[redo, 12]
        redo = redo[still_valid]
    return ["".join(map(str, row)) for row in typed.tolist()]


def format_ids(values: Ints) -> list[str]:
    return [f"{v:013d}" for v in values.tolist()]


def birth_dates(rng: np.random.Generator, ages: Ints) -> Ints:
    """Days since 1970 of a birth date on which a child is exactly ``age`` on the
    reference date."""
    ref = REFERENCE_DATE
    top = max(max(OUTSIDE_AGES), MAX_AGE) + 1
    end = np.array([(ref.replace(year=ref.year - a) - date(1970, 1, 1)).days for a in range(top)])
    start = np.array(
        [
            (ref.replace(year=ref.year - a - 1) + timedelta(days=1) - date(1970, 1, 1)).days
            for a in range(top)
        ]
    )
    span = end[ages] - start[ages] + 1
    days: Ints = start[ages] + (rng.random(len(ages)) * span).astype(np.int64)
    return days


def be_dates(days: Ints) -> list[str]:
    """dd/mm/yyyy in the Buddhist era, through a table of the few thousand days used."""
    unique, inverse = np.unique(days, return_inverse=True)
    epoch = date(1970, 1, 1)
    table = np.array(
        [
            f"{d.day:02d}/{d.month:02d}/{d.year + BE_OFFSET}"
            for d in (epoch + timedelta(days=int(v)) for v in unique)
        ],
        dtype=object,
    )
    result: list[str] = table[inverse].tolist()
    return result


def weighted_pick(rng: np.random.Generator, weights: Floats, k: int) -> Ints:
    """``k`` indices without replacement, each in proportion to its weight
    (Efraimidis-Spirakis keys); zero weights are never picked."""
    k = min(k, int(np.count_nonzero(weights)))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    keys = np.full(len(weights), -1.0)
    positive = weights > 0
    keys[positive] = rng.random(int(positive.sum())) ** (1 / weights[positive])
    picked: Ints = np.argpartition(-keys, k - 1)[:k].astype(np.int64)
    return picked


def choose(
    rng: np.random.Generator, options: Sequence[tuple[str, float]], n: int
) -> npt.NDArray[np.str_]:
    names = np.array([o for o, _ in options])
    p = np.array([w for _, w in options])
    picked: npt.NDArray[np.str_] = names[rng.choice(len(names), n, p=p / p.sum())]
    return picked


def misspell(rng: random.Random, text: str, avoid: Iterable[str] = ()) -> str:
    """``text`` with one Thai consonant changed for another, unlike ``avoid``."""
    forbidden = set(avoid) | {text}
    spots = [i for i, ch in enumerate(text) if ch in THAI_CONSONANTS]
    for _ in range(50):
        if not spots:
            break
        i = rng.choice(spots)
        changed = text[:i] + rng.choice(THAI_CONSONANTS.replace(text[i], "")) + text[i + 1 :]
        if changed not in forbidden:
            return changed
    return text + "ร"


# --- places ---------------------------------------------------------------------------


@dataclass
class Villages:
    tambon: Ints
    moo: Ints
    x: Floats
    y: Floats
    names: list[str]
    per_tambon: Ints


class Places:
    """The tambons as arrays, with a tree to check that a point is in one only."""

    def __init__(self, tambons: list[Tambon]) -> None:
        self.tambons = tambons
        self.geoms = np.array([t.geom for t in tambons], dtype=object)
        shapely.prepare(self.geoms)
        self.tree = shapely.STRtree(self.geoms)
        self.province = np.array([t.province_code for t in tambons])
        self.district = np.array([int(t.district_code) for t in tambons])
        self.provinces = sorted(set(self.province.tolist()))
        self.province_index = np.searchsorted(np.array(self.provinces), self.province)

    def only_in(self, x: Floats, y: Floats, tambon: Ints) -> Bools:
        """Points inside their own tambon and no other (border and overlaps excluded)."""
        inside: Bools = shapely.contains_xy(self.geoms[tambon], x, y)
        hits, _ = self.tree.query(shapely.points(x, y), predicate="intersects")
        counts = np.bincount(hits, minlength=len(x))
        result: Bools = inside & (counts == 1)
        return result


def make_villages(rng: np.random.Generator, places: Places) -> Villages:
    geoms = places.geoms
    lat = np.array([g.centroid.y for g in geoms])
    km2 = shapely.area(geoms) * METRES_PER_DEGREE**2 * np.cos(np.radians(lat)) / 1e6
    low, high = VILLAGES_PER_TAMBON
    counts = np.clip(np.round(km2 / 7) + rng.integers(-2, 3, len(geoms)), low, high)
    counts = counts.astype(np.int64)
    inner = shapely.buffer(geoms, -VILLAGE_INSET_M / METRES_PER_DEGREE)
    # A sliver loses most of itself to the inset: draw in the whole of it.
    thin = shapely.area(inner) < 0.25 * shapely.area(geoms)
    inner[thin] = geoms[thin]
    shapely.prepare(inner)
    bounds = shapely.bounds(inner)
    fill = shapely.area(inner) / np.maximum(
        (bounds[:, 2] - bounds[:, 0]) * (bounds[:, 3] - bounds[:, 1]), 1e-12
    )
    got: list[list[tuple[float, float]]] = [[] for _ in geoms]
    need = counts.copy()
    while need.sum():
        wanting = np.flatnonzero(need)
        draws = np.ceil(need[wanting] / np.maximum(fill[wanting], 0.05) * 1.5).astype(np.int64) + 4
        tambon = np.repeat(wanting, draws)
        b = bounds[tambon]
        x = np.round(b[:, 0] + rng.random(len(tambon)) * (b[:, 2] - b[:, 0]), 6)
        y = np.round(b[:, 1] + rng.random(len(tambon)) * (b[:, 3] - b[:, 1]), 6)
        ok = shapely.contains_xy(inner[tambon], x, y)
        ok[ok] = places.only_in(x[ok], y[ok], tambon[ok])
        for t, px, py in zip(tambon[ok].tolist(), x[ok].tolist(), y[ok].tolist(), strict=True):
            if need[t]:
                got[t].append((px, py))
                need[t] -= 1
    names: list[str] = []
    py_rng = random.Random(int(rng.integers(2**31)))
    for points in got:
        taken: set[str] = set()
        for _ in points:
            while True:
                name = f"บ้าน{py_rng.choice(VILLAGE_HEADS)}{py_rng.choice(VILLAGE_TAILS)}"
                name += py_rng.choice(VILLAGE_SUFFIXES)
                if name not in taken:
                    taken.add(name)
                    names.append(name)
                    break
    return Villages(
        tambon=np.repeat(np.arange(len(geoms)), counts),
        moo=np.concatenate([np.arange(1, c + 1) for c in counts]),
        x=np.array([p[0] for points in got for p in points]),
        y=np.array([p[1] for points in got for p in points]),
        names=names,
        per_tambon=counts,
    )


# --- schools --------------------------------------------------------------------------


@dataclass
class Schools:
    codes: list[str]
    names: list[str]
    affiliation: list[str]
    levels: list[tuple[str, ...]]
    village: Ints
    lookup: dict[tuple[str, str, int], Ints]
    """(affiliation, level, province index) -> schools"""


# Per affiliation: (schools per million children, minimum per province, level sets
# with their shares, provinces that have any: every, half, a quarter, Bangkok only).
SCHOOL_PLAN: dict[str, tuple[float, int, tuple[tuple[tuple[str, ...], float], ...], str]] = {
    "obec": (2400, 9, (((PRE, PRI), 0.5), ((PRE, PRI, LOW), 0.2), ((LOW, UP), 0.3)), "every"),
    "lao": (250, 1, (((PRE, PRI), 0.7), ((PRE, PRI, LOW, UP), 0.3)), "every"),
    "opec": (400, 3, (((PRE, PRI, LOW, UP), 0.7), ((VOC,), 0.3)), "every"),
    "bpp": (0, 1, (((PRE, PRI), 1.0),), "quarter"),
    "onab": (0, 1, (((LOW, UP), 1.0),), "half"),
    "bma": (3000, 20, (((PRE, PRI, LOW), 1.0),), "bangkok"),
    "nfe": (100, 1, (((NFE,), 1.0),), "every"),
    "ovec": (120, 1, (((VOC,), 1.0),), "every"),
}
SCHOOL_KIND = {
    ("obec", (LOW, UP)): "obec_secondary",
    ("obec", (PRE, PRI)): "obec_primary",
    ("obec", (PRE, PRI, LOW)): "obec_small",
}


def _school_code(affiliation: str, province: str, tambon: str, sequence: int) -> str:
    # OBEC's codes are 10 digits (10, province, area, number); the others are the
    # affiliations' own, 10 to 12 digits, with a prefix no other one uses.
    match affiliation:
        case "obec":
            return f"10{province}{1 + sequence // 9000:02d}{1 + sequence % 9000:04d}"
        case "lao":
            return f"11{province}{sequence:06d}"
        case "ovec":
            return f"13{province}{sequence:06d}"
        case "opec":
            return f"20{tambon}{sequence:04d}"
        case "onab":
            return f"30{province}{sequence:07d}"
        case "bpp":
            return f"40{province}{sequence:06d}"
        case "nfe":
            return f"50{province}{sequence:07d}"
        case _:
            return f"60{province}{sequence:08d}"


def make_schools(
    rng: np.random.Generator, places: Places, villages: Villages, children_per_province: Ints
) -> Schools:
    py_rng = random.Random(int(rng.integers(2**31)))
    villages_of: dict[int, Ints] = {}
    village_province = places.province_index[villages.tambon]
    order = np.argsort(village_province, kind="stable")
    bounds = np.searchsorted(village_province[order], np.arange(len(places.provinces) + 1))
    for p in range(len(places.provinces)):
        villages_of[p] = order[bounds[p] : bounds[p + 1]]
    drafts: list[tuple[str, tuple[str, ...], int]] = []
    for affiliation, (per_million, minimum, sets, where) in SCHOOL_PLAN.items():
        for p, province in enumerate(places.provinces):
            if (
                (where == "bangkok" and province != BANGKOK)
                or (where == "half" and p % 2)
                or (where == "quarter" and p % 4)
            ):
                continue
            count = max(minimum, round(per_million * int(children_per_province[p]) / 1e6))
            # Every level set at least once, the rest by its share.
            kinds = [s for s, _ in sets]
            kinds += [
                sets[i][0]
                for i in rng.choice(len(sets), max(0, count - len(sets)), p=[w for _, w in sets])
            ]
            hosts = villages_of[p][rng.integers(0, len(villages_of[p]), len(kinds))]
            drafts += [(affiliation, k, int(v)) for k, v in zip(kinds, hosts, strict=True)]
    drafts.sort(key=lambda d: (d[0], d[2]))
    codes: list[str] = []
    names: list[str] = []
    sequence: Counter[tuple[str, str]] = Counter()
    for affiliation, levels, village in drafts:
        tambon = places.tambons[int(villages.tambon[village])]
        scope = tambon.code if affiliation == "opec" else tambon.province_code
        sequence[(affiliation, scope)] += 1
        codes.append(
            _school_code(
                affiliation, tambon.province_code, tambon.code, sequence[(affiliation, scope)]
            )
        )
        kind = SCHOOL_KIND.get((affiliation, levels), affiliation)
        patterns = SCHOOL_PATTERNS.get(kind, ("โรงเรียน{t}",))
        if affiliation == "bpp":
            patterns = ("โรงเรียนตำรวจตระเวนชายแดนบ้าน{v}",)
        elif affiliation == "bma":
            patterns = ("โรงเรียนวัด{v} (กทม.)", "โรงเรียนคลอง{v} (กทม.)")
        elif affiliation == "opec" and levels == (VOC,):
            patterns = ("วิทยาลัยเทคโนโลยี{d}", "วิทยาลัยอาชีวศึกษาเอกชน{t}")
        names.append(
            py_rng.choice(patterns).format(
                v=villages.names[village].removeprefix("บ้าน").replace(" ", ""),
                t=tambon.name,
                d=tambon.district_name.removeprefix("เมือง"),
            )
        )
    affiliations = [d[0] for d in drafts]
    level_sets = [d[1] for d in drafts]
    host = np.array([d[2] for d in drafts], dtype=np.int64)
    province = places.province_index[villages.tambon[host]]
    lookup: dict[tuple[str, str, int], list[int]] = {}
    for i, (affiliation, levels) in enumerate(zip(affiliations, level_sets, strict=True)):
        for level in levels:
            lookup.setdefault((affiliation, level, int(province[i])), []).append(i)
    return Schools(
        codes=codes,
        names=names,
        affiliation=affiliations,
        levels=level_sets,
        village=host,
        lookup={k: np.array(v, dtype=np.int64) for k, v in lookup.items()},
    )


# --- children -------------------------------------------------------------------------


@dataclass
class Truth:
    """What the benchmark checks the pipeline against; written as truth.json."""

    summary: dict[str, Any]
    classes: dict[str, list[str]]
    files: dict[str, dict[str, Any]]

    def as_json(self) -> dict[str, Any]:
        return {**self.summary, "classes": self.classes, "files": self.files}


def _name_pools() -> tuple[list[str], list[str], list[str], list[str], list[str], list[str]]:
    syllables = SURNAME_SYLLABLES
    thai_surnames = list(SURNAMES) + sorted(
        {a + b for a in syllables for b in syllables if a != b}
        | {
            a + b + c
            for a in syllables
            for b in syllables
            for c in syllables
            if len({a, b, c}) == 3
        }
    )
    foreign_surnames = list(FOREIGN_SURNAMES) + [
        a + b + c for a in LAO_SYLLABLES for b in LAO_SYLLABLES for c in LAO_SYLLABLES if a != b
    ]
    foreign_boys = list(FOREIGN_BOYS) + [
        a + b for a in FOREIGN_BOYS for b in FOREIGN_BOYS if a != b
    ]
    foreign_girls = list(FOREIGN_GIRLS) + [
        a + b for a in FOREIGN_GIRLS for b in FOREIGN_GIRLS if a != b
    ]
    return list(BOYS), list(GIRLS), foreign_boys, foreign_girls, thai_surnames, foreign_surnames


class _Names:
    """First names drawn per sex and origin, redrawn until first name, surname and
    birth date single a child out (matching without an ID depends on it)."""

    def __init__(self) -> None:
        boys, girls, f_boys, f_girls, surnames, f_surnames = _name_pools()
        self.first = np.array(boys + girls + f_boys + f_girls, dtype=object)
        sizes = [len(boys), len(girls), len(f_boys), len(f_girls)]
        starts = np.concatenate([[0], np.cumsum(sizes)])
        self.first_range = {
            (boy, foreign): (int(starts[i]), int(starts[i] + sizes[i]))
            for i, (boy, foreign) in enumerate(
                [(True, False), (False, False), (True, True), (False, True)]
            )
        }
        self.last = np.array(surnames + f_surnames, dtype=object)
        self.thai_last = len(surnames)

    def surnames(self, rng: np.random.Generator, foreign: Bools) -> Ints:
        n = len(foreign)
        result: Ints = np.where(
            foreign,
            self.thai_last + rng.integers(0, len(self.last) - self.thai_last, n),
            rng.integers(0, self.thai_last, n),
        )
        return result

    def firsts(
        self, rng: np.random.Generator, boy: Bools, foreign: Bools, last: Ints, birth: Ints
    ) -> Ints:
        first = np.zeros(len(boy), dtype=np.int64)
        redo = np.arange(len(boy))
        while len(redo):
            for (is_boy, is_foreign), (lo, hi) in self.first_range.items():
                group = redo[(boy[redo] == is_boy) & (foreign[redo] == is_foreign)]
                first[group] = rng.integers(lo, hi, len(group))
            key = (first * len(self.last) + last) * 100_000 + (birth - birth.min())
            _, keep = np.unique(key, return_index=True)
            repeated = np.ones(len(key), dtype=bool)
            repeated[keep] = False
            redo = np.flatnonzero(repeated)
        return first


@dataclass
class _Households:
    """Households in register order: village by village, house numbers rising."""

    village: Ints
    tambon: Ints
    province: Ints
    sizes: Ints
    house_no: list[str]
    foreign: Bools
    surname: Ints
    located: Bools
    moved: Bools
    school_province: Ints
    """Where the children go to school: another province for a family that moved."""


@dataclass
class _Children:
    household: Ints
    in_window: Bools
    age: Ints
    birth: Ints
    boy: Bools
    foreign: Bools
    last: Ints
    ids: Ints
    id_kind: Ints
    true_id: list[str]
    """The identifier the population file gives: ID, G code or ""."""
    g_codes: list[str]
    school_g: Bools
    """Known to their school by a G code rather than their ID."""
    outcome: Ints
    track: Ints


@dataclass
class _Rows:
    """Register rows before their faults; children of index >= n are outsiders."""

    child: Ints
    year: Ints
    status: Strs
    age: Ints
    boy: Bools
    ids: Ints
    first: Ints
    last: Ints
    birth: Ints
    level: Strs
    grade: Strs
    affiliation: Strs
    school: Ints
    continuing: int


@dataclass
class _Written:
    """Register rows as written, faults and all."""

    national_id: list[str]
    first: list[str]
    last: list[str]
    birth: list[str]
    school_code: list[str]
    faults: Ints
    name_kinds: Counter[str]
    undone: int


def generate(
    tambons: list[Tambon],
    directory: Path,
    *,
    rows: int = 1_000_000,
    enrolment: int = 900_000,
    seed: int = SEED,
) -> Truth:
    """Writes every file into ``directory``; returns the truth (also in truth.json)."""
    rng = np.random.default_rng(seed)
    py_rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    places = Places(tambons)
    villages = make_villages(rng, places)
    names = _Names()
    homes = _make_households(rng, places, villages, names, rows)
    kids = _make_children(rng, places, homes, rows, enrolment)
    children_per_province = np.bincount(
        homes.province[kids.household], minlength=len(places.provinces)
    )
    schools = make_schools(rng, places, villages, children_per_province)
    register = _make_rows(rng, places, homes, kids, names, schools, enrolment)
    written = _inject_faults(rng, py_rng, homes, kids, register, names, schools)

    # Students of a school: its rows of the current year.
    students = np.bincount(
        register.school[register.year == ACADEMIC_YEAR], minlength=len(schools.codes)
    )
    _write_villages(directory, places, villages)
    _write_schools(directory, places, villages, schools, students)
    population = _write_population(
        directory,
        py_rng,
        rng,
        places=places,
        villages=villages,
        child_h=kids.household,
        h_village=homes.village,
        house_no=homes.house_no,
        h_located=homes.located,
        written_id=kids.true_id,
        title_boy=kids.boy,
        age=kids.age,
        first=names.first[register.first[:rows]].tolist(),
        last=names.last[kids.last].tolist(),
        birth=kids.birth,
        foreign=kids.foreign,
    )
    n = rows
    true_row_ids = [
        kids.true_id[c] if c < n else f"{register.ids[i]:013d}"
        for i, c in enumerate(register.child.tolist())
    ]
    files = _write_enrolment(
        directory,
        rng,
        aff=register.affiliation,
        year=register.year,
        school=register.school,
        schools=schools,
        codes=written.school_code,
        written=written.national_id,
        first=written.first,
        last=written.last,
        birth=written.birth,
        grade=register.grade,
        status=register.status,
        true_ids=true_row_ids,
        faults=written.faults,
    )

    has_id = np.array([bool(t) for t in kids.true_id])
    classes = {
        name: sorted(
            kids.true_id[i] for i in np.flatnonzero((kids.outcome == value) & has_id).tolist()
        )
        for value, name in enumerate(CLASSES)
    }
    faults = written.faults
    errors = faults & ~(FAULT_BIT["not_in_population"])
    summary: dict[str, Any] = {
        "synthetic": True,
        "generator": generator_version(),
        "seed": seed,
        "academic_year": ACADEMIC_YEAR,
        "reference_date": REFERENCE_DATE.isoformat(),
        "age_window": [MIN_AGE, MAX_AGE],
        "population_rows": n,
        "in_window": int(kids.in_window.sum()),
        "outside_window": int((~kids.in_window).sum()),
        "class_counts": {
            name: int(np.count_nonzero(kids.outcome == v)) for v, name in enumerate(CLASSES)
        },
        "never_enrolled_without_id": int((kids.in_window & (kids.id_kind == ID_BLANK)).sum()),
        "tambons": len(tambons),
        "villages": len(villages.tambon),
        "schools": len(schools.codes),
        "households": len(homes.village),
        "population": {
            **population["counts"],
            "non_thai": int((kids.id_kind == ID_NON_THAI).sum()),
            "g_codes": int((kids.id_kind == ID_G_CODE).sum()),
            "blank_ids": int((kids.id_kind == ID_BLANK).sum()),
            "moved_households": int(homes.moved.sum()),
        },
        "misspelled_tambons": population["misspelled"],
        "enrolment_rows": len(register.child),
        "register_rows": {
            name: {str(y): int(c) for y, c in sorted(info.pop("years").items())}
            for name, info in files.items()
        },
        "continuing_2567_rows": register.continuing,
        "register_faults": {
            **{name: int(np.count_nonzero(faults & bit)) for name, bit in FAULT_BIT.items()},
            "clean": int(np.count_nonzero(faults == 0)),
            "combined": sum(bin(f).count("1") >= 2 for f in errors.tolist()),
            "misspelled_name_kinds": dict(sorted(written.name_kinds.items())),
            "faults_undone_to_keep_rows_apart": written.undone,
        },
        "fault_bits": FAULT_BIT,
    }
    truth = Truth(summary=summary, classes=classes, files=files)
    (directory / "truth.json").write_text(
        json.dumps(truth.as_json(), ensure_ascii=False, separators=(",", ":")), encoding="utf-8"
    )
    return truth


def _make_households(
    rng: np.random.Generator, places: Places, villages: Villages, names: _Names, rows: int
) -> _Households:
    sizes = rng.choice(
        HOUSEHOLD_SIZES,
        math.ceil(rows / 1.8 * 1.1) + 10,
        p=np.array(HOUSEHOLD_SIZE_WEIGHTS) / sum(HOUSEHOLD_SIZE_WEIGHTS),
    )
    ends = np.cumsum(sizes)
    count = int(np.searchsorted(ends, rows)) + 1
    sizes = sizes[:count]
    sizes[-1] -= int(ends[count - 1]) - rows
    # Bangkok's แขวง are far more crowded than rural tambons.
    crowded = places.province[villages.tambon] == BANGKOK
    weight = rng.uniform(0.5, 1.5, len(villages.tambon)) * np.where(crowded, 6.0, 1.0)
    village = np.sort(rng.choice(len(weight), count, p=weight / weight.sum()))
    tambon = villages.tambon[village]
    province = places.province_index[tambon]
    # House numbers rise along the village: its first number, then steps of 1-3.
    starts = np.searchsorted(village, village, side="left")
    steps = rng.integers(1, 4, count)
    first_number = rng.integers(1, 21, len(weight))
    running = np.cumsum(steps) - np.cumsum(steps)[starts] + steps[starts]
    number = first_number[village] + running - 1
    sub = rng.integers(1, 6, count)
    slashed = rng.random(count) < 0.15
    house_no = [
        f"{n}/{s}" if sl else str(n)
        for n, s, sl in zip(number.tolist(), sub.tolist(), slashed.tolist(), strict=True)
    ]
    foreign = rng.random(count) < NON_THAI_HOUSEHOLDS
    surname = names.surnames(rng, foreign)
    located = rng.random(count) < LOCATED_HOUSEHOLDS
    moved = rng.random(count) < MOVED_HOUSEHOLDS
    n_provinces = len(places.provinces)
    if n_provinces > 1:
        shift = rng.integers(1, n_provinces, count)
        school_province = np.where(moved, (province + shift) % n_provinces, province)
    else:
        moved[:] = False
        school_province = province
    return _Households(
        village=village,
        tambon=tambon,
        province=province,
        sizes=sizes,
        house_no=house_no,
        foreign=foreign,
        surname=surname,
        located=located,
        moved=moved,
        school_province=school_province,
    )


def _make_children(
    rng: np.random.Generator, places: Places, homes: _Households, n: int, enrolment: int
) -> _Children:
    household = np.repeat(np.arange(len(homes.village)), homes.sizes)
    rows_for_children = round(enrolment * (1 - OUTSIDER_ROWS))
    window = min(
        round(n * (1 - MIN_OUTSIDE_SHARE)), math.floor(rows_for_children / (1 - NEVER_SHARE))
    )
    in_window = np.zeros(n, dtype=bool)
    in_window[rng.choice(n, window, replace=False)] = True
    ages_in = np.arange(MIN_AGE, MAX_AGE + 1)
    # Thai birth cohorts have shrunk by about a third since 2007.
    age_w = 0.7 + 0.3 * (ages_in - MIN_AGE) / (MAX_AGE - MIN_AGE)
    age = np.where(
        in_window,
        rng.choice(ages_in, n, p=age_w / age_w.sum()),
        rng.choice(np.array(OUTSIDE_AGES), n),
    ).astype(np.int64)
    birth = birth_dates(rng, age)
    boy = rng.random(n) < 0.51
    foreign = homes.foreign[household]
    last = homes.surname[household]

    # Identifiers: type 1 for Thai, 0/6/7 for the others; registered mostly in the
    # district where they live.
    person_type = np.where(foreign, rng.choice(np.array([0, 6, 7]), n, p=[0.4, 0.2, 0.4]), 1)
    office = np.where(
        rng.random(n) < 0.85,
        places.district[homes.tambon[household]],
        places.district[rng.integers(0, len(places.district), n)],
    )
    ids = make_ids(rng, person_type.astype(np.int64), office.astype(np.int64))
    id_kind = np.where(foreign, ID_NON_THAI, ID_THAI)
    special = rng.random(n)
    id_kind = np.where(special < POPULATION_G_CODES, ID_G_CODE, id_kind)
    id_kind = np.where(
        (special >= POPULATION_G_CODES) & (special < POPULATION_G_CODES + POPULATION_BLANK_IDS),
        ID_BLANK,
        id_kind,
    )
    written_id = format_ids(ids)
    g_codes = [
        f"G{places.provinces[p]}{v:010d}"
        for p, v in zip(
            homes.province[household].tolist(), rng.integers(0, 10**10, n).tolist(), strict=True
        )
    ]
    true_id = [
        g if k == ID_G_CODE else "" if k == ID_BLANK else w
        for w, g, k in zip(written_id, g_codes, id_kind.tolist(), strict=True)
    ]
    school_g = foreign & (rng.random(n) < SCHOOL_G_CODES) & (id_kind != ID_G_CODE)

    # Outcomes for 2568, decided before any register is written. A child with no
    # identifier at all is in no register.
    outcome = np.where(in_window, ENROLLED, OUTSIDE_WINDOW)
    never_w = np.where(in_window, _by_age(NEVER_WEIGHT)[age], 0.0)
    blank_in = in_window & (id_kind == ID_BLANK)
    outcome[blank_in] = NEVER_ENROLLED
    never_w[blank_in] = 0.0
    never_left = max(0, round(NEVER_SHARE * window) - int(blank_in.sum()))
    outcome[weighted_pick(rng, never_w, never_left)] = NEVER_ENROLLED
    drop_w = np.where(outcome == ENROLLED, _by_age(DROPPED_WEIGHT)[age], 0.0)
    outcome[weighted_pick(rng, drop_w, round(DROPPED_SHARE * window))] = DROPPED_OUT
    finishing = (outcome == ENROLLED) & (age == MAX_AGE) & (rng.random(n) < GRADUATING_AT_18)
    outcome[finishing] = GRADUATED
    track = np.full(n, TRACK_GENERAL)
    r = rng.random(n)
    older = (age >= 15) & (age <= 17)
    track[older & (r < VOCATIONAL_SHARE)] = TRACK_VOCATIONAL
    track[older & (r >= VOCATIONAL_SHARE) & (r < VOCATIONAL_SHARE + NONFORMAL_SHARE)] = (
        TRACK_NONFORMAL
    )
    # An 18-year-old still in school is on a vocational diploma (ปวส.); a graduate
    # finished ม.6 on the general track.
    track[(age == MAX_AGE) & (outcome == ENROLLED)] = TRACK_VOCATIONAL
    track[outcome == GRADUATED] = TRACK_GENERAL
    return _Children(
        household=household,
        in_window=in_window,
        age=age,
        birth=birth,
        boy=boy,
        foreign=foreign,
        last=last,
        ids=ids,
        id_kind=id_kind,
        true_id=true_id,
        g_codes=g_codes,
        school_g=school_g,
        outcome=outcome,
        track=track,
    )


def _make_rows(
    rng: np.random.Generator,
    places: Places,
    homes: _Households,
    kids: _Children,
    names: _Names,
    schools: Schools,
    enrolment: int,
) -> _Rows:
    """Every enrolled child's 2568 row; the 2567 row of dropouts and graduates;
    then outsiders, and 2567 rows of pupils still in school if rows are left."""
    n = len(kids.age)
    n_provinces = len(places.provinces)
    rows_for_children = round(enrolment * (1 - OUTSIDER_ROWS))
    enrolled = np.flatnonzero(kids.outcome == ENROLLED)
    dropped = np.flatnonzero(kids.outcome == DROPPED_OUT)
    graduated = np.flatnonzero(kids.outcome == GRADUATED)
    rows_needed = len(enrolled) + len(dropped) + len(graduated)
    continuing_pool = enrolled[kids.age[enrolled] >= MIN_AGE + 1]
    extra = min(max(0, rows_for_children - rows_needed), len(continuing_pool))
    continuing = np.sort(rng.choice(continuing_pool, extra, replace=False))
    outsiders = max(0, enrolment - rows_needed - extra)

    o_age = rng.integers(MIN_AGE, MAX_AGE, outsiders)
    o_birth = birth_dates(rng, o_age)
    o_boy = rng.random(outsiders) < 0.51
    o_foreign = np.zeros(outsiders, dtype=bool)
    o_last = names.surnames(rng, o_foreign)
    # Outsiders are named with the children: no two people may share first name,
    # surname and birth date, or a row without an ID could not be told apart.
    all_last = np.concatenate([kids.last, o_last])
    all_birth = np.concatenate([kids.birth, o_birth])
    all_first = names.firsts(
        rng,
        np.concatenate([kids.boy, o_boy]),
        np.concatenate([kids.foreign, o_foreign]),
        all_last,
        all_birth,
    )
    o_office = places.district[rng.integers(0, len(places.district), outsiders)]
    o_ids = make_ids(rng, np.ones(outsiders, dtype=np.int64), o_office.astype(np.int64), kids.ids)
    o_province = rng.integers(0, n_provinces, outsiders)

    child = np.concatenate([enrolled, continuing, dropped, graduated, n + np.arange(outsiders)])
    year = np.concatenate(
        [
            np.full(len(enrolled), ACADEMIC_YEAR),
            np.full(len(continuing) + len(dropped) + len(graduated), PREVIOUS_YEAR),
            np.full(outsiders, ACADEMIC_YEAR),
        ]
    )
    status = np.array(
        ["studying"] * (len(enrolled) + len(continuing))
        + choose(rng, DROPOUT_STATUSES, len(dropped)).tolist()
        + ["graduated"] * len(graduated)
        + ["studying"] * outsiders,
        dtype=object,
    )
    m = len(child)
    inside = child < n
    ci = np.where(inside, child, 0)
    oi = np.where(inside, 0, child - n)
    age = np.where(inside, kids.age[ci], o_age[oi]) - (year == PREVIOUS_YEAR)
    track = np.where(inside, kids.track[ci], TRACK_GENERAL)
    boy = np.where(inside, kids.boy[ci], o_boy[oi])
    province = np.where(inside, homes.school_province[kids.household[ci]], o_province[oi])
    level, grade = _grades(age, track)

    # Affiliation, then a school of it teaching the level in the pupil's province.
    affiliation = np.empty(m, dtype=object)
    bangkok = places.provinces.index(BANGKOK) if BANGKOK in places.provinces else -1
    for lv, mix in AFFILIATION_MIX.items():
        at = np.flatnonzero(level == lv)
        affiliation[at] = choose(rng, mix, len(at))
        if lv in BANGKOK_MIX:
            here = at[province[at] == bangkok]
            affiliation[here] = choose(rng, BANGKOK_MIX[lv], len(here))
    affiliation[(affiliation == "onab") & ~boy] = "obec"
    school = np.full(m, -1, dtype=np.int64)
    groups: dict[tuple[str, str, int], list[int]] = {}
    combos = zip(affiliation.tolist(), level.tolist(), province.tolist(), strict=True)
    for i, combo in enumerate(combos):
        groups.setdefault(combo, []).append(i)
    for (aff, lv, p), members in groups.items():
        at = np.array(members)
        found = schools.lookup.get((aff, lv, p))
        if found is None:
            aff = FALLBACK[lv]
            affiliation[at] = aff
            found = schools.lookup[(aff, lv, p)]
        school[at] = found[rng.integers(0, len(found), len(at))]
    return _Rows(
        child=child,
        year=year,
        status=status,
        age=age,
        boy=boy,
        ids=np.where(inside, kids.ids[ci], o_ids[oi]),
        first=all_first,
        last=all_last,
        birth=all_birth,
        level=level,
        grade=grade,
        affiliation=affiliation,
        school=school,
        continuing=int(extra),
    )


def _inject_faults(
    rng: np.random.Generator,
    py_rng: random.Random,
    homes: _Households,
    kids: _Children,
    register: _Rows,
    names: _Names,
    schools: Schools,
) -> _Written:
    """The faults of real registers, row by row; they combine, as they do there."""
    n = len(kids.age)
    child = register.child
    m = len(child)
    inside = child < n
    ci = np.where(inside, child, 0)
    faults = np.zeros(m, dtype=np.int64)
    faults[~inside] |= FAULT_BIT["not_in_population"]
    faults[inside & homes.moved[kids.household[ci]]] |= FAULT_BIT["moved_family"]
    written = [
        kids.true_id[c] if c < n else f"{register.ids[i]:013d}"
        for i, c in enumerate(child.tolist())
    ]
    g_row = inside & kids.school_g[ci]
    g_id = inside & (kids.id_kind[ci] == ID_G_CODE)
    for i in np.flatnonzero(g_row).tolist():
        written[i] = kids.g_codes[int(child[i])]
    faults[g_row] |= FAULT_BIT["g_code"]
    u = rng.random(m)
    plain = ~g_row & ~g_id
    missing = plain & (u < MISSING_IDS)
    typo = plain & (u >= MISSING_IDS) & (u < MISSING_IDS + MISTYPED_IDS)
    for i in np.flatnonzero(missing).tolist():
        written[i] = ""
    typed = mistype(rng, register.ids[typo])
    for i, value in zip(np.flatnonzero(typo).tolist(), typed, strict=True):
        written[i] = value
    faults[missing] |= FAULT_BIT["missing_id"]
    faults[typo] |= FAULT_BIT["mistyped_id"]

    first = names.first[register.first[child]].tolist()
    last = names.last[register.last[child]].tolist()
    births = be_dates(register.birth[child])
    name_kinds = Counter[str]()
    for i in np.flatnonzero(rng.random(m) < MISSPELLED_NAMES).tolist():
        kind = py_rng.choices(("changed_character", "doubled_space", "title"), (2, 1, 1))[0]
        name_kinds[kind] += 1
        faults[i] |= FAULT_BIT["misspelled_name"]
        if kind == "changed_character":
            if py_rng.random() < 0.5:
                first[i] = misspell(py_rng, first[i])
            else:
                last[i] = misspell(py_rng, last[i])
        elif kind == "doubled_space":
            # Compound surnames get split by a clerk who thinks they are two words.
            cut = py_rng.randrange(1, len(last[i]))
            last[i] = last[i][:cut] + "  " + last[i][cut:]
        else:
            young = register.age[i] < 15
            boy = register.boy[i]
            title = ("ด.ช." if young else "นาย") if boy else ("ด.ญ." if young else "นางสาว")
            first[i] = title + py_rng.choice(("", " ")) + first[i]
    day = np.array([int(b[:2]) for b in births])
    month = np.array([int(b[3:5]) for b in births])
    eligible = (day <= 12) & (day != month)
    swap_p = min(1.0, SWAPPED_DATES * m / max(int(eligible.sum()), 1))
    swapped = eligible & (rng.random(m) < swap_p)
    for i in np.flatnonzero(swapped).tolist():
        b = births[i]
        births[i] = f"{b[3:5]}/{b[:2]}/{b[6:]}"
    faults[swapped] |= FAULT_BIT["swapped_date"]

    # A fault must not make a row look like another of its file: undo it if so.
    codes = np.array(schools.codes, dtype=object)[register.school].tolist()
    seen: set[str] = set()
    undone = 0
    year = register.year
    for i in range(m):
        key = f"{year[i]}|" + row_key(codes[i], first[i], last[i], be_to_iso(births[i]))
        if key in seen:
            undone += 1
            c = int(child[i])
            first[i] = str(names.first[register.first[c]])
            last[i] = str(names.last[register.last[c]])
            births[i] = be_dates(register.birth[c : c + 1])[0]
            faults[i] &= ~(FAULT_BIT["misspelled_name"] | FAULT_BIT["swapped_date"])
            key = f"{year[i]}|" + row_key(codes[i], first[i], last[i], be_to_iso(births[i]))
            if key in seen:
                raise RuntimeError(f"two register rows cannot be told apart: {key}")
        seen.add(key)
    return _Written(
        national_id=written,
        first=first,
        last=last,
        birth=births,
        school_code=codes,
        faults=faults,
        name_kinds=name_kinds,
        undone=undone,
    )


def _by_age(weights: dict[int, float]) -> Floats:
    return np.array([weights.get(a, 0.0) for a in range(max(*OUTSIDE_AGES, MAX_AGE) + 1)])


def _grades(ages: Ints, track: Ints) -> tuple[Strs, Strs]:
    """(school level, grade label) of each pupil of ``age`` on the year's first day."""
    level = np.empty(len(ages), dtype=object)
    grade = np.empty(len(ages), dtype=object)
    labels: dict[tuple[int, int], tuple[str, str]] = {}
    for a in range(MIN_AGE, MAX_AGE + 1):
        for t in (TRACK_GENERAL, TRACK_VOCATIONAL, TRACK_NONFORMAL):
            if a <= 5:
                labels[(a, t)] = (PRE, f"อ.{a - 2}")
            elif a <= 11:
                labels[(a, t)] = (PRI, f"ป.{a - 5}")
            elif a <= 14:
                labels[(a, t)] = (LOW, f"ม.{a - 11}")
            elif a <= 17:
                labels[(a, t)] = (
                    (VOC, f"ปวช.{a - 14}")
                    if t == TRACK_VOCATIONAL
                    else (NFE, "ม.ปลาย")
                    if t == TRACK_NONFORMAL
                    else (UP, f"ม.{a - 11}")
                )
            else:
                labels[(a, t)] = (VOC, "ปวส.1") if t == TRACK_VOCATIONAL else (UP, "ม.6")
    for (a, t), (lv, gr) in labels.items():
        at = (ages == a) & (track == t)
        level[at] = lv
        grade[at] = gr
    return level, grade


def _write_csv(
    path: Path, header: Sequence[str], rows: Iterable[Sequence[object]], *, bom: bool = False
) -> None:
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def _write_villages(directory: Path, places: Places, villages: Villages) -> None:
    codes = [places.tambons[t].code for t in villages.tambon.tolist()]
    _write_csv(
        directory / "villages.csv",
        VILLAGE_HEADER,
        (
            (f"{c}{moo:02d}", name, f"{y:.6f}", f"{x:.6f}")
            for c, moo, name, x, y in zip(
                codes,
                villages.moo.tolist(),
                villages.names,
                villages.x.tolist(),
                villages.y.tolist(),
                strict=True,
            )
        ),
    )


def _write_schools(
    directory: Path, places: Places, villages: Villages, schools: Schools, students: Ints
) -> None:
    rows = []
    for i, code in enumerate(schools.codes):
        v = int(schools.village[i])
        rows.append(
            (
                code,
                schools.names[i],
                schools.affiliation[i],
                "|".join(schools.levels[i]),
                f"{villages.y[v]:.6f}",
                f"{villages.x[v]:.6f}",
                places.tambons[int(villages.tambon[v])].code,
                int(students[i]),
            )
        )
    _write_csv(directory / "schools.csv", SCHOOL_HEADER, sorted(rows))


def _write_population(
    directory: Path,
    py_rng: random.Random,
    rng: np.random.Generator,
    *,
    places: Places,
    villages: Villages,
    child_h: Ints,
    h_village: Ints,
    house_no: list[str],
    h_located: Bools,
    written_id: list[str],
    title_boy: Bools,
    age: Ints,
    first: list[str],
    last: list[str],
    birth: Ints,
    foreign: Bools,
) -> dict[str, Any]:
    h_count = len(h_village)
    h_tambon = villages.tambon[h_village]
    # Where located households are: around their village, inside their tambon.
    hx = villages.x[h_village].copy()
    hy = villages.y[h_village].copy()
    todo = np.flatnonzero(h_located)
    lat_scale = np.cos(np.radians(hy))
    for _ in range(10):
        if not len(todo):
            break
        x = np.round(
            hx[todo]
            + rng.normal(0, HOUSE_SPREAD_M, len(todo)) / (METRES_PER_DEGREE * lat_scale[todo]),
            6,
        )
        y = np.round(hy[todo] + rng.normal(0, HOUSE_SPREAD_M, len(todo)) / METRES_PER_DEGREE, 6)
        ok = places.only_in(x, y, h_tambon[todo])
        hx[todo[ok]] = x[ok]
        hy[todo[ok]] = y[ok]
        todo = todo[~ok]
    # Those still outside after ten draws stand at the village point itself.

    # The หมู่ written: the village's own, or one villages.csv does not list; such
    # an address must still be the only one of its tambon, หมู่ and house number.
    moo = villages.moo[h_village].copy()
    unlisted = rng.random(h_count) < UNLISTED_MOO
    taken: set[tuple[int, int, str]] = set()
    per_tambon = villages.per_tambon
    for h in np.flatnonzero(unlisted).tolist():
        t = int(h_tambon[h])
        for _ in range(20):
            candidate = int(per_tambon[t]) + py_rng.randint(1, 5)
            if (t, candidate, house_no[h]) not in taken:
                taken.add((t, candidate, house_no[h]))
                moo[h] = candidate
                break
        else:
            unlisted[h] = False

    tambon_names = [place.name for place in places.tambons]
    by_province: dict[str, set[str]] = {}
    for place in places.tambons:
        by_province.setdefault(place.province_code, set()).add(place.name)
    h_tambon_name = [tambon_names[t] for t in h_tambon.tolist()]
    misspelled = np.flatnonzero(rng.random(h_count) < MISSPELLED_TAMBONS)
    misspelled_truth = []
    first_child = np.searchsorted(child_h, np.arange(h_count))
    for h in misspelled.tolist():
        home = places.tambons[int(h_tambon[h])]
        h_tambon_name[h] = misspell(py_rng, home.name, by_province[home.province_code])
        misspelled_truth.append(
            {
                "national_id": written_id[int(first_child[h])],
                "written": h_tambon_name[h],
                "tambon": home.code,
            }
        )
    prefixed = rng.random(h_count) < DISTRICT_PREFIXED
    h_district = []
    for t, p in zip(h_tambon.tolist(), prefixed.tolist(), strict=True):
        place = places.tambons[t]
        word = "เขต" if place.province_code == BANGKOK else "อ."
        h_district.append(f"{word}{place.district_name}" if p else place.district_name)
    lat = [
        f"{y:.6f}" if located else ""
        for y, located in zip(hy.tolist(), h_located.tolist(), strict=True)
    ]
    lon = [
        f"{x:.6f}" if located else ""
        for x, located in zip(hx.tolist(), h_located.tolist(), strict=True)
    ]
    nationality = np.where(foreign, choose(rng, NATIONALITIES, len(age)), "ไทย").tolist()
    young = age < 15
    title = np.where(
        title_boy, np.where(young, "ด.ช.", "นาย"), np.where(young, "ด.ญ.", "นางสาว")
    ).tolist()
    sex = np.where(title_boy, "ช", "ญ").tolist()
    births = be_dates(birth)
    h = child_h.tolist()
    _write_csv(
        directory / "population.csv",
        POPULATION_HEADER,
        (
            (
                written_id[i],
                title[i],
                first[i],
                last[i],
                sex[i],
                births[i],
                house_no[hh],
                int(moo[hh]),
                h_tambon_name[hh],
                h_district[hh],
                places.tambons[int(h_tambon[hh])].province_name,
                places.tambons[int(h_tambon[hh])].postcode,
                nationality[i],
                lat[hh],
                lon[hh],
            )
            for i, hh in enumerate(h)
        ),
        bom=True,
    )
    return {
        "counts": {
            "located_households": int(h_located.sum()),
            "unlisted_moo_households": int(unlisted.sum()),
            "unlisted_moo_unlocated_households": int((unlisted & ~h_located).sum()),
            "misspelled_tambon_households": len(misspelled),
            "district_prefixed_households": int(prefixed.sum()),
            "expected_village_or_better": float((h_located | ~unlisted).sum() / max(h_count, 1)),
        },
        "misspelled": misspelled_truth,
    }


def _write_enrolment(
    directory: Path,
    rng: np.random.Generator,
    *,
    aff: Strs,
    year: Ints,
    school: Ints,
    schools: Schools,
    codes: list[str],
    written: list[str],
    first: list[str],
    last: list[str],
    birth: list[str],
    grade: Strs,
    status: Strs,
    true_ids: list[str],
    faults: Ints,
) -> dict[str, dict[str, Any]]:
    """One file per affiliation: the previous year first, then school by school."""
    files: dict[str, dict[str, Any]] = {}
    shuffle = rng.random(len(aff))
    school_names = schools.names
    for affiliation in AFFILIATIONS:
        at = np.flatnonzero(aff == affiliation)
        if not len(at):
            continue
        at = at[np.lexsort((shuffle[at], school[at], year[at]))]
        name = f"enrolment_{affiliation}.csv"
        header = ENROLMENT_HEADER_TH if affiliation in THAI_HEADED else ENROLMENT_HEADER_EN
        order = at.tolist()
        _write_csv(
            directory / name,
            header,
            (
                (
                    written[i],
                    first[i],
                    last[i],
                    birth[i],
                    codes[i],
                    school_names[int(school[i])],
                    grade[i],
                    int(year[i]),
                    status[i],
                )
                for i in order
            ),
        )
        files[name] = {
            "affiliation": affiliation,
            "years": Counter(int(year[i]) for i in order),
            "true_ids": [true_ids[i] for i in order],
            "faults": faults[at].tolist(),
        }
    return files
