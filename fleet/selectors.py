"""Reads of machines and their telemetry, scoped to what the acting organisation may see: its own machines in full,
the machines it receives through their access scopes (fleet/access.py), which the layer above builds from the sharings'
dates. Every telemetry query below starts from a scope, so a beneficiary never gets a reading outside its windows or
packs, and each function costs a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import connections
from django.db.models import (
    Avg,
    BooleanField,
    CharField,
    Exists,
    F,
    Func,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, Concat, TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organisation
from audit.models import AuditEvent
from hiboo_connect.errors import get_or_not_found

from .access import AccessScope, Window, scope_for, scopes_for, sharing_facts
from .audit import AuditTarget
from .data_packs import METRICS, DataPack, Metric, pack_of_metric
from .models import FaultCode, Machine, Position, Reading, Workspace
from .telemetry import DayStats, Period


def workspaces_of(organisation: Organisation | None) -> QuerySet[Workspace]:
    return Workspace.objects.filter(organisation=organisation)


def workspace_get(*, organisation: Organisation, workspace_id) -> Workspace:
    return get_or_not_found(
        workspaces_of(organisation), "workspace_not_found", _("No such workspace."), pk=workspace_id
    )


def machines_owned_by(organisation: Organisation) -> QuerySet[Machine]:
    return Machine.objects.filter(organisation=organisation)


def received_machines_of(organisation: Organisation) -> QuerySet:
    """The organisation's received machines: the sharing layer's rows (machine, name, workspaces)."""
    return sharing_facts().received_machines(organisation)


def machines_visible_to(organisation: Organisation) -> QuerySet[Machine]:
    """The organisation's own machines and the machines shared with it."""
    received = received_machines_of(organisation).filter(machine=OuterRef("pk"))
    return Machine.objects.filter(Q(organisation=organisation) | Q(Exists(received)))


def machine_get(*, organisation: Organisation, machine_id) -> Machine:
    return get_or_not_found(
        machines_visible_to(organisation), "machine_not_found", _("No such machine."), pk=machine_id
    )


# --- telemetry: the owner sees all, a beneficiary the union of its windows, each with its own packs -------------------


def _metric_q(packs: frozenset[str]) -> Q | None:
    metrics = [metric for metric, info in METRICS.items() if info.pack in packs]
    query = Q(metric__in=metrics) if metrics else None
    if DataPack.OTHERS in packs:
        # "others" holds every metric not listed in DESIGN §4 too.
        unlisted = ~Q(metric__in=list(METRICS))
        query = unlisted if query is None else query | unlisted
    return query


def _window_q(window: Window) -> Q:
    query = Q(timestamp__gte=window.start)
    if window.end is not None:
        query &= Q(timestamp__lt=window.end)
    return query


def _scope(organisation, machine, now, scope: AccessScope | None) -> AccessScope:
    if scope is None:
        return scope_for(organisation=organisation, machine=machine, now=now)
    if not isinstance(scope, AccessScope):
        raise TypeError("scope must be an AccessScope made by fleet.access.")
    return scope.require(organisation=organisation, machine=machine)


def merged_windows(windows, *, since=None, until=None) -> list[Window]:
    """`windows` as the fewest disjoint windows covering the same instants, earliest first, each clipped to
    [since, until) (either may be None); the ones left empty by the clip are dropped."""
    merged: list[Window] = []
    for window in sorted(windows, key=lambda window: window.start):
        start = max(window.start, since) if since is not None else window.start
        end = window.end
        if until is not None:
            end = until if end is None else min(end, until)
        if end is not None and end <= start:
            continue
        last = merged[-1] if merged else None
        if last is not None and (last.end is None or start <= last.end):
            merged[-1] = Window(last.start, None if last.end is None or end is None else max(last.end, end))
        else:
            merged.append(Window(start, end))
    return merged


#: Beyond this many windows of one pack set, PostgreSQL gets them as one array parameter, not one clause each.
WINDOWS_AS_CLAUSES = 4


class _WithinAnyRange(Func):
    """PostgreSQL: `timestamp <@ ANY(%s::tstzrange[])`, the windows as one array parameter."""

    arg_joiner = " <@ ANY("
    template = "%(expressions)s::tstzrange[])"
    output_field = BooleanField()


def _windows_q(windows: list[Window], *, vendor: str) -> Q:
    """Instants inside one of `windows` (disjoint, earliest first). A few windows: one range clause each, so the index
    scan is bounded on each. Many (a machine received through 144 weekly sharings) on PostgreSQL: the span from the
    first start to the last end bounds the index scan and one array of ranges filters inside it, so the statement
    stays the same size however many sharings there were (it was 526k characters)."""
    if len(windows) <= WINDOWS_AS_CLAUSES or vendor != "postgresql":
        condition = Q()
        for window in windows:
            condition |= _window_q(window)
        return condition
    ranges = [f"[{window.start.isoformat()},{window.end.isoformat() if window.end else ''})" for window in windows]
    span = _window_q(Window(windows[0].start, windows[-1].end))
    return span & Q(_WithinAnyRange(F("timestamp"), Value(ranges)))


def _visible(
    queryset: QuerySet, scope: AccessScope, pack_q: Callable[[frozenset[str]], Q | None], *, since=None, until=None
) -> QuerySet:
    """`queryset` narrowed to what `scope` shows. For a beneficiary: the grants grouped by their packs, each group's
    windows merged and clipped to [since, until) before any SQL is built, so a machine received through 144 weekly
    sharings asks for a month of readings with the few windows that month holds, each pack set's metrics named once."""
    queryset = queryset.filter(machine=scope.machine)
    if scope.grants is None:
        return queryset
    windows_by_packs: dict[frozenset[str], list[Window]] = defaultdict(list)
    for grant in scope.grants:
        windows_by_packs[grant.packs].append(grant.window)
    visible = Q()
    any_grant = False
    for packs, windows in windows_by_packs.items():
        packs_q = pack_q(packs)
        windows = merged_windows(windows, since=since, until=until)
        if packs_q is None or not windows:
            continue
        visible |= packs_q & _windows_q(windows, vendor=connections[queryset.db].vendor)
        any_grant = True
    return queryset.filter(visible) if any_grant else queryset.none()


def _narrow(queryset: QuerySet, since, until) -> QuerySet:
    if since is not None:
        queryset = queryset.filter(timestamp__gte=since)
    if until is not None:
        queryset = queryset.filter(timestamp__lt=until)
    return queryset


def readings_visible_to(
    *, organisation: Organisation, machine: Machine, metrics=None, since=None, until=None, now=None, scope=None
) -> QuerySet[Reading]:
    """Numeric readings of `machine` the organisation may see, optionally narrowed to metrics and [since, until).

    `scope` (here and below): the organisation's AccessScope of this machine, made once by a page that reads several
    things; without it, it is made here (one query for a received machine, none for an own one)."""
    scope = _scope(organisation, machine, now, scope)
    pack_q = _metric_q
    if metrics is not None:
        metrics = list(metrics)

        def pack_q(packs):
            # One `metric IN (...)` per window, already narrowed to the packs: the planner bounds the index scan on it.
            wanted = [metric for metric in metrics if pack_of_metric(metric) in packs]
            return Q(metric__in=wanted) if wanted else None

    queryset = _visible(Reading.objects.all(), scope, pack_q, since=since, until=until)
    if metrics is not None:
        queryset = queryset.filter(metric__in=metrics)
    return _narrow(queryset, since, until)


def _one_pack_visible(model, pack: str, scope: AccessScope, since, until) -> QuerySet:
    """The rows of a table that belongs whole to one data pack (positions, fault codes) the scope lets through."""
    queryset = _visible(
        model.objects.all(), scope, lambda packs: Q() if pack in packs else None, since=since, until=until
    )
    return _narrow(queryset, since, until)


def positions_visible_to(
    *, organisation: Organisation, machine: Machine, since=None, until=None, now=None, scope=None
) -> QuerySet[Position]:
    """Positions (the essential pack) the organisation may see."""
    scope = _scope(organisation, machine, now, scope)
    return _one_pack_visible(Position, DataPack.ESSENTIAL, scope, since, until)


def fault_codes_visible_to(
    *, organisation: Organisation, machine: Machine, since=None, until=None, now=None, scope=None
) -> QuerySet[FaultCode]:
    """Fault codes (their own pack) the organisation may see."""
    scope = _scope(organisation, machine, now, scope)
    return _one_pack_visible(FaultCode, DataPack.FAULT_CODES, scope, since, until)


# --- the machine page ------------------------------------------------------------------------------------------------


def machine_latest_readings(
    *, organisation: Organisation, machine: Machine, now=None, scope=None
) -> dict[str, Reading]:
    """The latest visible reading of each known metric, in one query: for the owner (and on SQLite) newest_rows, one
    "newest first, first row" subquery per metric, each an index scan backward on (machine, metric, timestamp); for a
    beneficiary on PostgreSQL the same scans, with its windows written once (_newest_readings_in_windows)."""
    scope = _scope(organisation, machine, now, scope)
    if scope.grants is not None and connections[Reading.objects.db].vendor == "postgresql":
        newest: Iterable[Reading] = _newest_readings_in_windows(scope, list(METRICS))
    else:
        visible = readings_visible_to(organisation=organisation, machine=machine, now=now, scope=scope)
        series = [visible.filter(metric=metric) for metric in METRICS]
        newest = newest_rows(Reading, series).only("metric", "timestamp", "value", "received_at")
    return {reading.metric: reading for reading in newest}


#: The newest reading of each metric of one set of windows (PostgreSQL): one index scan backward per metric that stops
#: at its first row inside a window. The windows are written once however many metrics they serve, as _windows_q
#: writes them: a few as one range clause each, many as the span bounding the scan and one array of ranges.
_NEWEST_IN_WINDOWS = """
(SELECT newest.id, newest.metric, newest.timestamp, newest.value, newest.received_at
FROM unnest(%s::varchar[]) AS wanted(metric)
CROSS JOIN LATERAL (
    SELECT reading.id, reading.metric, reading.timestamp, reading.value, reading.received_at
    FROM fleet_reading AS reading
    WHERE reading.machine_id = %s AND reading.metric = wanted.metric AND ({windows})
    ORDER BY reading.timestamp DESC
    LIMIT 1
) AS newest)
"""


def _window_sql(window: Window) -> tuple[str, list[object]]:
    if window.end is None:
        return "reading.timestamp >= %s", [window.start]
    return "reading.timestamp >= %s AND reading.timestamp < %s", [window.start, window.end]


def _windows_sql(windows: list[Window]) -> tuple[str, list[object]]:
    """_windows_q's condition on PostgreSQL, as SQL text and parameters."""
    if len(windows) <= WINDOWS_AS_CLAUSES:
        clauses: list[str] = []
        params: list[object] = []
        for window in windows:
            clause, clause_params = _window_sql(window)
            clauses.append(f"({clause})")
            params += clause_params
        return " OR ".join(clauses), params
    ranges = [f"[{window.start.isoformat()},{window.end.isoformat() if window.end else ''})" for window in windows]
    span, span_params = _window_sql(Window(windows[0].start, windows[-1].end))
    return f"{span} AND reading.timestamp <@ ANY(%s::tstzrange[])", [*span_params, ranges]


def _newest_readings_in_windows(scope: AccessScope, metrics: list[str]) -> list[Reading]:
    """The newest reading of each of `metrics` that `scope` (a beneficiary's) lets through, in one statement on
    PostgreSQL that writes each set of windows once, whatever the number of metrics. Through newest_rows, every
    metric's subquery repeated every window: a machine received through 144 weekly sharings made a 170 kB statement of
    its 16 metrics (10 kB now). The rule is _visible's: a metric is seen inside the windows of the grants that hold its
    pack, merged."""
    # Merged once per pack, not per metric: 144 windows each time.
    windows_by_pack = {
        pack: tuple(merged_windows(scope.windows_of(pack))) for pack in {pack_of_metric(metric) for metric in metrics}
    }
    metrics_by_windows: dict[tuple[Window, ...], list[str]] = defaultdict(list)
    for metric in metrics:
        windows = windows_by_pack[pack_of_metric(metric)]
        if windows:
            metrics_by_windows[windows].append(metric)
    parts: list[str] = []
    params: list[object] = []
    for series, wanted in metrics_by_windows.items():
        condition, condition_params = _windows_sql(list(series))
        parts.append(_NEWEST_IN_WINDOWS.strip().format(windows=condition))
        params += [wanted, scope.machine.pk, *condition_params]
    if not parts:
        return []
    return list(Reading.objects.raw(" UNION ALL ".join(parts), params))


def machine_latest_position(*, organisation: Organisation, machine: Machine, now=None, scope=None) -> Position | None:
    return (
        positions_visible_to(organisation=organisation, machine=machine, now=now, scope=scope)
        .order_by("-timestamp")
        .first()
    )


def machine_daily_stats(
    *, organisation: Organisation, machine: Machine, metrics, period: Period, now=None, scope=None
) -> dict[str, dict[dt.date, DayStats]]:
    """Per metric and local day of the period (and the day before it, for the first day's increment): the lowest,
    highest and mean visible reading. One GROUP BY query."""

    rows = (
        readings_visible_to(
            organisation=organisation,
            machine=machine,
            metrics=metrics,
            since=period.start - dt.timedelta(days=1),
            until=period.end,
            now=now,
            scope=scope,
        )
        .annotate(day=TruncDate("timestamp", tzinfo=period.tz))
        .values("metric", "day")
        .annotate(low=Min("value"), high=Max("value"), mean=Avg("value"))
        .order_by()
    )
    stats: dict[str, dict[dt.date, DayStats]] = defaultdict(dict)
    for row in rows:
        stats[row["metric"]][row["day"]] = DayStats(low=row["low"], high=row["high"], mean=row["mean"])
    return stats


def machine_fault_codes(
    *, organisation: Organisation, machine: Machine, period: Period, now=None, scope=None
) -> QuerySet[FaultCode]:
    return fault_codes_visible_to(
        organisation=organisation, machine=machine, since=period.start, until=period.end, now=now, scope=scope
    ).order_by("-timestamp")


def machine_readings_in_period(
    *, organisation: Organisation, machine: Machine, period: Period, now=None, scope=None
) -> QuerySet[Reading, tuple[dt.datetime, str, float]]:
    """The visible readings of the period, for the CSV export, in time order."""
    return (
        readings_visible_to(
            organisation=organisation,
            machine=machine,
            since=period.start,
            until=period.end,
            now=now,
            scope=scope,
        )
        .order_by("timestamp", "metric")
        .values_list("timestamp", "metric", "value")
    )


def machine_positions_in_period(
    *, organisation: Organisation, machine: Machine, period: Period, now=None, scope=None
) -> QuerySet[Position, tuple[dt.datetime, float, float, float | None]]:
    """The visible positions of the period, for the CSV export, in time order."""
    return (
        positions_visible_to(
            organisation=organisation, machine=machine, since=period.start, until=period.end, now=now, scope=scope
        )
        .order_by("timestamp")
        .values_list("timestamp", "latitude", "longitude", "altitude")
    )


def machine_fault_codes_in_period(
    *, organisation: Organisation, machine: Machine, period: Period, now=None, scope=None
) -> QuerySet[FaultCode, tuple[dt.datetime, str, str, str, str]]:
    """The visible fault codes of the period, for the CSV export, in time order."""
    return (
        fault_codes_visible_to(
            organisation=organisation, machine=machine, since=period.start, until=period.end, now=now, scope=scope
        )
        .order_by("timestamp", "identifier")
        .values_list("timestamp", "identifier", "description", "severity", "source")
    )


def machine_audit_events(*, organisation: Organisation, machine: Machine) -> QuerySet[AuditEvent]:
    """The audit trail of one of the organisation's own machines (its workspaces), newest first. Empty for anyone
    but the owner: a beneficiary never learns how the owner organises its fleet."""
    if machine.organisation_id != organisation.pk:
        return AuditEvent.objects.none()
    return AuditEvent.objects.filter(
        organisation=organisation, target_type=AuditTarget.MACHINE, target_id=machine.pk
    ).order_by("-occurred_at", "-id")


# --- the fleet list: own and received machines in one list ----------------------------------------------------------


def fleet_of(organisation: Organisation) -> QuerySet[Machine]:
    """The organisation's own machines and the machines shared with it, in one queryset, each with `received_name`
    (the beneficiary's name for it; None for our own) and `sort_name`, the name the organisation knows it by: our
    machines by make and model, received ones by the name we gave them."""
    received_name = Subquery(received_machines_of(organisation).filter(machine=OuterRef("pk")).values("name")[:1])
    return machines_visible_to(organisation).annotate(
        received_name=received_name,
        sort_name=Coalesce(received_name, Concat("make", Value(" "), "model"), output_field=CharField()),
    )


@dataclass(frozen=True)
class FleetFacts:
    """What the fleet list says about one machine, as the viewing organisation may see it."""

    last_seen: dt.datetime | None = None
    operating_hours: float | None = None
    #: The newest visible engine status: True running, False off, None never reported (or not shared).
    engine_running: bool | None = None
    #: Our machines only: the sharings running now (who has the machine, until when), soonest end first.
    running_sharings: tuple = ()


def fleet_facts(*, organisation: Organisation, machines, now=None) -> dict[object, FleetFacts]:
    """Last seen, current operating hours and (for our machines) who has each machine now, for a page of the fleet
    list, in at most four queries however many machines: the scopes of the received machines, the running sharings of
    our own, the latest readings, the latest positions. Every read starts from the machine's access scope, so a
    received machine shows nothing outside its windows and packs.

    "Last seen" belongs to the essential pack (DESIGN §4): the newest visible position or engine status."""
    now = now or timezone.now()
    machines = list(machines)
    own = [machine.pk for machine in machines if machine.organisation_id == organisation.pk]
    scopes = scopes_for(organisation=organisation, machines=machines, now=now)
    running = sharing_facts().running_by_machine(organisation=organisation, machine_ids=own, now=now) if own else {}
    # One "newest first, first row" subquery per machine and metric (newest_rows): each an index scan backward.
    newest_readings: list[QuerySet] = []
    newest_positions: list[QuerySet] = []
    for machine in machines:
        scope = scopes[machine.pk]
        if scope.grants == ():
            continue  # received, but nothing granted yet
        read = {"organisation": organisation, "machine": machine, "scope": scope}
        for metric in FLEET_METRICS:
            visible = readings_visible_to(metrics=[metric], **read)
            newest_readings.append(visible)
        newest_positions.append(positions_visible_to(**read))
    latest: dict[object, dict[str, Reading]] = defaultdict(dict)
    positions: dict[object, dt.datetime] = {}
    if newest_readings:
        for reading in newest_rows(Reading, newest_readings).only("machine_id", "metric", "timestamp", "value"):
            latest[reading.machine_id][reading.metric] = reading
        positions = dict(newest_rows(Position, newest_positions).values_list("machine_id", "timestamp"))
    facts = {}
    for machine in machines:
        readings = latest.get(machine.pk, {})
        engine = readings.get(Metric.ENGINE_RUNNING)
        seen = [moment for moment in (positions.get(machine.pk), engine and engine.timestamp) if moment]
        hours = readings.get(Metric.OPERATING_HOURS)
        facts[machine.pk] = FleetFacts(
            last_seen=max(seen, default=None),
            operating_hours=hours.value if hours else None,
            engine_running=engine.value >= 0.5 if engine else None,
            running_sharings=tuple(running.get(machine.pk, ())),
        )
    return facts


#: The readings the fleet list shows: the engine status (for "last seen") and the operating hours.
FLEET_METRICS = (Metric.ENGINE_RUNNING, Metric.OPERATING_HOURS)


# --- the newest rows of many series in one statement (machine pages, the fleet list, the ISO 15143-3 feed) -----------


def newest_rows(model, querysets) -> QuerySet:
    """The newest row (by timestamp) of each queryset, in one statement whatever their number:
    `pk IN ((SELECT pk … ORDER BY timestamp DESC LIMIT 1), …)`. Each scalar subquery is an index scan backward that
    stops at its first row, and the outer rows are looked up by primary key, so the cost follows the number of series,
    never their history. (An OR of `pk IN (subquery)` clauses instead makes PostgreSQL scan the whole table against
    hashed subplans.)"""
    subqueries = [Subquery(queryset.order_by("-timestamp").values("pk")[:1]) for queryset in querysets]
    if not subqueries:
        return model.objects.none()
    return model.objects.filter(pk__in=subqueries)


@dataclass(frozen=True)
class Snapshot:
    """What one organisation may see of one machine right now: the newest visible reading of each metric asked for
    and the newest visible position (None when none is visible)."""

    machine: Machine
    readings: dict[str, Reading]
    position: Position | None


def machines_snapshot(*, organisation: Organisation, machines, metrics, now=None) -> dict[object, Snapshot]:
    """Machine id → Snapshot for a page of machines, in at most three queries however many machines and however long
    their history: the access scopes of the received ones, the newest readings, the newest positions. Each read starts
    from the machine's scope, so a received machine shows only what its windows and packs allow (after a sharing's
    end, the newest reading of its window)."""
    now = now or timezone.now()
    machines = list(machines)
    scopes = scopes_for(organisation=organisation, machines=machines, now=now)
    reading_series, position_series = [], []
    for machine in machines:
        scope = scopes[machine.pk]
        if scope.grants == ():
            continue  # received, but nothing granted (yet)
        read = {"organisation": organisation, "machine": machine, "scope": scope}
        packs = scope.shared_packs
        reading_series += [
            readings_visible_to(metrics=[metric], **read) for metric in metrics if pack_of_metric(metric) in packs
        ]
        if DataPack.ESSENTIAL in packs:
            position_series.append(positions_visible_to(**read))
    readings: dict[object, dict[str, Reading]] = defaultdict(dict)
    for reading in newest_rows(Reading, reading_series).only("machine_id", "metric", "timestamp", "value"):
        readings[reading.machine_id][reading.metric] = reading
    positions = {position.machine_id: position for position in newest_rows(Position, position_series)}
    return {
        machine.pk: Snapshot(machine=machine, readings=readings.get(machine.pk, {}), position=positions.get(machine.pk))
        for machine in machines
    }
