"""Webhook deliveries (DESIGN §9), the outbox's `webhook` channel: each event goes to every enabled endpoint of its
organisation that subscribed to its type, as an outbox message written in the event's transaction. A delivery is a
POST of the event signed after Standard Webhooks (https://www.standardwebhooks.com): `webhook-id` (the event's id,
the same on every retry), `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256 of id.timestamp.body>`
(one per valid secret). A 2xx is delivered; anything else is retried by the outbox with a backoff that starts under
a minute and spans a day; a 410, or a day when every delivery failed, disables the endpoint and tells its admins."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import Callable

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.actors import Actor
from accounts.models import Language, Organisation, Role, User
from audit.services import audit_record
from hiboo_connect import outbound, rows
from outbox.delivery import PermanentFailure, Retries, channel_register
from outbox.email import absolute_url
from outbox.kinds import MessageKind, message_kinds_register
from outbox.models import Channel, Message
from outbox.services import message_build, message_queue, messages_queue_many

from .models import DisabledReason, Event, WebhookAttempt, WebhookEndpoint

logger = logging.getLogger(__name__)

DELIVERY_KIND = "webhook_delivery"
DISABLED_KIND = "webhook_disabled"
SUBJECT = "webhook_endpoint"
SECRET_PREFIX = "whsec_"
#: A receiver has this long to answer; a slow one never holds a worker longer.
TIMEOUT_SECONDS = 10
MAX_ANSWER_BYTES = 256 * 1024
#: The waits after each failed attempt double from 30 seconds up to 4 hours: 30 s, 1, 2, 4 ... 128 min, then 4 h.
#: MAX_ATTEMPTS puts the last attempt a day (24 h 15 min) after the first.
BACKOFF_BASE = dt.timedelta(seconds=30)
BACKOFF_MAX = dt.timedelta(hours=4)
MAX_ATTEMPTS = 15
#: Every delivery failing this long disables the endpoint.
FAILING_LIMIT = dt.timedelta(days=1)


class DeliveryFailed(Exception):
    """The receiver did not take the event (no answer, or not a 2xx): the outbox tries again later."""


def backoff(attempt: int) -> dt.timedelta:
    return min(BACKOFF_BASE * 2 ** (attempt - 1), BACKOFF_MAX)


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def signature(secret: str, *, message_id: str, timestamp: int, body: bytes) -> str:
    """One `v1,<base64>` signature of Standard Webhooks."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


# --- writing deliveries, in the events' transaction -----------------------------------------------------------------


def deliveries_queue(events: list[Event]) -> list[Message]:
    """An outbox message per event and per enabled endpoint of its organisation subscribed to its type. One query for
    the endpoints, and two statements for the messages when there are any."""
    endpoints: dict = {}
    for endpoint in _enabled_endpoints({event.organisation_id for event in events}):
        endpoints.setdefault(endpoint.organisation_id, []).append(endpoint)
    if not endpoints:
        return []
    return messages_queue_many(
        message_build(
            key=f"webhook:{endpoint.pk}:{event.event_id}",
            kind=DELIVERY_KIND,
            organisation=endpoint.organisation,
            subject_id=endpoint.pk,
            recipient=str(endpoint.pk),
            language=endpoint.organisation.language,
            time_zone=endpoint.organisation.timezone,
            context={"event_id": str(event.event_id), "event_type": event.type},
        )
        for event in events
        for endpoint in endpoints.get(event.organisation_id, [])
        if event.type in endpoint.event_types
    )


def _enabled_endpoints(organisation_ids: set) -> list[WebhookEndpoint]:
    """The enabled endpoints of these organisations with their organisation, in plain SQL (hiboo_connect/rows.py):
    every change looks them up, and most organisations have none."""
    if not organisation_ids:
        return []
    sql = (
        f"SELECT {rows.select(WebhookEndpoint, 'e')}, {rows.select(Organisation, 'o')} "
        "FROM events_webhookendpoint e JOIN accounts_organisation o ON o.id = e.organisation_id "
        f"WHERE e.enabled AND e.organisation_id IN ({', '.join(['%s'] * len(organisation_ids))}) ORDER BY e.created_at"
    )
    params = [rows.param(WebhookEndpoint, "organisation", pk) for pk in organisation_ids]
    return rows.joined(WebhookEndpoint, "organisation", sql, params)


# --- sending: the outbox's sender for the webhook channel -----------------------------------------------------------


def webhook_send(message: Message, accepted: Callable[[], None]) -> bool:
    """POST the event to the endpoint. False when the endpoint or the event is gone (the message is dropped)."""
    endpoint = WebhookEndpoint.objects.filter(pk=message.subject_id).first()
    event = Event.objects.filter(event_id=message.context.get("event_id")).first()
    if endpoint is None or event is None:
        return False
    if not endpoint.enabled:
        raise PermanentFailure("The endpoint is disabled.")
    now = timezone.now()
    body = json.dumps(event.body(), ensure_ascii=False, separators=(",", ":")).encode()
    message_id, timestamp = str(event.event_id), int(now.timestamp())
    headers = {
        "content-type": "application/json",
        "user-agent": "ShareCentre-Webhooks/1.0",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(
            signature(secret, message_id=message_id, timestamp=timestamp, body=body)
            for secret in endpoint.secrets_at(now)
        ),
    }
    attempt = WebhookAttempt(
        endpoint=endpoint, message_id=message.pk, event_id=event.event_id, event_type=event.type, attempted_at=now
    )
    try:
        response = outbound.request(
            "POST", endpoint.url, headers=headers, body=body, timeout=TIMEOUT_SECONDS, max_bytes=MAX_ANSWER_BYTES
        )
    except outbound.OutboundError as error:
        _record(attempt, status_code=None, seconds=(timezone.now() - now).total_seconds(), error=str(error.message))
        _failed(endpoint, now=now)
        raise DeliveryFailed(error.message) from None
    succeeded = 200 <= response.status < 300
    _record(attempt, status_code=response.status, seconds=response.elapsed, error="")
    if succeeded:
        accepted()
        if endpoint.failing_since is not None:
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=None)
        return True
    if response.status == 410:
        endpoint_disable(endpoint=endpoint, reason=DisabledReason.GONE, now=now)
        raise PermanentFailure(f"HTTP {response.status}: the endpoint is gone, and now disabled.")
    _failed(endpoint, now=now)
    raise DeliveryFailed(f"HTTP {response.status}")


def _record(attempt: WebhookAttempt, *, status_code: int | None, seconds: float, error: str) -> None:
    attempt.status_code = status_code
    attempt.duration_ms = max(int(seconds * 1000), 0)
    attempt.succeeded = status_code is not None and 200 <= status_code < 300
    attempt.error = error[:500]
    attempt.save(force_insert=True)


def _failed(endpoint: WebhookEndpoint, *, now: dt.datetime) -> None:
    """Count a failure: the first one starts the clock; once it has run a day, the endpoint is disabled."""
    if endpoint.failing_since is None:
        WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(failing_since=now)
        return
    if now - endpoint.failing_since >= FAILING_LIMIT:
        endpoint_disable(endpoint=endpoint, reason=DisabledReason.FAILING, now=now)
        raise PermanentFailure("Every delivery failed for a day: the endpoint is now disabled.")


@transaction.atomic
def endpoint_disable(*, endpoint: WebhookEndpoint, reason: str, now: dt.datetime) -> bool:
    """Disable the endpoint for a reason of its own (410, a day of failures), audit it and e-mail its organisation's
    admins, once: a concurrent delivery that finds it disabled already does nothing."""
    disabled = WebhookEndpoint.objects.filter(pk=endpoint.pk, enabled=True).update(
        enabled=False, disabled_reason=reason, updated_at=now
    )
    if not disabled:
        return False
    audit_record(
        actor=Actor.system(),
        organisation=endpoint.organisation,
        target_type=SUBJECT,
        target_id=endpoint.pk,
        action="disabled",  # audit.AuditAction.DISABLED
        changes=[("enabled", True, False), ("disabled_reason", "", reason)],
        now=now,
    )
    organisation = endpoint.organisation
    for admin in User.objects.filter(organisation=organisation, role=Role.ADMIN, is_active=True):
        message_queue(
            key=f"webhook:{endpoint.pk}:disabled:{now.isoformat()}:{admin.pk}",
            kind=DISABLED_KIND,
            organisation=organisation,
            subject_id=endpoint.pk,
            recipient=admin.email,
            language=admin.preferred_language if admin.preferred_language in Language.values else Language.ENGLISH,
            time_zone=organisation.timezone,
            context={"endpoint_id": str(endpoint.pk), "url": endpoint.url, "reason": reason},
        )
    return True


def _disabled_context(message: Message) -> dict | None:
    return {
        **message.context,
        "reason_label": DisabledReason(message.context["reason"]).label,
        "webhooks_url": absolute_url(reverse("events:webhooks")),
    }


def register() -> None:
    channel_register(Channel.WEBHOOK, send=webhook_send, retries=Retries(backoff=backoff, max_attempts=MAX_ATTEMPTS))
    message_kinds_register(
        MessageKind(
            name=DELIVERY_KIND,
            label=_("Webhook delivery"),
            subject_type=SUBJECT,
            render_context=lambda message: message.context,
            channel=Channel.WEBHOOK,
        ),
        MessageKind(
            name=DISABLED_KIND,
            label=_("Webhook endpoint disabled"),
            subject_type=SUBJECT,
            render_context=_disabled_context,
        ),
    )
