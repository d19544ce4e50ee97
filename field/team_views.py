"""The coordinator's search-team pages: the teams and their progress, giving a
team places of its district, a proposed division of a district, and drawing a
tambon's village clusters. Every read goes through ``field.team_selectors`` (or
``field.cluster_selectors``, built on it), which decides who may manage what."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from field.cluster_selectors import (
    DEFAULT_TARGET,
    TARGET_MAX,
    get_tambon,
    proposed_names,
    tambon_clusters,
)
from field.models import Team
from field.selectors import user_area
from field.services.audit import audit_cases_seen
from field.services.cases import case_link_resolve
from field.services.clusters import CLUSTER_NAME_MAX, clusters_set
from field.services.conflicts import expected_version
from field.services.proposal import proposal_accept
from field.services.teams import TeamAreaChanged, team_area_assign, team_area_end
from field.team_selectors import (
    area_to_end,
    district_proposal,
    get_case_link,
    get_team,
    place_for_assignment,
    tambon_versions,
    team_district,
    teams_in_scope,
    teams_overview,
)
from geo.models import Village

# Holding teams are told apart on the map by these (ColorBrewer Set2, then
# Dark2): colour-blind safe, and distinct from the boundary blue.
TEAM_COLOURS = (
    "#66c2a5",
    "#fc8d62",
    "#8da0cb",
    "#e78ac3",
    "#a6d854",
    "#ffd92f",
    "#e5c494",
    "#1b9e77",
    "#d95f02",
    "#7570b3",
)


def _user(request: HttpRequest) -> User:
    if not isinstance(request.user, User):
        raise PermissionDenied
    return request.user


@login_required
@require_safe
def teams(request: HttpRequest) -> HttpResponse:
    overview = teams_overview(request.user)
    # The children named on the page: the sides of links in the scope, and conflicts.
    named = [side.case for row in overview.links for side in row.sides if side.seen]
    named += [conflict.case for conflict in overview.conflicts]
    audit_cases_seen(user=request.user, cases=named, request=request, what="teams")
    districts = sorted(
        {row.team.district for row in overview.teams if row.team.district},
        key=lambda district: district.code,
    )
    return render(
        request,
        "field/teams.html",
        {"overview": overview, "scope": overview.scope, "districts": districts},
    )


@login_required
@require_POST
def case_link(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Same child: keep this case": the other case of the link is closed as a
    duplicate. Open to a coordinator of either case."""
    user = _user(request)
    link = get_case_link(user, pk)
    keep = request.POST.get("keep", "")
    if not keep.isdigit() or int(keep) not in (link.case_id, link.other_id):
        return HttpResponseBadRequest(_("Choose which of the two cases to keep."))
    kept = link.case if int(keep) == link.case_id else link.other
    try:
        closed = case_link_resolve(link=link, keep=kept, by=user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("Case %(kept)s kept; case %(closed)s closed: the same child.")
            % {"kept": kept.pk, "closed": closed.pk},
        )
    return redirect("field-teams")


def _team_change(request: HttpRequest, user: User, found: Team) -> HttpResponse | None:
    """Carry out the posted assignment or ending; a response when it is not the
    usual redirect. The page sends each tambon's version (``version-<code>``):
    a change made on an older one raises ``TeamAreaChanged``."""
    data = request.POST
    if "assign" in data:
        subdistrict, cluster = place_for_assignment(user, found, data["assign"])
        try:
            team_area_assign(
                team=found,
                subdistrict=subdistrict,
                cluster=cluster,
                by=user,
                expected_version=expected_version(data.get(f"version-{subdistrict.code}")),
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _("%(place)s is now team %(team)s's.")
                % {"place": cluster.name if cluster else subdistrict.name_th, "team": found},
            )
    elif "end" in data and data["end"].isdigit():
        area = area_to_end(user, found, int(data["end"]), current_only=False)
        expected = expected_version(data.get(f"version-{area.subdistrict_id}"))
        if area.ended_at is not None and expected is None:
            raise Http404
        team_area_end(area=area, by=user, expected_version=expected)
        messages.success(
            request,
            _("Team %(team)s no longer holds %(place)s.")
            % {
                "team": area.team,
                "place": area.cluster.name if area.cluster else area.subdistrict.name_th,
            },
        )
    else:
        return HttpResponseBadRequest(_("Choose a place to assign or an assignment to end."))
    return None


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def team(request: HttpRequest, pk: int) -> HttpResponse:
    found = get_team(request.user, pk)
    status = 200
    if request.method == "POST":
        try:
            refused = _team_change(request, _user(request), found)
        except TeamAreaChanged as conflict:
            # Nothing was written: the page is shown again as it stands now,
            # with who changed it and when, instead of redirecting.
            messages.error(request, str(conflict))
            status = 409
        else:
            return refused or redirect("field-team", pk=found.pk)
    district = team_district(request.user, found)
    colours = {
        team_id: TEAM_COLOURS[index % len(TEAM_COLOURS)]
        for index, team_id in enumerate(sorted(district.teams))
    }
    page_data: dict[str, Any] = {
        "features": district.map_features,
        "extent": district.extent,
        "team": found.pk,
        "colours": {str(k): v for k, v in colours.items()},
        "tiles": {"url": settings.TILE_URL, "attribution": settings.TILE_ATTRIBUTION},
        "strings": {
            "assign": _("Assign to %(team)s") % {"team": found.name},
            "held": _("Held by %(team)s"),
            "free": _("Not assigned"),
            "open": _("Open cases"),
        },
    }
    return render(
        request,
        "field/team.html",
        {
            "team": found,
            "district": district,
            "legend": [
                {"id": team_id, "name": district.teams[team_id], "colour": colour}
                for team_id, colour in colours.items()
            ],
            "page_data": page_data,
            "scope": user_area(request.user),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def team_propose(request: HttpRequest, district_code: str) -> HttpResponse:
    proposal = district_proposal(request.user, district_code)
    status = 200
    if request.method == "POST":
        user = _user(request)
        mapping: dict[str, int] = {}
        for value in request.POST.getlist("unit"):
            key, _sep, team_id = value.partition(":")
            if not team_id.isdigit():
                return HttpResponseBadRequest(_("The proposal was garbled; open it again."))
            mapping[key] = int(team_id)
        allowed = {
            t.pk: t for t in teams_in_scope(user_area(user)).filter(district=proposal.district)
        }
        # The versions of the tambons the proposal was made on (``version-<code>``).
        versions = {
            key.removeprefix("version-"): expected_version(request.POST.get(key))
            for key in request.POST
            if key.startswith("version-")
        }
        try:
            areas = proposal_accept(
                district=proposal.district,
                mapping=mapping,
                teams=allowed,
                by=user,
                expected_versions=versions,
            )
        except TeamAreaChanged as conflict:
            # Nothing was written; the proposal below is made again on the
            # district as it stands now.
            messages.error(request, str(conflict))
            status = 409
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("field-team-propose", district_code=proposal.district.code)
        else:
            messages.success(
                request,
                _("The proposal is in force: %(count)s places assigned.") % {"count": len(areas)},
            )
            return redirect(reverse("field-teams"))
    return render(
        request,
        "field/team_propose.html",
        {
            "proposal": proposal,
            "versions": tambon_versions(proposal.district),
            "scope": user_area(request.user),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def clusters(request: HttpRequest, tambon_code: str) -> HttpResponse:
    """A tambon's village clusters: drawn by giving each village a cluster name,
    or proposed by open cases (GET with ``target``: shown, not saved)."""
    tambon = get_tambon(request.user, tambon_code)
    found = tambon_clusters(request.user, tambon)
    values = {row.village.code: row.cluster for row in found.villages}
    target = DEFAULT_TARGET
    proposed = False
    if request.method == "POST":
        user = _user(request)
        values = {
            code: request.POST.get(f"cluster-{code}", "").strip()[: CLUSTER_NAME_MAX + 1]
            for code in values
        }
        groups: dict[str, list[Village]] = {}
        for row in found.villages:
            if values[row.village.code]:
                groups.setdefault(values[row.village.code], []).append(row.village)
        try:
            saved = clusters_set(subdistrict=tambon, groups=groups, by=user)
        except ValidationError as error:
            for text in error.messages:
                messages.error(request, text)
        else:
            messages.success(
                request,
                ngettext(
                    "Tambon %(tambon)s now has %(count)s cluster.",
                    "Tambon %(tambon)s now has %(count)s clusters.",
                    len(saved),
                )
                % {"tambon": found.name, "count": len(saved)},
            )
            return redirect("field-clusters", tambon_code=tambon.code)
    elif "target" in request.GET:
        raw = request.GET["target"]
        if raw.isdigit() and 1 <= int(raw) <= TARGET_MAX:
            target = int(raw)
            values = proposed_names(found, target)
            proposed = True
        else:
            messages.error(
                request,
                _("The number of open cases per cluster must be a whole number from 1 to %(max)s.")
                % {"max": TARGET_MAX},
            )
    rows = [{"row": row, "value": values.get(row.village.code, "")} for row in found.villages]
    totals: dict[str, int] = {}
    for row in found.villages:
        name = values.get(row.village.code, "")
        if name:
            totals[name] = totals.get(name, 0) + row.open
    names = sorted({row.cluster.name for row in found.clusters} | set(totals))
    page_data: dict[str, Any] = {
        "outline": found.outline,
        "areas": found.areas,
        "villages": [
            {
                "code": row.village.code,
                "label": str(row.village),
                "open": row.open,
                "x": row.village.point.x,
                "y": row.village.point.y,
            }
            for row in found.villages
        ],
        "names": [row.cluster.name for row in found.clusters],
        "palette": TEAM_COLOURS,
        "tiles": {"url": settings.TILE_URL, "attribution": settings.TILE_ATTRIBUTION},
        "strings": {"none": _("No cluster"), "open": _("Open cases")},
    }
    return render(
        request,
        "field/clusters.html",
        {
            "found": found,
            "rows": rows,
            "names": names,
            "totals": sorted(totals.items()),
            "proposed": proposed,
            "target": target,
            "target_max": TARGET_MAX,
            "name_max": CLUSTER_NAME_MAX,
            "page_data": page_data,
            "scope": user_area(request.user),
        },
        status=400 if request.method == "POST" else 200,
    )
