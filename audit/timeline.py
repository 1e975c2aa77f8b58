"""The one renderer of audit changes: every page that shows an audit trail (a sharing's timeline, a machine's
history) turns its events into {event, changes: [{label, before, after}]} here, for templates/portal/
audit_timeline.html. What a field is called and how its values read is registered by the app that owns the target
(vocabulary.py)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

from django.utils.translation import gettext as _

from .models import AuditEvent
from .vocabulary import AuditField, audit_fields

EMPTY = "—"


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def readable_value(value: Any) -> str:
    """A stored value as text, for the fields no app describes."""
    if is_empty(value):
        return EMPTY
    if isinstance(value, dict):
        return ", ".join(f"{key}: {item}" for key, item in value.items())
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return str(value)


def _describe(change: dict, fields: Mapping[str, AuditField], names: Mapping[str, Mapping[str, str]]) -> dict:
    field_name = change.get("field", "")
    field = fields.get(field_name)

    def readable(value: Any) -> str:
        if field is None or field.readable is None:
            return readable_value(value)
        if field.resolve is not None:
            return field.readable(value, names.get(field_name, {}))
        return EMPTY if is_empty(value) else field.readable(value)

    return {
        "label": str(field.label) if field is not None else field_name,
        "before": readable(change.get("before")),
        "after": readable(change.get("after")),
    }


def _resolved_names(events: list[AuditEvent], organisation) -> dict[str, Mapping[str, str]]:
    """For each field that refers to other rows, their names, in one query per field for the whole page."""
    wanted: dict[str, tuple[Callable[[Any, set[str]], Mapping[str, str]], set[str]]] = {}
    for event in events:
        fields = audit_fields(event.target_type)
        for change in event.changes or []:
            field = fields.get(change.get("field", ""))
            if field is None or field.resolve is None:
                continue
            ids = wanted.setdefault(change["field"], (field.resolve, set()))[1]
            for value in (change.get("before"), change.get("after")):
                ids.update(str(item) for item in (value if isinstance(value, list) else [value]) if item)
    return {name: resolve(organisation, ids) for name, (resolve, ids) in wanted.items() if ids}


def audit_timeline(
    events: Iterable[AuditEvent], *, organisation, without_changes: Collection[str] = ()
) -> list[dict[str, Any]]:
    """The events as the timeline partial shows them, in the order given. `without_changes` names the actions whose
    changes the page shows elsewhere (a sharing's creation: its summary lists the initial values)."""
    events = list(events)
    names = _resolved_names(events, organisation)
    return [
        {
            "event": event,
            "changes": []
            if event.action in without_changes
            else [_describe(change, audit_fields(event.target_type), names) for change in event.changes or []],
        }
        for event in events
    ]
