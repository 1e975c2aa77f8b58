"""Seed the demo at a given scale on the configured database, then time "one machine, 3 metrics, 30 days" through the
selectors, for the owner and for a beneficiary, and print the plans. Results for 500 machines × 365 days on
PostgreSQL are in docs/benchmarks.md, with how to reproduce them.

    createdb -h 127.0.0.1 -U postgres bench
    DEBUG=true VAR_DIR=/tmp/bench-var DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python bench/seed_and_query.py --machines 500 --days 365
"""

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hiboo_connect.settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Organisation  # noqa: E402
from demo.seed import seed_demo  # noqa: E402
from demo.world import machine_specs  # noqa: E402
from fleet.data_packs import Metric  # noqa: E402
from fleet.models import Machine  # noqa: E402
from fleet.selectors import readings_visible_to  # noqa: E402

METRICS = [Metric.OPERATING_HOURS, Metric.IDLE_HOURS, Metric.FUEL_USED]
TABLES = ["fleet_reading", "fleet_position", "fleet_faultcode", "fleet_machine", "sharing_sharing"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--machines", type=int, default=500)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--skip-seed", action="store_true", help="Query what is there; do not seed.")
    options = parser.parse_args()

    print(f"Database: {connection.vendor} {connection.settings_dict['NAME']}")
    call_command("migrate", verbosity=0)
    if not options.skip_seed:
        seed(options.machines, options.days)
    if connection.vendor == "postgresql":
        started = time.monotonic()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        print(f"VACUUM ANALYZE: {time.monotonic() - started:.1f} s")
    sizes()
    measure(options.repeat)


def seed(machines: int, days: int):
    started = time.monotonic()
    next_report = [0.0]

    def progress(done, total, rows):
        if done / total >= next_report[0] or done == total:
            next_report[0] = done / total + 0.05
            print(f"  {done}/{total} machines, {rows:,} rows, {time.monotonic() - started:.0f} s", flush=True)

    summary = seed_demo(machines=machines, days=days, progress=progress)
    elapsed = time.monotonic() - started
    print(f"Seed of {machines} machines × {days} days: {elapsed:.0f} s ({elapsed / 60:.1f} min)")
    for step, seconds in summary.seconds.items():
        print(f"  {step}: {seconds:.1f} s")
    print(f"  telemetry rows offered: {summary.telemetry_rows:,} ({summary.telemetry_rows / elapsed:,.0f} rows/s)")


def sizes():
    print("\nTable          rows           table      indexes")
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"SELECT count(*) FROM {table}")
            (rows,) = cursor.fetchone()
            if connection.vendor == "postgresql":
                cursor.execute("SELECT pg_table_size(%s), pg_indexes_size(%s)", [table, table])
                table_size, index_size = cursor.fetchone()
                print(f"{table:<15}{rows:>12,}  {table_size / 2**20:>9.0f} MB {index_size / 2**20:>9.0f} MB")
            else:
                print(f"{table:<15}{rows:>12,}")


def measure(repeat: int):
    now = timezone.now()
    since = now - dt.timedelta(days=30)
    # The first demo machine: Crestline's excavator on long-term hire with Batiroc (sharing CTR-103877, 60 days
    # ago, open-ended, packs without "activity").
    first = machine_specs(1)[0]
    machines = Machine.objects.select_related("organisation")
    machine = machines.get(make=first.model.make, serial_number=first.serial_number)
    owner = machine.organisation
    beneficiary = Organisation.objects.get(slug="batiroc-construction")
    for label, organisation in (("owner", owner), ("beneficiary", beneficiary)):

        def query(organisation=organisation):
            queryset = readings_visible_to(
                organisation=organisation, machine=machine, metrics=METRICS, since=since, until=now
            ).order_by("metric", "timestamp")
            return queryset, list(queryset.values_list("metric", "timestamp", "value"))

        _, rows = query()  # warm the cache as a busy server has it
        timings = []
        for _ in range(repeat):
            started = time.perf_counter()
            query()
            timings.append((time.perf_counter() - started) * 1000)
        timings.sort()
        p95 = timings[max(0, round(0.95 * len(timings)) - 1)]
        print(
            f"\n{label}: {len(rows)} readings, {repeat} runs through readings_visible_to: "
            f"median {statistics.median(timings):.2f} ms, p95 {p95:.2f} ms, max {timings[-1]:.2f} ms"
        )
        queryset, _ = query()
        if connection.vendor == "postgresql":
            print(queryset.explain(analyze=True, buffers=True))
        else:
            print(queryset.explain())


if __name__ == "__main__":
    main()
