"""The people and places of field work: roles, schools, search teams, volunteers,
and what the registries give: households, children, enrolments and cases.

Points are stored in EPSG:4326 like every geometry in the project.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import ArrayField, BigIntegerRangeField, RangeOperators
from django.db.models import Case as CaseWhen
from django.db.models import ExpressionWrapper, F, Func, Q, Value, When
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from field.registry.ids import IdentifierKind
from geo.models import District, Province, Subdistrict, Village, VillageCluster

# OBEC's rule: a school with at most this many pupils is a small school
# (โรงเรียนขนาดเล็ก), the ones most at risk of merging or closing.
SMALL_SCHOOL_MAX_STUDENTS = 120


def volunteer_default_capacity() -> int:
    """How many households a volunteer looks after unless told otherwise
    (``TAKHAI_VOLUNTEER_CAPACITY``)."""
    return int(settings.VOLUNTEER_DEFAULT_CAPACITY)


def zone_default_distance() -> int:
    """How far from home a volunteer goes unless the district says otherwise
    (``TAKHAI_ZONE_MAX_DISTANCE_M``)."""
    return int(settings.ZONE_MAX_DISTANCE_M)


# Thai numbers are 9 digits for landlines and 10 for mobiles, always with the 0.
_PHONE = Q(phone="") | Q(phone__regex=r"^0[0-9]{8,9}$")


class Role(models.TextChoices):
    ADMINISTRATOR = "administrator", _("Administrator")
    COORDINATOR = "coordinator", _("Coordinator")
    TEAM_MEMBER = "team_member", _("Search team member")
    VOLUNTEER = "volunteer", _("Education volunteer")
    OFFICIAL = "official", _("Official")


class Profile(models.Model):
    """What the system knows of a user beyond the login: role and area.

    The area is the scope of a coordinator or official: the province, narrowed
    to some of its districts when any are listed. An official of a national body
    (EEF, the ministry) is marked ``national`` instead and has no province: they
    read the aggregates of the whole country. A coordinator or official with
    neither sees nothing, so that a profile not yet given an area opens nothing.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    phone = models.CharField(max_length=10, blank=True)
    province = models.ForeignKey(
        Province, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    districts = models.ManyToManyField(District, blank=True, related_name="+")
    national = models.BooleanField(
        default=False, help_text=_("An official who reads the aggregates of the whole country")
    )
    # A team member's tablet asked for its changes (``/api/v1/sync/``): the
    # coordinator's "last sync", which a tablet with nothing to upload also sets.
    last_sync_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(role__in=Role.values), name="profile_role_valid"),
            models.CheckConstraint(condition=_PHONE, name="profile_phone_thai"),
            # Only officials read the whole country, and only without a province:
            # names are never national.
            models.CheckConstraint(
                condition=Q(national=False) | Q(role="official", province__isnull=True),
                name="profile_national_official_only",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.role})"


class Affiliation(models.TextChoices):
    """The bodies that run schools; every one keeps its own enrolment register."""

    OBEC = "obec", "สพฐ."
    LAO = "lao", "อปท."
    OPEC = "opec", "สช."
    BPP = "bpp", "ตชด."
    ONAB = "onab", "พศ."
    BMA = "bma", "กทม."
    NFE = "nfe", "กศน."
    OVEC = "ovec", "อาชีวะ"


class SchoolLevel(models.TextChoices):
    PREPRIMARY = "preprimary", _("Pre-primary")
    PRIMARY = "primary", _("Primary")
    LOWER_SECONDARY = "lower_secondary", _("Lower secondary")
    UPPER_SECONDARY = "upper_secondary", _("Upper secondary")
    VOCATIONAL = "vocational", _("Vocational")
    NONFORMAL = "nonformal", _("Non-formal")


class School(models.Model):
    """A school of any affiliation. ``code`` is the affiliation's own: OBEC's is
    10 digits, others run to 12."""

    code = models.CharField(max_length=12, unique=True)
    name = models.CharField(max_length=200)
    affiliation = models.CharField(max_length=4, choices=Affiliation.choices)
    levels = ArrayField(models.CharField(max_length=20, choices=SchoolLevel.choices))
    students = models.PositiveIntegerField(default=0)
    # A generated column, so that a map or report can filter small schools in SQL
    # and the rule cannot drift from the count it depends on.
    is_small = models.GeneratedField(
        expression=ExpressionWrapper(
            Q(students__lte=SMALL_SCHOOL_MAX_STUDENTS), output_field=models.BooleanField()
        ),
        output_field=models.BooleanField(),
        db_persist=True,
    )
    point = models.PointField(srid=4326, null=True, blank=True, help_text=_("Unset until located"))
    subdistrict = models.ForeignKey(
        Subdistrict, on_delete=models.PROTECT, null=True, blank=True, related_name="schools"
    )
    # The nearest village point of its tambon: where the school's pupils' home visits start.
    village = models.ForeignKey(
        Village, on_delete=models.SET_NULL, null=True, blank=True, related_name="schools"
    )

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(code__regex=r"^[0-9]{10,12}$"), name="school_code_10_to_12_digits"
            ),
            models.CheckConstraint(
                condition=~Q(affiliation=Affiliation.OBEC) | Q(code__regex=r"^[0-9]{10}$"),
                name="school_obec_code_10_digits",
            ),
            models.CheckConstraint(
                condition=Q(affiliation__in=Affiliation.values), name="school_affiliation_valid"
            ),
            models.CheckConstraint(
                condition=Q(levels__len__gt=0) & Q(levels__contained_by=SchoolLevel.values),
                name="school_levels_valid",
            ),
            models.CheckConstraint(
                condition=Q(students__gte=0), name="school_students_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Team(models.Model):
    """A search team (ทีมค้นหา): school staff and local leaders who visit homes."""

    name = models.CharField(max_length=100, unique=True)
    # The district whose coordinator forms the team; its areas lie there.
    district = models.ForeignKey(
        District, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    base_school = models.ForeignKey(
        School, on_delete=models.SET_NULL, null=True, blank=True, related_name="teams"
    )
    # Where the team sets out from, for routing; usually its school.
    base_point = models.PointField(srid=4326, null=True, blank=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="teams")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def _cluster_span() -> CaseWhen:
    """The part of a tambon an assignment covers, as a range of cluster ids: the
    whole tambon overlaps every cluster of it, a cluster only itself."""
    return CaseWhen(
        When(
            cluster__isnull=True,
            then=Func(Value(None), Value(None), function="int8range"),
        ),
        default=Func(F("cluster"), F("cluster"), Value("[]"), function="int8range"),
        output_field=BigIntegerRangeField(),
    )


class TeamArea(models.Model):
    """A tambon given whole to a search team, or one village cluster of it.

    An assignment is never deleted: ending it keeps who held the area when, so a
    visit recorded offline before a reassignment is still accepted from the team
    that held the case then. Among the current assignments, a database exclusion
    constraint lets a place be held by one team only.
    """

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="areas")
    subdistrict = models.ForeignKey(Subdistrict, on_delete=models.PROTECT, related_name="+")
    # The composite foreign key (cluster, subdistrict) in migration 0005 keeps a
    # cluster inside the tambon it is assigned with.
    cluster = models.ForeignKey(
        VillageCluster, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    assigned_at = models.DateTimeField()
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["subdistrict_id", "cluster_id"]
        constraints = [
            ExclusionConstraint(
                name="team_area_no_overlap",
                expressions=[
                    ("subdistrict", RangeOperators.EQUAL),
                    (_cluster_span(), RangeOperators.OVERLAPS),
                ],
                condition=Q(ended_at__isnull=True),
                violation_error_message=_(
                    "This place is already assigned to a team: end that assignment first."
                ),
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=F("assigned_at")),
                name="team_area_ends_after_start",
            ),
        ]
        indexes = [models.Index(fields=["team", "ended_at"])]

    def __str__(self) -> str:
        return f"{self.team_id}: {self.cluster_id or self.subdistrict_id}"


class TeamPlaceVersion(models.Model):
    """The counter that orders changes to who holds a tambon and its clusters.

    ``version`` goes up with every assignment or ending in the tambon
    (``field.services.teams``, which takes the row ``FOR UPDATE`` and raises it
    with ``UPDATE ... WHERE version = %s``). A team page carries the version each
    tambon was shown at, and a change made on an older one is refused as a
    conflict: a coordinator never overwrites what another just did unseen.
    """

    subdistrict = models.OneToOneField(
        Subdistrict, on_delete=models.PROTECT, primary_key=True, related_name="+"
    )
    version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.subdistrict_id}: v{self.version}"


class VolunteerKind(models.TextChoices):
    PARENT = "parent", _("Parent")
    RETIRED_CIVIL_SERVANT = "retired_civil_servant", _("Retired civil servant")
    ALUMNUS = "alumnus", _("Alumnus")
    LOCAL_SAGE = "local_sage", _("Local sage")
    OTHER = "other", _("Other")


class Volunteer(models.Model):
    """An education volunteer (อสม.การศึกษา), who looks after households near home.

    Many have no login: a coordinator records them, so ``user`` is optional.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="volunteer",
    )
    code = models.CharField(
        max_length=32,
        blank=True,
        help_text=_("The id on the coordinator's list; blank for volunteers entered by hand"),
    )
    name = models.CharField(max_length=200)
    phone = models.CharField(max_length=10, blank=True)
    home = models.PointField(srid=4326)
    village = models.ForeignKey(
        Village, on_delete=models.SET_NULL, null=True, blank=True, related_name="volunteers"
    )
    kind = models.CharField(max_length=24, choices=VolunteerKind.choices)
    capacity = models.PositiveIntegerField(
        default=volunteer_default_capacity, help_text=_("Households this volunteer can look after")
    )
    active_from = models.DateField()
    active_to = models.DateField(null=True, blank=True)
    # A locked zone keeps exactly its households when the coordinator rebalances:
    # none leave it and none join it.
    zone_locked = models.BooleanField(default=False, db_default=False)
    # Optimistic locking of the coordinator's form: each edit raises it, and a
    # form rendered at an older version is refused (field.services.volunteers).
    version = models.PositiveIntegerField(default=0, db_default=0)
    updated_at = models.DateTimeField(null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(capacity__gt=0), name="volunteer_capacity_positive"),
            models.CheckConstraint(
                condition=Q(active_to__isnull=True) | Q(active_to__gte=F("active_from")),
                name="volunteer_active_to_after_from",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=VolunteerKind.values), name="volunteer_kind_valid"
            ),
            models.CheckConstraint(condition=_PHONE, name="volunteer_phone_thai"),
            # Partial: the import's ON CONFLICT names this predicate to update by code.
            models.UniqueConstraint(
                fields=["code"], condition=~Q(code=""), name="volunteer_code_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.name


# --- registries, households, children and cases ----------------------------------


class ImportKind(models.TextChoices):
    POPULATION = "population", _("Population registry")
    ENROLMENT = "enrolment", _("Enrolment register")
    SCHOOLS = "schools", _("Schools")
    VILLAGES = "villages", _("Villages")
    VOLUNTEERS = "volunteers", _("Education volunteers")


class ImportStatus(models.TextChoices):
    READING = "reading", _("Reading")
    APPLYING = "applying", _("Saving")
    DONE = "done", _("Done")
    FAILED = "failed", _("Refused")


class ImportRun(models.Model):
    """One file handed to an importer, with its counts and its report.

    Recorded even when the file is refused, so the sender sees why; the rows of
    a refused file are never saved (one transaction).
    """

    kind = models.CharField(max_length=12, choices=ImportKind.choices)
    affiliation = models.CharField(max_length=4, choices=Affiliation.choices, blank=True)
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    size = models.BigIntegerField(default=0)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=ImportStatus.choices, default=ImportStatus.READING
    )
    # Progress, for the import page: rows read so far and bytes of the file read.
    rows_read = models.PositiveIntegerField(default=0)
    bytes_read = models.BigIntegerField(default=0)
    imported = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    unresolved = models.PositiveIntegerField(default=0)
    warnings = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, help_text=_("Why the whole file was refused"))

    class Meta:
        ordering = ["-started_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=ImportKind.values), name="importrun_kind"),
            models.CheckConstraint(
                condition=Q(status__in=ImportStatus.values), name="importrun_status"
            ),
            models.CheckConstraint(
                condition=Q(kind=ImportKind.ENROLMENT, affiliation__in=Affiliation.values)
                | (~Q(kind=ImportKind.ENROLMENT) & Q(affiliation="")),
                name="importrun_affiliation_for_enrolment",
            ),
            models.CheckConstraint(
                condition=~Q(status=ImportStatus.FAILED) | ~Q(error=""),
                name="importrun_failed_has_error",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.file_name} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in (ImportStatus.DONE, ImportStatus.FAILED)


class ProblemSeverity(models.TextChoices):
    ERROR = "error", _("Row rejected")
    WARNING = "warning", _("Row kept, with a problem")


class ImportProblem(models.Model):
    """A row that could not be used (error) or was kept with a problem (warning)."""

    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="problems")
    row = models.PositiveIntegerField(help_text=_("As the sender sees it: the header is row 1"))
    field = models.CharField(max_length=40, blank=True)
    severity = models.CharField(max_length=7, choices=ProblemSeverity.choices)
    reason = models.TextField()

    class Meta:
        ordering = ["run", "row", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(severity__in=ProblemSeverity.values), name="importproblem_severity"
            ),
        ]


class Precision(models.TextChoices):
    """How well a household is placed, best first (the geocoding ladder)."""

    FIELD_GPS = "field_gps", _("Field GPS")
    GIVEN = "given", _("Given coordinates")
    VILLAGE = "village", _("Village point")
    TAMBON = "tambon", _("Inside the tambon")
    UNRESOLVED = "unresolved", _("Unresolved")


class Household(models.Model):
    """A registered address (ทะเบียนบ้าน), with where the house is thought to be.

    ``key`` identifies the address across imports: tambon code, หมู่ and house
    number when the tambon is known, otherwise the address as written. A
    position found in the field (``FIELD_GPS``) is never replaced by an import.
    """

    # Unique through a constraint, not ``unique=True``: that would add a second
    # index for LIKE queries on PostgreSQL, which nothing runs, and which every
    # one of half a million imported households would pay for.
    key = models.CharField(max_length=255)
    house_no = models.CharField(max_length=40, blank=True)
    moo = models.PositiveSmallIntegerField(null=True, blank=True)
    address = models.CharField(max_length=400, help_text=_("As the registry wrote it"))
    # Indexes are few on purpose: a national import writes half a million
    # households, and every index costs each of them (docs/benchmarks.md). Maps
    # and counts select households by tambon (the index below), not by box, so
    # the points have no spatial index.
    subdistrict = models.ForeignKey(
        Subdistrict,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="households",
        db_index=False,
    )
    village = models.ForeignKey(
        Village,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="households",
        db_index=False,
    )
    point = models.PointField(srid=4326, null=True, blank=True, spatial_index=False)
    precision = models.CharField(
        max_length=10, choices=Precision.choices, default=Precision.UNRESOLVED
    )
    # Coordinates the registry gave, kept so that a re-import can tell whether they changed.
    given_point = models.PointField(srid=4326, null=True, blank=True, spatial_index=False)
    located_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(precision__in=Precision.values), name="household_precision_valid"
            ),
            models.CheckConstraint(
                condition=Q(precision=Precision.UNRESOLVED, point__isnull=True)
                | (~Q(precision=Precision.UNRESOLVED) & Q(point__isnull=False)),
                name="household_point_iff_resolved",
            ),
            models.UniqueConstraint(fields=["key"], name="household_key_unique"),
        ]
        indexes = [models.Index(fields=["subdistrict", "precision"])]

    def __str__(self) -> str:
        return self.address


class Sex(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")
    UNKNOWN = "", _("Not given")


class Child(models.Model):
    """A person of the population registry extract (ทะเบียนราษฎร์).

    ``key`` identifies the record across imports: the national ID or G code,
    or for a record without one, a digest of name, birth date and address.
    """

    # A child with an ID is found by ``key`` (the ID itself); no other index is
    # kept on what an import writes a million times (a constraint, not
    # ``unique=True``, which would add an index for LIKE queries as well).
    key = models.CharField(max_length=64)
    national_id = models.CharField(max_length=14, blank=True)
    id_kind = models.CharField(max_length=12, choices=IdentifierKind.choices)
    title = models.CharField(max_length=40, blank=True)
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100, blank=True)
    # first and last name without titles, spacing or Unicode variants: what matching compares.
    name_key = models.CharField(max_length=200)
    sex = models.CharField(max_length=1, choices=Sex.choices, blank=True)
    birth_date = models.DateField()
    nationality = models.CharField(max_length=60, blank=True)
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="children")
    # A digest of the imported fields: a re-import of the same row changes nothing.
    digest = models.CharField(max_length=32)
    # Provenance only, and import runs are never deleted: no constraint, which
    # saves a deferred check per row at the commit of a million-row import.
    run = models.ForeignKey(
        ImportRun, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(id_kind__in=IdentifierKind.values), name="child_id_kind_valid"
            ),
            models.CheckConstraint(condition=Q(sex__in=Sex.values), name="child_sex_valid"),
            models.UniqueConstraint(fields=["key"], name="child_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"


class EnrolmentStatus(models.TextChoices):
    STUDYING = "studying", _("Studying")
    GRADUATED = "graduated", _("Graduated")
    MOVED = "moved", _("Moved")
    LEFT = "left", _("Left")


class MatchMethod(models.TextChoices):
    NONE = "", _("Not matched")
    ID = "id", _("National ID")
    NAME = "name", _("Name, birth date and area")
    REVIEW = "review", _("Waiting for a coordinator")
    REVIEWED = "reviewed", _("Chosen by a coordinator")


class Enrolment(models.Model):
    """A row of a school register of one affiliation and academic year.

    Rows with a missing or mistyped ID are kept and matched to a child by name,
    birth date and area; ``child`` is that match.
    """

    affiliation = models.CharField(max_length=4, choices=Affiliation.choices)
    academic_year = models.PositiveSmallIntegerField(help_text=_("Buddhist era"))
    key = models.CharField(max_length=64)
    national_id = models.CharField(max_length=14, blank=True)
    id_kind = models.CharField(max_length=12, choices=IdentifierKind.choices)
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100, blank=True)
    name_key = models.CharField(max_length=200)
    birth_date = models.DateField(null=True, blank=True)
    school_code = models.CharField(max_length=12, blank=True)
    # Few indexes, as on Child: registers run to a million rows a year.
    # The school and the child are matches the importer and find_unreached derive
    # by joins, and can derive again: no constraint, because each checked
    # reference locks its row at commit, which doubled the time of a
    # million-row register (docs/benchmarks.md).
    school = models.ForeignKey(
        School,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="enrolments",
        db_index=False,
        db_constraint=False,
    )
    school_name = models.CharField(max_length=200, blank=True)
    grade = models.CharField(max_length=20, blank=True)
    status = models.CharField(max_length=10, choices=EnrolmentStatus.choices)
    digest = models.CharField(max_length=32)
    # Provenance only, and import runs are never deleted: no constraint, which
    # saves a deferred check per row at the commit of a million-row import.
    run = models.ForeignKey(
        ImportRun, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    child = models.ForeignKey(
        Child,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="enrolments",
        db_index=False,
        db_constraint=False,
    )
    match_method = models.CharField(
        max_length=8, choices=MatchMethod.choices, blank=True, default=MatchMethod.NONE
    )
    match_score = models.FloatField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["affiliation", "academic_year", "key"], name="enrolment_unique_row"
            ),
            models.CheckConstraint(
                condition=Q(affiliation__in=Affiliation.values), name="enrolment_affiliation"
            ),
            models.CheckConstraint(
                condition=Q(status__in=EnrolmentStatus.values), name="enrolment_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(id_kind__in=IdentifierKind.values), name="enrolment_id_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(academic_year__gte=2500, academic_year__lte=2700),
                name="enrolment_year_buddhist_era",
            ),
            models.CheckConstraint(
                condition=Q(match_method__in=MatchMethod.values), name="enrolment_match_method"
            ),
            # A match is either there with its method, or absent (maybe awaiting review).
            models.CheckConstraint(
                condition=(
                    Q(child__isnull=False)
                    & Q(match_method__in=[MatchMethod.ID, MatchMethod.NAME, MatchMethod.REVIEWED])
                )
                | (
                    Q(child__isnull=True)
                    & Q(
                        match_method__in=[
                            MatchMethod.NONE,
                            MatchMethod.REVIEW,
                            MatchMethod.REVIEWED,
                        ]
                    )
                ),
                name="enrolment_match_consistent",
            ),
        ]
        # Child first: it serves "the registers of this child" and the foreign key.
        indexes = [models.Index(fields=["child", "academic_year"])]


class ReviewStatus(models.TextChoices):
    OPEN = "open", _("Waiting")
    CONFIRMED = "confirmed", _("Same child")
    REJECTED = "rejected", _("None of them")


class MatchReview(models.Model):
    """A register row that fits more than one child, or fits one only loosely.

    Never decided by the machine: a coordinator picks the child, or none.
    """

    enrolment = models.OneToOneField(Enrolment, on_delete=models.CASCADE, related_name="review")
    candidates = models.JSONField(help_text=_('[{"child": id, "score": 0-100}], best first'))
    status = models.CharField(max_length=9, choices=ReviewStatus.choices, default=ReviewStatus.OPEN)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ReviewStatus.values), name="matchreview_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(status=ReviewStatus.OPEN, decided_at__isnull=True)
                | (~Q(status=ReviewStatus.OPEN) & Q(decided_at__isnull=False)),
                name="matchreview_decided_when_closed",
            ),
        ]


class ChildStatus(models.TextChoices):
    ENROLLED = "enrolled", _("Enrolled")
    DROPPED_OUT = "dropped_out", _("Dropped out")
    NEVER_ENROLLED = "never_enrolled", _("Never enrolled")
    GRADUATED = "graduated", _("Finished school")
    REVIEW = "review", _("Waiting for a match review")


class Reconciliation(models.Model):
    """One run of ``find_unreached`` for an academic year, with its counts."""

    academic_year = models.PositiveSmallIntegerField()
    reference_date = models.DateField()
    min_age = models.PositiveSmallIntegerField()
    max_age = models.PositiveSmallIntegerField()
    at = models.DateTimeField()
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    counts = models.JSONField()

    class Meta:
        ordering = ["-at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(min_age__lte=F("max_age")), name="recon_window"),
        ]


class ChildYear(models.Model):
    """Where a child in the age window stands in an academic year.

    Rewritten by every ``find_unreached`` of the year; the funnel reads it.
    """

    academic_year = models.PositiveSmallIntegerField()
    # The unique (child, year) index serves the foreign key. Rewritten whole by
    # every find_unreached from rows it has just read: no constraint to check.
    child = models.ForeignKey(
        Child, on_delete=models.CASCADE, related_name="years", db_index=False, db_constraint=False
    )
    status = models.CharField(max_length=14, choices=ChildStatus.choices)
    age = models.PositiveSmallIntegerField()
    compulsory = models.BooleanField(help_text=_("Aged 6-15: compulsory education"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["child", "academic_year"], name="childyear_unique"),
            models.CheckConstraint(
                condition=Q(status__in=ChildStatus.values), name="childyear_status_valid"
            ),
        ]


class CaseKind(models.TextChoices):
    NEVER_ENROLLED = "never_enrolled", _("Never enrolled")
    DROPPED_OUT = "dropped_out", _("Dropped out")
    AT_RISK = "at_risk", _("At risk")


class CaseStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class CloseReason(models.TextChoices):
    FOUND_ENROLLED = "found_enrolled", _("Found enrolled")
    FINISHED_SCHOOL = "finished_school", _("Finished school")
    OUT_OF_WINDOW = "out_of_window", _("Outside the age window")
    DUPLICATE = "duplicate", _("Same child as another case")


class CaseProgress(models.TextChoices):
    """Where the field work on a case stands; follows from its visits by
    ``field.services.cases.progress_of`` (the rule is written there)."""

    NEW = "new", _("Not visited yet")
    VISITED = "visited", _("Visited, not found")
    FOUND = "found", _("Found")
    RESOLVED = "resolved", _("Resolved")


class Case(models.Model):
    """A child to be found and brought back. Opened and closed by ``find_unreached``;
    what the field records (visits, notes) belongs to the case and survives re-runs."""

    child = models.ForeignKey(Child, on_delete=models.PROTECT, related_name="cases")
    kind = models.CharField(max_length=14, choices=CaseKind.choices)
    status = models.CharField(max_length=6, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    academic_year = models.PositiveSmallIntegerField(help_text=_("The year it was opened for"))
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    close_reason = models.CharField(max_length=16, choices=CloseReason.choices, blank=True)
    note = models.TextField(blank=True)
    progress = models.CharField(
        max_length=8, choices=CaseProgress.choices, default=CaseProgress.NEW, db_default="new"
    )
    # Tablets ask for what changed since their last sync: every write to a case
    # (a visit, a note, find_unreached) moves this forward.
    updated_at = models.DateTimeField(default=timezone.now, db_default=Now(), db_index=True)
    # Where the field found the child living now; the registry household stays as
    # registered, so a re-import never overwrites it. When set, the case lies here:
    # it belongs to the team whose area holds this household.
    whereabouts = models.ForeignKey(
        Household, on_delete=models.PROTECT, null=True, blank=True, related_name="found_cases"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["child"], condition=Q(status="open"), name="case_one_open_per_child"
            ),
            models.CheckConstraint(condition=Q(kind__in=CaseKind.values), name="case_kind_valid"),
            models.CheckConstraint(
                condition=Q(progress__in=CaseProgress.values), name="case_progress_valid"
            ),
            models.CheckConstraint(
                condition=(Q(status="open") & Q(closed_at__isnull=True) & Q(close_reason=""))
                | (
                    Q(status="closed")
                    & Q(closed_at__isnull=False)
                    & Q(close_reason__in=CloseReason.values)
                ),
                name="case_closed_has_reason",
            ),
        ]
        indexes = [models.Index(fields=["status", "kind"])]


class SearchOutcome(models.TextChoices):
    FOUND_AT_ADDRESS = "found_at_address", _("Found at the address")
    FOUND_ELSEWHERE = "found_elsewhere", _("Found elsewhere")
    MOVED_AWAY = "moved_away", _("Moved away")
    NOT_FOUND = "not_found", _("Not found")
    DECEASED = "deceased", _("Deceased")
    ALREADY_ENROLLED = "already_enrolled", _("Found already enrolled")
    DUPLICATE = "duplicate", _("Duplicate record")


class Resolution(models.TextChoices):
    """What became of a child who was found."""

    RETURNED_TO_SCHOOL = "returned_to_school", _("Returned to school")
    NON_FORMAL = "non_formal", _("Non-formal education (กศน.)")
    VOCATIONAL = "vocational", _("Vocational education")
    SPECIAL_EDUCATION = "special_education", _("Special education centre")
    NOT_RETURNING = "not_returning", _("Not returning")
    REFERRED = "referred", _("Referred to a multidisciplinary team")


class Visit(models.Model):
    """A home visit, as recorded in the field."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="visits")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    point = models.PointField(srid=4326, null=True, blank=True)
    # Where the GPS fix fell (reverse geocoded when recorded); both empty for a
    # point in no tambon (the sea, across a border), which is kept as recorded.
    subdistrict = models.ForeignKey(
        Subdistrict, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    village = models.ForeignKey(
        Village, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    outcome = models.CharField(max_length=16, choices=SearchOutcome.choices)
    note = models.TextField(blank=True)
    # Made by the tablet when the visit is recorded, so that a retried upload is
    # recognised and never saved twice.
    client_id = models.UUIDField(unique=True, null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now, db_default=Now())
    accuracy_m = models.FloatField(null=True, blank=True, help_text=_("GPS accuracy, metres"))
    house_here = models.BooleanField(
        default=False, help_text=_("The point is the house: it corrects the household location")
    )
    resolution = models.CharField(max_length=18, choices=Resolution.choices, blank=True)
    school = models.ForeignKey(
        School, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    detail = models.CharField(
        max_length=300, blank=True, help_text=_("Where the family moved, or why not returning")
    )
    team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="visits"
    )
    # The household the child was reported living in now (moved away, found
    # elsewhere): the case's whereabouts as this visit told it, kept for the history.
    moved_to = models.ForeignKey(
        Household, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The national ID or G code read on the child's documents, normalised; kept even
    # when it is not a valid one, as the member typed it.
    found_id = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["case", "at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome__in=SearchOutcome.values), name="visit_outcome_valid"
            ),
            models.CheckConstraint(
                condition=Q(resolution="")
                | (
                    Q(resolution__in=Resolution.values)
                    & Q(outcome__in=["found_at_address", "found_elsewhere"])
                ),
                name="visit_resolution_only_when_found",
            ),
            models.CheckConstraint(
                condition=Q(accuracy_m__isnull=True) | Q(accuracy_m__gte=0),
                name="visit_accuracy_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(house_here=False) | Q(point__isnull=False),
                name="visit_house_here_has_point",
            ),
            models.CheckConstraint(
                condition=Q(moved_to__isnull=True)
                | Q(outcome__in=["moved_away", "found_elsewhere"]),
                name="visit_moved_to_only_when_moved",
            ),
        ]


class LinkKind(models.TextChoices):
    SAME_CHILD = "same_child", _("Same child")


class CaseLink(models.Model):
    """Two open cases the field says are one child: a member read, on the child's
    documents, the ID of another case's child.

    Never merged or closed by the machine: an ID may be misread, so a coordinator
    decides which case to keep. The pair is stored once, lowest case id first.
    """

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="+")
    other = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=LinkKind.choices, default=LinkKind.SAME_CHILD)
    found_by = models.ForeignKey(
        Visit, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kept = models.ForeignKey(
        Case, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["case", "other", "kind"], name="caselink_pair_once"),
            models.CheckConstraint(condition=Q(case__lt=F("other")), name="caselink_pair_ordered"),
            models.CheckConstraint(
                condition=Q(kind__in=LinkKind.values), name="caselink_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True, kept__isnull=True)
                | Q(resolved_at__isnull=False, kept__isnull=False),
                name="caselink_resolved_keeps_one",
            ),
            models.CheckConstraint(
                condition=Q(kept__isnull=True) | Q(kept=F("case")) | Q(kept=F("other")),
                name="caselink_kept_is_of_the_pair",
            ),
        ]


# --- volunteer zones ---------------------------------------------------------------


class ZoneArea(models.Model):
    """A district's zone settings, and the counter that orders changes to its zones.

    ``version`` goes up with every change to the district's zones. A rebalance
    preview carries the version it was computed on, and applying it is refused
    when the zones have changed since: what is applied is what was shown.
    """

    district = models.OneToOneField(
        District, on_delete=models.PROTECT, primary_key=True, related_name="+"
    )
    max_distance_m = models.PositiveIntegerField(
        default=zone_default_distance,
        help_text=_("How far from home a volunteer may be given a household, in metres"),
    )
    version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            # Closer than a village's width is no zone; farther than a day's walk
            # is no volunteer's neighbourhood.
            models.CheckConstraint(
                condition=Q(max_distance_m__gte=100) & Q(max_distance_m__lte=30_000),
                name="zone_area_distance_sane",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.district_id}: {self.max_distance_m} m"


class ZoneAssignment(models.Model):
    """A household in a volunteer's zone. Never deleted: a move ends the old row and
    starts a new one, so who looked after a household when stays on record (a visit
    recorded offline is judged by the zone it was made in)."""

    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="zones")
    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, related_name="zone")
    locked = models.BooleanField(default=False)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["household"],
                condition=Q(ended_at__isnull=True),
                name="zone_one_volunteer_per_household",
                violation_error_message=_("This household is already in a volunteer's zone."),
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=F("started_at")),
                name="zone_assignment_ends_after_start",
            ),
        ]
        indexes = [models.Index(fields=["volunteer", "ended_at"])]

    def __str__(self) -> str:
        return f"{self.household_id} -> {self.volunteer_id}"


class ZoneAction(models.TextChoices):
    MOVE = "move", _("Moved by hand")
    REBALANCE = "rebalance", _("Rebalanced")
    RELEASE = "release", _("Released")
    LOCK = "lock", _("Household locked")
    UNLOCK = "unlock", _("Household unlocked")
    LOCK_ZONE = "lock_zone", _("Zone locked")
    UNLOCK_ZONE = "unlock_zone", _("Zone unlocked")
    SETTINGS = "settings", _("Distance limit changed")


class ZoneChange(models.Model):
    """One change to a district's zones: who, when, what. Written by the same
    transaction as the change itself."""

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=12, choices=ZoneAction.choices)
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    volunteer_from = models.ForeignKey(
        Volunteer, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    volunteer_to = models.ForeignKey(
        Volunteer, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    detail = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(action__in=ZoneAction.values), name="zone_change_action_valid"
            ),
        ]
        indexes = [models.Index(fields=["district", "-at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.household_id or ''}"


# --- home-visit routes ----------------------------------------------------------------


class TravelMode(models.TextChoices):
    WALK = "walk", _("On foot")
    MOTORCYCLE = "motorcycle", _("Motorcycle")
    CAR = "car", _("Car")


class RouteStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    REPLACED = "replaced", _("Replaced by a newer plan")


class StopState(models.TextChoices):
    PLANNED = "planned", _("To visit")
    DONE = "done", _("Done")
    SKIPPED = "skipped", _("Skipped")


class HouseholdWindow(models.Model):
    """When a household can be visited ("parents home after 17:00"); a household
    with none can be visited any time of the working day."""

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="windows")
    opens = models.TimeField()
    closes = models.TimeField()
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["household", "opens"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closes__gt=F("opens")), name="household_window_closes_after_opening"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.household_id}: {self.opens:%H:%M}-{self.closes:%H:%M}"


class RoutePlan(models.Model):
    """One day's home visits for a search team (each member a route) or a volunteer.

    A new plan for the same team or volunteer and day replaces the old one, which
    is kept (``REPLACED``) with what the field recorded on its stops."""

    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, null=True, blank=True, related_name="plans"
    )
    volunteer = models.ForeignKey(
        Volunteer, on_delete=models.PROTECT, null=True, blank=True, related_name="plans"
    )
    day = models.DateField()
    mode = models.CharField(max_length=10, choices=TravelMode.choices)
    starts = models.TimeField(help_text=_("Start of the working day"))
    ends = models.TimeField(help_text=_("End of the working day"))
    service_minutes = models.PositiveSmallIntegerField(default=30)
    circuity = models.FloatField(default=1.3, help_text=_("Road distance over straight distance"))
    status = models.CharField(
        max_length=10, choices=RouteStatus.choices, default=RouteStatus.PLANNED
    )
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The solver's own account: method, seconds, cost; for the benchmark and support.
    solver = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-day", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(team__isnull=False) & Q(volunteer__isnull=True))
                | (Q(team__isnull=True) & Q(volunteer__isnull=False)),
                name="route_plan_team_xor_volunteer",
            ),
            models.CheckConstraint(
                condition=Q(ends__gt=F("starts")), name="route_plan_day_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(mode__in=TravelMode.values), name="route_plan_mode_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=RouteStatus.values), name="route_plan_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(circuity__gte=1.0) & Q(circuity__lte=3.0),
                name="route_plan_circuity_sane",
            ),
            models.UniqueConstraint(
                fields=["team", "day"],
                condition=Q(status="planned", team__isnull=False),
                name="route_plan_one_per_team_day",
            ),
            models.UniqueConstraint(
                fields=["volunteer", "day"],
                condition=Q(status="planned", volunteer__isnull=False),
                name="route_plan_one_per_volunteer_day",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.team_id or ''}{self.volunteer_id or ''}"


class RouteStop(models.Model):
    """A visit in a plan: whose route (``member``; the volunteer's own login for a
    volunteer), in what order, when. What the field marks (done, skipped) stays on
    the stop; the visit itself is recorded as a ``Visit``."""

    plan = models.ForeignKey(RoutePlan, on_delete=models.CASCADE, related_name="stops")
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="+")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="+")
    sequence = models.PositiveSmallIntegerField()
    arrives = models.TimeField()
    leaves = models.TimeField()
    distance_m = models.PositiveIntegerField(help_text=_("From the previous stop"))
    state = models.CharField(max_length=8, choices=StopState.choices, default=StopState.PLANNED)
    state_at = models.DateTimeField(null=True, blank=True)
    added_in_field = models.BooleanField(default=False)

    class Meta:
        ordering = ["plan", "member", "sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "member", "sequence"], name="route_stop_sequence_unique"
            ),
            models.UniqueConstraint(fields=["plan", "case"], name="route_stop_case_once"),
            models.CheckConstraint(
                condition=Q(state__in=StopState.values), name="route_stop_state_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan_id}#{self.sequence}"


class UnplannedReason(models.TextChoices):
    BEYOND_WORKING_HOURS = "beyond_working_hours", _("Too far to go and come back within the day")
    TIME_WINDOW = "time_window", _("Its time window cannot be met today")
    NOT_ENOUGH_TIME = "not_enough_time", _("No time left today after more urgent visits")
    NO_LOCATION = "no_location", _("The household has no location")


class RouteUnplanned(models.Model):
    """An open case the plan could not fit, and why."""

    plan = models.ForeignKey(RoutePlan, on_delete=models.CASCADE, related_name="unplanned")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=24, choices=UnplannedReason.choices)
    detail = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["plan", "reason", "case"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "case"], name="route_unplanned_case_once"),
            models.CheckConstraint(
                condition=Q(reason__in=UnplannedReason.values), name="route_unplanned_reason_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan_id}: {self.case_id} ({self.reason})"


# --- home-visit campaigns -------------------------------------------------------------


class Campaign(models.Model):
    """A school's yearly home visits ("month of home visits"): every enrolled student's
    household visited once, split among the school's teachers and over the working days
    from ``first_day`` to ``last_day``. One per school and academic year; planning again
    replaces what is not yet visited."""

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="campaigns")
    academic_year = models.PositiveSmallIntegerField(help_text=_("Buddhist era"))
    first_day = models.DateField()
    last_day = models.DateField()
    mode = models.CharField(max_length=10, choices=TravelMode.choices)
    starts = models.TimeField(help_text=_("Start of the working day"))
    ends = models.TimeField(help_text=_("End of the working day"))
    service_minutes = models.PositiveSmallIntegerField(default=30)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    planned_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["school", "-academic_year"]
        constraints = [
            models.UniqueConstraint(
                fields=["school", "academic_year"], name="campaign_one_per_school_year"
            ),
            models.CheckConstraint(
                condition=Q(last_day__gte=F("first_day")), name="campaign_last_day_after_first"
            ),
            models.CheckConstraint(
                condition=Q(ends__gt=F("starts")), name="campaign_day_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(mode__in=TravelMode.values), name="campaign_mode_valid"
            ),
            models.CheckConstraint(
                condition=Q(academic_year__gte=2500, academic_year__lte=2700),
                name="campaign_year_buddhist_era",
            ),
            models.CheckConstraint(
                condition=Q(service_minutes__gte=5, service_minutes__lte=240),
                name="campaign_service_minutes_sane",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.school_id} {self.academic_year}"


class CampaignTeacher(models.Model):
    """A teacher who visits homes in a campaign; a login is optional, since most
    teachers never open Takhai."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="teachers")
    name = models.CharField(max_length=200)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    phone = models.CharField(max_length=10, blank=True)

    class Meta:
        ordering = ["campaign", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "name"], name="campaign_teacher_name_once"),
            models.CheckConstraint(condition=_PHONE, name="campaign_teacher_phone_thai"),
        ]

    def __str__(self) -> str:
        return self.name


class CampaignVisit(models.Model):
    """One household's visit in a campaign: whose route, which day, in what order and
    when. A household is visited once however many of the school's students live there."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="visits")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="+")
    teacher = models.ForeignKey(CampaignTeacher, on_delete=models.PROTECT, related_name="visits")
    day = models.DateField()
    sequence = models.PositiveSmallIntegerField()
    arrives = models.TimeField()
    visited_at = models.DateTimeField(null=True, blank=True)
    visited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["campaign", "day", "teacher", "sequence", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "household"], name="campaign_visit_household_once"
            ),
            models.CheckConstraint(
                condition=Q(sequence__gte=1), name="campaign_visit_sequence_positive"
            ),
        ]
        indexes = [models.Index(fields=["campaign", "day", "teacher"])]

    def __str__(self) -> str:
        return f"{self.campaign_id}: {self.household_id} {self.day}"


class CampaignGap(models.TextChoices):
    NO_LOCATION = "no_location", _("The household has no location")
    BEYOND_WORKING_HOURS = "beyond_working_hours", _("Too far to go and come back within the day")
    TIME_WINDOW = "time_window", _("Its time window cannot be met within the working hours")
    NO_DAY_LEFT = "no_day_left", _("No campaign day has time left for it")


class CampaignUnplanned(models.Model):
    """A student's household the campaign's plan could not fit, and why."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="unplanned")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=24, choices=CampaignGap.choices)

    class Meta:
        ordering = ["campaign", "reason", "household"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "household"], name="campaign_unplanned_household_once"
            ),
            models.CheckConstraint(
                condition=Q(reason__in=CampaignGap.values), name="campaign_unplanned_reason_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}: {self.household_id} ({self.reason})"


# --- area statistics ------------------------------------------------------------------


class StatLevel(models.TextChoices):
    COUNTRY = "country", _("Country")
    PROVINCE = "province", _("Province")
    DISTRICT = "district", _("District")
    TAMBON = "tambon", _("Tambon")


# The DOPA code of each level; the whole country has one row, "TH".
STAT_CODE_PATTERNS = {
    StatLevel.COUNTRY: r"^TH$",
    StatLevel.PROVINCE: r"^[0-9]{2}$",
    StatLevel.DISTRICT: r"^[0-9]{4}$",
    StatLevel.TAMBON: r"^[0-9]{6}$",
}

AREA_STAT_COUNTS = (
    "children_in_window",
    "compulsory_age",
    "enrolled",
    "dropped_out",
    "never_enrolled",
    "graduated",
    "in_review",
    "cases_open",
    "cases_visited",
    "cases_found",
    "cases_resolved",
    "cases_brought_back",
    "unreached_households",
    "unreached_in_zone",
    "unreached_in_team_area",
    "age_primary",
    "far_primary",
    "age_secondary",
    "far_secondary",
)


class AreaStat(models.Model):
    """An area's counts for an academic year, precomputed for the national map, so
    that no page counts a million children per request.

    Written only by ``field.services.stats``, which says what each count means.
    Tambon rows are counted from the rows below them; district and province rows
    are sums of their tambon rows. A child or case with no tambon is in no tambon,
    district or province row, only in the country row (``TH``), which therefore
    holds more than the sum of its provinces when some are unplaced. An area with
    nothing to count has no row.
    """

    academic_year = models.PositiveSmallIntegerField(help_text=_("Buddhist era"))
    level = models.CharField(max_length=8, choices=StatLevel.choices)
    code = models.CharField(max_length=6)
    # ChildYear, as the funnel counts it.
    children_in_window = models.PositiveIntegerField(default=0)
    compulsory_age = models.PositiveIntegerField(default=0)
    enrolled = models.PositiveIntegerField(default=0)
    dropped_out = models.PositiveIntegerField(default=0)
    never_enrolled = models.PositiveIntegerField(default=0)
    graduated = models.PositiveIntegerField(default=0)
    in_review = models.PositiveIntegerField(default=0)
    # Cases, where each lies (whereabouts, else the registry household).
    cases_open = models.PositiveIntegerField(default=0)
    cases_visited = models.PositiveIntegerField(default=0)
    cases_found = models.PositiveIntegerField(default=0)
    cases_resolved = models.PositiveIntegerField(default=0)
    cases_brought_back = models.PositiveIntegerField(default=0)
    # Households where an open case lies.
    unreached_households = models.PositiveIntegerField(default=0)
    unreached_in_zone = models.PositiveIntegerField(default=0)
    unreached_in_team_area = models.PositiveIntegerField(default=0)
    # Access to school: children of primary (6-11) and secondary (12-17) age whose
    # household has a point, and those of them farther than the settings' distance
    # from the nearest school teaching their level.
    age_primary = models.PositiveIntegerField(default=0)
    far_primary = models.PositiveIntegerField(default=0)
    age_secondary = models.PositiveIntegerField(default=0)
    far_secondary = models.PositiveIntegerField(default=0)
    refreshed_at = models.DateTimeField()

    class Meta:
        ordering = ["academic_year", "level", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["academic_year", "level", "code"], name="area_stat_one_per_area_year"
            ),
            models.CheckConstraint(
                condition=Q(level__in=StatLevel.values), name="area_stat_level_valid"
            ),
            models.CheckConstraint(
                condition=Q(
                    *(
                        Q(level=level, code__regex=pattern)
                        for level, pattern in STAT_CODE_PATTERNS.items()
                    ),
                    _connector=Q.OR,
                ),
                name="area_stat_code_fits_level",
            ),
            models.CheckConstraint(
                condition=Q(academic_year__gte=2500, academic_year__lte=2700),
                name="area_stat_year_buddhist_era",
            ),
            # Every child in the window has exactly one of the five statuses.
            models.CheckConstraint(
                condition=Q(
                    children_in_window=F("enrolled")
                    + F("dropped_out")
                    + F("never_enrolled")
                    + F("graduated")
                    + F("in_review")
                ),
                name="area_stat_statuses_add_up",
            ),
            models.CheckConstraint(
                condition=Q(compulsory_age__lte=F("children_in_window")),
                name="area_stat_compulsory_within_window",
            ),
            models.CheckConstraint(
                condition=Q(
                    cases_open__gte=F("cases_visited") + F("cases_found") + F("cases_resolved")
                ),
                name="area_stat_progress_within_open",
            ),
            models.CheckConstraint(
                condition=Q(unreached_in_zone__lte=F("unreached_households"))
                & Q(unreached_in_team_area__lte=F("unreached_households")),
                name="area_stat_households_within_unreached",
            ),
            models.CheckConstraint(
                condition=Q(far_primary__lte=F("age_primary"))
                & Q(far_secondary__lte=F("age_secondary"))
                & Q(children_in_window__gte=F("age_primary") + F("age_secondary")),
                name="area_stat_far_within_age",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.academic_year} {self.level} {self.code}"


class AreaPublication(models.Model):
    """What the gap map publishes one level below an area (``level``, ``code``, as
    on ``AreaStat``): each child area's quantities after suppression with ``k``,
    plus the area's own (``"total"``) and, where some children or cases lie in no
    child area, the remainder (``"unplaced"``), withheld ones as null.

    Suppression of a district's tambons takes milliseconds, and a map tile over a
    city touches ten districts; so ``field.services.stats`` writes these with the
    counts, and tiles read them instead of suppressing on every request.
    ``refreshed_at`` is the area's ``AreaStat.refreshed_at`` when written: a row
    whose time differs from its area's counts is stale and not read.
    """

    academic_year = models.PositiveSmallIntegerField(help_text=_("Buddhist era"))
    level = models.CharField(max_length=8, choices=StatLevel.choices)
    code = models.CharField(max_length=6)
    k = models.PositiveSmallIntegerField()
    areas = models.JSONField()
    refreshed_at = models.DateTimeField()

    class Meta:
        ordering = ["academic_year", "level", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["academic_year", "level", "code"], name="area_publication_one_per_area"
            ),
            # Tambons have no areas below them on the map.
            models.CheckConstraint(
                condition=Q(
                    *(
                        Q(level=level, code__regex=STAT_CODE_PATTERNS[level])
                        for level in (StatLevel.COUNTRY, StatLevel.PROVINCE, StatLevel.DISTRICT)
                    ),
                    _connector=Q.OR,
                ),
                name="area_publication_code_fits_level",
            ),
            models.CheckConstraint(condition=Q(k__gte=1), name="area_publication_k_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.academic_year} {self.level} {self.code} k={self.k}"


class AreaStatRun(models.Model):
    """When an academic year's statistics were last brought up to date as a whole
    (a full refresh, or a refresh of every tambon changed since the one before):
    the next ``stats_refresh_changed`` looks for changes from then."""

    academic_year = models.PositiveSmallIntegerField(primary_key=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    full = models.BooleanField()
    tambons = models.PositiveIntegerField(help_text=_("Tambons recounted"))
    seconds = models.FloatField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(finished_at__gte=F("started_at")), name="area_stat_run_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.academic_year} {self.started_at:%Y-%m-%d %H:%M}"


# --- the audit log ------------------------------------------------------------------------


class AuditAction(models.TextChoices):
    VIEW = "view", _("Viewed")
    EDIT = "edit", _("Edited")
    CLOSE = "close", _("Closed")
    EXPORT = "export", _("Exported")
    ASSIGN = "assign", _("Assigned")
    UNASSIGN = "unassign", _("Assignment ended")
    REASSIGN = "reassign", _("Reassigned")


class AuditObject(models.TextChoices):
    CASE = "case", _("Case")
    CHILD = "child", _("Child")
    HOUSEHOLD = "household", _("Household")
    TEAM_AREA = "team_area", _("Team area")
    ZONE_ASSIGNMENT = "zone_assignment", _("Zone assignment")
    ROUTE_PLAN = "route_plan", _("Route plan")
    IMPORT_RUN = "import_run", _("Import report")
    AREA = "area", _("Area")


class AuditEvent(models.Model):
    """One read, write or export of a child's record, or one assignment change:
    who, when, what, from where. Written by ``field.services.audit`` only.

    Append-only in the database: a trigger (migration 0016) refuses UPDATE,
    DELETE and TRUNCATE, whoever runs them, the Django admin included. Hence
    the user is PROTECTed rather than SET_NULL (which would be an UPDATE), and
    the username is copied so the row reads the same if the login is renamed.
    ``obj_id`` is a plain number, not a foreign key, for the same reason: no
    deletion elsewhere may reach into this table.
    """

    at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("None for the command line and background jobs"),
    )
    username = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=20, blank=True, help_text=_("The role at the time"))
    action = models.CharField(max_length=10, choices=AuditAction.choices)
    obj_kind = models.CharField(max_length=16, choices=AuditObject.choices)
    obj_id = models.BigIntegerField(
        null=True, blank=True, help_text=_("None for a list of many, counted in the detail")
    )
    # The DOPA code of the tambon the object lies in; for an export of an area,
    # that area's own code (2 or 4 digits), a prefix of its tambons' codes, so the
    # one prefix test scopes both. Empty when unknown: administrators only.
    tambon = models.CharField(max_length=6, blank=True, db_index=True)
    detail = models.CharField(max_length=200, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    device = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(action__in=AuditAction.values), name="audit_event_action_valid"
            ),
            models.CheckConstraint(
                condition=Q(obj_kind__in=AuditObject.values), name="audit_event_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(role="") | Q(role__in=Role.values), name="audit_event_role_valid"
            ),
            models.CheckConstraint(
                condition=Q(tambon__regex=r"^([0-9]{2}){0,3}$"), name="audit_event_tambon_code"
            ),
            # The detail says what, never who: thirteen digits in a row would be a
            # national ID (or a G code's digits) that has no business here.
            models.CheckConstraint(
                condition=~Q(detail__regex=r"[0-9]{13}"), name="audit_event_detail_no_id"
            ),
        ]
        indexes = [models.Index(fields=["tambon", "-at"], name="audit_event_area_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username or '-'} {self.action} {self.obj_kind}"

    @property
    def role_label(self) -> str:
        """The role's name; a dash for the command line."""
        return str(Role(self.role).label) if self.role in Role.values else "—"
