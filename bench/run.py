"""`make bench`: build (or reuse) the scaled world on PostgreSQL, run every measure of issue 10's table in one run
and print the table with the goal beside each figure. Never part of `make test`.

    make bench                       # scale 1: 1M sharings, 13.1M readings (built once, then reused)
    make bench BENCH_ARGS="--scale 0.1 --only 1,2,9,13"
"""

import argparse
import importlib
import os
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hiboo_connect.settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from bench.measures import MEASURES, Result  # noqa: E402
from bench.world import world  # noqa: E402

#: The modules whose measures run, in bench/measures/; each registers its own with @measure.
MEASURE_MODULES = ("lifecycle", "lists", "create", "ingest", "contracts")


def main():
    for module in MEASURE_MODULES:
        importlib.import_module(f"bench.measures.{module}")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1 = a million sharings (default)")
    parser.add_argument("--rebuild", action="store_true", help="Build the world again even if it is there.")
    parser.add_argument("--only", help="Comma-separated rows of the table to run, e.g. 1,2,9")
    options = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("make bench runs on PostgreSQL: set DATABASE_URL (the Makefile uses postgres://…/bench).")

    print(f"Database {connection.settings_dict['NAME']}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)  # pages name their assets from the manifest
    the_world = world(options.scale, rebuild=options.rebuild, log=lambda line: print(line, flush=True))
    only = {int(row) for row in options.only.split(",")} if options.only else None
    results = []
    for measure_ in sorted(MEASURES, key=lambda measure_: measure_.order):
        if only and measure_.order not in only:
            continue
        print(f"… {measure_.name}", flush=True)
        started = time.monotonic()
        try:
            result = measure_.function(the_world)
        except Exception as error:  # a broken measure must not hide the others
            traceback.print_exc()
            result = Result(f"error: {error.__class__.__name__}", False)
        results.append((measure_, result, time.monotonic() - started))
    print_table(results, the_world)


def print_table(results, the_world):
    print(
        f"\n{the_world.sharings:,} sharings, {the_world.readings:,} readings, built {the_world.built_at:%Y-%m-%d}; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores\n"
    )
    print("| measure | figure | goal | met |")
    print("| --- | --- | --- | --- |")
    for measure_, result, _seconds in results:
        met = {True: "yes", False: "**no**", None: "–"}[result.met]
        print(f"| {measure_.name} | {result.figure} | {measure_.goal} | {met} |")
    notes = [(measure_, result) for measure_, result, _seconds in results if result.note]
    if notes:
        print()
        for measure_, result in notes:
            print(f"- {measure_.name}: {result.note}")


if __name__ == "__main__":
    main()
