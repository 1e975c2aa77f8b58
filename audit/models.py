"""The audit trail: who did what, when, with the values before and after, for every app's writes."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .vocabulary import action_choices, target_choices


class ActorKind(models.TextChoices):
    USER = "user", _("User")
    API_KEY = "api_key", _("API key")
    SYSTEM = "system", _("System")


class AuditEvent(models.Model):
    """Who did what, when, with the values before and after. The target is kept by type and id so the trail outlives
    a deleted sharing; the apps register what their targets and actions are called (vocabulary.py)."""

    occurred_at = models.DateTimeField(_("when"), db_index=True)
    organisation = models.ForeignKey(
        "accounts.Organisation", verbose_name=_("organisation"), related_name="audit_events", on_delete=models.CASCADE
    )
    actor_kind = models.CharField(_("actor kind"), max_length=10, choices=ActorKind.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        related_name="+",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )
    actor_label = models.CharField(_("actor"), max_length=255)
    target_type = models.CharField(_("target type"), max_length=20, choices=target_choices)
    target_id = models.UUIDField(_("target id"))
    action = models.CharField(_("action"), max_length=30, choices=action_choices)
    changes = models.JSONField(_("changes"), default=list, blank=True, help_text=_("[{field, before, after}, ...]"))
    # The action this event is part of, when a larger one caused it (a contract apply that touched this sharing): its
    # events share the id, so the trail can show what one apply did.
    cause_id = models.UUIDField(_("caused by"), null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["occurred_at", "id"]
        indexes = [models.Index(fields=["target_type", "target_id", "occurred_at"], name="audit_by_target")]

    def __str__(self):
        return f"{self.action} {self.target_type} by {self.actor_label}"
