"""The registry of message kinds. The outbox knows no app: each app registers the messages it sends in its
AppConfig.ready() — what subject they are about, how their context is built at send time, which templates render
them, through which channel they travel and whether a failed one may be sent again. A webhook delivery will be one
more kind (with a channel of its own), not one more table."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from hiboo_connect.errors import DomainError


@dataclass(frozen=True)
class MessageKind:
    """One kind of message.

    `render_context(message)` returns what the templates get, read when the message is sent (from the context
    captured at the change, or from the subject as it is now), or None when the subject is gone: the message is then
    dropped unsent. `retry_refusal(message, now)` says why a failed message may not be sent again (an expired
    invitation's link no longer works), or None. Templates live under templates/<templates>/ (subject.txt, body.txt,
    body.html), by default emails/<name>/."""

    name: str
    label: Any
    subject_type: str
    render_context: Callable[[Any], dict | None]
    channel: str = "email"
    templates: str = ""
    retry_refusal: Callable[[Any, dt.datetime], DomainError | None] | None = None

    @property
    def template_folder(self) -> str:
        return self.templates or f"emails/{self.name}"


_kinds: dict[str, MessageKind] = {}


def message_kinds_register(*kinds: MessageKind) -> None:
    """Register an app's message kinds. Call it from AppConfig.ready()."""
    for kind in kinds:
        known = _kinds.get(kind.name)
        if known is not None and known != kind:
            raise ImproperlyConfigured(f"Message kind {kind.name!r} is registered twice.")
        _kinds[kind.name] = kind


def message_kind(name: str) -> MessageKind:
    try:
        return _kinds[name]
    except KeyError:
        raise ImproperlyConfigured(f"No app registered the message kind {name!r}.") from None


def kind_choices() -> list[tuple[str, Any]]:
    return [(kind.name, kind.label) for kind in _kinds.values()]
