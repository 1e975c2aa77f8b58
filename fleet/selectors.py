"""Reads of machines scoped to an organisation's own fleet, and the machine page's data. What an organisation received
is read through sharing.selectors: every query below starts from their scoped querysets, so a beneficiary never gets
a reading outside its windows or packs, and each function costs a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Avg, CharField, Max, Min, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Concat, TruncDate
from django.utils import timezone

from accounts.models import Organisation
from sharing.models import AuditEvent, AuditTarget, ReceivedMachine
from sharing.selectors import (
    access_grants_by_machine,
    fault_codes_visible_to,
    machines_visible_to,
    positions_visible_to,
    readings_visible_to,
    sharings_in_progress_by_machine,
)

from .data_packs import METRICS, Metric
from .models import FaultCode, Machine, Position, Reading
from .telemetry import DayStats, Period


def machines_owned_by(organisation: Organisation):
    return Machine.objects.filter(organisation=organisation)


def machine_latest_readings(
    *, organisation: Organisation, machine: Machine, now=None, grants=None
) -> dict[str, Reading]:
    """The latest visible reading of each known metric, in one query: one uncorrelated "newest first, first row"
    subquery per metric (each an index range scan on (machine, metric, timestamp)), OR-ed together.

    `grants` (here and below): the viewer's access_grants for this machine, computed once by the page and passed
    on to sharing.selectors, which otherwise looks them up again for every read."""
    visible = readings_visible_to(organisation=organisation, machine=machine, now=now, grants=grants)
    newest = Q()
    for metric in METRICS:
        newest |= Q(pk__in=visible.filter(metric=metric).order_by("-timestamp").values("pk")[:1])
    return {reading.metric: reading for reading in visible.filter(newest).only("metric", "timestamp", "value")}


def machine_latest_position(*, organisation: Organisation, machine: Machine, now=None, grants=None) -> Position | None:
    return (
        positions_visible_to(organisation=organisation, machine=machine, now=now, grants=grants)
        .order_by("-timestamp")
        .first()
    )


def machine_daily_stats(
    *, organisation: Organisation, machine: Machine, metrics, period: Period, now=None, grants=None
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
            grants=grants,
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
    *, organisation: Organisation, machine: Machine, period: Period, now=None, grants=None
) -> QuerySet[FaultCode]:
    return fault_codes_visible_to(
        organisation=organisation, machine=machine, since=period.start, until=period.end, now=now, grants=grants
    ).order_by("-timestamp")


def machine_readings_in_period(
    *, organisation: Organisation, machine: Machine, period: Period, now=None, grants=None
) -> QuerySet[Reading]:
    """The visible readings of the period, for the CSV export, in time order."""
    return (
        readings_visible_to(
            organisation=organisation,
            machine=machine,
            since=period.start,
            until=period.end,
            now=now,
            grants=grants,
        )
        .order_by("timestamp", "metric")
        .values_list("timestamp", "metric", "value")
    )


def machine_positions_in_period(
    *, organisation: Organisation, machine: Machine, period: Period, now=None, grants=None
) -> QuerySet[Position]:
    """The visible positions of the period, for the CSV export, in time order."""
    return (
        positions_visible_to(
            organisation=organisation, machine=machine, since=period.start, until=period.end, now=now, grants=grants
        )
        .order_by("timestamp")
        .values_list("timestamp", "latitude", "longitude", "altitude")
    )


def machine_fault_codes_in_period(
    *, organisation: Organisation, machine: Machine, period: Period, now=None, grants=None
) -> QuerySet[FaultCode]:
    """The visible fault codes of the period, for the CSV export, in time order."""
    return (
        fault_codes_visible_to(
            organisation=organisation, machine=machine, since=period.start, until=period.end, now=now, grants=grants
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
    """The organisation's own machines and the machines shared with it, in one queryset (sharing.selectors scopes
    it), each with `received_name` (the beneficiary's name for it; None for our own) and `sort_name`, the name the
    organisation knows it by: our machines by make and model, received ones by the name we gave them."""
    received_name = Subquery(
        ReceivedMachine.objects.filter(organisation=organisation, machine=OuterRef("pk")).values("name")[:1]
    )
    return machines_visible_to(organisation).annotate(
        received_name=received_name,
        sort_name=Coalesce(received_name, Concat("make", Value(" "), "model"), output_field=CharField()),
    )


@dataclass(frozen=True)
class FleetFacts:
    """What the fleet list says about one machine, as the viewing organisation may see it."""

    last_seen: dt.datetime | None = None
    operating_hours: float | None = None
    #: Our machines only: the sharings running now (who has the machine, until when), soonest end first.
    running_sharings: tuple = ()


def fleet_facts(*, organisation: Organisation, machines, now=None) -> dict[object, FleetFacts]:
    """Last seen, current operating hours and (for our machines) who has each machine now, for a page of the fleet
    list, in at most four queries however many machines: the grants of the received machines, the running sharings of
    our own, the latest readings, the latest positions. Every read goes through sharing.selectors' scoped querysets
    with the grants computed once, so a received machine shows nothing outside its windows and packs.

    "Last seen" belongs to the essential pack (DESIGN §4): the newest visible position or engine status."""
    now = now or timezone.now()
    machines = list(machines)
    own = [machine for machine in machines if machine.organisation_id == organisation.pk]
    received = [machine for machine in machines if machine.organisation_id != organisation.pk]
    grants = (
        access_grants_by_machine(organisation=organisation, machine_ids=[m.pk for m in received], now=now)
        if received
        else {}
    )
    running = (
        sharings_in_progress_by_machine(organisation=organisation, machine_ids=[m.pk for m in own], now=now)
        if own
        else {}
    )
    # One "newest first, first row" subquery per machine and metric, OR-ed together: each an index range scan.
    newest_readings, newest_positions = Q(), Q()
    for machine in own + [machine for machine in received if machine.pk in grants]:
        machine_grants = None if machine.organisation_id == organisation.pk else grants[machine.pk]
        scope = {"organisation": organisation, "machine": machine, "now": now, "grants": machine_grants}
        for metric in FLEET_METRICS:
            visible = readings_visible_to(metrics=[metric], **scope)
            newest_readings |= Q(pk__in=visible.order_by("-timestamp").values("pk")[:1])
        newest_positions |= Q(pk__in=positions_visible_to(**scope).order_by("-timestamp").values("pk")[:1])
    latest: dict[object, dict[str, Reading]] = defaultdict(dict)
    positions: dict[object, dt.datetime] = {}
    if newest_readings:
        for reading in Reading.objects.filter(newest_readings).only("machine_id", "metric", "timestamp", "value"):
            latest[reading.machine_id][reading.metric] = reading
        positions = dict(Position.objects.filter(newest_positions).values_list("machine_id", "timestamp"))
    facts = {}
    for machine in machines:
        readings = latest.get(machine.pk, {})
        engine = readings.get(Metric.ENGINE_RUNNING)
        seen = [moment for moment in (positions.get(machine.pk), engine and engine.timestamp) if moment]
        hours = readings.get(Metric.OPERATING_HOURS)
        facts[machine.pk] = FleetFacts(
            last_seen=max(seen, default=None),
            operating_hours=hours.value if hours else None,
            running_sharings=tuple(running.get(machine.pk, ())),
        )
    return facts


#: The readings the fleet list shows: the engine status (for "last seen") and the operating hours.
FLEET_METRICS = (Metric.ENGINE_RUNNING, Metric.OPERATING_HOURS)
