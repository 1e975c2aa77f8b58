"""The feed's cursor under concurrent writers, on PostgreSQL: sequence values are taken at insert and committed in
any order, so a reader paging by sequence alone would step past an event committed late. The feed serves only
events of transactions older than every running one; these tests hold real transactions open in other threads (and
connections) and read the feed meanwhile."""

import os
import random
import threading
import time
import uuid

import pytest
from django.db import connection, connections, transaction

from events.models import Event
from events.selectors import Cursor, events_after
from events.services import events_record
from sharing.changes import Change
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db(transaction=True)
#: Reading once the horizon has passed every event written: a few seconds at most.
SETTLE_SECONDS = 30
#: The horizon is the oldest transaction running anywhere on the PostgreSQL server (transaction ids are the
#: cluster's): another test process's long test (a fuzzing run holds its transaction a minute) holds it back. Waiting
#: for it is the price of a cursor that never skips; what these tests check is that nothing is skipped or repeated
#: once it has passed, so they wait for it first, as long as the slowest test of the suite can take.
HORIZON_SECONDS = 600


def _needs_postgresql():
    """Concurrent write transactions need PostgreSQL: SQLite has one writer at a time. CI runs on PostgreSQL (a CI
    run on anything else stops at its start, tests/conftest.py), so there this never skips; `make test` on the
    embedded SQLite skips these two, and says so."""
    if connection.vendor != "postgresql":
        assert not os.environ.get("CI"), "CI runs the feed's concurrency tests on PostgreSQL"
        pytest.skip("the feed's concurrency tests need PostgreSQL (DATABASE_URL=postgres://...)")


def write_event(organisation, label):
    events_record(
        changes=[
            Change(
                type="contract.applied",
                occurred_at=_now(),
                subject_type="contract",
                subject_id=uuid.uuid4(),
                views={organisation.pk: {"label": label}},
            )
        ]
    )


def _now():
    from django.utils import timezone

    return timezone.now()


def in_thread(target):
    """Run `target` in a thread with its own database connection, closed at the end."""

    def run():
        try:
            target()
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def wait_for_the_horizon_past(organisation):
    """Until no running transaction is older than the newest of the organisation's events (or the time runs out)."""
    newest = Event.objects.filter(organisation=organisation).order_by("-transaction").values_list("transaction")[:1]
    deadline = time.monotonic() + HORIZON_SECONDS
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
            if cursor.fetchone()[0] > newest.get()[0]:
                return
            time.sleep(0.2)
    pytest.fail(f"A transaction of the server stayed open over {HORIZON_SECONDS} s: the feed could serve nothing")


def read_until(organisation, after, count, *, limit=100):
    """Page through the feed from `after` until `count` events were read (or the time runs out)."""
    rows, deadline = [], time.monotonic() + SETTLE_SECONDS
    while len(rows) < count and time.monotonic() < deadline:
        page = events_after(organisation=organisation, after=after, limit=limit)
        if page:
            rows += page
            after = Cursor.of(page[-1])
        else:
            time.sleep(0.05)
    return rows, after


def test_an_event_committed_late_is_not_stepped_over():
    _needs_postgresql()
    organisation = OrganisationFactory()
    a_written, a_may_commit = threading.Event(), threading.Event()

    def slow_writer():
        with transaction.atomic():
            write_event(organisation, "A")  # takes the lower sequence...
            a_written.set()
            a_may_commit.wait(30)  # ...and commits last

    slow = in_thread(slow_writer)
    assert a_written.wait(30)
    fast = in_thread(lambda: write_event(organisation, "B"))
    fast.join(30)

    # B has committed, A not yet. Paging by sequence would hand out B, and a cursor past A's place.
    committed = list(Event.objects.filter(organisation=organisation).values_list("data__label", "sequence"))
    assert [label for label, _sequence in committed] == ["B"]
    # The feed holds B back while A's transaction runs: nothing can slip in before a cursor it hands out.
    assert events_after(organisation=organisation) == []

    a_may_commit.set()
    slow.join(30)
    wait_for_the_horizon_past(organisation)
    rows, _after = read_until(organisation, None, 2)
    assert [row.data["label"] for row in rows] == ["A", "B"]


def test_readers_paging_while_writers_commit_out_of_order_see_every_event_once():
    _needs_postgresql()
    organisation = OrganisationFactory()
    writers, per_writer = 4, 15
    randomness = random.Random(13)
    pauses = [[randomness.uniform(0, 0.02) for _event in range(per_writer)] for _writer in range(writers)]
    done = threading.Event()
    seen: list = []

    def writer(index):
        def run():
            for number, pause in enumerate(pauses[index]):
                with transaction.atomic():
                    write_event(organisation, f"{index}-{number}")
                    time.sleep(pause)  # hold the transaction open: commits interleave out of sequence order

        return run

    def reader():
        after = None
        while not done.is_set() or len(seen) < writers * per_writer:
            page = events_after(organisation=organisation, after=after, limit=7)
            seen.extend(page)
            if page:
                after = Cursor.of(page[-1])
            elif done.is_set():
                time.sleep(0.05)
            if done.is_set() and time.monotonic() > deadline:
                return

    deadline = float("inf")
    reading = in_thread(reader)
    threads = [in_thread(writer(index)) for index in range(writers)]
    for thread in threads:
        thread.join(60)
    wait_for_the_horizon_past(organisation)
    deadline = time.monotonic() + SETTLE_SECONDS
    done.set()
    reading.join(SETTLE_SECONDS + 10)

    labels = [event.data["label"] for event in seen]
    assert len(labels) == len(set(labels)), "an event was served twice"
    assert sorted(labels) == sorted(f"{w}-{n}" for w in range(writers) for n in range(per_writer)), "one was skipped"
    cursors = [Cursor.of(event) for event in seen]
    assert cursors == sorted(cursors)
    # Each writer's own events come in the order it committed them.
    for index in range(writers):
        mine = [int(label.split("-")[1]) for label in labels if label.startswith(f"{index}-")]
        assert mine == sorted(mine)
