"""PUT|GET|DELETE /api/v1/contracts/{reference} and GET /api/v1/contracts (DESIGN §7), end to end through the API
with time frozen: the plan, dry runs that write nothing, conflicts in both modes, If-Match, idempotency, drift, the
audit trail of an apply, and inputs that must never answer 500."""

import json

import pytest

from accounts.actors import Actor
from audit.models import AuditEvent
from contracts.models import Contract, ContractApply
from outbox.models import Message
from sharing import services as sharing_services
from sharing.models import Sharing
from tests.factories import MachineFactory, SharingFactory

from .conftest import DAY, NOW, contract_body, instant, put

pytestmark = pytest.mark.django_db


def counts():
    return {
        "contracts": Contract.objects.count(),
        "applies": ContractApply.objects.count(),
        "sharings": Sharing.objects.count(),
        "messages": Message.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


def actions(response):
    return [(step["action"], step["lineReference"], step["code"]) for step in response.json()["data"]["plan"]]


def test_the_first_put_creates_one_sharing_per_line(now, admin_api, machines, beneficiary_admin):
    response = put(admin_api, "CTR-1", contract_body(machines[:2]))
    assert response.status_code == 201, response.json()
    data = response.json()["data"]
    assert response["ETag"] == '"1"'
    assert (data["reference"], data["dryRun"], data["generation"], data["status"]) == ("CTR-1", False, 1, "active")
    assert actions(response) == [("create", "L1", None), ("create", "L2", None)]
    assert data["summary"] == {"create": 2, "update": 0, "stop": 0, "delete": 0, "noop": 0, "conflict": 0}
    assert [sharing["contract"] for sharing in data["sharings"]] == ["CTR-1", "CTR-1"]
    assert {sharing["reference"] for sharing in data["sharings"]} == {"CTR-1"}
    assert {step["sharingId"] for step in data["plan"]} == {sharing["id"] for sharing in data["sharings"]}
    sharing = Sharing.objects.get(pk=data["plan"][0]["sharingId"])
    assert (sharing.contract_line, sharing.beneficiary, sharing.data_packs) == (
        "L1",
        beneficiary_admin.organisation,
        ["essential", "usage_hours"],
    )
    # Each sharing is its own sharing in the API, filterable by its contract.
    listed = admin_api.get("sharings", {"contract": "CTR-1"}).json()["data"]
    assert listed["total"] == 2
    assert admin_api.get("sharings", {"contract": "CTR-2"}).json()["data"]["total"] == 0


def test_the_same_desired_state_again_is_all_noop_and_writes_nothing(now, admin_api, machines, beneficiary_admin):
    body = contract_body(machines[:3])
    put(admin_api, "CTR-1", body)
    before = counts()
    response = put(admin_api, "CTR-1", body)
    assert response.status_code == 200
    assert actions(response) == [("noop", "L1", None), ("noop", "L2", None), ("noop", "L3", None)]
    assert response.json()["data"]["generation"] == 1
    assert counts() == before


def test_a_noop_apply_runs_a_fixed_number_of_statements(
    now, admin_api, machines, beneficiary_admin, django_assert_num_queries
):
    body = contract_body(machines)
    put(admin_api, "CTR-1", body)
    put(admin_api, "CTR-1", body)  # the key's last use is written at most once a minute
    # The key, the recipient's account, the contract, its sharings with their machines' links (one statement),
    # without a transaction or a lock (a no-op writes nothing): whatever the number of lines (which machines the
    # owner may share is read only for lines that create a sharing).
    with django_assert_num_queries(4):
        response = put(admin_api, "CTR-1", body)
    assert response.json()["data"]["summary"]["noop"] == 4


#: A new contract: the key, the recipient, the contract looked for (an apply that changes nothing would end there),
#: the savepoint, the contract (inserted unless there, then locked; a new contract has no sharings to read),
#: the machines the owner may share, the overlap warnings; sharings_create (its savepoint, the machines, the contact,
#: one INSERT each for the sharings, their machines, their audit events, the received machines and the events, the
#: webhooks to call: the recipient is the one the apply read, the machines of the events the ones just written); the
#: contract, its history row and its audit event (its sharings are the ones just created); the one e-mail; the
#: contract.applied event and the webhooks to call.
NEW_CONTRACT_STATEMENTS = 25


@pytest.mark.parametrize("lines", [3, 30])
def test_a_new_contract_runs_a_fixed_number_of_statements_whatever_its_lines(
    now, admin_api, owner_org, beneficiary_admin, django_assert_num_queries, lines
):
    machines = [MachineFactory(organisation=owner_org) for _ in range(lines)]
    put(admin_api, "WARM-UP", contract_body(machines[:1]))  # the key's last use, the contact
    with django_assert_num_queries(NEW_CONTRACT_STATEMENTS):
        response = put(admin_api, "CTR-1", contract_body(machines))
    assert response.status_code == 201
    assert response.json()["data"]["summary"]["create"] == lines
    assert Sharing.objects.filter(contract__reference="CTR-1").count() == lines
    assert AuditEvent.objects.filter(target_id__in=Sharing.objects.filter(contract__reference="CTR-1")).count() == lines


def test_a_dry_run_of_a_new_contract_writes_nothing_and_sends_nothing(now, admin_api, machines, beneficiary_admin):
    before = counts()
    response = put(admin_api, "CTR-1", contract_body(machines[:2]), params={"dryRun": "true"})
    assert response.status_code == 200
    data = response.json()["data"]
    assert (data["dryRun"], data["generation"]) == (True, 0)
    assert actions(response) == [("create", "L1", None), ("create", "L2", None)]
    assert data["sharings"] == []
    assert counts() == before


def test_a_dry_run_of_a_change_writes_nothing_and_answers_the_plan_the_apply_follows(
    now, admin_api, machines, beneficiary_admin
):
    put(admin_api, "CTR-1", contract_body(machines[:2]))
    before = counts()
    changed = contract_body(machines[1:3], endDate=instant(NOW + 60 * DAY))
    changed["lines"] = [{"assetId": str(machines[1].pk), "lineReference": "L2"}, {"assetId": str(machines[2].pk)}]
    preview = put(admin_api, "CTR-1", changed, params={"dryRun": "true"})
    assert counts() == before
    assert sorted(actions(preview)) == [("create", None, None), ("delete", "L1", None), ("update", "L2", None)]
    applied = put(admin_api, "CTR-1", changed)
    assert actions(applied) == actions(preview)
    assert applied.json()["data"]["generation"] == 2


def test_on_conflict_fail_refuses_the_whole_apply_with_the_plan(now, admin_api, machines, beneficiary_admin, frozen):
    put(admin_api, "CTR-1", contract_body(machines[:2]))
    frozen(NOW + 3 * DAY)  # both sharings have started: their packs are locked
    before = counts()
    body = contract_body(machines[:3], dataPacksCodes=["essential"])
    response = put(admin_api, "CTR-1", body)
    assert response.status_code == 409
    error, data = response.json()["error"], response.json()["data"]
    assert error["code"] == "contract_conflict"
    assert [step["action"] for step in data["plan"]] == ["conflict", "conflict", "create"]
    assert data["plan"][0]["code"] == "data_packs_locked"
    assert data["plan"][0]["reason"] == "The data packs can no longer be changed: the sharing has started."
    assert counts() == before

    skipped = put(admin_api, "CTR-1", body, params={"onConflict": "skip"})
    assert skipped.status_code == 200
    assert [step["action"] for step in skipped.json()["data"]["plan"]] == ["conflict", "conflict", "create"]
    assert Sharing.objects.filter(contract__reference="CTR-1").count() == 3
    assert skipped.json()["data"]["generation"] == 2


def test_if_match_with_an_older_generation_answers_412(now, admin_api, machines, beneficiary_admin):
    first = put(admin_api, "CTR-1", contract_body(machines[:1]))
    etag = first["ETag"]
    put(admin_api, "CTR-1", contract_body(machines[:2]), headers={"If-Match": etag})
    before = counts()
    stale = put(admin_api, "CTR-1", contract_body(machines[:3]), headers={"If-Match": etag})
    assert stale.status_code == 412
    assert stale.json()["error"]["code"] == "generation_mismatch"
    assert counts() == before
    fresh = put(admin_api, "CTR-1", contract_body(machines[:3]), headers={"If-Match": 'W/"2"'})
    assert fresh.status_code == 200
    assert fresh["ETag"] == '"3"'
    bad = put(admin_api, "CTR-1", contract_body(machines[:3]), headers={"If-Match": "yesterday"})
    assert bad.status_code == 400
    assert "If-Match" in bad.json()["error"]["fields"]


def test_an_idempotency_key_replays_the_first_answer(now, admin_api, machines, beneficiary_admin):
    headers = {"Idempotency-Key": "ctr-1-signed"}
    first = put(admin_api, "CTR-1", contract_body(machines[:2]), headers=headers)
    before = counts()
    again = put(admin_api, "CTR-1", contract_body(machines[:2]), headers=headers)
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert counts() == before
    other = put(admin_api, "CTR-1", contract_body(machines[:3]), headers=headers)
    assert other.status_code == 422


def test_an_apply_is_one_audit_event_with_its_plan_and_tags_each_sharing_event(
    now, admin_api, machines, beneficiary_admin
):
    put(admin_api, "CTR-1", contract_body(machines[:2]))
    lines = [
        {"assetId": str(machines[1].pk), "lineReference": "L2"},
        {"assetId": str(machines[2].pk), "lineReference": "L3"},
    ]
    put(admin_api, "CTR-1", contract_body(machines, lines=lines))
    second = ContractApply.objects.get(generation=2)
    contract_events = AuditEvent.objects.filter(target_type="contract").order_by("occurred_at", "id")
    assert contract_events.count() == 2
    event = contract_events.last()
    assert event.cause_id == second.pk
    plan = next(change["after"] for change in event.changes if change["field"] == "plan")
    assert [(step["action"], step["lineReference"]) for step in plan] == [
        ("noop", "L2"),
        ("create", "L3"),
        ("delete", "L1"),
    ]
    tagged = AuditEvent.objects.filter(cause_id=second.pk, target_type="sharing")
    assert sorted(tagged.values_list("action", flat=True)) == ["created", "deleted"]
    assert second.summary == {"create": 1, "update": 0, "stop": 0, "delete": 1, "noop": 1, "conflict": 0}
    assert second.plan == plan


def test_a_hand_edit_is_drift_and_the_desired_state_wins(now, admin_api, machines, beneficiary_admin):
    body = contract_body(machines[:1])
    sharing_id = put(admin_api, "CTR-1", body).json()["data"]["plan"][0]["sharingId"]
    edited = admin_api.patch(f"sharings/{sharing_id}", {"endDate": instant(NOW + 10 * DAY)})
    assert edited.status_code == 200
    response = put(admin_api, "CTR-1", body)
    data = response.json()["data"]
    assert [(warning["code"], warning["field"]) for warning in data["warnings"]] == [("drift", "endDate")]
    assert actions(response) == [("update", "L1", None)]
    assert Sharing.objects.get(pk=sharing_id).end_at == NOW + 31 * DAY
    assert put(admin_api, "CTR-1", body).json()["data"]["warnings"] == []


def test_delete_cancels_the_contract(now, admin_api, machines, beneficiary_admin, frozen):
    put(admin_api, "CTR-1", contract_body(machines[:1], lines=[{"assetId": str(machines[0].pk)}]))
    put(admin_api, "CTR-1", contract_body(machines, lines=[{"assetId": str(m.pk)} for m in machines[:2]]))
    frozen(NOW + 2 * DAY)
    response = admin_api.delete("contracts/CTR-1")
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["status"] == "cancelled"
    assert sorted(step["action"] for step in data["plan"]) == ["stop", "stop"]
    assert {sharing["status"] for sharing in data["sharings"]} == {"stopped"}
    assert Contract.objects.get().status == "cancelled"
    assert admin_api.delete("contracts/CTR-404").status_code == 404


def test_get_answers_the_desired_state_the_sharings_and_the_history(now, admin_api, machines, beneficiary_admin):
    put(admin_api, "CTR/2026/1", contract_body(machines[:1]))
    put(admin_api, "CTR/2026/1", contract_body(machines[:2]))
    response = admin_api.get("contracts/CTR/2026/1")
    assert response.status_code == 200
    assert response["ETag"] == '"2"'
    data = response.json()["data"]
    assert data["reference"] == "CTR/2026/1"
    assert len(data["desiredState"]["lines"]) == 2
    assert data["sharingCounts"]["scheduled"] == 2
    assert len(data["sharings"]) == 2
    assert [(apply["generation"], apply["appliedBy"]) for apply in data["applies"]] == [
        (2, "API key ERP sync"),
        (1, "API key ERP sync"),
    ]
    assert data["applies"][0]["summary"]["create"] == 1


def test_the_list_filters_by_status_recipient_and_asset(now, admin_api, machines, beneficiary_admin):
    put(admin_api, "CTR-1", contract_body(machines[:1]))
    put(
        admin_api,
        "CTR-2",
        contract_body(machines[1:2], recipient="someone@else.example", recipientOrganisationName="E"),
    )
    put(admin_api, "CTR-3", contract_body(machines[2:3], status="cancelled"))

    def references(**params):
        response = admin_api.get("contracts", params)
        assert response.status_code == 200, response.json()
        return sorted(row["reference"] for row in response.json()["data"]["rows"])

    assert references() == ["CTR-1", "CTR-2", "CTR-3"]
    assert references(status="active") == ["CTR-1", "CTR-2"]
    assert references(recipient="SOMEONE@else.example") == ["CTR-2"]
    assert references(assetId=str(machines[0].pk)) == ["CTR-1"]
    row = admin_api.get("contracts", {"status": "active", "recipient": "admin@buildco.example"}).json()["data"]["rows"][
        0
    ]
    assert row["sharingCounts"]["scheduled"] == 1
    assert row["lastAppliedAt"] == "2026-07-12T09:00:00Z"
    assert row["lines"] == 1
    assert admin_api.get("contracts", {"assetId": "nope"}).status_code == 400
    assert admin_api.get("contracts", {"status": "closed"}).status_code == 400


def test_contracts_are_the_owners_alone(
    now, admin_api, viewer_api, outsider_api, beneficiary_api, machines, beneficiary_admin
):
    put(admin_api, "CTR-1", contract_body(machines[:1]))
    assert outsider_api.get("contracts/CTR-1").status_code == 404
    assert beneficiary_api.get("contracts/CTR-1").status_code == 404
    assert outsider_api.get("contracts").json()["data"]["total"] == 0
    assert viewer_api.get("contracts/CTR-1").status_code == 200
    assert put(viewer_api, "CTR-1", contract_body(machines[:2])).status_code == 403
    # The outsider's PUT of the same reference is its own contract, and it cannot share the owner's machines.
    response = put(outsider_api, "CTR-1", contract_body(machines[:1]), params={"onConflict": "skip"})
    assert response.status_code == 201
    assert actions(response) == [("conflict", "L1", "unknown_machine")]


def test_a_received_machine_is_a_conflict_of_its_line(now, admin_api, beneficiary_api, machines, beneficiary_admin):
    put(admin_api, "CTR-1", contract_body(machines[:1]))
    body = contract_body(machines[:1], recipient="admin@rentandgo.example")
    body["recipientOrganisationName"] = "Rent & Go"
    response = put(beneficiary_api, "RE-1", body)
    assert response.status_code == 409
    assert actions(response) == [("conflict", "L1", "resharing_forbidden")]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"recipient": "not-an-email"}, "recipient"),
        ({"startDate": "2026-07-13"}, "startDate"),
        ({"startDate": "2100-01-01T00:00:00Z", "endDate": None}, "startDate"),
        ({"endDate": "2100-01-01T00:00:00Z"}, "endDate"),
        ({"endDate": "2026-07-01T00:00:00Z"}, "endDate"),
        ({"status": "paused"}, "status"),
        ({"dataPacksCodes": ["everything"]}, "dataPacksCodes.0"),
        ({"notificationEnabled": "yes"}, "notificationEnabled"),
        ({"properties": {"site": {"nested": 1}}}, "properties.site"),
        ({"lines": [{"assetId": "not-a-uuid"}]}, "lines.0.assetId"),
        ({"lines": [{"assetId": "00000000-0000-4000-8000-000000000000", "colour": "red"}]}, "lines.0.colour"),
        (
            {"lines": [{"assetId": "00000000-0000-4000-8000-000000000000", "endDate": "2999-01-01T00:00:00Z"}]},
            "lines.0.endDate",
        ),
        ({"lines": [{"assetId": "00000000-0000-4000-8000-000000000000"}] * 501}, "lines"),
        ({"lines": "all"}, "lines"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_invalid_input_answers_400_with_the_field(now, admin_api, machines, beneficiary_admin, overrides, field):
    before = counts()
    response = put(admin_api, "CTR-1", contract_body(machines[:1], **overrides))
    assert response.status_code == 400, response.json()
    assert field in response.json()["error"]["fields"], response.json()
    assert counts() == before


@pytest.mark.parametrize(("raw", "status"), [("{", 400), ("[]", 400), ('"x"', 400), ("[" * 5000, 400), ("null", 400)])
def test_bodies_that_are_not_a_contract_answer_400(now, admin_api, raw, status):
    assert put(admin_api, "CTR-1", raw=raw).status_code == status


@pytest.mark.parametrize(("params", "field"), [({"dryRun": "yes"}, "dryRun"), ({"onConflict": "ignore"}, "onConflict")])
def test_bad_parameters_answer_400(now, admin_api, machines, beneficiary_admin, params, field):
    response = put(admin_api, "CTR-1", contract_body(machines[:1]), params=params)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_the_recipient_rules_answer_400_with_the_field(now, admin_api, machines, owner_member):
    own = put(admin_api, "CTR-1", contract_body(machines[:1], recipient=owner_member.email))
    assert own.status_code == 400
    assert own.json()["error"]["code"] == "recipient_in_own_organisation"
    assert "recipient" in own.json()["error"]["fields"]
    unknown = put(admin_api, "CTR-1", contract_body(machines[:1], recipient="new@nowhere.example"))
    assert unknown.status_code == 400
    assert "recipientOrganisationName" in unknown.json()["error"]["fields"]
    invited = put(
        admin_api,
        "CTR-1",
        contract_body(machines[:1], recipient="new@nowhere.example", recipientOrganisationName="Nowhere Ltd"),
    )
    assert invited.status_code == 201
    assert invited.json()["data"]["sharings"][0]["status"] == "pending"


def test_a_reference_too_long_answers_400(now, admin_api, machines, beneficiary_admin):
    response = put(admin_api, "C" * 256, contract_body(machines[:1]))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "reference_too_long"


def test_sharings_outside_contracts_say_so(now, admin_api, owner_org, beneficiary_admin):
    SharingFactory(
        owner=owner_org, beneficiary=beneficiary_admin.organisation, machines=[MachineFactory(organisation=owner_org)]
    )
    (row,) = admin_api.get("sharings").json()["data"]["rows"]
    assert row["contract"] is None


def test_a_hand_stop_is_drift_that_the_contract_cannot_undo(now, admin_api, machines, beneficiary_admin, owner_admin):
    body = contract_body(machines[:1])
    sharing_id = put(admin_api, "CTR-1", body).json()["data"]["plan"][0]["sharingId"]
    sharing_services.sharing_stop(actor=Actor.for_user(owner_admin), sharing=Sharing.objects.get(pk=sharing_id))
    response = put(admin_api, "CTR-1", body)
    assert [(warning["code"], warning["field"]) for warning in response.json()["data"]["warnings"]] == [
        ("drift", "stoppedAt")
    ]
    assert actions(response) == [("noop", "L1", None)]


def test_the_answer_is_json_in_camel_case(now, admin_api, machines, beneficiary_admin):
    data = put(admin_api, "CTR-1", contract_body(machines[:1])).json()["data"]
    assert set(data) == {"reference", "dryRun", "generation", "status", "plan", "summary", "warnings", "sharings"}
    assert set(data["plan"][0]) == {"action", "assetId", "lineReference", "sharingId", "changes", "code", "reason"}
    assert json.dumps(data)
