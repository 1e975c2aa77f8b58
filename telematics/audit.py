"""The telematics app's words in the audit trail: a source created, changed or deleted. Registered with the audit app
in TelematicsConfig.ready(). Secrets never enter the trail: a changed secret is recorded as "changed", not its value."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from audit.vocabulary import audit_vocabulary_register


class AuditTarget(models.TextChoices):
    TELEMATICS_SOURCE = "telematics_source", _("Telematics source")


class AuditAction(models.TextChoices):
    CREATED = "created", _("Created")
    UPDATED = "updated", _("Updated")
    DELETED = "deleted", _("Deleted")


def register() -> None:
    audit_vocabulary_register(targets=AuditTarget, actions=AuditAction)
