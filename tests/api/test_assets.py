"""Assets, received assets and readings through the API: own assets are the ones that can be shared; received ones
are renamed and grouped by the beneficiary only; readings of a received asset stay within the shared windows and
packs."""

import datetime as dt

import pytest

from accounts.actors import Actor
from sharing.services import sharing_create
from tests.factories import AdminFactory, MachineFactory, ReadingFactory, WorkspaceFactory

UTC = dt.UTC


def test_assets_are_the_organisations_own_machines(world, admin_api):
    rows = admin_api.get("assets").json()["data"]["rows"]

    assert [row["id"] for row in rows] == [str(world.machine.pk)]
    assert set(rows[0]) == {"id", "make", "model", "serialNumber", "category", "year", "pin", "workspaces", "createdAt"}


def test_received_assets_carry_the_beneficiarys_name_and_the_owner(world, admin_api):
    rows = admin_api.get("received-assets").json()["data"]["rows"]

    assert [(row["id"], row["name"]) for row in rows] == [(str(world.partner_machine.pk), "TH 35 TH35-1")]
    assert rows[0]["owner"]["name"] == world.partner_machine.organisation.name


def test_a_received_asset_is_renamed_and_grouped(world, admin_api, owner_org):
    lyon = WorkspaceFactory(organisation=owner_org, name="Lyon")
    path = f"received-assets/{world.partner_machine.pk}"

    response = admin_api.patch(path, {"name": "Telehandler 7", "workspaces": [str(lyon.pk)]})
    workspaces = admin_api.get("workspaces").json()["data"]["rows"]

    assert response.status_code == 200
    assert response.json()["data"]["name"] == "Telehandler 7"
    assert response.json()["data"]["workspaces"] == [{"id": str(lyon.pk), "name": "Lyon"}]
    assert workspaces == [{"id": str(lyon.pk), "name": "Lyon"}]
    world.received.refresh_from_db()
    assert world.received.name == "Telehandler 7"


@pytest.mark.parametrize("body", [{"name": "   "}, {"workspaces": ["00000000-0000-0000-0000-000000000000"]}])
def test_a_received_asset_refuses_bad_changes(world, admin_api, body):
    response = admin_api.patch(f"received-assets/{world.partner_machine.pk}", body)

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == list(body)


def test_another_organisations_workspace_is_unknown(world, admin_api, outsider_org):
    theirs = WorkspaceFactory(organisation=outsider_org)

    response = admin_api.patch(f"received-assets/{world.partner_machine.pk}", {"workspaces": [str(theirs.pk)]})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unknown_workspace"


def test_an_own_asset_is_no_received_asset(world, admin_api):
    assert admin_api.get(f"received-assets/{world.machine.pk}").status_code == 404


# --- readings --------------------------------------------------------------------------------------------------------


def test_the_owner_reads_everything_the_beneficiary_only_the_window(world, admin_api, beneficiary_api, frozen):
    ReadingFactory(machine=world.machine, timestamp=dt.datetime(2026, 7, 1, tzinfo=UTC), value=1)
    inside = ReadingFactory(machine=world.machine, timestamp=dt.datetime(2026, 8, 2, tzinfo=UTC), value=2)
    ReadingFactory(machine=world.machine, timestamp=dt.datetime(2026, 9, 2, tzinfo=UTC), value=3)
    frozen(dt.datetime(2026, 9, 10, tzinfo=UTC))  # the sharing (1-31 August) has ended: its history stays

    owner_rows = admin_api.get(f"assets/{world.machine.pk}/readings").json()["data"]["rows"]
    beneficiary_rows = beneficiary_api.get(f"assets/{world.machine.pk}/readings").json()["data"]["rows"]

    assert [row["value"] for row in owner_rows] == [1, 2, 3]
    assert beneficiary_rows == [
        {"metric": "operating_hours", "timestamp": "2026-08-02T00:00:00Z", "value": inside.value, "unit": "h"}
    ]


def test_a_received_asset_shows_only_its_sharings_packs(db, frozen, owner_admin, beneficiary_admin, beneficiary_api):
    frozen(dt.datetime(2026, 7, 12, tzinfo=UTC))
    machine = MachineFactory(organisation=owner_admin.organisation)
    sharing_create(
        actor=Actor.for_user(owner_admin),
        machine_ids=[machine.pk],
        recipient_email=beneficiary_admin.email,
        start_at=dt.datetime(2026, 7, 1, tzinfo=UTC),
        data_packs=["essential"],
    )
    moment = dt.datetime(2026, 7, 5, tzinfo=UTC)
    ReadingFactory(machine=machine, metric="engine_running", timestamp=moment, value=1)
    ReadingFactory(machine=machine, metric="fuel_used", timestamp=moment, value=300)

    rows = beneficiary_api.get(f"assets/{machine.pk}/readings").json()["data"]["rows"]

    assert [row["metric"] for row in rows] == ["engine_running"]


def test_readings_are_narrowed_by_metric_and_period_and_paged(world, admin_api):
    for day in range(1, 6):
        ReadingFactory(machine=world.machine, metric="fuel_used", timestamp=dt.datetime(2026, 7, day, tzinfo=UTC))
    ReadingFactory(machine=world.machine, metric="distance", timestamp=dt.datetime(2026, 7, 3, tzinfo=UTC))
    path = f"assets/{world.machine.pk}/readings"

    narrowed = admin_api.get(
        path, {"metric": "fuel_used", "from": "2026-07-02T00:00:00Z", "to": "2026-07-05T02:00:00+02:00", "limit": 2}
    ).json()["data"]

    assert narrowed["total"] == 3
    assert [row["timestamp"] for row in narrowed["rows"]] == ["2026-07-02T00:00:00Z", "2026-07-03T00:00:00Z"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-07-01"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"limit": "1001"}, "limit"),
        ({"from": ""}, "from"),
    ],
)
def test_bad_reading_parameters_answer_400(world, admin_api, params, field):
    response = admin_api.get(f"assets/{world.machine.pk}/readings", params)

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]


def test_readings_of_a_machine_never_shared_with_you_are_not_found(world, beneficiary_api):
    stranger = MachineFactory(organisation=AdminFactory().organisation)

    assert beneficiary_api.get(f"assets/{stranger.pk}/readings").status_code == 404
