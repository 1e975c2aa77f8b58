"""Every write an organisation's admins make on its account — settings, members, API keys, colleague invitations,
contacts — leaves an audit event in its transaction: who, when, on what, with the values before and after."""

import datetime as dt

import pytest
from django.db import transaction

from accounts.actors import Actor
from accounts.audit import AuditAction, AuditTarget
from accounts.models import ColleagueInvitation, Role
from accounts.services import (
    api_key_create,
    api_key_revoke,
    colleague_invitation_accept,
    colleague_invitation_revoke,
    colleague_invite,
    contact_update,
    member_remove,
    member_role_change,
    organisation_update,
)
from audit.models import ActorKind, AuditEvent
from hiboo_connect.errors import NotAllowed
from tests.factories import ContactFactory, UserFactory

NOW = dt.datetime(2026, 7, 12, 9, 0, tzinfo=dt.UTC)
EXPIRES = (NOW + ColleagueInvitation.VALIDITY).isoformat().replace("+00:00", "Z")
INVITEE = "colleague@rentandgo.example"


@pytest.fixture(autouse=True)
def clock(frozen):
    return frozen(NOW)


def role_change(admin_actor, owner_org, owner_member):
    member_role_change(actor=admin_actor, member=owner_member, role=Role.ADMIN)
    return owner_org.pk


def removal(admin_actor, owner_org, owner_member):
    member_remove(actor=admin_actor, member=owner_member)
    return owner_org.pk


def key_creation(admin_actor, owner_org, owner_member):
    api_key, _clear = api_key_create(actor=admin_actor, organisation=owner_org, name="contract sync", role="viewer")
    return api_key.pk


def key_revocation(admin_actor, owner_org, owner_member):
    api_key, _clear = api_key_create(actor=admin_actor, organisation=owner_org, name="contract sync", role="viewer")
    AuditEvent.objects.all().delete()
    api_key_revoke(actor=admin_actor, api_key=api_key)
    api_key_revoke(actor=admin_actor, api_key=api_key)  # twice changes nothing, and records nothing
    return api_key.pk


def invitation(admin_actor, owner_org, owner_member):
    return colleague_invite(actor=admin_actor, email=INVITEE, role=Role.MEMBER).pk


def invitation_sent_again(admin_actor, owner_org, owner_member):
    colleague_invite(actor=admin_actor, email=INVITEE, role=Role.MEMBER)
    AuditEvent.objects.all().delete()
    return colleague_invite(actor=admin_actor, email=INVITEE, role=Role.ADMIN).pk


def invitation_revocation(admin_actor, owner_org, owner_member):
    invitation = colleague_invite(actor=admin_actor, email=INVITEE, role=Role.MEMBER)
    invitation_id = invitation.pk  # deleting the row clears it
    AuditEvent.objects.all().delete()
    colleague_invitation_revoke(actor=admin_actor, invitation=invitation)
    return invitation_id


def settings_update(admin_actor, owner_org, owner_member):
    organisation_update(actor=admin_actor, organisation=owner_org, name="Rent & Go SA", timezone="UTC", language="en")
    return owner_org.pk


def contact_edit(admin_actor, owner_org, owner_member):
    contact = ContactFactory(organisation=owner_org, email="site@buildco.example", name="", organisation_name="")
    contact_update(actor=admin_actor, contact=contact, name="Site office", organisation_name="BuildCo")
    return contact.pk


@pytest.mark.parametrize(
    ("write", "target_type", "action", "changes"),
    [
        (
            role_change,
            AuditTarget.ORGANISATION,
            AuditAction.MEMBER_ROLE_CHANGED,
            [("member", "member@rentandgo.example", "member@rentandgo.example"), ("role", "member", "admin")],
        ),
        (
            removal,
            AuditTarget.ORGANISATION,
            AuditAction.MEMBER_REMOVED,
            [("member", "member@rentandgo.example", None), ("role", "member", None)],
        ),
        (
            key_creation,
            AuditTarget.API_KEY,
            AuditAction.CREATED,
            [("name", None, "contract sync"), ("role", None, "viewer")],
        ),
        (key_revocation, AuditTarget.API_KEY, AuditAction.REVOKED, [("revoked_at", None, "2026-07-12T09:00:00Z")]),
        (
            invitation,
            AuditTarget.COLLEAGUE_INVITATION,
            AuditAction.CREATED,
            [("email", None, INVITEE), ("role", None, "member"), ("expires_at", None, EXPIRES)],
        ),
        (
            invitation_sent_again,
            AuditTarget.COLLEAGUE_INVITATION,
            AuditAction.SENT_AGAIN,
            [("role", "member", "admin"), ("expires_at", EXPIRES, EXPIRES)],
        ),
        (
            invitation_revocation,
            AuditTarget.COLLEAGUE_INVITATION,
            AuditAction.REVOKED,
            [("email", INVITEE, None), ("role", "member", None)],
        ),
        (
            settings_update,
            AuditTarget.ORGANISATION,
            AuditAction.UPDATED,
            [("name", "Rent & Go", "Rent & Go SA"), ("timezone", "Europe/Paris", "UTC")],
        ),
        (
            contact_edit,
            AuditTarget.CONTACT,
            AuditAction.UPDATED,
            [("name", "", "Site office"), ("organisation_name", "", "BuildCo")],
        ),
    ],
    ids=lambda value: value.__name__ if callable(value) else None,
)
def test_each_account_write_is_audited(
    write, target_type, action, changes, admin_actor, owner_admin, owner_org, owner_member
):
    target_id = write(admin_actor, owner_org, owner_member)
    (event,) = AuditEvent.objects.all()
    assert (event.organisation_id, event.target_type, event.target_id, event.action, event.occurred_at) == (
        owner_org.pk,
        target_type,
        target_id,
        action,
        NOW,
    )
    assert (event.actor_kind, event.actor_user, event.actor_label) == (ActorKind.USER, owner_admin, owner_admin.email)
    recorded = [(change["field"], change["before"], change["after"]) for change in event.changes]
    assert recorded[: len(changes)] == changes


def test_the_invitee_accepting_is_the_actor_of_the_acceptance(admin_actor, owner_org):
    invitation = colleague_invite(actor=admin_actor, email=INVITEE, role=Role.MEMBER)
    invitee = UserFactory(email=INVITEE, organisation=None)
    colleague_invitation_accept(invitation=invitation, user=invitee)
    event = AuditEvent.objects.get(action=AuditAction.ACCEPTED)
    assert (event.actor_kind, event.actor_user, event.organisation_id) == (ActorKind.USER, invitee, owner_org.pk)
    assert [(change["field"], change["after"]) for change in event.changes[1:]] == [
        ("member", INVITEE),
        ("role", "member"),
    ]


def test_a_write_that_changes_nothing_records_nothing(admin_actor, owner_org, owner_member):
    member_role_change(actor=admin_actor, member=owner_member, role=Role.MEMBER)
    organisation_update(
        actor=admin_actor,
        organisation=owner_org,
        name=owner_org.name,
        timezone=owner_org.timezone,
        language=owner_org.language,
    )
    assert not AuditEvent.objects.exists()


def test_a_refused_write_records_nothing(member_actor, owner_admin, owner_org):
    with pytest.raises(NotAllowed), transaction.atomic():
        member_role_change(actor=member_actor, member=owner_admin, role=Role.MEMBER)
    assert not AuditEvent.objects.exists()


def test_an_api_key_acting_is_recorded_as_such(owner_org, owner_admin):
    actor = Actor.for_user(owner_admin)
    api_key, _clear = api_key_create(actor=actor, organisation=owner_org, name="contract sync")
    api_key_revoke(actor=Actor.for_api_key(api_key), api_key=api_key)
    event = AuditEvent.objects.get(action=AuditAction.REVOKED)
    assert (event.actor_kind, event.actor_user, event.actor_label) == (ActorKind.API_KEY, None, "API key contract sync")
