"""The writers of events: one row per change and per organisation that may see it, written in the transaction of the
change (the hook of sharing/changes.py calls events_record there), so a rollback leaves no event. A batch of changes
(the lifecycle job's thousand sharings) is written in a fixed number of statements."""

from __future__ import annotations

import datetime as dt

from django.db.models import prefetch_related_objects
from django.utils import timezone

from sharing.api import SharingSerializer
from sharing.changes import Change

from .models import Event

#: Events are kept this long (DESIGN §9); the purge job deletes older ones.
RETENTION = dt.timedelta(days=90)
PURGE_BATCH = 5000


def sharing_representation(sharing, *, organisation_id, now: dt.datetime) -> dict:
    """The sharing as GET /api/v1/sharings/{id} shows it to that organisation at `now`."""
    return dict(SharingSerializer(sharing, context={"now": now, "organisation_id": organisation_id}).data)


def events_record(*, changes: list[Change]) -> list[Event]:
    """Write the events of these changes: one per organisation that may see each. Two statements whatever their
    number (the sharings' machines, the insert)."""
    sharings = [change.sharing for change in changes if change.sharing is not None]
    prefetch_related_objects(sharings, "sharing_machines")
    events = []
    for change in changes:
        for organisation_id in change.organisation_ids:
            if change.sharing is not None:
                data = sharing_representation(change.sharing, organisation_id=organisation_id, now=change.occurred_at)
            else:
                data = dict((change.views or {})[organisation_id])
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
    return Event.objects.bulk_create(events)


def events_purge(*, now: dt.datetime | None = None) -> int:
    """Delete the events older than RETENTION, a batch at a time (each a short transaction). Returns how many."""
    horizon = (now or timezone.now()) - RETENTION
    purged = 0
    while True:
        batch = list(Event.objects.filter(occurred_at__lt=horizon).values_list("sequence", flat=True)[:PURGE_BATCH])
        if not batch:
            return purged
        purged += Event.objects.filter(sequence__in=batch).delete()[0]
