"""The events of DESIGN §9: every change an organisation may hear about, one row per organisation that may see it,
holding the object as the API showed it to that organisation at the moment of the change. The feed
(GET /api/v1/events) and the webhooks read them."""

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


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
