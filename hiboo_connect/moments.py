"""Dates and times of day as the portal writes them (Django's DATE_FORMAT and TIME_FORMAT of the active language, in a
time zone), for pages that write hundreds: the share centre's list and timeline. Each day and time of day is
formatted once per language and process; the template filter `date` gives the same text."""

import datetime as dt
from html import escape

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils import formats
from django.utils.translation import get_language

#: The characters of a time format that read nothing finer than the minute: hours, minutes, a.m./p.m., punctuation.
_CLOCK_FORMAT = set("aAfgGhHiP :.-")
#: Formatted days and times of day, by language, kept across requests (a page formats hundreds; the same recur from
#: page to page), emptied when it holds _FORMATTED_MAX or when a format setting changes (as Django's format cache).
_FORMATTED: dict[tuple, str] = {}
_FORMATTED_MAX = 20_000


@receiver(setting_changed)
def _forget_formats(**kwargs):
    _FORMATTED.clear()


class Moments:
    """Dates and times in the viewer's time zone and language, each day and time of day formatted once (Django's date
    formatting costs tens of microseconds a call, and a page shows hundreds)."""

    def __init__(self, tz: dt.tzinfo):
        self.tz = tz
        self.language = get_language()
        # What the time format reads: the hour and minute alone for the usual ones (English "P", French "H:i"), else
        # the whole time and the zone's offset (a format with seconds or the zone's name).
        self.clock = set(formats.get_format("TIME_FORMAT")) <= _CLOCK_FORMAT

    def format(self, moment: dt.datetime, style: str) -> str:
        local = moment.astimezone(self.tz)
        if style == "DATE_FORMAT":
            key: tuple = (self.language, style, local.date())
        elif style == "TIME_FORMAT" and self.clock:
            key = (self.language, style, local.hour, local.minute)
        else:
            key = (self.language, style, local.time(), local.utcoffset(), local.tzname())
        if (text := _FORMATTED.get(key)) is None:
            if len(_FORMATTED) >= _FORMATTED_MAX:
                _FORMATTED.clear()
            text = _FORMATTED[key] = formats.date_format(local, style)
        return text

    def html(self, moment: dt.datetime) -> str:
        """The date, then the time of day muted, as the share centre's list and timeline table show a moment."""
        return (
            f'<span class="nowrap">{escape(self.format(moment, "DATE_FORMAT"))}</span> '
            f'<span class="muted nowrap">{escape(self.format(moment, "TIME_FORMAT"))}</span>'
        )
