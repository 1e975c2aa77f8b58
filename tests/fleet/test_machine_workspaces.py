"""An owner places its own machines in its own workspaces: the machine_set_workspaces service (admins of the owner
only, the owner's workspaces only) and the in-place control on the Fleet page's "Our machines" rows."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.actors import Actor
from audit.models import ActorKind, AuditEvent
from fleet.audit import AuditAction, AuditTarget
from fleet.services import machine_set_workspaces
from hiboo_connect.errors import InvalidInput, NotAllowed
from sharing.models import ReceivedMachine
from tests.factories import MachineFactory, SharingFactory, WorkspaceFactory

HTMX = {"HTTP_HX_REQUEST": "true"}
NOW = dt.datetime(2026, 7, 12, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def yard(owner_org):
    return WorkspaceFactory(organisation=owner_org, name="Yard")


@pytest.fixture
def lyon(owner_org):
    return WorkspaceFactory(organisation=owner_org, name="Lyon site")


@pytest.fixture
def foreign_workspace(outsider_org):
    return WorkspaceFactory(organisation=outsider_org, name="Quarry north")


def workspace_names(machine):
    return sorted(machine.workspaces.values_list("name", flat=True))


# --- the service -----------------------------------------------------------------------------------------------------


def test_admin_places_a_machine_and_takes_it_out_again(admin_actor, machine, yard, lyon):
    machine_set_workspaces(actor=admin_actor, machine=machine, workspaces=[yard, lyon])
    assert workspace_names(machine) == ["Lyon site", "Yard"]
    machine_set_workspaces(actor=admin_actor, machine=machine, workspaces=[lyon])
    assert workspace_names(machine) == ["Lyon site"]
    machine_set_workspaces(actor=admin_actor, machine=machine, workspaces=[])
    assert workspace_names(machine) == []


@pytest.mark.parametrize(
    ("actor_fixture", "code"),
    [("member_actor", "admin_required"), ("outsider_admin", "not_your_organisation")],
)
def test_only_admins_of_the_owner_may_place_its_machines(request, machine, yard, actor_fixture, code):
    actor = request.getfixturevalue(actor_fixture)
    if not isinstance(actor, Actor):
        actor = Actor.for_user(actor)
    with pytest.raises(NotAllowed) as refusal:
        machine_set_workspaces(actor=actor, machine=machine, workspaces=[yard])
    assert refusal.value.code == code
    assert workspace_names(machine) == []


def test_workspaces_must_be_the_owners_own(admin_actor, machine, yard, foreign_workspace):
    machine.workspaces.set([yard])
    with pytest.raises(InvalidInput) as refusal:
        machine_set_workspaces(actor=admin_actor, machine=machine, workspaces=[yard, foreign_workspace])
    assert (refusal.value.code, refusal.value.field) == ("workspace_not_yours", "workspaces")
    assert workspace_names(machine) == ["Yard"]
    assert not AuditEvent.objects.exists()


def test_a_change_is_audited_with_its_actor_and_the_workspaces_before_and_after(
    frozen, admin_actor, owner_admin, owner_org, machine, yard, lyon
):
    frozen(NOW)
    machine.workspaces.set([yard])
    machine_set_workspaces(actor=admin_actor, machine=machine, workspaces=[lyon, yard])
    frozen(NOW + dt.timedelta(hours=1))
    machine_set_workspaces(actor=admin_actor, machine=machine, workspaces=[])
    first, second = AuditEvent.objects.filter(target_type=AuditTarget.MACHINE, target_id=machine.pk)
    assert (first.organisation, first.action, first.occurred_at) == (owner_org, AuditAction.WORKSPACES_CHANGED, NOW)
    assert (first.actor_kind, first.actor_user, first.actor_label) == (ActorKind.USER, owner_admin, owner_admin.email)
    assert first.changes == [
        {"field": "workspaces", "before": [str(yard.pk)], "after": sorted([str(yard.pk), str(lyon.pk)])}
    ]
    assert second.occurred_at == NOW + dt.timedelta(hours=1)
    assert second.changes == [{"field": "workspaces", "before": sorted([str(yard.pk), str(lyon.pk)]), "after": []}]


def test_setting_the_same_workspaces_again_audits_nothing(frozen, admin_actor, machine, yard, lyon):
    frozen(NOW)
    machine.workspaces.set([yard, lyon])
    machine_set_workspaces(actor=admin_actor, machine=machine, workspaces=[lyon, yard])
    assert not AuditEvent.objects.exists()


# --- the views -------------------------------------------------------------------------------------------------------


def edit_url(machine):
    return reverse("fleet:own_workspaces", args=[machine.pk])


def row_url(machine):
    return reverse("fleet:own_row", args=[machine.pk])


def test_anonymous_is_sent_to_the_login(client, machine, yard):
    for response in (
        client.get(edit_url(machine)),
        client.post(edit_url(machine), {"workspaces": [yard.pk]}),
        client.get(row_url(machine)),
    ):
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))
    assert workspace_names(machine) == []


def test_members_see_no_control_and_get_403(client, owner_member, machine, yard):
    client.force_login(owner_member)
    page = client.get(reverse("fleet:machines"))
    assert page.status_code == 200
    assert str(machine.serial_number).encode() in page.content
    assert edit_url(machine).encode() not in page.content
    assert client.get(edit_url(machine), **HTMX).status_code == 403
    assert client.post(edit_url(machine), {"workspaces": [yard.pk]}, **HTMX).status_code == 403
    assert workspace_names(machine) == []
    assert client.get(row_url(machine), **HTMX).status_code == 200  # reading the row is fine


def test_other_organisations_get_404_even_the_beneficiary(client, outsider_admin, beneficiary_admin, machine, yard):
    sharing = SharingFactory(owner=machine.organisation, beneficiary=beneficiary_admin.organisation)
    sharing.machines.add(machine)
    ReceivedMachine.objects.get_or_create(
        organisation=beneficiary_admin.organisation, machine=machine, defaults={"name": machine.default_display_name}
    )
    for admin in (outsider_admin, beneficiary_admin):
        client.force_login(admin)
        assert client.get(edit_url(machine), **HTMX).status_code == 404
        assert client.post(edit_url(machine), {"workspaces": []}, **HTMX).status_code == 404
        assert client.get(row_url(machine), **HTMX).status_code == 404
    assert workspace_names(machine) == []


def test_admin_opens_the_row_form_in_place(client, owner_admin, machine, yard, lyon):
    machine.workspaces.set([yard])
    client.force_login(owner_admin)
    page = client.get(reverse("fleet:machines"))
    assert f'hx-get="{edit_url(machine)}"'.encode() in page.content
    response = client.get(edit_url(machine), **HTMX)
    content = response.content.decode()
    assert response.status_code == 200
    assert content.lstrip().startswith(f'<tr id="machine-{machine.pk}"')
    assert "<html" not in content
    assert f'value="{yard.pk}" id="machine-{machine.pk}-workspaces_' in content
    assert content.count('type="checkbox"') == 2
    assert content.count("checked") == 1  # Yard, as it is now
    # Without JavaScript the link opens a page of its own with the same form.
    page = client.get(edit_url(machine))
    assert page.status_code == 200
    assert "<html" in page.content.decode()
    assert f'action="{edit_url(machine)}"'.encode() in page.content


def test_admin_saves_in_place(client, owner_admin, machine, yard, lyon):
    client.force_login(owner_admin)
    response = client.post(edit_url(machine), {"workspaces": [yard.pk, lyon.pk]}, **HTMX)
    assert response.status_code == 200
    content = response.content.decode()
    assert content.lstrip().startswith(f'<tr id="machine-{machine.pk}"')
    assert "Saved" in content
    assert '<li class="tag">Lyon site</li><li class="tag">Yard</li>' in content
    assert workspace_names(machine) == ["Lyon site", "Yard"]
    # Ticking nothing takes it out of every workspace.
    client.post(edit_url(machine), {}, **HTMX)
    assert workspace_names(machine) == []


def test_admin_saves_without_javascript(client, owner_admin, machine, yard):
    client.force_login(owner_admin)
    response = client.post(edit_url(machine), {"workspaces": [yard.pk]}, follow=True)
    assert response.redirect_chain == [(reverse("fleet:machines"), 302)]
    assert b"Machine placed in its workspaces." in response.content
    assert workspace_names(machine) == ["Yard"]


def test_another_organisations_workspace_is_refused_next_to_the_field(
    client, owner_admin, machine, yard, foreign_workspace
):
    client.force_login(owner_admin)
    response = client.post(edit_url(machine), {"workspaces": [yard.pk, foreign_workspace.pk]}, **HTMX)
    assert response.status_code == 400
    assert b'class="errorlist' in response.content
    assert b"Quarry north" not in response.content
    assert workspace_names(machine) == []


def test_cancel_gives_back_the_row(client, owner_admin, machine, lyon):
    machine.workspaces.set([lyon])
    client.force_login(owner_admin)
    response = client.get(row_url(machine), **HTMX)
    assert response.status_code == 200
    assert '<li class="tag">Lyon site</li>' in response.content.decode()
    assert "<form" not in response.content.decode()


@pytest.mark.parametrize("count", [3, 30])
def test_fleet_page_queries_do_not_grow_with_own_machines(client, owner_admin, owner_org, yard, count):
    def queries_for(machine_count):
        for _ in range(machine_count):
            MachineFactory(organisation=owner_org).workspaces.add(yard)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("fleet:machines")).status_code == 200
        return len(captured)

    client.force_login(owner_admin)
    baseline = queries_for(1)
    assert queries_for(count - 1) == baseline  # 1 machine, then `count` machines
