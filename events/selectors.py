"""Scoped reads of events: an organisation reads only its own rows, in the feed's order (transaction, sequence)."""

from __future__ import annotations

from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext as _

from hiboo_connect.errors import NotFound
from outbox.models import Message

from .models import Cursor, Event, WebhookAttempt, WebhookEndpoint
from .webhooks import DELIVERY_KIND, SUBJECT

#: The transactions still running: on PostgreSQL, the oldest id among them (in the same statement as the read, so
#: in its snapshot). Every transaction below it has committed or rolled back: its rows are all there, for good.
#: The line is the whole cluster's: a long write transaction anywhere on the server (a big import, another database)
#: holds new events back until it ends. The feed waits then; it never skips. Keep write transactions short.
RUNNING_HORIZON = "pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
#: A transaction reads its own rows as well (a test, or a job that writes and reads in one transaction).
OWN_TRANSACTION = "COALESCE(pg_current_xact_id_if_assigned()::text::bigint, -1)"


def events_of(organisation) -> QuerySet[Event]:
    return Event.objects.filter(organisation=organisation)


def events_after(
    *, organisation, after: Cursor | None = None, types: list[str] | None = None, limit: int = 100
) -> list[Event]:
    """The organisation's events after `after`, oldest first, at most `limit`: only those no running transaction can
    still precede (models.Event says why), so paging from the last one never skips or repeats an event."""
    events = events_of(organisation)
    if types:
        events = events.filter(type__in=types)
    if after is not None:
        events = events.filter(
            Q(transaction__gt=after.transaction) | Q(transaction=after.transaction, sequence__gt=after.sequence),
            transaction__gte=after.transaction,  # the index's range; the OR above is checked within it
        )
    if connection.vendor == "postgresql":
        events = events.filter(
            Q(transaction__lt=RawSQL(RUNNING_HORIZON, [])) | Q(transaction=RawSQL(OWN_TRANSACTION, []))
        )
    return list(events.order_by("transaction", "sequence")[:limit])


def event_get(*, organisation, event_id) -> Event | None:
    return events_of(organisation).filter(event_id=event_id).first()


def webhook_endpoints_of(organisation) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(organisation=organisation).select_related("organisation")


def webhook_endpoint_get(*, organisation, endpoint_id) -> WebhookEndpoint:
    """An endpoint of the organisation; anything else is NotFound."""
    endpoint = webhook_endpoints_of(organisation).filter(pk=endpoint_id).first()
    if endpoint is None:
        raise NotFound("webhook_not_found", _("No such webhook endpoint."))
    return endpoint


def webhook_deliveries(endpoint: WebhookEndpoint) -> QuerySet[Message]:
    """The endpoint's deliveries (its other messages, the e-mails saying it was disabled, are not)."""
    return Message.objects.filter(subject_type=SUBJECT, subject_id=endpoint.pk, kind=DELIVERY_KIND)


def webhook_deliveries_of(endpoint: WebhookEndpoint, *, limit: int = 50) -> list[Message]:
    """The endpoint's latest deliveries, newest first, each with its attempts (newest first) as `.attempt_rows`."""
    return webhook_attempts_attach(list(webhook_deliveries(endpoint).order_by("-created_at")[:limit]))


def webhook_attempts_attach(deliveries: list[Message]) -> list[Message]:
    """Give each delivery its attempts (newest first) as `.attempt_rows`, in one query."""
    attempts: dict = {}
    for attempt in WebhookAttempt.objects.filter(message_id__in=[delivery.pk for delivery in deliveries]).order_by(
        "-attempted_at", "-id"
    ):
        attempts.setdefault(attempt.message_id, []).append(attempt)
    for delivery in deliveries:
        delivery.attempt_rows = attempts.get(delivery.pk, [])  # type: ignore[attr-defined]
    return deliveries


def webhook_delivery_get(*, endpoint: WebhookEndpoint, delivery_id) -> Message:
    delivery = webhook_deliveries(endpoint).filter(pk=delivery_id).first()
    if delivery is None:
        raise NotFound("delivery_not_found", _("No such delivery."))
    return delivery
