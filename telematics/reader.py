"""Reading ISO 15143-3 (AEMP 2.0) documents into plain values. Pure functions, no database, no network.

Real feeds differ in small ways and this reader takes them all: XML in the ISO namespace (or none) and JSON; `Links`
or `links`; `datetime` or `Datetime` (any capitalisation of any name, in fact: names are compared case-insensitively);
a root that is `Fleet`, `{"Fleet": ...}` or a bare list of equipment; one element or a list where several may come;
hours as decimal numbers or as the ISO 8601 durations of the older AEMP 1.2 feeds; fuel, distance, altitude, payload
and speed in the units the standard names, converted to the metric units of DESIGN §4.

A document that cannot be read at all raises FeedError. A part that cannot be read (a reading without a date, a
position off the globe, an unknown unit) is left out and reported in `problems`, so the caller stores the rest and says
what it left out."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException
from django.utils.translation import gettext as _

from fleet.data_packs import Metric
from fleet.models import FaultSeverity

ISO_NAMESPACE = "http://standards.iso.org/iso/15143/-3"
#: Documents larger than this are refused before parsing (a snapshot page of 100 machines is far below).
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024


class FeedError(Exception):
    """The document cannot be read at all. `message` is for the source's owner (translated)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ReadingValue:
    metric: str
    timestamp: dt.datetime
    value: float


@dataclass(frozen=True)
class PositionValue:
    timestamp: dt.datetime
    latitude: float
    longitude: float
    altitude: float | None = None


@dataclass(frozen=True)
class FaultValue:
    timestamp: dt.datetime
    identifier: str
    description: str
    severity: str
    source: str = ""


@dataclass(frozen=True)
class Values:
    """What one document said about one machine."""

    readings: tuple[ReadingValue, ...] = ()
    positions: tuple[PositionValue, ...] = ()
    faults: tuple[FaultValue, ...] = ()

    @property
    def count(self) -> int:
        return len(self.readings) + len(self.positions) + len(self.faults)

    def latest(self) -> dict[str, dt.datetime]:
        """Data element name → the newest instant this document gives for it."""
        latest: dict[str, dt.datetime] = {}
        for element, moment in self._moments():
            if element not in latest or moment > latest[element]:
                latest[element] = moment
        return latest

    def _moments(self) -> Iterator[tuple[str, dt.datetime]]:
        for reading in self.readings:
            yield ELEMENT_OF_METRIC[reading.metric], reading.timestamp
        for position in self.positions:
            yield LOCATION, position.timestamp
        for fault in self.faults:
            yield FAULT_CODES, fault.timestamp


@dataclass(frozen=True)
class Equipment:
    """One machine of a fleet snapshot: its header and its latest values."""

    oem_name: str
    model: str
    equipment_id: str
    serial_number: str
    pin: str
    values: Values = Values()


@dataclass(frozen=True)
class FleetPage:
    equipment: tuple[Equipment, ...]
    links: dict[str, str]
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class TimeSeriesPage:
    values: Values
    links: dict[str, str]
    problems: tuple[str, ...] = ()


# --- the data elements --------------------------------------------------------------------------------------------

LOCATION = "Location"
FAULT_CODES = "FaultCodes"


@dataclass(frozen=True)
class Element:
    """A numeric data element: the metric it feeds, the children that may carry its value (first found wins), the
    child that names its unit and the units it may be given in (factor to the metric unit)."""

    metric: str
    value_names: tuple[str, ...]
    unit_name: str | None = None
    units: dict[str, float] = field(default_factory=dict)


_LITRES = {"litre": 1.0, "litres": 1.0, "liter": 1.0, "liters": 1.0, "l": 1.0}
_LITRES |= {"gallon": 3.785411784, "gallons": 3.785411784, "gal": 3.785411784, "us gallon": 3.785411784}
_LITRES |= {"imperial gallon": 4.54609, "imperial gallons": 4.54609}
_KILOMETRES = {"kilometre": 1.0, "kilometres": 1.0, "kilometer": 1.0, "kilometers": 1.0, "km": 1.0}
_KILOMETRES |= {"mile": 1.609344, "miles": 1.609344, "mi": 1.609344, "metre": 0.001, "meter": 0.001, "m": 0.001}
_METRES = {"metre": 1.0, "metres": 1.0, "meter": 1.0, "meters": 1.0, "m": 1.0, "foot": 0.3048, "feet": 0.3048}
_METRES |= {"ft": 0.3048}
_TONNES = {"tonne": 1.0, "tonnes": 1.0, "metric tonne": 1.0, "metric tonnes": 1.0, "t": 1.0, "kilogram": 0.001}
_TONNES |= {"kilograms": 0.001, "kg": 0.001, "ton": 0.90718474, "tons": 0.90718474, "short ton": 0.90718474}
_TONNES |= {"pound": 0.00045359237, "pounds": 0.00045359237, "lb": 0.00045359237}
_SPEEDS = {"kilometres per hour": 1.0, "kilometers per hour": 1.0, "km/h": 1.0, "kph": 1.0, "kmh": 1.0}
_SPEEDS |= {"miles per hour": 1.609344, "mph": 1.609344}

_HOURS = ("Hour", "Hours")
_PERCENT = ("Percent",)

ELEMENTS: dict[str, Element] = {
    "CumulativeOperatingHours": Element(Metric.OPERATING_HOURS, _HOURS),
    "CumulativeIdleHours": Element(Metric.IDLE_HOURS, _HOURS),
    "FuelUsed": Element(Metric.FUEL_USED, ("FuelConsumed",), "FuelUnits", _LITRES),
    "FuelUsedLast24": Element(Metric.FUEL_USED_LAST_24, ("FuelConsumed",), "FuelUnits", _LITRES),
    "FuelRemaining": Element(Metric.FUEL_REMAINING, _PERCENT),
    "DEFRemaining": Element(Metric.DEF_REMAINING, _PERCENT),
    "Distance": Element(Metric.DISTANCE, ("Odometer",), "OdometerUnits", _KILOMETRES),
    "PeakDailySpeed": Element(Metric.PEAK_DAILY_SPEED, ("Speed",), "SpeedUnits", _SPEEDS),
    "CumulativeLoadCount": Element(Metric.LOAD_COUNT, ("Count",)),
    "CumulativePayloadTotals": Element(Metric.PAYLOAD_TOTAL, ("Payload", "PayloadTotal"), "PayloadUnits", _TONNES),
    "AverageLoadFactorLast24": Element(Metric.AVERAGE_LOAD_FACTOR_LAST_24, _PERCENT),
    "CumulativeActiveRegenerationHours": Element(Metric.ACTIVE_REGENERATION_HOURS, _HOURS),
    "CumulativePowerTakeOffHours": Element(Metric.POWER_TAKE_OFF_HOURS, _HOURS),
    "CoolantTemperature": Element(Metric.COOLANT_TEMPERATURE, ("Temperature", "Value")),
    "BatteryVoltage": Element(Metric.BATTERY_VOLTAGE, ("Voltage", "Value")),
    "EngineStatus": Element(Metric.ENGINE_RUNNING, ("Running",)),
}
ELEMENT_OF_METRIC = {element.metric: name for name, element in ELEMENTS.items()}
#: Every data element a time series can be asked for.
DATA_ELEMENTS = (*ELEMENTS, LOCATION, FAULT_CODES)
_BY_KEY = {name.lower(): name for name in DATA_ELEMENTS}
#: One fault code on its own, as some feeds repeat it (`FaultCode`, `FaultCode`, ...) instead of a `FaultCodes` list.
FAULT_CODE = "faultcode"
#: The keys a time series' entries may come under: its snapshot name, and the plural some feeds name the series by.
_SERIES_KEYS = {name: {name.lower()} for name in DATA_ELEMENTS} | {
    LOCATION: {"location", "locations"},
    FAULT_CODES: {"faultcodes", FAULT_CODE},
}

# --- from bytes to one tree of dicts -------------------------------------------------------------------------------


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if tag.startswith("{") else tag


def _xml_node(element) -> Any:
    """An XML element as the JSON a feed would send: attributes and children as keys (a repeated child becomes a
    list), an element with text only as its text."""
    children = list(element)
    if not children and not element.attrib:
        return (element.text or "").strip()
    node: dict[str, Any] = {_local(name): value for name, value in element.attrib.items()}
    for child in children:
        name, value = _local(child.tag), _xml_node(child)
        if name in node:
            existing = node[name]
            node[name] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            node[name] = value
    if not children and (element.text or "").strip():
        node["#text"] = element.text.strip()
    return node


def _lower_keys(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(key).lower(): _lower_keys(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_lower_keys(item) for item in node]
    return node


def read_document(body: bytes, content_type: str = "") -> Any:
    """The document as nested dicts and lists with lower-case keys, its root element's name kept as the one key of the
    top dict for XML (`{"fleet": {...}}`)."""
    if len(body) > MAX_DOCUMENT_BYTES:
        raise FeedError("too_large", _("The feed sent a document too large to read."))
    text = body.lstrip()
    if not text:
        raise FeedError("empty", _("The feed sent an empty document."))
    is_xml = text[:1] == b"<" or ("xml" in content_type.lower() and "json" not in content_type.lower())
    if is_xml:
        try:
            root = ElementTree.fromstring(body)
        except (ElementTree.ParseError, DefusedXmlException, ValueError) as error:
            message = _("The feed sent XML that cannot be read (%(error)s).") % {"error": error}
            raise FeedError("malformed_xml", message) from None
        return _lower_keys({_local(root.tag): _xml_node(root)})
    try:
        return _lower_keys(json.loads(body))
    except (ValueError, RecursionError) as error:
        message = _("The feed sent JSON that cannot be read (%(error)s).") % {"error": error}
        raise FeedError("malformed_json", message) from None


# --- small readers of values ----------------------------------------------------------------------------------------


def _many(value: Any) -> list:
    if value is None or value == "":
        return []
    return value if isinstance(value, list) else [value]


def _text(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("#text", "")
    if isinstance(value, bool) or value is None or isinstance(value, list | dict):
        return ""
    return str(value).strip()


_DURATION = re.compile(r"P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?")


def _number(value: Any) -> float | None:
    """A finite number from a JSON number, a decimal text, or an ISO 8601 duration (in hours: AEMP 1.2's hours)."""
    if isinstance(value, dict):
        value = value.get("#text")
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
        return number if math.isfinite(number) else None
    text = _text(value)
    match = _DURATION.fullmatch(text.upper()) if text.upper().startswith("P") else None
    if match and any(match.groups()):
        days, hours, minutes, seconds = (float(part or 0) for part in match.groups())
        return days * 24 + hours + minutes / 60 + seconds / 3600
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _boolean(value: Any) -> float | None:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    text = _text(value).lower()
    if text in ("true", "1", "on", "yes", "running"):
        return 1.0
    if text in ("false", "0", "off", "no", "stopped"):
        return 0.0
    return None


def parse_instant(value: Any) -> dt.datetime | None:
    """An ISO 8601 instant; a feed that gives none a time zone means UTC (the standard's rule)."""
    text = _text(value)
    if not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def _instant_of(node: dict) -> dt.datetime | None:
    return parse_instant(node.get("datetime") or node.get("reporteddatetime") or node.get("timestamp"))


def _first(node: dict, names: tuple[str, ...]) -> Any:
    for name in names:
        if name.lower() in node:
            return node[name.lower()]
    return None


# --- the elements of one machine ----------------------------------------------------------------------------------


class _Collector:
    def __init__(self):
        self.readings: list[ReadingValue] = []
        self.positions: list[PositionValue] = []
        self.faults: list[FaultValue] = []
        self.problems: list[str] = []

    def values(self) -> Values:
        return Values(tuple(self.readings), tuple(self.positions), tuple(self.faults))

    def problem(self, who: str, element: str, message: str) -> None:
        self.problems.append(f"{who}, {element}: {message}")

    def element(self, who: str, name: str, node: Any) -> None:
        if name == LOCATION:
            self.location(who, node)
        elif name == FAULT_CODES:
            self.fault_codes(who, node)
        else:
            self.numeric(who, name, node)

    def numeric(self, who: str, name: str, node: Any) -> None:
        if not isinstance(node, dict):
            self.problem(who, name, _("not an element with a date and a value"))
            return
        moment = _instant_of(node)
        if moment is None:
            self.problem(who, name, _("no date (datetime)"))
            return
        element = ELEMENTS[name]
        raw = _first(node, element.value_names)
        value = _boolean(raw) if element.metric == Metric.ENGINE_RUNNING else _number(raw)
        if value is None:
            self.problem(who, name, _("no value that is a number"))
            return
        if element.unit_name is not None:
            unit = _text(node.get(element.unit_name.lower())).lower()
            if unit:
                factor = element.units.get(unit)
                if factor is None:
                    self.problem(who, name, _("unknown unit “%(unit)s”") % {"unit": unit})
                    return
                value *= factor
        self.readings.append(ReadingValue(element.metric, moment, value))

    def location(self, who: str, node: Any) -> None:
        if not isinstance(node, dict):
            self.problem(who, LOCATION, _("not an element with a date and coordinates"))
            return
        moment = _instant_of(node)
        latitude, longitude = _number(node.get("latitude")), _number(node.get("longitude"))
        if moment is None:
            self.problem(who, LOCATION, _("no date (datetime)"))
            return
        if latitude is None or longitude is None or not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            self.problem(who, LOCATION, _("no valid latitude and longitude"))
            return
        altitude = _number(node.get("altitude"))
        if altitude is not None:
            unit = _text(node.get("altitudeunits")).lower()
            factor = _METRES.get(unit, 1.0 if not unit else None)
            if factor is None:
                self.problem(who, LOCATION, _("unknown unit “%(unit)s”") % {"unit": unit})
                return
            altitude *= factor
        self.positions.append(PositionValue(moment, latitude, longitude, altitude))

    def fault_codes(self, who: str, node: Any) -> None:
        """`FaultCodes` holds `FaultCode` entries (or is a list of them itself)."""
        entries: list = []
        for item in _many(node):
            inner = item.get("faultcode") if isinstance(item, dict) else None
            entries.extend(_many(inner) if inner is not None else [item])
        for entry in entries:
            self.fault(who, entry)

    def fault(self, who: str, node: Any) -> None:
        if not isinstance(node, dict):
            self.problem(who, FAULT_CODES, _("not a fault code"))
            return
        moment = _instant_of(node)
        identifier = _text(_first(node, ("CodeIdentifier", "Identifier", "Code")))
        if moment is None or not identifier:
            self.problem(who, FAULT_CODES, _("a fault code without a date or an identifier"))
            return
        self.faults.append(
            FaultValue(
                timestamp=moment,
                identifier=identifier[:40],
                description=_text(_first(node, ("CodeDescription", "Description")))[:255],
                severity=severity_of(_text(_first(node, ("CodeSeverity", "Severity")))),
                source=_text(_first(node, ("CodeSource", "Source")))[:80],
            )
        )


_SEVERITIES = {
    FaultSeverity.HIGH: {"high", "1", "red", "critical", "stop", "severe"},
    FaultSeverity.MEDIUM: {"medium", "2", "amber", "yellow", "warning", "caution"},
    FaultSeverity.LOW: {"low", "3", "info", "information", "informational", "green"},
}


def severity_of(text: str) -> str:
    """The feed's severity as ours: high, medium or low; a word this reader does not know is medium."""
    text = text.lower()
    return next((severity for severity, words in _SEVERITIES.items() if text in words), FaultSeverity.MEDIUM)


def _links(document: dict) -> dict[str, str]:
    links: dict[str, str] = {}
    for link in _many(document.get("links")):
        if isinstance(link, dict):
            rel, href = _text(link.get("rel")).lower(), _text(link.get("href"))
            if rel and href and rel not in links:
                links[rel] = href
    return links


def _header(node: dict) -> dict:
    header = node.get("equipmentheader")
    return header if isinstance(header, dict) else {}


def _equipment(node: Any, index: int, problems: list[str]) -> Equipment | None:
    if not isinstance(node, dict):
        problems.append(_("Equipment %(index)d: not an element") % {"index": index + 1})
        return None
    header = _header(node)
    oem_name = _text(_first(header, ("OEMName", "Make", "Manufacturer")))
    serial = _text(header.get("serialnumber"))
    pin = _text(header.get("pin"))
    equipment_id = _text(header.get("equipmentid")) or pin or serial
    if not (serial or pin):
        problems.append(_("Equipment %(index)d: no serial number or PIN") % {"index": index + 1})
        return None
    who = f"{oem_name} {serial or pin}".strip()
    collector = _Collector()
    for key, value in node.items():
        if key == FAULT_CODE:
            for item in _many(value):
                collector.fault(who, item)
            continue
        name = _BY_KEY.get(key)
        if name is None:
            continue
        items = [value] if name == FAULT_CODES else _many(value)
        for item in items:
            collector.element(who, name, item)
    problems.extend(collector.problems)
    return Equipment(
        oem_name=oem_name,
        model=_text(header.get("model")),
        equipment_id=equipment_id,
        serial_number=serial,
        pin=pin,
        values=collector.values(),
    )


def _fleet_root(document: Any) -> tuple[list, dict[str, str]]:
    """The equipment entries and the links of a snapshot page, whatever its root."""
    if isinstance(document, list):
        return document, {}
    if not isinstance(document, dict):
        raise FeedError("not_a_fleet", _("The feed sent something that is not a fleet snapshot."))
    fleet = document.get("fleet", document)
    if isinstance(fleet, list):
        return fleet, _links(document)
    if isinstance(fleet, str) and not fleet:
        return [], {}  # <Fleet/>: an empty fleet
    if not isinstance(fleet, dict) or not ("equipment" in fleet or "links" in fleet or "fleet" in document):
        raise FeedError("not_a_fleet", _("The feed sent something that is not a fleet snapshot."))
    return _many(fleet.get("equipment")), _links(fleet) or _links(document)


def parse_fleet(body: bytes, content_type: str = "") -> FleetPage:
    """One page of a fleet snapshot (`GET .../Fleet/{page}`)."""
    entries, links = _fleet_root(read_document(body, content_type))
    problems: list[str] = []
    equipment = [_equipment(node, index, problems) for index, node in enumerate(entries)]
    return FleetPage(tuple(item for item in equipment if item is not None), links, tuple(problems))


def _series_node(document: Any, keys: set[str]) -> tuple[Any, dict[str, str]]:
    """The node that holds a time series' entries, and the page's links: the root and {"Equipment"|element: {...}}
    wrappers unwrapped, a few levels deep."""
    node: Any = document
    links: dict[str, str] = {}
    for _level in range(4):
        if not isinstance(node, dict):
            break
        links = links or _links(node)
        present = [key for key in keys if key in node]
        inner = node[present[0]] if len(present) == 1 else None
        wrappers = [value for key, value in node.items() if isinstance(value, dict) and key != "equipmentheader"]
        if isinstance(inner, dict) and (keys & set(inner) or "links" in inner or "equipmentheader" in inner):
            node = inner
        elif not present and len(node) == 1 and wrappers:
            node = wrappers[0]  # an XML root (`{"locations": {...}}`) or a {"Fleet"|"Equipment": {...}} wrapper
        elif not present and isinstance(node.get("equipment"), dict):
            node = node["equipment"]
        else:
            break
    return node, links


def _collect_series(collector: _Collector, element: str, node: dict, keys: set[str]) -> None:
    for key in sorted(keys & set(node)):
        if key == FAULT_CODE:
            for entry in _many(node[key]):
                collector.fault(element, entry)
        elif element == FAULT_CODES:
            collector.fault_codes(element, node[key])
        else:
            for entry in _many(node[key]):
                collector.element(element, element, entry)


def parse_time_series(body: bytes, element: str, content_type: str = "") -> TimeSeriesPage:
    """One page of a machine's time series of one data element (`.../{DataElement}/{start}/{end}/{page}`). The
    entries may sit at the top of the document, under a root named after the element (or its plural: `Locations`),
    under `Equipment`, or be the document itself (a bare list)."""
    if element not in DATA_ELEMENTS:
        raise ValueError(element)
    keys = _SERIES_KEYS[element]
    node, links = _series_node(read_document(body, content_type), keys)
    collector = _Collector()
    if isinstance(node, list):
        for entry in node:
            collector.element(element, element, entry)
    elif isinstance(node, dict) and keys & set(node):
        _collect_series(collector, element, node, keys)
    elif not (isinstance(node, dict) and (links or "equipmentheader" in node)):
        raise FeedError(
            "not_a_time_series",
            _("The feed sent something that is not a time series of %(element)s.") % {"element": element},
        )
    return TimeSeriesPage(collector.values(), links, tuple(collector.problems))
