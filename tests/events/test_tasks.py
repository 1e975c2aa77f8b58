"""The events app's periodic job (events/tasks.py): the beat runs the purge hourly, the task deletes what is older
than 90 days at the wall clock's time, batch by batch, and leaves the rest (and its cursors) as it was."""

import datetime as dt

import pytest

from events import services
from events.models import Cursor, Event
from events.tasks import events_purge_task
from hiboo_connect.celery import app

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 7, 12, 9, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def event(organisation, occurred_at, index=0):
    return Event.objects.create(
        organisation=organisation,
        type="sharing.updated",
        occurred_at=occurred_at,
        subject_type="sharing",
        subject_id=f"00000000-0000-4000-8000-{index:012d}",
        data={"index": index},
    )


def test_the_beat_runs_the_purge_task_hourly():
    entries = {entry["task"]: entry for entry in app.conf.beat_schedule.values()}

    assert entries["events.tasks.events_purge_task"]["schedule"] == 3600.0
    assert "events.tasks.events_purge_task" in app.tasks


def test_the_task_purges_what_is_older_than_ninety_days_at_the_wall_clocks_time(frozen, owner_org, outsider_org):
    old = [event(owner_org, NOW - 91 * DAY, 1), event(outsider_org, NOW - 90 * DAY - dt.timedelta(seconds=1), 2)]
    kept = [event(owner_org, NOW - 90 * DAY, 3), event(outsider_org, NOW - DAY, 4)]
    frozen(NOW)

    assert events_purge_task.delay().get() == 2

    assert sorted(Event.objects.values_list("sequence", flat=True)) == sorted(e.sequence for e in kept)
    assert not Event.objects.filter(sequence__in=[e.sequence for e in old]).exists()
    # What is left reads back with the same cursors: the purge deletes, it never renumbers.
    assert [str(Cursor.of(e)) for e in Event.objects.order_by("sequence")] == [str(Cursor.of(e)) for e in kept]


def test_the_purge_works_in_batches_until_nothing_old_is_left(frozen, owner_org, monkeypatch):
    monkeypatch.setattr(services, "PURGE_BATCH", 3)
    for index in range(7):
        event(owner_org, NOW - 100 * DAY, index)
    event(owner_org, NOW, 99)
    frozen(NOW)

    assert events_purge_task.delay().get() == 7
    assert events_purge_task.delay().get() == 0
    assert list(Event.objects.values_list("data", flat=True)) == [{"index": 99}]
