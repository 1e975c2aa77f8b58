"""The API refuses what it cannot take, never with a 500 (issue 9, item 3; DESIGN §6): a deeply nested body, wrong
JSON types (no coercion), and instants finer than a microsecond (accepted, truncated: said in the schema)."""

import datetime as dt
import json

import pytest

from sharing.models import Sharing


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def create_body(world, beneficiary_admin, **fields):
    return {
        "assetIds": [str(world.machine.pk)],
        "recipient": beneficiary_admin.email,
        "startDate": "2026-07-13T08:00:00Z",
        **fields,
    }


@pytest.mark.parametrize("headers", [{}, {"Idempotency-Key": "nested-1"}])
def test_a_deeply_nested_body_answers_400(admin_api, world, headers):
    body = '{"reference": ' + '{"nested": ' * 1000 + "1" + "}" * 1001  # what the audit sent: 1,000 levels, 13 kB
    assert 12_000 < len(body) < 15_000
    response = admin_api.post("sharings", raw=body, headers=headers)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_request"


def test_a_nested_body_on_a_patch_answers_400(admin_api, world):
    response = admin_api.patch(f"sharings/{world.sharing.pk}", raw=nested(5000), headers={"Idempotency-Key": "n-2"})
    assert response.status_code == 400


def test_a_body_nested_a_little_is_still_read(admin_api, world, beneficiary_admin):
    # Properties are one level deep; a few levels of nesting reach the serializer and are refused by it.
    body = create_body(world, beneficiary_admin, properties={"site": {"a": {"b": ["c"]}}})
    response = admin_api.post("sharings", body)
    assert response.status_code == 400
    assert [name.split(".")[0] for name in response.json()["error"]["fields"]] == ["properties"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("reference", 1),
        ("reference", True),
        ("recipientOrganisationName", 12),
        ("recipient", 5),
        ("notificationEnabled", "yes"),
        ("notificationEnabled", 1),
        ("notificationEnabled", "true"),
        ("onePerAsset", "yes"),
        ("onePerAsset", 0),
    ],
)
def test_a_wrong_type_on_create_is_refused_naming_the_field(admin_api, world, beneficiary_admin, field, value):
    response = admin_api.post("sharings", create_body(world, beneficiary_admin, **{field: value}))
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]
    assert Sharing.objects.count() == 2  # the world's two


@pytest.mark.parametrize(("field", "value"), [("reference", 1), ("notificationEnabled", "no"), ("recipient", [])])
def test_a_wrong_type_on_update_is_refused_naming_the_field(admin_api, world, field, value):
    response = admin_api.patch(f"sharings/{world.sharing.pk}", {field: value})
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]


def test_an_asset_id_given_as_a_number_is_refused(admin_api, world, beneficiary_admin):
    response = admin_api.post("sharings", create_body(world, beneficiary_admin, assetIds=[1]))
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["assetIds"]


def test_a_received_asset_name_given_as_a_number_is_refused(admin_api, world):
    response = admin_api.patch(f"received-assets/{world.partner_machine.pk}", {"name": 7})
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["name"]


def test_the_right_types_are_still_accepted(admin_api, world, beneficiary_admin):
    body = create_body(world, beneficiary_admin, reference="R-1", notificationEnabled=False, onePerAsset=False)
    assert admin_api.post("sharings", body).status_code == 201


def test_nanoseconds_are_accepted_and_truncated_to_microseconds(admin_api, world, beneficiary_admin):
    body = create_body(world, beneficiary_admin, reference="NANO", startDate="2026-07-13T08:00:00.123456789Z")
    response = admin_api.post("sharings", body)
    assert response.status_code == 201
    assert response.json()["data"]["startDate"] == "2026-07-13T08:00:00.123456Z"
    assert Sharing.objects.get(reference="NANO").start_at == dt.datetime(2026, 7, 13, 8, 0, 0, 123456, tzinfo=dt.UTC)


def test_more_than_nine_fractional_digits_are_refused(admin_api, world, beneficiary_admin):
    body = create_body(world, beneficiary_admin, startDate="2026-07-13T08:00:00.1234567891Z")
    response = admin_api.post("sharings", body)
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["startDate"]


def test_the_schema_says_instants_are_truncated_to_microseconds(admin_api, world):
    schema = admin_api.get("schema/", {"format": "json"})
    text = json.dumps(schema.json()) if schema["Content-Type"].startswith("application/json") else schema.text
    assert "truncated to microseconds" in text


def test_the_idempotency_fingerprint_of_a_deeply_nested_body_is_its_bytes(rf):
    from rest_framework.request import Request

    from accounts.idempotency import _fingerprint

    body = nested(5000)
    request = Request(rf.post("/api/v1/sharings", data=body, content_type="application/json"))
    assert len(_fingerprint(request)) == 64


def test_the_depth_check_ignores_brackets_inside_strings():
    from hiboo_connect.api.parsers import json_too_deep

    assert not json_too_deep('{"reference": "' + "[" * 100 + '"}')
    assert not json_too_deep('{"a": "\\"[[[[[[[[[[[[[[[[[[[[[[[[[["}')
    assert json_too_deep(nested(21))
    assert not json_too_deep(nested(20))
