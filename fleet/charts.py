"""Charts drawn on the server as SVG strings: daily bars, a daily level with its range, and sharing timelines.

Pure functions of their series (no database, no request): the page embeds the SVG as is. Looks come from app.css
classes (the CSP forbids inline styles); geometry and the hatching pattern are SVG attributes. Every chart has a
<title> and a <desc> for screen readers, and every bar a <title> giving its value."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.utils import formats
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from .access import Window
from .telemetry import DayStats, Period

WIDTH, HEIGHT = 480, 200
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 10, 24
PLOT_WIDTH, PLOT_HEIGHT = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM


def _number(value: float, decimals: int = 1) -> str:
    """A value rounded half away from zero, as people round (1.25 is 1.3; float's round() gave 1.2)."""
    rounded = Decimal(repr(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return formats.number_format(rounded, decimal_pos=decimals if rounded % 1 else 0)


def _tick(value: float) -> str:
    """A y-axis label, exact: the axis is cut in quarters, so the ticks of 5 are 1.25 and 3.75 (never "1.2")."""
    exact = Decimal(repr(round(value, 4))).normalize()
    decimals = max(-int(exact.as_tuple().exponent), 0)
    return formats.number_format(round(exact, decimals), decimal_pos=decimals)


def _day_label(day: dt.date) -> str:
    return formats.date_format(day, "MONTH_DAY_FORMAT")


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 × 10^n at or above `value` (a y axis that ends on a round number)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power + 1e-9:
            return step * power
    return 10 * power  # pragma: no cover - the loop always returns


def _frame(
    chart_id: str, title: str, description: str, body: list[str], extra_class: str = "", role: str = "img"
) -> SafeString:
    """The chart's <svg>: a picture (role "img": its title and description are all a screen reader needs), or a group
    (role "group") when it holds links, which must stay reachable and named inside it."""
    return mark_safe(
        f'<svg class="chart{extra_class}" viewBox="0 0 {WIDTH} {HEIGHT}" role="{role}" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" id="{chart_id}" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-title">{escape(title)}</title><desc id="{chart_id}-desc">{escape(description)}</desc>'
        f'<defs><pattern id="{chart_id}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        f'patternTransform="rotate(45)"><rect class="chart-hatch-ground" width="6" height="6"/>'
        f'<line class="chart-hatch-line" x1="0" y1="0" x2="0" y2="6"/></pattern></defs>' + "".join(body) + "</svg>"
    )


def _y_axis(maximum: float, unit: str) -> list[str]:
    parts = ['<g class="chart-grid">']
    for step in range(5):
        value = maximum * step / 4
        y = TOP + PLOT_HEIGHT - PLOT_HEIGHT * step / 4
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        label = f"{_tick(value)}{(' ' + unit) if unit and step == 4 else ''}"
        parts.append(f'<text class="chart-y-label" x="{LEFT - 4}" y="{y + 4:.1f}">{escape(label)}</text>')
    parts.append("</g>")
    return parts


def _x_axis(period: Period) -> list[str]:
    days = period.days
    every = max(1, math.ceil(len(days) / 6))
    parts = ['<g class="chart-x">']
    for index in range(0, len(days), every):
        x = LEFT + PLOT_WIDTH * (index + 0.5) / len(days)
        parts.append(
            f'<text class="chart-x-label" x="{x:.1f}" y="{HEIGHT - 6}">{escape(_day_label(days[index]))}</text>'
        )
    parts.append(f'<line class="chart-axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{TOP + PLOT_HEIGHT}" ')
    parts.append(f'y2="{TOP + PLOT_HEIGHT}"/></g>')
    return parts


def _unshared(chart_id: str, period: Period, intervals: list[Window]) -> list[str]:
    """Hatched bands over the parts of the period the viewer was not given, each labelled when wide enough."""
    if not intervals:
        return []
    parts = ['<g class="chart-unshared">']
    scale = PLOT_WIDTH / len(period.days)
    # Translated outside the f-strings: xgettext does not see calls inside them.
    not_shared = escape(_("Not shared"))
    for interval in intervals:
        x0 = LEFT + period.position(interval.start) * scale
        x1 = LEFT + period.position(interval.end or period.end) * scale
        if x1 - x0 < 0.5:
            continue
        parts.append(
            f'<rect x="{x0:.1f}" y="{TOP}" width="{x1 - x0:.1f}" height="{PLOT_HEIGHT}" fill="url(#{chart_id}-hatch)">'
            f"<title>{not_shared}</title></rect>"
        )
        if x1 - x0 >= 60:
            middle = (x0 + x1) / 2
            parts.append(f'<text class="chart-unshared-label" x="{middle:.1f}" y="{TOP + 16}">{not_shared}</text>')
    parts.append("</g>")
    return parts


def bar_chart(
    *,
    chart_id: str,
    title: str,
    unit: str,
    period: Period,
    values: dict[dt.date, float | None],
    unshared: Sequence[Window] = (),
) -> SafeString:
    """One bar per day (a day without readings has none); hatched bands where the data was not shared."""
    days = period.days
    shown = [value for value in values.values() if value is not None]
    maximum = nice_ceiling(max(shown, default=0.0))
    scale = PLOT_WIDTH / len(days)
    gap = min(2.0, scale * 0.2)
    body = _y_axis(maximum, unit) + _unshared(chart_id, period, list(unshared)) + ['<g class="chart-bars">']
    for index, day in enumerate(days):
        value = values.get(day)
        if value is None:
            continue
        height = PLOT_HEIGHT * value / maximum
        x = LEFT + index * scale + gap / 2
        body.append(
            f'<rect class="chart-bar" x="{x:.1f}" y="{TOP + PLOT_HEIGHT - height:.1f}" width="{scale - gap:.1f}" '
            f'height="{height:.1f}"><title>{escape(_day_label(day))}: {escape(_number(value))} {escape(unit)}</title>'
            "</rect>"
        )
    body.append("</g>")
    body += _x_axis(period)
    if shown:
        description = _("%(days)s days with data, highest %(highest)s %(unit)s, total %(total)s %(unit)s.") % {
            "days": len(shown),
            "highest": _number(max(shown)),
            "total": _number(sum(shown)),
            "unit": unit,
        }
    else:
        description = _("No data in this period.")
    return _frame(chart_id, title, description, body)


def level_chart(
    *,
    chart_id: str,
    title: str,
    unit: str,
    period: Period,
    stats: dict[dt.date, DayStats],
    maximum: float = 100.0,
    unshared: Sequence[Window] = (),
) -> SafeString:
    """The daily mean as a line over the band from the day's lowest to its highest reading."""
    days = period.days
    scale = PLOT_WIDTH / len(days)

    def y(value: float) -> float:
        return TOP + PLOT_HEIGHT - PLOT_HEIGHT * min(max(value, 0.0), maximum) / maximum

    body = _y_axis(maximum, unit) + _unshared(chart_id, period, list(unshared)) + ['<g class="chart-level">']
    # Consecutive days with data make one run: a missing day breaks the line rather than drawing through it.
    runs: list[list[tuple[float, DayStats, dt.date]]] = []
    for index, day in enumerate(days):
        if day not in stats:
            if runs and runs[-1]:
                runs.append([])
            continue
        if not runs:
            runs.append([])
        runs[-1].append((LEFT + (index + 0.5) * scale, stats[day], day))
    for run in filter(None, runs):
        upper = " ".join(f"{x:.1f},{y(day_stats.high):.1f}" for x, day_stats, _day in run)
        lower = " ".join(f"{x:.1f},{y(day_stats.low):.1f}" for x, day_stats, _day in reversed(run))
        body.append(f'<polygon class="chart-band" points="{upper} {lower}"/>')
        line = " ".join(f"{x:.1f},{y(day_stats.mean):.1f}" for x, day_stats, _day in run)
        body.append(f'<polyline class="chart-line" points="{line}"/>')
        for x, day_stats, day in run:
            label = _("%(day)s: mean %(mean)s %(unit)s (%(low)s–%(high)s)") % {
                "day": _day_label(day),
                "mean": _number(day_stats.mean),
                "low": _number(day_stats.low),
                "high": _number(day_stats.high),
                "unit": unit,
            }
            body.append(
                f'<circle class="chart-point" cx="{x:.1f}" cy="{y(day_stats.mean):.1f}" r="2">'
                f"<title>{escape(label)}</title></circle>"
            )
    body.append("</g>")
    body += _x_axis(period)
    if stats:
        description = _("%(days)s days with data, between %(low)s and %(high)s %(unit)s.") % {
            "days": len(stats),
            "low": _number(min(day_stats.low for day_stats in stats.values())),
            "high": _number(max(day_stats.high for day_stats in stats.values())),
            "unit": unit,
        }
    else:
        description = _("No data in this period.")
    return _frame(chart_id, title, description, body)


# --- sharing timelines -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineBar:
    start: dt.datetime
    end: dt.datetime | None  # None: open-ended
    status: str
    status_label: str
    label: str
    url: str = ""


@dataclass(frozen=True)
class TimelineRow:
    label: str
    bars: list[TimelineBar] = field(default_factory=list)


TIMELINE_LABEL_WIDTH, TIMELINE_ROW, TIMELINE_WIDTH, TIMELINE_AXIS = 170, 26, 960, 22


def timeline_chart(
    *, chart_id: str, title: str, rows: list[TimelineRow], start: dt.datetime, end: dt.datetime, now: dt.datetime, tz
) -> SafeString:
    """Rows of bars on a time axis from `start` to `end`: one bar per sharing, coloured by status (and named, so colour
    is never the only cue), today marked. Bars running past either edge are clipped."""
    plot_left, plot_width = TIMELINE_LABEL_WIDTH, TIMELINE_WIDTH - TIMELINE_LABEL_WIDTH - 8
    height = TIMELINE_AXIS + TIMELINE_ROW * max(len(rows), 1) + 6
    span = (end - start).total_seconds()

    def x(moment: dt.datetime) -> float:
        ratio = min(max((moment - start).total_seconds() / span, 0.0), 1.0)
        return plot_left + plot_width * ratio

    body = ['<g class="chart-x">']
    months = _month_starts(start, end, tz)
    every = max(1, math.ceil(len(months) / 8))
    for month in months[::every]:
        position = x(month)
        if position > TIMELINE_WIDTH - 70:
            continue  # its label would run off the edge
        body.append(f'<line class="timeline-tick" x1="{position:.1f}" x2="{position:.1f}" y1="{TIMELINE_AXIS - 4}" ')
        body.append(f'y2="{height - 6}"/>')
        body.append(
            f'<text class="timeline-month" x="{position + 3:.1f}" y="{TIMELINE_AXIS - 8}">'
            f"{escape(formats.date_format(month.astimezone(tz), 'YEAR_MONTH_FORMAT'))}</text>"
        )
    body.append("</g>")
    for index, row in enumerate(rows):
        top = TIMELINE_AXIS + index * TIMELINE_ROW
        body.append(
            f'<g class="timeline-row"><text class="timeline-label" x="4" y="{top + 17}">'
            f"{escape(_truncate(row.label, 24))}"
            f"<title>{escape(row.label)}</title></text>"
        )
        for bar in row.bars:
            x0, x1 = x(bar.start), x(bar.end or end)
            if (bar.end is not None and bar.end <= start) or bar.start >= end:
                continue
            tooltip = f"{bar.label} · {bar.status_label} · {period_label(bar, tz)}"
            shape = (
                f'<rect class="timeline-bar timeline-{escape(bar.status)}" x="{x0:.1f}" y="{top + 4}" '
                f'width="{max(x1 - x0, 2):.1f}" height="{TIMELINE_ROW - 8}" rx="3">'
                f"<title>{escape(tooltip)}</title></rect>"
            )
            if x1 - x0 > 50:
                shape += (
                    f'<text class="timeline-bar-label" x="{x0 + 4:.1f}" y="{top + 17}">'
                    f"{escape(_truncate(bar.label, int((x1 - x0 - 8) / 6)))}</text>"
                )
            link = f'<a href="{escape(bar.url)}" aria-label="{escape(tooltip)}">{shape}</a>'
            body.append(link if bar.url else shape)
        body.append("</g>")
    if start <= now <= end:
        today = x(now)
        today_label = escape(_("Today"))
        body.append(
            f'<g class="timeline-today"><line x1="{today:.1f}" x2="{today:.1f}" y1="{TIMELINE_AXIS - 4}" '
            f'y2="{height}"/><text x="{today:.1f}" y="{height + 11}">{today_label}</text></g>'
        )
    description = _("%(count)s rows from %(start)s to %(end)s.") % {
        "count": len(rows),
        "start": formats.date_format(start.astimezone(tz), "DATE_FORMAT"),
        "end": formats.date_format(end.astimezone(tz), "DATE_FORMAT"),
    }
    # Its bars link to their sharings: a group of links, not a picture (a picture's content is hidden from screen
    # readers, its links included).
    role = "group" if any(bar.url for row in rows for bar in row.bars) else "img"
    svg = _frame(chart_id, title, description, body, extra_class=" sharing-timeline", role=role)
    return mark_safe(svg.replace(f'viewBox="0 0 {WIDTH} {HEIGHT}"', f'viewBox="0 0 {TIMELINE_WIDTH} {height + 14}"', 1))


def _month_starts(start: dt.datetime, end: dt.datetime, tz) -> list[dt.datetime]:
    local = start.astimezone(tz)
    month = dt.datetime(local.year, local.month, 1, tzinfo=tz)
    months = []
    while month < end:
        if month >= start:
            months.append(month)
        month = dt.datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=tz)
    return months


def period_label(bar: TimelineBar, tz, *, day: Callable[[dt.datetime], str] | None = None) -> str:
    """A bar's dates: "first – last", or "from first, open-ended". `day` writes a moment's date (by default Django's
    DATE_FORMAT in `tz`; a page of hundreds of bars hands its formatted-once dates, hiboo_connect.moments)."""
    day = day or (lambda moment: formats.date_format(moment.astimezone(tz), "DATE_FORMAT"))
    first = day(bar.start)
    if bar.end is None:
        return _("from %(start)s, open-ended") % {"start": first}
    return f"{first} – {day(bar.end)}"


def _truncate(text: str, length: int) -> str:
    return text if len(text) <= length else text[: max(length - 1, 1)] + "…"
