"""The outbox in the admin: read only, with one action to send failed messages again."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import Message, MessageStatus
from .services import message_retry


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "recipient", "organisation", "status", "attempts", "sent_at"]
    list_filter = ["status", "kind", "channel", "language", "organisation"]
    search_fields = ["key", "recipient", "subject_id"]
    list_select_related = ["organisation"]
    date_hierarchy = "created_at"
    actions = ["retry_failed"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Send the selected failed notifications again"))
    def retry_failed(self, request, queryset):
        # Site staff act as the system: the service still checks that each one has failed and may be sent again.
        failed = list(queryset.filter(status=MessageStatus.FAILED))
        for message in failed:
            message_retry(message=message)
        self.message_user(
            request,
            ngettext("%d notification queued again.", "%d notifications queued again.", len(failed)) % len(failed),
            messages.SUCCESS,
        )
