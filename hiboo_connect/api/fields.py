"""Serializer fields with the API's conventions: ISO 8601 instants that must carry a time zone (answered in UTC with a
trailing Z), and free-form properties that the database can always store."""

import datetime as dt
import re

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


def format_instant(value: dt.datetime | None) -> str | None:
    """UTC, ISO 8601, a trailing Z; microseconds only when there are any."""
    if value is None:
        return None
    value = value.astimezone(dt.UTC)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond:06d}"
    return text + "Z"


#: Seconds may carry up to nine decimals (nanoseconds, as many clients send); the database keeps microseconds.
FRACTION = re.compile(r"(?<=:\d\d)[.,](\d+)")
MAX_FRACTION_DIGITS = 9
INSTANT_DESCRIPTION = (
    "ISO 8601 with a time zone, for example 2026-07-01T08:00:00Z or 2026-07-01T10:00:00+02:00. Fractions of a second "
    "up to nanoseconds (nine digits) are accepted and truncated to microseconds; more digits are refused. Answers "
    "are in UTC with a trailing Z."
)


def _truncate_fraction(text: str) -> str:
    """Nanoseconds (and anything down to the tenth of a second) explicitly truncated to microseconds."""
    match = FRACTION.search(text)
    if match is None:
        return text
    digits = match.group(1)
    if len(digits) > MAX_FRACTION_DIGITS:
        raise ValueError(_("Give fractions of a second with at most nine digits (nanoseconds)."))
    return text[: match.start(1)] + digits[:6] + text[match.end(1) :]


def parse_instant(value) -> dt.datetime:
    """An aware datetime from ISO 8601 text, in UTC. Raises ValueError with a message for the client."""
    if not isinstance(value, str):
        raise ValueError(_("Give a date and time as ISO 8601 text, with a time zone."))
    text = _truncate_fraction(value.strip())
    try:
        parsed = parse_datetime(text)
    except ValueError:
        parsed = None
    if parsed is None:
        raise ValueError(_("Give a date and time in ISO 8601, for example 2026-07-01T08:00:00Z."))
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(_("Give the time zone too, for example 2026-07-01T08:00:00Z or 2026-07-01T10:00:00+02:00."))
    try:
        return parsed.astimezone(dt.UTC)
    except OverflowError:
        raise ValueError(_("This date is out of range.")) from None


@extend_schema_field({"type": "string", "format": "date-time", "description": INSTANT_DESCRIPTION})
class InstantField(serializers.Field):
    """An instant: ISO 8601 with a time zone in requests (a naive value is refused; nanoseconds are truncated to
    microseconds, more than nine decimals refused), UTC with Z in responses."""

    def to_internal_value(self, data):
        try:
            return parse_instant(data)
        except ValueError as error:
            raise serializers.ValidationError(str(error)) from None

    def to_representation(self, value):
        return format_instant(value)


@extend_schema_field({"type": "object", "additionalProperties": {"type": "string", "maxLength": 255, "nullable": True}})
class PropertiesField(serializers.DictField):
    """Names to texts (customer, site, contract, purchaseOrder, ...). The service decides what is acceptable; this
    only makes sure every name and value is text the database can hold."""

    def __init__(self, **kwargs):
        super().__init__(child=serializers.CharField(allow_blank=True, allow_null=True, max_length=255), **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, dict) and any("\x00" in str(key) for key in data):
            raise serializers.ValidationError(_("Property names cannot contain null characters."))
        return super().to_internal_value(data)
