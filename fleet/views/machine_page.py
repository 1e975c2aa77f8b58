"""A machine's data page: latest values, charts, faults, the owner's sharing timeline and history, and the CSV export
of the period. What a beneficiary sees is bounded by its access scope (fleet/access.py). Reads through selectors."""

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from accounts.portal import organisation_page
from audit.timeline import audit_timeline
from hiboo_connect import pages

from .. import charts, exports, maps, telemetry
from ..access import scope_for, sharing_facts
from ..data_origins import data_origins
from ..data_packs import METRICS, DataPack, Metric, pack_of_metric
from ..forms import PeriodForm
from ..selectors import (
    machine_audit_events,
    machine_daily_stats,
    machine_fault_codes,
    machine_fault_codes_in_period,
    machine_get,
    machine_latest_position,
    machine_latest_readings,
    machine_positions_in_period,
    machine_readings_in_period,
    received_machines_of,
)

DEFAULT_PERIOD_DAYS = 30
FAULTS_SHOWN = 100
#: The owner's history of its machine lists this many changes, newest first.
HISTORY_SHOWN = 20
#: A beneficiary's notice lists this many of the periods it was given, newest first, and counts the earlier ones.
WINDOWS_SHOWN = 10
#: Metrics behind the charts: increments of cumulative counters, and the fuel level.
CHART_METRICS = (Metric.OPERATING_HOURS, Metric.IDLE_HOURS, Metric.FUEL_USED, Metric.FUEL_REMAINING)


class MachineView:
    """Who is looking at which machine, and what they were given: everything for the owner; for a beneficiary the
    grants (windows with their packs) computed once from the sharings' dates."""

    def __init__(self, request, machine_id):
        self.organisation = request.organisation
        self.now = timezone.now()
        self.tz = ZoneInfo(self.organisation.timezone)
        self.machine = machine_get(organisation=self.organisation, machine_id=machine_id)
        self.owned = self.machine.organisation_id == self.organisation.pk
        self.scope = scope_for(organisation=self.organisation, machine=self.machine, now=self.now)
        #: None for the owner; the windows with their packs for a beneficiary.
        self.grants = self.scope.grants

    @property
    def shared_packs(self) -> set[str]:
        return self.scope.shared_packs

    def windows_of(self, pack: str):
        return self.scope.windows_of(pack)

    def unshared(self, period: telemetry.Period, pack: str):
        """Where the period shows nothing because the viewer was not given it (never for the owner)."""
        if self.grants is None:
            return []
        return telemetry.unshared_intervals(period.start, min(period.end, self.now), self.windows_of(pack))

    def default_period(self) -> telemetry.Period:
        """The last 30 days; for a beneficiary, the last 30 days of what it was given (the shared window when that
        is shorter, its last days when it is over)."""
        today = timezone.localdate(self.now, self.tz)
        last, first_allowed = today, None
        if self.grants:
            last = min(today, max(timezone.localdate(grant.window.end, self.tz) for grant in self.grants))
            first_allowed = min(timezone.localdate(grant.window.start, self.tz) for grant in self.grants)
        first = last - dt.timedelta(days=DEFAULT_PERIOD_DAYS - 1)
        if first_allowed is not None:
            first = min(max(first, first_allowed), last)
        return telemetry.Period(first, last, self.tz)

    def period(self, data) -> tuple[telemetry.Period, PeriodForm]:
        default = self.default_period()
        if "first" in data or "last" in data:
            form = PeriodForm(data)
            if form.is_valid():
                period = telemetry.Period(form.cleaned_data["first"], form.cleaned_data["last"], self.tz)
                return period, form
            return default, form
        return default, PeriodForm(initial={"first": default.first, "last": default.last})


def _format_number(value: float) -> str:
    rounded = round(value, 2)
    return formats.number_format(int(rounded) if rounded == int(rounded) else rounded, force_grouping=True)


def _latest_values(view: MachineView):
    """The latest value of each metric, grouped by data pack in the packs' order; packs the viewer was not given are
    named as such, not shown empty. Also when the newest of them reached the share centre (the owner's "last data
    received")."""
    readings = machine_latest_readings(
        organisation=view.organisation, machine=view.machine, now=view.now, scope=view.scope
    )
    shared = view.shared_packs
    position = (
        machine_latest_position(organisation=view.organisation, machine=view.machine, now=view.now, scope=view.scope)
        if DataPack.ESSENTIAL in shared
        else None
    )
    groups = []
    for pack, label in DataPack.choices:
        values: list[dict[str, Any]] = []
        for metric, info in METRICS.items():
            if info.pack != pack or metric not in readings:
                continue
            reading = readings[metric]
            if metric == Metric.ENGINE_RUNNING:
                shown = _("Running") if reading.value >= 0.5 else _("Off")
            else:
                shown = _format_number(reading.value)
            values.append({"label": Metric(metric).label, "value": shown, "unit": info.unit, "at": reading.timestamp})
        group: dict[str, Any] = {"code": pack, "label": label, "shared": pack in shared, "values": values}
        if pack == DataPack.ESSENTIAL:
            group["position"] = position
            group["position_url"] = maps.open_in_a_map_url(position.latitude, position.longitude) if position else ""
            moments = [moment for moment in (position and position.timestamp, *(v["at"] for v in values)) if moment]
            group["last_seen"] = max(moments, default=None)
        groups.append(group)
    received = [row.received_at for row in (*readings.values(), position) if row is not None]
    return groups, max(received, default=None)


CHARTS = (
    # (chart id, metric, title, unit, kind)
    ("operating-hours", Metric.OPERATING_HOURS, gettext_lazy("Operating hours per day"), "h", "bars"),
    ("idle-hours", Metric.IDLE_HOURS, gettext_lazy("Idle hours per day"), "h", "bars"),
    ("fuel-used", Metric.FUEL_USED, gettext_lazy("Fuel used per day"), "L", "bars"),
    ("fuel-level", Metric.FUEL_REMAINING, gettext_lazy("Fuel level"), "%", "level"),
)


def _charts(view: MachineView, period: telemetry.Period):
    shared = view.shared_packs
    metrics = [metric for metric in CHART_METRICS if pack_of_metric(metric) in shared]
    stats = (
        machine_daily_stats(
            organisation=view.organisation,
            machine=view.machine,
            metrics=metrics,
            period=period,
            now=view.now,
            scope=view.scope,
        )
        if metrics
        else {}
    )
    result = []
    for chart_id, metric, title, unit, kind in CHARTS:
        pack = pack_of_metric(metric)
        chart: dict[str, Any] = {"id": chart_id, "title": title, "pack": DataPack(pack).label, "svg": None}
        if pack in shared:
            unshared = view.unshared(period, pack)
            chart["unshared"] = bool(unshared)
            if kind == "bars":
                values = telemetry.daily_increments(stats.get(metric, {}), period.days)
                chart["svg"] = charts.bar_chart(
                    chart_id=chart_id, title=str(title), unit=unit, period=period, values=values, unshared=unshared
                )
            else:
                in_period = {day: value for day, value in stats.get(metric, {}).items() if day >= period.first}
                chart["svg"] = charts.level_chart(
                    chart_id=chart_id, title=str(title), unit=unit, period=period, stats=in_period, unshared=unshared
                )
        result.append(chart)
    return result


#: A track is drawn from at most this many positions of the period, evenly picked (the first and last always).
TRACK_POINTS = 1000


def _track(view: MachineView, period: telemetry.Period):
    """The machine's visible positions of the period as a line over the basemap (for a beneficiary only inside its
    windows, and only with the essential pack: positions_visible_to), with its first and last positions. None when
    the essential pack was not shared."""
    if DataPack.ESSENTIAL not in view.shared_packs:
        return None
    rows = list(
        machine_positions_in_period(
            organisation=view.organisation, machine=view.machine, period=period, now=view.now, scope=view.scope
        )
    )
    if len(rows) > TRACK_POINTS:
        step = (len(rows) - 1) / (TRACK_POINTS - 1)
        rows = [rows[round(index * step)] for index in range(TRACK_POINTS)]
    points = [maps.TrackPoint(latitude, longitude, timestamp) for timestamp, latitude, longitude, _altitude in rows]
    ends = []
    for label, point in ((_("First position"), points[:1]), (_("Last position"), points[-1:])):
        for item in point:
            ends.append({"label": label, "point": item, "url": maps.open_in_a_map_url(item.latitude, item.longitude)})
    svg = maps.track_map(chart_id="machine-track", title=_("Track of the period"), points=points, tz=view.tz)
    return {"svg": svg, "count": len(points), "ends": ends if len(points) > 1 else ends[:1]}


def _sharing_timeline(view: MachineView):
    """The owner's sharings of this machine on a time axis, with today marked (the sharing layer draws it)."""
    return sharing_facts().machine_timeline(
        organisation=view.organisation, machine=view.machine, now=view.now, tz=view.tz
    )


def _windows(view: MachineView):
    """What a beneficiary was given, window by window, for the notice at the top of the page: the WINDOWS_SHOWN most
    recent, newest first, and how many earlier ones there are. A machine received through 144 weekly sharings would
    otherwise list 144 periods at the top of every visit, and the page's cost would grow with each new sharing."""
    grants = sorted(view.grants or (), key=lambda grant: grant.window.start, reverse=True)
    windows = []
    for grant in grants[:WINDOWS_SHOWN]:
        sharing_ended = grant.window.end < view.now
        windows.append(
            {
                "start": grant.window.start,
                "end": grant.window.end,
                "ongoing": not sharing_ended,
                "packs": [label for pack, label in DataPack.choices if pack in grant.packs],
            }
        )
    return windows, len(grants) - len(windows)


def _upcoming(view: MachineView):
    grants = sharing_facts().upcoming_grants(organisation=view.organisation, machine_id=view.machine.pk, now=view.now)
    return [
        {
            "start": grant.window.start,
            "end": grant.window.end,
            "packs": [label for pack, label in DataPack.choices if pack in grant.packs],
        }
        for grant in grants
    ]


def _history(view: MachineView):
    """The owner's audit trail of its machine, newest first and capped (the second value says whether there is more),
    with workspace ids resolved to names in one query (a workspace deleted since shows as such). Nothing for a
    beneficiary."""
    events = list(machine_audit_events(organisation=view.organisation, machine=view.machine)[: HISTORY_SHOWN + 1])
    return audit_timeline(events[:HISTORY_SHOWN], organisation=view.organisation), len(events) > HISTORY_SHOWN


@organisation_page
@require_GET
def machine_detail(request, machine_id):
    view = MachineView(request, machine_id)
    period, period_form = view.period(request.GET)
    shared = view.shared_packs
    faults = []
    if DataPack.FAULT_CODES in shared:
        faults = list(
            machine_fault_codes(
                organisation=view.organisation,
                machine=view.machine,
                period=period,
                now=view.now,
                scope=view.scope,
            )[: FAULTS_SHOWN + 1]
        )
    history, more_history = _history(view) if view.owned else ([], False)
    packs, last_received = _latest_values(view)
    received_name = None
    if not view.owned:
        received_name = (
            received_machines_of(view.organisation).filter(machine=view.machine).values_list("name", flat=True).first()
        )
    # A received machine whose sharing has not started: when it will, and what it will show; nothing to pick or export.
    upcoming = _upcoming(view) if not view.owned and not view.grants else []
    windows, earlier_windows = _windows(view)
    context = {
        "nav": "fleet",
        "upcoming": upcoming,
        "machine": view.machine,
        "owned": view.owned,
        "name": received_name or f"{view.machine.make} {view.machine.model}",
        "grants": view.grants,
        "windows": windows,
        "earlier_windows": earlier_windows,
        "faults_shared": DataPack.FAULT_CODES in shared,
        "unshared_packs": [label for pack, label in DataPack.choices if pack not in shared],
        "period": period,
        "period_form": period_form,
        "packs": packs,
        "origins": data_origins(organisation=view.organisation, machine=view.machine) if view.owned else [],
        "last_received": last_received if view.owned else None,
        "charts": _charts(view, period),
        "track": _track(view, period),
        "faults": faults[:FAULTS_SHOWN],
        "more_faults": len(faults) > FAULTS_SHOWN,
        "timeline": _sharing_timeline(view) if view.owned else None,
        "history": history,
        "more_history": more_history,
        "history_limit": HISTORY_SHOWN,
        "export_query": f"first={period.first.isoformat()}&last={period.last.isoformat()}",
    }
    return render(request, "fleet/machine_detail.html", context)


@organisation_page
@require_GET
def machine_readings_export(request, machine_id):
    """Everything visible of the period as one CSV, streamed, in time order (fleet.exports lays it out), in the
    organisation's zone. Three queries, each read through the page's access scope."""
    view = MachineView(request, machine_id)
    period, form = view.period(request.GET)
    if form.is_bound and not form.is_valid():
        return pages.form_refused(form)
    read = {
        "organisation": view.organisation,
        "machine": view.machine,
        "period": period,
        "now": view.now,
        "scope": view.scope,
    }
    lines = exports.machine_period_lines(
        readings=machine_readings_in_period(**read),
        positions=machine_positions_in_period(**read),
        faults=machine_fault_codes_in_period(**read),
        tz=view.tz,
    )
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{exports.machine_period_filename(view.machine, period)}"'
    return response
