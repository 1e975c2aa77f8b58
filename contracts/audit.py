"""The contracts app's words in the audit trail. Registered with the audit app in ContractsConfig.ready()."""

from django.db import models
from django.utils.translation import gettext_lazy, ngettext

from audit.timeline import readable_value
from audit.vocabulary import AuditField, audit_vocabulary_register


class AuditTarget(models.TextChoices):
    CONTRACT = "contract", gettext_lazy("Contract")


class AuditAction(models.TextChoices):
    APPLIED = "applied", gettext_lazy("Applied")


def _plan(value) -> str:
    if not isinstance(value, list):
        return readable_value(value)
    return ngettext("%(count)d step", "%(count)d steps", len(value)) % {"count": len(value)}


CONTRACT_FIELDS = {
    "plan": AuditField(gettext_lazy("Plan"), _plan),
    "status": AuditField(gettext_lazy("Status")),
    "generation": AuditField(gettext_lazy("Generation")),
}


def register() -> None:
    audit_vocabulary_register(targets=AuditTarget, actions=AuditAction, fields={AuditTarget.CONTRACT: CONTRACT_FIELDS})
