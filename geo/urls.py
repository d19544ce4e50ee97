from django.urls import path

from geo import views

urlpatterns = [
    path("", views.home, name="home"),
    # The level is validated by the view, so a wrong one gets a 400 that names it.
    path("geo/boundaries/<str:level>.geojson", views.boundaries, name="geo-boundaries"),
]
