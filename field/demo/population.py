"""Synthetic households and children, as the civil registration lists them.

Every child's outcome for academic year 2568 is decided here, before any
register is written, so the truth file states what a correct reconciliation
must find rather than what a reconciler happened to find.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass

from field.demo import config
from field.demo.ids import make_national_id
from field.demo.names import BOYS, FOREIGN_BOYS, FOREIGN_GIRLS, FOREIGN_SURNAMES, GIRLS, SURNAMES
from field.demo.records import Child, Household, Outcome, Tambon, VillageRecord

# Children registered at birth somewhere else: Bangkok, Udon Thani, Nakhon Ratchasima...
OTHER_OFFICES = ("1001", "1009", "4101", "3001", "4601", "4401", "4501")
# Non-Thai person types: 0 (stateless, surveyed), 6 (migrant), 7 (child of a type 6).
STATELESS_TYPES = (("0", 0.4), ("6", 0.2), ("7", 0.4))
STATELESS_NATIONALITIES = (("ไม่มีสัญชาติ", 0.5), ("ลาว", 0.3), ("เมียนมา", 0.2))
HOUSEHOLD_SIZES = ((1, 0.45), (2, 0.35), (3, 0.15), (4, 0.05))
# Who is never enrolled: mostly pre-school ages and those past compulsory school.
NEVER_WEIGHT = {
    3: 5.0,
    4: 3.0,
    5: 1.5,
    **dict.fromkeys(range(6, 12), 0.5),
    **dict.fromkeys(range(12, 15), 0.8),
    **dict.fromkeys(range(15, 19), 1.6),
}
# Who drops out: mostly in secondary school.
DROPPED_WEIGHT = {
    **dict.fromkeys(range(7, 12), 0.3),
    **dict.fromkeys(range(12, 15), 1.0),
    **dict.fromkeys(range(15, 18), 2.0),
    18: 1.5,
}


@dataclass
class Slot:
    """A child before it has a household and a name."""

    age: int
    stateless: bool = False
    outcome: Outcome = Outcome.ENROLLED
    track: str = "general"


def age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def birth_date_for_age(rng: random.Random, age: int) -> dt.date:
    """A day on which a child born is exactly ``age`` on the reference date."""
    ref = config.REFERENCE_DATE
    end = ref.replace(year=ref.year - age)
    start = ref.replace(year=ref.year - age - 1) + dt.timedelta(days=1)
    return start + dt.timedelta(days=rng.randrange((end - start).days + 1))


def largest_remainder(total: int, weights: Sequence[float]) -> list[int]:
    """``total`` split in proportion to ``weights``, in whole numbers summing to it."""
    whole = sum(weights)
    shares = [total * w / whole for w in weights]
    counts = [int(s) for s in shares]
    order = sorted(range(len(shares)), key=lambda i: (counts[i] - shares[i], i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


def weighted_sample(
    rng: random.Random, items: Sequence[int], weights: Sequence[float], k: int
) -> list[int]:
    """k items without replacement, each drawn in proportion to its weight
    (Efraimidis-Spirakis keys)."""
    keyed = sorted(
        ((rng.random() ** (1 / w), item) for item, w in zip(items, weights, strict=True) if w > 0),
        reverse=True,
    )
    return [item for _, item in keyed[:k]]


def _slots(rng: random.Random) -> list[Slot]:
    ages = list(range(config.MIN_AGE, config.MAX_AGE + 1))
    # Thai birth cohorts have shrunk by about a third since 2007.
    per_age = largest_remainder(config.IN_WINDOW, [0.7 + 0.3 * (a - 3) / 15 for a in ages])
    slots = [Slot(age) for age, n in zip(ages, per_age, strict=True) for _ in range(n)]
    _decide_outcomes(rng, slots)
    slots += [
        Slot(age, outcome=Outcome.OUTSIDE_WINDOW)
        for age, n in config.OUTSIDE_WINDOW_PER_AGE.items()
        for _ in range(n)
    ]
    return slots


def _decide_outcomes(rng: random.Random, slots: list[Slot]) -> None:
    everyone = list(range(len(slots)))
    stateless = rng.sample(everyone, config.STATELESS)
    for i in stateless:
        slots[i].stateless = True
    thai = [i for i in everyone if not slots[i].stateless]
    for pool, never, dropped in (
        (stateless, config.STATELESS_NEVER_ENROLLED, config.STATELESS_DROPPED_OUT),
        (
            thai,
            config.NEVER_ENROLLED - config.STATELESS_NEVER_ENROLLED,
            config.DROPPED_OUT - config.STATELESS_DROPPED_OUT,
        ),
    ):
        for i in weighted_sample(rng, pool, [NEVER_WEIGHT[slots[i].age] for i in pool], never):
            slots[i].outcome = Outcome.NEVER_ENROLLED
        rest = [i for i in pool if slots[i].outcome is Outcome.ENROLLED]
        weights = [DROPPED_WEIGHT.get(slots[i].age, 0.0) for i in rest]
        for i in weighted_sample(rng, rest, weights, dropped):
            slots[i].outcome = Outcome.DROPPED_OUT
    for slot in slots:
        if slot.age >= 15:
            r = rng.random()
            slot.track = (
                "vocational"
                if r < config.VOCATIONAL_SHARE
                else "nonformal"
                if r < config.VOCATIONAL_SHARE + config.NONFORMAL_SHARE
                else "general"
            )
        if slot.age == config.MAX_AGE and slot.outcome is Outcome.ENROLLED:
            if rng.random() < config.CONTINUING_AT_18:
                slot.track = "vocational"  # on to a vocational diploma (ปวส.)
            else:
                slot.outcome = Outcome.GRADUATED
                slot.track = "vocational" if slot.track == "vocational" else "general"


def _pick(rng: random.Random, options: Sequence[tuple[str, float]]) -> str:
    return rng.choices([o for o, _ in options], [w for _, w in options])[0]


def _pack(rng: random.Random, slots: list[Slot]) -> list[list[Slot]]:
    """Brothers and sisters share a household; stateless families keep together."""
    families: list[list[Slot]] = []
    for stateless in (False, True):
        group = [s for s in slots if s.stateless is stateless]
        rng.shuffle(group)
        while group:
            size = int(_pick(rng, [(str(n), w) for n, w in HOUSEHOLD_SIZES]))
            families.append(group[:size])
            del group[:size]
    return families


class _People:
    """Names and IDs, unique where a reconciliation needs them to be."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.ids: set[str] = set()
        self.keys: set[tuple[str, str, dt.date]] = set()

    def national_id(self, person_type: str, office: str) -> str:
        while True:
            value = make_national_id(self.rng, person_type=person_type, office=office)
            if value not in self.ids:
                self.ids.add(value)
                return value

    def first_name(self, boy: bool, foreign: bool, last: str, birth: dt.date) -> str:
        # Name and birth date together must single a child out: schools that know
        # a child by a G code or a mistyped ID are matched on them.
        names = (FOREIGN_BOYS if boy else FOREIGN_GIRLS) if foreign else (BOYS if boy else GIRLS)
        while True:
            first = self.rng.choice(names)
            if (first, last, birth) not in self.keys:
                self.keys.add((first, last, birth))
                return first


def _title(boy: bool, age: int) -> str:
    if age < 15:
        return "เด็กชาย" if boy else "เด็กหญิง"
    return "นาย" if boy else "นางสาว"


def make_population(
    rng: random.Random, tambons: list[Tambon], villages: list[VillageRecord]
) -> tuple[list[Household], list[Child]]:
    by_code = {t.code: t for t in tambons}
    # The city tambon is crowded; elsewhere villages differ by a factor of three.
    weights = [rng.uniform(0.5, 1.5) * (5.0 if v.tambon == "400101" else 1.0) for v in villages]
    cumulative = list(itertools.accumulate(weights))
    families = _pack(rng, _slots(rng))
    homes = sorted(
        (rng.choices(range(len(villages)), cum_weights=cumulative)[0], n)
        for n in range(len(families))
    )
    next_house = [rng.randint(1, 20) for _ in villages]
    people = _People(rng)
    households: list[Household] = []
    children: list[Child] = []
    for village_index, family_index in homes:
        village = villages[village_index]
        tambon = by_code[village.tambon]
        number = next_house[village_index]
        next_house[village_index] += rng.randint(1, 3)
        house_no = f"{number}/{rng.randint(1, 5)}" if rng.random() < 0.15 else str(number)
        xy = tambon.area.near(rng, village.xy, spread_m=config.HOUSE_SPREAD_M)
        household = Household(
            village.code, house_no, xy, rng.random() < config.LOCATED_HOUSEHOLD_SHARE
        )
        households.append(household)
        family = families[family_index]
        foreign = family[0].stateless
        last = rng.choice(FOREIGN_SURNAMES if foreign else SURNAMES)
        nationality = _pick(rng, STATELESS_NATIONALITIES) if foreign else "ไทย"
        for slot in family:
            boy = rng.random() < 0.51
            birth = birth_date_for_age(rng, slot.age)
            if foreign:
                national_id = people.national_id(_pick(rng, STATELESS_TYPES), tambon.district_code)
            else:
                office = tambon.district_code if rng.random() < 0.85 else rng.choice(OTHER_OFFICES)
                national_id = people.national_id("1", office)
            children.append(
                Child(
                    national_id=national_id,
                    title=_title(boy, slot.age),
                    first_name=people.first_name(boy, foreign, last, birth),
                    last_name=last,
                    sex="ช" if boy else "ญ",
                    birth_date=birth,
                    age=slot.age,
                    household=len(households) - 1,
                    nationality=nationality,
                    stateless=foreign,
                    outcome=slot.outcome,
                    track=slot.track,
                    g_coded=foreign and rng.random() < config.G_CODED_SHARE,
                )
            )
    return households, children
