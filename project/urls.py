from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import URLPattern, URLResolver, include, path

from project.health import healthz

urlpatterns: list[URLPattern | URLResolver] = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    # set_language at /i18n/setlang/: the header's language buttons post to it.
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/v1/", include("field.api.urls")),
    path("", include("accounts.urls")),
    path("", include("geo.urls")),
    path("", include("field.urls")),
    path("", include("field.dashboard_urls")),
    path("", include("field.tile_urls")),
    path("", include("field.export_urls")),
]
