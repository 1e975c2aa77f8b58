"""Telemetry ingest through fleet.services.telemetry_store against a raw COPY of the same rows into the same table
(13 M readings and its two indexes): 200,000 readings of a machine of its own, removed afterwards."""

from __future__ import annotations

import datetime as dt

from django.db import connection, transaction

from fleet.models import Machine, Reading
from fleet.services import ReadingRow, telemetry_store

from . import Result, measure, timed

ROWS = 200_000
METRICS = ("operating_hours", "idle_hours", "fuel_used", "fuel_remaining")


@measure(13, "telemetry ingest ÷ raw COPY into the same table", "≥ 0.5×")
def ingest(world):
    machine, _created = Machine.objects.get_or_create(
        make="Bench",
        serial_number="INGEST-1",
        defaults={"organisation": world.organisation("big"), "model": "Ingest", "category": "excavator"},
    )
    start = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    rows = [
        (machine.pk, METRICS[index % len(METRICS)], start + dt.timedelta(minutes=index // len(METRICS)), float(index))
        for index in range(ROWS)
    ]
    _clear(machine)
    copy_seconds, _ = timed(_raw_copy, rows)
    _clear(machine)
    store_seconds, stored = timed(
        telemetry_store,
        readings=(ReadingRow(m, metric, t, v) for m, metric, t, v in rows),
    )
    _clear(machine)
    ratio = copy_seconds / store_seconds
    return Result(
        f"{ratio:.2f}× ({ROWS / store_seconds:,.0f} vs {ROWS / copy_seconds:,.0f} rows/s)",
        ratio >= 0.5 and stored.readings.stored == ROWS,
        f"{ROWS:,} readings: telemetry_store {store_seconds:.2f} s (rows built in the call, as telemetry_ingest builds "
        "them), "
        f"raw COPY {copy_seconds:.2f} s",
    )


def _raw_copy(rows) -> None:
    with (
        transaction.atomic(),
        connection.cursor() as cursor,
        cursor.cursor.copy(
            'COPY fleet_reading (machine_id, metric, "timestamp", value, received_at) FROM STDIN'
        ) as copy,
    ):
        now = dt.datetime.now(dt.UTC)
        for row in rows:
            copy.write_row((*row, now))


def _clear(machine) -> None:
    Reading.objects.filter(machine=machine).delete()
