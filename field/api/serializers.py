"""The shapes the tablet app reads and sends. The output serializers are the
payload itself, so the OpenAPI schema cannot drift from what is sent."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.translation import get_language
from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import serializers
from rest_framework_gis.fields import GeometryField
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from field.models import Case, Child, Household, StopState, TeamArea, TravelMode, Visit
from field.registry.ids import IdentifierKind
from field.selectors import MAP_DIGITS
from field.services.route_field import ChangeStatus
from field.services.sync import UploadStatus
from geo.models import Subdistrict, Village

# The API's limit on one upload: a day's visits of a team fit many times over, and
# a request stays small enough to retry over a weak mobile link.
MAX_VISITS_PER_UPLOAD = 500


def _area_name(area: Subdistrict | None) -> str | None:
    if area is None:
        return None
    english = (get_language() or "").startswith("en")
    return area.name_en if english and area.name_en else area.name_th


def _age(birth: dt.date, today: dt.date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


# --- cases ---------------------------------------------------------------------------


class VisitOut(serializers.ModelSerializer[Visit]):
    by = serializers.CharField(source="by.username", read_only=True)
    team = serializers.IntegerField(source="team_id", read_only=True, allow_null=True)

    class Meta:
        model = Visit
        fields = ["id", "client_id", "at", "outcome", "resolution", "detail", "note", "by", "team"]
        read_only_fields = fields


class ChildOut(serializers.ModelSerializer[Child]):
    name = serializers.SerializerMethodField()
    age = serializers.SerializerMethodField()
    national_id = serializers.SerializerMethodField()
    g_code = serializers.SerializerMethodField()

    class Meta:
        model = Child
        fields = ["name", "sex", "birth_date", "age", "national_id", "g_code"]
        read_only_fields = fields

    def get_name(self, child: Child) -> str:
        # A Thai title is written against the first name: ด.ช.สมชาย ใจดี.
        return f"{child.title}{child.first_name} {child.last_name}".strip()

    def get_age(self, child: Child) -> int:
        return _age(child.birth_date, timezone.localdate())

    # A G code is a school's number for a child without a national ID: kept apart,
    # so the app never shows it as a national ID.
    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_national_id(self, child: Child) -> str | None:
        if child.id_kind == IdentifierKind.G_CODE:
            return None
        return child.national_id or None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_g_code(self, child: Child) -> str | None:
        if child.id_kind != IdentifierKind.G_CODE:
            return None
        return child.national_id or None


class WhereaboutsOut(serializers.ModelSerializer[Household]):
    """Where the field found the child living now; the case lies there."""

    subdistrict = serializers.CharField(source="subdistrict_id", read_only=True, allow_null=True)
    subdistrict_name = serializers.SerializerMethodField()
    lon = serializers.SerializerMethodField()
    lat = serializers.SerializerMethodField()

    class Meta:
        model = Household
        fields = ["address", "subdistrict", "subdistrict_name", "lon", "lat", "precision"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_subdistrict_name(self, household: Household) -> str | None:
        return _area_name(household.subdistrict)

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_lon(self, household: Household) -> float | None:
        return round(household.point.x, MAP_DIGITS) if household.point is not None else None

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_lat(self, household: Household) -> float | None:
        return round(household.point.y, MAP_DIGITS) if household.point is not None else None


class HouseholdOut(WhereaboutsOut):
    """The household the registry gives, with its house number and village."""

    village = serializers.CharField(source="village_id", read_only=True, allow_null=True)
    village_name = serializers.SerializerMethodField()

    class Meta:
        model = Household
        fields = [
            "id",
            "address",
            "house_no",
            "moo",
            "village",
            "village_name",
            "subdistrict",
            "subdistrict_name",
            "precision",
            "lon",
            "lat",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_village_name(self, household: Household) -> str | None:
        village: Village | None = household.village
        return village.name if village is not None else None


class CaseOut(serializers.ModelSerializer[Case]):
    child = ChildOut(read_only=True)
    household = HouseholdOut(source="child.household", read_only=True)
    whereabouts = WhereaboutsOut(read_only=True, allow_null=True)
    visits = VisitOut(many=True, read_only=True)

    class Meta:
        model = Case
        fields = [
            "id",
            "kind",
            "status",
            "progress",
            "updated_at",
            "note",
            "child",
            "household",
            "whereabouts",
            "visits",
        ]
        read_only_fields = fields


class SyncOut(serializers.Serializer[dict[str, Any]]):
    cursor = serializers.CharField(help_text="Opaque: send it back as ?since= next time")
    full = serializers.BooleanField(help_text="True: drop every case held and keep these")
    case_ids = serializers.ListField(
        child=serializers.IntegerField(), help_text="Every open case in scope: drop the others"
    )
    cases = CaseOut(many=True)


# --- the area ------------------------------------------------------------------------


class TeamOut(serializers.Serializer[dict[str, Any]]):
    id = serializers.IntegerField()
    name = serializers.CharField()
    base = serializers.ListField(
        child=serializers.FloatField(), allow_null=True, help_text="[lon, lat]"
    )


class TeamAreaFeature(GeoFeatureModelSerializer):  # type: ignore[misc]
    """A team's current area; ``shape`` is annotated by the view (simplified)."""

    shape = GeometryField(precision=MAP_DIGITS, read_only=True)
    team = serializers.IntegerField(source="team_id", read_only=True)
    subdistrict = serializers.CharField(source="subdistrict_id", read_only=True)
    subdistrict_name = serializers.SerializerMethodField()
    cluster = serializers.IntegerField(source="cluster_id", read_only=True, allow_null=True)
    cluster_name = serializers.SerializerMethodField()

    class Meta:
        model = TeamArea
        geo_field = "shape"
        id_field = False
        fields = ["team", "subdistrict", "subdistrict_name", "cluster", "cluster_name"]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_subdistrict_name(self, area: TeamArea) -> str | None:
        return _area_name(area.subdistrict)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_cluster_name(self, area: TeamArea) -> str | None:
        return area.cluster.name if area.cluster is not None else None


class VillageFeature(GeoFeatureModelSerializer):  # type: ignore[misc]
    point = GeometryField(precision=MAP_DIGITS, read_only=True)

    class Meta:
        model = Village
        geo_field = "point"
        id_field = False
        fields = ["code", "name", "moo"]


class SchoolOut(serializers.Serializer[dict[str, Any]]):
    code = serializers.CharField()
    name = serializers.CharField()


# Built from a dict: a declared attribute named "label" would shadow Field.label.
# One class for every list of choices: a class per use would give the schema several
# components named "Choice" (drf-spectacular warns, and check --deploy with it).
_CHOICE = type(
    inline_serializer(
        name="Choice",
        fields={"value": serializers.CharField(), "label": serializers.CharField()},
    )
)


def _choices() -> serializers.Serializer[Any]:
    return _CHOICE(many=True)


def _feature_collection(geometry: str, properties: dict[str, str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "features": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "type": {"type": "string", "enum": ["Feature"]},
                        "geometry": {
                            "type": "object",
                            "nullable": True,
                            "description": f"GeoJSON {geometry}, EPSG:4326",
                        },
                        "properties": {
                            "type": "object",
                            "properties": {
                                name: {"type": kind, "nullable": True}
                                for name, kind in properties.items()
                            },
                        },
                    },
                },
            },
        },
    }


# Described by hand: the geometry is annotated by the view, which the schema
# generator cannot follow to a model field. A team member's features carry the
# team's properties, a volunteer's one zone feature "volunteer" and "name".
@extend_schema_field(
    _feature_collection(
        "Polygon or MultiPolygon, simplified",
        {
            "team": "integer",
            "subdistrict": "string",
            "subdistrict_name": "string",
            "cluster": "integer",
            "cluster_name": "string",
            "volunteer": "integer",
            "name": "string",
        },
    )
)
class AreasField(serializers.JSONField):
    pass


class ZoneHouseholdOut(serializers.Serializer[dict[str, Any]]):
    id = serializers.IntegerField()
    house_no = serializers.CharField()
    moo = serializers.IntegerField(allow_null=True)
    village_name = serializers.CharField(allow_null=True)
    lon = serializers.FloatField(allow_null=True)
    lat = serializers.FloatField(allow_null=True)


class ZoneOut(serializers.Serializer[dict[str, Any]]):
    """A volunteer's own zone, as it is now."""

    id = serializers.IntegerField(help_text="The volunteer's id")
    name = serializers.CharField(help_text="The volunteer's name")
    village = serializers.CharField(allow_null=True, help_text="The volunteer's village")
    base = serializers.ListField(
        child=serializers.FloatField(), allow_null=True, help_text="Home: [lon, lat]"
    )
    households = ZoneHouseholdOut(many=True)


class AreaOut(serializers.Serializer[dict[str, Any]]):
    teams = TeamOut(many=True, help_text="A team member's teams; none for a volunteer")
    areas = AreasField(help_text="The teams' current areas, or the volunteer's zone")
    villages = VillageFeature(many=True)
    schools = SchoolOut(many=True)
    zone = ZoneOut(allow_null=True, help_text="A volunteer's zone; null for a team member")
    outcomes = _choices()
    resolutions = _choices()


# --- uploads -------------------------------------------------------------------------


class AwareDateTimeField(serializers.DateTimeField):
    """A time with its offset: a tablet's local time without one is ambiguous, and
    guessing the server's zone would misdate visits made across a border."""

    default_error_messages = {"naive": "Give the time with its UTC offset (ISO 8601)."}

    def enforce_timezone(self, value: dt.datetime) -> dt.datetime:
        if timezone.is_naive(value):
            self.fail("naive")
        return value


class VisitIn(serializers.Serializer[dict[str, Any]]):
    """One queued visit. Only its shape is checked here; whether it may be saved
    is the upload service's to say, for each visit on its own."""

    client_id = serializers.UUIDField()
    case = serializers.IntegerField(min_value=1)
    at = AwareDateTimeField()
    outcome = serializers.CharField(max_length=16)
    resolution = serializers.CharField(
        max_length=18, allow_blank=True, allow_null=True, required=False
    )
    school = serializers.CharField(max_length=12, allow_blank=True, allow_null=True, required=False)
    detail = serializers.CharField(
        max_length=300, allow_blank=True, allow_null=True, required=False, trim_whitespace=False
    )
    note = serializers.CharField(allow_blank=True, allow_null=True, required=False)
    lon = serializers.FloatField(allow_null=True, required=False)
    lat = serializers.FloatField(allow_null=True, required=False)
    accuracy_m = serializers.FloatField(min_value=0, allow_null=True, required=False)
    house_here = serializers.BooleanField(required=False, default=False)
    # Where a child who moved lives now. Ranges, the outcome they go with and
    # whether the tambon exists are the service's to check, per visit: a 400
    # would hold back every other visit of the tablet's queue.
    moved_lon = serializers.FloatField(allow_null=True, required=False)
    moved_lat = serializers.FloatField(allow_null=True, required=False)
    moved_subdistrict = serializers.RegexField(
        r"^[0-9]{6}$", allow_blank=True, allow_null=True, required=False
    )
    found_id = serializers.CharField(
        max_length=20, allow_blank=True, allow_null=True, required=False
    )


class UploadIn(serializers.Serializer[dict[str, Any]]):
    visits = serializers.ListField(
        child=VisitIn(), allow_empty=True, max_length=MAX_VISITS_PER_UPLOAD
    )


class UploadResultOut(serializers.Serializer[dict[str, Any]]):
    client_id = serializers.CharField()
    status = serializers.ChoiceField(choices=[s.value for s in UploadStatus])
    visit = serializers.IntegerField(allow_null=True)
    reason = serializers.CharField()


class UploadOut(serializers.Serializer[dict[str, Any]]):
    results = UploadResultOut(many=True)


# --- "Today": the member's route of the day ------------------------------------------

# A day's changes on one route fit many times over.
MAX_STOP_CHANGES = 500


class TodayWindowOut(serializers.Serializer[dict[str, Any]]):
    opens = serializers.CharField(help_text="HH:MM, Asia/Bangkok")
    closes = serializers.CharField(help_text="HH:MM, Asia/Bangkok")


class TodayStopOut(serializers.Serializer[dict[str, Any]]):
    id = serializers.IntegerField()
    sequence = serializers.IntegerField()
    case = serializers.IntegerField()
    household = serializers.IntegerField()
    address = serializers.CharField()
    lon = serializers.FloatField(allow_null=True)
    lat = serializers.FloatField(allow_null=True)
    arrives = serializers.CharField(help_text="HH:MM, Asia/Bangkok")
    leaves = serializers.CharField(help_text="HH:MM, Asia/Bangkok")
    distance_m = serializers.IntegerField(help_text="By road from the previous stop")
    state = serializers.ChoiceField(choices=StopState.values)
    state_at = serializers.DateTimeField(allow_null=True)
    added_in_field = serializers.BooleanField()
    windows = TodayWindowOut(many=True, help_text="When someone is home; empty for any time")


class TodayTotalsOut(serializers.Serializer[dict[str, Any]]):
    distance_m = serializers.IntegerField()
    duration_s = serializers.IntegerField(help_text="From leaving the start to being back")
    visits = serializers.IntegerField(help_text="Stops not skipped")
    done = serializers.IntegerField()
    skipped = serializers.IntegerField()
    remaining = serializers.IntegerField()
    departs = serializers.CharField(allow_null=True)
    back = serializers.CharField(allow_null=True)


class TodayPlanOut(serializers.Serializer[dict[str, Any]]):
    id = serializers.IntegerField()
    day = serializers.DateField()
    mode = serializers.ChoiceField(choices=TravelMode.values)
    speed_kmh = serializers.FloatField()
    circuity = serializers.FloatField()
    service_minutes = serializers.IntegerField()
    starts = serializers.CharField()
    ends = serializers.CharField()
    start = serializers.ListField(child=serializers.FloatField(), allow_null=True)
    end = serializers.ListField(child=serializers.FloatField(), allow_null=True)
    stops = TodayStopOut(many=True, help_text="The member's own route only")
    totals = TodayTotalsOut()


class TodayOut(serializers.Serializer[dict[str, Any]]):
    plan = TodayPlanOut(allow_null=True)


class StopChangeIn(serializers.Serializer[dict[str, Any]]):
    """A stop's new state (the stop by id, or by case for one added offline), or a
    case to add to the route."""

    client_id = serializers.UUIDField()
    at = AwareDateTimeField()
    stop = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    case = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    state = serializers.ChoiceField(choices=StopState.values, required=False)
    add_case = serializers.IntegerField(min_value=1, required=False, allow_null=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("add_case") is None and not (
            attrs.get("state") and (attrs.get("stop") or attrs.get("case"))
        ):
            raise serializers.ValidationError("Give add_case, or state with stop or case.")
        return attrs


def _lonlat_valid(value: list[float]) -> None:
    lon, lat = value
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise serializers.ValidationError("Not a [lon, lat] position.")


class StopChangesIn(serializers.Serializer[dict[str, Any]]):
    day = serializers.DateField(required=False, allow_null=True, help_text="Today by default")
    changes = serializers.ListField(
        child=StopChangeIn(), allow_empty=True, max_length=MAX_STOP_CHANGES
    )
    position = serializers.ListField(
        child=serializers.FloatField(),
        min_length=2,
        max_length=2,
        required=False,
        allow_null=True,
        validators=[_lonlat_valid],
        help_text="Where the member is: [lon, lat]",
    )
    now = AwareDateTimeField(required=False, allow_null=True)


class StopChangeResultOut(serializers.Serializer[dict[str, Any]]):
    client_id = serializers.CharField()
    status = serializers.ChoiceField(choices=[s.value for s in ChangeStatus])
    stop = serializers.IntegerField(allow_null=True)
    reason = serializers.CharField()


class StopChangesOut(serializers.Serializer[dict[str, Any]]):
    results = StopChangeResultOut(many=True)
    plan = TodayPlanOut(allow_null=True, help_text="The route re-planned by the server")
