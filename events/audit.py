"""The events app's words in the audit trail: webhook endpoints and what happens to them."""

from django.db import models
from django.utils.translation import gettext_lazy

from audit.vocabulary import AuditField, audit_vocabulary_register

from .webhooks import SUBJECT


class AuditAction(models.TextChoices):
    CREATED = "created", gettext_lazy("Created")
    UPDATED = "updated", gettext_lazy("Updated")
    DELETED = "deleted", gettext_lazy("Deleted")
    SECRET_ROTATED = "secret_rotated", gettext_lazy("Secret rotated")
    DISABLED = "disabled", gettext_lazy("Disabled")


ENDPOINT_FIELDS = {
    "url": AuditField(gettext_lazy("URL")),
    "event_types": AuditField(gettext_lazy("Event types")),
    "description": AuditField(gettext_lazy("Description")),
    "enabled": AuditField(gettext_lazy("Enabled")),
    "disabled_reason": AuditField(gettext_lazy("Why disabled")),
    "previous_secret_expires_at": AuditField(gettext_lazy("Previous secret valid until")),
}


def register() -> None:
    audit_vocabulary_register(
        targets=[(SUBJECT, gettext_lazy("Webhook endpoint"))],
        actions=AuditAction,
        fields={SUBJECT: ENDPOINT_FIELDS},
    )
