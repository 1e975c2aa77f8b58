"""What the audit trail's plain strings mean. The audit app stores targets and actions as strings and knows none of
them: each app registers its own (TextChoices of targets and actions, and how its fields read) in its
AppConfig.ready(), and the model's choices, the admin and the timeline renderer read them from here."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.models import TextChoices

_targets: dict[str, Any] = {}
_actions: dict[str, Any] = {}
_fields: dict[str, dict[str, AuditField]] = {}


@dataclass(frozen=True)
class AuditField:
    """How one field of a target reads in a timeline: its label and how a value becomes text.

    `readable(value)` turns a stored value (never None or empty: those read "—") into text. A field that holds ids of
    other rows names a `resolve(organisation, ids) -> {id: name}` instead, called once per page with every id the
    shown events mention; `readable(value, names)` then gets the names too."""

    label: Any
    readable: Callable[..., str] | None = None
    resolve: Callable[[Any, set[str]], Mapping[str, str]] | None = None


def _register(registry: dict[str, Any], choices: type[TextChoices] | Iterable[tuple[str, Any]], what: str) -> None:
    pairs = choices.choices if isinstance(choices, type) else choices
    for value, label in pairs:
        known = registry.get(value)
        if known is not None and str(known) != str(label):
            raise ImproperlyConfigured(f"Audit {what} {value!r} is registered twice with different labels.")
        registry[value] = label


def audit_vocabulary_register(
    *,
    targets: type[TextChoices] | Iterable[tuple[str, Any]] = (),
    actions: type[TextChoices] | Iterable[tuple[str, Any]] = (),
    fields: Mapping[str, Mapping[str, AuditField]] | None = None,
) -> None:
    """Register an app's audit targets and actions (an app may reuse another's value with the same label) and, per
    target, how its fields read. Call it from AppConfig.ready()."""
    _register(_targets, targets, "target")
    _register(_actions, actions, "action")
    for target, target_fields in (fields or {}).items():
        _fields.setdefault(target, {}).update(target_fields)


def target_choices() -> list[tuple[str, Any]]:
    return list(_targets.items())


def action_choices() -> list[tuple[str, Any]]:
    return list(_actions.items())


def audit_fields(target_type: str) -> Mapping[str, AuditField]:
    return _fields.get(target_type, {})
