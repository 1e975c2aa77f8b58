"""The audit trail's one writer. Kept apart from services.py so that other apps' services (fleet's own machines)
can record their changes without importing the sharing services, which import them."""

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

from accounts.actors import Actor
from accounts.models import Organisation

from .models import ActorKind, AuditEvent


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Organisation):
        return {"id": str(value.pk), "name": value.name}
    return value


def audit_record(
    *,
    actor: Actor,
    organisation: Organisation,
    target_type: str,
    target_id,
    action: str,
    changes: Iterable[tuple[str, Any, Any]] = (),
    now: dt.datetime,
) -> AuditEvent:
    """Write one audit event; `changes` are (field, before, after) triples. Call it inside the change's transaction."""
    if actor.is_system:
        kind = ActorKind.SYSTEM
    elif actor.api_key is not None:
        kind = ActorKind.API_KEY
    else:
        kind = ActorKind.USER
    return AuditEvent.objects.create(
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
    )
