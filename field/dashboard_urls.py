"""The officials' dashboard, kept apart from ``field/urls.py`` so that it can be
included on its own."""

from django.urls import URLPattern, path

from field import dashboard_views

urlpatterns: list[URLPattern] = [
    path("dashboard/", dashboard_views.dashboard_page, name="field-dashboard"),
]
