"""Read-mostly admin: sharings change only through the services, so their rules and audit trail hold."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.actors import Actor

from .models import Notification, NotificationStatus, ReceivedMachine, Sharing, SharingMachine
from .services import notification_retry


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


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "message", "to_email", "organisation", "status", "attempts", "sent_at"]
    list_filter = ["status", "message", "language", "organisation"]
    search_fields = ["key", "to_email", "sharing__reference"]
    list_select_related = ["organisation"]
    date_hierarchy = "created_at"
    actions = ["retry_failed"]

    @admin.action(description=_("Send the selected failed notifications again"))
    def retry_failed(self, request, queryset):
        # Site staff act as the system: the service still checks that each one has failed.
        failed = list(queryset.filter(status=NotificationStatus.FAILED))
        for notification in failed:
            notification_retry(actor=Actor.system(), notification=notification)
        self.message_user(
            request,
            ngettext("%d notification queued again.", "%d notifications queued again.", len(failed)) % len(failed),
            messages.SUCCESS,
        )
