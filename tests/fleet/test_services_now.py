"""Workspaces and machines are created at the `now` they are given (the demo seed sets its world up in the past);
the wall clock is frozen years away so a service that read it would stamp the wrong moment."""

import datetime as dt

import pytest

from accounts.actors import Actor
from audit.models import AuditEvent
from fleet.audit import AuditAction, AuditTarget
from fleet.services import machine_create, workspace_create

SET_UP = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def wall_clock_elsewhere(frozen):
    frozen(dt.datetime(2031, 1, 1, tzinfo=dt.UTC))


def test_a_workspace_and_a_machine_created_at_a_past_moment(owner_org, owner_admin):
    workspace = workspace_create(actor=Actor.for_user(owner_admin), name="Lyon depot", now=SET_UP)
    event = AuditEvent.objects.get(target_type=AuditTarget.WORKSPACE, target_id=workspace.pk)
    assert (event.action, event.occurred_at) == (AuditAction.CREATED, SET_UP)

    machine = machine_create(
        organisation=owner_org,
        make="CAT",
        model="320 GC",
        serial_number="CAT0320GCXYZ01234",
        category="excavator",
        workspaces=[workspace],
        now=SET_UP + dt.timedelta(hours=1),
    )
    machine.refresh_from_db()
    assert machine.created_at == SET_UP + dt.timedelta(hours=1)
