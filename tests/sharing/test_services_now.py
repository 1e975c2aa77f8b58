"""The sharing services act at the `now` they are given: a history can be replayed (the demo seed does) without moving
the clock. The wall clock is frozen years away, so a service that read it would stamp, decide or audit wrongly."""

import datetime as dt

import pytest

from accounts.actors import Actor
from audit.models import AuditEvent
from sharing.audit import AuditAction
from sharing.lifecycle import SharingStatus
from sharing.models import ReceivedMachine, Sharing
from sharing.services import (
    received_machine_update,
    sharing_create,
    sharing_delete,
    sharing_lifecycle_run,
    sharing_stop,
    sharing_update,
    sharings_attach_beneficiary,
)
from tests.factories import MachineFactory, UserFactory, WorkspaceFactory

UTC = dt.UTC
CREATED = dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY = dt.timedelta(days=1)


@pytest.fixture(autouse=True)
def wall_clock_elsewhere(frozen):
    frozen(dt.datetime(2031, 1, 1, tzinfo=UTC))


def _events(sharing, action):
    return list(AuditEvent.objects.filter(target_id=sharing.pk, action=action).values_list("occurred_at", flat=True))


def test_a_history_replayed_at_past_moments(admin_actor, owner_org, beneficiary_org, beneficiary_admin):
    machine = MachineFactory(organisation=owner_org)
    (sharing,) = sharing_create(
        actor=admin_actor,
        machine_ids=[machine.pk],
        recipient_email=beneficiary_admin.email,
        start_at=CREATED + DAY,
        end_at=CREATED + 10 * DAY,
        now=CREATED,
    )
    assert (sharing.status, sharing.created_at, sharing.updated_at) == (SharingStatus.SCHEDULED, CREATED, CREATED)
    assert _events(sharing, AuditAction.CREATED) == [CREATED]
    received = ReceivedMachine.objects.get(organisation=beneficiary_org, machine=machine)
    assert received.created_at == CREATED

    extended_at = CREATED + 2 * DAY
    sharing = sharing_update(
        actor=admin_actor, sharing=sharing, changes={"end_at": CREATED + 20 * DAY}, now=extended_at
    )
    # The start passed at CREATED + 1 day: the edit decides the status at its own `now`.
    assert (sharing.status, sharing.updated_at) == (SharingStatus.IN_PROGRESS, extended_at)
    assert _events(sharing, AuditAction.UPDATED) == [extended_at]

    renamed_at = CREATED + 3 * DAY
    received_machine_update(
        actor=Actor.for_user(beneficiary_admin),
        received_machine=received,
        name="Our loader",
        workspaces=[WorkspaceFactory(organisation=beneficiary_org)],
        now=renamed_at,
    )
    assert AuditEvent.objects.filter(target_id=received.pk).values_list("occurred_at", flat=True).distinct().get() == (
        renamed_at
    )

    stopped_at = CREATED + 4 * DAY
    sharing = sharing_stop(actor=admin_actor, sharing=sharing, now=stopped_at)
    assert (sharing.status, sharing.stopped_at, sharing.updated_at) == (SharingStatus.STOPPED, stopped_at, stopped_at)
    assert _events(sharing, AuditAction.STOPPED) == [stopped_at]


def test_attaching_and_the_lifecycle_at_past_moments(admin_actor, owner_org, beneficiary_org):
    (sharing,) = sharing_create(
        actor=admin_actor,
        machine_ids=[MachineFactory(organisation=owner_org).pk],
        recipient_email="late@newco.example",
        recipient_organisation_name="NewCo",
        start_at=CREATED + 2 * DAY,
        end_at=CREATED + 5 * DAY,
        now=CREATED,
    )
    assert sharing.status == SharingStatus.PENDING

    joined_at = CREATED + DAY
    user = UserFactory(email="late@newco.example", organisation=beneficiary_org)
    (attached,) = sharings_attach_beneficiary(actor=Actor.for_user(user), user=user, now=joined_at)
    assert (attached.status, attached.updated_at) == (SharingStatus.SCHEDULED, joined_at)
    assert _events(sharing, AuditAction.BENEFICIARY_ATTACHED) == [joined_at]

    started_at = CREATED + 2 * DAY
    assert sharing_lifecycle_run(now=started_at) == 1
    assert Sharing.objects.get(pk=sharing.pk).status == SharingStatus.IN_PROGRESS


def test_a_pending_sharing_that_ended_before_the_sign_up_does_not_attach(admin_actor, owner_org, beneficiary_org):
    sharing_create(
        actor=admin_actor,
        machine_ids=[MachineFactory(organisation=owner_org).pk],
        recipient_email="late@newco.example",
        recipient_organisation_name="NewCo",
        start_at=CREATED + DAY,
        end_at=CREATED + 2 * DAY,
        now=CREATED,
    )
    user = UserFactory(email="late@newco.example", organisation=beneficiary_org)
    assert sharings_attach_beneficiary(actor=Actor.for_user(user), user=user, now=CREATED + 3 * DAY) == []
    assert len(sharings_attach_beneficiary(actor=Actor.for_user(user), user=user, now=CREATED + DAY)) == 1


def test_deleting_at_a_past_moment(admin_actor, owner_org, beneficiary_admin):
    (sharing,) = sharing_create(
        actor=admin_actor,
        machine_ids=[MachineFactory(organisation=owner_org).pk],
        recipient_email=beneficiary_admin.email,
        start_at=CREATED + DAY,
        now=CREATED,
    )
    # At the wall clock (2031) the sharing has started and could not be deleted; at CREATED + 1 hour it can.
    sharing_delete(actor=admin_actor, sharing=sharing, now=CREATED + dt.timedelta(hours=1))
    assert not Sharing.objects.filter(pk=sharing.pk).exists()
    assert _events(sharing, AuditAction.DELETED) == [CREATED + dt.timedelta(hours=1)]
