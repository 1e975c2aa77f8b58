"""Every form of the portal renders its fields one way (Django's form renderer with the portal's field template):
each form page, with the errors of a bad submission next to their fields, at desktop width. The screenshots
(artifacts/screenshots/form-*.png) are how a change to the field template is checked by eye."""

import datetime as dt

import pytest
from allauth.account.models import EmailAddress
from django.utils import timezone
from playwright.sync_api import expect

from tests.factories import MachineFactory, SharingFactory, WorkspaceFactory

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}


def test_the_portal_forms_with_their_errors(page, live_server, login, screenshot, owner_admin, beneficiary_org):
    EmailAddress.objects.create(user=owner_admin, email=owner_admin.email, primary=True, verified=True)
    organisation = owner_admin.organisation
    machine = MachineFactory(organisation=organisation, make="Volvo", model="EC220E", serial_number="VCEC220EV00318")
    WorkspaceFactory(organisation=organisation, name="Lyon depot")
    now = timezone.now()
    sharing = SharingFactory(
        owner=organisation,
        beneficiary=beneficiary_org,
        reference="CTR-2024-0871",
        start_at=now + dt.timedelta(days=3),
        end_at=now + dt.timedelta(days=30),
        machines=[machine],
    )
    page.set_viewport_size(DESKTOP)

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("E-mail").fill("nobody@example.com")
    page.get_by_label("Password", exact=True).fill("wrong")
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page.locator(".errorlist").first).to_be_visible()
    screenshot("form-login")

    page.goto(f"{live_server.url}/accounts/signup/")
    screenshot("form-signup")

    login(owner_admin.email)

    page.goto(f"{live_server.url}/accounts/organisation/")
    page.get_by_label("Name").fill(" ")
    page.get_by_role("button", name="Save").click()
    screenshot("form-organisation-settings")

    page.goto(f"{live_server.url}/accounts/members/")
    page.get_by_label("E-mail").fill(owner_admin.email)
    page.get_by_role("button", name="Send the invitation").click()
    expect(page.locator(".field.has-error").first).to_be_visible()
    screenshot("form-members-invite")

    page.goto(f"{live_server.url}/accounts/api-keys/")
    page.get_by_label("Name").fill(" ")
    page.get_by_role("button", name="Create the key").click()
    screenshot("form-api-keys")

    page.goto(f"{live_server.url}/fleet/workspaces/")
    page.get_by_label("Name of the new workspace").fill("Lyon depot")
    page.get_by_role("button", name="Create workspace").click()
    expect(page.locator(".errorlist").first).to_be_visible()
    screenshot("form-workspaces")

    page.goto(f"{live_server.url}/sharings/new/")
    page.get_by_label("Recipient's e-mail").fill("not an e-mail")
    page.get_by_role("button", name="Create the sharing").click()
    expect(page.locator(".field.has-error").first).to_be_visible()
    screenshot("form-sharing-create")

    page.goto(f"{live_server.url}/sharings/{sharing.pk}/edit/")
    screenshot("form-sharing-edit")

    page.goto(f"{live_server.url}/fleet/machines/{machine.pk}/?first=2030-01-02&last=2030-01-01")
    screenshot("form-machine-period")
