"""Read-mostly admin of sources and their runs, for the operators. The secret is never shown, here either."""

from django.contrib import admin

from .models import TelematicsRun, TelematicsSource


@admin.register(TelematicsSource)
class TelematicsSourceAdmin(admin.ModelAdmin):
    list_display = ["name", "organisation", "base_url", "auth_type", "poll_minutes", "next_poll_at", "failures"]
    list_filter = ["auth_type", "organisation"]
    search_fields = ["name", "base_url", "organisation__name"]
    list_select_related = ["organisation"]
    exclude = ["secret"]
    readonly_fields = ["claimed_until", "failures"]


@admin.register(TelematicsRun)
class TelematicsRunAdmin(admin.ModelAdmin):
    list_display = ["source", "requested_at", "started_at", "finished_at", "readings_stored", "error"]
    list_select_related = ["source"]
    raw_id_fields = ["source"]
    show_full_result_count = False
    ordering = ["-requested_at"]
