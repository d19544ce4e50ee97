"""The officials' dashboard, ``/dashboard/``.

Officials, coordinators and administrators; search team members and volunteers get
403, as on the funnel. Reads go through ``field.dashboard_selectors``, which scopes
them with ``user_area`` and ``resolve_area``.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from field.dashboard_selectors import (
    GAP_MIN_CHILDREN,
    KINDS,
    TOP,
    Dashboard,
    chart_json,
    dashboard,
)
from field.forms import FunnelQuery
from field.models import Affiliation, CaseKind


class DashboardQuery(FunnelQuery):
    affiliation = forms.ChoiceField(choices=[("", ""), *Affiliation.choices], required=False)
    kind = forms.ChoiceField(
        choices=[("", ""), *((k.value, k.label) for k in KINDS)], required=False
    )


def _tables(board: Dashboard) -> list[dict[str, Any]]:
    # The kind chosen, after the title: "most dropped out" reads badly in either language.
    kind = f" · {CaseKind(board.kind).label}" if board.kind else ""
    return [
        {
            "key": "most",
            "title": _("The %(top)s tambons with the most children out of school") % {"top": TOP}
            + kind,
            "rows": board.top_unreached,
            "note": _(
                "Ranked by the kind of case chosen; tambons where it is zero are left out. "
                "Where each child's household is registered."
            ),
        },
        {
            "key": "rate",
            "title": _("The %(top)s tambons with the widest gap") % {"top": TOP} + kind,
            "rows": board.top_rate,
            "note": _(
                "The gap: children out of school (of the kind chosen) per 1,000 children "
                "of the age window, among tambons with at least %(n)s children, since a "
                "rate over fewer swings by a single child. Homes in a volunteer zone and "
                "homes in a team's area overlap, so the homes neither covers cannot be "
                "counted from them and are not shown."
            )
            % {"n": GAP_MIN_CHILDREN},
        },
    ]


@login_required
@require_safe
def dashboard_page(request: HttpRequest) -> HttpResponse:
    query = DashboardQuery(request.GET)
    if not query.is_valid():
        return HttpResponseBadRequest(_("Give an area code of 2, 4 or 6 digits and a B.E. year."))
    board = dashboard(
        user=request.user,
        area_code=query.cleaned_data["area"] or None,
        year=query.cleaned_data["year"],
        kind=query.cleaned_data["kind"],
        affiliation=query.cleaned_data["affiliation"],
    )
    return render(
        request,
        "field/dashboard.html",
        {
            "board": board,
            "scope": board.scope,
            "kinds": KINDS,
            "affiliations": Affiliation.choices,
            "chart_data": chart_json(board),
            "tables": _tables(board),
            "rate_label": (
                _("%(kind)s per 1,000") % {"kind": CaseKind(board.kind).label}
                if board.kind
                else _("Out of school per 1,000")
            ),
            # Drill-down and breadcrumb links keep the year and kind chosen.
            "keep": urlencode(
                [
                    (k, v)
                    for k, v in (
                        ("year", board.year),
                        ("kind", board.kind),
                        ("affiliation", board.affiliation),
                    )
                    if v
                ]
            ),
        },
    )
