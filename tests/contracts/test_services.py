"""contract_apply below the API: overlaps with sharings outside the contract, a refusal only the sharing services see
(the plan turned out wrong because a sharing changed under it) becoming a conflict of its step, and how an apply
reads in the audit trail."""

import uuid

import pytest
from django.utils import translation

from audit.models import AuditEvent
from audit.timeline import audit_timeline
from contracts import services
from contracts.models import Contract, ContractApply
from contracts.plan import Action, Change, Desired, Line, Plan, Step
from sharing import services as sharing_services
from sharing.models import Sharing
from tests.factories import SharingFactory

from .conftest import DAY, NOW, contract_body, put

pytestmark = pytest.mark.django_db


def test_a_machine_already_shared_outside_the_contract_is_an_overlap_warning(
    now, admin_api, owner_org, outsider_org, machines, beneficiary_admin
):
    SharingFactory(owner=owner_org, beneficiary=outsider_org, machines=[machines[0]], reference="SITE-7")
    response = put(admin_api, "CTR-1", contract_body(machines[:2]))
    warnings = response.json()["data"]["warnings"]
    assert [(warning["code"], warning["assetId"]) for warning in warnings] == [("overlap", str(machines[0].pk))]
    assert "SITE-7" in warnings[0]["message"]
    assert response.json()["data"]["summary"]["create"] == 2  # allowed, and said


def test_a_blank_reference_answers_400(now, admin_api, machines, beneficiary_admin):
    response = put(admin_api, " ", contract_body(machines[:1]))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "reference_required"


def test_a_refusal_only_the_services_see_turns_the_step_into_a_conflict(now, admin_actor, machines, beneficiary_admin):
    """The plan said update, but the sharing had started meanwhile: sharing_update refuses, with its own code."""
    started = sharing_services.sharing_create(
        actor=admin_actor,
        machine_ids=[machines[0].pk],
        recipient_email=beneficiary_admin.email,
        start_at=NOW - DAY,
        end_at=NOW + 9 * DAY,
    )[0]
    contract = Contract.objects.create(owner=admin_actor.organisation, reference="CTR-1")
    stale = Step(
        Action.UPDATE,
        machines[0].pk,
        "L1",
        started.pk,
        (Change("startDate", NOW - DAY, NOW + DAY),),
        values={"startDate": NOW + DAY},
    )
    desired = Desired(
        reference="CTR-1",
        status="active",
        recipient_email=beneficiary_admin.email,
        start_at=NOW + DAY,
        end_at=None,
        data_packs=("essential",),
        lines=(Line(machines[0].pk, "L1"),),
    )
    done, created = services._execute(
        Plan((stale,)),
        actor=admin_actor,
        contract=contract,
        desired=desired,
        sharings={started.pk: started},
        recipient=beneficiary_admin,
        now=NOW,
    )
    assert created == []
    (step,) = done.steps
    assert (step.action, step.code, step.intended) == (Action.CONFLICT, "start_locked", Action.UPDATE)
    assert Sharing.objects.get(pk=started.pk).start_at == NOW - DAY


def test_an_apply_reads_in_the_audit_trail_in_both_languages(now, admin_api, owner_org, machines, beneficiary_admin):
    put(admin_api, "CTR-1", contract_body(machines[:3]))
    event = AuditEvent.objects.get(target_type="contract")
    for language, expected in (("en", "3 steps"), ("fr", "3 étapes")):
        with translation.override(language):
            (row,) = audit_timeline([event], organisation=owner_org)
            plan = next(change for change in row["changes"] if "3" in str(change))
            assert expected in str(plan)
    apply = ContractApply.objects.get()
    assert str(apply) == "CTR-1 #1"
    assert str(apply.contract) == "CTR-1"
    assert event.target_id == apply.contract.pk
    assert event.cause_id == apply.pk != uuid.UUID(int=0)
