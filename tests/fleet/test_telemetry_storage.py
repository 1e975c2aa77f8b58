"""Telemetry storage holds at scale: "one machine, some metrics, a time range" is an index range scan on the unique
index (machine, metric, timestamp), for the owner, for a beneficiary through the selectors and for a plain filter; and
storing a row twice is harmless (one row, no error, the first value kept).

The plans are read from the database the suite runs on: EXPLAIN (FORMAT JSON) on PostgreSQL, after loading enough rows
and running ANALYZE so that the planner chooses on real statistics (no enable_seqscan trick), and EXPLAIN QUERY PLAN
on SQLite, where the index of a table-level UNIQUE constraint is an automatic index whose name is looked up."""

import datetime as dt
import json
import re

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from fleet.access import Window
from fleet.data_packs import ALL_DATA_PACKS, METRICS, Metric
from fleet.models import FaultCode, Position, Reading
from fleet.selectors import fleet_facts, machine_latest_readings, merged_windows, readings_visible_to
from fleet.services import Stored, TelemetryStored, telemetry_store
from tests.factories import MachineFactory, SharingFactory

UTC = dt.UTC
NOW = dt.datetime(2026, 7, 12, 9, 0, tzinfo=UTC)
START = NOW - dt.timedelta(days=100)
STEP = dt.timedelta(hours=6)
SAMPLES = 400  # per machine and metric: 100 days every 6 hours
THREE_METRICS = [Metric.OPERATING_HOURS, Metric.FUEL_USED, Metric.FUEL_REMAINING]
UNIQUE_INDEX = "fleet_reading_unique_machine_metric_time"
POSTGRES_MACHINES = 30  # × 16 metrics × 400 samples = 192,000 rows: the planner has a real choice to make
#: On SQLite the plan does not depend on statistics: a few rows of the metrics the tests read are enough.
SQLITE_METRICS = [*THREE_METRICS, Metric.COOLANT_TEMPERATURE, Metric.BATTERY_VOLTAGE]


@pytest.fixture
def fleet(frozen, owner_org, beneficiary_org):
    """Machines with their metrics sampled every 6 hours for 100 days, a sharing of the first one to the beneficiary
    (all packs, the last 60 days), and statistics the planner can trust."""
    frozen(NOW)
    count = POSTGRES_MACHINES if connection.vendor == "postgresql" else 2
    machines = [MachineFactory(organisation=owner_org) for _ in range(count)]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Set-up at scale in one statement; what is under test is how these rows are read back.
            cursor.execute(
                """
                INSERT INTO fleet_reading (machine_id, metric, timestamp, value, received_at)
                SELECT machine_id, metric, %s + step * interval '6 hours', step, now()
                FROM unnest(%s::uuid[]) AS machine_id, unnest(%s::text[]) AS metric,
                     generate_series(0, %s - 1) AS step
                """,
                [START, [machine.pk for machine in machines], list(METRICS), SAMPLES],
            )
            cursor.execute("ANALYZE fleet_reading")
    else:
        telemetry_store(
            readings=[
                Reading(machine=machine, metric=metric, timestamp=START + step * STEP, value=step)
                for machine in machines
                for metric in SQLITE_METRICS
                for step in range(SAMPLES)
            ]
        )
    SharingFactory(
        owner=owner_org,
        beneficiary=beneficiary_org,
        start_at=NOW - dt.timedelta(days=60),
        data_packs=list(ALL_DATA_PACKS),
        machines=[machines[0]],
    )
    return machines


def _plan_nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", ()):
        yield from _plan_nodes(child)


def _sqlite_unique_index_name() -> str:
    """SQLite names the index of a table-level UNIQUE constraint itself (sqlite_autoindex_…): find the one on
    (machine, metric, timestamp)."""
    with connection.cursor() as cursor:
        for _, name, unique, *_ in cursor.execute("PRAGMA index_list(fleet_reading)").fetchall():
            columns = [row[2] for row in cursor.execute(f'PRAGMA index_info("{name}")').fetchall()]
            if unique and columns == ["machine_id", "metric", "timestamp"]:
                return name
    raise AssertionError("fleet_reading has no unique index on (machine_id, metric, timestamp)")


def assert_range_scan_on_unique_index(queryset) -> str:
    """The query reads fleet_reading only through the unique index, bounded on machine, metric and timestamp."""
    if connection.vendor == "postgresql":
        plan_text = queryset.explain(format="json")
        nodes = list(_plan_nodes(json.loads(plan_text)[0]["Plan"]))
        scans = [node for node in nodes if node.get("Relation Name") == "fleet_reading" or "Index Name" in node]
        assert scans, plan_text
        assert not [node for node in scans if node["Node Type"] == "Seq Scan"], plan_text
        index_scans = [node for node in scans if node.get("Index Name") == UNIQUE_INDEX]
        assert index_scans, plan_text
        for node in index_scans:
            assert node["Node Type"] in ("Index Scan", "Index Only Scan", "Bitmap Index Scan"), plan_text
            condition = node["Index Cond"]
            # e.g. ((machine_id = '…'::uuid) AND ((metric)::text = ANY ('{…}'::text[])) AND ("timestamp" >= '…') AND …)
            assert re.search(r"\bmachine_id = ", condition), plan_text
            assert re.search(r"\bmetric\)?(::text)? = ", condition), plan_text
            assert re.search(r"\btimestamp\"? >= ", condition), plan_text
            assert re.search(r"\btimestamp\"? < ", condition), plan_text
        return plan_text
    assert connection.vendor == "sqlite", f"no plan check written for {connection.vendor}"
    plan_text = queryset.explain()
    readings = [line for line in plan_text.splitlines() if "fleet_reading" in line]
    assert readings, plan_text
    index = _sqlite_unique_index_name()
    for line in readings:
        assert "SCAN fleet_reading" not in line, plan_text  # a full table scan
        assert f"USING INDEX {index} " in line or f"USING COVERING INDEX {index} " in line, plan_text
        assert "(machine_id=? AND metric=? AND timestamp>? AND timestamp<?)" in line, plan_text
    return plan_text


@pytest.mark.postgres
def test_one_machine_some_metrics_a_time_range_is_an_index_range_scan(fleet, owner_org, beneficiary_org):
    machine, since = fleet[0], NOW - dt.timedelta(days=30)
    for organisation in (owner_org, beneficiary_org):
        queryset = readings_visible_to(
            organisation=organisation, machine=machine, metrics=THREE_METRICS, since=since, until=NOW
        ).order_by("metric", "timestamp")
        assert_range_scan_on_unique_index(queryset)
        assert queryset.count() == 3 * 30 * 4

    plain = Reading.objects.filter(
        machine=fleet[1],
        metric__in=[Metric.COOLANT_TEMPERATURE, Metric.BATTERY_VOLTAGE],
        timestamp__gte=NOW - dt.timedelta(days=7),
        timestamp__lt=NOW - dt.timedelta(days=1),
    )
    assert_range_scan_on_unique_index(plain)
    assert plain.count() == 2 * 6 * 4


# --- storing twice ---------------------------------------------------------------------------------------------------


def test_storing_the_same_reading_twice_keeps_one_row_and_the_first_value(frozen, machine):
    frozen(NOW)
    moment = NOW - dt.timedelta(hours=1)

    def reading(value):
        return Reading(machine=machine, metric=Metric.OPERATING_HOURS, timestamp=moment, value=value)

    telemetry_store(readings=[reading(1204.5)])
    telemetry_store(readings=[reading(1204.5), reading(9999.0)])  # resent, and a conflicting resend

    assert list(Reading.objects.filter(machine=machine).values_list("metric", "timestamp", "value")) == [
        (Metric.OPERATING_HOURS, moment, 1204.5)
    ]


def test_storing_the_same_position_twice_keeps_one_row(frozen, machine):
    frozen(NOW)

    def position():
        return Position(machine=machine, timestamp=NOW, latitude=45.7606, longitude=4.8597, altitude=170.0)

    telemetry_store(positions=[position(), position()])
    telemetry_store(positions=[position()])

    assert Position.objects.filter(machine=machine).count() == 1


def test_storing_the_same_fault_code_twice_keeps_one_row(frozen, machine):
    frozen(NOW)

    def fault(identifier):
        return FaultCode(
            machine=machine,
            timestamp=NOW,
            identifier=identifier,
            description="Engine coolant temperature: above normal, most severe",
            severity="high",
            source="Engine #1",
        )

    telemetry_store(fault_codes=[fault("110-0")])
    telemetry_store(fault_codes=[fault("110-0"), fault("100-1")])  # the same code again, and another one

    assert sorted(FaultCode.objects.filter(machine=machine).values_list("identifier", flat=True)) == ["100-1", "110-0"]


@pytest.mark.parametrize(
    ("windows", "since", "until", "expected"),
    [
        ([], None, None, []),
        ([(1, 3), (2, 5), (7, 8)], None, None, [(1, 5), (7, 8)]),
        ([(7, 8), (1, 3), (3, 4)], None, None, [(1, 4), (7, 8)]),  # touching windows join
        ([(1, 3), (2, None), (9, 10)], None, None, [(1, None)]),  # an open-ended one swallows the later ones
        ([(1, 3), (4, 6), (7, 9)], 5, 8, [(5, 6), (7, 8)]),  # clipped to the range asked
        ([(1, 3), (4, None)], 5, 8, [(5, 8)]),
        ([(1, 3), (4, 6)], 6, None, []),  # nothing left in the range
        ([(1, 3), (4, 6)], None, 1, []),
    ],
)
def test_windows_are_merged_and_clipped_before_the_query_is_built(windows, since, until, expected):
    base = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)

    def at(day):
        return None if day is None else base + dt.timedelta(days=day)

    merged = merged_windows([Window(at(start), at(end)) for start, end in windows], since=at(since), until=at(until))
    assert merged == [Window(at(start), at(end)) for start, end in expected]


def test_a_machine_received_through_many_sharings_shows_exactly_their_windows(frozen, owner_org, beneficiary_org):
    """Twelve weekly sharings (more than WINDOWS_AS_CLAUSES: one array of ranges on PostgreSQL), two of them
    overlapping, and a daily reading: the beneficiary reads the days inside a window, whatever the range it asks."""
    frozen(NOW)
    machine = MachineFactory(organisation=owner_org)
    first = NOW - dt.timedelta(days=100)
    windows = [(first + dt.timedelta(days=7 * week), first + dt.timedelta(days=7 * week + 3)) for week in range(12)]
    windows.append((first + dt.timedelta(days=1), first + dt.timedelta(days=5)))  # overlaps the first week
    for start_at, end_at in windows:
        SharingFactory(
            owner=owner_org, beneficiary=beneficiary_org, machines=[machine], start_at=start_at, end_at=end_at
        )
    days = [first + dt.timedelta(days=day, hours=12) for day in range(100)]
    telemetry_store(
        readings=[Reading(machine=machine, metric=Metric.OPERATING_HOURS, timestamp=day, value=1) for day in days]
    )
    since, until = first + dt.timedelta(days=20), first + dt.timedelta(days=60)

    def visible(**bounds):
        return set(
            readings_visible_to(organisation=beneficiary_org, machine=machine, **bounds).values_list(
                "timestamp", flat=True
            )
        )

    def expected(low=None, high=None):
        return {
            day
            for day in days
            if any(start <= day < end for start, end in windows)
            and (low is None or day >= low)
            and (high is None or day < high)
        }

    assert visible() == expected()
    assert visible(since=since, until=until) == expected(since, until)


def test_the_latest_values_through_many_sharings_are_the_newest_reading_inside_each_packs_windows(
    frozen, owner_org, beneficiary_org
):
    """Twelve weekly sharings, usage hours in all of them and energy and fuel in every other one, and a daily reading
    of three metrics until now: each latest value is the newest reading inside the windows of the sharings that hold
    its pack (none for a pack never shared, nothing from after the last window). On PostgreSQL the statement writes
    each window once, not once per metric."""
    frozen(NOW)
    machine = MachineFactory(organisation=owner_org)
    first = NOW - dt.timedelta(days=100)
    sharings = []
    for week in range(12):
        start_at, end_at = first + dt.timedelta(days=7 * week), first + dt.timedelta(days=7 * week + 3)
        packs = ["usage_hours", "energy_and_fuel"] if week % 2 else ["usage_hours"]
        SharingFactory(
            owner=owner_org,
            beneficiary=beneficiary_org,
            machines=[machine],
            start_at=start_at,
            end_at=end_at,
            data_packs=packs,
        )
        sharings.append((start_at, end_at, packs))
    days = [first + dt.timedelta(days=day, hours=12) for day in range(100)]
    metrics = {
        Metric.OPERATING_HOURS: "usage_hours",
        Metric.FUEL_USED: "energy_and_fuel",
        Metric.COOLANT_TEMPERATURE: "vehicle_conditions",
    }
    telemetry_store(
        readings=[
            Reading(machine=machine, metric=metric, timestamp=day, value=index)
            for metric in metrics
            for index, day in enumerate(days)
        ]
    )

    def newest_inside(pack):
        return max(
            (day for day in days for start, end, packs in sharings if pack in packs and start <= day < end),
            default=None,
        )

    with CaptureQueriesContext(connection) as queries:
        latest = machine_latest_readings(organisation=beneficiary_org, machine=machine)
    expected = {metric: newest_inside(pack) for metric, pack in metrics.items() if newest_inside(pack)}
    assert {metric: reading.timestamp for metric, reading in latest.items()} == expected
    assert expected[Metric.OPERATING_HOURS] == first + dt.timedelta(days=79, hours=12)  # week 11, usage hours
    assert expected[Metric.FUEL_USED] == first + dt.timedelta(days=79, hours=12)  # week 11 holds fuel too
    assert Metric.COOLANT_TEMPERATURE not in latest
    if connection.vendor == "postgresql":
        (statement,) = [query["sql"] for query in queries if "fleet_reading" in query["sql"]]
        # Two sets of windows (usage hours: every week; energy and fuel: every other week), each written once.
        assert statement.count(first.isoformat()) == 1  # week 0 holds usage hours only
        assert statement.count((first + dt.timedelta(days=7)).isoformat()) == 2  # week 1 holds both packs
        assert "<@ ANY" in statement


# --- what a store reports -----------------------------------------------------------------------------------------


def test_a_store_reports_the_rows_stored_and_those_already_there(frozen, machine):
    """On PostgreSQL through COPY and a staging table, on SQLite through bulk_create: the same answers."""
    frozen(NOW)

    def readings(*hours):
        return [
            Reading(
                machine=machine, metric=Metric.OPERATING_HOURS, timestamp=NOW - dt.timedelta(hours=hour), value=hour
            )
            for hour in hours
        ]

    def position(hour):
        return Position(machine=machine, timestamp=NOW - dt.timedelta(hours=hour), latitude=45.0, longitude=4.0)

    first = telemetry_store(readings=readings(1, 2, 3), positions=[position(1)])
    # In one transaction, as the demo seed stores its chunks: a second call sees only its own rows.
    with transaction.atomic():
        again = telemetry_store(readings=readings(3, 4, 4), positions=[position(1), position(2)])
        nothing = telemetry_store()

    assert (first.readings, first.positions) == (Stored(stored=3), Stored(stored=1))
    assert (again.readings, again.positions) == (Stored(1, 2), Stored(1, 1))
    assert (again.stored, again.duplicates) == (2, 3)
    assert nothing == TelemetryStored()
    assert Reading.objects.filter(machine=machine).count() == 4
    assert set(Reading.objects.values_list("received_at", flat=True)) == {NOW}


# --- the newest value of many series ---------------------------------------------------------------------------------


def _plan(sql: str) -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("EXPLAIN " + sql)
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + sql)
        return "\n".join(str(row[-1]) for row in cursor.fetchall())


def test_latest_values_read_each_series_from_its_newest_end(fleet, owner_org, beneficiary_org):
    """The machine page's latest values and the fleet list's facts ask for the newest row of many series in one
    statement (selectors.newest_rows; a beneficiary's latest values on PostgreSQL, one LATERAL subquery per metric):
    each series an index scan backward, the rows then fetched by primary key — never a scan of the table, whose cost
    would grow with the history (an OR of `pk IN (subquery)` clauses was one on PostgreSQL: a sequential scan filtered
    by hashed subplans)."""
    with CaptureQueriesContext(connection) as queries:
        for organisation in (owner_org, beneficiary_org):
            latest = machine_latest_readings(organisation=organisation, machine=fleet[0])
            assert latest[Metric.OPERATING_HOURS].value == SAMPLES - 1
        facts = fleet_facts(organisation=owner_org, machines=fleet)
    assert facts[fleet[0].pk].operating_hours == SAMPLES - 1

    newest = [
        query["sql"]
        for query in queries
        if query["sql"].startswith(('SELECT "fleet_reading".', 'SELECT "fleet_position".', "(SELECT newest."))
    ]
    assert len(newest) == 4  # the page's latest values twice, the fleet list's readings and positions
    for sql in newest:
        plan = _plan(sql)
        if connection.vendor == "postgresql":
            assert "Seq Scan" not in plan, plan
            assert "Index Scan Backward" in plan or "Result" in plan, plan
        else:
            assert "SCAN fleet_reading" not in plan.replace("SCAN fleet_reading USING", "SEARCH"), plan
