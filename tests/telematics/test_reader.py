"""The ISO 15143-3 reader on payloads shaped after Caterpillar's, John Deere's and Trackunit's published documentation
(tests/telematics/feeds/, each says which), on the dialects issue 12 lists, and on malformed and partial ones. Pure
functions: no database, no network."""

import datetime as dt
import json

import pytest

from telematics import reader
from tests.telematics.feeds import feed

UTC = dt.UTC


def _readings(values):
    return {reading.metric: (reading.timestamp, reading.value) for reading in values.readings}


def test_caterpillar_json_page_with_capital_datetime_and_links():
    page = reader.parse_fleet(feed("caterpillar_fleet_1.json"), "application/json")
    assert page.problems == ()
    assert page.links == {"self": "1", "next": "2", "last": "2"}
    first, second = page.equipment
    assert (first.oem_name, first.model, first.equipment_id, first.serial_number, first.pin) == (
        "CAT",
        "320 GC",
        "CAT-EQ-001",
        "CAT0320GCXYZ01",
        "CAT0320GCXYZ01",
    )
    at = dt.datetime(2026, 7, 12, 8, 40, tzinfo=UTC)
    assert _readings(first.values) == {
        "operating_hours": (at, 1234.5),
        "idle_hours": (at, 310.25),
        "fuel_used": (at, 15200.0),
        "fuel_used_last_24": (dt.datetime(2026, 7, 12, tzinfo=UTC), 96.5),
        "fuel_remaining": (at, 62.0),
        "def_remaining": (at, 80.0),
        "engine_running": (at, 1.0),
        "distance": (at, 0.0),
    }
    assert first.values.positions == (reader.PositionValue(at, 45.7602, 4.859, 173.0),)
    assert _readings(second.values) == {"operating_hours": (dt.datetime(2026, 7, 11, 17, 5, tzinfo=UTC), 5021.75)}
    (fault,) = second.values.faults
    assert (fault.identifier, fault.severity, fault.source) == ("110-0", "high", "Engine ECM")
    assert second.values.latest() == {
        "CumulativeOperatingHours": dt.datetime(2026, 7, 11, 17, 5, tzinfo=UTC),
        "FaultCodes": dt.datetime(2026, 7, 11, 16, 58, tzinfo=UTC),
    }


def test_john_deere_xml_without_namespace_make_durations_and_gallons():
    page = reader.parse_fleet(feed("john_deere_fleet.xml"), "application/xml")
    assert page.problems == ()
    assert page.links == {}
    (machine,) = page.equipment
    assert (machine.oem_name, machine.model, machine.serial_number) == ("JOHN DEERE", "350G", "1FF350GXJGF000001")
    readings = _readings(machine.values)
    assert readings["operating_hours"] == (dt.datetime(2026, 7, 12, 7, 7, 1, tzinfo=UTC), 312.5)  # 13 days 30 min
    assert readings["fuel_used"][1] == pytest.approx(378.5411784)
    assert machine.values.positions[0].longitude == -93.7758


def test_trackunit_xml_in_the_iso_namespace_with_links_units_and_extensions():
    page = reader.parse_fleet(feed("trackunit_fleet_1.xml"))  # no content type: the first byte says XML
    assert page.problems == ()
    assert page.links["self"] == "https://feed.example/aemp/v2/Fleet/1"
    assert "next" not in page.links
    (machine,) = page.equipment
    readings = _readings(machine.values)
    assert readings["distance"][1] == pytest.approx(16.09344)
    assert readings["engine_running"][1] == 0.0
    assert readings["payload_total"][1] == 812.5
    assert "BatteryPotential" not in machine.values.latest()  # outside the standard: passed over
    assert machine.values.positions[0].altitude == pytest.approx(9.144)


@pytest.mark.parametrize(
    ("name", "links", "serials"),
    [
        ("pages_from_zero_0.json", {"self": "0", "next": "1"}, ["126000123"]),
        ("pages_from_zero_1.json", {"self": "1", "prev": "0"}, ["129000456"]),
    ],
)
def test_fleet_root_lower_case_links_and_a_single_equipment(name, links, serials):
    page = reader.parse_fleet(feed(name))
    assert page.links == links
    assert [machine.serial_number for machine in page.equipment] == serials


@pytest.mark.parametrize(
    "body",
    [
        b'[{"EquipmentHeader": {"OEMName": "CAT", "SerialNumber": "S1"}}]',
        b'{"Fleet": [{"EquipmentHeader": {"OEMName": "CAT", "SerialNumber": "S1"}}]}',
        b'{"Equipment": [{"EquipmentHeader": {"OEMName": "CAT", "SerialNumber": "S1"}}]}',
        b"<Fleet><Equipment><EquipmentHeader><OEMName>CAT</OEMName><SerialNumber>S1</SerialNumber>"
        b"</EquipmentHeader></Equipment></Fleet>",
    ],
    ids=["bare list", "Fleet of a list", "Fleet's content at the top", "XML without namespace"],
)
def test_every_root_gives_the_same_equipment(body):
    (machine,) = reader.parse_fleet(body).equipment
    assert (machine.oem_name, machine.serial_number, machine.equipment_id) == ("CAT", "S1", "S1")


def test_empty_fleets():
    assert reader.parse_fleet(b'<Fleet xmlns="http://standards.iso.org/iso/15143/-3"/>').equipment == ()
    assert reader.parse_fleet(b"[]").equipment == ()
    assert reader.parse_fleet(b'{"Fleet": {"Links": []}}').equipment == ()


def test_a_partial_page_keeps_what_it_can_and_says_what_it_left_out():
    page = reader.parse_fleet(feed("partial.json"))
    (machine,) = page.equipment
    assert _readings(machine.values) == {"fuel_remaining": (dt.datetime(2026, 7, 12, 9, tzinfo=UTC), 55.0)}
    assert machine.values.positions == ()
    problems = "\n".join(page.problems)
    assert "CumulativeOperatingHours: no date (datetime)" in problems
    assert "FuelUsed: unknown unit “barrel”" in problems
    assert "Location: no valid latitude and longitude" in problems
    assert "CumulativeIdleHours: no value that is a number" in problems
    assert "Equipment 2: no serial number or PIN" in problems
    assert "Equipment 3: not an element" in problems
    assert len(page.problems) == 6


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (feed("truncated.xml"), "malformed_xml"),
        (b'{"Fleet": ', "malformed_json"),
        (b"", "empty"),
        (b"   ", "empty"),
        (b'"just a text"', "not_a_fleet"),
        (b'{"error": "Unauthorized"}', "not_a_fleet"),
        (b"<html><body>Maintenance</body></html>", "not_a_fleet"),
        (b'<!DOCTYPE x [<!ENTITY a "aaaa">]><Fleet>&a;</Fleet>', "malformed_xml"),
        (b"[" * 100_000, "malformed_json"),
    ],
    ids=["truncated XML", "truncated JSON", "empty", "blank", "a text", "an error object", "HTML", "entities", "deep"],
)
def test_unreadable_documents_raise_feed_error(body, code):
    with pytest.raises(reader.FeedError) as raised:
        reader.parse_fleet(body)
    assert raised.value.code == code
    assert raised.value.message


def test_a_document_too_large_is_not_parsed(monkeypatch):
    monkeypatch.setattr(reader, "MAX_DOCUMENT_BYTES", 10)
    with pytest.raises(reader.FeedError) as raised:
        reader.parse_fleet(b"[" + b" " * 20 + b"]")
    assert raised.value.code == "too_large"


def test_time_series_json_with_header_and_links():
    page = reader.parse_time_series(feed("caterpillar_operating_hours.json"), "CumulativeOperatingHours")
    assert page.links == {"self": "1"}
    assert [reading.value for reading in page.values.readings] == [1226.0, 1233.0, 1234.5]
    assert page.problems == ()


def test_time_series_of_fault_codes_in_xml():
    page = reader.parse_time_series(feed("caterpillar_fault_codes.xml"), "FaultCodes", "application/xml")
    assert [(fault.identifier, fault.severity) for fault in page.values.faults] == [
        ("168-1", "medium"),
        ("110-0", "high"),
    ]
    assert page.problems == ("FaultCodes, FaultCodes: a fault code without a date or an identifier",)


@pytest.mark.parametrize(
    "body",
    [
        {"Location": [{"datetime": "2026-07-12T08:00:00Z", "Latitude": 1, "Longitude": 2}]},
        {"Location": {"Location": [{"datetime": "2026-07-12T08:00:00Z", "Latitude": 1, "Longitude": 2}], "Links": []}},
        {"Equipment": {"Location": {"datetime": "2026-07-12T08:00:00+02:00", "Latitude": "1", "Longitude": "2"}}},
        [{"Datetime": "2026-07-12T08:00:00", "Latitude": 1, "Longitude": 2}],
    ],
    ids=["at the top", "under its own name", "under Equipment", "a bare list, no time zone"],
)
def test_time_series_roots(body):
    page = reader.parse_time_series(json.dumps(body).encode(), "Location")
    (position,) = page.values.positions
    assert (position.latitude, position.longitude) == (1.0, 2.0)
    assert position.timestamp.tzinfo == UTC


def test_time_series_without_entries_and_not_a_time_series():
    empty = reader.parse_time_series(b'{"Links": [{"rel": "self", "href": "1"}]}', "FuelUsed")
    assert empty.values.count == 0
    with pytest.raises(reader.FeedError):
        reader.parse_time_series(b'{"something": 1}', "FuelUsed")
    with pytest.raises(ValueError, match="Nonsense"):
        reader.parse_time_series(b"[]", "Nonsense")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("high", "high"), ("1", "high"), ("Amber", "medium"), ("info", "low"), ("", "medium"), ("weird", "medium")],
)
def test_severities(text, expected):
    assert reader.severity_of(text) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (12, 12.0),
        ("12.5", 12.5),
        ("PT1H30M", 1.5),
        ("P1D", 24.0),
        ("nan", None),
        ("inf", None),
        (True, None),
        ("P", None),
        ({"#text": "3"}, 3.0),
        ([1], None),
    ],
)
def test_numbers(value, expected):
    assert reader._number(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-07-12T10:00:00+02:00", dt.datetime(2026, 7, 12, 8, tzinfo=UTC)),
        ("2026-07-12T08:00:00z", dt.datetime(2026, 7, 12, 8, tzinfo=UTC)),
        ("2026-07-12", dt.datetime(2026, 7, 12, tzinfo=UTC)),
        ("yesterday", None),
        ("", None),
        (None, None),
    ],
)
def test_instants(value, expected):
    assert reader.parse_instant(value) == expected


def test_a_time_series_named_by_its_plural_with_repeated_entries():
    """The share centre's own feed (aemp/): `Locations` as the XML root, `FaultCode` repeated without a list."""
    locations = reader.parse_time_series(
        b'<Locations xmlns="http://standards.iso.org/iso/15143/-3" version="1">'
        b"<Links><rel>self</rel><href>https://x.example/1</href></Links>"
        b"<EquipmentHeader><OEMName>CAT</OEMName><SerialNumber>S1</SerialNumber></EquipmentHeader>"
        b'<Location datetime="2026-07-12T08:00:00Z"><Latitude>45</Latitude><Longitude>4</Longitude></Location>'
        b'<Location datetime="2026-07-12T09:00:00Z"><Latitude>46</Latitude><Longitude>5</Longitude></Location>'
        b"</Locations>",
        "Location",
    )
    assert [position.latitude for position in locations.values.positions] == [45.0, 46.0]
    assert locations.links == {"self": "https://x.example/1"}
    faults = reader.parse_time_series(
        json.dumps(
            {
                "Links": [],
                "FaultCode": [
                    {"datetime": "2026-07-12T08:00:00Z", "CodeIdentifier": "110-0", "CodeSeverity": "high"},
                    {"datetime": "2026-07-12T09:00:00Z", "CodeIdentifier": "168-1", "CodeSeverity": "low"},
                ],
            }
        ).encode(),
        "FaultCodes",
    )
    assert [fault.identifier for fault in faults.values.faults] == ["110-0", "168-1"]
    empty = reader.parse_time_series(b'<FaultCodes xmlns="http://standards.iso.org/iso/15143/-3"/>', "FaultCodes")
    assert empty.values.count == 0


def test_a_snapshot_with_repeated_fault_codes():
    page = reader.parse_fleet(
        json.dumps(
            [
                {
                    "EquipmentHeader": {"OEMName": "CAT", "SerialNumber": "S1"},
                    "FaultCode": {"datetime": "2026-07-12T08:00:00Z", "CodeIdentifier": "110-0"},
                }
            ]
        ).encode()
    )
    assert [fault.identifier for fault in page.equipment[0].values.faults] == ["110-0"]
