"""Admin pages for the field app: for administrators fixing data, not for field work."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.contrib.gis.admin import GISModelAdmin
from django.http import HttpRequest

from field.models import AuditEvent, Profile, School, Team, Volunteer

# ModelAdmin is generic only in the type stubs; at run time it cannot be subscripted.
if TYPE_CHECKING:
    _ProfileModelAdmin = admin.ModelAdmin[Profile]
    _AuditEventModelAdmin = admin.ModelAdmin[AuditEvent]
else:
    _ProfileModelAdmin = _AuditEventModelAdmin = admin.ModelAdmin


@admin.register(Profile)
class ProfileAdmin(_ProfileModelAdmin):
    list_display = ("user", "role", "province")
    list_filter = ("role", "province")
    search_fields = ("user__username", "user__first_name", "user__last_name")
    autocomplete_fields = ("user",)
    filter_horizontal = ("districts",)


@admin.register(School)
class SchoolAdmin(GISModelAdmin):
    list_display = ("code", "name", "affiliation", "students", "is_small", "subdistrict")
    list_filter = ("affiliation", "is_small")
    search_fields = ("code", "name")
    # A select of 7,400 tambons would make every change page slow.
    raw_id_fields = ("subdistrict",)
    readonly_fields = ("is_small",)


@admin.register(Team)
class TeamAdmin(GISModelAdmin):
    list_display = ("name", "base_school")
    search_fields = ("name",)
    raw_id_fields = ("base_school",)
    filter_horizontal = ("members",)


@admin.register(Volunteer)
class VolunteerAdmin(GISModelAdmin):
    list_display = ("name", "kind", "village", "capacity", "active_from", "active_to")
    list_filter = ("kind",)
    search_fields = ("name", "phone")
    raw_id_fields = ("user", "village")


@admin.register(AuditEvent)
class AuditEventAdmin(_AuditEventModelAdmin):
    """Read only: the table refuses changes anyway (migration 0016), and a form
    that offers them would only end in a database error."""

    list_display = ("at", "username", "role", "action", "obj_kind", "obj_id", "tambon", "ip")
    list_filter = ("action", "obj_kind", "role")
    search_fields = ("username", "tambon")
    date_hierarchy = "at"
    # The copied username is what the row says; a join to the user is not needed.
    list_select_related = False

    def get_readonly_fields(self, request: HttpRequest, obj: AuditEvent | None = None) -> Any:
        return [f.name for f in AuditEvent._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False
