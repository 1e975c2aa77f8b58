"""The lifecycle job in batches: a batch costs the same statements whatever its size, every due sharing moves once
across batches, and two runs at the same moment move each sharing once (each run in its own thread and connection,
on PostgreSQL in CI and on SQLite)."""

import datetime as dt
import threading
from datetime import UTC

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from outbox import tasks as outbox_tasks
from outbox.models import Message
from sharing import services
from sharing.audit import AuditAction
from sharing.lifecycle import SharingStatus
from sharing.messages import SharingMessage
from sharing.models import Sharing
from sharing.services import sharing_create, sharing_lifecycle_run
from tests.factories import MachineFactory

NOW = dt.datetime(2026, 7, 12, 9, 0, tzinfo=UTC)
DAY = dt.timedelta(days=1)
#: A run that moves one batch: the two due look-ups, the batch read, then its transaction (a savepoint here, and
#: its release) around the claim, the audit insert, the recipients, the machines' links and the machines (each made
#: once), the outbox insert (which returns the rows it wrote), the machines again as the events show them
#: (sharing.sharing_machines), the events' one insert and the webhook endpoints that may want them (none here).
STATEMENTS_OF_ONE_BATCH = 14


def scheduled(actor, recipient, count, *, machines_each=1):
    """`count` sharings starting tomorrow, each of its own machines."""
    return [
        sharing_create(
            actor=actor,
            machine_ids=[MachineFactory(organisation=actor.organisation).pk for _machine in range(machines_each)],
            recipient_email=recipient.email,
            start_at=NOW + DAY,
            end_at=NOW + 10 * DAY,
            now=NOW,
        )[0]
        for _sharing in range(count)
    ]


def statements_of_a_run(**kwargs) -> int:
    with CaptureQueriesContext(connection) as queries:
        sharing_lifecycle_run(now=NOW + 2 * DAY, **kwargs)
    return len(queries)


@pytest.mark.django_db
@pytest.mark.parametrize(("count", "machines_each"), [(1, 1), (7, 3)])
def test_a_batch_costs_the_same_statements_whatever_its_size(admin_actor, beneficiary_admin, count, machines_each):
    scheduled(admin_actor, beneficiary_admin, count, machines_each=machines_each)
    assert statements_of_a_run() == STATEMENTS_OF_ONE_BATCH


@pytest.mark.django_db
def test_a_run_with_nothing_due_reads_the_two_partial_indexes_only(admin_actor, beneficiary_admin):
    scheduled(admin_actor, beneficiary_admin, 3)
    with CaptureQueriesContext(connection) as queries:
        assert sharing_lifecycle_run(now=NOW) == 0
    assert len(queries) == 2


@pytest.mark.django_db
def test_batches_move_every_due_sharing_once_with_its_event_and_message(admin_actor, beneficiary_admin):
    sharings = scheduled(admin_actor, beneficiary_admin, 5)

    assert sharing_lifecycle_run(now=NOW + 2 * DAY, batch_size=2) == 5

    assert set(Sharing.objects.values_list("status", flat=True)) == {SharingStatus.IN_PROGRESS}
    moved = AuditEvent.objects.filter(action=AuditAction.STATUS_CHANGED)
    assert sorted(moved.values_list("target_id", flat=True)) == sorted(sharing.pk for sharing in sharings)
    started = Message.objects.filter(kind=SharingMessage.STARTED)
    assert sorted(started.values_list("key", flat=True)) == sorted(f"sharing:{s.pk}:started" for s in sharings)


@pytest.mark.django_db
def test_a_batch_message_says_what_a_single_one_says(admin_actor, beneficiary_admin):
    """The batch path reads recipients and machines set-wise; the message must not change for it."""
    (sharing,) = scheduled(admin_actor, beneficiary_admin, 1, machines_each=25)
    sharing_lifecycle_run(now=NOW + 2 * DAY)
    batch = Message.objects.get(kind=SharingMessage.STARTED)
    sharing.refresh_from_db()
    sharing.status = SharingStatus.SCHEDULED  # as the single path saw it, before the move

    single = services.messages._message_for_recipient(
        sharing,
        recipient=beneficiary_admin,
        machines=list(sharing.machines.all()),
        message=SharingMessage.STARTED,
        key="single",
        extra={"status": SharingStatus.IN_PROGRESS},
    )

    assert (batch.language, batch.time_zone, batch.recipient) == (single.language, single.time_zone, single.recipient)
    assert batch.context == single.context
    assert batch.context["machine_count"] == 25


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
def test_two_runs_at_once_move_each_sharing_once(monkeypatch, admin_actor, beneficiary_admin):
    sharings = scheduled(admin_actor, beneficiary_admin, 6)
    # Both runs read and decide the same due rows before either claims them.
    barrier = threading.Barrier(2)
    waited = threading.local()
    decide = Sharing.status_at

    def decide_together(row, now):
        if not getattr(waited, "done", False):
            waited.done = True
            barrier.wait(timeout=20)
        return decide(row, now)

    monkeypatch.setattr(Sharing, "status_at", decide_together)
    results = [None, None]

    def run(index):
        try:
            results[index] = sharing_lifecycle_run(now=NOW + 2 * DAY, batch_size=4)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sum(results) == len(sharings)
    assert AuditEvent.objects.filter(action=AuditAction.STATUS_CHANGED).count() == len(sharings)
    assert Message.objects.filter(kind=SharingMessage.STARTED).count() == len(sharings)


@pytest.mark.django_db
def test_a_batch_queues_its_deliveries_with_one_task(
    monkeypatch, admin_actor, beneficiary_admin, django_capture_on_commit_callbacks
):
    """A thousand messages are one publish for the job, fanned out by a worker (outbox.tasks.messages_dispatch)."""
    scheduled(admin_actor, beneficiary_admin, 3)
    published = []
    monkeypatch.setattr(
        outbox_tasks.messages_dispatch_task, "apply_async", lambda args, **options: published.append(args[0])
    )

    with django_capture_on_commit_callbacks(execute=True):
        sharing_lifecycle_run(now=NOW + 2 * DAY)

    (message_ids,) = published
    started = Message.objects.filter(kind=SharingMessage.STARTED).values_list("pk", flat=True)
    assert sorted(message_ids) == sorted(str(pk) for pk in started)
