"""The people and places of field work: roles, schools, search teams, volunteers.

Children, households and cases come next, imported from the registry files.
Points are stored in EPSG:4326 like every geometry in the project.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField
from django.db.models import ExpressionWrapper, F, Q
from django.utils.translation import gettext_lazy as _

from geo.models import District, Province, Subdistrict, Village

# OBEC's rule: a school with at most this many pupils is a small school
# (โรงเรียนขนาดเล็ก), the ones most at risk of merging or closing.
SMALL_SCHOOL_MAX_STUDENTS = 120
# How many households a volunteer looks after unless told otherwise.
VOLUNTEER_DEFAULT_CAPACITY = 20

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
    to some of its districts when any are listed.
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

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(role__in=Role.values), name="profile_role_valid"),
            models.CheckConstraint(condition=_PHONE, name="profile_phone_thai"),
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
    name = models.CharField(max_length=200)
    phone = models.CharField(max_length=10, blank=True)
    home = models.PointField(srid=4326)
    village = models.ForeignKey(
        Village, on_delete=models.SET_NULL, null=True, blank=True, related_name="volunteers"
    )
    kind = models.CharField(max_length=24, choices=VolunteerKind.choices)
    capacity = models.PositiveIntegerField(
        default=VOLUNTEER_DEFAULT_CAPACITY, help_text=_("Households this volunteer can look after")
    )
    active_from = models.DateField()
    active_to = models.DateField(null=True, blank=True)

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
        ]

    def __str__(self) -> str:
        return self.name
