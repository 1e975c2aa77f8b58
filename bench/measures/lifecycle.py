"""The lifecycle job: 10,000 due transitions with their audit events and outbox rows, and a run with nothing due at
a million sharings against one at a thousand (the thousand live in their own database, `<name>_1k`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from django.db import connection, transaction

from outbox import services as outbox_services
from sharing.services import sharing_lifecycle_run

from . import Result, measure, median, ms, repeated, timed

DUE = 10_000
REFERENCE = "BENCH-DUE"
BENCH_DIR = Path(__file__).resolve().parent.parent


@measure(1, "lifecycle job: 10,000 due transitions, with their audit events and outbox rows", "≤ 2 s")
def lifecycle_due(world):
    sharing_lifecycle_run()  # whatever came due since the world was built
    _add_due(world, DUE)
    dispatching = []
    dispatch = outbox_services.messages_dispatch

    def timed_dispatch(message_ids):
        dispatching.append(timed(dispatch, message_ids)[0])

    outbox_services.messages_dispatch = timed_dispatch
    try:
        seconds, moved = timed(sharing_lifecycle_run)
    finally:
        outbox_services.messages_dispatch = dispatch
        _remove_due()
    note = (
        f"{moved:,} moved; of the {seconds:.2f} s, {sum(dispatching):.2f} s queue the deliveries after each commit "
        f"(one task per batch, broker: {_broker()})"
    )
    return Result(f"{seconds:.2f} s ({moved / seconds:,.0f}/s)", moved == DUE and seconds <= 2, note)


@measure(2, "lifecycle job: a run with nothing due, 1M sharings ÷ 1k", "≤ 2×")
def lifecycle_idle(world):
    sharing_lifecycle_run()
    here = median(repeated(sharing_lifecycle_run, 50))
    small = _idle_on_a_thousand()
    ratio = here / small
    return Result(
        f"{ratio:.2f}× ({ms(here)} vs {ms(small)})",
        ratio <= 2,
        f"a run with nothing due: {ms(here)} at {world.sharings:,} sharings, {ms(small)} at 1,000 (median of 50)",
    )


def _add_due(world, count: int) -> None:
    """`count` scheduled sharings of the big owner whose start has just passed, with a machine each."""
    big = world.organisation("big")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """
            WITH beneficiary AS (SELECT id, name, slug FROM accounts_organisation
                                 WHERE slug = 'bench-beneficiary-0'),
            added AS (
                INSERT INTO sharing_sharing (id, owner_id, beneficiary_id, sender_label, recipient_email,
                    recipient_organisation_name, reference, properties, data_packs, notification_enabled, start_at,
                    end_at, stopped_at, status, created_at, updated_at)
                SELECT gen_random_uuid(), %(owner)s, b.id, 'admin@bench-big.example', 'admin@' || b.slug || '.example',
                    b.name, %(reference)s, '{}'::jsonb, '["usage"]'::jsonb, true,
                    now() - make_interval(secs => n), now() + interval '30 days', NULL, 'scheduled',
                    now() - interval '7 days', now() - interval '7 days'
                FROM beneficiary b CROSS JOIN generate_series(1, %(count)s) n
                RETURNING id
            )
            INSERT INTO sharing_sharingmachine (sharing_id, machine_id)
            SELECT added.id, (SELECT id FROM fleet_machine WHERE organisation_id = %(owner)s LIMIT 1) FROM added
            """,
            {"owner": big.pk, "reference": REFERENCE, "count": count},
        )


def _remove_due() -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE TEMP TABLE bench_due ON COMMIT DROP AS SELECT id FROM sharing_sharing WHERE reference = %s;
            DELETE FROM outbox_message WHERE subject_id IN (SELECT id FROM bench_due);
            DELETE FROM audit_auditevent WHERE target_id IN (SELECT id FROM bench_due);
            DELETE FROM sharing_sharingmachine WHERE sharing_id IN (SELECT id FROM bench_due);
            DELETE FROM sharing_sharing WHERE id IN (SELECT id FROM bench_due);
            """,
            [REFERENCE],
        )


def _broker() -> str:
    from django.conf import settings

    return settings.CELERY_BROKER_URL.split("://")[0]


def _idle_on_a_thousand() -> float:
    """The median of a run with nothing due on a database of 1,000 sharings, built once (bench/idle_world.py)."""
    settings = connection.settings_dict
    url = (
        f"postgres://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/"
        f"{settings['NAME']}_1k"
    )
    output = subprocess.run(
        [sys.executable, str(BENCH_DIR / "idle_world.py")],
        env={**os.environ, "DATABASE_URL": url},
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])["median"]
