"""The coordinator's home-visit campaign pages: the schools of the area with their
progress toward "100% of students visited" and a form to plan a campaign, and one
campaign per teacher and per day. Reads go through ``field.campaign_selectors``,
writes through ``field.services.campaigns``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from field.campaign_selectors import (
    campaign_detail,
    campaign_schools,
    get_school,
    get_visit,
    latest_register_year,
)
from field.day_forms import DayHoursForm
from field.forms import current_academic_year
from field.models import TravelMode
from field.services.campaigns import campaign_plan, campaign_visit_mark
from field.team_selectors import manager_scope
from field.team_views import TEAM_COLOURS


def _user(request: HttpRequest) -> User:
    if not isinstance(request.user, User):
        raise PermissionDenied
    return request.user


class CampaignForm(DayHoursForm):
    field_order = ["school", "academic_year", "first_day", "last_day", "teachers"]
    day_starts = dt.time(15, 30)
    day_ends = dt.time(18, 30)

    school = forms.ChoiceField(label=gettext_lazy("School"))
    academic_year = forms.IntegerField(
        label=gettext_lazy("Academic year (B.E.)"), min_value=2500, max_value=2700
    )
    first_day = forms.DateField(
        label=gettext_lazy("First day"), widget=forms.DateInput(attrs={"type": "date"})
    )
    last_day = forms.DateField(
        label=gettext_lazy("Last day"), widget=forms.DateInput(attrs={"type": "date"})
    )
    teachers = forms.CharField(
        label=gettext_lazy("Teachers, one per line"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=10_000,
    )

    def __init__(self, *args: Any, schools: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["school"].choices = schools  # type: ignore[attr-defined]


def _year(request: HttpRequest) -> int:
    raw = request.GET.get("year", "")
    if raw.isdigit() and 2500 <= int(raw) <= 2700:
        return int(raw)
    return latest_register_year(current_academic_year())


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def campaigns(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    year = _year(request)
    status = 200
    if request.method == "POST":
        # The choices only matter for validation; the school is fetched through the scope.
        rows = campaign_schools(user, year)
        form = CampaignForm(request.POST, schools=[(str(r.school.pk), r.school.name) for r in rows])
        if form.is_valid():
            data = form.cleaned_data
            school = get_school(user, int(data["school"]))
            try:
                campaign = campaign_plan(
                    school=school,
                    academic_year=data["academic_year"],
                    first_day=data["first_day"],
                    last_day=data["last_day"],
                    teachers=data["teachers"].splitlines(),
                    mode=TravelMode(data["mode"]),
                    starts=data["starts"],
                    ends=data["ends"],
                    service_minutes=data["service_minutes"],
                    by=user,
                )
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(request, _("The campaign is planned."))
                return redirect("field-campaign", pk=campaign.pk)
        status = 400
    else:
        rows = campaign_schools(user, year)
        form = CampaignForm(
            initial={"academic_year": year},
            schools=[(str(r.school.pk), r.school.name) for r in rows],
        )
    return render(
        request,
        "field/campaigns.html",
        {"form": form, "rows": rows, "year": year, "scope": manager_scope(user)},
        status=status,
    )


@login_required
@require_http_methods(["GET", "HEAD"])
def campaign(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    detail = campaign_detail(user, pk)
    colours = [TEAM_COLOURS[i % len(TEAM_COLOURS)] for i in range(len(detail.teachers))]
    page_data: dict[str, Any] = {
        **detail.map,
        "colours": colours,
        "day": detail.map_day.isoformat() if detail.map_day else None,
        "tiles": {"url": settings.TILE_URL, "attribution": settings.TILE_ATTRIBUTION},
        "strings": {
            "school": _("School"),
            "arrives": _("arrives"),
            "visited": _("Visited"),
            "not_visited": _("Not visited yet"),
        },
    }
    return render(
        request,
        "field/campaign.html",
        {
            "detail": detail,
            "teachers": list(zip(detail.teachers, colours, strict=True)),
            "page_data": page_data,
            "scope": manager_scope(user),
        },
    )


@login_required
@require_POST
def campaign_visit_done(request: HttpRequest, pk: int, visit_pk: int) -> HttpResponse:
    user = _user(request)
    visit = get_visit(user, pk, visit_pk)
    campaign_visit_mark(visit=visit, at=timezone.now(), by=user)
    messages.success(request, _("The visit is marked as done."))
    return redirect("field-campaign", pk=pk)
