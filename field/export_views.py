"""Downloads of the officials' pages: ``/gaps/export.<fmt>`` and
``/dashboard/export.<fmt>``.

The same roles and the same scope as the pages: the queries are the pages' forms
and the files are built by ``field.exports`` from the pages' selectors.
"""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseBase,
)
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from field import exports
from field.dashboard_views import DashboardQuery
from field.gap_views import GapQuery
from field.models import AuditAction, AuditObject
from field.services.audit import audit_record

_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "geojson": "application/geo+json",
    "gpkg": "application/geopackage+sqlite3",
    "html": "text/html; charset=utf-8",
}


def _download(content: bytes | str, fmt: str, file_name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{file_name}"'
    response["Cache-Control"] = "no-store"
    return response


def _audit_export(request: HttpRequest, about: exports.About, what: str) -> None:
    """Counts of an area, never a child: recorded as an export of the area."""
    audit_record(
        user=request.user,
        action=AuditAction.EXPORT,
        obj_kind=AuditObject.AREA,
        obj_id=None,
        tambon=about.area_code,
        request=request,
        detail=f"{what} year={about.year or '-'}",
    )


def _bad_query() -> HttpResponse:
    return HttpResponseBadRequest(_("Give an area code of 2, 4 or 6 digits and a B.E. year."))


@login_required
@require_safe
def gap_export(request: HttpRequest, fmt: str) -> HttpResponseBase:
    query = GapQuery(request.GET)
    if not query.is_valid():
        return _bad_query()
    gap = exports.gap_export(
        user=request.user,
        area_code=query.cleaned_data["area"] or None,
        year=query.cleaned_data["year"],
        indicator=query.cleaned_data["indicator"] or "unreached",
        method=query.cleaned_data["method"] or "natural",
    )
    about = gap.export.about
    name = about.file_name("gaps", fmt)
    _audit_export(request, about, f"gaps.{fmt} indicator={query.cleaned_data['indicator']}")
    if fmt == "csv":
        return _download(exports.csv_bytes(gap.export), fmt, name)
    if fmt == "xlsx":
        return _download(exports.xlsx_bytes(gap.export), fmt, name)
    if fmt == "geojson":
        return _download(json.dumps(exports.gap_geojson(gap), ensure_ascii=False), fmt, name)
    if fmt == "html":
        report = _download(exports.gap_report_html(gap), fmt, name)
        # A standalone file, downloaded and opened offline from disk, with Leaflet
        # and its map inlined: this site's policy (script-src 'self') would block
        # exactly that, and once saved the file carries no header anyway. It is an
        # attachment, so the browser never renders it as a page of this site.
        report._csp_exempt = True  # type: ignore[attr-defined]
        return report
    try:
        handle = exports.gap_geopackage(gap)
    except exports.ExportError:
        return HttpResponse(_("The GeoPackage could not be made."), status=503)
    response = FileResponse(handle, as_attachment=True, filename=name, content_type=_TYPES["gpkg"])
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_safe
def dashboard_export(request: HttpRequest, fmt: str) -> HttpResponse:
    query = DashboardQuery(request.GET)
    if not query.is_valid():
        return _bad_query()
    export = exports.dashboard_export(
        user=request.user,
        area_code=query.cleaned_data["area"] or None,
        year=query.cleaned_data["year"],
        kind=query.cleaned_data["kind"],
        affiliation=query.cleaned_data["affiliation"],
    )
    name = export.about.file_name("dashboard", fmt)
    _audit_export(request, export.about, f"dashboard.{fmt}")
    if fmt == "csv":
        return _download(exports.csv_bytes(export), fmt, name)
    return _download(exports.xlsx_bytes(export), fmt, name)
