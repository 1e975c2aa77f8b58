"""Late data (DESIGN §3, issue 12 item 6): a reading pushed after a sharing ended but timed inside its window becomes
visible to the beneficiary — in the readings API, on the machine page and in the ISO 15143-3 feed — while one timed
after the end (or before the start) stays invisible. Pushed through POST /api/v1/readings, time frozen."""

import datetime as dt

import pytest
from django.test import Client

from accounts.actors import Actor
from sharing.services import sharing_create
from tests.api.conftest import ApiClient, new_api_key

UTC = dt.UTC
CREATED = dt.datetime(2026, 5, 25, 9, 0, tzinfo=UTC)
START, END = dt.datetime(2026, 6, 1, tzinfo=UTC), dt.datetime(2026, 7, 1, tzinfo=UTC)
LATER = dt.datetime(2026, 7, 12, 9, 0, tzinfo=UTC)
INSIDE, AFTER, BEFORE = "2026-06-20T10:00:00Z", "2026-07-05T10:00:00Z", "2026-05-31T23:59:59Z"


@pytest.fixture
def ended(frozen, owner_admin, beneficiary_admin, machine):
    """A sharing of the owner's machine, 1 June – 1 July, created on 25 May; it is now 12 July."""
    traveller = frozen(CREATED)
    sharing_create(
        actor=Actor.for_user(owner_admin),
        machine_ids=[machine.pk],
        recipient_email=beneficiary_admin.email,
        reference="JUNE",
        start_at=START,
        end_at=END,
    )
    traveller.move_to(LATER)
    owner = ApiClient(new_api_key(owner_admin.organisation, "Telematics push")[1], Client())
    beneficiary = ApiClient(new_api_key(beneficiary_admin.organisation, "BI")[1], Client())
    return owner, beneficiary


def _push(owner, machine):
    readings = [
        {"assetId": str(machine.pk), "metric": "operating_hours", "timestamp": moment, "value": value}
        for moment, value in ((INSIDE, 4321.5), (AFTER, 4400.0), (BEFORE, 4300.0))
    ]
    readings.append(
        {"assetId": str(machine.pk), "metric": "position", "timestamp": INSIDE, "latitude": 45.1, "longitude": 5.2}
    )
    body = owner.post("readings", {"readings": readings}).json()
    assert body["data"]["stored"] == 4


def test_a_late_reading_inside_the_window_reaches_the_readings_api(ended, machine):
    owner, beneficiary = ended
    assert beneficiary.get(f"assets/{machine.pk}/readings").json()["data"]["rows"] == []

    _push(owner, machine)

    rows = beneficiary.get(f"assets/{machine.pk}/readings").json()["data"]["rows"]
    assert [(row["timestamp"], row["value"]) for row in rows] == [("2026-06-20T10:00:00Z", 4321.5)]
    assert len(owner.get(f"assets/{machine.pk}/readings").json()["data"]["rows"]) == 3


def test_a_late_reading_inside_the_window_reaches_the_machine_page(ended, machine, client, beneficiary_admin):
    owner, _beneficiary = ended
    _push(owner, machine)

    client.force_login(beneficiary_admin)
    response = client.get(f"/fleet/machines/{machine.pk}/")

    assert response.status_code == 200
    packs = {pack["code"]: pack for pack in response.context["packs"]}
    (hours,) = packs["usage_hours"]["values"]
    assert (hours["at"], hours["value"]) == (
        dt.datetime(2026, 6, 20, 10, tzinfo=UTC),
        "4,321.5",
    )  # not 4,400: that one came after the end
    assert packs["essential"]["position"].latitude == 45.1


def test_a_late_reading_inside_the_window_reaches_the_iso_feed(ended, machine):
    owner, beneficiary = ended
    feed = Client(headers={"x-access-token": beneficiary.key, "Accept": "application/json"})
    (before,) = feed.get("/api/aemp/v2/Fleet/1").json()["Equipment"]
    assert set(before) == {"EquipmentHeader"}  # nothing yet inside the window

    _push(owner, machine)

    (after,) = feed.get("/api/aemp/v2/Fleet/1").json()["Equipment"]
    assert after["CumulativeOperatingHours"] == {"datetime": "2026-06-20T10:00:00Z", "Hour": 4321.5}
    assert after["Location"]["datetime"] == "2026-06-20T10:00:00Z"
    series = feed.get(f"/api/aemp/v2/Fleet/Equipment/ID/{machine.pk}/OperatingHours/2026-05-01/2026-08-01/1").json()
    assert [entry["Hour"] for entry in series["CumulativeOperatingHours"]] == [4321.5]
