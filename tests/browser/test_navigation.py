"""The header navigation at phone and desktop widths: every link is on screen (nothing scrolls sideways or hides
behind the edge, in English and in the longer French labels; on a phone once the Menu button has opened it) and
reachable with the keyboard."""

import pytest
from allauth.account.models import EmailAddress
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

WIDTHS = {"phone": {"width": 375, "height": 812}, "desktop": {"width": 1280, "height": 900}}
#: An admin's header: nine links (French labels are longer and must fit as well).
LINK_COUNT = 9


@pytest.fixture
def admin(owner_admin):
    EmailAddress.objects.create(user=owner_admin, email=owner_admin.email, primary=True, verified=True)
    return owner_admin


def overflow(page, selector):
    """How many pixels the element's content sticks out sideways (0 when it fits)."""
    return page.eval_on_selector(selector, "element => element.scrollWidth - element.clientWidth")


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_every_link_of_the_header_is_on_screen(page, live_server, login, screenshot, admin, width, language):
    viewport = WIDTHS[width]
    page.set_viewport_size(viewport)
    login(admin.email)
    if language == "fr":
        page.get_by_role("button", name="Français").click()
        expect(page.locator("html")).to_have_attribute("lang", "fr")
    nav = page.locator(".main-nav")
    if width == "phone":  # folded behind the Menu button
        expect(nav).to_be_hidden()
        page.get_by_role("button", name="Menu").click()
    expect(nav).to_be_visible()
    links = nav.get_by_role("link").all()
    assert len(links) == LINK_COUNT
    for link in links:
        expect(link).to_be_visible()
        box = link.bounding_box()
        assert box["x"] >= 0, (link.text_content(), box)
        assert box["x"] + box["width"] <= viewport["width"], (link.text_content(), box)
    assert overflow(page, ".main-nav") <= 0
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    screenshot(f"header-{width}-{language}")


def test_the_header_links_are_reached_with_the_keyboard(page, live_server, login, admin):
    page.set_viewport_size(WIDTHS["phone"])
    login(admin.email)
    page.get_by_role("button", name="Menu").focus()
    page.keyboard.press("Enter")
    reached = []
    for _ in range(20):
        page.keyboard.press("Tab")
        reached.append(page.evaluate("document.activeElement.textContent.trim()"))
        if reached[-1] == "Settings":
            break
    assert reached[-1] == "Settings", reached
    assert {"Fleet", "Workspaces", "Members", "API keys"} <= set(reached)
    settings = page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings")
    box = settings.bounding_box()
    assert box["x"] + box["width"] <= WIDTHS["phone"]["width"]
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server.url}/accounts/organisation/")
