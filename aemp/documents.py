"""ISO 15143-3 (AEMP 2.0) documents, built once and written as XML in the standard's namespace or as JSON.

A document is a tree of `Node`s: the element names, attributes (`datetime`, `version`, `snapshotTime`) and values
of the standard. XML writes each node as an element; JSON writes attributes and children as keys of an object, a
node with only a value as that value, and repeated elements (Links, Equipment, the entries of a time series) as
lists. What each data element holds (DESIGN §8) is the table ELEMENTS below."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field

from fleet.data_packs import DataPack, Metric
from hiboo_connect.api.fields import format_instant

NAMESPACE = "http://standards.iso.org/iso/15143/-3"
VERSION = "1"
#: Characters XML 1.0 cannot carry (a pushed fault description may hold them): dropped when writing XML.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

Value = str | float | int | bool | None


@dataclass
class Node:
    tag: str
    attributes: dict[str, str] = field(default_factory=dict)
    children: list[Node] = field(default_factory=list)
    value: Value = None
    #: In JSON, nodes of this tag among their siblings form a list (present even when empty, see `lists`).
    repeated: bool = False
    #: Tags of repeated children that JSON shows as an empty list when there are none.
    lists: tuple[str, ...] = ()


def leaf(tag: str, value: Value) -> Node:
    return Node(tag, value=value)


def links(build_url: Callable[[int], str], page: int, last: int) -> list[Node]:
    """self, next, prev and last, as the standard pages them (from 1)."""
    pages = [("self", page), ("next", page + 1 if page < last else None), ("prev", page - 1 if page > 1 else None)]
    pages.append(("last", last))
    return [
        Node("Links", children=[leaf("rel", rel), leaf("href", build_url(number))], repeated=True)
        for rel, number in pages
        if number is not None
    ]


# --- the data elements -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Element:
    """One ISO 15143-3 data element: its name, the pack it belongs to, the metric it is read from (None for Location
    and fault codes), the names its time series answers to in a URL, and its children for a stored value."""

    name: str
    pack: str
    metric: str | None
    series: str
    children: Callable[[float], list[Node]] = lambda value: []
    aliases: tuple[str, ...] = ()


def _number(tag: str, unit_tag: str | None = None, unit: str = "") -> Callable[[float], list[Node]]:
    def children(value: float) -> list[Node]:
        nodes = [leaf(unit_tag, unit)] if unit_tag else []
        return [*nodes, leaf(tag, value)]

    return children


def _count(tag: str) -> Callable[[float], list[Node]]:
    return lambda value: [leaf(tag, round(value))]


LOCATION = Element("Location", DataPack.ESSENTIAL, None, "Locations", aliases=("Location",))
FAULT_CODES = Element("FaultCode", DataPack.FAULT_CODES, None, "FaultCodes", aliases=("Faults", "FaultCode"))
#: The numeric elements in the order of the standard's snapshot.
NUMERIC_ELEMENTS = (
    Element(
        "CumulativeOperatingHours",
        DataPack.USAGE_HOURS,
        Metric.OPERATING_HOURS,
        "CumulativeOperatingHours",
        _number("Hour"),
        ("OperatingHours",),
    ),
    Element(
        "FuelUsed",
        DataPack.ENERGY_AND_FUEL,
        Metric.FUEL_USED,
        "FuelUsed",
        _number("FuelConsumed", "FuelUnits", "litre"),
    ),
    Element(
        "FuelUsedLast24",
        DataPack.ENERGY_AND_FUEL,
        Metric.FUEL_USED_LAST_24,
        "FuelUsedLast24",
        _number("FuelConsumed", "FuelUnits", "litre"),
    ),
    Element(
        "Distance", DataPack.ACTIVITY, Metric.DISTANCE, "Distance", _number("Odometer", "OdometerUnits", "kilometre")
    ),
    Element(
        "CumulativeIdleHours",
        DataPack.USAGE_HOURS,
        Metric.IDLE_HOURS,
        "CumulativeIdleHours",
        _number("Hour"),
        ("IdleHours",),
    ),
    Element("FuelRemaining", DataPack.ENERGY_AND_FUEL, Metric.FUEL_REMAINING, "FuelRemaining", _number("Percent")),
    Element("DEFRemaining", DataPack.ENERGY_AND_FUEL, Metric.DEF_REMAINING, "DEFRemaining", _number("Percent")),
    Element(
        "EngineStatus",
        DataPack.ESSENTIAL,
        Metric.ENGINE_RUNNING,
        "EngineStatus",
        lambda value: [leaf("Running", value >= 0.5)],
        ("EngineCondition",),
    ),
    Element(
        "CumulativePowerTakeOffHours",
        DataPack.OTHERS,
        Metric.POWER_TAKE_OFF_HOURS,
        "CumulativePowerTakeOffHours",
        _number("Hour"),
        ("PowerTakeOffHours",),
    ),
    Element(
        "AverageLoadFactorLast24",
        DataPack.ACTIVITY,
        Metric.AVERAGE_LOAD_FACTOR_LAST_24,
        "AverageLoadFactorLast24",
        _number("Percent"),
    ),
    Element(
        "PeakDailySpeed",
        DataPack.ACTIVITY,
        Metric.PEAK_DAILY_SPEED,
        "PeakDailySpeed",
        _number("Speed", "SpeedUnits", "kilometres per hour"),
    ),
    Element(
        "CumulativeLoadCount",
        DataPack.ACTIVITY,
        Metric.LOAD_COUNT,
        "CumulativeLoadCount",
        _count("Count"),
        ("LoadCount",),
    ),
    Element(
        "CumulativePayloadTotals",
        DataPack.ACTIVITY,
        Metric.PAYLOAD_TOTAL,
        "CumulativePayloadTotals",
        _number("Payload", "PayloadUnits", "tonne"),
        ("PayloadTotals",),
    ),
    Element(
        "CumulativeActiveRegenerationHours",
        DataPack.VEHICLE_CONDITIONS,
        Metric.ACTIVE_REGENERATION_HOURS,
        "CumulativeActiveRegenerationHours",
        _number("Hour"),
        ("ActiveRegenerationHours",),
    ),
)
FEED_METRICS = tuple(element.metric for element in NUMERIC_ELEMENTS if element.metric)
#: A time series by any of its names in a URL, without case.
SERIES = {
    name.casefold(): element
    for element in (LOCATION, *NUMERIC_ELEMENTS, FAULT_CODES)
    for name in (element.series, element.name, *element.aliases)
}


def stamped(tag: str, moment: dt.datetime, children: list[Node], *, repeated: bool = False) -> Node:
    return Node(tag, {"datetime": format_instant(moment) or ""}, children, repeated=repeated)


def equipment_header(machine) -> Node:
    children = [
        leaf("OEMName", machine.make),
        leaf("Model", machine.model),
        leaf("EquipmentID", str(machine.pk)),
        leaf("SerialNumber", machine.serial_number),
    ]
    if machine.pin:
        children.append(leaf("PIN", machine.pin))
    return Node("EquipmentHeader", children=children)


def location(position, *, repeated: bool = False) -> Node:
    children = [leaf("Latitude", position.latitude), leaf("Longitude", position.longitude)]
    if position.altitude is not None:
        children += [leaf("Altitude", position.altitude), leaf("AltitudeUnits", "metre")]
    return stamped("Location", position.timestamp, children, repeated=repeated)


def reading_element(element: Element, reading, *, repeated: bool = False) -> Node:
    return stamped(element.name, reading.timestamp, element.children(reading.value), repeated=repeated)


def fault_code(fault) -> Node:
    children = [
        leaf("CodeIdentifier", fault.identifier),
        leaf("CodeDescription", fault.description),
        leaf("CodeSeverity", fault.severity),
    ]
    if fault.source:
        children.append(leaf("CodeSource", fault.source))
    return stamped("FaultCode", fault.timestamp, children, repeated=True)


def equipment(snapshot, *, repeated: bool = False) -> Node:
    """One machine as the snapshot shows it: its header, then each element it has a visible value of."""
    children = [equipment_header(snapshot.machine)]
    if snapshot.position is not None:
        children.append(location(snapshot.position))
    for element in NUMERIC_ELEMENTS:
        reading = snapshot.readings.get(element.metric)
        if reading is not None:
            children.append(reading_element(element, reading))
    return Node("Equipment", children=children, repeated=repeated)


# --- writing ---------------------------------------------------------------------------------------------------------


def _text(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return NOT_XML.sub("", str(value))


def _xml_element(node: Node, parent: ET.Element | None) -> ET.Element:
    attributes = {name: _text(value) for name, value in node.attributes.items()}
    if parent is None:
        # The standard's namespace as the default one, declared on the root: every element is in it, attributes in
        # none (as the standard's datetime and version are).
        element = ET.Element(node.tag, {"xmlns": NAMESPACE, **attributes})
    else:
        element = ET.SubElement(parent, node.tag, attributes)
    if node.value is not None:
        element.text = _text(node.value)
    for child in node.children:
        _xml_element(child, element)
    return element


def to_xml(root: Node) -> bytes:
    root_element = _xml_element(root, None)
    return ET.tostring(root_element, encoding="utf-8", xml_declaration=True)


def to_json(node: Node):
    if not node.children and not node.attributes and not node.lists:
        return node.value
    body: dict = dict(node.attributes)
    for child in node.children:
        if child.repeated:
            body.setdefault(child.tag, []).append(to_json(child))
        else:
            body[child.tag] = to_json(child)
    for tag in node.lists:
        body.setdefault(tag, [])
    return body
