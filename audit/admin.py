"""The audit trail in the admin: read only, as a trail must be."""

from django.contrib import admin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "organisation", "actor_kind", "actor_label", "action", "target_type", "target_id"]
    list_filter = ["action", "actor_kind", "target_type", "organisation"]
    search_fields = ["actor_label", "target_id"]
    list_select_related = ["organisation"]
    date_hierarchy = "occurred_at"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
