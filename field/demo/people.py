"""Synthetic volunteers, and the demo logins (one per role)."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from field.demo import config
from field.demo.names import BOYS, GIRLS, SURNAMES
from field.demo.records import Tambon, VillageRecord, VolunteerRecord
from field.models import Role, VolunteerKind

KINDS = (
    (VolunteerKind.PARENT, 0.4),
    (VolunteerKind.RETIRED_CIVIL_SERVANT, 0.2),
    (VolunteerKind.ALUMNUS, 0.15),
    (VolunteerKind.LOCAL_SAGE, 0.15),
    (VolunteerKind.OTHER, 0.1),
)


@dataclass(frozen=True)
class Login:
    username: str
    role: Role
    first_name: str
    last_name: str
    # District codes of the profile's area; empty = the whole province.
    districts: tuple[str, ...] = ()


LOGINS = (
    Login("admin", Role.ADMINISTRATOR, "ผู้ดูแล", "ระบบ"),
    Login("coordinator", Role.COORDINATOR, "สมศรี", "ประสานงาน", ("4001", "4002", "4003")),
    Login("member_a", Role.TEAM_MEMBER, "ครูวิชัย", "ทีมก", ("4001",)),
    Login("member_b", Role.TEAM_MEMBER, "ครูบุญมา", "ทีมข", ("4002",)),
    Login("volunteer", Role.VOLUNTEER, "แม่สมร", "อาสา"),
    Login("official", Role.OFFICIAL, "ผอ.ประเสริฐ", "ศึกษาธิการ"),
)


def fake_phone(rng: random.Random) -> str:
    """A 10-digit number starting 000: the shape of a Thai number, but no
    operator's, so nobody real is called from the demo."""
    return f"000{rng.randrange(10**7):07d}"


def make_volunteers(
    rng: random.Random, tambons: list[Tambon], villages: list[VillageRecord]
) -> list[VolunteerRecord]:
    by_code = {t.code: t for t in tambons}
    volunteers: list[VolunteerRecord] = []
    for village in rng.sample(villages, config.VOLUNTEERS):
        woman = rng.random() < 0.6  # most education volunteers are mothers
        title = rng.choice(("นาง", "นางสาว")) if woman else "นาย"
        name = f"{title}{rng.choice(GIRLS if woman else BOYS)} {rng.choice(SURNAMES)}"
        start = dt.date(2024, 6, 1) + dt.timedelta(days=rng.randrange(330))
        end = start + dt.timedelta(days=rng.randrange(60, 300)) if rng.random() < 0.1 else None
        volunteers.append(
            VolunteerRecord(
                name=name,
                phone=fake_phone(rng),
                village=village.code,
                xy=by_code[village.tambon].area.near(rng, village.xy, spread_m=150),
                kind=rng.choices([k for k, _ in KINDS], [w for _, w in KINDS])[0].value,
                capacity=rng.choice((10, 15, 20, 20, 20, 25, 30)),
                active_from=start,
                active_to=end,
            )
        )
    return sorted(volunteers, key=lambda v: (v.village, v.name))
