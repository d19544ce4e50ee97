"""Pages of coordinators and officials: registry imports, the funnel of unreached
children with its map, and the review of uncertain matches. Every read goes
through ``field.selectors``, which decides who sees what."""

from __future__ import annotations

import io
import threading
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection, transaction
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    JsonResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from field.forms import FunnelQuery, ImportUploadForm, ReconcileForm, current_academic_year
from field.models import (
    AuditAction,
    AuditObject,
    CaseKind,
    Child,
    ImportKind,
    ImportProblem,
    ImportRun,
    ImportStatus,
    Precision,
    ReviewStatus,
)
from field.selectors import (
    MAP_FEATURE_LIMIT,
    AreaRef,
    funnel,
    get_import_run,
    get_review,
    home_for,
    import_runs_for_user,
    review_rows,
    reviews_for_user,
    scope_children,
    unreached_households,
    user_area,
)
from field.services.audit import audit_record, audit_seen
from field.services.cases import ReviewError, review_decide
from field.services.imports import import_execute, import_start, log_failure
from field.services.reconcile import reconcile
from field.services.reports import write_run_report_to

RECENT_RUNS = 20
# A report page of this many rows stays quick to scroll on a tablet; the CSV has all.
PROBLEMS_PER_PAGE = 200
# Each review shows its register row and up to three candidates: 50 of them is a
# long page already, and a coordinator works through them from the top.
REVIEWS_PER_PAGE = 50
COUNT_LABELS = {
    "imported": gettext_lazy("Imported"),
    "unchanged": gettext_lazy("Unchanged"),
    "rejected": gettext_lazy("Rejected"),
    "duplicates": gettext_lazy("Duplicates"),
    "unresolved": gettext_lazy("Address not located"),
    "warnings": gettext_lazy("Warnings"),
}


# --- imports -------------------------------------------------------------------------


@login_required
@require_safe
def start(request: HttpRequest) -> HttpResponse:
    """Where the login sends everyone: each role's own first page."""
    return redirect(home_for(request.user))


def _execute(run: ImportRun, path: Path, *, background: bool) -> None:
    """Runs the import, and removes the upload: it holds children's personal data,
    and the run keeps what is needed of it (counts, report, SHA-256)."""
    try:
        import_execute(run=run, path=path)
    except Exception as error:
        # import_execute records a refused file itself; this is for a crash, so
        # the run page stops waiting on a run that will never finish.
        log_failure(f"import run {run.pk} crashed", error)
        ImportRun.objects.filter(pk=run.pk).exclude(
            status__in=(ImportStatus.DONE, ImportStatus.FAILED)
        ).update(
            status=ImportStatus.FAILED,
            error=_("The import stopped on an internal error; nothing was saved."),
            finished_at=timezone.now(),
        )
    finally:
        path.unlink(missing_ok=True)
        if background:
            # The thread's own connection: left open, it would outlive the thread.
            connection.close()


def _start_import(form: ImportUploadForm, request: HttpRequest) -> ImportRun:
    path = form.save_upload()
    try:
        run = import_start(
            kind=ImportKind(form.cleaned_data["kind"]),
            path=path,
            by=request.user if isinstance(request.user, User) else None,
            affiliation=form.cleaned_data["affiliation"],
            file_name=form.cleaned_data["file"].name,
        )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    if settings.IMPORT_INLINE:
        _execute(run, path, background=False)
    else:
        # A province's file takes minutes; the run page follows its progress. A
        # daemon thread dies with the worker: the run then stays unfinished.
        worker = threading.Thread(
            target=_execute, args=(run, path), kwargs={"background": True}, daemon=True
        )
        worker.name = f"import-{run.pk}"
        worker.start()
    return run


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def imports(request: HttpRequest) -> HttpResponse:
    runs = import_runs_for_user(request.user)
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        run = _start_import(form, request)
        return redirect("field-import-run", pk=run.pk)
    return render(
        request,
        "field/imports.html",
        {
            "form": form,
            "runs": runs.select_related("by")[:RECENT_RUNS],
            "scope": user_area(request.user),
        },
    )


def _progress(run: ImportRun) -> dict[str, Any]:
    percent = min(100, round(100 * run.bytes_read / run.size)) if run.size else 0
    return {
        "status": run.status,
        "statusLabel": run.get_status_display(),
        "finished": run.finished,
        "rowsRead": run.rows_read,
        "bytesRead": run.bytes_read,
        "size": run.size,
        "percent": 100 if run.status == ImportStatus.DONE else percent,
        "counts": {name: getattr(run, name) for name in COUNT_LABELS},
    }


def _problems(run: ImportRun) -> Any:
    # "error" sorts before "warning": rejected rows first, then in file order.
    return ImportProblem.objects.filter(run=run).order_by("severity", "row", "pk")


@login_required
@require_safe
def import_run(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_import_run(request.user, pk)
    page = Paginator(_problems(run), PROBLEMS_PER_PAGE).get_page(request.GET.get("page"))
    progress = _progress(run)
    return render(
        request,
        "field/import_run.html",
        {
            "run": run,
            "page": page,
            "progress": progress,
            "counts": [
                (name, label, progress["counts"][name]) for name, label in COUNT_LABELS.items()
            ],
            "page_data": {
                "progressUrl": reverse("field-import-progress", args=[run.pk]),
                "finished": run.finished,
            },
            "scope": user_area(request.user),
        },
    )


@login_required
@require_safe
def import_progress(request: HttpRequest, pk: int) -> JsonResponse:
    response = JsonResponse(_progress(get_import_run(request.user, pk)))
    add_never_cache_headers(response)
    return response


@login_required
@require_safe
def import_problems_csv(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_import_run(request.user, pk)
    # The report quotes the file's rows, names and IDs included. A run has no
    # area of its own, so administrators read this event.
    audit_record(
        user=request.user,
        action=AuditAction.EXPORT,
        obj_kind=AuditObject.IMPORT_RUN,
        obj_id=run.pk,
        tambon=None,
        request=request,
        detail="problems.csv",
    )
    # A BOM, as the command-line report has: without it Excel garbles the Thai.
    report = io.StringIO("\ufeff")
    report.seek(0, io.SEEK_END)
    write_run_report_to(run, report)
    response = HttpResponse(report.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{run.pk}-problems.csv"'
    add_never_cache_headers(response)
    return response


# --- the funnel ----------------------------------------------------------------------

# The level whose boundaries the map draws inside each level of area.
_MAP_LEVEL = {"country": "province", "province": "district", "district": "subdistrict"}


def _funnel_page_data(area: AreaRef, year: int | None, drill: list[str]) -> dict[str, Any]:
    """What funnel.js needs, handed over through json_script."""
    level = _MAP_LEVEL.get(area.level, "subdistrict")
    query: dict[str, str | int] = {"area": area.code, **({"year": year} if year else {})}
    return {
        "area": area.code,
        "extent": area.extent,
        "households": reverse("field-funnel-households") + "?" + urlencode(query),
        "boundaries": reverse("geo-boundaries", args=[level]),
        "boundaryLevel": level,
        "drill": drill,
        "funnelUrl": reverse("field-funnel"),
        "year": year,
        "tiles": {"url": settings.TILE_URL, "attribution": settings.TILE_ATTRIBUTION},
        "kinds": {k.value: str(k.label) for k in (CaseKind.NEVER_ENROLLED, CaseKind.DROPPED_OUT)},
        "precisions": {p.value: str(p.label) for p in Precision},
        "strings": {
            "children": _("children"),
            "loading": _("Loading households…"),
            "loadFailed": _("Could not load the households."),
            "none": _("No household with an open case has a position in this area."),
            "truncated": _("Only the first %(limit)s households are shown.")
            % {"limit": f"{MAP_FEATURE_LIMIT:,}"},
        },
    }


@login_required
@require_safe
def funnel_page(request: HttpRequest) -> HttpResponse:
    query = FunnelQuery(request.GET)
    if not query.is_valid():
        return HttpResponseBadRequest(_("Give an area code of 2, 4 or 6 digits and a B.E. year."))
    result = funnel(user=request.user, **_area_and_year(query))
    drill = [row.code for row in result.rows if row.drill and row.code]
    return render(
        request,
        "field/funnel.html",
        {
            "funnel": result,
            "scope": result.scope,
            "precisions": list(Precision),
            "reconcile_form": ReconcileForm(
                initial={"academic_year": result.year or current_academic_year()}
            ),
            "page_data": _funnel_page_data(result.area, result.year, drill),
        },
    )


def _area_and_year(query: FunnelQuery) -> dict[str, Any]:
    return {"area_code": query.cleaned_data["area"] or None, "year": query.cleaned_data["year"]}


@login_required
@require_safe
def funnel_households(request: HttpRequest) -> HttpResponse:
    query = FunnelQuery(request.GET)
    if not query.is_valid():
        return JsonResponse({"error": query.errors.get_json_data()}, status=400)
    points = unreached_households(user=request.user, **_area_and_year(query))
    body = {
        "type": "FeatureCollection",
        "features": points.features,
        # Foreign members (RFC 7946 §6.1): what was asked and whether it was cut.
        "year": points.year,
        "limit": MAP_FEATURE_LIMIT,
        "truncated": points.truncated,
    }
    response = JsonResponse(body, content_type="application/geo+json")
    add_never_cache_headers(response)
    return response


@login_required
@require_POST
def funnel_reconcile(request: HttpRequest) -> HttpResponse:
    """Recomputes who is unreached in a year from the registries as they are now.

    Any coordinator may, though it covers every province: the result depends
    only on the registries, so running it again changes nothing unless they
    changed. It runs in the request.
    """
    if not user_area(request.user).may_manage:
        raise PermissionDenied
    form = ReconcileForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(_("Give an academic year in the Buddhist era."))
    year = form.cleaned_data["academic_year"]
    reconcile(academic_year=year, by=request.user if isinstance(request.user, User) else None)
    messages.success(request, _("Reconciled academic year %(year)s.") % {"year": year})
    return redirect(reverse("field-funnel") + "?" + urlencode({"year": year}))


# --- match reviews -------------------------------------------------------------------


@login_required
@require_safe
def reviews(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", ReviewStatus.OPEN)
    if status not in ReviewStatus.values:
        return HttpResponseBadRequest(_("Unknown review status."))
    found = (
        reviews_for_user(request.user, status=ReviewStatus(status))
        .select_related("enrolment", "decided_by")
        .order_by("-created_at", "-pk")
    )
    page = Paginator(found, REVIEWS_PER_PAGE).get_page(request.GET.get("page"))
    rows = review_rows(request.user, list(page))
    # The candidates shown by name, one event per tambon: the page is a list.
    audit_seen(
        user=request.user,
        obj_kind=AuditObject.CHILD,
        tambons=[c.child.household.subdistrict_id for r in rows for c in r.candidates if c.child],
        request=request,
        what=f"reviews page={page.number}",
    )
    return render(
        request,
        "field/reviews.html",
        {
            "page": page,
            "rows": rows,
            "status": status,
            "statuses": list(ReviewStatus),
            "scope": user_area(request.user),
        },
    )


def _back_to_reviews(request: HttpRequest) -> HttpResponse:
    # Back to the page the coordinator was working through, not to the first one.
    page = request.POST.get("page", "")
    url = reverse("field-reviews")
    return redirect(url + "?" + urlencode({"page": page}) if page.isdigit() else url)


@login_required
@require_POST
def review_decide_view(request: HttpRequest, pk: int) -> HttpResponse:
    choice = request.POST.get("child", "")
    if choice != "none" and not choice.isdigit():
        return HttpResponseBadRequest(_("Choose one of the candidates, or none of them."))
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    with transaction.atomic():
        review = get_review(user, pk, for_update=True)
        # Only a child the coordinator can see may be chosen: a candidate outside
        # their area is shown without a name, so choosing it would be a guess.
        child = (
            None
            if choice == "none"
            else scope_children(user, Child.objects.filter(pk=int(choice))).first()
        )
        if choice != "none" and child is None:
            messages.error(request, _("That child is not one of this row's candidates."))
            return _back_to_reviews(request)
        try:
            review_decide(review=review, child=child, by=user)
        except ReviewError:
            # The service's reasons are for logs; the coordinator reads them in Thai.
            if review.status != ReviewStatus.OPEN:
                messages.error(request, _("This row was already decided."))
            else:
                messages.error(request, _("That child is not one of this row's candidates."))
            return _back_to_reviews(request)
    enrolment = review.enrolment
    row = f"{enrolment.first_name} {enrolment.last_name}".strip()
    if child is None:
        text = _("Decided: %(row)s is none of the candidates.") % {"row": row}
    else:
        text = _("Decided: %(row)s is %(child)s.") % {"row": row, "child": child}
    messages.success(request, text)
    return _back_to_reviews(request)
