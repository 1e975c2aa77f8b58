"""The contract.applied event (DESIGN §9): an apply that changed something is one event for the owner, showing the
contract as GET /contracts lists it with the apply's plan; a no-op or a dry run is none; the recipient hears only of
the sharings it receives (their own events), never of the contract itself."""

import pytest

from events.models import Event
from outbox.models import Message

from .conftest import DAY, NOW, contract_body, instant, put

pytestmark = pytest.mark.django_db


def applied_events():
    return list(Event.objects.filter(type="contract.applied").order_by("sequence"))


def test_an_apply_is_one_event_for_the_owner_showing_the_contract_and_its_plan(
    now, admin_api, owner_org, machines, beneficiary_admin
):
    response = put(admin_api, "CTR-1", contract_body(machines[:2]))
    (event,) = applied_events()
    assert event.organisation_id == owner_org.pk
    assert (event.subject_type, event.subject_id) == ("contract", event.subject_id)
    data = event.data
    assert data["reference"] == "CTR-1"
    assert data["generation"] == 1
    assert data["status"] == "active"
    assert data["recipient"] == beneficiary_admin.email
    assert data["lines"] == 2
    assert data["sharingCounts"]["scheduled"] == 2
    assert data["summary"]["create"] == 2
    assert [step["action"] for step in data["plan"]] == ["create", "create"]
    assert data["plan"] == response.json()["data"]["plan"]
    assert data["lastAppliedAt"] == instant(NOW)


def test_the_recipient_hears_of_its_sharings_not_of_the_contract(
    now, admin_api, beneficiary_org, machines, beneficiary_admin
):
    put(admin_api, "CTR-1", contract_body(machines[:2]))
    received = Event.objects.filter(organisation=beneficiary_org)
    assert sorted(received.values_list("type", flat=True)) == ["sharing.created", "sharing.created"]
    assert not received.filter(subject_type="contract").exists()


def test_a_noop_and_a_dry_run_are_no_event(now, admin_api, machines, beneficiary_admin):
    body = contract_body(machines[:2])
    put(admin_api, "CTR-1", body)
    put(admin_api, "CTR-1", body)
    put(admin_api, "CTR-1", contract_body(machines[:3]), params={"dryRun": "true"})
    assert len(applied_events()) == 1


def test_each_apply_that_changes_something_is_its_own_event(now, admin_api, machines, beneficiary_admin):
    put(admin_api, "CTR-1", contract_body(machines[:2]))
    put(admin_api, "CTR-1", contract_body(machines[:2], endDate=instant(NOW + 60 * DAY)))
    put(admin_api, "CTR-1", contract_body(machines[:2], status="completed"))
    first, second, third = applied_events()
    assert [event.data["generation"] for event in (first, second, third)] == [1, 2, 3]
    assert second.data["summary"]["update"] == 2
    assert second.data["endDate"] == instant(NOW + 60 * DAY)
    assert third.data["status"] == "completed"
    assert third.data["summary"]["delete"] == 2  # nothing exposed yet: the sharings go


def test_the_event_is_in_the_owners_feed_and_reaches_its_webhooks(now, admin_api, machines, beneficiary_admin):
    created = admin_api.post("webhooks", {"url": "http://127.0.0.1:8000/contracts", "eventTypes": ["contract.applied"]})
    assert created.status_code == 201, created.json()
    put(admin_api, "CTR-1", contract_body(machines[:1]))
    rows = admin_api.get("events", {"type": "contract.applied"}).json()["data"]["rows"]
    assert [(row["type"], row["data"]["reference"]) for row in rows] == [("contract.applied", "CTR-1")]
    (event,) = applied_events()
    (delivery,) = Message.objects.filter(kind="webhook_delivery")  # the endpoint asked for nothing else
    assert delivery.key == f"webhook:{created.json()['data']['id']}:{event.event_id}"
    assert delivery.context["event_type"] == "contract.applied"
