"""The gap map's vector tiles, kept apart from ``field/urls.py`` so that they can be
included on their own."""

from django.urls import URLPattern, path

from field import tile_views

urlpatterns: list[URLPattern] = [
    path("gaps/tiles/<int:z>/<int:x>/<int:y>.mvt", tile_views.gap_tile, name="field-gap-tile"),
]
