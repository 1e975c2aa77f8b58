"""The owner places one of its own machines in its workspaces from the Fleet page, in place, with the keyboard."""

import pytest
from allauth.account.models import EmailAddress
from playwright.sync_api import expect

from tests.factories import MachineFactory, WorkspaceFactory

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 900}, {"width": 375, "height": 812}])
def test_admin_places_an_own_machine_in_workspaces(page, live_server, login, screenshot, owner_admin, viewport):
    EmailAddress.objects.create(user=owner_admin, email=owner_admin.email, primary=True, verified=True)
    organisation = owner_admin.organisation
    machine = MachineFactory(organisation=organisation, make="Volvo", model="EC220E", serial_number="VCEC220EV00318")
    WorkspaceFactory(organisation=organisation, name="Lyon depot")
    WorkspaceFactory(organisation=organisation, name="Grenoble depot")
    page.set_viewport_size(viewport)
    login(owner_admin.email)
    page.goto(f"{live_server.url}/fleet/")

    row = page.locator(f"#machine-{machine.pk}")
    row.get_by_role("link", name="Place in workspaces: Volvo EC220E VCEC220EV00318").click()
    expect(row.get_by_label("Lyon depot")).to_be_visible()
    screenshot(f"fleet-own-machine-placing-{viewport['width']}")
    row.get_by_label("Lyon depot").check()
    row.get_by_label("Grenoble depot").press("Space")
    row.get_by_role("button", name="Save").press("Enter")
    expect(row).to_contain_text("Saved")
    expect(row.locator(".tag")).to_have_text(["Grenoble depot", "Lyon depot"])
    assert sorted(machine.workspaces.values_list("name", flat=True)) == ["Grenoble depot", "Lyon depot"]
