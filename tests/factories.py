# factory_boy's declarations carry no annotations, so calling them is untyped.
# mypy: allow-untyped-calls, allow-untyped-decorators
"""factory_boy factories for places, schools, teams, volunteers and users.

Places are tiny squares in the sea east of Narathiwat (102 E, 5 N), where no real
tambon lies, with province codes no real province has: they can share a test
database with the imported national boundaries without clashing.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any, TypeVar

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.contrib.gis.geos import MultiPolygon, Point, Polygon
from factory.declarations import (
    LazyAttribute,
    LazyAttributeSequence,
    LazyFunction,
    Sequence,
    SubFactory,
)
from factory.django import DjangoModelFactory
from factory.helpers import post_generation

from field.models import Affiliation, Profile, Role, School, SchoolLevel, Team, Volunteer
from geo.models import District, Province, Subdistrict, Village

# Two-digit codes that DOPA has not given to any province.
FREE_PROVINCE_CODES = ("99", "98", "97", "89", "88", "87", "79", "78", "69", "68", "59", "29")
ORIGIN = (102.0, 5.0)
TEST_PASSWORD = "takhai-test-password"  # noqa: S105 - tests only


def square(x: float, y: float, size: float) -> MultiPolygon:
    """A MultiPolygon square with its south-west corner at (x, y), in EPSG:4326."""
    ring = ((x, y), (x + size, y), (x + size, y + size), (x, y + size), (x, y))
    return MultiPolygon(Polygon(ring), srid=4326)


ModelT = TypeVar("ModelT")


def make(factory: type[DjangoModelFactory[ModelT]], **fields: Any) -> ModelT:
    """``factory.create(**fields)``, typed: factory_boy's own ``create`` is not."""
    return factory.create(**fields)


@functools.cache
def password_hash() -> str:
    # PBKDF2 takes about half a second by design; every test user shares one hash.
    return make_password(TEST_PASSWORD)


class ProvinceFactory(DjangoModelFactory[Province]):
    class Meta:
        model = Province

    code = Sequence(lambda n: FREE_PROVINCE_CODES[n % len(FREE_PROVINCE_CODES)])
    name_th = Sequence(lambda n: f"จังหวัดทดสอบ {n}")
    name_en = Sequence(lambda n: f"Test province {n}")
    geom = Sequence(lambda n: square(ORIGIN[0] + (n % 12) * 0.1, ORIGIN[1], 0.1))


class DistrictFactory(DjangoModelFactory[District]):
    class Meta:
        model = District

    province = SubFactory(ProvinceFactory)
    code = LazyAttributeSequence(lambda o, n: f"{o.province.code}{n % 99 + 1:02d}")
    name_th = Sequence(lambda n: f"อำเภอทดสอบ {n}")
    name_en = Sequence(lambda n: f"Test district {n}")
    geom = LazyAttribute(lambda o: o.province.geom)


class SubdistrictFactory(DjangoModelFactory[Subdistrict]):
    """A 0.01-degree square (about 1.1 km) inside its province's square."""

    class Meta:
        model = Subdistrict

    district = SubFactory(DistrictFactory)
    code = LazyAttributeSequence(lambda o, n: f"{o.district.code}{n % 99 + 1:02d}")
    name_th = Sequence(lambda n: f"ตำบลทดสอบ {n}")
    name_en = Sequence(lambda n: f"Test subdistrict {n}")
    geom = LazyAttributeSequence(
        lambda o, n: square(
            o.district.geom.extent[0] + (n % 10) * 0.01, o.district.geom.extent[1] + 0.02, 0.01
        )
    )


class VillageFactory(DjangoModelFactory[Village]):
    """A village at the centre of its tambon's square, unless given a point."""

    class Meta:
        model = Village

    subdistrict = SubFactory(SubdistrictFactory)
    code = LazyAttributeSequence(lambda o, n: f"{o.subdistrict.code}{n % 99 + 1:02d}")
    name = Sequence(lambda n: f"บ้านทดสอบ {n}")
    point = LazyAttribute(lambda o: o.subdistrict.geom.centroid)


class SchoolFactory(DjangoModelFactory[School]):
    class Meta:
        model = School

    code = Sequence(lambda n: f"10{99_000_000 + n:08d}")
    name = Sequence(lambda n: f"โรงเรียนทดสอบ {n}")
    affiliation = Affiliation.OBEC
    levels = LazyFunction(lambda: [SchoolLevel.PREPRIMARY, SchoolLevel.PRIMARY])
    students = 200
    point = LazyFunction(lambda: Point(ORIGIN[0] + 0.005, ORIGIN[1] + 0.025, srid=4326))
    subdistrict = None


class UserFactory(DjangoModelFactory[User]):
    """A user whose password is ``TEST_PASSWORD``."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    username = Sequence(lambda n: f"user{n}")
    first_name = "ทดสอบ"
    password = LazyFunction(password_hash)


class ProfileFactory(DjangoModelFactory[Profile]):
    class Meta:
        model = Profile
        skip_postgeneration_save = True

    user = SubFactory(UserFactory)
    role = Role.COORDINATOR
    province = None

    @post_generation
    def districts(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create and extracted:
            self.districts.set(extracted)


class TeamFactory(DjangoModelFactory[Team]):
    class Meta:
        model = Team
        skip_postgeneration_save = True

    name = Sequence(lambda n: f"ทีมทดสอบ {n}")
    base_school = None
    base_point = None

    @post_generation
    def members(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create and extracted:
            self.members.set(extracted)


class VolunteerFactory(DjangoModelFactory[Volunteer]):
    class Meta:
        model = Volunteer

    name = Sequence(lambda n: f"นางอาสา ทดสอบ{n}")
    home = LazyFunction(lambda: Point(ORIGIN[0] + 0.005, ORIGIN[1] + 0.025, srid=4326))
    village = None
    kind = "parent"
    active_from = dt.date(2025, 6, 1)


# --- registries, households, children and cases ------------------------------------
# Appended for the import and funnel pages. A household sits at the centre of its
# tambon's square, placed from the registry's coordinates, unless told otherwise.

from django.utils import timezone  # noqa: E402

from field.models import (  # noqa: E402
    Case,
    CaseKind,
    Child,
    ChildStatus,
    ChildYear,
    Household,
    ImportKind,
    ImportProblem,
    ImportRun,
    ImportStatus,
    Precision,
    ProblemSeverity,
    Reconciliation,
)
from field.registry.ids import IdentifierKind  # noqa: E402

TEST_ACADEMIC_YEAR = 2568


class ImportRunFactory(DjangoModelFactory[ImportRun]):
    class Meta:
        model = ImportRun

    kind = ImportKind.POPULATION
    file_name = Sequence(lambda n: f"population-{n}.csv")
    sha256 = "0" * 64
    size = 1000
    by = None
    started_at = LazyFunction(timezone.now)
    finished_at = LazyFunction(timezone.now)
    status = ImportStatus.DONE


class ImportProblemFactory(DjangoModelFactory[ImportProblem]):
    class Meta:
        model = ImportProblem

    run = SubFactory(ImportRunFactory)
    row = Sequence(lambda n: n + 2)
    field = "national_id"
    severity = ProblemSeverity.ERROR
    reason = "check digit does not match"


class HouseholdFactory(DjangoModelFactory[Household]):
    class Meta:
        model = Household

    key = Sequence(lambda n: f"test-household-{n}")
    house_no = Sequence(lambda n: f"{n + 1}/1")
    moo = 1
    address = LazyAttribute(lambda o: f"{o.house_no} หมู่ {o.moo}")
    subdistrict = SubFactory(SubdistrictFactory)
    village = None
    precision = Precision.GIVEN
    point = LazyAttribute(
        lambda o: (
            None
            if o.precision == Precision.UNRESOLVED or o.subdistrict is None
            else o.subdistrict.geom.centroid
        )
    )


class ChildFactory(DjangoModelFactory[Child]):
    class Meta:
        model = Child

    key = Sequence(lambda n: f"test-child-{n}")
    national_id = ""
    id_kind = IdentifierKind.BLANK
    first_name = Sequence(lambda n: f"เด็กชายทดสอบ{n}")
    last_name = "ทดสอบ"
    name_key = LazyAttribute(lambda o: f"{o.first_name} {o.last_name}")
    birth_date = dt.date(2015, 1, 1)
    household = SubFactory(HouseholdFactory)
    digest = "0" * 32
    run = SubFactory(ImportRunFactory)


class ChildYearFactory(DjangoModelFactory[ChildYear]):
    class Meta:
        model = ChildYear

    academic_year = TEST_ACADEMIC_YEAR
    child = SubFactory(ChildFactory)
    status = ChildStatus.NEVER_ENROLLED
    age = 10
    compulsory = LazyAttribute(lambda o: 6 <= o.age <= 15)


class CaseFactory(DjangoModelFactory[Case]):
    class Meta:
        model = Case

    child = SubFactory(ChildFactory)
    kind = CaseKind.NEVER_ENROLLED
    academic_year = TEST_ACADEMIC_YEAR
    opened_at = LazyFunction(timezone.now)


class ReconciliationFactory(DjangoModelFactory[Reconciliation]):
    class Meta:
        model = Reconciliation

    academic_year = TEST_ACADEMIC_YEAR
    reference_date = dt.date(2025, 5, 16)
    min_age = 3
    max_age = 18
    at = LazyFunction(timezone.now)
    counts = LazyFunction(dict)


POPULATION_CSV_HEADER = (
    "เลขประจำตัวประชาชน",
    "ชื่อ",
    "นามสกุล",
    "เพศ",
    "วันเกิด",
    "บ้านเลขที่",
    "หมู่",
    "ตำบล",
    "อำเภอ",
    "จังหวัด",
    "ละติจูด",
    "ลองจิจูด",
)


def thai_national_id(first12: str) -> str:
    """``first12`` with its check digit: a national ID that passes the checksum."""
    from field.registry.ids import national_id_check_digit

    return first12 + str(national_id_check_digit(first12))


def population_csv(rows: list[tuple[str, ...]]) -> bytes:
    """A population extract as district offices send it: UTF-8 with a BOM, Thai
    headers (``POPULATION_CSV_HEADER``), Buddhist-era dates written by the caller."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(POPULATION_CSV_HEADER)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


# --- school registers and match reviews ------------------------------------------------
# Appended for the match review pages. A register row waiting for review, as
# ``reconcile`` leaves it: no child, match method "review".

from field.models import Enrolment, EnrolmentStatus, MatchMethod, MatchReview  # noqa: E402


class EnrolmentFactory(DjangoModelFactory[Enrolment]):
    class Meta:
        model = Enrolment

    affiliation = Affiliation.OBEC
    academic_year = TEST_ACADEMIC_YEAR
    key = Sequence(lambda n: f"test-enrolment-{n}")
    national_id = ""
    id_kind = IdentifierKind.BLANK
    first_name = Sequence(lambda n: f"นักเรียนทดสอบ{n}")
    last_name = "ทดสอบ"
    name_key = LazyAttribute(lambda o: f"{o.first_name} {o.last_name}")
    birth_date = dt.date(2015, 1, 1)
    school_code = "1099000001"
    school_name = "โรงเรียนทดสอบ"
    grade = "ป.4"
    status = EnrolmentStatus.STUDYING
    digest = "0" * 32
    run = SubFactory(ImportRunFactory, kind=ImportKind.ENROLMENT, affiliation=Affiliation.OBEC)
    child = None
    match_method = MatchMethod.REVIEW


class MatchReviewFactory(DjangoModelFactory[MatchReview]):
    """An open review; pass ``candidates=[{"child": pk, "score": s}, ...]``."""

    class Meta:
        model = MatchReview

    enrolment = SubFactory(EnrolmentFactory)
    candidates = LazyFunction(list)
    created_at = LazyFunction(timezone.now)


# --- volunteer zones ----------------------------------------------------------------------
# Appended for the zone pages and the volunteer's view: a household in a volunteer's
# zone since the start of the 2568 school year, unlocked.

from field.models import ZoneAssignment  # noqa: E402


class ZoneAssignmentFactory(DjangoModelFactory[ZoneAssignment]):
    class Meta:
        model = ZoneAssignment

    household = SubFactory(HouseholdFactory)
    volunteer = SubFactory(VolunteerFactory)
    locked = False
    started_at = LazyFunction(lambda: timezone.now() - dt.timedelta(days=30))


# --- route plans in the field ("Today") -----------------------------------------------------
# Appended for the tablet's "Today": a planned day for a team (pass ``team=``) or a
# volunteer (``team=None, volunteer=``), and its stops, made as rows directly.

from field.models import RoutePlan, RouteStop, TravelMode  # noqa: E402


class RoutePlanFactory(DjangoModelFactory[RoutePlan]):
    class Meta:
        model = RoutePlan

    team = SubFactory(TeamFactory)
    volunteer = None
    day = LazyFunction(timezone.localdate)
    mode = TravelMode.MOTORCYCLE
    starts = dt.time(8, 0)
    ends = dt.time(17, 0)
    service_minutes = 30
    circuity = 1.3


class RouteStopFactory(DjangoModelFactory[RouteStop]):
    class Meta:
        model = RouteStop

    plan = SubFactory(RoutePlanFactory)
    member = None
    case = SubFactory(CaseFactory)
    household = LazyAttribute(lambda o: o.case.child.household)
    sequence = Sequence(lambda n: n + 1)
    arrives = LazyAttribute(lambda o: dt.time(8 + o.sequence % 9, 0))
    leaves = LazyAttribute(lambda o: dt.time(8 + o.sequence % 9, 30))
    distance_m = 500


# --- home-visit routes ----------------------------------------------------------------------
# Appended for the route plans: a household's visiting window, 17:00-19:00 unless told.

from field.models import HouseholdWindow  # noqa: E402


class HouseholdWindowFactory(DjangoModelFactory[HouseholdWindow]):
    class Meta:
        model = HouseholdWindow

    household = SubFactory(HouseholdFactory)
    opens = dt.time(17, 0)
    closes = dt.time(19, 0)
    note = ""


# --- home-visit campaigns -------------------------------------------------------------------
# Appended for the school campaigns: a studying student of a school, as the importer
# leaves a register row matched by ID to a registry child.


def enrolled_child(
    school: School, household: Household, academic_year: int = TEST_ACADEMIC_YEAR
) -> Child:
    child = make(ChildFactory, household=household)
    make(
        EnrolmentFactory,
        academic_year=academic_year,
        school_code=school.code,
        school_name=school.name,
        child=child,
        match_method=MatchMethod.ID,
    )
    return child
