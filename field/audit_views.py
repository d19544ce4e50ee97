"""The audit log's page: coordinators read their area's events, administrators all.
Every read goes through ``field.audit_selectors``."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from field.audit_forms import AuditQuery
from field.audit_selectors import audit_events, audit_scope

# A screenful on a desktop; the log is read at a desk, not on a tablet.
EVENTS_PER_PAGE = 100


@login_required
@require_safe
def audit_log(request: HttpRequest) -> HttpResponse:
    scope = audit_scope(request.user)
    query = AuditQuery(request.GET or None)
    filters = query.cleaned_data if query.is_valid() else {}
    events = audit_events(
        scope,
        since=filters.get("since"),
        until=filters.get("until"),
        username=filters.get("user", ""),
        action=filters.get("action", ""),
    )
    page = Paginator(events, EVENTS_PER_PAGE).get_page(request.GET.get("page"))
    kept = request.GET.copy()
    kept.pop("page", None)
    return render(
        request,
        "field/audit.html",
        {"scope": scope, "query": query, "page": page, "filters": kept.urlencode()},
    )
