"""The outbox's one table: the messages to deliver, whatever they are about and whichever way they travel."""

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .kinds import kind_choices

#: Attempts before a message is marked failed (delivery.py says how they are spaced).
MAX_ATTEMPTS = 8


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    WEBHOOK = "webhook", _("Webhook")


class MessageStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class Message(models.Model):
    """One message to deliver, written in the same transaction as the change that causes it and delivered after
    commit by a task (see delivery.py). It is about one subject, named by type and id (a sharing, a colleague
    invitation), so the outbox needs no foreign key per app; its kind, registered by the app that owns it (kinds.py),
    says how it is rendered and through which channel it travels. `key` names the subject, the event and its
    occurrence, so a re-run or a crash can never write or send one message twice. `context` is what the message
    says, captured at the moment of the change."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    key = models.CharField(_("key"), max_length=200, unique=True)
    organisation = models.ForeignKey(
        "accounts.Organisation",
        verbose_name=_("organisation"),
        related_name="outbox_messages",
        on_delete=models.CASCADE,
        help_text=_(
            "The organisation the message speaks for (a sharing's owner, an inviting organisation), whose admins see "
            "and retry failed notifications."
        ),
    )
    kind = models.CharField(_("message"), max_length=40, choices=kind_choices)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    subject_type = models.CharField(_("subject type"), max_length=40)
    subject_id = models.UUIDField(_("subject id"))
    recipient = models.CharField(_("to"), max_length=254)  # an e-mail address, or a webhook endpoint's id
    language = models.CharField(_("language"), max_length=2)
    time_zone = models.CharField(_("time zone"), max_length=64)
    context = models.JSONField(_("context"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=MessageStatus.choices, default=MessageStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    next_attempt_at = models.DateTimeField(
        _("next attempt"), help_text=_("While a worker sends, this is pushed ahead so nobody else claims the row.")
    )
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=MessageStatus.values), name="outbox_status_valid"),
        ]
        indexes = [
            # The re-dispatch job reads only rows still to send.
            models.Index(fields=["next_attempt_at"], name="outbox_due", condition=models.Q(status="pending")),
            models.Index(fields=["organisation", "status", "created_at"], name="outbox_organisation_status"),
            # A subject that goes (a deleted sharing, a revoked invitation) takes its messages with it.
            models.Index(fields=["subject_type", "subject_id"], name="outbox_by_subject"),
        ]

    def __str__(self):
        return self.key

    def failure_summary(self) -> str:
        """Why a failed message was given up, in words for the organisation's admins: refused for good by the mail
        server (a 5xx answer, after one attempt or a few), or still failing when the attempts ran out."""
        if self.attempts >= MAX_ATTEMPTS:
            return ngettext(
                "Not delivered after %(count)d attempt; the last one failed with the error below.",
                "Not delivered after %(count)d attempts; the last one failed with the error below.",
                self.attempts,
            ) % {"count": self.attempts}
        return ngettext(
            "Refused by the mail server after %(count)d attempt; its answer is below.",
            "Refused by the mail server after %(count)d attempts; its answer is below.",
            self.attempts,
        ) % {"count": self.attempts}
