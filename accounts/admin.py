from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.models import Device
from accounts.services import device_revoke

# ModelAdmin is generic only in the type stubs; at run time it cannot be subscripted.
if TYPE_CHECKING:
    _DeviceModelAdmin = admin.ModelAdmin[Device]
else:
    _DeviceModelAdmin = admin.ModelAdmin


@admin.register(Device)
class DeviceAdmin(_DeviceModelAdmin):
    list_display = ("device_id", "user", "last_seen_at", "revoked_at", "wiped_at")
    list_filter = ("revoked_at",)
    search_fields = ("user__username", "device_id")
    readonly_fields = (
        "device_id",
        "user",
        "user_agent",
        "registered_at",
        "last_seen_at",
        "revoked_at",
        "revoked_by",
        "wiped_at",
    )
    actions = ["revoke"]

    @admin.action(description="Revoke the selected devices")
    def revoke(self, request: HttpRequest, queryset: QuerySet[Device]) -> None:
        for device in queryset:
            device_revoke(device=device, by=request.user)  # type: ignore[arg-type]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
