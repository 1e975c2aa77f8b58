"""A request for a later end in a real browser: the beneficiary asks on its received sharing's page, the owner's
admin sees the count in the share centre, opens the sharing and approves, and the beneficiary sees the new end."""

import datetime as dt
import zoneinfo

import pytest
from allauth.account.models import EmailAddress
from django.utils import formats, timezone, translation
from playwright.sync_api import expect

from accounts.actors import Actor
from sharing.models import ExtensionRequest
from sharing.services import sharing_create
from tests.factories import MachineFactory

pytestmark = pytest.mark.browser


def test_ask_for_a_later_end_then_the_owner_approves(
    page, live_server, login, screenshot, owner_admin, beneficiary_admin
):
    for user in (owner_admin, beneficiary_admin):
        EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
    now = timezone.now()
    end = (now + dt.timedelta(days=6)).replace(minute=0, second=0, microsecond=0)
    machine = MachineFactory(organisation=owner_admin.organisation, make="Caterpillar", model="320 GC")
    (sharing,) = sharing_create(
        actor=Actor.for_user(owner_admin),
        machine_ids=[machine.pk],
        recipient_email=beneficiary_admin.email,
        start_at=now - dt.timedelta(days=3),
        end_at=end,
        reference="LOC-881",
    )
    paris = zoneinfo.ZoneInfo(beneficiary_admin.organisation.timezone)
    wanted = timezone.localtime(end + dt.timedelta(days=14), paris)

    login(beneficiary_admin.email)
    page.goto(f"{live_server.url}/sharings/{sharing.pk}/")
    page.get_by_label("End you need").fill(wanted.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Message").fill("The site needs the excavator two more weeks.")
    page.get_by_role("button", name="Ask for a later end").click()
    expect(page.locator(".messages").get_by_text("Your request is sent")).to_be_visible()
    expect(page.get_by_text("Waiting for the owner's answer")).to_be_visible()
    screenshot("extension-asked")
    assert ExtensionRequest.objects.get().status == "pending"

    page.context.clear_cookies()
    login(owner_admin.email)
    badge = page.locator(".extension-requests")
    expect(badge).to_contain_text("1 request for a later end waits for your answer")
    screenshot("extension-badge")
    badge.get_by_role("link", name="LOC-881").click()
    expect(page.locator("#extension").get_by_text("The site needs the excavator two more weeks.")).to_be_visible()
    screenshot("extension-to-answer")
    page.get_by_role("button", name="Approve the new end").click()
    expect(page.locator(".messages").get_by_text("Approved: the sharing's end has moved")).to_be_visible()
    expect(page.locator(".extension-requests")).to_have_count(0)

    page.context.clear_cookies()
    login(beneficiary_admin.email)
    page.goto(f"{live_server.url}/sharings/{sharing.pk}/")
    with translation.override("en"), timezone.override(paris):
        shown = formats.date_format(wanted, "DATETIME_FORMAT")
    expect(page.locator("#window-title + dl")).to_contain_text(shown)
    expect(page.get_by_text("Approved", exact=True)).to_be_visible()
    screenshot("extension-approved")
    sharing.refresh_from_db()
    assert sharing.end_at == wanted
