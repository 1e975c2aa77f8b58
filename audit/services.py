"""The audit trail's one writer. Every app's services call it inside the transaction of the change they audit."""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import uuid
from collections.abc import Iterable, Iterator
from typing import Any, Protocol

from django.db import models

from hiboo_connect.bulk import objects_insert

from .models import ActorKind, AuditEvent

_cause: contextvars.ContextVar[uuid.UUID | None] = contextvars.ContextVar("audit_cause", default=None)


@contextlib.contextmanager
def audit_cause(cause_id: uuid.UUID) -> Iterator[None]:
    """Tag every audit event written inside the block with `cause_id`: a larger action (a contract apply) calls the
    services of a lower layer, whose events then say which action they were part of, without those services knowing
    about it."""
    token = _cause.set(cause_id)
    try:
        yield
    finally:
        _cause.reset(token)


class AuditActor(Protocol):
    """Who acts, as the trail records it (accounts.actors.Actor is one)."""

    @property
    def is_system(self) -> bool: ...

    @property
    def api_key(self) -> Any: ...

    @property
    def user(self) -> Any: ...

    @property
    def label(self) -> str: ...


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        # A row (an organisation) is kept by id and by the name it had then: the trail outlives a rename.
        return {"id": str(value.pk), "name": str(value)}
    return value


def audit_record(
    *,
    actor: AuditActor,
    organisation: Any,
    target_type: str,
    target_id,
    action: str,
    changes: Iterable[tuple[str, Any, Any]] = (),
    now: dt.datetime,
) -> AuditEvent:
    """Write one audit event; `changes` are (field, before, after) triples. Call it inside the change's transaction."""
    event = audit_event(
        actor=actor,
        organisation=organisation,
        target_type=target_type,
        target_id=target_id,
        action=action,
        changes=changes,
        now=now,
    )
    event.save(force_insert=True)
    return event


def audit_record_many(events: Iterable[AuditEvent]) -> list[AuditEvent]:
    """Write many audit events, built by audit_event, in one statement (a batch of the lifecycle job). Their ids are
    not read back."""
    events = list(events)
    objects_insert(events)
    return events


def audit_event(
    *,
    actor: AuditActor,
    organisation: Any,
    target_type: str,
    target_id,
    action: str,
    changes: Iterable[tuple[str, Any, Any]] = (),
    now: dt.datetime,
) -> AuditEvent:
    """One audit event, not yet written: audit_record writes it, audit_record_many writes a batch of them."""
    if actor.is_system:
        kind = ActorKind.SYSTEM
    elif actor.api_key is not None:
        kind = ActorKind.API_KEY
    else:
        kind = ActorKind.USER
    return AuditEvent(
        occurred_at=now,
        organisation=organisation,
        actor_kind=kind,
        actor_user=actor.user,
        actor_label=actor.label,
        target_type=target_type,
        target_id=target_id,
        action=action,
        changes=[
            {"field": field, "before": _json_value(before), "after": _json_value(after)}
            for field, before, after in changes
        ],
        cause_id=_cause.get(),
    )
