"""The events of DESIGN §9: every change an organisation may hear about, one row per organisation that may see it,
holding the object as the API showed it to that organisation at the moment of the change. The feed
(GET /api/v1/events) and the webhooks read them."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _

from hiboo_connect.api.fields import format_instant

BIGINT_MAX = 2**63 - 1
CURSOR = re.compile(r"([0-9]{1,19})\.([0-9]{1,19})")


@dataclass(frozen=True, order=True)
class Cursor:
    """A place in the feed: after the event at (transaction, sequence). Clients see it as opaque text."""

    transaction: int
    sequence: int

    def __str__(self) -> str:
        return f"{self.transaction}.{self.sequence}"

    @classmethod
    def parse(cls, text: str) -> Cursor | None:
        """The cursor the text names, or None if it names none."""
        match = CURSOR.fullmatch(text or "")
        if match is None:
            return None
        transaction, sequence = (int(part) for part in match.groups())
        if transaction > BIGINT_MAX or sequence > BIGINT_MAX:
            return None
        return cls(transaction, sequence)

    @classmethod
    def of(cls, event: Event) -> Cursor:
        return cls(event.transaction, event.sequence)


class CurrentTransaction(models.Func):
    """The id of the transaction that writes the row: PostgreSQL's pg_current_xact_id(), the same for every statement
    of one transaction (savepoints included). SQLite writes one transaction at a time, so there the sequence alone
    is in commit order and the column holds 0."""

    output_field = models.BigIntegerField()

    def as_sql(self, compiler, connection, **extra_context):
        return "0", []

    def as_postgresql(self, compiler, connection, **extra_context):
        return "(pg_current_xact_id()::text::bigint)", []


class Event(models.Model):
    """One change as one organisation sees it.

    The feed's order is (`transaction`, `sequence`). A sequence alone is not enough on PostgreSQL: values are taken
    when rows are inserted, not when they commit, so a reader could see 12 before 11 commits and page past it. The
    feed therefore serves only rows whose writing transaction is older than every transaction still running
    (selectors.py); no row can appear later below that line, so a cursor never skips or repeats an event."""

    sequence = models.BigAutoField(primary_key=True)
    event_id = models.UUIDField(_("id"), default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(
        "accounts.Organisation",
        verbose_name=_("organisation"),
        related_name="events",
        on_delete=models.CASCADE,
        db_index=False,  # the feed's index starts with it
    )
    type = models.CharField(_("type"), max_length=40)
    occurred_at = models.DateTimeField(_("occurred at"))
    subject_type = models.CharField(_("subject type"), max_length=40)
    subject_id = models.UUIDField(_("subject id"))
    data = models.JSONField(_("data"))
    transaction = models.BigIntegerField(_("transaction"), db_default=CurrentTransaction(), editable=False)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        indexes = [
            models.Index(fields=["organisation", "transaction", "sequence"], name="events_feed"),
            models.Index(fields=["organisation", "type", "transaction", "sequence"], name="events_feed_by_type"),
            models.Index(fields=["occurred_at"], name="events_by_age"),
        ]

    def __str__(self):
        return f"{self.type} {self.event_id}"

    def body(self) -> dict:
        """The event as the feed and the webhooks give it."""
        return {
            "id": str(self.event_id),
            "type": self.type,
            "occurredAt": format_instant(self.occurred_at),
            "cursor": str(Cursor.of(self)),
            "data": self.data,
        }


class DisabledReason(models.TextChoices):
    BY_ADMIN = "by_admin", _("Disabled by an admin")
    GONE = "gone", _("The endpoint answered 410 Gone")
    FAILING = "failing", _("Every delivery failed for a day")


class WebhookEndpoint(models.Model):
    """A URL of an organisation that receives its events, signed after Standard Webhooks (webhooks.py). The secret
    signs; after a rotation the previous one keeps signing beside it until `previous_secret_expires_at`, so the
    receiver can switch without losing a delivery. Stored in clear: signing needs it; the API shows it only once."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(
        "accounts.Organisation",
        verbose_name=_("organisation"),
        related_name="webhook_endpoints",
        on_delete=models.CASCADE,
    )
    url = models.URLField(_("URL"), max_length=2000)
    description = models.CharField(_("description"), max_length=200, blank=True)
    event_types = models.JSONField(_("event types"), default=list)
    secret = models.CharField(_("secret"), max_length=100)
    previous_secret = models.CharField(_("previous secret"), max_length=100, blank=True)
    previous_secret_expires_at = models.DateTimeField(_("previous secret valid until"), null=True, blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    disabled_reason = models.CharField(_("why disabled"), max_length=20, choices=DisabledReason.choices, blank=True)
    #: Since when every delivery has failed (None after a success): a day of it disables the endpoint.
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(enabled=True, disabled_reason="") | models.Q(enabled=False),
                name="webhook_enabled_has_no_reason",
            ),
        ]

    def __str__(self):
        return self.url

    def secrets_at(self, now) -> list[str]:
        """The secrets that sign a delivery at `now`: the current one, and the previous one during its grace."""
        previous = self.previous_secret and self.previous_secret_expires_at and now < self.previous_secret_expires_at
        return [self.secret, self.previous_secret] if previous else [self.secret]


class WebhookAttempt(models.Model):
    """One attempt to deliver an event to an endpoint, as the portal lists it: when, the answer's status code (none
    when there was no answer), how long it took, and why it failed."""

    id = models.BigAutoField(primary_key=True)
    endpoint = models.ForeignKey(
        WebhookEndpoint, verbose_name=_("endpoint"), related_name="attempts", on_delete=models.CASCADE
    )
    message_id = models.UUIDField(_("delivery"))
    event_id = models.UUIDField(_("event"))
    event_type = models.CharField(_("type"), max_length=40)
    attempted_at = models.DateTimeField(_("attempted at"))
    status_code = models.PositiveSmallIntegerField(_("answer code"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"))
    succeeded = models.BooleanField(_("succeeded"))
    error = models.CharField(_("error"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        indexes = [models.Index(fields=["message_id", "-attempted_at"], name="webhook_attempts_of_delivery")]

    def __str__(self):
        return f"{self.event_type} {self.attempted_at}"
