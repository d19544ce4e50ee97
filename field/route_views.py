"""The coordinator's home-visit route pages: plan a team's or a volunteer's day, see
it on a map, print its route sheet and download it as GPX. Every read goes through
``field.route_selectors`` (or ``field.team_selectors.get_team``), which decide who
may manage what; the plan itself is written by ``field.services.routes``."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any
from xml.etree import ElementTree as ET

import folium
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_safe

from field.day_forms import DayHoursForm
from field.models import AuditAction, AuditObject, TravelMode
from field.route_selectors import (
    MemberRoute,
    PlanDetail,
    get_volunteer,
    plan_detail,
    plans_for_user,
    tambon_name,
    volunteers_in_scope,
)
from field.services.audit import audit_record, case_tambon, common_area
from field.services.routes import route_plan_create
from field.team_selectors import get_team, manager_scope, teams_in_scope
from field.team_views import TEAM_COLOURS
from project.security import inline_hashes

GPX_NS = "http://www.topografix.com/GPX/1/1"


def _user(request: HttpRequest) -> User:
    if not isinstance(request.user, User):
        raise PermissionDenied
    return request.user


def _audit_plan(request: HttpRequest, detail: PlanDetail, action: AuditAction, what: str) -> None:
    """A plan's pages show its children's names and addresses: one event per page
    or file, in the smallest area that holds all its stops."""
    stops = [stop for member in detail.members for stop in member.stops]
    tambons = [stop.household.subdistrict_id for stop in stops]
    tambons += [case_tambon(row.case) for row in detail.unplanned]
    audit_record(
        user=request.user,
        action=action,
        obj_kind=AuditObject.ROUTE_PLAN,
        obj_id=detail.plan.pk,
        tambon=common_area(tambons),
        request=request,
        detail=f"{what} stops={len(stops)} unplanned={len(detail.unplanned)}",
    )


def clock(value: dt.time | int) -> str:
    if isinstance(value, int):
        return f"{value // 3600:02d}:{value % 3600 // 60:02d}"
    return value.strftime("%H:%M")


def duration(seconds: int) -> str:
    minutes = math.ceil(seconds / 60)
    if minutes < 60:
        return _("%(m)s min") % {"m": minutes}
    return _("%(h)s h %(m)s min") % {"h": minutes // 60, "m": f"{minutes % 60:02d}"}


def kilometres(metres: int) -> str:
    return _("%(km)s km") % {"km": f"{metres / 1000:.1f}"}


class PlanForm(DayHoursForm):
    field_order = ["target", "day"]

    target = forms.ChoiceField(label=gettext_lazy("Team or volunteer"))
    day = forms.DateField(
        label=gettext_lazy("Date"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, choices: list[tuple[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = choices  # type: ignore[attr-defined]


def _choices(user: User) -> list[tuple[str, Any]]:
    scope = manager_scope(user)
    teams = [(f"t{t.pk}", t.name) for t in teams_in_scope(scope).order_by("name")]
    volunteers = [
        (f"v{v.pk}", v.name)
        for v in volunteers_in_scope(scope).filter(user__isnull=False).order_by("name", "pk")
    ]
    return [(_("Search teams"), teams), (_("Volunteers"), volunteers)]


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def routes(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    choices = _choices(user)
    today = timezone.localdate()
    status = 200
    if request.method == "POST":
        form = PlanForm(request.POST, choices=choices)
        if form.is_valid():
            data = form.cleaned_data
            kind, pk = data["target"][0], int(data["target"][1:])
            team = get_team(user, pk) if kind == "t" else None
            volunteer = get_volunteer(user, pk) if kind == "v" else None
            try:
                plan = route_plan_create(
                    team=team,
                    volunteer=volunteer,
                    day=data["day"],
                    mode=TravelMode(data["mode"]),
                    starts=data["starts"],
                    ends=data["ends"],
                    service_minutes=data["service_minutes"],
                    by=user,
                )
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(request, _("The day is planned."))
                return redirect("field-route", pk=plan.pk)
        status = 400
        day = form.cleaned_data.get("day") or today
    else:
        day = today
        raw = request.GET.get("day", "")
        try:
            day = dt.date.fromisoformat(raw) if raw else today
        except ValueError:
            day = today
        form = PlanForm(initial={"day": day}, choices=choices)
    plans = list(plans_for_user(user, day=day))
    return render(
        request,
        "field/routes.html",
        {
            "form": form,
            "day": day,
            "plans": [
                {
                    "plan": plan,
                    "distance": kilometres(int(plan.solver.get("distance_m", 0))),
                }
                for plan in plans
            ],
            "scope": manager_scope(user),
        },
        status=status,
    )


def _member_data(detail: PlanDetail, member: MemberRoute) -> dict[str, Any]:
    colour = TEAM_COLOURS[member.index % len(TEAM_COLOURS)]
    return {
        "letter": member.letter,
        "name": member.name,
        "colour": colour,
        "path": [[lat, lon] for lon, lat in member.path(detail.base)],
        "stops": [
            {
                "sequence": stop.sequence,
                "lat": stop.household.point.y if stop.household.point else 0,
                "lon": stop.household.point.x if stop.household.point else 0,
                "arrives": clock(stop.arrives),
                "leaves": clock(stop.leaves),
                "address": stop.household.address,
            }
            for stop in member.stops
        ],
    }


def _totals(detail: PlanDetail) -> dict[str, str]:
    return {
        "distance": kilometres(int(detail.plan.solver.get("distance_m", detail.distance_m))),
        "duration": duration(detail.duration_s),
        "visits": str(detail.visits),
    }


@login_required
@require_safe
def route(request: HttpRequest, pk: int) -> HttpResponse:
    detail = plan_detail(request.user, pk)
    _audit_plan(request, detail, AuditAction.VIEW, "page")
    page_data: dict[str, Any] = {
        "base": [detail.base[1], detail.base[0]],
        "members": [_member_data(detail, m) for m in detail.members],
        "tiles": {"url": settings.TILE_URL, "attribution": settings.TILE_ATTRIBUTION},
        "strings": {"base": _("Base"), "arrives": _("arrives")},
    }
    return render(
        request,
        "field/route.html",
        {
            "detail": detail,
            "plan": detail.plan,
            "members": [_member_rows(m) for m in detail.members],
            "totals": _totals(detail),
            "page_data": page_data,
            "scope": manager_scope(request.user),
        },
    )


def _member_rows(member: MemberRoute) -> dict[str, Any]:
    return {
        "member": member,
        "colour": TEAM_COLOURS[member.index % len(TEAM_COLOURS)],
        "departure": clock(member.departure) if member.stops else "",
        "back": clock(member.back) if member.stops else "",
        "distance": kilometres(member.distance_m),
        "duration": duration(member.duration_s),
        "stops": [
            {
                "stop": stop,
                "arrives": clock(stop.arrives),
                "leaves": clock(stop.leaves),
                "tambon": tambon_name(stop),
                "leg": kilometres(stop.distance_m),
            }
            for stop in member.stops
        ],
    }


# --- the route sheet and the GPX file -------------------------------------------------------


def print_map(detail: PlanDetail) -> str:
    """The plan as a folium map, a whole HTML document for an ``<iframe srcdoc>``.

    folium's own scripts and styles come from CDNs; the map uses only Leaflet, which
    this site serves, so the rest is left out and the sheet prints offline. No tile
    layer either: the tile server is outside too, and the stops, the path and the
    addresses are what a sheet needs. Zooming and dragging are off: it is for paper.
    """
    extent = detail.extent
    fmap = folium.Map(
        tiles=None,
        zoom_control=False,
        dragging=False,
        scrollWheelZoom=False,
        doubleClickZoom=False,
        touchZoom=False,
        keyboard=False,
        attribution_control=False,
        width="100%",
        height="100%",
    )
    fmap.default_js = [("leaflet", static("leaflet/leaflet.js"))]
    fmap.default_css = [("leaflet_css", static("leaflet/leaflet.css"))]
    base = detail.base
    folium.CircleMarker(
        location=[base[1], base[0]], radius=9, color="#1d4e89", fill=True, fill_opacity=1
    ).add_to(fmap)
    for member in detail.members:
        colour = TEAM_COLOURS[member.index % len(TEAM_COLOURS)]
        path = member.path(base)
        if path:
            line = [[lat, lon] for lon, lat in path]
            folium.PolyLine(line, color=colour, weight=4).add_to(fmap)  # type: ignore[no-untyped-call]
        label = member.letter if len(detail.members) > 1 else ""
        for stop in member.stops:
            point = stop.household.point
            if point is None:
                continue
            folium.Marker(
                location=[point.y, point.x],
                icon=folium.DivIcon(
                    html=(
                        f'<div class="route-number" style="background:{colour}">'
                        f"{label}{stop.sequence}</div>"
                    ),
                    icon_size=(26, 26),
                    icon_anchor=(13, 13),
                ),
            ).add_to(fmap)
    west, south, east, north = extent
    pad = 0.0005
    fmap.fit_bounds([[south - pad, west - pad], [north + pad, east + pad]])
    root = fmap.get_root()
    root.header.add_child(  # type: ignore[attr-defined]
        folium.Element(
            "<style>.route-number{width:26px;height:26px;border-radius:50%;color:#000;"
            "border:2px solid #222;font:bold 12px/22px sans-serif;text-align:center;"
            "box-sizing:border-box}.leaflet-container{background:#f4f4f0}</style>"
        )
    )
    return str(root.render())


@login_required
@require_safe
def route_print(request: HttpRequest, pk: int) -> HttpResponse:
    detail = plan_detail(request.user, pk)
    _audit_plan(request, detail, AuditAction.EXPORT, "print")
    map_html = print_map(detail)
    response = render(
        request,
        "field/route_print.html",
        {
            "detail": detail,
            "plan": detail.plan,
            "members": [_member_rows(m) for m in detail.members],
            "totals": _totals(detail),
            "map_html": map_html,
        },
    )
    # The map's document (srcdoc) inherits this page's Content-Security-Policy:
    # folium's inline script and style may run there by their hashes, nothing else.
    hashes = {name: sources for name, sources in inline_hashes(map_html).items() if sources}
    response._csp_update = hashes  # type: ignore[attr-defined]
    return response


def gpx_document(detail: PlanDetail) -> bytes:
    """GPX 1.1: a waypoint per stop, named by its number (with the member's letter
    when a team has several) and described by its address, in visiting order; and
    one route per member from the base through its stops and back."""
    ET.register_namespace("", GPX_NS)
    root = ET.Element(f"{{{GPX_NS}}}gpx", {"version": "1.1", "creator": "Takhai"})
    metadata = ET.SubElement(root, f"{{{GPX_NS}}}metadata")
    ET.SubElement(metadata, f"{{{GPX_NS}}}name").text = f"{detail.subject} {detail.plan.day}"
    several = len(detail.members) > 1

    def name(member: MemberRoute, sequence: int) -> str:
        return f"{member.letter}{sequence}" if several else str(sequence)

    def point(tag: str, parent: ET.Element, lon: float, lat: float) -> ET.Element:
        return ET.SubElement(parent, tag, {"lat": f"{lat:.6f}", "lon": f"{lon:.6f}"})

    for member in detail.members:
        for stop in member.stops:
            where = stop.household.point
            if where is None:
                continue
            wpt = point(f"{{{GPX_NS}}}wpt", root, where.x, where.y)
            ET.SubElement(wpt, f"{{{GPX_NS}}}name").text = name(member, stop.sequence)
            ET.SubElement(wpt, f"{{{GPX_NS}}}cmt").text = clock(stop.arrives)
            ET.SubElement(wpt, f"{{{GPX_NS}}}desc").text = stop.household.address
    for member in detail.members:
        if not member.stops:
            continue
        rte = ET.SubElement(root, f"{{{GPX_NS}}}rte")
        ET.SubElement(rte, f"{{{GPX_NS}}}name").text = member.name
        path = member.path(detail.base)
        labels = [_("Base")] + [name(member, s.sequence) for s in member.stops] + [_("Base")]
        for (lon, lat), label in zip(path, labels, strict=True):
            rtept = point(f"{{{GPX_NS}}}rtept", rte, lon, lat)
            ET.SubElement(rtept, f"{{{GPX_NS}}}name").text = label
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body


@login_required
@require_safe
def route_gpx(request: HttpRequest, pk: int) -> HttpResponse:
    detail = plan_detail(request.user, pk)
    _audit_plan(request, detail, AuditAction.EXPORT, "gpx")
    response = HttpResponse(gpx_document(detail), content_type="application/gpx+xml")
    response["Content-Disposition"] = f'attachment; filename="route-{detail.plan.pk}.gpx"'
    return response
