"""Sharings on a time axis, built one way for both places that draw them: the share centre's timeline (a row per
machine, a bar per sharing of it) and a machine page's (a row per sharing of that machine). Each bar is coloured by
the status its dates give at `now` (never a stored status), labelled with the reference first, then the other side,
and links to the sharing; today is marked. The share centre's shows a period (the date filters', by default three
months either side of today, or a calendar month or quarter when zoomed) and pages through the machines; a machine
page's spans that machine's sharings.

The share centre's plot fills its panel: its SVG has no viewBox, its horizontal positions are percentages of its width
and its heights are pixels, so text keeps its size on a phone (the plot is then wider than the screen and scrolls,
the machines' column staying in place: the template draws that column in HTML, one TIMELINE_ROW-pixel line a
machine, app.css gives the same heights)."""

import datetime as dt
import functools
from dataclasses import dataclass, field
from html import escape  # Django's escape, without its lazy-string wrapper: hundreds of calls a page

from django.db.models import TextChoices
from django.urls import reverse
from django.utils import formats
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fleet import charts
from hiboo_connect.moments import Moments

from . import selectors
from .lifecycle import SharingStatus

#: The share centre draws this many machines (one row each) per page, as many as a page of its list has sharings:
#: 25 rows of TIMELINE_ROW pixels fit a laptop's screen, and a page's cost follows what it draws (up to 250 bars).
TIMELINE_MACHINES_PER_PAGE = 25
#: ... and at most this many bars per machine, its most recent sharings; it says so when a machine has more.
TIMELINE_MAX_SHARINGS = 10
#: Without date filters, the share centre's timeline shows this far either side of today.
DEFAULT_REACH = dt.timedelta(days=91)
#: A machine page's axis reaches at least this far either side of today; an open-ended bar is drawn this far past today.
AXIS_MARGIN, OPEN_END = dt.timedelta(days=30), dt.timedelta(days=60)
#: ... and at most this far: a longer bar (a far-future end) is clipped at the edge, its tooltip has the dates.
AXIS_REACH = dt.timedelta(days=10 * 366)

#: The share centre's plot, in pixels: its narrowest width (a phone scrolls sideways to see it all), a row's height
#: (app.css: .timeline-machine), the axis above the rows (.timeline-machines-head) and the line under them for "Today".
PLOT_MIN_WIDTH, TIMELINE_ROW, PLOT_AXIS, PLOT_FOOT = 720, 30, 28, 18
#: A bar is never drawn narrower than this, and one narrower than LABEL_ROOM at the plot's narrowest has its label
#: beside it rather than inside.
MIN_BAR, LABEL_ROOM = 10, 96


class Zoom(TextChoices):
    """What the share centre's timeline shows at once (the `zoom` query parameter); without one, the date filters'
    period or six months around today."""

    MONTH = "month", gettext_lazy("Month")
    QUARTER = "quarter", gettext_lazy("Quarter")

    @classmethod
    def of(cls, value) -> "Zoom | None":
        """The zoom a query parameter asks for; anything else is none (the default), never an error."""
        return cls(value) if value in cls.values else None


def _month_start(day: dt.date, months: int = 0) -> dt.date:
    """The first day of `day`'s month, moved by `months`."""
    years, month = divmod(day.month - 1 + months, 12)
    return dt.date(day.year + years, month + 1, 1)


def _other_side(sharing, *, incoming: bool) -> str:
    """Who is on the other side of the sharing, for the viewer: the owner of what it receives; the beneficiary of
    what it shares (before the recipient has an account: the organisation name typed, else the e-mail)."""
    if incoming:
        return sharing.owner.name
    who = sharing.beneficiary.name if sharing.beneficiary else sharing.recipient_organisation_name
    return who or sharing.recipient_email


class _Bars:
    """The bars of one drawing: each sharing's status at `now`, its label for the viewer and its link. A page
    draws hundreds, so the link is Django's reverse() once, with the sharing's id put in its place, and the status
    labels are translated once."""

    _PLACEHOLDER = "00000000-0000-0000-0000-000000000000"

    def __init__(self, *, now: dt.datetime, incoming: bool):
        self.now, self.incoming = now, incoming
        self._url = reverse("sharing:detail", args=[self._PLACEHOLDER])
        self._status_labels: dict[str, str] = {}

    def __call__(self, sharing) -> charts.TimelineBar:
        status = sharing.status_at(self.now)
        if (status_label := self._status_labels.get(status)) is None:
            status_label = self._status_labels[status] = str(SharingStatus(status).label)
        window = sharing.window
        who = _other_side(sharing, incoming=self.incoming)
        return charts.TimelineBar(
            start=window.start,
            end=window.end,
            status=status,
            status_label=status_label,
            label=f"{sharing.reference} · {who}" if sharing.reference else who,
            url=self._url.replace(self._PLACEHOLDER, str(sharing.pk)),
        )


def _chart(*, chart_id: str, title: str, rows: list[charts.TimelineRow], now: dt.datetime, tz: dt.tzinfo):
    bars = [bar for row in rows for bar in row.bars]
    start = min(min(bar.start for bar in bars), now - AXIS_MARGIN)
    end = max(max(bar.end or now + OPEN_END for bar in bars), now + AXIS_MARGIN)
    start, end = max(start, now - AXIS_REACH), min(end, now + AXIS_REACH)
    start, end = start - (end - start) * 0.02, end + (end - start) * 0.02
    return charts.timeline_chart(chart_id=chart_id, title=title, rows=rows, start=start, end=end, now=now, tz=tz)


@dataclass(frozen=True)
class TimelinePeriod:
    """The days a share-centre timeline shows, first and last included, and the periods before and after it. Zoomed,
    it is a calendar month or quarter, and so are the periods before and after it."""

    first: dt.date
    last: dt.date
    zoom: Zoom | None = None

    @classmethod
    def of_filters(
        cls, *, date_from: dt.date | None, date_to: dt.date | None, today: dt.date, zoom: Zoom | None = None
    ) -> "TimelinePeriod":
        """The date filters' period; one date alone reaches twice DEFAULT_REACH from it; none, DEFAULT_REACH either
        side of today. A `to` before the `from` (the list then shows nothing) gives the `from` day alone. Zoomed: the
        month or quarter of the `from` day (else of the `to` day, else of today)."""
        if zoom:
            return cls.of_zoom(zoom, date_from or date_to or today)
        span = 2 * DEFAULT_REACH
        if date_from and date_to:
            return cls(date_from, max(date_to, date_from))
        if date_from:
            return cls(date_from, date_from + span)
        if date_to:
            return cls(date_to - span, date_to)
        return cls(today - DEFAULT_REACH, today + DEFAULT_REACH)

    @classmethod
    def of_zoom(cls, zoom: Zoom, day: dt.date) -> "TimelinePeriod":
        """The calendar month, or quarter, of `day`."""
        if zoom == Zoom.QUARTER:
            first = dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
            return cls(first, _month_start(first, 3) - dt.timedelta(days=1), zoom)
        first = _month_start(day)
        return cls(first, _month_start(first, 1) - dt.timedelta(days=1), zoom)

    def earlier(self) -> "TimelinePeriod":
        if self.zoom:
            return self.of_zoom(self.zoom, self.first - dt.timedelta(days=1))
        length = self.last - self.first + dt.timedelta(days=1)
        return TimelinePeriod(self.first - length, self.first - dt.timedelta(days=1))

    def later(self) -> "TimelinePeriod":
        if self.zoom:
            return self.of_zoom(self.zoom, self.last + dt.timedelta(days=1))
        length = self.last - self.first + dt.timedelta(days=1)
        return TimelinePeriod(self.last + dt.timedelta(days=1), self.last + length)

    def contains(self, day: dt.date) -> bool:
        return self.first <= day <= self.last

    def bounds(self, tz: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
        """From the first moment of the first day to the first moment after the last, in the time zone."""
        start = dt.datetime.combine(self.first, dt.time.min, tzinfo=tz)
        end = dt.datetime.combine(self.last + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
        return start, end


def share_centre_timeline(
    *, organisation, sharings, incoming: bool, period: TimelinePeriod, page: int, now: dt.datetime, tz: dt.tzinfo
) -> dict | None:
    """The filtered sharings of the period, machine by machine, one page of TIMELINE_MACHINES_PER_PAGE machines (page
    numbers from 1), each with at most TIMELINE_MAX_SHARINGS bars, with what the page says about them; None when the
    page has nothing to draw. Three queries, whatever the organisation's history."""
    start, end = period.bounds(tz)
    machines, more = selectors.sharings_by_machine(
        organisation=organisation,
        sharings=sharings,
        incoming=incoming,
        period_start=start,
        period_end=end,
        offset=(page - 1) * TIMELINE_MACHINES_PER_PAGE,
        limit=TIMELINE_MACHINES_PER_PAGE,
        max_sharings=TIMELINE_MAX_SHARINGS,
    )
    if not machines:
        return None
    bar = _Bars(now=now, incoming=incoming)
    rows = [
        charts.TimelineRow(label=f"{machine.name}", bars=[bar(sharing) for sharing in machine.sharings])
        for machine in machines
    ]
    first = (page - 1) * TIMELINE_MACHINES_PER_PAGE + 1
    moments = Moments(tz)
    return {
        "svg": _plot(rows, start=start, end=end, now=now, tz=tz, zoom=period.zoom, moments=moments),
        "labels": [row.label for row in rows],
        "table": _table(rows, moments),
        "machines": len(rows),
        "first": first,
        "last": first + len(rows) - 1,
        "page": page,
        "previous_page": page - 1 if page > 1 else None,
        "next_page": page + 1 if more else None,
        "period": period,
        "earlier": period.earlier(),
        "later": period.later(),
        "machines_with_more_bars": sum(1 for machine in machines if machine.left_out),
        "bar_limit": TIMELINE_MAX_SHARINGS,
    }


def _table(rows: list[charts.TimelineRow], moments: Moments) -> SafeString:
    """The lines of the table that says the same as the plot (for screen readers, and on demand), a line per bar,
    machine by machine, each machine's by start. Written here rather than by the template: a page holds up to 250 of
    them, and the template language costs about a millisecond a line."""
    machine, sharing, status = escape(_("Machine")), escape(_("Sharing")), escape(_("Status"))
    start, end = escape(_("Start")), escape(_("End"))
    open_ended = escape(_("open-ended"))

    lines = []
    for row in rows:
        label = escape(row.label)
        for bar in sorted(row.bars, key=lambda bar: bar.start):
            last = moments.html(bar.end) if bar.end else f'<span class="muted">{open_ended}</span>'
            lines.append(
                f'<tr><td data-label="{machine}">{label}</td>'
                f'<td class="cell-main" data-label="{sharing}"><a class="row-title" href="{escape(bar.url)}">'
                f"{escape(bar.label)}</a></td>"
                f'<td data-label="{status}"><span class="badge badge-{escape(bar.status)}">'
                f"{escape(bar.status_label)}</span></td>"
                f'<td data-label="{start}">{moments.html(bar.start)}</td><td data-label="{end}">{last}</td></tr>'
            )
    return mark_safe("".join(lines))


@dataclass
class _Plot:
    """Where things go on the share centre's plot: x as a percentage of its width, from `start` to `end`."""

    start: dt.datetime
    end: dt.datetime
    body: list[str] = field(default_factory=list)

    def x(self, moment: dt.datetime) -> float:
        span = (self.end - self.start).total_seconds()
        return min(max((moment - self.start).total_seconds() / span, 0.0), 1.0) * 100


def _ticks(start: dt.datetime, end: dt.datetime, tz: dt.tzinfo, zoom: Zoom | None) -> list[tuple[dt.datetime, str]]:
    """The axis's marks: each Monday for a month (its day), each month's first day otherwise (the month)."""
    day = start.astimezone(tz).date()
    marks = []
    if zoom == Zoom.MONTH:
        day += dt.timedelta(days=-day.weekday() % 7)
        step, style = dt.timedelta(days=7), "MONTH_DAY_FORMAT"
    else:
        day = day if day.day == 1 else _month_start(day, 1)
        step, style = None, "YEAR_MONTH_FORMAT"
    while (moment := dt.datetime.combine(day, dt.time.min, tzinfo=tz)) < end:
        marks.append((moment, formats.date_format(day, style)))
        day = day + step if step else _month_start(day, 1)
    return marks


def _plot(
    rows: list[charts.TimelineRow], *, start: dt.datetime, end: dt.datetime, now: dt.datetime, tz, zoom, moments
) -> SafeString:
    """The share centre's bars as an SVG the width of its box (module docstring): a row per machine, a bar per sharing
    linking to it, named by its machine, reference, other side, status and dates; today marked."""
    plot = _Plot(start, end)
    height = PLOT_AXIS + TIMELINE_ROW * len(rows) + PLOT_FOOT
    body = plot.body
    for index in range(1, len(rows), 2):  # every other row on a light band, like the machines' column
        top = PLOT_AXIS + index * TIMELINE_ROW
        body.append(f'<rect class="timeline-band" x="0" y="{top}" width="100%" height="{TIMELINE_ROW}"/>')
    body.append('<g class="chart-x">')
    for moment, label in _ticks(start, end, tz, zoom):
        x = plot.x(moment)
        body.append(
            f'<line class="timeline-tick" x1="{x:.3f}%" x2="{x:.3f}%" y1="{PLOT_AXIS - 6}" y2="{height - PLOT_FOOT}"/>'
        )
        if x < 94:  # a label at the very edge would be cut off
            body.append(f'<text class="timeline-month" x="{x:.3f}%" dx="4" y="{PLOT_AXIS - 10}">{escape(label)}</text>')
    body.append("</g>")
    room = PLOT_MIN_WIDTH / 100  # pixels per percent at the plot's narrowest
    day = functools.partial(moments.format, style="DATE_FORMAT")  # each bar's dates in its tooltip, formatted once
    for index, row in enumerate(rows):
        top = PLOT_AXIS + index * TIMELINE_ROW
        body.append('<g class="timeline-row">')
        bars = sorted(
            (bar for bar in row.bars if not ((bar.end is not None and bar.end <= start) or bar.start >= end)),
            key=lambda bar: bar.start,
        )
        for position, bar in enumerate(bars):
            x0, x1 = plot.x(bar.start), plot.x(bar.end or end)
            width = x1 - x0
            tooltip = f"{bar.label} · {bar.status_label} · {charts.period_label(bar, tz, day=day)}"
            name = f"{row.label} — {tooltip}"
            bar_top, bar_height = top + 5, TIMELINE_ROW - 10
            drawn_width = f"{width:.3f}%" if width * room >= MIN_BAR else str(MIN_BAR)
            shape = (
                f'<rect class="timeline-bar timeline-{escape(bar.status)}" x="{x0:.3f}%" y="{bar_top}" '
                f'width="{drawn_width}" height="{bar_height}" rx="3"><title>{escape(tooltip)}</title></rect>'
            )
            if width * room >= LABEL_ROOM:
                # Inside the bar, cut at its end whatever the plot's width.
                shape += (
                    f'<svg x="{x0:.3f}%" y="{bar_top}" width="{width:.3f}%" height="{bar_height}" overflow="hidden">'
                    f'<text class="timeline-bar-label" x="5" y="{bar_height / 2 + 4:.0f}">{escape(bar.label)}</text>'
                    "</svg>"
                )
            else:
                # A short sharing: its label beside it, up to the next bar of the row (or the plot's end).
                following = plot.x(bars[position + 1].start) if position + 1 < len(bars) else 100.0
                widened = max(MIN_BAR - width * room, 0)  # what the bar was drawn past its end
                shape += (
                    f'<svg x="{x1:.3f}%" y="{bar_top}" width="{max(following - x1, 0):.3f}%" height="{bar_height}" '
                    f'overflow="hidden"><text class="timeline-bar-label timeline-bar-label-out" '
                    f'x="{widened + 4:.0f}" y="{bar_height / 2 + 4:.0f}">{escape(bar.label)}</text></svg>'
                )
            body.append(f'<a href="{escape(bar.url)}" aria-label="{escape(name)}">{shape}</a>')
        body.append("</g>")
    if start <= now <= end:
        x = plot.x(now)
        body.append(
            f'<g class="timeline-today"><line x1="{x:.3f}%" x2="{x:.3f}%" y1="{PLOT_AXIS - 6}" '
            f'y2="{height - PLOT_FOOT + 4}"/><text x="{x:.3f}%" y="{height - 4}">{escape(_("Today"))}</text></g>'
        )
    title = _("Sharings machine by machine")
    description = _("%(count)s rows from %(start)s to %(end)s.") % {
        "count": len(rows),
        "start": formats.date_format(start.astimezone(tz), "DATE_FORMAT"),
        "end": formats.date_format((end - dt.timedelta(seconds=1)).astimezone(tz), "DATE_FORMAT"),
    }
    chart_id = "share-centre-timeline"
    # Its bars link to their sharings: a group of links, not a picture (a picture's content is hidden from screen
    # readers, its links included).
    return mark_safe(
        f'<svg class="timeline-plot sharing-timeline" width="100%" height="{height}" role="group" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" id="{chart_id}" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-title">{escape(title)}</title><desc id="{chart_id}-desc">{escape(description)}</desc>'
        + "".join(body)
        + "</svg>"
    )


def machine_timeline(*, organisation, machine, now: dt.datetime, tz: dt.tzinfo):
    """The owner's sharings of one of its machines, one row each, oldest first; None when it has none. One query."""
    sharings = list(
        selectors.sharings_outgoing(organisation)
        .filter(sharing_machines__machine=machine)
        .select_related("beneficiary")
        .order_by("start_at", "created_at")
    )
    if not sharings:
        return None
    bar = _Bars(now=now, incoming=False)
    bars = [bar(sharing) for sharing in sharings]
    rows = [charts.TimelineRow(label=bar.label, bars=[bar]) for bar in bars]
    return _chart(chart_id="sharing-timeline", title=_("Sharings of this machine"), rows=rows, now=now, tz=tz)


def sharings_timeline(*, sharings, row_label, chart_id: str, title: str, now: dt.datetime, tz: dt.tzinfo):
    """An owner's sharings one row each, in the order given, each row labelled by `row_label(sharing)` (a contract's
    page labels them by machine); None without sharings. Reads nothing: the caller has loaded the sharings."""
    if not sharings:
        return None
    bar = _Bars(now=now, incoming=False)
    rows = [charts.TimelineRow(label=row_label(sharing), bars=[bar(sharing)]) for sharing in sharings]
    return _chart(chart_id=chart_id, title=title, rows=rows, now=now, tz=tz)
