from django.contrib import admin

from .models import FaultCode, Machine, Position, Reading, Workspace


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = ["name", "organisation"]
    list_filter = ["organisation"]
    search_fields = ["name", "organisation__name"]
    list_select_related = ["organisation"]


@admin.register(Machine)
class MachineAdmin(admin.ModelAdmin):
    list_display = ["serial_number", "make", "model", "category", "year", "organisation"]
    list_filter = ["category", "make", "organisation"]
    search_fields = ["serial_number", "make", "model", "pin"]
    list_select_related = ["organisation"]
    filter_horizontal = ["workspaces"]


class TelemetryAdmin(admin.ModelAdmin):
    """Telemetry tables hold millions of rows: no full counts, machine looked up by id, newest first."""

    list_select_related = ["machine"]
    raw_id_fields = ["machine"]
    date_hierarchy = "timestamp"
    show_full_result_count = False
    ordering = ["-timestamp"]
    search_fields = ["machine__serial_number"]


@admin.register(Reading)
class ReadingAdmin(TelemetryAdmin):
    list_display = ["timestamp", "machine", "metric", "value", "received_at"]
    list_filter = ["metric"]


@admin.register(Position)
class PositionAdmin(TelemetryAdmin):
    list_display = ["timestamp", "machine", "latitude", "longitude", "received_at"]


@admin.register(FaultCode)
class FaultCodeAdmin(TelemetryAdmin):
    list_display = ["timestamp", "machine", "identifier", "severity", "description", "source"]
    list_filter = ["severity"]
    search_fields = ["machine__serial_number", "identifier", "description"]
