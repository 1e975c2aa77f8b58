"""`manage.py seed_demo`: load (or complete) the demo world and print how to log in. See demo/."""

import time

from django.core.management.base import BaseCommand, CommandError

from demo.seed import seed_demo


class Command(BaseCommand):
    help = (
        "Create the demo organisations, users, machines, telemetry and sharings. Safe to run again: it adds only "
        "what is missing and tops the telemetry up to now."
    )

    def add_arguments(self, parser):
        parser.add_argument("--machines", type=int, default=60, help="Number of demo machines (default 60).")
        parser.add_argument(
            "--days",
            type=int,
            default=90,
            help="Days of telemetry ending now (default 90). A machine that already has telemetry is only topped up "
            "to now: for a longer history start from an empty database (make clean).",
        )

    def handle(self, *args, machines, days, verbosity, **options):
        if not 8 <= machines <= 90_000:
            raise CommandError("--machines must be between 8 and 90000.")
        if not 1 <= days <= 3650:
            raise CommandError("--days must be between 1 and 3650.")
        started = time.monotonic()
        next_report = [0.0]

        def progress(done, total, rows):
            # A line every 10 % of the fleet, so a long seed shows it is moving.
            if verbosity >= 1 and (done / total >= next_report[0] or done == total):
                next_report[0] = done / total + 0.1
                elapsed = time.monotonic() - started
                self.stdout.write(f"  telemetry: {done}/{total} machines, {rows:,} rows, {elapsed:.0f} s")

        summary = seed_demo(machines=machines, days=days, progress=progress)
        if verbosity < 1:
            return
        self.stdout.write(
            f"Demo ready in {time.monotonic() - started:.1f} s: {summary.machines} machines "
            f"({summary.machines_created} new), {summary.sharings_created} sharings created "
            f"({summary.sharings_existing} planned ones were there), {summary.telemetry_rows:,} telemetry rows offered "
            "(rows already stored are skipped)."
        )
        for step, seconds in summary.seconds.items():
            self.stdout.write(f"  {step}: {seconds:.1f} s")
        if summary.sharings_by_owner_and_status:
            self.stdout.write("Sharings by owner and status:")
            for (owner, status), count in sorted(summary.sharings_by_owner_and_status.items()):
                self.stdout.write(f"  {owner:<30} {status:<12} {count}")
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS("Demo logins"))
        rows = [("E-mail", "Password", "Role", "Organisation")]
        rows += [(login.email, login.password, login.role, login.organisation) for login in summary.logins]
        widths = [max(len(str(row[column])) for row in rows) for column in range(4)]
        rule = "+-" + "-+-".join("-" * width for width in widths) + "-+"
        self.stdout.write(rule)
        for number, row in enumerate(rows):
            cells = (str(cell).ljust(width) for cell, width in zip(row, widths, strict=True))
            self.stdout.write("| " + " | ".join(cells) + " |")
            if number == 0:
                self.stdout.write(rule)
        self.stdout.write(rule)
