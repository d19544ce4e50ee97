from django.urls import URLPattern, path

from accounts import views

urlpatterns: list[URLPattern] = [
    path("devices/", views.devices, name="accounts-devices"),
    path("devices/<int:pk>/revoke/", views.device_revoke_view, name="accounts-device-revoke"),
]
