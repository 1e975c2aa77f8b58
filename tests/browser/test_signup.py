"""Accounts in a real browser: signing up, confirming the e-mail and naming the organisation; accepting a sharing's
invitation (the organisation name the sender typed is proposed, and the sharing attaches); inviting a colleague who
joins the organisation. The e-mails are read from django.core.mail.outbox: live_server runs in this process.
Screenshots of the log-in, sign-up, organisation and members pages at desktop and phone widths."""

import datetime as dt
import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from accounts.actors import Actor
from accounts.models import ColleagueInvitation, Role, User
from sharing.lifecycle import SharingStatus
from sharing.models import Sharing
from sharing.services import sharing_create
from tests.factories import MachineFactory

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}
PASSWORD = "a-Long-pass-phrase-42"


def link_in_outbox(fragment: str, to: str) -> str:
    """The link containing `fragment` in the last e-mail sent to `to`."""
    messages = [message for message in mail.outbox if to in message.to]
    assert messages, f"no e-mail to {to} in {[message.subject for message in mail.outbox]}"
    links = [url for url in re.findall(r"https?://[^\s\"<]+", str(messages[-1].body)) if fragment in url]
    assert links, messages[-1].body
    return links[0]


def same_server(url: str, live_server) -> str:
    """E-mailed links carry SITE_URL (or the request's host); the browser must stay on the live server."""
    return live_server.url + "/" + url.split("/", 3)[3]


def both_widths(page, screenshot, name: str) -> None:
    page.set_viewport_size(DESKTOP)
    screenshot(name)
    page.set_viewport_size(PHONE)
    screenshot(f"{name}-phone")
    page.set_viewport_size(DESKTOP)


def sign_up(page, live_server, email: str | None = None) -> None:
    """Fill in and send the sign-up form (the e-mail is already filled when the link carried it)."""
    if email is not None:
        page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()


def confirm_email(page, live_server, email: str) -> None:
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
    page.goto(same_server(link_in_outbox("/confirm-email/", email), live_server))
    expect(page.get_by_text(email)).to_be_visible()
    page.get_by_role("button", name="Confirm").click()


def test_log_in_page(page, live_server, screenshot, owner_admin):
    EmailAddress.objects.create(user=owner_admin, email=owner_admin.email, primary=True, verified=True)
    page.goto(f"{live_server.url}/accounts/login/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    both_widths(page, screenshot, "login")
    page.get_by_label("E-mail").fill(owner_admin.email)
    page.get_by_label("Password", exact=True).fill("wrong password")
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("not correct")
    expect(page.get_by_label("E-mail")).to_have_value(owner_admin.email)
    page.get_by_label("Password", exact=True).fill("password")
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page.locator(".who")).to_contain_text("Rent & Go")


def test_sign_up_confirm_and_name_the_organisation(page, live_server, screenshot, mailoutbox):
    email = "founder@newco.example"
    page.goto(f"{live_server.url}/accounts/signup/")
    expect(page.get_by_role("heading", name="Create an account")).to_be_visible()
    both_widths(page, screenshot, "signup")
    sign_up(page, live_server, email)
    confirm_email(page, live_server, email)

    expect(page.get_by_role("heading", name="Name your organisation")).to_be_visible()
    expect(page.get_by_label("Organisation name")).to_have_value("")
    page.get_by_label("Organisation name").fill("NewCo Construction")
    page.get_by_label("Time zone").select_option("Europe/London")
    page.get_by_role("button", name="Create my organisation").click()

    expect(page.locator(".messages").get_by_text("Welcome to the share centre, NewCo Construction.")).to_be_visible()
    assert page.url == f"{live_server.url}/"
    user = User.objects.select_related("organisation").get(email=email)
    assert (user.organisation.name, user.organisation.timezone, user.role) == (
        "NewCo Construction",
        "Europe/London",
        Role.ADMIN,
    )


def test_the_recipient_of_a_sharing_signs_up_and_receives_it(page, live_server, screenshot, owner_admin, mailoutbox):
    email = "site.manager@buildco.example"
    machines = [MachineFactory(organisation=owner_admin.organisation) for _ in range(2)]
    now = timezone.now()
    [running, upcoming] = [
        sharing_create(
            actor=Actor.for_user(owner_admin),
            machine_ids=[machine.pk],
            recipient_email=email,
            recipient_organisation_name="BuildCo Sites",
            start_at=start_at,
        )[0]
        for machine, start_at in zip(machines, [now - dt.timedelta(days=1), now + dt.timedelta(days=3)], strict=True)
    ]
    assert running.status == upcoming.status == SharingStatus.PENDING

    page.goto(f"{live_server.url}/accounts/signup/?email={email}")
    expect(page.get_by_label("E-mail")).to_have_value(email)
    sign_up(page, live_server)
    confirm_email(page, live_server, email)

    expect(page.get_by_role("heading", name="Name your organisation")).to_be_visible()
    expect(page.get_by_label("Organisation name")).to_have_value("BuildCo Sites")
    expect(page.get_by_text("2 sharings from Rent & Go are waiting for you")).to_be_visible()
    both_widths(page, screenshot, "organisation-create")
    page.get_by_role("button", name="Create my organisation").click()

    expect(page.locator(".who")).to_contain_text("BuildCo Sites")
    user = User.objects.get(email=email)
    for sharing in (running, upcoming):
        sharing.refresh_from_db()
        assert sharing.beneficiary_id == user.organisation_id
    assert running.status == SharingStatus.IN_PROGRESS
    assert upcoming.status == SharingStatus.SCHEDULED
    assert Sharing.objects.filter(beneficiary=user.organisation).count() == 2


def test_an_admin_invites_a_colleague_who_joins(page, live_server, screenshot, login, owner_admin, mailoutbox):
    EmailAddress.objects.create(user=owner_admin, email=owner_admin.email, primary=True, verified=True)
    colleague = "colleague@rentandgo.example"
    login(owner_admin.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Members").click()
    expect(page.get_by_role("heading", name="Members", exact=True)).to_be_visible()
    invite = page.locator("form", has=page.get_by_role("button", name="Send the invitation"))
    invite.get_by_label("E-mail").fill(colleague)
    invite.get_by_label("Role").select_option("admin")
    invite.get_by_role("button", name="Send the invitation").click()
    expect(page.locator(".messages").get_by_text(f"Invitation sent to {colleague}.")).to_be_visible()
    expect(page.get_by_role("region", name="Pending invitations")).to_contain_text(colleague)
    both_widths(page, screenshot, "members")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    expect(page.get_by_label("Organisation name")).to_have_value("Rent & Go")
    both_widths(page, screenshot, "organisation-settings")
    page.get_by_role("button", name="Log out").click()

    page.goto(same_server(link_in_outbox("/accounts/invitations/", colleague), live_server))
    expect(page.get_by_role("heading", name="Join Rent & Go")).to_be_visible()
    screenshot("invitation")
    page.get_by_role("link", name="Create my account").click()
    expect(page.get_by_label("E-mail")).to_have_value(colleague)
    sign_up(page, live_server)

    # The invitation link reached the address: no verification e-mail, straight into the organisation.
    expect(page.locator(".who")).to_contain_text("Rent & Go")
    user = User.objects.get(email=colleague)
    assert (user.organisation_id, user.role) == (owner_admin.organisation_id, Role.ADMIN)
    assert ColleagueInvitation.objects.get(email=colleague).accepted_at is not None
