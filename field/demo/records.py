"""What the generator produces, before it goes to the database or to files.

Plain dataclasses, so the whole synthetic world can be built and checked without
a database and written twice to compare.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field

from field.demo.geometry import Area

XY = tuple[float, float]


@dataclass(frozen=True)
class Tambon:
    """A real tambon as read from the database, with what addresses need."""

    code: str
    name_th: str
    district_code: str
    district_name: str
    province_name: str
    postcode: str
    area: Area


@dataclass(frozen=True)
class VillageRecord:
    code: str
    name: str
    tambon: str
    xy: XY

    @property
    def moo(self) -> int:
        return int(self.code[6:])


@dataclass(frozen=True)
class ClusterRecord:
    tambon: str
    name: str
    villages: tuple[str, ...]


@dataclass
class SchoolRecord:
    code: str
    name: str
    affiliation: str
    levels: tuple[str, ...]
    tambon: str
    xy: XY
    small: bool
    boys_only: bool = False
    # Filled by the enrolment step: pupils in the 2568 register.
    students: int = 0


@dataclass(frozen=True)
class Household:
    village: str
    house_no: str
    xy: XY
    # Whether the population file gives this household's coordinates.
    located: bool


class Outcome(enum.StrEnum):
    """What the reconciliation of academic year 2568 should find for a child."""

    ENROLLED = "enrolled"
    DROPPED_OUT = "dropped_out"
    NEVER_ENROLLED = "never_enrolled"
    GRADUATED = "graduated"
    OUTSIDE_WINDOW = "outside_window"


@dataclass
class Child:
    national_id: str
    title: str
    first_name: str
    last_name: str
    sex: str  # ช or ญ, as the population file writes it
    birth_date: dt.date
    age: int  # completed years on the reference date
    household: int
    nationality: str
    stateless: bool
    outcome: Outcome = Outcome.ENROLLED
    # Known to its schools by a G code instead of the national ID.
    g_coded: bool = False
    # Upper-secondary track from age 15: general, vocational or nonformal.
    track: str = "general"


@dataclass(frozen=True)
class EnrolmentRow:
    affiliation: str
    national_id: str  # as written in the register: may be mistyped, blank or a G code
    first_name: str
    last_name: str
    birth_date: dt.date
    school_code: str
    school_name: str
    grade: str
    academic_year: int
    status: str
    child: int  # index into the children, kept for the truth file only


@dataclass(frozen=True)
class VolunteerRecord:
    name: str
    phone: str
    village: str
    xy: XY
    kind: str
    capacity: int
    active_from: dt.date
    active_to: dt.date | None


@dataclass
class DemoData:
    tambons: list[Tambon]
    villages: list[VillageRecord]
    clusters: list[ClusterRecord]
    schools: list[SchoolRecord]
    households: list[Household]
    children: list[Child]
    enrolment: list[EnrolmentRow]
    volunteers: list[VolunteerRecord]
    truth: dict[str, object] = field(default_factory=dict)
