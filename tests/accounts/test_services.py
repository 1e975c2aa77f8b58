"""The accounts services: founding an organisation at sign-up (and the pending sharings it accepts), its settings,
members and their roles (never without an admin), and colleague invitations — who may do each, and what each refuses.

Time is frozen at NOW by the `clock` fixture; the expiry tests move it."""

import datetime as dt
from unittest import mock

import pytest
from django.utils import translation
from kombu.exceptions import OperationalError

from accounts.actors import Actor
from accounts.models import ColleagueInvitation, Organisation, Role, User
from accounts.services import (
    colleague_invitation_accept,
    colleague_invitation_revoke,
    colleague_invite,
    member_remove,
    member_role_change,
    organisation_create_at_signup,
    organisation_update,
)
from audit.models import AuditEvent
from hiboo_connect.errors import InvalidInput, NotAllowed, RuleConflict
from outbox.tasks import message_deliver_task, messages_redispatch
from sharing.audit import AuditAction
from sharing.lifecycle import SharingStatus
from sharing.models import ReceivedMachine
from sharing.selectors import sharings_incoming
from sharing.services import sharing_create
from tests.factories import AdminFactory, UserFactory

UTC = dt.UTC
NOW = dt.datetime(2026, 7, 12, 9, 0, tzinfo=UTC)
DAY = dt.timedelta(days=1)
MINUTE = dt.timedelta(minutes=1)
NEWCOMER = "new.person@newco.example"


@pytest.fixture
def clock(frozen):
    return frozen(NOW)


def sign_up(email=NEWCOMER):
    """A person who just signed up and verified their e-mail: no organisation yet."""
    return UserFactory(email=email, organisation=None)


@pytest.fixture
def newcomer(db):
    return sign_up()


def share_with(admin_actor, machine, email, *, start_at, end_at=None, organisation_name="NewCo"):
    [sharing] = sharing_create(
        actor=admin_actor,
        machine_ids=[machine.pk],
        recipient_email=email,
        recipient_organisation_name=organisation_name,
        start_at=start_at,
        end_at=end_at,
    )
    return sharing


def invite(actor, email=NEWCOMER, role=Role.MEMBER):
    return colleague_invite(actor=actor, email=email, role=role)


# --- founding an organisation at sign-up -----------------------------------------------------------------------------


class TestOrganisationCreateAtSignup:
    def test_the_user_becomes_the_admin_of_the_new_organisation(self, clock, newcomer):
        organisation = organisation_create_at_signup(
            user=newcomer, name="  NewCo  ", timezone="Europe/London", language="fr"
        )
        newcomer.refresh_from_db()
        assert (organisation.name, organisation.timezone, organisation.language) == ("NewCo", "Europe/London", "fr")
        assert newcomer.organisation == organisation
        assert newcomer.role == Role.ADMIN

    def test_pending_sharings_to_the_user_attach_and_take_their_date_driven_status(
        self, clock, admin_actor, owner_org, machine, newcomer
    ):
        started = share_with(admin_actor, machine, NEWCOMER, start_at=NOW - DAY)
        upcoming = share_with(admin_actor, machine, NEWCOMER, start_at=NOW + DAY)
        to_someone_else = share_with(admin_actor, machine, "other@newco.example", start_at=NOW - DAY)
        assert started.status == upcoming.status == SharingStatus.PENDING

        organisation = organisation_create_at_signup(
            user=newcomer, name="NewCo", timezone="Europe/Paris", language="en"
        )

        for sharing in (started, upcoming, to_someone_else):
            sharing.refresh_from_db()
        assert started.beneficiary == upcoming.beneficiary == organisation
        assert started.status == SharingStatus.IN_PROGRESS
        assert upcoming.status == SharingStatus.SCHEDULED
        assert to_someone_else.beneficiary is None
        assert set(sharings_incoming(organisation)) == {started, upcoming}
        assert ReceivedMachine.objects.filter(organisation=organisation, machine=machine).exists()
        assert AuditEvent.objects.filter(target_id=started.pk, action=AuditAction.BENEFICIARY_ATTACHED).exists()

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"name": "  "}, "name"),
            ({"name": "x" * 201}, "name"),
            ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
            ({"language": "de"}, "language"),
        ],
    )
    def test_refuses_what_is_not_a_valid_organisation(self, clock, newcomer, fields, field):
        with pytest.raises(InvalidInput) as refusal:
            organisation_create_at_signup(
                user=newcomer, **{"name": "NewCo", "timezone": "Europe/Paris", "language": "en", **fields}
            )
        assert refusal.value.field == field
        assert not Organisation.objects.filter(name="NewCo").exists()

    def test_a_user_belongs_to_one_organisation_only(self, clock, owner_member):
        with pytest.raises(InvalidInput) as refusal:
            organisation_create_at_signup(user=owner_member, name="Mine", timezone="Europe/Paris", language="en")
        assert refusal.value.code == "already_in_organisation"

    def test_nothing_is_kept_when_attaching_fails(self, clock, newcomer, monkeypatch):
        def broken(**kwargs):
            raise RuntimeError("boom")

        monkeypatch.setattr("sharing.services.sharings_attach_beneficiary", broken)
        with pytest.raises(RuntimeError):
            organisation_create_at_signup(user=newcomer, name="NewCo", timezone="Europe/Paris", language="en")
        newcomer.refresh_from_db()
        assert newcomer.organisation is None
        assert not Organisation.objects.filter(name="NewCo").exists()


def test_a_recipient_who_has_an_account_receives_the_sharing_at_once(
    clock, admin_actor, machine, beneficiary_admin, beneficiary_org
):
    sharing = share_with(admin_actor, machine, beneficiary_admin.email, start_at=NOW - DAY)
    assert sharing.beneficiary == beneficiary_org
    assert sharing.status == SharingStatus.IN_PROGRESS
    assert list(sharings_incoming(beneficiary_org)) == [sharing]


# --- organisation settings -------------------------------------------------------------------------------------------


class TestOrganisationUpdate:
    def test_an_admin_changes_name_time_zone_and_language(self, owner_org, admin_actor):
        organisation_update(
            actor=admin_actor, organisation=owner_org, name="Rent & Go SAS", timezone="America/Montreal", language="fr"
        )
        owner_org.refresh_from_db()
        assert (owner_org.name, owner_org.timezone, owner_org.language) == ("Rent & Go SAS", "America/Montreal", "fr")

    def test_a_member_cannot(self, owner_org, member_actor):
        with pytest.raises(NotAllowed):
            organisation_update(
                actor=member_actor, organisation=owner_org, name="Mine now", timezone="UTC", language="en"
            )
        owner_org.refresh_from_db()
        assert owner_org.name == "Rent & Go"

    def test_another_organisation_cannot(self, owner_org, outsider_admin):
        with pytest.raises(NotAllowed):
            organisation_update(
                actor=Actor.for_user(outsider_admin),
                organisation=owner_org,
                name="Mine now",
                timezone="UTC",
                language="en",
            )

    def test_refuses_an_unknown_time_zone(self, owner_org, admin_actor):
        with pytest.raises(InvalidInput) as refusal:
            organisation_update(
                actor=admin_actor, organisation=owner_org, name="Rent & Go", timezone="Paris", language="en"
            )
        assert refusal.value.field == "timezone"


# --- members and roles -----------------------------------------------------------------------------------------------


class TestMembers:
    def test_an_admin_promotes_and_demotes(self, admin_actor, owner_member, owner_admin):
        member_role_change(actor=admin_actor, member=owner_member, role=Role.ADMIN)
        owner_member.refresh_from_db()
        assert owner_member.role == Role.ADMIN
        member_role_change(actor=admin_actor, member=owner_admin, role=Role.MEMBER)
        owner_admin.refresh_from_db()
        assert owner_admin.role == Role.MEMBER

    def test_the_last_admin_stays_admin(self, admin_actor, owner_admin, owner_member):
        with pytest.raises(RuleConflict) as refusal:
            member_role_change(actor=admin_actor, member=owner_admin, role=Role.MEMBER)
        assert refusal.value.code == "last_admin"
        owner_admin.refresh_from_db()
        assert owner_admin.role == Role.ADMIN

    def test_an_inactive_admin_does_not_count(self, admin_actor, owner_admin, owner_org):
        AdminFactory(organisation=owner_org, is_active=False)
        with pytest.raises(RuleConflict):
            member_role_change(actor=admin_actor, member=owner_admin, role=Role.MEMBER)

    def test_refuses_an_unknown_role(self, admin_actor, owner_member):
        with pytest.raises(InvalidInput) as refusal:
            member_role_change(actor=admin_actor, member=owner_member, role="owner")
        assert refusal.value.field == "role"

    def test_a_member_cannot_change_roles(self, member_actor, owner_member):
        with pytest.raises(NotAllowed):
            member_role_change(actor=member_actor, member=owner_member, role=Role.ADMIN)
        owner_member.refresh_from_db()
        assert owner_member.role == Role.MEMBER

    def test_another_organisation_cannot_change_roles(self, outsider_admin, owner_member):
        with pytest.raises(NotAllowed):
            member_role_change(actor=Actor.for_user(outsider_admin), member=owner_member, role=Role.ADMIN)

    def test_an_admin_removes_a_member(self, admin_actor, owner_member):
        member_remove(actor=admin_actor, member=owner_member)
        owner_member.refresh_from_db()
        assert owner_member.organisation is None
        assert owner_member.role == Role.MEMBER
        assert owner_member.is_active  # the account stays; only the membership ends

    def test_an_admin_removes_another_admin(self, admin_actor, owner_org):
        other_admin = AdminFactory(organisation=owner_org)
        member_remove(actor=admin_actor, member=other_admin)
        other_admin.refresh_from_db()
        assert other_admin.organisation is None

    def test_the_last_admin_cannot_be_removed(self, admin_actor, owner_admin):
        with pytest.raises(RuleConflict) as refusal:
            member_remove(actor=admin_actor, member=owner_admin)
        assert refusal.value.code == "last_admin"
        owner_admin.refresh_from_db()
        assert owner_admin.organisation is not None

    def test_a_member_cannot_remove(self, member_actor, owner_admin):
        with pytest.raises(NotAllowed):
            member_remove(actor=member_actor, member=owner_admin)

    def test_another_organisation_cannot_remove(self, outsider_admin, owner_member):
        with pytest.raises(NotAllowed):
            member_remove(actor=Actor.for_user(outsider_admin), member=owner_member)


# --- colleague invitations -------------------------------------------------------------------------------------------


class TestColleagueInvite:
    def test_an_admin_invites_and_the_email_leaves_after_commit(
        self, clock, admin_actor, owner_org, owner_admin, mailoutbox, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            invitation = invite(admin_actor, email="  New.Person@NewCo.example ", role=Role.ADMIN)
            assert mailoutbox == []  # nothing leaves before the transaction commits
        assert len(callbacks) == 1
        assert (invitation.organisation, invitation.email, invitation.role) == (owner_org, NEWCOMER, Role.ADMIN)
        assert invitation.invited_by == owner_admin
        assert invitation.expires_at == NOW + ColleagueInvitation.VALIDITY
        assert invitation.accepted_at is None
        [message] = mailoutbox
        assert message.to == [NEWCOMER]
        assert "Rent & Go" in message.subject
        assert f"/accounts/invitations/{invitation.token}/" in message.body
        [(html, mimetype)] = message.alternatives
        assert mimetype == "text/html"
        assert f"/accounts/invitations/{invitation.token}/" in html

    def test_the_email_speaks_the_organisations_language(
        self, clock, admin_actor, owner_org, mailoutbox, django_capture_on_commit_callbacks
    ):
        owner_org.language = "fr"
        owner_org.save()
        with django_capture_on_commit_callbacks(execute=True):
            invite(admin_actor)
        [message] = mailoutbox
        [(html, _mimetype)] = message.alternatives
        assert '<html lang="fr">' in html
        with translation.override("fr"):
            assert message.subject == translation.gettext("Join %(organisation)s on the share centre") % {
                "organisation": "Rent & Go"
            }

    def test_a_broker_outage_loses_nothing_the_outbox_sends_it_once_the_broker_is_back(
        self, clock, frozen, admin_actor, mailoutbox, django_capture_on_commit_callbacks
    ):
        # More in tests/accounts/test_colleague_invitation_emails.py; the invitation itself never depends on the broker.
        broker_down = mock.patch.object(message_deliver_task, "apply_async", side_effect=OperationalError("down"))
        with broker_down, django_capture_on_commit_callbacks(execute=True):
            invitation = invite(admin_actor)
        assert mailoutbox == []
        assert ColleagueInvitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True).exists()
        frozen(NOW + 5 * MINUTE)
        assert messages_redispatch() == 1
        [message] = mailoutbox
        assert invitation.token in message.body

    def test_inviting_again_refreshes_the_pending_invitation(
        self, clock, frozen, admin_actor, mailoutbox, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            first = invite(admin_actor, role=Role.MEMBER)
        first_token = first.token
        frozen(NOW + 3 * DAY)
        with django_capture_on_commit_callbacks(execute=True):
            again = invite(admin_actor, role=Role.ADMIN)
        assert again.pk == first.pk
        assert ColleagueInvitation.objects.count() == 1
        assert again.token != first_token
        assert again.role == Role.ADMIN
        assert again.expires_at == NOW + 3 * DAY + ColleagueInvitation.VALIDITY
        assert len(mailoutbox) == 2
        assert again.token in mailoutbox[1].body
        assert first_token not in mailoutbox[1].body

    def test_refuses_someone_who_belongs_to_another_organisation(
        self, clock, admin_actor, beneficiary_admin, mailoutbox
    ):
        with pytest.raises(InvalidInput) as refusal:
            invite(admin_actor, email=beneficiary_admin.email.upper())
        assert (refusal.value.code, refusal.value.field) == ("email_in_organisation", "email")
        assert "already belongs to another organisation" in refusal.value.message
        assert not ColleagueInvitation.objects.exists()

    def test_refuses_someone_who_is_already_a_member(self, clock, admin_actor, owner_member):
        with pytest.raises(InvalidInput) as refusal:
            invite(admin_actor, email=owner_member.email)
        assert (refusal.value.code, refusal.value.field) == ("email_in_organisation", "email")
        assert "already a member of your organisation" in refusal.value.message
        assert not ColleagueInvitation.objects.exists()

    def test_invites_back_a_member_who_was_removed(
        self, clock, admin_actor, owner_org, owner_member, mailoutbox, django_capture_on_commit_callbacks
    ):
        member_remove(actor=admin_actor, member=owner_member)
        with django_capture_on_commit_callbacks(execute=True):
            invitation = invite(admin_actor, email=owner_member.email, role=Role.ADMIN)
        assert (invitation.organisation, invitation.email, invitation.role) == (owner_org, owner_member.email, "admin")
        [message] = mailoutbox
        # They have an account: the e-mail asks them to log in, not to create one.
        assert "You already have an account with this e-mail address: log in" in message.body
        assert "Create your account" not in message.body
        [(html, _mimetype)] = message.alternatives
        assert "log in, then follow this link" in html
        assert "Create my account" not in html
        assert invitation.token in message.body

    def test_an_account_without_an_organisation_in_another_one_can_be_invited(
        self, clock, outsider_admin, beneficiary_admin
    ):
        # Taken out of BuildCo, the person may be invited by any organisation, not only the one they left.
        admin_of_buildco = AdminFactory(organisation=beneficiary_admin.organisation, email="boss@buildco.example")
        member_remove(actor=Actor.for_user(admin_of_buildco), member=beneficiary_admin)
        invitation = invite(Actor.for_user(outsider_admin), email=beneficiary_admin.email)
        assert invitation.organisation == outsider_admin.organisation

    def test_a_newcomer_is_asked_to_create_an_account(
        self, clock, admin_actor, mailoutbox, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            invite(admin_actor)
        [message] = mailoutbox
        assert "Create your account with this e-mail address" in message.body
        assert "log in" not in message.body

    @pytest.mark.parametrize(
        ("email", "role", "field"), [("not-an-email", Role.MEMBER, "email"), (NEWCOMER, "boss", "role")]
    )
    def test_refuses_bad_input(self, clock, admin_actor, email, role, field):
        with pytest.raises(InvalidInput) as refusal:
            invite(admin_actor, email=email, role=role)
        assert refusal.value.field == field

    def test_a_member_cannot_invite(self, clock, member_actor, mailoutbox, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True), pytest.raises(NotAllowed):
            invite(member_actor)
        assert not ColleagueInvitation.objects.exists()
        assert mailoutbox == []

    def test_an_admin_revokes(self, clock, admin_actor):
        invitation = invite(admin_actor)
        colleague_invitation_revoke(actor=admin_actor, invitation=invitation)
        assert not ColleagueInvitation.objects.exists()

    def test_a_member_or_another_organisation_cannot_revoke(self, clock, admin_actor, member_actor, outsider_admin):
        invitation = invite(admin_actor)
        for actor in (member_actor, Actor.for_user(outsider_admin)):
            with pytest.raises(NotAllowed):
                colleague_invitation_revoke(actor=actor, invitation=invitation)
        assert ColleagueInvitation.objects.filter(pk=invitation.pk).exists()

    def test_an_accepted_invitation_cannot_be_revoked(self, clock, admin_actor):
        invitation = invite(admin_actor)
        colleague_invitation_accept(invitation=invitation, user=sign_up())
        invitation.refresh_from_db()
        with pytest.raises(RuleConflict):
            colleague_invitation_revoke(actor=admin_actor, invitation=invitation)


class TestColleagueInvitationAccept:
    def test_the_invitee_joins_with_the_invited_role(self, clock, admin_actor, owner_org):
        invitation = invite(admin_actor, role=Role.ADMIN)
        newcomer = sign_up()
        colleague_invitation_accept(invitation=invitation, user=newcomer)
        newcomer.refresh_from_db()
        invitation.refresh_from_db()
        assert (newcomer.organisation, newcomer.role) == (owner_org, Role.ADMIN)
        assert invitation.accepted_at == NOW
        assert Organisation.objects.count() == 1  # no organisation of their own

    def test_pending_sharings_to_the_invitee_attach_to_the_organisation_they_join(
        self, clock, outsider_admin, outsider_org, admin_actor, owner_org
    ):
        from tests.factories import MachineFactory

        quarry_machine = MachineFactory(organisation=outsider_org)
        sharing = share_with(Actor.for_user(outsider_admin), quarry_machine, NEWCOMER, start_at=NOW - DAY)
        colleague_invitation_accept(invitation=invite(admin_actor), user=sign_up())
        sharing.refresh_from_db()
        assert sharing.beneficiary == owner_org
        assert sharing.status == SharingStatus.IN_PROGRESS

    def test_other_organisations_invitations_to_the_address_are_dropped(self, clock, admin_actor, outsider_admin):
        ours = invite(admin_actor)
        theirs = invite(Actor.for_user(outsider_admin))
        colleague_invitation_accept(invitation=ours, user=sign_up())
        assert not ColleagueInvitation.objects.filter(pk=theirs.pk).exists()

    def test_an_expired_invitation_is_refused(self, clock, frozen, admin_actor):
        invitation = invite(admin_actor)
        newcomer = sign_up()
        frozen(NOW + ColleagueInvitation.VALIDITY)
        with pytest.raises(RuleConflict) as refusal:
            colleague_invitation_accept(invitation=invitation, user=newcomer)
        assert refusal.value.code == "invitation_expired"
        newcomer.refresh_from_db()
        assert newcomer.organisation is None

    def test_it_is_for_the_invited_address_only(self, clock, admin_actor):
        stranger = sign_up("stranger@example.com")
        with pytest.raises(NotAllowed) as refusal:
            colleague_invitation_accept(invitation=invite(admin_actor), user=stranger)
        assert refusal.value.code == "invitation_other_email"

    def test_it_is_accepted_once(self, clock, admin_actor):
        invitation = invite(admin_actor)
        newcomer = sign_up()
        colleague_invitation_accept(invitation=invitation, user=newcomer)
        with pytest.raises(RuleConflict) as refusal:
            colleague_invitation_accept(invitation=invitation, user=newcomer)
        assert refusal.value.code == "invitation_accepted"

    def test_a_removed_member_invited_back_joins_with_the_invited_role(
        self, clock, admin_actor, owner_org, owner_member
    ):
        member_remove(actor=admin_actor, member=owner_member)
        invitation = invite(admin_actor, email=owner_member.email, role=Role.ADMIN)
        owner_member.refresh_from_db()
        colleague_invitation_accept(invitation=invitation, user=owner_member)
        owner_member.refresh_from_db()
        assert (owner_member.organisation, owner_member.role) == (owner_org, Role.ADMIN)

    def test_someone_who_already_has_an_organisation_cannot_join_another(self, clock, admin_actor, beneficiary_org):
        invitation = invite(admin_actor)
        # They signed up on their own between the invitation and its acceptance.
        joined = UserFactory(email=NEWCOMER, organisation=beneficiary_org)
        with pytest.raises(RuleConflict) as refusal:
            colleague_invitation_accept(invitation=invitation, user=joined)
        assert refusal.value.code == "already_in_organisation"
        assert User.objects.get(pk=joined.pk).organisation == beneficiary_org
