"""Sharings through the API: the shapes of DESIGN §6, the filters, and the lifecycle rules answered with their status
and reason. The world is frozen on 12 July 2026, 09:00 UTC (see conftest.World)."""

import datetime as dt

import pytest

from audit.models import AuditEvent
from sharing.lifecycle import SharingStatus
from sharing.models import Sharing
from tests.factories import MachineFactory

SHARING_FIELDS = {
    "id",
    "reference",
    "status",
    "startDate",
    "endDate",
    "stoppedAt",
    "assetIds",
    "recipient",
    "beneficiary",
    "owner",
    "dataPacksCodes",
    "properties",
    "notificationEnabled",
    "contract",
    "createdAt",
    "updatedAt",
}


def _create_body(world, **overrides):
    body = {
        "assetIds": [str(world.machine.pk)],
        "recipient": "admin@buildco.example",
        "reference": "CONTRACT-2",
        "startDate": "2026-07-20T08:00:00+02:00",
        "endDate": "2026-08-20T18:00:00+02:00",
        "dataPacksCodes": ["essential", "usage_hours"],
        "properties": {"customer": "BuildCo", "site": "Lyon"},
        "notificationEnabled": False,
    }
    body.update(overrides)
    return body


# --- shapes ----------------------------------------------------------------------------------------------------------


def test_create_answers_the_sharing_in_camel_case_with_utc_dates(world, admin_api):
    response = admin_api.post("sharings", _create_body(world))

    assert response.status_code == 201, response.content
    sharing = response.json()["data"]
    assert set(sharing) == SHARING_FIELDS
    assert sharing["startDate"] == "2026-07-20T06:00:00Z"
    assert sharing["endDate"] == "2026-08-20T16:00:00Z"
    assert sharing["status"] == SharingStatus.SCHEDULED
    assert sharing["assetIds"] == [str(world.machine.pk)]
    assert sharing["beneficiary"]["name"] == "BuildCo"
    assert sharing["owner"]["name"] == "Rent & Go"
    assert sharing["dataPacksCodes"] == ["essential", "usage_hours"]
    assert sharing["properties"] == {"customer": "BuildCo", "site": "Lyon"}
    assert sharing["notificationEnabled"] is False
    assert sharing["createdAt"] == "2026-07-12T09:00:00Z"
    created = Sharing.objects.get(pk=sharing["id"])
    assert created.start_at == dt.datetime(2026, 7, 20, 6, tzinfo=dt.UTC)
    assert AuditEvent.objects.get(target_id=created.pk, action="created").actor_label == "API key ERP sync"


def test_create_reports_an_overlapping_sharing_of_the_same_asset(world, admin_api):
    body = _create_body(world, startDate="2026-08-15T00:00:00Z", endDate=None)

    warnings = admin_api.post("sharings", body).json()["warnings"]

    assert [(warning["code"], warning["sharingId"]) for warning in warnings] == [
        ("overlapping_sharing", str(world.sharing.pk))
    ]
    assert warnings[0]["assetIds"] == [str(world.machine.pk)]


def test_a_create_runs_a_fixed_number_of_statements(world, admin_api, django_assert_num_queries):
    admin_api.get("sharings")  # the key's last use is written at most once a minute: not by the create below
    body = _create_body(world, startDate="2026-08-15T00:00:00Z", endDate=None, notificationEnabled=True)

    # Key look-up, overlap warning, the transaction (a savepoint in tests: 2), machines, recipient, contact,
    # sharing, its machines, audit event, outbox row, received machines, its events (one insert for
    # both sides; the sharing's machines are known from their insert, not read back), the webhook endpoints that may
    # want them (none here).
    with django_assert_num_queries(14):
        response = admin_api.post("sharings", body)

    assert response.status_code == 201, response.content
    assert len(response.json()["warnings"]) == 1


def test_one_per_asset_creates_one_sharing_per_asset_answered_as_a_page(world, admin_api, owner_org):
    other = MachineFactory(organisation=owner_org)
    body = _create_body(world, assetIds=[str(world.machine.pk), str(other.pk)], onePerAsset=True)

    data = admin_api.post("sharings", body).json()["data"]

    assert data["total"] == 2
    assert sorted(row["assetIds"][0] for row in data["rows"]) == sorted([str(world.machine.pk), str(other.pk)])
    assert {row["reference"] for row in data["rows"]} == {"CONTRACT-2"}


def test_several_assets_without_one_per_asset_make_one_sharing(world, admin_api, owner_org):
    other = MachineFactory(organisation=owner_org)

    data = admin_api.post("sharings", _create_body(world, assetIds=[str(world.machine.pk), str(other.pk)])).json()

    assert sorted(data["data"]["assetIds"]) == sorted([str(world.machine.pk), str(other.pk)])


def test_an_unknown_recipient_needs_an_organisation_name_and_makes_a_pending_sharing(world, admin_api):
    refused = admin_api.post("sharings", _create_body(world, recipient="new@nowhere.example"))
    created = admin_api.post(
        "sharings", _create_body(world, recipient="new@nowhere.example", recipientOrganisationName="Nowhere Ltd")
    )

    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "recipient_organisation_required"
    assert list(refused.json()["error"]["fields"]) == ["recipientOrganisationName"]
    assert created.status_code == 201
    assert created.json()["data"]["status"] == SharingStatus.PENDING
    assert created.json()["data"]["beneficiary"] is None


def test_list_pages_with_offset_and_limit(world, admin_api, owner_org):
    for index in range(3):
        admin_api.post("sharings", _create_body(world, reference=f"PAGE-{index}"))

    first = admin_api.get("sharings", {"limit": 2}).json()["data"]
    rest = admin_api.get("sharings", {"offset": 2, "limit": 2}).json()["data"]
    beyond = admin_api.get("sharings", {"offset": 50}).json()["data"]

    assert first["total"] == rest["total"] == beyond["total"] == 5
    assert len(first["rows"]) == 2
    assert len(rest["rows"]) == 2
    assert beyond["rows"] == []
    ids = [row["id"] for row in first["rows"] + rest["rows"]]
    assert len(set(ids)) == 4


@pytest.mark.parametrize(
    ("params", "expected_references"),
    [
        ({"reference": "CONTRACT-1"}, ["CONTRACT-1"]),
        ({"reference": "CONTRACT"}, []),
        ({"status": "scheduled"}, ["CONTRACT-1"]),
        ({"status": ["in_progress", "scheduled"]}, ["CONTRACT-1", "PARTNER-9"]),
        ({"direction": "outgoing"}, ["CONTRACT-1"]),
        ({"direction": "incoming"}, ["PARTNER-9"]),
        ({"recipient": "ADMIN@buildco.example"}, ["CONTRACT-1"]),
        ({"assetId": "machine"}, ["CONTRACT-1"]),
        ({"assetId": "partner_machine"}, ["PARTNER-9"]),
    ],
)
def test_list_filters(world, admin_api, params, expected_references):
    if "assetId" in params:
        params = {"assetId": str(getattr(world, params["assetId"]).pk)}

    rows = admin_api.get("sharings", params).json()["data"]["rows"]

    assert sorted(row["reference"] for row in rows) == expected_references


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "running"}, "status"),
        ({"direction": "sideways"}, "direction"),
        ({"assetId": "not-a-uuid"}, "assetId"),
        ({"limit": "0"}, "limit"),
        ({"limit": "100000"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"offset": "ten"}, "offset"),
    ],
)
def test_bad_list_parameters_answer_400_naming_the_parameter(world, admin_api, params, field):
    response = admin_api.get("sharings", params)

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]


def test_the_list_runs_a_fixed_number_of_queries(world, admin_api, owner_org, django_assert_max_num_queries):
    for index in range(5):
        admin_api.post("sharings", _create_body(world, reference=f"N-{index}"))

    # Key look-up, a count and an ordered read per direction (merged), the page's sharings, their machines: never
    # one query per row; with one direction, a count, the page's ids, its sharings and their machines.
    with django_assert_max_num_queries(7):
        response = admin_api.get("sharings")
    with django_assert_max_num_queries(5):
        outgoing = admin_api.get("sharings", {"direction": "outgoing"})

    assert response.json()["data"]["total"] == 7
    assert outgoing.json()["data"]["total"] == 6


def test_both_directions_page_as_one_list_newest_start_first(world, admin_api, owner_org):
    """Sent and received sharings interleave by start, and pages neither skip nor repeat across the two sides."""
    for day in (1, 3, 5, 7):
        admin_api.post("sharings", _create_body(world, reference=f"OUT-{day}", startDate=f"2026-08-0{day}T08:00:00Z"))
    expected = [row["reference"] for row in admin_api.get("sharings", {"limit": 200}).json()["data"]["rows"]]
    starts = [row["startDate"] for row in admin_api.get("sharings", {"limit": 200}).json()["data"]["rows"]]

    pages = [admin_api.get("sharings", {"offset": offset, "limit": 2}).json()["data"] for offset in (0, 2, 4, 6)]

    assert starts == sorted(starts, reverse=True)
    assert {"PARTNER-9", "CONTRACT-1", "OUT-1", "OUT-7"} <= set(expected)
    assert [reference for page in pages for reference in (row["reference"] for row in page["rows"])] == expected
    assert {page["total"] for page in pages} == {len(expected)} == {6}


# --- input validation ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"startDate": "2026-07-20T08:00:00"}, "startDate"),
        ({"startDate": "2026-07-20"}, "startDate"),
        ({"startDate": "next monday"}, "startDate"),
        ({"startDate": 1784000000}, "startDate"),
        ({"endDate": "2026-08-20 18:00"}, "endDate"),
        ({"assetIds": []}, "assetIds"),
        ({"assetIds": ["nope"]}, "assetIds.0"),
        ({"recipient": "not an e-mail"}, "recipient"),
        ({"dataPacksCodes": ["essential", "gossip"]}, "dataPacksCodes.1"),
        ({"properties": ["customer"]}, "properties"),
        ({"properties": {"customer": {"nested": True}}}, "properties.customer"),
        ({"notificationEnabled": "perhaps"}, "notificationEnabled"),
        ({"enddate": "2026-08-20T18:00:00Z"}, "enddate"),
        ({"reference": "x" * 256}, "reference"),
        ({"reference": "nul\x00byte"}, "reference"),
    ],
)
def test_invalid_input_answers_400_with_the_field(world, admin_api, overrides, field):
    response = admin_api.post("sharings", _create_body(world, **overrides))

    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert field in error["fields"], error
    assert not Sharing.objects.filter(reference="CONTRACT-2").exists()


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("{not json", "malformed_request"),
        ("[1, 2]", "invalid_input"),
        ('"a string"', "invalid_input"),
        ("null", "invalid_input"),
    ],
)
def test_a_body_that_is_not_an_object_answers_400(world, admin_api, raw, code):
    response = admin_api.post("sharings", raw=raw)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == code


def test_a_body_that_is_not_json_answers_415(world, admin_api):
    response = admin_api.client.post(
        "/api/v1/sharings", "a=b", content_type="text/plain", headers={"x-access-token": admin_api.key}
    )

    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


# --- the rules, through the API --------------------------------------------------------------------------------------


def test_asset_ids_cannot_be_patched(world, admin_api):
    response = admin_api.patch(f"sharings/{world.sharing.pk}", {"assetIds": [str(world.machine.pk)]})

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "machines_locked"
    assert "create a new one" in error["message"]
    assert list(error["fields"]) == ["assetIds"]


def test_a_start_in_the_past_is_locked(world, admin_api, frozen):
    frozen(dt.datetime(2026, 8, 12, 9, tzinfo=dt.UTC))  # the sharing runs 1-31 August

    locked = admin_api.patch(f"sharings/{world.sharing.pk}", {"startDate": "2026-08-20T00:00:00Z"})
    end_moves = admin_api.patch(f"sharings/{world.sharing.pk}", {"endDate": "2026-09-30T00:00:00Z"})

    assert locked.status_code == 409
    assert locked.json()["error"]["code"] == "start_locked"
    assert "in the past and can no longer be changed" in locked.json()["error"]["message"]
    assert list(locked.json()["error"]["fields"]) == ["startDate"]
    assert end_moves.status_code == 200
    assert end_moves.json()["data"]["endDate"] == "2026-09-30T00:00:00Z"


def test_an_end_in_the_past_is_locked(world, admin_api, frozen):
    frozen(dt.datetime(2026, 9, 2, tzinfo=dt.UTC))

    response = admin_api.patch(f"sharings/{world.sharing.pk}", {"endDate": None})

    assert response.status_code == 409
    assert response.json()["error"]["code"] in {"end_locked", "sharing_ended"}


def test_a_new_start_must_be_in_the_future(world, admin_api):
    response = admin_api.patch(f"sharings/{world.sharing.pk}", {"startDate": "2026-07-01T00:00:00Z"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "start_in_past"


def test_patch_changes_only_what_it_is_sent(world, admin_api):
    response = admin_api.patch(
        f"sharings/{world.sharing.pk}",
        {"reference": "CONTRACT-1-EXT", "properties": {"contract": "C1"}, "dataPacksCodes": ["essential"]},
    )

    sharing = response.json()["data"]
    assert response.status_code == 200
    assert (sharing["reference"], sharing["properties"], sharing["dataPacksCodes"]) == (
        "CONTRACT-1-EXT",
        {"contract": "C1"},
        ["essential"],
    )
    assert sharing["startDate"] == "2026-08-01T00:00:00Z"
    assert sharing["recipient"] == "admin@buildco.example"


def test_data_packs_are_locked_once_started(world, admin_api, frozen):
    frozen(dt.datetime(2026, 8, 2, tzinfo=dt.UTC))

    response = admin_api.patch(f"sharings/{world.sharing.pk}", {"dataPacksCodes": ["essential"]})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "data_packs_locked"
    assert list(response.json()["error"]["fields"]) == ["dataPacksCodes"]


def test_the_recipient_cannot_move_to_another_organisation(world, admin_api, outsider_admin):
    response = admin_api.patch(f"sharings/{world.sharing.pk}", {"recipient": outsider_admin.email})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "recipient_other_organisation"
    assert list(response.json()["error"]["fields"]) == ["recipient"]


def test_delete_before_the_start_removes_the_sharing(world, admin_api):
    response = admin_api.delete(f"sharings/{world.sharing.pk}")

    assert response.status_code == 204
    assert not Sharing.objects.filter(pk=world.sharing.pk).exists()
    assert admin_api.get(f"sharings/{world.sharing.pk}").status_code == 404


def test_delete_after_the_start_is_refused(world, admin_api, frozen):
    frozen(dt.datetime(2026, 8, 2, tzinfo=dt.UTC))

    response = admin_api.delete(f"sharings/{world.sharing.pk}")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "sharing_started"
    assert "stop it instead" in response.json()["error"]["message"]
    assert Sharing.objects.filter(pk=world.sharing.pk).exists()


def test_stop_then_stop_again(world, admin_api):
    stopped = admin_api.post(f"sharings/{world.sharing.pk}/stop")
    again = admin_api.post(f"sharings/{world.sharing.pk}/stop")

    assert stopped.status_code == 200
    assert stopped.json()["data"]["status"] == SharingStatus.STOPPED
    assert stopped.json()["data"]["stoppedAt"] == "2026-07-12T09:00:00Z"
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "sharing_ended"


def test_received_assets_can_never_be_shared(world, admin_api):
    response = admin_api.post("sharings", _create_body(world, assetIds=[str(world.partner_machine.pk)]))

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "resharing_forbidden"
    assert list(response.json()["error"]["fields"]) == ["assetIds"]


def test_a_start_more_than_a_year_ago_is_refused(world, admin_api):
    response = admin_api.post("sharings", _create_body(world, startDate="2025-07-01T00:00:00Z", endDate=None))

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "start_too_early"


def test_the_status_is_computed_from_the_dates(world, admin_api, frozen):
    frozen(dt.datetime(2026, 8, 2, tzinfo=dt.UTC))  # the periodic job has not run: the cached status is stale

    sharing = admin_api.get(f"sharings/{world.sharing.pk}").json()["data"]

    assert Sharing.objects.get(pk=world.sharing.pk).status == SharingStatus.SCHEDULED
    assert sharing["status"] == SharingStatus.IN_PROGRESS
