"""Pure maths behind the machine page: the days of a period in a time zone, daily increments of cumulative counters,
and the parts of a period a beneficiary was not given (drawn as "not shared"). No database here: selectors feed it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from .access import Window


@dataclass(frozen=True)
class DayStats:
    """The visible readings of one metric on one local day: lowest, highest and mean value."""

    low: float
    high: float
    mean: float


@dataclass(frozen=True)
class Period:
    """Whole local days, first to last inclusive, in a time zone."""

    first: dt.date
    last: dt.date
    tz: ZoneInfo

    @property
    def days(self) -> list[dt.date]:
        return [self.first + dt.timedelta(days=offset) for offset in range((self.last - self.first).days + 1)]

    @property
    def start(self) -> dt.datetime:
        return local_midnight(self.first, self.tz)

    @property
    def end(self) -> dt.datetime:
        return local_midnight(self.last + dt.timedelta(days=1), self.tz)

    def position(self, moment: dt.datetime) -> float:
        """Where `moment` falls, in days from the period's start (a local day counts as one, DST or not)."""
        if moment <= self.start:
            return 0.0
        if moment >= self.end:
            return float(len(self.days))
        day = moment.astimezone(self.tz).date()
        midnight, next_midnight = local_midnight(day, self.tz), local_midnight(day + dt.timedelta(days=1), self.tz)
        return (day - self.first).days + (moment - midnight) / (next_midnight - midnight)


def local_midnight(day: dt.date, tz: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=tz).astimezone(dt.UTC)


def daily_increments(stats: dict[dt.date, DayStats], days: list[dt.date]) -> dict[dt.date, float | None]:
    """How much a cumulative counter grew each day: the day's highest value minus the previous day's (when that day has
    readings), else minus the day's lowest. None for a day without readings; never negative (a counter reset)."""
    increments: dict[dt.date, float | None] = {}
    for day in days:
        today = stats.get(day)
        if today is None:
            increments[day] = None
            continue
        yesterday = stats.get(day - dt.timedelta(days=1))
        base = yesterday.high if yesterday is not None else today.low
        increments[day] = max(today.high - base, 0.0)
    return increments


def merge_windows(windows: list[Window]) -> list[Window]:
    """The union of windows as disjoint, ordered windows (an open end swallows everything after it)."""
    merged: list[Window] = []
    for window in sorted(windows, key=lambda window: window.start):
        if merged and (merged[-1].end is None or window.start <= merged[-1].end):
            last = merged[-1]
            end = None if last.end is None or window.end is None else max(last.end, window.end)
            merged[-1] = Window(last.start, end)
        else:
            merged.append(window)
    return merged


def unshared_intervals(start: dt.datetime, end: dt.datetime, windows: list[Window]) -> list[Window]:
    """The parts of [start, end) outside every window, in order."""
    gaps: list[Window] = []
    cursor = start
    for window in merge_windows(windows):
        if window.end is not None and window.end <= cursor:
            continue
        if window.start >= end:
            break
        if window.start > cursor:
            gaps.append(Window(cursor, window.start))
        if window.end is None:
            return gaps
        cursor = max(cursor, window.end)
    if cursor < end:
        gaps.append(Window(cursor, end))
    return gaps
