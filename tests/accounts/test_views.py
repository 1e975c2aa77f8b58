"""The accounts pages against every actor: anonymous (to the login), a user without an organisation (to naming one),
a member (reads; 403 on admin actions), an admin, and another organisation (404 on our objects). Then the journeys
through django-allauth with the test client: sign-up, e-mail verification, naming the organisation, colleague
invitations, password reset."""

import datetime as dt
import re

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse

from accounts.actors import Actor
from accounts.models import ColleagueInvitation, Organisation, Role, User
from accounts.services import colleague_invite
from sharing.lifecycle import SharingStatus
from sharing.services import sharing_create
from tests.factories import AdminFactory, UserFactory

UTC = dt.UTC
NOW = dt.datetime(2026, 7, 12, 9, 0, tzinfo=UTC)
DAY = dt.timedelta(days=1)
NEWCOMER = "new.person@newco.example"
PASSWORD = "a-Long-pass-phrase-42"


@pytest.fixture
def clock(frozen):
    return frozen(NOW)


@pytest.fixture
def invitation(clock, admin_actor):
    return colleague_invite(actor=admin_actor, email=NEWCOMER, role=Role.MEMBER)


def verified_user(email, organisation=None, **fields):
    user = UserFactory(email=email, organisation=organisation, **fields)
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
    return user


def links_in(text):
    return re.findall(r"https?://[^\s\"<]+", text)


def path_of(url):
    return "/" + url.split("/", 3)[3]


# --- who may open what -----------------------------------------------------------------------------------------------

PAGES = [
    ("get", "accounts:organisation_create", {}),
    ("get", "accounts:organisation_settings", {}),
    ("post", "accounts:organisation_settings", {}),
    ("get", "accounts:members", {}),
    ("post", "accounts:colleague_invite", {}),
    ("post", "accounts:member_role", {"user_id": 1}),
    ("get", "accounts:member_remove", {"user_id": 1}),
    ("post", "accounts:member_remove", {"user_id": 1}),
    ("post", "accounts:invitation_revoke", {"invitation_id": "9b2f7bd0-2d0a-4f1e-8d0b-0c1b8f3b3f7e"}),
]


@pytest.mark.parametrize(("method", "name", "kwargs"), PAGES)
def test_anonymous_visitors_are_sent_to_log_in(client, db, method, name, kwargs):
    url = reverse(name, kwargs=kwargs)
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login") + "?next=")


@pytest.mark.parametrize("path", ["/", "/accounts/members/", "/accounts/organisation/"])
def test_a_user_without_an_organisation_is_sent_to_name_one(client, db, path):
    client.force_login(verified_user(NEWCOMER))
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:organisation_create")


@pytest.mark.parametrize("path", ["/accounts/password/change/", "/i18n/setlang/", "/accounts/organisation/new/"])
def test_a_user_without_an_organisation_still_reaches_the_account_pages(client, db, path):
    client.force_login(verified_user(NEWCOMER))
    response = client.get(path)
    assert response.get("Location") != reverse("accounts:organisation_create")


class TestMemberIsReadOnly:
    @pytest.fixture(autouse=True)
    def logged_in(self, client, owner_member):
        client.force_login(owner_member)

    def test_sees_the_members_but_no_admin_controls(self, client, owner_admin, owner_member, invitation):
        response = client.get(reverse("accounts:members"))
        assert response.status_code == 200
        content = response.content.decode()
        assert owner_admin.email in content
        assert owner_member.email in content
        assert NEWCOMER in content  # the pending invitation is listed
        assert reverse("accounts:colleague_invite") not in content
        assert reverse("accounts:member_role", args=[owner_admin.pk]) not in content
        assert reverse("accounts:member_remove", args=[owner_admin.pk]) not in content

    def test_reads_the_settings_without_changing_them(self, client, owner_org):
        response = client.get(reverse("accounts:organisation_settings"))
        assert response.status_code == 200
        assert response.context["form"].fields["name"].disabled
        response = client.post(
            reverse("accounts:organisation_settings"), {"name": "Mine", "timezone": "UTC", "language": "en"}
        )
        assert response.status_code == 403
        owner_org.refresh_from_db()
        assert owner_org.name == "Rent & Go"

    def test_gets_403_on_every_admin_action(self, client, owner_admin, invitation):
        assert (
            client.post(reverse("accounts:colleague_invite"), {"email": "x@example.com", "role": "member"}).status_code
            == 403
        )
        assert (
            client.post(reverse("accounts:member_role", args=[owner_admin.pk]), {"role": "member"}).status_code == 403
        )
        assert client.get(reverse("accounts:member_remove", args=[owner_admin.pk])).status_code == 403
        assert client.post(reverse("accounts:member_remove", args=[owner_admin.pk])).status_code == 403
        assert client.post(reverse("accounts:invitation_revoke", args=[invitation.pk])).status_code == 403
        owner_admin.refresh_from_db()
        assert (owner_admin.role, owner_admin.organisation_id) == (Role.ADMIN, invitation.organisation_id)
        assert ColleagueInvitation.objects.filter(pk=invitation.pk).exists()
        assert not ColleagueInvitation.objects.filter(email="x@example.com").exists()


class TestAnotherOrganisation:
    @pytest.fixture(autouse=True)
    def logged_in(self, client, outsider_admin):
        client.force_login(outsider_admin)

    def test_gets_404_on_our_members_and_invitations(self, client, owner_member, invitation):
        assert (
            client.post(reverse("accounts:member_role", args=[owner_member.pk]), {"role": "admin"}).status_code == 404
        )
        assert client.get(reverse("accounts:member_remove", args=[owner_member.pk])).status_code == 404
        assert client.post(reverse("accounts:member_remove", args=[owner_member.pk])).status_code == 404
        assert client.post(reverse("accounts:invitation_revoke", args=[invitation.pk])).status_code == 404
        owner_member.refresh_from_db()
        assert owner_member.role == Role.MEMBER
        assert owner_member.organisation_id == invitation.organisation_id

    def test_sees_only_its_own_members(self, client, outsider_admin, owner_admin, invitation):
        content = client.get(reverse("accounts:members")).content.decode()
        assert outsider_admin.email in content
        assert owner_admin.email not in content
        assert NEWCOMER not in content

    def test_its_settings_page_is_its_own(self, client, outsider_org, owner_org):
        response = client.post(
            reverse("accounts:organisation_settings"), {"name": "Quarry Ltd", "timezone": "UTC", "language": "fr"}
        )
        assert response.status_code == 302
        outsider_org.refresh_from_db()
        assert outsider_org.language == "fr"
        assert Organisation.objects.get(name="Rent & Go").language == "en"


class TestAdmin:
    @pytest.fixture(autouse=True)
    def logged_in(self, client, owner_admin):
        client.force_login(owner_admin)

    def test_sees_the_admin_controls(self, client, owner_member, invitation):
        content = client.get(reverse("accounts:members")).content.decode()
        assert reverse("accounts:colleague_invite") in content
        assert reverse("accounts:member_role", args=[owner_member.pk]) in content
        assert reverse("accounts:member_remove", args=[owner_member.pk]) in content
        assert reverse("accounts:invitation_revoke", args=[invitation.pk]) in content

    def test_changes_the_settings(self, client, owner_org):
        response = client.post(
            reverse("accounts:organisation_settings"),
            {"name": "Rent & Go SAS", "timezone": "Europe/London", "language": "fr"},
        )
        assert response.status_code == 302
        owner_org.refresh_from_db()
        assert (owner_org.name, owner_org.timezone, owner_org.language) == ("Rent & Go SAS", "Europe/London", "fr")

    def test_a_settings_error_is_shown_next_to_its_field(self, client, owner_org):
        response = client.post(
            reverse("accounts:organisation_settings"), {"name": "  ", "timezone": "Europe/London", "language": "en"}
        )
        assert response.status_code == 200
        assert response.context["form"].errors["name"]
        assert 'id="id_name_error"' in response.content.decode()

    def test_invites_a_colleague(self, client, clock, owner_org, mailoutbox, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("accounts:colleague_invite"), {"email": NEWCOMER, "role": "admin"})
        assert response.status_code == 302
        invitation = ColleagueInvitation.objects.get(email=NEWCOMER)
        assert (invitation.organisation, invitation.role) == (owner_org, Role.ADMIN)
        [message] = mailoutbox
        assert message.to == [NEWCOMER]

    def test_an_invitation_refusal_is_shown_next_to_the_email(self, client, clock, beneficiary_admin):
        response = client.post(
            reverse("accounts:colleague_invite"), {"email": beneficiary_admin.email, "role": "member"}
        )
        assert response.status_code == 200
        assert "already belongs to another organisation" in response.context["invite_form"].errors["email"][0]
        assert 'id="id_email_error"' in response.content.decode()
        assert response.context["invite_form"]["email"].value() == beneficiary_admin.email  # nothing typed is lost

    def test_sends_an_invitation_again(self, client, clock, invitation, mailoutbox, django_capture_on_commit_callbacks):
        old_token = invitation.token
        with django_capture_on_commit_callbacks(execute=True):
            client.post(reverse("accounts:colleague_invite"), {"email": NEWCOMER, "role": "member"})
        invitation.refresh_from_db()
        assert invitation.token != old_token
        assert len(mailoutbox) == 1

    def test_revokes_an_invitation(self, client, invitation):
        response = client.post(reverse("accounts:invitation_revoke", args=[invitation.pk]))
        assert response.status_code == 302
        assert not ColleagueInvitation.objects.exists()

    def test_changes_a_role(self, client, owner_member):
        response = client.post(reverse("accounts:member_role", args=[owner_member.pk]), {"role": "admin"})
        assert response.status_code == 302
        owner_member.refresh_from_db()
        assert owner_member.role == Role.ADMIN

    def test_the_last_admin_refusal_is_shown_on_its_row(self, client, owner_admin):
        response = client.post(reverse("accounts:member_role", args=[owner_admin.pk]), {"role": "member"})
        assert response.status_code == 200
        content = response.content.decode()
        assert f'id="role-{owner_admin.pk}-error"' in content
        assert "at least one admin" in content
        owner_admin.refresh_from_db()
        assert owner_admin.role == Role.ADMIN

    def test_removes_a_member_after_a_confirmation(self, client, owner_member):
        url = reverse("accounts:member_remove", args=[owner_member.pk])
        response = client.get(url)
        assert response.status_code == 200
        owner_member.refresh_from_db()
        assert owner_member.organisation is not None  # asking is not doing
        response = client.post(url)
        assert response.status_code == 302
        owner_member.refresh_from_db()
        assert owner_member.organisation is None

    def test_cannot_remove_the_last_admin(self, client, owner_admin):
        response = client.post(reverse("accounts:member_remove", args=[owner_admin.pk]))
        assert response.status_code == 200
        assert "at least one admin" in response.content.decode()
        owner_admin.refresh_from_db()
        assert owner_admin.organisation is not None

    def test_the_organisation_creation_page_sends_back_home(self, client):
        response = client.get(reverse("accounts:organisation_create"))
        assert response.status_code == 302
        assert response["Location"] == reverse("home")


# --- naming the organisation -----------------------------------------------------------------------------------------


class TestOrganisationCreate:
    def test_the_name_typed_by_a_sender_and_their_time_zone_are_proposed(
        self, client, clock, admin_actor, owner_org, machine
    ):
        owner_org.timezone = "Europe/London"
        owner_org.save()
        sharing_create(
            actor=admin_actor,
            machine_ids=[machine.pk],
            recipient_email=NEWCOMER,
            recipient_organisation_name="NewCo Construction",
            start_at=NOW + DAY,
        )
        client.force_login(verified_user(NEWCOMER))
        response = client.get(reverse("accounts:organisation_create"))
        assert response.status_code == 200
        form = response.context["form"]
        assert form["name"].value() == "NewCo Construction"
        assert form["timezone"].value() == "Europe/London"
        assert "A sharing from Rent &amp; Go is waiting for you" in response.content.decode()

    def test_without_an_invitation_the_form_starts_empty(self, client, db):
        client.force_login(verified_user(NEWCOMER))
        response = client.get(reverse("accounts:organisation_create"))
        assert response.context["form"]["name"].value() == ""

    def test_naming_it_attaches_the_pending_sharings(self, client, clock, admin_actor, machine):
        [sharing] = sharing_create(
            actor=admin_actor,
            machine_ids=[machine.pk],
            recipient_email=NEWCOMER,
            recipient_organisation_name="NewCo",
            start_at=NOW - DAY,
        )
        user = verified_user(NEWCOMER)
        client.force_login(user)
        response = client.post(
            reverse("accounts:organisation_create"), {"name": "NewCo", "timezone": "Europe/Paris", "language": "en"}
        )
        assert response.status_code == 302
        assert response["Location"] == reverse("home")
        user.refresh_from_db()
        sharing.refresh_from_db()
        assert user.organisation.name == "NewCo"
        assert user.role == Role.ADMIN
        assert sharing.beneficiary == user.organisation
        assert sharing.status == SharingStatus.IN_PROGRESS

    def test_an_error_is_shown_next_to_its_field(self, client, db):
        client.force_login(verified_user(NEWCOMER))
        response = client.post(
            reverse("accounts:organisation_create"), {"name": "   ", "timezone": "Europe/Paris", "language": "en"}
        )
        assert response.status_code == 200
        assert response.context["form"].errors["name"]
        assert not Organisation.objects.exists()

    def test_an_open_colleague_invitation_is_offered_instead(self, client, invitation):
        client.force_login(verified_user(NEWCOMER))
        content = client.get(reverse("accounts:organisation_create")).content.decode()
        assert reverse("accounts:invitation_accept", args=[invitation.token]) in content
        assert "Join Rent &amp; Go" in content


# --- the colleague invitation link -----------------------------------------------------------------------------------


class TestInvitationLink:
    def test_an_unknown_link_answers_404(self, client, db):
        response = client.get(reverse("accounts:invitation_accept", args=["nope"]))
        assert response.status_code == 404
        assert "does not exist" in response.content.decode()

    def test_a_visitor_is_asked_to_sign_up_with_the_invited_email(self, client, invitation):
        response = client.get(reverse("accounts:invitation_accept", args=[invitation.token]))
        assert response.status_code == 200
        content = response.content.decode()
        assert "admin@rentandgo.example invites you to join Rent &amp; Go" in content
        assert f"{reverse('account_signup')}?email=new.person%40newco.example" in content

    def test_an_expired_link_says_so(self, client, invitation, frozen):
        frozen(NOW + ColleagueInvitation.VALIDITY + DAY)
        response = client.get(reverse("accounts:invitation_accept", args=[invitation.token]))
        assert "has expired" in response.content.decode()
        assert reverse("account_signup") not in response.content.decode()

    def test_a_user_without_an_organisation_joins_with_one_click(self, client, invitation, owner_org):
        user = verified_user(NEWCOMER)
        client.force_login(user)
        url = reverse("accounts:invitation_accept", args=[invitation.token])
        assert client.get(url).status_code == 200
        user.refresh_from_db()
        assert user.organisation is None  # looking is not joining
        response = client.post(url)
        assert response.status_code == 302
        user.refresh_from_db()
        assert (user.organisation, user.role) == (owner_org, Role.MEMBER)

    def test_a_visitor_whose_email_has_an_account_is_asked_to_log_in(self, client, clock, admin_actor):
        verified_user(NEWCOMER)  # a member taken out of their organisation: the account stays
        invitation = colleague_invite(actor=admin_actor, email=NEWCOMER, role=Role.ADMIN)
        url = reverse("accounts:invitation_accept", args=[invitation.token])
        content = client.get(url).content.decode()
        assert "You already have an account with new.person@newco.example: log in to join." in content
        assert f"{reverse('account_login')}?next={url}" in content
        assert reverse("account_signup") not in content

    def test_a_removed_member_is_invited_back_logs_in_and_joins(
        self, client, clock, owner_org, owner_admin, mailoutbox, django_capture_on_commit_callbacks
    ):
        member = verified_user("back@rentandgo.example", organisation=owner_org)
        member.set_password(PASSWORD)
        member.save()
        client.force_login(owner_admin)
        client.post(reverse("accounts:member_remove", args=[member.pk]))
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("accounts:colleague_invite"), {"email": "back@rentandgo.example", "role": "admin"}
            )
        assert response.status_code == 302
        [message] = mailoutbox
        assert "log in, then follow this link" in message.body
        [link] = [url for url in links_in(message.body) if "/invitations/" in url]
        client.logout()
        # They log in from the link, come back to it and join with the invited role.
        response = client.post(
            f"{reverse('account_login')}?next={path_of(link)}", {"login": member.email, "password": PASSWORD}
        )
        assert response.status_code == 302
        assert response.url == path_of(link)
        assert client.post(path_of(link)).status_code == 302
        member.refresh_from_db()
        assert (member.organisation, member.role) == (owner_org, Role.ADMIN)

    def test_someone_else_cannot_use_the_link(self, client, invitation):
        stranger = verified_user("stranger@example.com")
        client.force_login(stranger)
        response = client.post(reverse("accounts:invitation_accept", args=[invitation.token]))
        assert response.status_code == 200
        assert "addressed to new.person@newco.example" in response.content.decode()
        stranger.refresh_from_db()
        assert stranger.organisation is None

    def test_a_user_of_another_organisation_cannot_join(self, client, invitation, beneficiary_org):
        user = verified_user(NEWCOMER, organisation=beneficiary_org)
        client.force_login(user)
        response = client.post(reverse("accounts:invitation_accept", args=[invitation.token]))
        assert "You already belong to BuildCo" in response.content.decode()
        user.refresh_from_db()
        assert user.organisation == beneficiary_org


# --- django-allauth's pages, styled ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "heading"),
    [
        ("/accounts/login/", "Log in"),
        ("/accounts/signup/", "Create an account"),
        ("/accounts/password/reset/", "Reset your password"),
        ("/accounts/password/reset/done/", "Check your inbox"),
        ("/accounts/confirm-email/", "Check your inbox"),
        ("/accounts/confirm-email/not-a-key/", "Confirm your e-mail address"),
        ("/accounts/password/reset/key/1-not-a-key/", "This link no longer works"),
    ],
)
def test_the_account_pages_use_the_portal_layout(client, db, path, heading):
    response = client.get(path)
    assert response.status_code == 200
    content = response.content.decode()
    assert f"<h1>{heading}</h1>" in content
    assert 'class="top"' in content  # base.html's header
    assert "css/app.css" in content
    assert ' style="' not in content


def test_the_login_page_labels_its_fields(client, db):
    content = client.get("/accounts/login/").content.decode()
    assert '<label for="id_login">E-mail</label>' in content
    assert '<label for="id_password">Password</label>' in content


def test_the_signup_email_is_filled_from_the_link(client, db):
    response = client.get("/accounts/signup/?email=new.person%40newco.example")
    assert response.context["form"]["email"].value() == NEWCOMER
    assert 'value="new.person@newco.example"' in response.content.decode()


def test_logged_in_pages_use_the_portal_layout(client, owner_admin):
    client.force_login(owner_admin)
    for path, heading in [("/accounts/password/change/", "Change your password"), ("/accounts/logout/", "Log out")]:
        content = client.get(path).content.decode()
        assert f"<h1>{heading}</h1>" in content
        assert 'class="top"' in content


def test_the_header_offers_the_other_language(client, owner_admin):
    client.force_login(owner_admin)
    content = client.get(reverse("accounts:members")).content.decode()
    assert f'action="{reverse("set_language")}"' in content
    assert 'name="language" value="fr" lang="fr"' in content
    response = client.post(reverse("set_language"), {"language": "fr", "next": reverse("accounts:members")})
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:members")
    assert response.cookies["django_language"].value == "fr"
    content = client.get(reverse("accounts:members")).content.decode()
    assert '<html lang="fr">' in content
    assert 'name="language" value="en" lang="en"' in content


# --- journeys through django-allauth ----------------------------------------------------------------------------------


def test_sign_up_verify_and_name_the_organisation(client, clock, admin_actor, machine, mailoutbox):
    [sharing] = sharing_create(
        actor=admin_actor,
        machine_ids=[machine.pk],
        recipient_email=NEWCOMER,
        recipient_organisation_name="NewCo",
        start_at=NOW + DAY,
    )
    response = client.post(
        "/accounts/signup/", {"email": NEWCOMER, "password1": PASSWORD, "password2": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in client.session  # not logged in before the address is confirmed
    [message] = mailoutbox
    [confirm_url] = [url for url in links_in(message.body) if "/confirm-email/" in url]
    assert message.subject.startswith("Share centre: ")

    assert client.get(path_of(confirm_url)).status_code == 200
    response = client.post(path_of(confirm_url))
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:organisation_create")

    response = client.get(response["Location"])
    assert response.context["form"]["name"].value() == "NewCo"
    response = client.post(
        reverse("accounts:organisation_create"), {"name": "NewCo", "timezone": "Europe/Paris", "language": "en"}
    )
    assert response["Location"] == reverse("home")
    user = User.objects.get(email=NEWCOMER)
    sharing.refresh_from_db()
    assert (user.organisation.name, user.role) == ("NewCo", Role.ADMIN)
    assert (sharing.beneficiary, sharing.status) == (user.organisation, SharingStatus.SCHEDULED)


def test_log_in_with_an_organisation_lands_home_and_without_one_names_it(client, owner_admin, db):
    EmailAddress.objects.create(user=owner_admin, email=owner_admin.email, primary=True, verified=True)
    response = client.post("/accounts/login/", {"login": owner_admin.email, "password": "password"})
    assert response["Location"] == "/"
    client.logout()
    verified_user(NEWCOMER)
    response = client.post("/accounts/login/", {"login": NEWCOMER, "password": "password"})
    assert response["Location"] == reverse("accounts:organisation_create")


def test_a_colleague_signs_up_through_the_invitation_and_joins(
    client, clock, owner_org, admin_actor, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        colleague_invite(actor=admin_actor, email=NEWCOMER, role=Role.ADMIN)
    [invitation_mail] = mailoutbox
    [link] = [url for url in links_in(invitation_mail.body) if "/accounts/invitations/" in url]

    assert client.get(path_of(link)).status_code == 200
    response = client.get(f"/accounts/signup/?email={NEWCOMER}")
    assert response.context["form"]["email"].value() == NEWCOMER
    response = client.post("/accounts/signup/", {"email": NEWCOMER, "password1": PASSWORD, "password2": PASSWORD})

    # The link reached this address already: no verification e-mail, logged in at once, in the inviting organisation.
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert len(mailoutbox) == 1
    user = User.objects.get(email=NEWCOMER)
    assert (user.organisation, user.role) == (owner_org, Role.ADMIN)
    assert EmailAddress.objects.get(user=user).verified
    assert int(client.session["_auth_user_id"]) == user.pk
    assert ColleagueInvitation.objects.get(email=NEWCOMER).accepted_at == NOW
    assert Organisation.objects.count() == 1


def test_signing_up_with_another_address_than_the_invited_one_joins_nothing(
    client, clock, owner_org, invitation, mailoutbox
):
    client.get(reverse("accounts:invitation_accept", args=[invitation.token]))
    response = client.post(
        "/accounts/signup/", {"email": "other@newco.example", "password1": PASSWORD, "password2": PASSWORD}
    )
    assert response["Location"] == reverse("account_email_verification_sent")
    user = User.objects.get(email="other@newco.example")
    assert user.organisation is None
    assert not EmailAddress.objects.get(user=user).verified
    assert len(mailoutbox) == 1  # the verification e-mail


def test_reset_a_forgotten_password(client, owner_admin, mailoutbox):
    EmailAddress.objects.create(user=owner_admin, email=owner_admin.email, primary=True, verified=True)
    response = client.post("/accounts/password/reset/", {"email": owner_admin.email})
    assert response["Location"] == "/accounts/password/reset/done/"
    [message] = mailoutbox
    [reset_url] = [url for url in links_in(message.body) if "/password/reset/key/" in url]
    response = client.get(path_of(reset_url), follow=True)
    assert "<h1>Choose a new password</h1>" in response.content.decode()
    form_url = response.redirect_chain[-1][0]
    response = client.post(form_url, {"password1": PASSWORD, "password2": PASSWORD})
    assert response["Location"] == "/accounts/password/reset/key/done/"
    owner_admin.refresh_from_db()
    assert owner_admin.check_password(PASSWORD)


def test_other_admins_keep_their_access_when_an_admin_leaves(client, owner_org, owner_admin):
    second_admin = AdminFactory(organisation=owner_org)
    client.force_login(owner_admin)
    response = client.post(reverse("accounts:member_remove", args=[owner_admin.pk]))
    assert response.status_code == 302
    owner_admin.refresh_from_db()
    assert owner_admin.organisation is None
    # The one who left is sent to name an organisation of their own; the other admin is untouched.
    assert client.get("/")["Location"] == reverse("accounts:organisation_create")
    second_admin.refresh_from_db()
    assert second_admin.organisation == owner_org
    assert Actor.for_user(second_admin).is_admin


@pytest.mark.parametrize(
    ("language", "subject", "sentence"),
    [
        ("en", "Share centre: confirm your e-mail address", "An account of the share centre was just created"),
        ("fr", "confirmez votre adresse e-mail", "Un compte du centre de partage vient d’être créé"),
    ],
)
def test_the_verification_e_mail_speaks_in_the_product_s_voice(client, db, mailoutbox, language, subject, sentence):
    client.cookies["django_language"] = language
    client.post("/accounts/signup/", {"email": NEWCOMER, "password1": PASSWORD, "password2": PASSWORD})

    [message] = mailoutbox
    assert message.subject.endswith(subject)
    assert sentence in message.body
    [confirm_url] = [url for url in links_in(message.body) if "/confirm-email/" in url]
    assert confirm_url
    assert "You're receiving this email" not in message.body
    assert "Please Confirm" not in message.subject
