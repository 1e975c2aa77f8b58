"""Time the machine page (HTML, charts included) end to end through Django's test client on the configured database:
for machines seen by their owner and for machines seen by a beneficiary, print the median and p95 over repeated
requests, and the number of queries per page. Seed first (bench/seed_and_query.py or `manage.py seed_demo`), e.g.:

    DEBUG=true VAR_DIR=/tmp/bench-var DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python bench/seed_and_query.py --machines 500 --days 365
    DEBUG=true VAR_DIR=/tmp/bench-var DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python bench/machine_page.py --machines 20 --repeat 10
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hiboo_connect.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

from accounts.models import Role, User  # noqa: E402
from fleet.models import Machine  # noqa: E402
from sharing.models import ReceivedMachine  # noqa: E402


def _host() -> str:
    hosts = [host for host in settings.ALLOWED_HOSTS if host not in ("*", "")]
    return hosts[0].lstrip(".") if hosts else "localhost"


def measure(label: str, pairs: list[tuple[User, Machine]], repeat: int) -> None:
    if not pairs:
        print(f"{label}: no machine to measure (seed the demo first)")
        return
    client, timings, query_counts, host = Client(), [], set(), _host()
    for user, machine in pairs:
        client.force_login(user)
        url = reverse("fleet:machine", args=[machine.pk])
        client.get(url, HTTP_HOST=host)  # warm-up: first-touch caches, template loading
        for _ in range(repeat):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get(url, HTTP_HOST=host)
                timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (response.status_code, url)
            query_counts.add(len(queries))
    timings.sort()
    p95 = timings[max(0, round(len(timings) * 0.95) - 1)]
    print(
        f"{label}: {len(pairs)} machines × {repeat} requests  median {statistics.median(timings):.1f} ms  "
        f"p95 {p95:.1f} ms  max {timings[-1]:.1f} ms  queries per page {sorted(query_counts)}"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--machines", type=int, default=20, help="Machines measured on each side (default 20).")
    parser.add_argument("--repeat", type=int, default=10, help="Requests per machine (default 10).")
    options = parser.parse_args()
    print(f"database: {connection.vendor} {connection.settings_dict.get('NAME')}")

    owned = []
    for machine in Machine.objects.select_related("organisation").order_by("pk")[: options.machines]:
        admin = User.objects.filter(organisation=machine.organisation, role=Role.ADMIN).first()
        if admin:
            owned.append((admin, machine))
    received = []
    for item in ReceivedMachine.objects.select_related("machine", "organisation").order_by("pk")[: options.machines]:
        admin = User.objects.filter(organisation=item.organisation, role=Role.ADMIN).first()
        if admin:
            received.append((admin, item.machine))
    measure("owner", owned, options.repeat)
    measure("beneficiary", received, options.repeat)


if __name__ == "__main__":
    main()
