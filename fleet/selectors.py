"""Reads of machines scoped to an organisation's own fleet, and the machine page's data. What an organisation received
is read through sharing.selectors: every query below starts from their scoped querysets, so a beneficiary never gets
a reading outside its windows or packs, and each function costs a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db.models import Avg, Max, Min, Q, QuerySet
from django.db.models.functions import TruncDate

from accounts.models import Organisation
from sharing.selectors import fault_codes_visible_to, positions_visible_to, readings_visible_to

from .data_packs import METRICS
from .models import FaultCode, Machine, Position, Reading
from .telemetry import DayStats, Period


def machines_owned_by(organisation: Organisation):
    return Machine.objects.filter(organisation=organisation)


def machine_latest_readings(*, organisation: Organisation, machine: Machine, now=None) -> dict[str, Reading]:
    """The latest visible reading of each known metric, in one query: one uncorrelated "newest first, first row"
    subquery per metric (each an index range scan on (machine, metric, timestamp)), OR-ed together."""
    visible = readings_visible_to(organisation=organisation, machine=machine, now=now)
    newest = Q()
    for metric in METRICS:
        newest |= Q(pk__in=visible.filter(metric=metric).order_by("-timestamp").values("pk")[:1])
    return {reading.metric: reading for reading in visible.filter(newest).only("metric", "timestamp", "value")}


def machine_latest_position(*, organisation: Organisation, machine: Machine, now=None) -> Position | None:

    return positions_visible_to(organisation=organisation, machine=machine, now=now).order_by("-timestamp").first()


def machine_daily_stats(
    *, organisation: Organisation, machine: Machine, metrics, period: Period, now=None
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
    *, organisation: Organisation, machine: Machine, period: Period, now=None
) -> QuerySet[FaultCode]:

    return fault_codes_visible_to(
        organisation=organisation, machine=machine, since=period.start, until=period.end, now=now
    ).order_by("-timestamp")


def machine_readings_in_period(
    *, organisation: Organisation, machine: Machine, period: Period, now=None
) -> QuerySet[Reading]:
    """The visible readings of the period, for the CSV export, in time order."""

    return (
        readings_visible_to(organisation=organisation, machine=machine, since=period.start, until=period.end, now=now)
        .order_by("timestamp", "metric")
        .values_list("timestamp", "metric", "value")
    )
