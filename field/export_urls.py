"""Downloads of the officials' pages, kept apart so that they can be included on
their own. The format is part of the path, so an unknown one is a 404."""

from django.urls import URLPattern, re_path

from field import export_views

urlpatterns: list[URLPattern] = [
    re_path(
        r"^gaps/export\.(?P<fmt>csv|xlsx|geojson|gpkg|html)$",
        export_views.gap_export,
        name="field-gap-export",
    ),
    re_path(
        r"^dashboard/export\.(?P<fmt>csv|xlsx)$",
        export_views.dashboard_export,
        name="field-dashboard-export",
    ),
]
