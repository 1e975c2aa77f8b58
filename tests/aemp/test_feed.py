"""The ISO 15143-3 feed (DESIGN §8), read as an AEMP client would: XML parsed with defusedxml in the ISO namespace,
JSON on request, Basic authentication with a viewer key. Own machines in full; a machine received through a sharing
that ended (1 June – 1 July, packs essential and usage hours) with only its window and packs; another
organisation's machine absent, and a 404 by id. Time is frozen on 12 July 2026, 09:00 UTC."""

import base64
import datetime as dt
import json

import pytest
from defusedxml import ElementTree
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import ApiKeyRole
from fleet.models import FaultCode, Machine, Position, Reading
from tests.api.conftest import new_api_key
from tests.factories import (
    FaultCodeFactory,
    MachineFactory,
    OrganisationFactory,
    PositionFactory,
    ReadingFactory,
    SharingFactory,
)

UTC = dt.UTC
NS = "{http://standards.iso.org/iso/15143/-3}"
NOW = dt.datetime(2026, 7, 12, 9, 0, tzinfo=UTC)
JUNE_20, JULY_5 = dt.datetime(2026, 6, 20, 10, tzinfo=UTC), dt.datetime(2026, 7, 5, 10, tzinfo=UTC)
FEED = "/api/aemp/v2"


def basic(key, username="any"):
    return "Basic " + base64.b64encode(f"{username}:{key}".encode()).decode()


class Feed:
    def __init__(self, key):
        self.client, self.key = Client(), key

    def get(self, path, accept=None, **headers):
        headers = {"Authorization": basic(self.key), **headers}
        if accept:
            headers["Accept"] = accept
        return self.client.get(f"{FEED}/{path}", headers=headers)

    def xml(self, path):
        response = self.get(path)
        assert response.status_code == 200, response.content[:300]
        assert response["Content-Type"].startswith("application/xml")
        return ElementTree.fromstring(response.content)


def texts(element, tag):
    return [child.text for child in element.iter(NS + tag)]


def equipment_by_id(root):
    return {item.find(f"{NS}EquipmentHeader/{NS}EquipmentID").text: item for item in root.iter(NS + "Equipment")}


@pytest.fixture
def world(frozen, owner_org):
    frozen(NOW)
    own = MachineFactory(organisation=owner_org, make="Caterpillar", model="320 GC", serial_number="CAT-1", pin="PIN-1")
    for hours, moment in ((100.0, NOW - dt.timedelta(days=2)), (112.5, NOW - dt.timedelta(hours=3))):
        ReadingFactory(machine=own, metric="operating_hours", timestamp=moment, value=hours)
    ReadingFactory(machine=own, metric="fuel_used", timestamp=NOW - dt.timedelta(hours=3), value=5400.25)
    ReadingFactory(machine=own, metric="engine_running", timestamp=NOW - dt.timedelta(hours=1), value=1)
    ReadingFactory(machine=own, metric="load_count", timestamp=NOW - dt.timedelta(hours=1), value=7013)
    PositionFactory(machine=own, timestamp=NOW - dt.timedelta(hours=1), latitude=45.76, longitude=4.84, altitude=170)
    FaultCodeFactory(machine=own, timestamp=NOW - dt.timedelta(hours=2), identifier="110-0", source="Engine")

    partner = OrganisationFactory(name="Partner Hire")
    received = MachineFactory(organisation=partner, make="JCB", model="540-180", serial_number="JCB-9")
    SharingFactory(
        owner=partner,
        beneficiary=owner_org,
        start_at=dt.datetime(2026, 6, 1, tzinfo=UTC),
        end_at=dt.datetime(2026, 7, 1, tzinfo=UTC),
        data_packs=["essential", "usage_hours"],
        machines=[received],
    )
    for moment, hours in ((JUNE_20, 2000.0), (JULY_5, 2100.0), (dt.datetime(2026, 5, 20, tzinfo=UTC), 1900.0)):
        ReadingFactory(machine=received, metric="operating_hours", timestamp=moment, value=hours)
    ReadingFactory(machine=received, metric="fuel_used", timestamp=JUNE_20, value=800)  # energy pack: not shared
    PositionFactory(machine=received, timestamp=JUNE_20, latitude=51.5, longitude=-0.12)
    PositionFactory(machine=received, timestamp=JULY_5, latitude=52.0, longitude=-1.0)
    FaultCodeFactory(machine=received, timestamp=JUNE_20)  # fault pack: not shared

    outsider = MachineFactory(organisation=OrganisationFactory(name="Quarry Ltd"), serial_number="QUARRY-1")
    ReadingFactory(machine=outsider, metric="operating_hours", timestamp=NOW - dt.timedelta(hours=1))
    viewer = Feed(new_api_key(owner_org, "AEMP client", ApiKeyRole.VIEWER)[1])
    return {"own": own, "received": received, "outsider": outsider, "feed": viewer}


def test_the_fleet_snapshot_is_iso_xml_with_own_machines_in_full_and_received_ones_as_shared(world):
    root = world["feed"].xml("Fleet/1")

    assert root.tag == NS + "Fleet"
    assert root.get("version") == "1"
    assert root.get("snapshotTime") == "2026-07-12T09:00:00Z"
    links = {link.find(NS + "rel").text: link.find(NS + "href").text for link in root.findall(NS + "Links")}
    assert links == {"self": "http://testserver/api/aemp/v2/Fleet/1", "last": "http://testserver/api/aemp/v2/Fleet/1"}
    machines = equipment_by_id(root)
    assert set(machines) == {str(world["own"].pk), str(world["received"].pk)}  # never the outsider's

    own = machines[str(world["own"].pk)]
    assert [child.tag.removeprefix(NS) for child in own] == [
        "EquipmentHeader",
        "Location",
        "CumulativeOperatingHours",
        "FuelUsed",
        "EngineStatus",
        "CumulativeLoadCount",
    ]
    header = own.find(NS + "EquipmentHeader")
    assert [(child.tag.removeprefix(NS), child.text) for child in header] == [
        ("OEMName", "Caterpillar"),
        ("Model", "320 GC"),
        ("EquipmentID", str(world["own"].pk)),
        ("SerialNumber", "CAT-1"),
        ("PIN", "PIN-1"),
    ]
    location = own.find(NS + "Location")
    assert location.get("datetime") == "2026-07-12T08:00:00Z"
    assert texts(location, "Latitude") == ["45.76"]
    assert texts(location, "AltitudeUnits") == ["metre"]
    hours = own.find(NS + "CumulativeOperatingHours")
    assert (hours.get("datetime"), texts(hours, "Hour")) == ("2026-07-12T06:00:00Z", ["112.5"])  # the newest
    assert texts(own.find(NS + "FuelUsed"), "FuelUnits") == ["litre"]
    assert texts(own.find(NS + "FuelUsed"), "FuelConsumed") == ["5400.25"]
    assert texts(own.find(NS + "EngineStatus"), "Running") == ["true"]
    assert texts(own.find(NS + "CumulativeLoadCount"), "Count") == ["7013"]

    received = machines[str(world["received"].pk)]
    # After the end, the window's newest values; FuelUsed's pack was not shared: absent.
    assert [child.tag.removeprefix(NS) for child in received] == [
        "EquipmentHeader",
        "Location",
        "CumulativeOperatingHours",
    ]
    assert received.find(NS + "CumulativeOperatingHours").get("datetime") == "2026-06-20T10:00:00Z"
    assert texts(received, "Hour") == ["2000.0"]
    assert texts(received, "Latitude") == ["51.5"]


@pytest.mark.parametrize("accept", ["application/json", "application/iso15143-snapshot+json"])
def test_the_snapshot_is_json_on_request(world, accept):
    response = world["feed"].get("Fleet/1", accept=accept)

    assert response.status_code == 200
    assert response["Content-Type"].startswith(accept)
    assert "Accept" in response["Vary"]
    body = json.loads(response.content)
    assert body["version"] == "1"
    assert [link["rel"] for link in body["Links"]] == ["self", "last"]
    machines = {item["EquipmentHeader"]["EquipmentID"]: item for item in body["Equipment"]}
    own = machines[str(world["own"].pk)]
    assert own["CumulativeOperatingHours"] == {"datetime": "2026-07-12T06:00:00Z", "Hour": 112.5}
    assert own["EngineStatus"] == {"datetime": "2026-07-12T08:00:00Z", "Running": True}
    assert own["Location"] == {
        "datetime": "2026-07-12T08:00:00Z",
        "Latitude": 45.76,
        "Longitude": 4.84,
        "Altitude": 170.0,
        "AltitudeUnits": "metre",
    }
    assert set(machines[str(world["received"].pk)]) == {"EquipmentHeader", "Location", "CumulativeOperatingHours"}


def test_pages_hold_a_hundred_machines_with_links(frozen, owner_org):
    frozen(NOW)
    Machine.objects.bulk_create(
        MachineFactory.build(organisation=owner_org, serial_number=f"BULK-{n:03d}") for n in range(250)
    )
    feed = Feed(new_api_key(owner_org, "AEMP client", ApiKeyRole.VIEWER)[1])
    seen = []
    for page, rels in (
        (1, ["self", "next", "last"]),
        (2, ["self", "next", "prev", "last"]),
        (3, ["self", "prev", "last"]),
    ):
        root = feed.xml(f"Fleet/{page}")
        links = {link.find(NS + "rel").text: link.find(NS + "href").text for link in root.findall(NS + "Links")}
        assert list(links) == rels
        assert links["last"].endswith("/Fleet/3")
        seen += list(equipment_by_id(root))
    assert len(seen) == len(set(seen)) == 250
    assert feed.get("Fleet/4").status_code == 404
    assert feed.get("Fleet/0").status_code == 404


def test_an_empty_fleet_has_one_empty_page(frozen, outsider_org):
    frozen(NOW)
    feed = Feed(new_api_key(outsider_org, "AEMP client", ApiKeyRole.VIEWER)[1])

    body = json.loads(feed.get("Fleet/1", accept="application/json").content)

    assert body["Equipment"] == []
    assert [link["rel"] for link in body["Links"]] == ["self", "last"]


def _grow(machines, *, days):
    """`days` more days of hourly readings of two metrics, and positions, for each machine."""
    start = NOW - dt.timedelta(days=400)
    moments = [start + dt.timedelta(hours=hour) for hour in range(days * 24)]
    Reading.objects.bulk_create(
        [
            Reading(machine=machine, metric=metric, timestamp=moment, value=index)
            for machine in machines
            for metric in ("operating_hours", "fuel_used")
            for index, moment in enumerate(moments)
        ],
        ignore_conflicts=True,
    )
    Position.objects.bulk_create(
        [
            Position(machine=machine, timestamp=moment, latitude=1, longitude=2)
            for machine in machines
            for moment in moments
        ],
        ignore_conflicts=True,
    )


def test_a_snapshot_page_costs_the_same_queries_whatever_the_fleet_and_its_history(
    world, owner_org, django_assert_num_queries
):
    feed = world["feed"]
    feed.get("Fleet/1")  # the key's first use is written down; later requests within a while only read it
    # The key, the machines counted, the page of machines, the grants of the received ones, the newest readings, the
    # newest positions.
    with django_assert_num_queries(6):
        assert feed.get("Fleet/1").status_code == 200

    more = [MachineFactory(organisation=owner_org) for _ in range(60)]
    _grow([world["own"], *more], days=10)
    with django_assert_num_queries(6):
        assert feed.get("Fleet/1").status_code == 200


def test_the_snapshot_reads_the_newest_rows_through_indexes(world, owner_org):
    machines = [world["own"], *(MachineFactory(organisation=owner_org) for _ in range(20))]
    _grow(machines, days=60)  # 21 machines × 1,440 hours: 60k readings, 30k positions
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # the planner chooses on real statistics

    with CaptureQueriesContext(connection) as queries:
        assert world["feed"].get("Fleet/1").status_code == 200

    tables = ('SELECT "fleet_reading".', 'SELECT "fleet_position".')
    newest = [query["sql"] for query in queries if query["sql"].startswith(tables)]
    assert len(newest) == 2  # readings, positions
    for sql in newest:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("EXPLAIN " + sql)
                plan = "\n".join(row[0] for row in cursor.fetchall())
                assert "Seq Scan" not in plan, plan
                assert "Index Scan Backward" in plan, plan
            else:
                cursor.execute("EXPLAIN QUERY PLAN " + sql)
                plan = "\n".join(str(row[-1]) for row in cursor.fetchall())
                assert "SCAN fleet_" not in plan.replace("SCAN CONSTANT ROW", ""), plan


def test_one_machine_by_its_equipment_id(world):
    root = world["feed"].xml(f"Fleet/Equipment/ID/{world['received'].pk}")

    assert root.tag == NS + "Equipment"
    assert texts(root, "SerialNumber") == ["JCB-9"]
    assert [child.tag.removeprefix(NS) for child in root] == ["EquipmentHeader", "Location", "CumulativeOperatingHours"]


@pytest.mark.parametrize(
    "path", ["Fleet/Equipment/ID/{outsider}", "Fleet/Equipment/ID/{outsider}/Locations/2026-01-01/2026-12-31/1"]
)
def test_another_organisations_machine_is_not_found(world, path):
    response = world["feed"].get(path.format(outsider=world["outsider"].pk))

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "machine_not_found"


def _series(feed, machine, element, start="2026-01-01T00:00:00Z", end="2026-12-31T00:00:00Z", page=1):
    return feed.xml(f"Fleet/Equipment/ID/{machine.pk}/{element}/{start}/{end}/{page}")


def test_a_time_series_lists_an_elements_values_oldest_first(world):
    root = _series(world["feed"], world["own"], "CumulativeOperatingHours")

    assert root.tag == NS + "CumulativeOperatingHours"
    assert texts(root, "SerialNumber") == ["CAT-1"]
    entries = root.findall(NS + "CumulativeOperatingHours")
    assert [(entry.get("datetime"), texts(entry, "Hour")) for entry in entries] == [
        ("2026-07-10T09:00:00Z", ["100.0"]),
        ("2026-07-12T06:00:00Z", ["112.5"]),
    ]
    faults = _series(world["feed"], world["own"], "Faults")
    assert faults.tag == NS + "FaultCodes"
    assert texts(faults, "CodeIdentifier") == ["110-0"]
    assert texts(faults, "CodeSource") == ["Engine"]


def test_a_received_machines_series_keeps_to_its_window_and_packs(world):
    feed, received = world["feed"], world["received"]

    hours = _series(feed, received, "operatinghours")  # the short name, without case
    assert [entry.get("datetime") for entry in hours.findall(NS + "CumulativeOperatingHours")] == [
        "2026-06-20T10:00:00Z"  # not 20 May (before the start) nor 5 July (after the end)
    ]
    locations = _series(feed, received, "Locations")
    assert texts(locations, "Latitude") == ["51.5"]
    assert _series(feed, received, "FuelUsed").findall(NS + "FuelUsed") == []  # pack not shared
    assert _series(feed, received, "FaultCodes").findall(NS + "FaultCode") == []  # pack not shared


def test_a_time_series_is_paged_by_a_hundred(world):
    start = dt.datetime(2026, 3, 1, tzinfo=UTC)
    Reading.objects.bulk_create(
        Reading(machine=world["own"], metric="distance", timestamp=start + dt.timedelta(hours=n), value=n)
        for n in range(150)
    )
    feed = world["feed"]

    second = json.loads(
        feed.get(
            f"Fleet/Equipment/ID/{world['own'].pk}/Distance/2026-03-01T00:00:00Z/2026-04-01T00:00:00Z/2",
            accept="application/json",
        ).content
    )

    assert [link["rel"] for link in second["Links"]] == ["self", "prev", "last"]
    assert second["Links"][0]["href"].endswith("/Distance/2026-03-01T00:00:00Z/2026-04-01T00:00:00Z/2")
    assert len(second["Distance"]) == 50
    assert second["Distance"][0] == {
        "datetime": "2026-03-05T04:00:00Z",
        "OdometerUnits": "kilometre",
        "Odometer": 100.0,
    }
    assert second["EquipmentHeader"]["SerialNumber"] == "CAT-1"


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("Telepathy/2026-01-01/2026-02-01/1", 404, "element_not_found"),
        ("Locations/yesterday/2026-02-01/1", 400, "invalid_date"),
        ("Locations/2026-02-30/2026-03-01/1", 400, "invalid_date"),
        ("Locations/2026-01-01/2126-02-01/1", 400, "invalid_date"),
        ("Locations/2026-01-01T00:00:00-23:59/9999-12-31T23:59:59-23:59/1", 400, "invalid_date"),
        ("Locations/2026-02-01/2026-01-01/1", 400, "invalid_period"),
        ("Locations/2026-01-01/2026-02-01/2", 404, "page_not_found"),
    ],
)
def test_bad_time_series_requests_answer_in_json(world, path, status, code):
    response = world["feed"].get(f"Fleet/Equipment/ID/{world['own'].pk}/{path}")

    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == code


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        basic("not-a-key"),
        "Basic %%%",
        "Basic " + base64.b64encode(b"no colon").decode(),
        "Basic " + base64.b64encode(b"\xff:\xfe").decode(),
    ],
)
def test_without_a_valid_key_the_feed_asks_for_basic_authentication(world, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    response = Client().get(f"{FEED}/Fleet/1", headers=headers)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Basic realm="ISO 15143-3 feed"'
    assert response.json()["error"]["code"] in ("not_authenticated", "authentication_failed")


@pytest.mark.parametrize("asked", ["", "bogus", "XML"])
def test_a_format_the_feed_does_not_write_is_refused_naming_those_it_does(world, asked):
    response = world["feed"].get(f"Fleet/1?format={asked}")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == "unknown_format"
    assert error["message"] == (
        f"There is no format “{asked}”: give one of xml, json, iso15143-json, or leave the parameter out."
    )


@pytest.mark.parametrize(("asked", "media_type"), [("xml", "application/xml"), ("json", "application/json")])
def test_a_format_the_feed_writes_is_answered_in_it(world, asked, media_type):
    response = world["feed"].get(f"Fleet/1?format={asked}")

    assert response.status_code == 200
    assert response["Content-Type"].startswith(media_type)


def test_the_api_key_header_works_too(world, owner_org):
    key = new_api_key(owner_org, "ERP")[1]

    response = Client().get(f"{FEED}/Fleet/1", headers={"x-access-token": key})

    assert response.status_code == 200


def test_texts_xml_cannot_carry_are_dropped(world):
    FaultCode.objects.filter(machine=world["own"]).update(description="Coolant <high> & \x01rising")

    faults = _series(world["feed"], world["own"], "FaultCodes")

    assert texts(faults, "CodeDescription") == ["Coolant <high> & rising"]


def test_a_machine_whose_sharing_has_not_started_shows_its_header_only(world, owner_org):
    later = MachineFactory(organisation=OrganisationFactory(name="Later Hire"), serial_number="LATER-1")
    ReadingFactory(machine=later, metric="operating_hours", timestamp=NOW - dt.timedelta(hours=1))
    SharingFactory(
        owner=later.organisation, beneficiary=owner_org, start_at=NOW + dt.timedelta(days=3), machines=[later]
    )

    body = json.loads(world["feed"].get("Fleet/1", accept="application/json").content)

    machines = {item["EquipmentHeader"]["EquipmentID"]: item for item in body["Equipment"]}
    assert set(machines[str(later.pk)]) == {"EquipmentHeader"}
