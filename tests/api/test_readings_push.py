"""POST /api/v1/readings (DESIGN §8): an owner's systems push readings, positions and fault codes of its own machines;
new rows are stored, exact duplicates counted and left alone, each refused item reported with its index while the
others are stored; more than 10,000 items, or a body that is not a list of readings, stores nothing. Time is frozen
on 12 July 2026, 09:00 UTC (the `world` of conftest)."""

import datetime as dt
import json
import math

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from accounts.actors import Actor
from fleet.data_packs import Metric
from fleet.models import FaultCode, Position, Reading
from fleet.services import MAX_INGEST_ITEMS, telemetry_ingest
from hiboo_connect.errors import InvalidInput, NotAllowed
from tests.factories import MachineFactory

UTC = dt.UTC


def _reading(machine, metric="operating_hours", timestamp="2026-07-12T08:00:00Z", **fields):
    return {"assetId": str(machine.pk), "metric": metric, "timestamp": timestamp, **fields}


def _push(api, readings, **kwargs):
    response = api.post("readings", {"readings": readings}, **kwargs)
    return response, response.json()


def test_readings_positions_and_fault_codes_are_stored(world, admin_api):
    machine = world.machine
    readings = [
        _reading(machine, value=1234.5),
        _reading(machine, timestamp="2026-07-12T10:30:00+02:00", value=1235),  # 08:30 UTC
        {
            "make": "CATERPILLAR",  # the make is compared without case, the serial number as it is
            "serialNumber": machine.serial_number,
            "metric": "fuel_remaining",
            "timestamp": "2026-07-12T08:00:00.123456789Z",  # nanoseconds: truncated to microseconds
            "value": 61,
        },
        _reading(machine, "engine_running", value=True),
        _reading(machine, "position", latitude=45.76, longitude=4.84, altitude=170.5),
        _reading(machine, "position", timestamp="2026-07-12T08:10:00Z", latitude=-33.9, longitude=151.2),
        _reading(
            machine,
            "fault",
            code="110-0",
            description="Engine coolant temperature high",
            severity="high",
            source="Engine",
        ),
    ]

    response, body = _push(admin_api, readings)

    assert response.status_code == 200, body
    assert body == {"data": {"stored": 7, "duplicates": 0, "rejected": 0, "errors": []}}
    rows = admin_api.get(f"assets/{machine.pk}/readings").json()["data"]["rows"]
    assert [(row["metric"], row["timestamp"], row["value"]) for row in rows] == [
        ("engine_running", "2026-07-12T08:00:00Z", 1.0),
        ("operating_hours", "2026-07-12T08:00:00Z", 1234.5),
        ("fuel_remaining", "2026-07-12T08:00:00.123456Z", 61.0),
        ("operating_hours", "2026-07-12T08:30:00Z", 1235.0),
    ]
    assert list(Position.objects.filter(machine=machine).order_by("timestamp").values_list("latitude", "altitude")) == [
        (45.76, 170.5),
        (-33.9, None),
    ]
    fault = FaultCode.objects.get(machine=machine)
    assert (fault.identifier, fault.description, fault.severity, fault.source) == (
        "110-0",
        "Engine coolant temperature high",
        "high",
        "Engine",
    )


def test_every_metric_of_the_readings_api_can_be_pushed(world, admin_api):
    readings = [_reading(world.machine, metric, value=index) for index, metric in enumerate(Metric.values)]

    _response, body = _push(admin_api, readings)

    assert body["data"]["stored"] == len(Metric.values) == 16
    answered = {row["metric"] for row in admin_api.get(f"assets/{world.machine.pk}/readings").json()["data"]["rows"]}
    assert answered == set(Metric.values)


def test_exact_duplicates_are_counted_and_the_first_value_kept(world, admin_api):
    readings = [
        _reading(world.machine, value=10),
        _reading(world.machine, "position", latitude=1, longitude=2),
        _reading(world.machine, "fault", code="97-3", severity="low"),
    ]
    _push(admin_api, readings)

    again = [
        *readings,
        _reading(world.machine, value=99),
        _reading(world.machine, value=11, timestamp="2026-07-12T09:00Z"),
    ]
    _response, body = _push(admin_api, again)

    assert body["data"] == {"stored": 1, "duplicates": 4, "rejected": 0, "errors": []}
    assert sorted(Reading.objects.filter(machine=world.machine).values_list("value", flat=True)) == [10.0, 11.0]


BAD_ITEMS = [
    ("not an object", "invalid_item"),
    ({"metric": "operating_hours", "timestamp": "2026-07-12T08:00:00Z", "value": 1}, "missing_machine"),
    (
        {"assetId": "not-a-uuid", "metric": "operating_hours", "timestamp": "2026-07-12T08:00:00Z", "value": 1},
        "invalid_field",
    ),
    ({"assetId": 12, "metric": "operating_hours", "timestamp": "2026-07-12T08:00:00Z", "value": 1}, "invalid_field"),
    (
        {"make": "Caterpillar", "metric": "operating_hours", "timestamp": "2026-07-12T08:00:00Z", "value": 1},
        "missing_field",
    ),
    (
        {
            "make": "C" * 81,
            "serialNumber": "X",
            "metric": "operating_hours",
            "timestamp": "2026-07-12T08:00:00Z",
            "value": 1,
        },
        "invalid_field",
    ),
    (
        {
            "make": "Cat\x00",
            "serialNumber": "X",
            "metric": "operating_hours",
            "timestamp": "2026-07-12T08:00:00Z",
            "value": 1,
        },
        "invalid_field",
    ),
    (
        {"make": 5, "serialNumber": "X", "metric": "operating_hours", "timestamp": "2026-07-12T08:00:00Z", "value": 1},
        "invalid_field",
    ),
]
BAD_FIELDS = [
    ({"metric": "flux_capacitance"}, "unknown_metric"),
    ({"metric": None}, "missing_field"),
    ({"colour": "yellow"}, "unknown_field"),
    ({"latitude": 45.0}, "unknown_field"),  # a numeric metric has no latitude
    ({"make": "Caterpillar", "serialNumber": "X"}, "ambiguous_machine"),
    ({"timestamp": None}, "missing_field"),
    ({"timestamp": "2026-07-12T08:00:00"}, "invalid_timestamp"),  # no time zone
    ({"timestamp": "yesterday"}, "invalid_timestamp"),
    ({"timestamp": 1720771200}, "invalid_timestamp"),
    ({"timestamp": "1969-12-31T23:59:59Z"}, "invalid_timestamp"),
    ({"timestamp": "2100-01-01T00:00:00Z"}, "invalid_timestamp"),
    ({"timestamp": "9999-12-31T23:59:59-23:59"}, "invalid_timestamp"),
    ({"timestamp": "2026-07-13T09:00:01Z"}, "timestamp_in_future"),
    ({"value": None}, "missing_field"),
    ({"value": "12"}, "invalid_field"),
    ({"value": True}, "invalid_field"),  # true is for engine_running only
    ({"value": 10**400}, "invalid_field"),
    ({"metric": "position", "value": None, "latitude": 91, "longitude": 0}, "unknown_field"),
    ({"metric": "position", "latitude": 91, "longitude": 0}, "out_of_range"),
    ({"metric": "position", "latitude": 0, "longitude": -180.5}, "out_of_range"),
    ({"metric": "position", "latitude": 0}, "missing_field"),
    ({"metric": "position", "latitude": 0, "longitude": 0, "altitude": 1e9}, "out_of_range"),
    ({"metric": "fault", "severity": "high"}, "missing_field"),
    ({"metric": "fault", "code": "110-0", "severity": "apocalyptic"}, "invalid_field"),
    ({"metric": "fault", "code": "1" * 41, "severity": "low"}, "invalid_field"),
    ({"metric": "fault", "code": "110-0", "severity": "low", "description": "x" * 256}, "invalid_field"),
    ({"metric": "fault", "code": "110-0", "severity": "low", "source": "\x00"}, "invalid_field"),
]


@pytest.mark.parametrize(("item", "code"), BAD_ITEMS, ids=[code for _item, code in BAD_ITEMS])
def test_a_malformed_item_is_refused_alone(world, admin_api, item, code):
    good = _reading(world.machine, value=5)

    response, body = _push(admin_api, [good, item, good | {"timestamp": "2026-07-12T08:05:00Z"}])

    assert response.status_code == 200
    assert body["data"]["stored"] == 2
    assert body["data"]["rejected"] == 1
    (error,) = body["data"]["errors"]
    assert (error["index"], error["code"]) == (1, code)
    assert error["message"]


@pytest.mark.parametrize(("fields", "code"), BAD_FIELDS, ids=[f"{code}-{fields}"[:60] for fields, code in BAD_FIELDS])
def test_a_bad_field_is_refused_with_its_code(world, admin_api, fields, code):
    item = _reading(world.machine, value=5)
    if fields.get("metric") in ("position", "fault"):
        del item["value"]
    item.update(fields)

    _response, body = _push(admin_api, [item])

    assert body["data"]["stored"] == 0
    assert [(error["index"], error["code"]) for error in body["data"]["errors"]] == [(0, code)]


def test_a_number_too_large_for_a_float_is_refused(world, admin_api):
    item = json.dumps(_reading(world.machine, value=0)).replace('"value": 0', '"value": 1e999')  # parses as infinity

    response = admin_api.post("readings", raw=f'{{"readings": [{item}]}}')

    assert response.json()["data"]["errors"][0]["code"] == "invalid_field"


def test_errors_are_translated(world, admin_api):
    # The request activates French in the test's thread: override() gives the next tests their language back.
    with translation.override(None):
        _response, body = _push(
            admin_api,
            [{"metric": "operating_hours", "timestamp": "2026-07-12T08:00:00Z"}],
            headers={"Accept-Language": "fr"},
        )

    assert body["data"]["errors"][0]["message"] == "Indiquez la machine : assetId, ou make et serialNumber."


def test_only_the_owner_pushes_and_other_machines_are_unknown_alike(world, admin_api, outsider_org):
    """A machine of another organisation, one shared with us and one that does not exist get the same answer, so a
    push reveals nothing the API does not already show."""
    outsider_machine = MachineFactory(organisation=outsider_org, serial_number="QUARRY-1")
    items = [
        _reading(outsider_machine, value=777),
        {
            "make": "Caterpillar",
            "serialNumber": "QUARRY-1",
            "metric": "distance",
            "timestamp": "2026-07-12T08:00Z",
            "value": 1,
        },
        _reading(world.partner_machine, value=777),  # received by the owner: readable, never writable
        {
            "assetId": "00000000-0000-4000-8000-000000000000",
            "metric": "distance",
            "timestamp": "2026-07-12T08:00Z",
            "value": 1,
        },
        {
            "make": "Caterpillar",
            "serialNumber": "NOPE",
            "metric": "distance",
            "timestamp": "2026-07-12T08:00Z",
            "value": 1,
        },
    ]

    _response, body = _push(admin_api, items)

    assert body["data"]["stored"] == 0
    errors = body["data"]["errors"]
    assert [error["index"] for error in errors] == [0, 1, 2, 3, 4]
    assert {(error["code"], error["message"]) for error in errors} == {
        ("unknown_machine", "No machine of your organisation has this id or serial number.")
    }
    assert not Reading.objects.filter(machine__in=[outsider_machine, world.partner_machine], value=777).exists()


def test_viewer_keys_and_visitors_cannot_push(world, viewer_api, anonymous_api):
    assert viewer_api.post("readings", {"readings": [_reading(world.machine, value=1)]}).status_code == 403
    assert anonymous_api.post("readings", {"readings": []}).status_code == 401
    assert not Reading.objects.filter(machine=world.machine).exists()


def test_ten_thousand_readings_are_stored_in_a_few_statements(world, admin_api):
    start = dt.datetime(2026, 6, 1, tzinfo=UTC)
    readings = [
        _reading(world.machine, timestamp=(start + dt.timedelta(minutes=minute)).isoformat(), value=minute)
        for minute in range(MAX_INGEST_ITEMS)
    ]

    with CaptureQueriesContext(connection) as queries:
        response, body = _push(admin_api, readings)

    assert response.status_code == 200
    assert body["data"] == {"stored": 10_000, "duplicates": 0, "rejected": 0, "errors": []}
    # The API key, its throttle bookkeeping, the machines named, then the bulk store: never one statement per item.
    # PostgreSQL copies the rows in one statement; on SQLite Django binds at most 999 parameters a statement, so the
    # 10,000 rows of five columns go in 51 inserts of 199 rows: a batch at a time still, not a row.
    bound = 20 if connection.vendor == "postgresql" else 20 + math.ceil(MAX_INGEST_ITEMS * 5 / 999)
    assert len(queries) < bound, [query["sql"][:80] for query in queries]


def test_more_than_ten_thousand_readings_store_nothing(world, admin_api):
    readings = [_reading(world.machine, timestamp="2026-07-01T00:00:00Z", value=1)] * (MAX_INGEST_ITEMS + 1)

    response, body = _push(admin_api, readings)

    assert response.status_code == 413
    assert body["error"]["code"] == "too_many_readings"
    assert not Reading.objects.filter(machine=world.machine).exists()


def test_a_body_past_the_size_limit_is_refused_unread(world, admin_api):
    padding = "x" * (16 * 1024 * 1024)
    response = admin_api.post("readings", raw=json.dumps({"readings": [], "padding": padding}))

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_many_readings"


@pytest.mark.parametrize(
    "raw",
    [
        "{",
        '{"readings": [{"assetId": "x", "metric": "distance", "timestamp": "2026-07-01T00:00Z", "value": NaN}]}',
        '{"readings": [{"value": Infinity}]}',
        "[]",
        '{"readings": {"metric": "distance"}}',
        '{"readings": [], "extra": 1}',
        '{"readings": null}',
        "[" * 5000,
        '"\\u0000"',
    ],
)
def test_a_malformed_body_answers_400_and_stores_nothing(world, admin_api, raw):
    response = admin_api.post("readings", raw=raw)

    assert response.status_code == 400, response.content[:200]
    assert response.json()["error"]["code"] in ("malformed_request", "invalid_input")
    assert not Reading.objects.filter(machine=world.machine).exists()


def test_an_idempotency_key_replays_the_first_answer(world, admin_api):
    readings = [_reading(world.machine, value=3)]
    first = _push(admin_api, readings, headers={"Idempotency-Key": "push-1"})[1]
    second = _push(admin_api, readings, headers={"Idempotency-Key": "push-1"})[1]

    assert first == second == {"data": {"stored": 1, "duplicates": 0, "rejected": 0, "errors": []}}


def test_a_blank_serial_number_is_missing(world, admin_api):
    item = {"make": "Caterpillar", "serialNumber": "   ", "metric": "distance", "timestamp": "2026-07-12T08:00Z"}

    _response, body = _push(admin_api, [item | {"value": 1}])

    assert body["data"]["errors"][0]["code"] == "missing_field"


def test_a_garbled_content_length_reads_as_no_body(world, admin_api):
    response = admin_api.client.post(
        "/api/v1/readings",
        data="{}",
        content_type="application/json",
        headers={"x-access-token": admin_api.key},
        CONTENT_LENGTH="many",
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"readings": ["Send the readings as a list."]}


def test_the_service_itself_refuses_more_than_ten_thousand_items(world, owner_admin):
    with pytest.raises(InvalidInput) as refusal:
        telemetry_ingest(actor=Actor.for_user(owner_admin), organisation=owner_admin.organisation, items=[{}] * 10_001)

    assert refusal.value.code == "too_many_readings"


def test_a_member_cannot_push(world, owner_member):
    with pytest.raises(NotAllowed):
        telemetry_ingest(actor=Actor.for_user(owner_member), organisation=owner_member.organisation, items=[])


def test_ten_thousand_fault_codes_with_long_texts_fit_in_one_call(world, admin_api):
    """About 4 MB of JSON: more than Django's default bound on a body (2.5 MB), which DRF reads whole."""
    start = dt.datetime(2026, 6, 1, tzinfo=UTC)
    faults = [
        {
            "make": "Caterpillar",
            "serialNumber": world.machine.serial_number,
            "metric": "fault",
            "timestamp": (start + dt.timedelta(minutes=minute)).isoformat(),
            "code": f"{minute % 1000}-{minute % 32}",
            "description": "d" * 255,
            "severity": "low",
            "source": "s" * 80,
        }
        for minute in range(MAX_INGEST_ITEMS)
    ]
    raw = json.dumps({"readings": faults})
    assert len(raw) > 4_000_000

    response = admin_api.post("readings", raw=raw, headers={"Idempotency-Key": "faults-1"})

    assert response.status_code == 200, response.content[:300]
    assert response.json()["data"]["stored"] == MAX_INGEST_ITEMS


def test_a_body_past_django_s_bound_with_an_idempotency_key_is_refused_in_json(world, admin_api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000  # the key's fingerprint reads the body whole, before the view's check
    readings = [
        _reading(world.machine, timestamp=f"2026-07-12T08:{minute:02d}:00Z", value=minute) for minute in range(20)
    ]

    response, body = _push(admin_api, readings, headers={"Idempotency-Key": "big-1"})

    assert response.status_code == 413
    assert body["error"] == {
        "code": "too_many_readings",
        "message": "The body is too large (16 MB at most).",
        "fields": {},
    }
