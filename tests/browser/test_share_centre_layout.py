"""The share centre's header and timeline in a real browser, at 1280 and 375 px, in English and French: the first rows
on a phone's first screen (375 × 667), the Menu button with the keyboard, the Filters panel and its pills, and
screenshots of the list and the timeline at both widths, and a link's machine filter named in its pill."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser import test_share_centre
from tests.browser.conftest import SCREENSHOTS

pytestmark = pytest.mark.browser

#: The sharings of every status of test_share_centre, as a fixture of this module too.
world = test_share_centre.share_centre_data

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 667}


def use_language(page, live_server, language):
    page.context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_phone_shows_the_first_sharings_on_its_first_screen(page, live_server, login, owner_admin, world, language):
    page.set_viewport_size(PHONE)
    login(owner_admin.email)
    use_language(page, live_server, language)
    for view in ("", "?view=timeline"):
        page.goto(f"{live_server.url}/{view}")
        first = page.locator(".timeline-machine" if view else "#results tbody tr").first
        expect(first).to_be_visible()
        box = first.bounding_box()
        assert box["y"] < PHONE["height"] - 40, (view, box)  # the row's top, with a line of it in sight
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        name = "timeline" if view else "list"
        page.screenshot(path=str(SCREENSHOTS / f"share-centre-{name}-375-top-{language}.png"))
        page.screenshot(path=str(SCREENSHOTS / f"share-centre-{name}-375-{language}.png"), full_page=True)
        page.set_viewport_size(DESKTOP)
        page.screenshot(path=str(SCREENSHOTS / f"share-centre-{name}-1280-{language}.png"), full_page=True)
        page.set_viewport_size(PHONE)
        if view:  # the same bars as a table, behind its toggle
            page.get_by_text("Show these sharings as a table" if language == "en" else "Voir ces partages").click()
            expect(page.locator(".timeline-table tbody tr")).to_have_count(12)  # a line per machine and sharing
            page.locator(".timeline-table").screenshot(
                path=str(SCREENSHOTS / f"share-centre-timeline-table-375-{language}.png")
            )


def test_the_menu_opens_and_closes_with_the_keyboard(page, live_server, login, owner_admin, world):
    page.set_viewport_size(PHONE)
    login(owner_admin.email)
    nav = page.get_by_role("navigation", name="Main")
    menu = page.get_by_role("button", name="Menu")
    expect(nav).to_be_hidden()
    expect(menu).to_have_attribute("aria-expanded", "false")
    for _ in range(6):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Menu":
            break
    expect(menu).to_be_focused()
    page.keyboard.press("Enter")
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(nav).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "share-centre-menu-375.png"))
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # past the language and log-out buttons
    page.keyboard.press("Tab")
    expect(nav.get_by_role("link", name="Share centre")).to_be_focused()
    page.keyboard.press("Escape")
    expect(nav).to_be_hidden()
    expect(menu).to_be_focused()
    expect(menu).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("Space")
    expect(nav).to_be_visible()
    nav.get_by_role("link", name="Fleet").click()
    expect(page).to_have_url(f"{live_server.url}/fleet/")
    # At a desktop width there is no Menu button: the links are in sight.
    page.set_viewport_size(DESKTOP)
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings")).to_be_visible()


def test_filters_panel_and_pills_keep_the_address_in_step(page, live_server, login, owner_admin, world):
    page.set_viewport_size(DESKTOP)
    login(owner_admin.email)
    panel = page.locator("details.filters-panel")
    expect(page.get_by_label("Workspace")).to_be_hidden()
    page.get_by_text("Filters", exact=True).click()
    page.get_by_label("Workspace").select_option(label="Lyon depot")
    expect(page).to_have_url(re.compile(r"workspace=[0-9a-f-]+"))
    expect(page.locator("#results tbody tr")).to_have_count(4)
    page.get_by_label("Period").select_option(label="Current")
    expect(page).to_have_url(re.compile(r"period=current"))
    expect(page.locator("#filter-count")).to_contain_text("2")
    page.get_by_label("Search").fill("CTR")
    expect(page).to_have_url(re.compile(r"q=CTR"))
    pills = page.locator(".filter-pills .pill")
    expect(pills).to_have_count(3)
    page.screenshot(path=str(SCREENSHOTS / "share-centre-filters-1280.png"))
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(SCREENSHOTS / "share-centre-filters-375.png"))
    page.set_viewport_size(DESKTOP)

    page.get_by_role("link", name=re.compile("^Workspace: Lyon depot")).click()
    expect(page).not_to_have_url(re.compile(r"workspace="))
    expect(page).to_have_url(re.compile(r"period=current"))
    expect(page).to_have_url(re.compile(r"q=CTR"))
    expect(pills).to_have_count(2)
    expect(page.get_by_label("Workspace")).to_have_value("")  # the form dropped it too
    expect(panel).to_have_attribute("open", "")  # still open: nothing moved under the hand
    page.get_by_label("Period").select_option(label="Past")
    expect(page).to_have_url(re.compile(r"period=past"))
    expect(page).not_to_have_url(re.compile(r"workspace="))  # a later change does not bring it back

    page.get_by_role("link", name=re.compile("^Search: CTR")).click()
    expect(page).not_to_have_url(re.compile(r"q="))
    expect(page.get_by_label("Search")).to_have_value("")
    page.get_by_role("link", name=re.compile("^Period: Past")).click()
    expect(pills).to_have_count(0)
    expect(page.locator("#results tbody tr")).to_have_count(9)
    page.go_back()
    expect(page).to_have_url(re.compile(r"period=past"))
    expect(page.get_by_label("Period")).to_have_value("past")


def test_a_link_to_a_machine_s_sharings_names_the_machine_in_its_pill(page, live_server, login, owner_admin, world):
    machine = world["machines"][0]
    page.set_viewport_size(DESKTOP)
    login(owner_admin.email)
    page.goto(f"{live_server.url}/?asset_id={machine.pk}")
    pill = page.locator(".filter-pills .pill")
    expect(pill).to_have_count(1)
    expect(pill).to_contain_text(f"Machine: {machine.make} {machine.model} · {machine.serial_number}")
    expect(pill).not_to_contain_text(str(machine.pk))
    page.screenshot(path=str(SCREENSHOTS / "share-centre-machine-pill-1280.png"))
    pill.click()
    expect(page).not_to_have_url(re.compile(r"asset_id="))
    expect(pill).to_have_count(0)
