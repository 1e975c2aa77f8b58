"""The new-sharing form with the keyboard only: the recipient combobox (ARIA 1.2: arrows, Enter, Escape, its count
read by the announcer), and axe-core on the states the page walk of test_accessibility.py never opens."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_accessibility import axe_findings, report
from tests.browser.test_share_centre import share_centre_data  # noqa: F401 (a fixture)

pytestmark = pytest.mark.browser


@pytest.fixture
def browser_context_args(browser_context_args):
    """axe is injected as a script the app's CSP does not list (as in test_accessibility.py)."""
    return {**browser_context_args, "bypass_csp": True}


def test_the_recipient_combobox_with_the_keyboard(
    page,
    live_server,
    login,
    screenshot,
    owner_admin,
    share_centre_data,  # noqa: F811
):
    login(owner_admin.email)
    page.goto(f"{live_server.url}/sharings/new/")
    field = page.get_by_role("combobox", name="Recipient's e-mail")
    listbox = page.get_by_role("listbox", name="Contacts")
    expect(field).to_have_attribute("aria-expanded", "false")
    expect(listbox).to_be_hidden()

    field.focus()
    page.keyboard.type("example")
    expect(listbox).to_be_visible()
    expect(field).to_have_attribute("aria-expanded", "true")
    expect(field).to_have_attribute("aria-controls", "contact-suggestions")
    options = listbox.get_by_role("option")
    expect(options).to_have_count(3)
    expect(page.locator("#announcer")).to_have_text("3 contacts")
    ids = [options.nth(index).get_attribute("id") for index in range(3)]
    assert axe_findings(page) == [], report(axe_findings(page))

    # Arrows move the active option; focus stays in the field.
    page.keyboard.press("ArrowDown")
    expect(field).to_have_attribute("aria-activedescendant", ids[0])
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    page.keyboard.press("ArrowDown")
    expect(field).to_have_attribute("aria-activedescendant", ids[1])
    expect(options.nth(0)).to_have_attribute("aria-selected", "false")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")  # wraps round to the last
    expect(field).to_have_attribute("aria-activedescendant", ids[2])
    expect(field).to_be_focused()
    assert axe_findings(page) == [], report(axe_findings(page))
    page.set_viewport_size({"width": 375, "height": 812})
    page.locator("#recipient").screenshot(path=str(SCREENSHOTS / "combobox-375.png"))
    page.set_viewport_size({"width": 1280, "height": 900})
    page.locator("#recipient").screenshot(path=str(SCREENSHOTS / "combobox-1280.png"))

    # Escape closes the list and keeps what was typed; Alt+Down opens it again.
    page.keyboard.press("Escape")
    expect(field).to_have_attribute("aria-expanded", "false")
    expect(listbox).to_be_hidden()
    expect(field).not_to_have_attribute("aria-activedescendant", ids[2])
    expect(field).to_have_value("example")
    page.keyboard.press("Alt+ArrowDown")
    expect(field).to_have_attribute("aria-expanded", "true")

    # Enter picks the active contact (and does not submit the form); focus goes to the next field.
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(options.nth(1)).to_contain_text("chantier@durand.example")
    page.keyboard.press("Enter")
    expect(field).to_have_value("chantier@durand.example")
    organisation = page.get_by_label("Recipient's organisation")
    expect(organisation).to_have_value("Durand Terrassement")
    expect(organisation).to_be_focused()
    expect(page.locator("#announcer")).to_contain_text("Picked from your contacts: chantier@durand.example.")
    assert page.url.endswith("/sharings/new/")  # nothing was submitted

    # Nothing found is said too.
    page.get_by_role("combobox", name="Recipient's e-mail").focus()
    page.keyboard.press("Control+A")
    page.keyboard.type("nobody-like-this")
    expect(page.locator("#announcer")).to_have_text("No contact matches")
    expect(page.get_by_role("combobox", name="Recipient's e-mail")).to_have_attribute("aria-expanded", "false")


def test_an_empty_form_names_every_field_at_once(page, live_server, login, screenshot, owner_admin, share_centre_data):  # noqa: F811
    login(owner_admin.email)
    page.goto(f"{live_server.url}/sharings/new/")
    page.get_by_label("Start").fill("")
    packs = page.locator("input[name=data_packs]")
    for index in range(packs.count()):
        packs.nth(index).uncheck()
    page.get_by_label("Reference").fill("TYPED-REF")
    page.get_by_role("button", name="Create the sharing").focus()
    page.keyboard.press("Enter")

    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("heading")).to_have_text("4 things to correct before going on")
    expect(summary.get_by_role("link")).to_have_text(
        [
            "Recipient's e-mail: This field is required.",
            "Machines: Choose at least one machine.",
            "Start: This field is required.",
            "Data packs: Choose at least one data pack.",
        ]
    )
    expect(page.get_by_label("Reference")).to_have_value("TYPED-REF")  # nothing typed is lost
    email = page.get_by_role("combobox", name="Recipient's e-mail")
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Start")).to_have_attribute("aria-invalid", "true")
    assert axe_findings(page) == [], report(axe_findings(page))
    page.set_viewport_size({"width": 375, "height": 812})
    screenshot("sharing-new-errors-375")
    assert axe_findings(page) == [], report(axe_findings(page))
    page.set_viewport_size({"width": 1280, "height": 900})
    screenshot("sharing-new-errors-1280")

    # Each line leads to its field.
    page.keyboard.press("Tab")
    expect(summary.get_by_role("link").first).to_be_focused()
    page.keyboard.press("Enter")
    expect(email).to_be_focused()
    summary.get_by_role("link", name="Start: This field is required.").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_label("Start")).to_be_focused()


def test_the_machine_picker_with_the_keyboard(page, live_server, login, screenshot, owner_admin, share_centre_data):  # noqa: F811
    login(owner_admin.email)
    page.goto(f"{live_server.url}/sharings/new/")
    listbox = page.get_by_role("listbox", name="Machines")
    expect(listbox).to_have_attribute("aria-multiselectable", "true")
    expect(page.locator("#machine-picker-count")).to_have_text("No machine selected")
    # One Tab stop: the checkboxes are out of the tab order; the list is the stop.
    assert page.locator("#machine-list input[type=checkbox]:visible").count() == 0
    expect(listbox.get_by_role("option").first).to_contain_text("Compressor")  # its category, then its workspaces
    expect(listbox.get_by_role("option", name="Bobcat E35z B4SX11892 · Mini excavator · Lyon depot")).to_be_visible()

    page.get_by_label("Search machines").focus()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # past the workspace filter and "Select all shown"
    page.keyboard.press("Tab")
    expect(listbox).to_be_focused()
    options = listbox.get_by_role("option")
    expect(listbox).to_have_attribute("aria-activedescendant", options.nth(0).get_attribute("id"))
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Space")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    expect(page.locator("#machine-picker-count")).to_have_text("1 machine selected")
    expect(page.locator("#announcer")).to_have_text("1 machine selected")
    page.keyboard.press("End")
    page.keyboard.press("Space")
    expect(page.locator("#machine-picker-count")).to_have_text("2 machines selected")
    chips = page.locator("#machine-picker-summary .pick-chip")
    expect(chips).to_have_count(2)
    assert axe_findings(page) == [], report(axe_findings(page))
    page.set_viewport_size({"width": 375, "height": 812})
    page.locator("#machine-picker").screenshot(path=str(SCREENSHOTS / "machine-picker-375.png"))
    assert axe_findings(page) == [], report(axe_findings(page))
    page.set_viewport_size({"width": 1280, "height": 900})
    page.locator("#machine-picker").screenshot(path=str(SCREENSHOTS / "machine-picker-1280.png"))

    # A search keeps what was ticked; "Select all shown" ticks the rows found.
    page.get_by_label("Search machines").fill("Komatsu")
    expect(listbox.get_by_role("option")).to_have_count(3)  # the two ticked first, then the one found
    expect(page.locator("#machine-picker-count")).to_have_text("2 machines selected")
    page.get_by_role("button", name="Select all shown").click()
    expect(page.locator("#machine-picker-count")).to_have_text("3 machines selected")
    # A chip unticks its machine.
    chips.first.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#machine-picker-count")).to_have_text("2 machines selected")
    expect(chips).to_have_count(2)


def test_the_machine_picker_without_javascript(browser, live_server, owner_admin, share_centre_data):  # noqa: F811
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("E-mail").fill(owner_admin.email)
    page.get_by_label("Password", exact=True).fill("password")
    page.get_by_role("button", name="Log in", exact=True).click()
    page.goto(f"{live_server.url}/sharings/new/")
    # Plain checkboxes, each its own stop; no listbox, no counter.
    assert page.locator("#machine-list[role=listbox]").count() == 0
    expect(page.locator("#machine-picker-summary")).to_be_hidden()
    expect(page.get_by_role("checkbox", name="Bobcat E35z B4SX11892 · Mini excavator · Lyon depot")).to_be_visible()
    context.close()
