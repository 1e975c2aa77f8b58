"""The portal with the keyboard only, and what a screen reader hears: after every htmx swap focus goes into what was
swapped in (a confirmation's question, never its "Yes"; an inline form's first field), and the one announcer of
base.html (#announcer, outside every swap target) reads what changed: the count a filter found, "Sharing stopped"."""

import re

import pytest
from allauth.account.models import EmailAddress
from playwright.sync_api import expect

from sharing.lifecycle import SharingStatus
from tests.browser.test_share_centre import share_centre_data  # noqa: F401 (a fixture)
from tests.factories import MachineFactory, WorkspaceFactory

pytestmark = pytest.mark.browser


def focused(page) -> dict:
    """What has focus: its tag, id, text and role."""
    return page.evaluate(
        """() => { const e = document.activeElement; return {tag: e.tagName.toLowerCase(), id: e.id,
        text: (e.textContent || '').replace(/\\s+/g, ' ').trim(), role: e.getAttribute('role') || ''}; }"""
    )


def announced(page):
    return page.locator("#announcer")


def test_stopping_a_sharing_with_the_keyboard(page, live_server, login, owner_admin, share_centre_data):  # noqa: F811
    sharing = share_centre_data["sharings"][0]
    login(owner_admin.email)
    page.goto(f"{live_server.url}/sharings/{sharing.pk}/")
    stop = page.get_by_role("link", name="Stop the sharing")
    stop.focus()
    page.keyboard.press("Enter")

    # Zero Tabs: focus is on the question itself, which names what is about to happen; never on "Yes".
    expect(page.locator("#confirm-question")).to_be_focused()
    assert focused(page)["text"].startswith("Stop this sharing now?")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Yes, stop it now")).to_be_focused()

    # Cancel brings the actions back, focus in the sharing (its heading), not at the top of the page.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Cancel")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name="Stop the sharing")).to_be_visible()
    expect(page.locator("#sharing h1")).to_be_focused()

    page.get_by_role("link", name="Stop the sharing").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#confirm-question")).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator(".page-head .badge")).to_have_text("Stopped")
    expect(announced(page)).to_have_text(re.compile("^Sharing stopped."))
    expect(page.locator("#sharing h1")).to_be_focused()
    # The stopped sharing's message is no live region of its own (a fresh one is not read): the announcer reads it.
    assert page.locator("#sharing [aria-live], #sharing [role=status], #sharing [role=alert]").count() == 0
    sharing.refresh_from_db()
    assert sharing.status == SharingStatus.STOPPED


def test_the_edit_form_takes_focus_and_its_cancel_gives_it_back(
    page,
    live_server,
    login,
    owner_admin,
    share_centre_data,  # noqa: F811
):
    sharing = share_centre_data["sharings"][2]  # scheduled: every field can change
    login(owner_admin.email)
    page.goto(f"{live_server.url}/sharings/{sharing.pk}/")
    page.get_by_role("link", name="Edit").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_label("Start")).to_be_focused()


def test_filtering_announces_what_was_found(page, live_server, login, owner_admin, share_centre_data):  # noqa: F811
    login(owner_admin.email)
    expect(page.locator("#announcer")).to_have_attribute("aria-live", "polite")
    page.get_by_label("Search").focus()
    page.keyboard.type("CTR-2024-09")
    expect(page.locator("#results tbody tr")).to_have_count(3)
    expect(announced(page)).to_have_text("3 sharings")
    expect(page.get_by_label("Search")).to_be_focused()  # typing is never interrupted
    page.keyboard.press("Control+A")
    page.keyboard.type("nothing like this")
    expect(announced(page)).to_have_text("No sharing matches these filters")
    # The results are swapped whole: they hold no live region of their own.
    assert page.locator("#results[aria-live], #results [aria-live]").count() == 0
    assert page.locator("[aria-live]").count() == 1


def test_placing_a_machine_in_workspaces_with_the_keyboard(page, live_server, login, owner_admin):
    EmailAddress.objects.create(user=owner_admin, email=owner_admin.email, primary=True, verified=True)
    organisation = owner_admin.organisation
    machine = MachineFactory(organisation=organisation, make="Volvo", model="EC220E", serial_number="VCEC220EV00318")
    WorkspaceFactory(organisation=organisation, name="Grenoble depot")
    WorkspaceFactory(organisation=organisation, name="Lyon depot")
    login(owner_admin.email)
    page.goto(f"{live_server.url}/fleet/")
    row = page.locator(f"#machine-{machine.pk}")
    row.get_by_role("link", name=re.compile("^Place in workspaces")).focus()
    page.keyboard.press("Enter")
    expect(row.get_by_label("Grenoble depot")).to_be_focused()  # the form's first field
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(row.get_by_role("button", name="Save")).to_be_focused()
    page.keyboard.press("Enter")
    expect(row.locator(".tag")).to_have_text(["Grenoble depot"])
    expect(announced(page)).to_have_text("Saved")
    # Focus stays in the row (its first link), not at the top of the page.
    expect(row.get_by_role("link", name="Volvo EC220E", exact=True)).to_be_focused()
