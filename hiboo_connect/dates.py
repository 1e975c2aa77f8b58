"""The range of dates the product accepts and the range it can show.

DESIGN §3: no date a user gives (a sharing's start or end, a date typed in a filter) lies after 31 December 2099.
Dates stored before that rule, or written past the services, must still never break a page, an export or an e-mail:
Python cannot hold a moment beyond the year 9999 once shifted into a time zone east of UTC (or before the year 1 west
of it), so what is read back is kept a day inside those limits."""

import datetime as dt
import functools

from django.core.exceptions import ValidationError
from django.db import DatabaseError, NotSupportedError, connection, connections, models, transaction
from django.utils.translation import gettext_lazy as _

#: The last day a user may give, in the time zone they give it in.
LAST_DAY = dt.date(2099, 12, 31)
#: The first day a user may type where a day is asked (a filter, a machine page's period): nothing the product holds
#: is older, and a day this far from the limits can be shifted into any time zone.
FIRST_DAY = dt.date(1900, 1, 1)

#: Every instant between these two can be shown in any time zone (offsets stay within a day).
EARLIEST_SHOWN = dt.datetime(1, 1, 2, tzinfo=dt.UTC)
LATEST_SHOWN = dt.datetime(9999, 12, 30, 23, 59, 59, tzinfo=dt.UTC)
#: From this instant every time zone's offset is whole minutes: the last with seconds, Liberia's -0:44:30, ended in
#: 1972 (the time zone database); earlier, local mean times and a few standard times had seconds.
WHOLE_MINUTE_OFFSETS = dt.datetime(1980, 1, 1, tzinfo=dt.UTC)


def after_last_day(moment: dt.datetime | dt.date) -> bool:
    """The date lies after 31 December 2099, read where it was given (an aware datetime's own time zone)."""
    day = moment.date() if isinstance(moment, dt.datetime) else moment
    return day > LAST_DAY


def validate_day(value: dt.date) -> None:
    """For form fields where a day is typed: between 1 January 1900 and 31 December 2099."""
    day = value.date() if isinstance(value, dt.datetime) else value
    if day > LAST_DAY:
        raise ValidationError(_("Give a date no later than 31 December 2099."), code="after_last_day")
    if day < FIRST_DAY:
        raise ValidationError(_("Give a date no earlier than 1 January 1900."), code="before_first_day")


def showable(moment: dt.datetime | None) -> dt.datetime | None:
    """The instant, pulled inside the range every time zone can show; None stays None."""
    if moment is None or timezone_naive(moment):
        return moment
    if moment > LATEST_SHOWN:
        return LATEST_SHOWN
    if moment < EARLIEST_SHOWN:
        return EARLIEST_SHOWN
    return moment


def timezone_naive(moment: dt.datetime) -> bool:
    return moment.tzinfo is None or moment.utcoffset() is None


class ShowableDateTimeField(models.DateTimeField):
    """A DateTimeField whose values, read from the database, are always showable in every time zone (see showable).

    Only reading is touched: the column, its lookups and its migrations are those of a DateTimeField."""

    def from_db_value(self, value, expression, connection):
        return showable(value)

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.DateTimeField", args, kwargs


def local_minutes(moment: dt.datetime | None, tz: dt.tzinfo) -> str:
    """The moment in time zone `tz` to the minute, as ISO 8601 with its offset ("2026-07-01T02:00+02:00"); "" for
    None. What the exports write."""
    return moment.astimezone(tz).isoformat(timespec="minutes") if moment else ""


def database_knows_zone(zone: str) -> bool:
    """Whether LocalMinutes can write moments in the time zone `zone`: the database is PostgreSQL and its time zone
    data has that name (Python's may be newer). Asked once per zone and process."""
    return connection.vendor == "postgresql" and _postgresql_knows(connection.alias, zone)


@functools.cache
def _postgresql_knows(alias: str, zone: str) -> bool:
    try:
        with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
            cursor.execute("SELECT TIMESTAMPTZ '2000-01-01 00:00Z' AT TIME ZONE %s", [zone])
    except DatabaseError:
        return False
    return True


class LocalMinutes(models.Func):
    """local_minutes in SQL, after showable: the text of a moment in the time zone named `zone` (an IANA name, as
    zoneinfo.ZoneInfo.key), NULL for NULL. On PostgreSQL only (SQLite knows no time zones).

    An export formats tens of thousands of moments: here the database writes them, instead of the driver parsing each
    into a datetime that Python then shifts and writes. The offset is written as Python writes it: +HH:MM, with
    :SS when the zone's offset has seconds (local mean times before standard time), the local time cut to the minute
    as isoformat(timespec="minutes") cuts it."""

    output_field = models.TextField()

    def __init__(self, expression, zone: str):
        super().__init__(expression)
        self.zone = zone

    def as_sql(self, compiler, connection, **extra_context):
        raise NotSupportedError("LocalMinutes is written for PostgreSQL only.")

    def as_postgresql(self, compiler, connection, **extra_context):
        column, column_params = compiler.compile(self.source_expressions[0])
        whole_minutes, whole_minutes_params = self._text(column, column_params, seconds=False)
        # showable's limits, NULL kept (GREATEST and LEAST would skip it).
        moment = f"(CASE WHEN {column} < %s THEN %s WHEN {column} > %s THEN %s ELSE {column} END)"
        moment_params = [*column_params, EARLIEST_SHOWN, EARLIEST_SHOWN, *column_params, LATEST_SHOWN, LATEST_SHOWN]
        any_moment, any_moment_params = self._text(moment, [*moment_params, *column_params], seconds=True)
        sql = f"(CASE WHEN {column} >= %s AND {column} <= %s THEN {whole_minutes} ELSE {any_moment} END)"
        params = [*column_params, WHOLE_MINUTE_OFFSETS, *column_params, LATEST_SHOWN]
        return sql, [*params, *whole_minutes_params, *any_moment_params]

    def _text(self, moment: str, params: list, *, seconds: bool) -> tuple[str, list]:
        """The text of `moment` (SQL of a timestamptz and its parameters); the offset's seconds written when not 0
        if `seconds`, else taken to be 0 (what the database computes most, so it is kept short)."""
        local, local_params = f"({moment} AT TIME ZONE %s)", [*params, self.zone]
        utc = f"({moment} AT TIME ZONE 'UTC')"
        text = (
            f"TO_CHAR({local}, 'YYYY-MM-DD\"T\"HH24:MI') || CASE WHEN {local} < {utc}"
            f" THEN '-' || TO_CHAR({utc} - {local}, 'HH24:MI') ELSE '+' || TO_CHAR({local} - {utc}, 'HH24:MI') END"
        )
        text_params = [*local_params, *local_params, *params, *params, *local_params, *local_params, *params]
        if seconds:
            # The seconds of the offset, without its sign.
            offset = f"MOD(ABS(EXTRACT(EPOCH FROM {local} - {utc})::integer), 60)"
            offset_params = [*local_params, *params]
            text += f" || CASE WHEN {offset} = 0 THEN '' ELSE ':' || TO_CHAR({offset}, 'FM00') END"
            text_params += [*offset_params, *offset_params]
        return f"({text})", text_params
