from django.urls import URLPattern, path
from drf_spectacular.views import SpectacularAPIView

from field.api import views

urlpatterns: list[URLPattern] = [
    path("area/", views.AreaView.as_view(), name="api-area"),
    path("sync/", views.SyncView.as_view(), name="api-sync"),
    path("sync/visits/", views.UploadView.as_view(), name="api-sync-visits"),
    path("today/", views.TodayView.as_view(), name="api-today"),
    path("today/stops/", views.TodayStopsView.as_view(), name="api-today-stops"),
    path("cases/", views.CaseListView.as_view(), name="api-cases"),
    path("cases/<int:pk>/", views.CaseDetailView.as_view(), name="api-case"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
]
