"""The bench's world on PostgreSQL, generated set-wise (INSERT … SELECT over generate_series, no Python per row):
owners of 100, 10,000 and 100,000 sharings among a million, beneficiaries, machines, and hourly readings of three
metrics. Built once per scale and kept: the `bench_world` table records what was built, and a run finding the same
scale there reuses it.

Every sharing's status is the one its dates give at build time, so the lifecycle has nothing due right after the
build; measures that need due rows add them and remove them again.

Add-ons are smaller worlds a measure needs beside the scaled one, built set-wise the first time it asks for them and
kept until the world is built again (which empties every table): `World.lessor()` (row 12)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time

from django.db import connection, transaction

from accounts.actors import Actor
from accounts.models import ApiKey, Organisation, User
from fleet.models import Machine

#: Sharings of the three organisations the measures compare, whatever the scale.
SMALL, MID, BIG = 100, 10_000, 100_000
#: At scale 1: a million sharings in all, and 1,000 machines × 3 metrics × 6 months of hourly readings (13.1 M).
SHARINGS = 1_000_000
READING_MACHINES = 1_000
READING_HOURS = 4_380
METRICS = ("operating_hours", "idle_hours", "fuel_used")
#: The other owners hold 1,000 sharings each; every owner shares towards these beneficiaries.
OTHER_OWNER_SHARINGS = 1_000
BENEFICIARIES = 50
#: The lessor add-on (row 12): a lessor's two machines received by a renter, one through a single open-ended sharing
#: started 1,010 days before the add-on was built, the other through 144 weekly sharings of five days with two-day
#: gaps between them, the last one ending when the add-on was built; hourly readings of six metrics for both over the
#: LESSOR_READING_DAYS days before, as the standalone seed this replaces had them (the charts read 30 days, but the
#: latest values are sought over every window, and an unshared metric's readings are walked through all of them).
#: 290,880 readings, built in about 7 s.
LESSOR, RENTER = "bench-lessor", "bench-renter"
WEEKLY_SHARINGS = 144
LESSOR_READING_DAYS = 1010
LESSOR_METRICS = (
    "engine_running",
    "operating_hours",
    "idle_hours",
    "fuel_used",
    "fuel_remaining",
    "coolant_temperature",
)


@dataclasses.dataclass
class World:
    scale: float
    built_at: dt.datetime
    sharings: int
    readings: int

    def organisation(self, size: str) -> Organisation:
        """ "small", "mid" or "big": the owner of 100, 10,000 or 100,000 sharings."""
        return Organisation.objects.get(slug=f"bench-{size}")

    def admin(self, size: str) -> User:
        return User.objects.get(email=f"admin@bench-{size}.example")

    def beneficiary_admin(self) -> User:
        return User.objects.get(email="admin@bench-beneficiary-0.example")

    def api_key(self, size: str) -> str:
        """A fresh admin API key of that organisation, in clear (keys are stored hashed)."""
        from accounts.services import api_key_create

        ApiKey.objects.filter(organisation__slug=f"bench-{size}", name="bench").delete()
        _key, secret = api_key_create(
            actor=Actor.for_user(self.admin(size)), organisation=self.organisation(size), name="bench"
        )
        return secret

    def lessor(self) -> Lessor:
        """The lessor add-on, built now if it is not on the database yet."""
        return lessor_and_renter(log=lambda line: print(line, flush=True))


@dataclasses.dataclass
class Lessor:
    #: When the add-on was built: the last weekly sharing and the readings end then.
    built_at: dt.datetime
    renter_admin: User
    #: The machine the renter receives through one sharing, and the one it receives through 144.
    one: Machine
    many: Machine


def lessor_and_renter(*, log=print) -> Lessor:
    """The lessor and its renter (LESSOR, RENTER), built set-wise in one transaction the first time."""
    built = Organisation.objects.filter(slug=LESSOR).values_list("created_at", flat=True).first()
    if built is None:
        started = time.monotonic()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                _LESSOR,
                {
                    "lessor": LESSOR,
                    "renter": RENTER,
                    "weeks": WEEKLY_SHARINGS,
                    "hours": LESSOR_READING_DAYS * 24,
                    "metrics": list(LESSOR_METRICS),
                },
            )
        readings = 2 * LESSOR_READING_DAYS * 24 * len(LESSOR_METRICS)
        log(
            f"Built the lessor add-on ({WEEKLY_SHARINGS + 1} sharings, {readings:,} readings) "
            f"in {time.monotonic() - started:.1f} s."
        )
        built = Organisation.objects.values_list("created_at", flat=True).get(slug=LESSOR)
    machines = Machine.objects.filter(organisation__slug=LESSOR)
    return Lessor(
        built_at=built,
        renter_admin=User.objects.get(email=f"admin@{RENTER}.example"),
        one=machines.get(serial_number=f"{LESSOR}-one"),
        many=machines.get(serial_number=f"{LESSOR}-many"),
    )


def world(scale: float, *, rebuild: bool = False, log=print) -> World:
    """The world at this scale: the one on the database if it was built at this scale, else built now."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS bench_world "
            "(scale double precision, built_at timestamptz, sharings bigint, readings bigint)"
        )
        cursor.execute("SELECT scale, built_at, sharings, readings FROM bench_world")
        row = cursor.fetchone()
    if row is not None and row[0] == scale and not rebuild:
        log(f"Reusing the world built at {row[1]:%Y-%m-%d %H:%M} UTC: {row[2]:,} sharings, {row[3]:,} readings.")
        return World(*row)
    sharings = max(int(SHARINGS * scale), SMALL + MID + BIG)
    others = -(-(sharings - SMALL - MID - BIG) // OTHER_OWNER_SHARINGS)
    sizes = {"small": SMALL, "mid": MID, "big": BIG, "others": others}
    return _build(scale, sizes=sizes, reading_machines=max(int(READING_MACHINES * scale), 10), log=log)


def world_of_a_thousand(*, log=print) -> World:
    """1,000 sharings of one owner, no readings: what the lifecycle's idle run is compared with. Scale 0 names it."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS bench_world "
            "(scale double precision, built_at timestamptz, sharings bigint, readings bigint)"
        )
        cursor.execute("SELECT scale, built_at, sharings, readings FROM bench_world")
        row = cursor.fetchone()
    if row is not None and row[0] == 0:
        return World(*row)
    return _build(0, sizes={"small": 1000, "mid": 0, "big": 0, "others": 0}, reading_machines=0, log=log)


def _build(scale: float, *, sizes: dict, reading_machines: int, log) -> World:
    started = time.monotonic()
    with transaction.atomic(), connection.cursor() as cursor:

        def step(label: str, sql: str, params=()):
            began = time.monotonic()
            cursor.execute(sql, params)
            log(f"  {label}: {time.monotonic() - began:.1f} s")

        step("empty the tables", _EMPTY)
        step("organisations and admins", _ORGANISATIONS, {"others": sizes["others"], "beneficiaries": BENEFICIARIES})
        step("machines", _MACHINES, {"reading_machines": reading_machines})
        step(
            "sharings",
            _SHARINGS,
            {**sizes, "other_size": OTHER_OWNER_SHARINGS, "beneficiaries": BENEFICIARIES},
        )
        step("machines of the sharings", _SHARING_MACHINES)
        step("received machines", _RECEIVED_MACHINES)
        step(
            "readings",
            _READINGS,
            {"machines": reading_machines, "hours": READING_HOURS, "metrics": list(METRICS)},
        )
        cursor.execute("SELECT count(*) FROM sharing_sharing")
        sharing_count = cursor.fetchone()[0]
        readings = reading_machines * READING_HOURS * len(METRICS)
        cursor.execute("DELETE FROM bench_world")
        cursor.execute(
            "INSERT INTO bench_world VALUES (%s, now(), %s, %s) RETURNING built_at", [scale, sharing_count, readings]
        )
        built_at = cursor.fetchone()[0]
    began = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    log(f"  VACUUM ANALYZE: {time.monotonic() - began:.1f} s")
    log(f"Built {sharing_count:,} sharings and {readings:,} readings in {time.monotonic() - started:.0f} s.")
    return World(scale, built_at, sharing_count, readings)


_EMPTY = """
TRUNCATE fleet_reading, fleet_position, fleet_faultcode, sharing_sharingmachine, sharing_receivedmachine_workspaces,
    sharing_receivedmachine, sharing_sharing, outbox_message, audit_auditevent, accounts_contact, accounts_apikey,
    fleet_machine_workspaces, fleet_machine, fleet_workspace, account_emailaddress, accounts_user, accounts_organisation
    CASCADE
"""

# Owners: bench-small, bench-mid, bench-big and bench-other-N; beneficiaries bench-beneficiary-N. One admin each.
_ORGANISATIONS = """
INSERT INTO accounts_organisation (id, name, slug, timezone, language, created_at)
SELECT gen_random_uuid(), initcap(replace(slug, '-', ' ')), slug, 'Europe/Paris', 'en', now()
FROM (
    SELECT unnest(ARRAY['bench-small', 'bench-mid', 'bench-big']) AS slug
    UNION ALL SELECT 'bench-other-' || n FROM generate_series(1, %(others)s) n
    UNION ALL SELECT 'bench-beneficiary-' || n FROM generate_series(0, %(beneficiaries)s - 1) n
) slugs;
INSERT INTO accounts_user (password, is_superuser, first_name, last_name, is_staff, is_active, date_joined, email,
                           role, language, organisation_id)
SELECT '!', false, 'Admin', name, false, true, now(), 'admin@' || slug || '.example', 'admin', '', id
FROM accounts_organisation WHERE slug LIKE 'bench-%%';
"""

# 1,000 machines for the big owner (the first ones carry the readings), 200 for mid, 20 for small, 50 for the others.
_MACHINES = """
INSERT INTO fleet_machine (id, make, model, serial_number, category, year, pin, created_at, organisation_id)
SELECT gen_random_uuid(), (ARRAY['Caterpillar', 'Komatsu', 'Volvo', 'JCB', 'Liebherr'])[1 + n %% 5],
       (ARRAY['320 GC', 'PC210', 'EC220E', '3CX', 'LTM 1050'])[1 + n %% 5], o.slug || '-' || n,
       'excavator', 2020, '', now() - make_interval(days => n), o.id
FROM accounts_organisation o
CROSS JOIN LATERAL generate_series(1, CASE o.slug WHEN 'bench-big' THEN greatest(1000, %(reading_machines)s)
    WHEN 'bench-mid' THEN 200 WHEN 'bench-small' THEN 20 ELSE 50 END) n
WHERE o.slug LIKE 'bench-%%' AND o.slug NOT LIKE 'bench-beneficiary-%%';
"""

# Sharings over the last three years and the next three months, 30 to 120 days long (every tenth open-ended), to one
# of the beneficiaries; 3 % pending (invitations to someone without an account, ending in the future). Status is what
# the dates give now.
_SHARINGS = """
WITH owners AS (
    SELECT id, slug, CASE slug WHEN 'bench-small' THEN %(small)s WHEN 'bench-mid' THEN %(mid)s
                       WHEN 'bench-big' THEN %(big)s ELSE %(other_size)s END AS size
    FROM accounts_organisation WHERE slug LIKE 'bench-%%' AND slug NOT LIKE 'bench-beneficiary-%%'
), beneficiaries AS (
    SELECT id, name, slug, row_number() OVER (ORDER BY slug) - 1 AS n
    FROM accounts_organisation WHERE slug LIKE 'bench-beneficiary-%%'
), rows AS (
    SELECT o.id AS owner_id, o.slug, n,
           now() - make_interval(days => 1095)
               + make_interval(secs => ((n::bigint * 2654435761) %% (1185 * 86400))::float) AS start_at,
           make_interval(days => 30 + (n * 13) %% 90) AS length,
           n %% 10 = 0 AS open_ended,
           n %% 33 = 0 AS pending,
           (n * 31) %% %(beneficiaries)s AS beneficiary
    FROM owners o CROSS JOIN LATERAL generate_series(1, o.size) n
), dated AS (
    SELECT r.*, CASE WHEN r.open_ended THEN NULL ELSE r.start_at + r.length END AS end_at FROM rows r
)
INSERT INTO sharing_sharing (id, owner_id, beneficiary_id, sender_label, recipient_email, recipient_organisation_name,
    reference, properties, data_packs, notification_enabled, start_at, end_at, stopped_at, status, created_at,
    updated_at)
SELECT gen_random_uuid(), d.owner_id, CASE WHEN d.pending THEN NULL ELSE b.id END, 'admin@' || d.slug || '.example',
       CASE WHEN d.pending THEN 'someone-' || d.n || '@newco.example' ELSE 'admin@' || b.slug || '.example' END,
       b.name, 'CONTRACT-' || d.n, '{}'::jsonb,
       '["essential", "usage_hours", "energy_and_fuel", "activity"]'::jsonb, true,
       d.start_at, CASE WHEN d.pending THEN now() + make_interval(days => 400 + d.n %% 100) ELSE d.end_at END, NULL,
       CASE WHEN d.pending THEN 'pending'
            WHEN d.end_at IS NOT NULL AND d.end_at <= now() THEN 'terminated'
            WHEN d.start_at <= now() THEN 'in_progress' ELSE 'scheduled' END,
       d.start_at - interval '7 days', d.start_at - interval '7 days'
FROM dated d JOIN beneficiaries b ON b.n = d.beneficiary
"""

# One machine per sharing, the owner's machines in turn.
_SHARING_MACHINES = """
INSERT INTO sharing_sharingmachine (sharing_id, machine_id)
SELECT s.id, m.id
FROM (SELECT id, owner_id, row_number() OVER (PARTITION BY owner_id ORDER BY start_at, id) AS n FROM sharing_sharing) s
JOIN (SELECT id, organisation_id, row_number() OVER (PARTITION BY organisation_id ORDER BY serial_number) AS n,
             count(*) OVER (PARTITION BY organisation_id) AS machines FROM fleet_machine) m
  ON m.organisation_id = s.owner_id AND m.n = 1 + (s.n - 1) %% m.machines
"""

_RECEIVED_MACHINES = """
INSERT INTO sharing_receivedmachine (id, organisation_id, machine_id, name, created_at)
SELECT gen_random_uuid(), pairs.beneficiary_id, pairs.machine_id, m.model || ' ' || m.serial_number, now()
FROM (SELECT DISTINCT s.beneficiary_id, sm.machine_id FROM sharing_sharing s
      JOIN sharing_sharingmachine sm ON sm.sharing_id = s.id WHERE s.beneficiary_id IS NOT NULL) pairs
JOIN fleet_machine m ON m.id = pairs.machine_id
"""

# Hourly readings of three metrics for the big owner's first machines over the last six months.
_READINGS = """
INSERT INTO fleet_reading (machine_id, metric, "timestamp", value, received_at)
SELECT m.id, metric, date_trunc('hour', now()) - make_interval(hours => h), h * 0.5, now()
FROM (SELECT id FROM fleet_machine WHERE organisation_id = (SELECT id FROM accounts_organisation
      WHERE slug = 'bench-big') ORDER BY serial_number LIMIT %(machines)s) m
CROSS JOIN unnest(%(metrics)s::text[]) metric
CROSS JOIN generate_series(1, %(hours)s) h
ORDER BY m.id, metric, h DESC
"""


# The lessor add-on: everything dated from the transaction's now() (the lessor's created_at, read back as built_at).
# The renter receives machine "one" through sharing YEAR (open-ended, in progress) and machine "many" through WEEK-0
# … WEEK-143 (week w from built_at - 7w - 5 days to built_at - 7w, all over). Counters grow with time.
_LESSOR = """
INSERT INTO accounts_organisation (id, name, slug, timezone, language, created_at)
SELECT gen_random_uuid(), initcap(replace(slug, '-', ' ')), slug, 'Europe/Paris', 'en', now()
FROM unnest(ARRAY[%(lessor)s, %(renter)s]) slug;
INSERT INTO accounts_user (password, is_superuser, first_name, last_name, is_staff, is_active, date_joined, email,
                           role, language, organisation_id)
SELECT '!', false, 'Admin', name, false, true, now(), 'admin@' || slug || '.example', 'admin', '', id
FROM accounts_organisation WHERE slug IN (%(lessor)s, %(renter)s);
INSERT INTO fleet_machine (id, make, model, serial_number, category, year, pin, created_at, organisation_id)
SELECT gen_random_uuid(), 'Volvo', 'EC220E', o.slug || '-' || kind, 'excavator', 2020, '', now(), o.id
FROM accounts_organisation o CROSS JOIN unnest(ARRAY['one', 'many']) kind WHERE o.slug = %(lessor)s;
WITH lessor AS (SELECT id FROM accounts_organisation WHERE slug = %(lessor)s),
renter AS (SELECT id, name FROM accounts_organisation WHERE slug = %(renter)s),
rows AS (
    SELECT 'YEAR' AS reference, now() - interval '1010 days' AS start_at, NULL::timestamptz AS end_at,
           'in_progress' AS status, 'one' AS kind
    UNION ALL
    SELECT 'WEEK-' || w, now() - make_interval(days => w * 7 + 5), now() - make_interval(days => w * 7),
           'terminated', 'many'
    FROM generate_series(0, %(weeks)s - 1) w
), sharings AS (
    INSERT INTO sharing_sharing (id, owner_id, beneficiary_id, sender_label, recipient_email,
        recipient_organisation_name, reference, properties, data_packs, notification_enabled, start_at, end_at,
        stopped_at, status, created_at, updated_at)
    SELECT gen_random_uuid(), lessor.id, renter.id, 'admin@' || %(lessor)s || '.example',
           'admin@' || %(renter)s || '.example', renter.name, rows.reference, '{}'::jsonb,
           '["essential", "usage_hours", "energy_and_fuel"]'::jsonb, true, rows.start_at, rows.end_at, NULL,
           rows.status, rows.start_at - interval '2 days', rows.start_at - interval '2 days'
    FROM rows CROSS JOIN lessor CROSS JOIN renter
    RETURNING id, reference
)
INSERT INTO sharing_sharingmachine (sharing_id, machine_id)
SELECT sharings.id, m.id FROM sharings
JOIN fleet_machine m ON m.organisation_id = (SELECT id FROM lessor)
 AND m.serial_number = %(lessor)s || CASE WHEN sharings.reference = 'YEAR' THEN '-one' ELSE '-many' END;
INSERT INTO sharing_receivedmachine (id, organisation_id, machine_id, name, created_at)
SELECT gen_random_uuid(), r.id, m.id, m.model || ' ' || m.serial_number, now()
FROM accounts_organisation r CROSS JOIN fleet_machine m
WHERE r.slug = %(renter)s AND m.organisation_id = (SELECT id FROM accounts_organisation WHERE slug = %(lessor)s);
INSERT INTO fleet_reading (machine_id, metric, "timestamp", value, received_at)
SELECT m.id, metric, at,
       CASE metric WHEN 'engine_running' THEN (extract(hour FROM at)::int BETWEEN 7 AND 17)::int
                   WHEN 'operating_hours' THEN extract(epoch FROM at) / 3600 * 0.4
                   WHEN 'idle_hours' THEN extract(epoch FROM at) / 3600 * 0.1
                   WHEN 'fuel_used' THEN extract(epoch FROM at) / 3600 * 6
                   WHEN 'fuel_remaining' THEN 20 + (extract(epoch FROM at) / 3600)::bigint %% 80
                   ELSE 80 + (extract(epoch FROM at) / 3600)::bigint %% 15 END,
       at
FROM fleet_machine m
CROSS JOIN unnest(%(metrics)s::text[]) metric
CROSS JOIN LATERAL (SELECT date_trunc('hour', now()) - make_interval(hours => h) AS at
                    FROM generate_series(0, %(hours)s - 1) h) hours
WHERE m.organisation_id = (SELECT id FROM accounts_organisation WHERE slug = %(lessor)s)
ORDER BY m.id, metric, at
"""
