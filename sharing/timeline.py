"""Sharings on a time axis, built one way for both places that draw them: the share centre's timeline (a row per
machine, a bar per sharing of it) and a machine page's (a row per sharing of that machine). Each bar is coloured by
the status its dates give at `now` (never a stored status), labelled with the other side and the reference, and links
to the sharing; today is marked. The share centre's shows a period (the date filters', by default three months
either side of today) and pages through the machines; a machine page's spans that machine's sharings."""

import datetime as dt
from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext as _

from fleet import charts

from . import selectors
from .lifecycle import SharingStatus

#: The share centre draws this many machines (one row each) per page.
TIMELINE_MACHINES_PER_PAGE = 50
#: ... and at most this many bars per machine, its most recent sharings; it says so when a machine has more.
TIMELINE_MAX_SHARINGS = 50
#: Without date filters, the share centre's timeline shows this far either side of today.
DEFAULT_REACH = dt.timedelta(days=91)
#: A machine page's axis reaches at least this far either side of today; an open-ended bar is drawn this far past today.
AXIS_MARGIN, OPEN_END = dt.timedelta(days=30), dt.timedelta(days=60)
#: ... and at most this far: a longer bar (a far-future end) is clipped at the edge, its tooltip has the dates.
AXIS_REACH = dt.timedelta(days=10 * 366)


def _other_side(sharing, *, incoming: bool) -> str:
    """Who is on the other side of the sharing, for the viewer: the owner of what it receives; the beneficiary of
    what it shares (before the recipient has an account: the organisation name typed, else the e-mail)."""
    if incoming:
        return sharing.owner.name
    who = sharing.beneficiary.name if sharing.beneficiary else sharing.recipient_organisation_name
    return who or sharing.recipient_email


def _bar(sharing, *, now: dt.datetime, incoming: bool) -> charts.TimelineBar:
    status = sharing.status_at(now)
    window = sharing.window
    who = _other_side(sharing, incoming=incoming)
    return charts.TimelineBar(
        start=window.start,
        end=window.end,
        status=status,
        status_label=str(SharingStatus(status).label),
        label=f"{who} · {sharing.reference}" if sharing.reference else who,
        url=reverse("sharing:detail", args=[sharing.pk]),
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
    """The days a share-centre timeline shows, first and last included, and the periods before and after it."""

    first: dt.date
    last: dt.date

    @classmethod
    def of_filters(cls, *, date_from: dt.date | None, date_to: dt.date | None, today: dt.date) -> "TimelinePeriod":
        """The date filters' period; one date alone reaches twice DEFAULT_REACH from it; none, DEFAULT_REACH either
        side of today. A `to` before the `from` (the list then shows nothing) gives the `from` day alone."""
        span = 2 * DEFAULT_REACH
        if date_from and date_to:
            return cls(date_from, max(date_to, date_from))
        if date_from:
            return cls(date_from, date_from + span)
        if date_to:
            return cls(date_to - span, date_to)
        return cls(today - DEFAULT_REACH, today + DEFAULT_REACH)

    def earlier(self) -> "TimelinePeriod":
        length = self.last - self.first + dt.timedelta(days=1)
        return TimelinePeriod(self.first - length, self.first - dt.timedelta(days=1))

    def later(self) -> "TimelinePeriod":
        length = self.last - self.first + dt.timedelta(days=1)
        return TimelinePeriod(self.last + dt.timedelta(days=1), self.last + length)

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
    rows = [
        charts.TimelineRow(
            label=f"{machine.name}",
            bars=[_bar(sharing, now=now, incoming=incoming) for sharing in machine.sharings],
        )
        for machine in machines
    ]
    svg = charts.timeline_chart(
        chart_id="share-centre-timeline",
        title=_("Sharings machine by machine"),
        rows=rows,
        start=start,
        end=end,
        now=now,
        tz=tz,
    )
    first = (page - 1) * TIMELINE_MACHINES_PER_PAGE + 1
    return {
        "svg": svg,
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
    bars = [_bar(sharing, now=now, incoming=False) for sharing in sharings]
    rows = [charts.TimelineRow(label=bar.label, bars=[bar]) for bar in bars]
    return _chart(chart_id="sharing-timeline", title=_("Sharings of this machine"), rows=rows, now=now, tz=tz)


def sharings_timeline(*, sharings, row_label, chart_id: str, title: str, now: dt.datetime, tz: dt.tzinfo):
    """An owner's sharings one row each, in the order given, each row labelled by `row_label(sharing)` (a contract's
    page labels them by machine); None without sharings. Reads nothing: the caller has loaded the sharings."""
    if not sharings:
        return None
    rows = [
        charts.TimelineRow(label=row_label(sharing), bars=[_bar(sharing, now=now, incoming=False)])
        for sharing in sharings
    ]
    return _chart(chart_id=chart_id, title=title, rows=rows, now=now, tz=tz)
