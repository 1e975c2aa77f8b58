"""Measure the share centre's lists and the readings reads at scale, on PostgreSQL (issue 10, items 2 and 4).

`--seed` builds, set-wise (INSERT … SELECT generate_series, seconds not minutes), three owner organisations of 100,
10,000 and 100,000 sharings (one machine each, dates over three years, every status, a tenth of them received rather
than sent), and two machines of a lessor with hourly readings over three years, one received by a renter through one
sharing, the other through 144 weekly ones. Then every measure runs through Django's test client (the whole request:
middleware, view, template or serializer) and prints the median and the 95th percentile:

    createdb -h 127.0.0.1 -U postgres lists
    DEBUG=true DATABASE_URL=postgres://postgres@127.0.0.1:5432/lists .venv/bin/python bench/lists.py --seed
    DEBUG=true DATABASE_URL=postgres://postgres@127.0.0.1:5432/lists .venv/bin/python bench/lists.py
"""

import argparse
import datetime as dt
import os
import statistics
import sys
import time
import tracemalloc
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
from django.utils import timezone  # noqa: E402

from accounts.models import ApiKeyRole, Organisation, Role, User  # noqa: E402
from accounts.services import api_key_create  # noqa: E402
from fleet import selectors as fleet_selectors  # noqa: E402
from fleet.models import Machine  # noqa: E402

SIZES = {"org-100": 100, "org-10k": 10_000, "org-100k": 100_000}
MODELS = [("Caterpillar", "320 GC"), ("Komatsu", "PC210"), ("Volvo", "EC220E"), ("JCB", "3CX"), ("Liebherr", "L550")]
METRICS = ["engine_running", "operating_hours", "idle_hours", "fuel_used", "fuel_remaining", "coolant_temperature"]


def _sql(statement: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _organisation(slug: str) -> Organisation:
    organisation = Organisation.objects.create(name=slug, slug=slug)
    User.objects.create_user(f"admin@{slug}.example", "x", organisation=organisation, role=Role.ADMIN)
    return organisation


_batches = iter(range(1_000_000))


def _machines(organisation: Organisation, count: int) -> None:
    """`count` machines, one model in five (so a search by model finds a fifth of the fleet)."""
    for make, model in MODELS:
        _sql(
            """INSERT INTO fleet_machine (id, organisation_id, make, model, serial_number, category, pin, created_at)
               SELECT gen_random_uuid(), %s, %s, %s, %s || lpad(i::text, 7, '0'), 'excavator', '', now()
               FROM generate_series(1, %s) AS i""",
            [organisation.pk, make, model, f"{organisation.slug}-{next(_batches)}-", count // len(MODELS)],
        )


def _sharings(owner: Organisation, beneficiaries: list[Organisation], count: int) -> None:
    """`count` sharings of `owner`'s machines (one each), starts spread over three years up to a year ahead."""
    _sql(
        """
        WITH machine AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n, count(*) OVER () AS total
                         FROM fleet_machine WHERE organisation_id = %(owner)s),
        beneficiary AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n, count(*) OVER () AS total
                        FROM accounts_organisation WHERE id = ANY(%(beneficiaries)s::uuid[])),
        raw AS (
            SELECT i, gen_random_uuid() AS id,
                   now() - interval '3 years' + (i::float / %(count)s) * interval '4 years' AS start_at,
                   CASE WHEN i %% 11 = 0 THEN NULL ELSE interval '1 day' * (7 + i %% 60) END AS length,
                   CASE WHEN i %% 23 = 0 THEN NULL
                        ELSE (SELECT id FROM beneficiary WHERE n = i %% (SELECT max(total) FROM beneficiary)) END
                        AS beneficiary_id,
                   i %% 17 = 0 AS stopped
            FROM generate_series(1, %(count)s) AS i),
        row AS (
            SELECT raw.*, start_at + length AS end_at,
                   CASE WHEN stopped THEN least(now(), start_at + interval '1 day') END AS stopped_at
            FROM raw),
        inserted AS (
            INSERT INTO sharing_sharing (id, owner_id, beneficiary_id, sender_label, recipient_email,
                recipient_organisation_name, reference, properties, data_packs, notification_enabled, start_at,
                end_at, stopped_at, status, created_at, updated_at)
            SELECT id, %(owner)s, beneficiary_id, 'bench', 'someone' || i || '@renter.example', 'Renter ' || i %% 50,
                   'REF-' || lpad(i::text, 7, '0'), '{"site": "Lyon"}'::jsonb,
                   '["essential", "usage_hours", "energy_and_fuel"]'::jsonb, true, start_at, end_at, stopped_at,
                   CASE WHEN stopped_at IS NOT NULL THEN 'stopped'
                        WHEN end_at IS NOT NULL AND end_at <= now() THEN 'terminated'
                        WHEN beneficiary_id IS NULL THEN 'pending'
                        WHEN now() < start_at THEN 'scheduled'
                        ELSE 'in_progress' END,
                   start_at - interval '2 days', start_at - interval '2 days'
            FROM row RETURNING id, reference)
        INSERT INTO sharing_sharingmachine (sharing_id, machine_id)
        SELECT inserted.id, machine.id FROM inserted
        JOIN machine ON machine.n = substr(inserted.reference, 5)::int %% machine.total
        """,
        {"owner": owner.pk, "beneficiaries": [str(b.pk) for b in beneficiaries], "count": count},
    )


def _readings(machine_ids: list, days: int) -> None:
    _sql(
        """INSERT INTO fleet_reading (machine_id, metric, timestamp, value, received_at)
           SELECT m, metric, date_trunc('hour', now()) - h * interval '1 hour', h, now()
           FROM unnest(%s::uuid[]) AS m, unnest(%s::text[]) AS metric, generate_series(0, %s * 24) AS h""",
        [[str(m) for m in machine_ids], METRICS, days],
    )


def seed() -> None:
    started = time.perf_counter()
    partners = [_organisation(f"partner-{i}") for i in range(20)]
    for slug, count in SIZES.items():
        owner = _organisation(slug)
        _machines(owner, max(50, count // 20))
        _sharings(owner, partners, count)
        # A tenth received: the same organisation on the beneficiary side, from a partner.
        _machines(partners[0], max(5, count // 200))
        _sharings(partners[0], [owner], count // 10)
    lessor, renter = _organisation("lessor"), _organisation("renter")
    _machines(lessor, 25)
    one, many, *others = list(Machine.objects.filter(organisation=lessor).order_by("serial_number"))
    now = timezone.now()
    _sql(
        """WITH s AS (INSERT INTO sharing_sharing (id, owner_id, beneficiary_id, sender_label, recipient_email,
               recipient_organisation_name, reference, properties, data_packs, notification_enabled, start_at, end_at,
               status, created_at, updated_at)
           SELECT gen_random_uuid(), %(lessor)s, %(renter)s, 'bench', 'admin@renter.example', '', 'WEEK-' || w, '{}',
                  '["essential", "usage_hours", "energy_and_fuel"]', true,
                  %(now)s - (w * 7 + 5) * interval '1 day', %(now)s - w * 7 * interval '1 day' + interval '1 hour',
                  CASE WHEN w = 0 THEN 'in_progress' ELSE 'terminated' END, %(now)s, %(now)s
           FROM generate_series(0, 143) AS w RETURNING id)
           INSERT INTO sharing_sharingmachine (sharing_id, machine_id) SELECT id, %(many)s FROM s""",
        {"lessor": lessor.pk, "renter": renter.pk, "now": now, "many": many.pk},
    )
    _sql(
        """WITH s AS (INSERT INTO sharing_sharing (id, owner_id, beneficiary_id, sender_label, recipient_email,
               recipient_organisation_name, reference, properties, data_packs, notification_enabled, start_at,
               status, created_at, updated_at)
           VALUES (gen_random_uuid(), %(lessor)s, %(renter)s, 'bench', 'admin@renter.example', '', 'YEAR', '{}',
                  '["essential", "usage_hours", "energy_and_fuel"]', true, %(now)s - interval '1010 days',
                  'in_progress', %(now)s, %(now)s) RETURNING id)
           INSERT INTO sharing_sharingmachine (sharing_id, machine_id) SELECT id, %(one)s FROM s""",
        {"lessor": lessor.pk, "renter": renter.pk, "now": now, "one": one.pk},
    )
    for machine in (one, many):
        _sql(
            """INSERT INTO sharing_receivedmachine (id, organisation_id, machine_id, name, created_at)
               VALUES (gen_random_uuid(), %s, %s, %s, now())""",
            [renter.pk, machine.pk, machine.default_display_name],
        )
    _readings([one.pk, many.pk, *[m.pk for m in others[:10]]], days=1010)
    _sql("VACUUM ANALYZE")
    print(f"seeded in {time.perf_counter() - started:.0f} s")


def _host() -> str:
    hosts = [host for host in settings.ALLOWED_HOSTS if host not in ("*", "")]
    return hosts[0].lstrip(".") if hosts else "localhost"


def timed(label: str, call, repeat: int, goal: str = "") -> list[float]:
    call()  # warm-up
    timings, counts = [], set()
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            call()
            timings.append((time.perf_counter() - started) * 1000)
        counts.add(len(queries))
    timings.sort()
    p95 = timings[max(0, round(len(timings) * 0.95) - 1)]
    print(
        f"{label:<58} median {statistics.median(timings):7.1f} ms  p95 {p95:7.1f} ms  queries {sorted(counts)}  {goal}"
    )
    return timings


def _measure_list(repeat: int, host: str, get) -> None:
    home = reverse("home")
    for slug in SIZES:
        timed(f"share centre default page, {slug}", get(slug, home), repeat, "goal p95 ≤ 60 ms, 10k÷100 ≤ 1.3×")
    for slug in SIZES:
        timed(f"share centre incoming, {slug}", get(slug, home, direction="incoming"), repeat)
    timed("share centre search by model, org-100k", get("org-100k", home, q="EC220"), repeat, "goal ≤ 100 ms")
    timed("share centre search by reference, org-100k", get("org-100k", home, q="REF-0012"), repeat)
    for slug in SIZES:
        timed(f"share centre timeline, {slug}", get(slug, home, view="timeline"), repeat, "goal ≤ 150 ms")


def _measure_api(repeat: int, host: str, get) -> None:
    for slug in ("org-10k", "org-100k"):
        organisation = Organisation.objects.get(slug=slug)
        admin = User.objects.get(email=f"admin@{slug}.example")
        from accounts.actors import Actor

        _, secret = api_key_create(
            actor=Actor.for_user(admin),
            organisation=organisation,
            name=f"bench {time.time()}",
            role=ApiKeyRole.VIEWER,
        )
        api = Client(HTTP_HOST=host, HTTP_X_ACCESS_TOKEN=secret)
        machine = Machine.objects.filter(organisation=organisation).earliest("serial_number")

        def api_get(url, api=api, **params):
            def call():
                response = api.get(url, params)
                assert response.status_code == 200, (response.status_code, response.content[:200])

            return call

        timed(f"GET /api/v1/sharings, {slug}", api_get("/api/v1/sharings"), repeat, "goal p95 ≤ 30 ms")
        timed(
            f"GET /api/v1/sharings?assetId=, {slug}",
            api_get("/api/v1/sharings", assetId=str(machine.pk)),
            repeat,
            "goal p95 ≤ 30 ms",
        )


def _measure_csv(repeat: int, host: str, get) -> None:
    export = reverse("sharing:export")
    for slug in ("org-10k", "org-100k"):
        tracemalloc.start()
        timed(f"CSV export, {slug}", get(slug, export), max(1, repeat // 10), "goal ≤ 0.5 s per 10k rows")
        print(f"    peak Python memory {tracemalloc.get_traced_memory()[1] / 2**20:.1f} MiB")
        tracemalloc.stop()


def _measure_readings(repeat: int, host: str, get) -> None:
    renter, lessor = Organisation.objects.get(slug="renter"), Organisation.objects.get(slug="lessor")
    one, many = [
        Machine.objects.get(received_as__organisation=renter, received_as__machine__sharings__reference=ref)
        for ref in ("YEAR", "WEEK-3")
    ]
    now = timezone.now()
    since, until = now - dt.timedelta(days=60), now - dt.timedelta(days=30)
    for label, organisation, machine in (
        ("owner", lessor, many),
        ("beneficiary, 144 sharings", renter, many),
        ("beneficiary, 1 sharing", renter, one),
    ):

        def select(organisation=organisation, machine=machine):
            list(
                fleet_selectors.readings_visible_to(
                    organisation=organisation,
                    machine=machine,
                    metrics=["operating_hours", "idle_hours", "fuel_used"],
                    since=since,
                    until=until,
                ).order_by("metric", "timestamp")
            )

        timed(f"readings selector, 3 metrics × 30 days, {label}", select, repeat, "goal beneficiary ÷ owner ≤ 1.2×")
    for label, slug, machine in (("beneficiary, 144", "renter", many), ("beneficiary, 1", "renter", one)):
        timed(
            f"machine page, {label} sharings",
            get(slug, reverse("fleet:machine", args=[machine.pk])),
            repeat,
            "goal 144 ÷ 1 ≤ 1.3×",
        )
    admin = User.objects.get(email="admin@renter.example")
    from accounts.actors import Actor

    _, secret = api_key_create(
        actor=Actor.for_user(admin), organisation=renter, name=f"bench {time.time()}", role=ApiKeyRole.VIEWER
    )
    api = Client(HTTP_HOST=host, HTTP_X_ACCESS_TOKEN=secret)
    for label, machine in (("144 sharings", many), ("1 sharing", one)):
        url = f"/api/v1/assets/{machine.pk}/readings"
        params = {"metric": "operating_hours", "from": (now - dt.timedelta(days=30)).isoformat()}

        def call(url=url, params=params):
            response = api.get(url, params)
            assert response.status_code == 200, response.content[:300]

        timed(f"GET /assets/{{id}}/readings 30 days 1 metric, {label}", call, repeat, "goal p95 ≤ 10 ms")


def measure(repeat: int, only: str) -> None:
    host = _host()
    clients = {}
    for slug in [*SIZES, "renter", "lessor"]:
        client = Client(HTTP_HOST=host)
        client.force_login(User.objects.get(email=f"admin@{slug}.example"))
        clients[slug] = client

    def get(slug, url, **params):
        def call():
            response = clients[slug].get(url, params)
            assert response.status_code == 200, (response.status_code, url)
            if response.streaming:
                for _ in response.streaming_content:
                    pass

        return call

    if only in ("", "list"):
        _measure_list(repeat, host, get)
    if only in ("", "api"):
        _measure_api(repeat, host, get)
    if only in ("", "csv"):
        _measure_csv(repeat, host, get)
    if only in ("", "readings"):
        _measure_readings(repeat, host, get)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", action="store_true", help="Build the data first (on an empty, migrated database).")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--only", default="", choices=["", "list", "api", "csv", "readings"])
    options = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Run it on PostgreSQL (DATABASE_URL).")
    if options.seed:
        seed()
    measure(options.repeat, options.only)


if __name__ == "__main__":
    main()
