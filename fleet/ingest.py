"""The shape of one pushed reading (DESIGN §8), shared by `POST /api/v1/readings` and `manage.py import_readings`:
each item is checked here, alone, into a row to store or a refusal with a code and a message; fleet.services'
`telemetry_ingest` then finds the machines and stores the rows through the one bulk path.

An item names its machine by `assetId` or by `make` + `serialNumber`, and carries a `metric` and a `timestamp`: a
numeric metric with a `value`, `"position"` with `latitude`, `longitude` and an optional `altitude`, or `"fault"` with
`code`, `description`, `severity` and an optional `source`. Nothing an item holds can break the store: numbers are
finite, texts fit their columns and hold no NUL, instants lie between 1970 and 2099 and not far in the future."""

from __future__ import annotations

import datetime as dt
import math
import uuid
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from hiboo_connect.api.fields import parse_instant

from .data_packs import Metric
from .models import FaultSeverity

POSITION, FAULT = "position", "fault"
#: Fields every item may carry, then the fields of each kind of item.
COMMON_FIELDS = frozenset({"assetId", "make", "serialNumber", "metric", "timestamp"})
KIND_FIELDS = {
    "value": frozenset({"value"}),
    POSITION: frozenset({"latitude", "longitude", "altitude"}),
    FAULT: frozenset({"code", "description", "severity", "source"}),
}
EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
#: A machine's clock may run a little ahead; a reading timed further in the future is a mistake.
FUTURE_TOLERANCE = dt.timedelta(days=1)
MAX_ALTITUDE = 100_000.0
TEXT_LIMITS = {"make": 80, "serialNumber": 80, "code": 40, "description": 255, "source": 80}


class ItemRefused(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class MachineKey:
    """How an item names its machine: by id, or by make and serial number (the make compared without case)."""

    asset_id: uuid.UUID | None = None
    make: str = ""
    serial_number: str = ""


@dataclass(frozen=True)
class ParsedItem:
    machine: MachineKey
    kind: str  # "value", POSITION or FAULT
    metric: str
    timestamp: dt.datetime
    values: dict[str, Any]


def _text(item: dict, name: str, *, required: bool) -> str:
    value = item.get(name)
    if value is None or value == "":
        if required:
            raise ItemRefused("missing_field", _("%(field)s is required.") % {"field": name})
        return ""
    if not isinstance(value, str):
        raise ItemRefused("invalid_field", _("%(field)s must be a text.") % {"field": name})
    value = value.strip()
    if "\x00" in value:
        raise ItemRefused("invalid_field", _("%(field)s cannot contain null characters.") % {"field": name})
    if len(value) > TEXT_LIMITS[name]:
        raise ItemRefused(
            "invalid_field",
            _("%(field)s is too long (%(limit)d characters at most).") % {"field": name, "limit": TEXT_LIMITS[name]},
        )
    if required and not value:
        raise ItemRefused("missing_field", _("%(field)s is required.") % {"field": name})
    return value


def _number(item: dict, name: str, *, low: float | None = None, high: float | None = None) -> float:
    value = item.get(name)
    if value is None:
        raise ItemRefused("missing_field", _("%(field)s is required.") % {"field": name})
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ItemRefused("invalid_field", _("%(field)s must be a number.") % {"field": name})
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise ItemRefused("invalid_field", _("%(field)s must be a finite number.") % {"field": name})
    if (low is not None and number < low) or (high is not None and number > high):
        raise ItemRefused(
            "out_of_range",
            _("%(field)s must lie between %(low)s and %(high)s.") % {"field": name, "low": low, "high": high},
        )
    return number


def _machine(item: dict) -> MachineKey:
    asset_id = item.get("assetId")
    if asset_id is not None:
        if "make" in item or "serialNumber" in item:
            raise ItemRefused(
                "ambiguous_machine", _("Name the machine by assetId or by make and serialNumber, not both.")
            )
        if not isinstance(asset_id, str):
            raise ItemRefused("invalid_field", _("%(field)s must be a text.") % {"field": "assetId"})
        try:
            return MachineKey(asset_id=uuid.UUID(asset_id))
        except ValueError:
            raise ItemRefused("invalid_field", _("assetId must be an asset's id (a UUID).")) from None
    if "make" not in item and "serialNumber" not in item:
        raise ItemRefused("missing_machine", _("Name the machine: assetId, or make and serialNumber."))
    return MachineKey(make=_text(item, "make", required=True), serial_number=_text(item, "serialNumber", required=True))


def _timestamp(item: dict, now: dt.datetime) -> dt.datetime:
    if item.get("timestamp") is None:
        raise ItemRefused("missing_field", _("%(field)s is required.") % {"field": "timestamp"})
    try:
        moment = parse_instant(item["timestamp"])
    except ValueError as error:
        raise ItemRefused("invalid_timestamp", str(error)) from None
    if not EARLIEST <= moment < LATEST:
        raise ItemRefused("invalid_timestamp", _("The timestamp must lie between 1970 and 2099."))
    if moment > now + FUTURE_TOLERANCE:
        raise ItemRefused("timestamp_in_future", _("The timestamp is more than a day in the future."))
    return moment


def _value(item: dict, metric: str) -> float:
    if metric == Metric.ENGINE_RUNNING and isinstance(item.get("value"), bool):
        return 1.0 if item["value"] else 0.0
    return _number(item, "value")


def parse_item(item: Any, *, now: dt.datetime) -> ParsedItem:
    """One pushed item, checked. Raises ItemRefused with a code and a message (in the active language)."""
    if not isinstance(item, dict):
        raise ItemRefused("invalid_item", _("Each reading must be an object."))
    metric = item.get("metric")
    if not isinstance(metric, str) or not metric:
        raise ItemRefused("missing_field", _("%(field)s is required.") % {"field": "metric"})
    kind = metric if metric in (POSITION, FAULT) else "value"
    if kind == "value" and metric not in Metric.values:
        raise ItemRefused(
            "unknown_metric",
            _("Unknown metric. Use one of: %(metrics)s.") % {"metrics": ", ".join([*Metric.values, POSITION, FAULT])},
        )
    unknown = sorted(str(name) for name in item if name not in COMMON_FIELDS | KIND_FIELDS[kind])
    if unknown:
        raise ItemRefused("unknown_field", _("Unknown field: %(fields)s.") % {"fields": ", ".join(unknown)})
    machine = _machine(item)
    timestamp = _timestamp(item, now)
    if kind == POSITION:
        altitude = item.get("altitude")
        values: dict[str, Any] = {
            "latitude": _number(item, "latitude", low=-90, high=90),
            "longitude": _number(item, "longitude", low=-180, high=180),
            "altitude": None if altitude is None else _number(item, "altitude", low=-MAX_ALTITUDE, high=MAX_ALTITUDE),
        }
    elif kind == FAULT:
        severity = item.get("severity")
        if severity not in FaultSeverity.values:
            raise ItemRefused(
                "invalid_field",
                _("severity must be one of: %(choices)s.") % {"choices": ", ".join(FaultSeverity.values)},
            )
        values = {
            "identifier": _text(item, "code", required=True),
            "description": _text(item, "description", required=False),
            "severity": severity,
            "source": _text(item, "source", required=False),
        }
    else:
        values = {"value": _value(item, metric)}
    return ParsedItem(machine=machine, kind=kind, metric=metric, timestamp=timestamp, values=values)
