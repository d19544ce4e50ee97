"""The coordinator's volunteer-zone page of a district: the zones on a map, each
volunteer's load beside it, moving and locking households, the distance limit,
rebalancing by preview then apply, the change log and where to recruit.

Every read goes through ``field.zone_selectors.district_zones``, which scopes
the district to the coordinator; every write is a service of
``field.services.zones``. The page's forms work without its script: the map only
fills in the selection.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_safe

from field.models import Volunteer
from field.selectors import user_area
from field.services.conflicts import ConflictError, expected_version
from field.services.volunteers import volunteer_create, volunteer_update
from field.services.zones import (
    ZonePreview,
    ZoneRefused,
    ZonesChanged,
    zone_distance_set,
    zone_lock,
    zone_lock_volunteer,
    zone_metrics,
    zone_move,
    zones_apply,
    zones_preview,
)
from field.team_selectors import get_district
from field.volunteer_forms import VolunteerForm
from field.zone_selectors import (
    DistrictZones,
    Recruitment,
    Uncovered,
    beyond_reach,
    district_volunteer,
    district_zones,
    recruitment,
    uncovered_reasons,
    volunteer_colour,
    zone_changes,
    zone_districts,
    zone_shapes,
)

RECRUIT_MAX = 20
UNCOVERED_COLOUR = "#d7191c"


def _user(request: HttpRequest) -> User:
    if not isinstance(request.user, User):
        raise PermissionDenied
    return request.user


def _selection(zones: DistrictZones, data: QueryDict) -> list[int]:
    """The households a form names: ids picked on the map, or every target
    household of one village or one village cluster."""
    picked = [int(t) for t in data.get("households", "").replace(" ", "").split(",") if t.isdigit()]
    if picked:
        # Unknown ids are kept: the service refuses them by name.
        return list(dict.fromkeys(picked))
    village = data.get("village", "")
    if village:
        return [h.id for h in zones.households if h.village == village]
    cluster = data.get("cluster", "")
    if cluster.isdigit():
        return [h.id for h in zones.households if h.cluster == int(cluster)]
    return []


def _volunteer(zones: DistrictZones, value: str) -> Volunteer:
    person = zones.volunteer(int(value)) if value.isdigit() else None
    if person is None:
        raise ZoneRefused(_("Choose one of this district's volunteers."))
    return person.volunteer


def _moves(data: QueryDict) -> list[tuple[int, int | None]]:
    moves: list[tuple[int, int | None]] = []
    for item in data.getlist("move"):
        household, _sep, volunteer = item.partition(":")
        if not household.isdigit() or (volunteer and not volunteer.isdigit()):
            raise ZoneRefused(_("The preview sent back was garbled: preview again."))
        moves.append((int(household), int(volunteer) if volunteer else None))
    return moves


def _act(request: HttpRequest, zones: DistrictZones) -> str:
    """Carry out the posted action; the message to show on the page."""
    user = _user(request)
    data = request.POST
    action = data.get("action", "")
    district = zones.district
    # The version of the zones the page showed; a change since is a conflict.
    expected = expected_version(data.get("version"))
    if action == "move":
        selection = _selection(zones, data)
        count = zone_move(
            district=district,
            households=selection,
            to=_volunteer(zones, data.get("volunteer", "")),
            by=user,
            expected_version=expected,
        )
        return ngettext(
            "%(count)d household moved and locked.", "%(count)d households moved and locked.", count
        ) % {"count": count}
    if action in ("lock", "unlock"):
        count = zone_lock(
            district=district,
            households=_selection(zones, data),
            locked=action == "lock",
            by=user,
            expected_version=expected,
        )
        if action == "lock":
            return ngettext(
                "%(count)d household locked.", "%(count)d households locked.", count
            ) % {"count": count}
        return ngettext(
            "%(count)d household unlocked.", "%(count)d households unlocked.", count
        ) % {"count": count}
    if action in ("lock_zone", "unlock_zone"):
        person = _volunteer(zones, data.get("volunteer", ""))
        zone_lock_volunteer(
            district=district,
            volunteer=person,
            locked=action == "lock_zone",
            by=user,
            expected_version=expected,
        )
        if action == "lock_zone":
            return _("The zone of %(name)s is locked.") % {"name": person.name}
        return _("The zone of %(name)s is unlocked.") % {"name": person.name}
    if action == "distance":
        try:
            metres = round(float(data.get("max_distance_km", "")) * 1000)
        except ValueError as error:
            raise ZoneRefused(_("Give the distance in kilometres, such as 3 or 2.5.")) from error
        try:
            zone_distance_set(
                district=district, max_distance_m=metres, by=user, expected_version=expected
            )
        except ValidationError as error:
            raise ZoneRefused(_("The limit must be between 0.1 and 30 km.")) from error
        return _("The distance limit is now %(km)s km. Rebalance to apply it.") % {
            "km": f"{metres / 1000:g}"
        }
    if action == "apply":
        version = data.get("version", "")
        count = zones_apply(
            district=district,
            moves=_moves(data),
            version=int(version) if version.isdigit() else -1,
            by=user,
        )
        return ngettext(
            "Rebalance applied: %(count)d household changed volunteer.",
            "Rebalance applied: %(count)d households changed volunteer.",
            count,
        ) % {"count": count}
    raise ZoneRefused(_("Unknown action."))


@login_required
@require_safe
def zone_index(request: HttpRequest) -> HttpResponse:
    """The districts whose zones the coordinator draws; one district opens at once."""
    districts = zone_districts(request.user)
    if len(districts) == 1:
        return redirect("field-zones", district_code=districts[0].district.code)
    return render(
        request,
        "field/zone_index.html",
        {"scope": user_area(request.user), "districts": districts},
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def zones_page(request: HttpRequest, district_code: str) -> HttpResponse:
    zones = district_zones(request.user, district_code)
    preview = None
    status = 200
    if request.method == "POST":
        if request.POST.get("action") == "preview":
            preview = zones_preview(zones)
        else:
            try:
                messages.success(request, _act(request, zones))
            except ZonesChanged as conflict:
                # Nothing was written: the page is shown again as the zones stand
                # now, with who changed them and when, instead of redirecting.
                messages.error(request, str(conflict))
                zones = district_zones(request.user, district_code)
                status = 409
            except ZoneRefused as refused:
                messages.error(request, str(refused))
                return redirect("field-zones", district_code=zones.district.code)
            else:
                return redirect("field-zones", district_code=zones.district.code)
    asked = request.GET.get("recruit", "")
    recruited = None
    reach = beyond_reach(zones)
    if asked.isdigit() and 1 <= int(asked) <= RECRUIT_MAX:
        covered = {h.id for h in zones.households} - reach
        recruited = recruitment(zones, int(asked), covered)
    return render(
        request,
        "field/zones.html",
        _context(request, zones, preview, recruited, reach),
        status=status,
    )


def _context(
    request: HttpRequest,
    zones: DistrictZones,
    preview: ZonePreview | None,
    recruited: Recruitment | None,
    reach: set[int],
) -> dict[str, Any]:
    """``reach``: the households beyond every active volunteer (``beyond_reach``)."""
    colours = {v.id: volunteer_colour(i) for i, v in enumerate(zones.volunteers)}
    names = {v.id: v.volunteer.name for v in zones.volunteers}
    addresses = {h.id: h for h in zones.households}
    moves = []
    if preview is not None:
        for move in preview.moves:
            household = addresses.get(move.household)
            moves.append(
                {
                    "household": move.household,
                    "address": household.address if household else str(move.household),
                    "village": household.village_name if household else "",
                    "before": names.get(move.before, "") if move.before else "",
                    "after": names.get(move.after, "") if move.after else "",
                    "before_id": move.before,
                    "after_id": move.after,
                    "reason": move.reason,
                    "value": f"{move.household}:{move.after or ''}",
                }
            )
    page_data = {
        "tiles": {"url": settings.TILE_URL, "attribution": settings.TILE_ATTRIBUTION},
        "uncoveredColour": UNCOVERED_COLOUR,
        "maxDistance": zones.max_distance_m,
        "volunteers": [
            {
                "id": v.id,
                "name": v.volunteer.name,
                "lon": round(v.volunteer.home.x, 5),
                "lat": round(v.volunteer.home.y, 5),
                "colour": colours[v.id],
                "households": v.households,
                "capacity": v.volunteer.capacity,
                "locked": v.volunteer.zone_locked,
                "active": v.active,
            }
            for v in zones.volunteers
        ],
        "households": [
            {
                "id": h.id,
                "lon": round(h.lon, 5),
                "lat": round(h.lat, 5),
                "volunteer": h.volunteer,
                "locked": h.locked,
                "cases": h.cases,
                "address": h.address,
                "village": h.village_name,
                "beyond": h.id in reach,
            }
            for h in zones.households
        ],
        "zones": zone_shapes(zones),
        "moves": [{"household": m["household"], "after": m["after_id"]} for m in moves],
        "recruits": [
            {"lon": p.lon, "lat": p.lat, "name": p.name, "households": p.households}
            for p in (recruited.picks if recruited else [])
        ],
        "strings": {
            "cases": _("Open cases"),
            "volunteer": _("Volunteer"),
            "none": _("No volunteer"),
            "beyond": _("Beyond every volunteer's reach"),
            "locked": _("Locked"),
            "selected": _("Selected"),
            "select": _("Tap to select"),
            "unselect": _("Tap to unselect"),
            "home": _("Home of"),
            "moves": _("Would move to"),
            "recruit": _("Recruit here"),
        },
    }
    villages = sorted(
        {(h.village, h.village_name) for h in zones.households if h.village},
        key=lambda v: v[0] or "",
    )
    clusters = sorted({(h.cluster, h.cluster_name) for h in zones.households if h.cluster})
    reasons = uncovered_reasons(zones)
    why = {
        Uncovered.BEYOND: _("beyond every active volunteer's reach"),
        Uncovered.FULL: _("the volunteers in reach are full"),
        Uncovered.WAITING: _("a volunteer in reach has room: rebalance"),
    }
    uncovered = [
        (h, reasons[h.id], why[reasons[h.id]]) for h in zones.households if h.id in reasons
    ]
    counts = {kind.value: sum(1 for r in reasons.values() if r == kind) for kind in Uncovered}
    return {
        "scope": user_area(request.user),
        "zones": zones,
        "district": zones.district,
        "metrics": zone_metrics(zones),
        "preview": preview,
        "moves": moves,
        "recruited": recruited,
        "recruit_max": RECRUIT_MAX,
        "volunteers": [(v, colours[v.id]) for v in zones.volunteers],
        "villages": villages,
        "clusters": clusters,
        "uncovered": uncovered,
        "uncovered_counts": counts,
        "max_distance_km": f"{zones.max_distance_m / 1000:g}",
        "changes": zone_changes(zones.district),
        "page_data": page_data,
    }


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def volunteer_edit(request: HttpRequest, district_code: str, pk: int | None = None) -> HttpResponse:
    """Add a volunteer to the district, or edit one of its own; the home is a point
    picked on the map, or the phone's GPS fix when the coordinator stands there."""
    district = get_district(request.user, district_code)
    volunteer = None
    if pk is not None:
        volunteer = district_volunteer(district, pk)
    form = VolunteerForm(request.POST or None, district=district, initial=_initial(volunteer))
    conflict = ""
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        fields = {
            "name": data["name"],
            "home": form.home(),
            "kind": data["kind"],
            "active_from": data["active_from"],
            "active_to": data["active_to"],
            "phone": data["phone"],
            "village": data["village"],
            "capacity": data["capacity"],
        }
        try:
            if volunteer is None:
                saved = volunteer_create(**fields)
            else:
                saved = volunteer_update(
                    volunteer=volunteer,
                    **fields,
                    by=_user(request),
                    expected_version=data["version"],
                )
        except ConflictError as error:
            # Nothing was written: the form is shown again with what is saved
            # now (and its version), so the coordinator edits that, knowingly.
            conflict = str(error)
            status = 409
            volunteer = district_volunteer(district, pk) if pk is not None else None
            form = VolunteerForm(district=district, initial=_initial(volunteer))
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("%(name)s is saved.") % {"name": saved.name})
            return redirect("field-zones", district_code=district.code)
    villages = [{"lon": v.point.x, "lat": v.point.y} for v in form.villages if v.point is not None]
    return render(
        request,
        "field/volunteer_form.html",
        {
            "scope": user_area(request.user),
            "district": district,
            "volunteer": volunteer,
            "form": form,
            "conflict": conflict,
            "map_data": {
                "tiles": {"url": settings.TILE_URL, "attribution": settings.TILE_ATTRIBUTION},
                "villages": villages,
                "strings": {
                    "gps_failed": _("No GPS fix: pick the home on the map instead."),
                    "gps_accuracy": _("GPS fix, accurate to about %(m)s m."),
                },
            },
        },
        status=status,
    )


def _initial(volunteer: Volunteer | None) -> dict[str, Any]:
    """The form's values for ``volunteer`` as saved, with its version."""
    initial: dict[str, Any] = {}
    if volunteer is not None:
        initial = {
            "version": volunteer.version,
            "name": volunteer.name,
            "phone": volunteer.phone,
            "kind": volunteer.kind,
            "village": volunteer.village,
            "capacity": volunteer.capacity,
            "active_from": volunteer.active_from,
            "active_to": volunteer.active_to,
            "lat": round(volunteer.home.y, 6),
            "lon": round(volunteer.home.x, 6),
        }
    return initial
