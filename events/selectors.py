"""Scoped reads of events: an organisation reads only its own rows, in the feed's order (transaction, sequence)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL

from .models import Event

#: The transactions still running: on PostgreSQL, the oldest id among them (in the same statement as the read, so
#: in its snapshot). Every transaction below it has committed or rolled back: its rows are all there, for good.
RUNNING_HORIZON = "pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
#: A transaction reads its own rows as well (a test, or a job that writes and reads in one transaction).
OWN_TRANSACTION = "COALESCE(pg_current_xact_id_if_assigned()::text::bigint, -1)"
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
