"""Rental contracts kept in step with their sharings (DESIGN §7): the owner's desired state of each contract, and the
history of the applies that brought its sharings in line with it. The sharings themselves stay in the sharing app,
which names their contract by a nullable key and never imports this one."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ContractStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


class Contract(models.Model):
    """One rental contract of an owner organisation, found by its reference. `desired_state` is the last desired state
    applied (normalised, as the API answers it); `applied_state` is what each managed sharing looked like right after
    that apply, so that a hand edit since shows as drift."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        "accounts.Organisation", verbose_name=_("owner"), related_name="contracts", on_delete=models.PROTECT
    )
    reference = models.CharField(_("reference"), max_length=255)
    status = models.CharField(_("status"), max_length=20, choices=ContractStatus.choices, default=ContractStatus.ACTIVE)
    recipient_email = models.EmailField(_("recipient"), blank=True)
    generation = models.PositiveIntegerField(_("generation"), default=0)
    desired_state = models.JSONField(_("desired state"), default=dict, blank=True)
    applied_state = models.JSONField(_("sharings as last applied"), default=dict, blank=True)
    last_applied_at = models.DateTimeField(_("last applied at"), null=True, blank=True)
    last_applied_by = models.CharField(_("last applied by"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        ordering = ["-last_applied_at", "reference"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "reference"], name="contract_reference_unique_per_owner"),
            models.CheckConstraint(condition=models.Q(status__in=ContractStatus.values), name="contract_status_valid"),
        ]
        indexes = [
            models.Index(fields=["owner", "status"], name="contract_owner_status"),
            models.Index(fields=["owner", "recipient_email"], name="contract_owner_recipient"),
        ]

    def __str__(self):
        return self.reference


class ContractApply(models.Model):
    """One apply of a desired state to a contract: who, when, the plan it followed and the generation it produced."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    contract = models.ForeignKey(Contract, verbose_name=_("contract"), related_name="applies", on_delete=models.CASCADE)
    applied_at = models.DateTimeField(_("applied at"))
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        related_name="+",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )
    actor_label = models.CharField(_("applied by"), max_length=255)
    dry_run = models.BooleanField(_("dry run"), default=False)
    generation = models.PositiveIntegerField(_("generation"))
    plan = models.JSONField(_("plan"), default=list, blank=True)
    summary = models.JSONField(_("summary"), default=dict, blank=True)

    class Meta:
        verbose_name = _("contract apply")
        verbose_name_plural = _("contract applies")
        ordering = ["-applied_at", "-generation"]
        indexes = [models.Index(fields=["contract", "-applied_at"], name="contract_apply_history")]

    def __str__(self):
        return f"{self.contract} #{self.generation}"
