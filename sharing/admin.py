"""Read-mostly admin: sharings change only through the services, so their rules and audit trail hold."""

from django.contrib import admin

from .models import ExtensionRequest, ReceivedMachine, Sharing, SharingMachine


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SharingMachineInline(admin.TabularInline):
    model = SharingMachine
    extra = 0
    can_delete = False
    readonly_fields = ["machine"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Sharing)
class SharingAdmin(ReadOnlyAdmin):
    list_display = [
        "reference",
        "owner",
        "beneficiary",
        "recipient_email",
        "status",
        "start_at",
        "end_at",
        "stopped_at",
    ]
    list_filter = ["status", "owner", "beneficiary", "notification_enabled"]
    search_fields = ["reference", "recipient_email", "recipient_organisation_name", "id"]
    list_select_related = ["owner", "beneficiary"]
    date_hierarchy = "start_at"
    inlines = [SharingMachineInline]


@admin.register(ReceivedMachine)
class ReceivedMachineAdmin(ReadOnlyAdmin):
    list_display = ["name", "organisation", "machine", "created_at"]
    list_filter = ["organisation"]
    search_fields = ["name", "machine__serial_number"]
    list_select_related = ["organisation", "machine"]


@admin.register(ExtensionRequest)
class ExtensionRequestAdmin(ReadOnlyAdmin):
    list_display = ["sharing", "status", "previous_end_at", "end_at", "requested_by_label", "created_at", "answered_at"]
    list_filter = ["status"]
    search_fields = ["sharing__reference", "requested_by_label"]
    list_select_related = ["sharing"]
    date_hierarchy = "created_at"
