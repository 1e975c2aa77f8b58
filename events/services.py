"""The writers of events: one row per change and per organisation that may see it, written in the transaction of the
change (the hook of sharing/changes.py calls events_record there), so a rollback leaves no event. A batch of changes
(the lifecycle job's thousand sharings) is written in a fixed number of statements."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import Actor
from audit.services import audit_record
from hiboo_connect import outbound
from hiboo_connect.bulk import objects_insert
from hiboo_connect.errors import InvalidInput, NotAllowed, RuleConflict
from hiboo_connect.text import single_line
from outbox.models import Message, MessageStatus
from outbox.services import message_requeue, messages_drop
from sharing import selectors as sharing_selectors
from sharing.api import sharing_data
from sharing.changes import Change, ChangeType

from . import selectors, webhooks
from .models import DisabledReason, Event, WebhookEndpoint

#: Events are kept this long (DESIGN §9); the purge job deletes older ones.
RETENTION = dt.timedelta(days=90)
PURGE_BATCH = 5000


def events_record(*, changes: list[Change]) -> list[Event]:
    """Write the events of these changes: one per organisation that may see each. Two statements whatever their
    number (the sharings' machine ids unless they were read with them, the insert), and the webhook deliveries'
    (webhooks.deliveries_queue)."""
    machines = _machine_ids([change.sharing for change in changes if change.sharing is not None])
    events = []
    for change in changes:
        # A sharing is shown as GET /api/v1/sharings/{id} shows it at the change, the same to its owner and its
        # beneficiary: built once for both.
        shown = None
        if change.sharing is not None:
            shown = sharing_data(
                change.sharing, now=change.occurred_at, machine_ids=machines.get(change.sharing.pk, [])
            )
        for organisation_id in change.organisation_ids:
            if shown is not None and change.views is not None:
                # About something of the sharing's (an extension request): that, with the sharing as shown.
                data = {**change.views[organisation_id], "sharing": shown}
            else:
                data = shown if shown is not None else dict((change.views or {})[organisation_id])
            events.append(
                Event(
                    organisation_id=organisation_id,
                    type=change.type,
                    occurred_at=change.occurred_at,
                    subject_type=change.subject_type,
                    subject_id=change.subject_id,
                    data=data,
                )
            )
    objects_insert(events)
    webhooks.deliveries_queue(events)
    return events


def _machine_ids(sharings: list) -> dict:
    """The machine ids of these sharings: from their links when they were read or written with them (a sharing's
    machines never change), else in one query."""
    machines: dict = {}
    unknown = []
    for sharing in sharings:
        links = getattr(sharing, "_prefetched_objects_cache", {}).get("sharing_machines")
        if links is None:
            unknown.append(sharing.pk)
        else:
            machines[sharing.pk] = [link.machine_id for link in links]
    if unknown:
        machines.update(sharing_selectors.machine_ids_of_sharings(unknown))
    return machines


def events_purge(*, now: dt.datetime | None = None) -> int:
    """Delete the events older than RETENTION, a batch at a time (each a short transaction). Returns how many."""
    horizon = (now or timezone.now()) - RETENTION
    purged = 0
    while True:
        batch = list(Event.objects.filter(occurred_at__lt=horizon).values_list("sequence", flat=True)[:PURGE_BATCH])
        if not batch:
            return purged
        purged += Event.objects.filter(sequence__in=batch).delete()[0]


# --- webhook endpoints -----------------------------------------------------------------------------------------------

#: After a rotation, the previous secret signs beside the new one this long.
SECRET_GRACE = dt.timedelta(hours=24)
ENDPOINTS_MAX = 20
AUDIT_TARGET = webhooks.SUBJECT


def _clean_url(url) -> str:
    url = (url or "").strip() if isinstance(url, str) else ""
    if not url:
        raise InvalidInput("url_required", _("Give the URL that receives the events."), field="url")
    refusal = outbound.target_refusal(url)
    if refusal is not None:
        raise InvalidInput("url_refused", refusal, field="url")
    return url


def _clean_event_types(event_types) -> list[str]:
    if isinstance(event_types, str) or not isinstance(event_types, Iterable):
        raise InvalidInput("invalid_event_types", _("Event types must be a list."), field="event_types")
    chosen = list(dict.fromkeys(event_types))
    unknown = [str(name) for name in chosen if name not in ChangeType.values]
    if unknown:
        raise InvalidInput(
            "unknown_event_type", _("Unknown event type: %s.") % ", ".join(unknown)[:200], field="event_types"
        )
    if not chosen:
        raise InvalidInput("event_types_required", _("Choose at least one event type."), field="event_types")
    return [name for name in ChangeType.values if name in chosen]


def _clean_description(description) -> str:
    description = single_line(description if isinstance(description, str) else "")
    if len(description) > 200:
        raise InvalidInput(
            "description_too_long", _("The description is too long (200 characters at most)."), field="description"
        )
    return description


@transaction.atomic
def webhook_endpoint_create(
    *, actor: Actor, url: str, event_types: Iterable[str], description: str = "", now: dt.datetime | None = None
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint of the actor's organisation. Returns it with its secret, which is shown this once."""
    organisation = actor.organisation
    if organisation is None:
        raise NotAllowed("no_organisation", _("You need an organisation to register webhooks."))
    actor.require_admin_of(organisation)
    now = now or timezone.now()
    url, types, description = _clean_url(url), _clean_event_types(event_types), _clean_description(description)
    if WebhookEndpoint.objects.filter(organisation=organisation).count() >= ENDPOINTS_MAX:
        raise RuleConflict(
            "too_many_endpoints", _("An organisation has at most %d webhook endpoints.") % ENDPOINTS_MAX, field="url"
        )
    secret = webhooks.new_secret()
    endpoint = WebhookEndpoint.objects.create(
        organisation=organisation,
        url=url,
        event_types=types,
        description=description,
        secret=secret,
        created_at=now,
        updated_at=now,
    )
    audit_record(
        actor=actor,
        organisation=organisation,
        target_type=AUDIT_TARGET,
        target_id=endpoint.pk,
        action="created",
        changes=[("url", None, url), ("event_types", None, types), ("description", None, description)],
        now=now,
    )
    return endpoint, secret


def _locked(endpoint: WebhookEndpoint) -> WebhookEndpoint:
    return WebhookEndpoint.objects.select_for_update(of=("self",)).select_related("organisation").get(pk=endpoint.pk)


@transaction.atomic
def webhook_endpoint_update(
    *, actor: Actor, endpoint: WebhookEndpoint, changes: Mapping[str, Any], now: dt.datetime | None = None
) -> WebhookEndpoint:
    """Change the URL, the event types, the description, or enable / disable the endpoint. Enabling it starts
    afresh: its failures so far no longer count."""
    actor.require_admin_of(endpoint.organisation)
    endpoint = _locked(endpoint)
    now = now or timezone.now()
    unknown = set(changes) - {"url", "event_types", "description", "enabled"}
    if unknown:
        raise InvalidInput("unknown_field", _("Unknown field: %s.") % ", ".join(sorted(unknown)))
    before = {name: getattr(endpoint, name) for name in ("url", "event_types", "description", "enabled")}
    if "url" in changes:
        endpoint.url = _clean_url(changes["url"])
    if "event_types" in changes:
        endpoint.event_types = _clean_event_types(changes["event_types"])
    if "description" in changes:
        endpoint.description = _clean_description(changes["description"])
    if "enabled" in changes:
        if not isinstance(changes["enabled"], bool):
            raise InvalidInput("invalid_boolean", _("Must be true or false."), field="enabled")
        if changes["enabled"] != endpoint.enabled:
            endpoint.enabled = changes["enabled"]
            endpoint.disabled_reason = "" if endpoint.enabled else DisabledReason.BY_ADMIN
            endpoint.failing_since = None
    diff = [
        (name, value, getattr(endpoint, name)) for name, value in before.items() if getattr(endpoint, name) != value
    ]
    if not diff:
        return endpoint
    endpoint.updated_at = now
    endpoint.save()
    audit_record(
        actor=actor,
        organisation=endpoint.organisation,
        target_type=AUDIT_TARGET,
        target_id=endpoint.pk,
        action="updated",
        changes=diff,
        now=now,
    )
    return endpoint


@transaction.atomic
def webhook_endpoint_rotate_secret(
    *, actor: Actor, endpoint: WebhookEndpoint, now: dt.datetime | None = None
) -> tuple[WebhookEndpoint, str]:
    """A new secret, shown this once; the current one keeps signing beside it for SECRET_GRACE, so the receiver can
    switch without losing a delivery."""
    actor.require_admin_of(endpoint.organisation)
    endpoint = _locked(endpoint)
    now = now or timezone.now()
    secret = webhooks.new_secret()
    endpoint.previous_secret, endpoint.previous_secret_expires_at = endpoint.secret, now + SECRET_GRACE
    endpoint.secret, endpoint.updated_at = secret, now
    endpoint.save()
    audit_record(
        actor=actor,
        organisation=endpoint.organisation,
        target_type=AUDIT_TARGET,
        target_id=endpoint.pk,
        action="secret_rotated",
        changes=[("previous_secret_expires_at", None, endpoint.previous_secret_expires_at)],
        now=now,
    )
    return endpoint, secret


@transaction.atomic
def webhook_endpoint_delete(*, actor: Actor, endpoint: WebhookEndpoint, now: dt.datetime | None = None) -> None:
    """Delete the endpoint and the deliveries still waiting for it."""
    actor.require_admin_of(endpoint.organisation)
    endpoint = _locked(endpoint)
    audit_record(
        actor=actor,
        organisation=endpoint.organisation,
        target_type=AUDIT_TARGET,
        target_id=endpoint.pk,
        action="deleted",
        changes=[("url", endpoint.url, None)],
        now=now or timezone.now(),
    )
    messages_drop(subject_type=webhooks.SUBJECT, subject_ids=[endpoint.pk])
    endpoint.delete()


@transaction.atomic
def webhook_deliveries_retry(*, actor: Actor, endpoint: WebhookEndpoint, delivery: Message | None = None) -> int:
    """Send failed deliveries of the endpoint again, each with a fresh series of attempts under the same
    webhook-id: one, or every failed one. The endpoint must be enabled. Returns how many were put back in line."""
    actor.require_admin_of(endpoint.organisation)
    endpoint = _locked(endpoint)
    if not endpoint.enabled:
        raise RuleConflict("endpoint_disabled", _("Enable the endpoint first: a disabled endpoint receives nothing."))
    failed = selectors.webhook_deliveries(endpoint).select_for_update().filter(status=MessageStatus.FAILED)
    if delivery is not None:
        failed = failed.filter(pk=delivery.pk)
    retried = list(failed)
    if delivery is not None and not retried:
        raise RuleConflict("delivery_not_failed", _("Only a failed delivery can be sent again."))
    for message in retried:
        message_requeue(message)
    return len(retried)
