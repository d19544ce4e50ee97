"""The field's API, for search team members and volunteers: their area (a
volunteer's zone), their cases, and visit uploads.

Every case read goes through ``team_cases`` / ``get_team_case``, the scoped
selectors; other roles are refused before any of it runs.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from django.contrib.auth.models import User
from django.contrib.gis.db.models import GeometryField
from django.contrib.gis.geos import Point
from django.core.exceptions import PermissionDenied
from django.db.models import Case as CaseWhen
from django.db.models import F, Func, Value, When
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_gis.fields import GeometryField as GeoJSONField

from field.api.payload import (
    AREA_SIMPLIFY_DEGREES,
    Zone,
    cursor_make,
    cursor_read,
    member_case,
    member_case_ids,
    member_cases,
    member_zone,
)
from field.api.serializers import (
    AreaOut,
    CaseOut,
    StopChangesIn,
    StopChangesOut,
    SyncOut,
    TeamAreaFeature,
    TodayOut,
    UploadIn,
    UploadOut,
    VillageFeature,
)
from field.models import Resolution, School, SearchOutcome, Team, TeamArea
from field.selectors import MAP_DIGITS, AreaScope, user_area
from field.services.audit import audit_cases_seen
from field.services.route_field import StopChange, route_changes_apply
from field.services.sync import VisitUpload, sync_seen, visits_upload
from field.today_selectors import member_plan, today, today_payload
from geo.models import Village

ZONE_GEOMETRY = GeoJSONField(precision=MAP_DIGITS, read_only=True)


class IsTeamMember(BasePermission):
    message = "For search team members and volunteers only."

    def has_permission(self, request: Request, view: APIView) -> bool:
        # user_area raises PermissionDenied itself for roles with no scope at all.
        return user_area(request.user).in_field


class MemberView(APIView):
    permission_classes = [IsAuthenticated, IsTeamMember]


def _choices(choices: list[tuple[str, Any]]) -> list[dict[str, str]]:
    return [{"value": value, "label": str(label)} for value, label in choices]


class AreaView(MemberView):
    @extend_schema(responses=AreaOut, operation_id="area")
    def get(self, request: Request) -> Response:
        zone = member_zone(request.user)
        body = _team_area(user_area(request.user)) if zone is None else _zone_area(zone)
        return Response(
            {
                **body,
                "outcomes": _choices(SearchOutcome.choices),
                "resolutions": _choices(Resolution.choices),
            }
        )


def _team_area(scope: AreaScope) -> dict[str, Any]:
    """A team member's teams, their current areas, and those areas' villages and schools."""
    teams = list(
        Team.objects.filter(pk__in=scope.teams).select_related("base_school").order_by("pk")
    )
    areas = list(
        TeamArea.objects.filter(team_id__in=scope.teams, ended_at__isnull=True)
        .select_related("subdistrict", "cluster")
        .defer("subdistrict__geom", "cluster__area")
        .annotate(
            shape=Func(
                CaseWhen(
                    When(cluster__isnull=True, then=F("subdistrict__geom")),
                    default=F("cluster__area"),
                ),
                Value(AREA_SIMPLIFY_DEGREES),
                function="ST_SimplifyPreserveTopology",
                output_field=GeometryField(srid=4326),
            )
        )
        .order_by("team_id", "subdistrict_id", "cluster_id")
    )
    tambons = {area.subdistrict_id for area in areas}
    districts = {area.subdistrict.district_id for area in areas}
    districts |= {team.district_id for team in teams if team.district_id}
    villages = Village.objects.filter(subdistrict_id__in=tambons).defer("area")
    schools = (
        School.objects.filter(subdistrict__district_id__in=districts)
        .order_by("name", "code")
        .values("code", "name")
    )
    return {
        "teams": [{"id": team.pk, "name": team.name, "base": _base(team)} for team in teams],
        "areas": TeamAreaFeature(areas, many=True).data,
        "villages": VillageFeature(villages, many=True).data,
        "schools": list(schools),
        "zone": None,
    }


def _zone_area(zone: Zone) -> dict[str, Any]:
    """A volunteer's zone, drawn where the app draws a team's areas: its shape as
    the one area, and home as the base distances are counted from."""
    volunteer = zone.volunteer
    features = []
    if zone.shape is not None:
        features.append(
            {
                "type": "Feature",
                "geometry": ZONE_GEOMETRY.to_representation(zone.shape),
                "properties": {"volunteer": volunteer.pk, "name": volunteer.name},
            }
        )
    return {
        "teams": [],
        "areas": {"type": "FeatureCollection", "features": features},
        "villages": VillageFeature(zone.villages, many=True).data,
        "schools": list(zone.schools.values("code", "name")),
        "zone": {
            "id": volunteer.pk,
            "name": volunteer.name,
            "village": volunteer.village.name if volunteer.village is not None else None,
            "base": _lonlat(volunteer.home),
            "households": zone.households,
        },
    }


def _base(team: Team) -> list[float] | None:
    point = team.base_point
    if point is None and team.base_school is not None:
        point = team.base_school.point
    return _lonlat(point)


def _lonlat(point: Point | None) -> list[float] | None:
    if point is None:
        return None
    return [round(point.x, 5), round(point.y, 5)]


class SyncView(MemberView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "since", str, description="The cursor of the last sync; none for a full one"
            )
        ],
        responses=SyncOut,
        operation_id="sync",
    )
    def get(self, request: Request) -> Response:
        # Taken before reading, so that nothing changed during the read is skipped.
        cursor = cursor_make()
        since = cursor_read(request.query_params.get("since"))
        case_ids = member_case_ids(request.user)
        cases = member_cases(request.user, since=since)
        if isinstance(request.user, User):
            sync_seen(user=request.user)
        sent = list(cases)
        # Only the cases sent in full: the ids alone name no one.
        audit_cases_seen(user=request.user, cases=sent, request=request, what="sync")
        return Response(
            {
                "cursor": cursor,
                "full": since is None,
                "case_ids": case_ids,
                "cases": CaseOut(sent, many=True).data,
            }
        )


class UploadView(MemberView):
    @extend_schema(request=UploadIn, responses=UploadOut, operation_id="sync_visits")
    def post(self, request: Request) -> Response:
        incoming = UploadIn(data=request.data)
        incoming.is_valid(raise_exception=True)
        uploads = [
            VisitUpload(
                client_id=item["client_id"],
                case=item["case"],
                at=item["at"],
                outcome=item["outcome"],
                note=item.get("note") or "",
                lon=item.get("lon"),
                lat=item.get("lat"),
                accuracy_m=item.get("accuracy_m"),
                house_here=item.get("house_here", False),
                resolution=item.get("resolution") or "",
                school=item.get("school") or "",
                detail=item.get("detail") or "",
                moved_lon=item.get("moved_lon"),
                moved_lat=item.get("moved_lat"),
                moved_subdistrict=item.get("moved_subdistrict") or "",
                found_id=item.get("found_id") or "",
            )
            for item in incoming.validated_data["visits"]
        ]
        user = request.user
        if not isinstance(user, User):
            raise PermissionDenied
        results = visits_upload(user=user, visits=uploads)
        return Response(
            {
                "results": [
                    {**dataclasses.asdict(result), "status": result.status.value}
                    for result in results
                ]
            }
        )


class CaseListView(MemberView):
    @extend_schema(responses=CaseOut(many=True), operation_id="cases_list")
    def get(self, request: Request) -> Response:
        cases = list(member_cases(request.user))
        audit_cases_seen(user=request.user, cases=cases, request=request, what="list")
        return Response(CaseOut(cases, many=True).data)


class CaseDetailView(MemberView):
    @extend_schema(responses=CaseOut, operation_id="case")
    def get(self, request: Request, pk: int) -> Response:
        return Response(CaseOut(member_case(request.user, pk)).data)


# --- "Today" ---------------------------------------------------------------------------


def _user(request: Request) -> User:
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    return user


class TodayView(MemberView):
    @extend_schema(
        parameters=[
            OpenApiParameter("day", dt.date, description="YYYY-MM-DD; today (Asia/Bangkok) if none")
        ],
        responses=TodayOut,
        operation_id="today",
    )
    def get(self, request: Request) -> Response:
        raw = request.query_params.get("day")
        try:
            day = dt.date.fromisoformat(raw) if raw else today()
        except ValueError as error:
            raise ValidationError({"day": "Give the day as YYYY-MM-DD."}) from error
        user = _user(request)
        return Response(today_payload(user, member_plan(user, day)))


class TodayStopsView(MemberView):
    @extend_schema(request=StopChangesIn, responses=StopChangesOut, operation_id="today_stops")
    def post(self, request: Request) -> Response:
        incoming = StopChangesIn(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        position = data.get("position")
        user = _user(request)
        plan, results = route_changes_apply(
            user=user,
            day=data.get("day"),
            changes=[
                StopChange(
                    client_id=item["client_id"],
                    at=item["at"],
                    stop=item.get("stop"),
                    case=item.get("case"),
                    state=item.get("state") or "",
                    add_case=item.get("add_case"),
                )
                for item in data["changes"]
            ],
            position=Point(position[0], position[1], srid=4326) if position else None,
            now=data.get("now"),
        )
        return Response(
            {
                "results": [
                    {**dataclasses.asdict(result), "status": result.status.value}
                    for result in results
                ],
                **today_payload(user, plan),
            }
        )
