"""The share centre's tabs ("Shared by us" / "Shared with us" / "Contracts") fit the screen at phone and desktop
widths, in English and in the longer French labels: nothing scrolls sideways and no tab hides behind the edge."""

import pytest
from allauth.account.models import EmailAddress
from playwright.sync_api import expect

from tests.factories import SharingFactory

pytestmark = pytest.mark.browser

WIDTHS = {"phone": {"width": 375, "height": 812}, "desktop": {"width": 1280, "height": 900}}
LABELS = {
    "en": ("Shared by us", "Shared with us", "Contracts"),
    "fr": ("Partagés par nous", "Partagés avec nous", "Contrats"),
}


@pytest.fixture
def admin(owner_admin, owner_org, beneficiary_org):
    EmailAddress.objects.create(user=owner_admin, email=owner_admin.email, primary=True, verified=True)
    # Counts of two and three digits: the widest badges a busy rental company shows.
    for _ in range(12):
        SharingFactory(owner=owner_org, beneficiary=beneficiary_org)
    for _ in range(3):
        SharingFactory(owner=beneficiary_org, beneficiary=owner_org)
    return owner_admin


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_both_direction_tabs_are_on_screen(page, live_server, login, screenshot, admin, width, language):
    viewport = WIDTHS[width]
    page.set_viewport_size(viewport)
    login(admin.email)
    if language == "fr":
        page.get_by_role("button", name="Français").click()
        expect(page.locator("html")).to_have_attribute("lang", "fr")
    page.goto(f"{live_server.url}/")
    tabs = page.get_by_role("navigation", name="Share centre" if language == "en" else "Centre de partage")
    expect(tabs).to_be_visible()
    for label in LABELS[language]:
        tab = tabs.get_by_role("link", name=label)
        expect(tab).to_be_visible()
        box = tab.bounding_box()
        assert box["x"] >= 0, (label, box)
        assert box["x"] + box["width"] <= viewport["width"], (label, box)
    # The first screen only: the tabs are the subject, not the list below them (taken first, to see a failure).
    screenshot(f"share-centre-tabs-{width}-{language}", clip={"x": 0, "y": 0, **viewport})
    assert tabs.evaluate("element => element.scrollWidth - element.clientWidth") <= 0
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
