"""The telematics sources page in Chromium: an admin registers a feed through the form, sees its last run with its
problems, and polls it now; in English and in French, at desktop and phone widths."""

import datetime as dt

import pytest
from allauth.account.models import EmailAddress
from playwright.sync_api import expect

from accounts.actors import Actor
from telematics.models import TelematicsRun
from telematics.services import SourceAuth, telematics_source_create

pytestmark = pytest.mark.browser


@pytest.fixture
def admin(owner_admin):
    EmailAddress.objects.create(user=owner_admin, email=owner_admin.email, primary=True, verified=True)
    return owner_admin


def test_register_a_source_and_see_its_last_run(page, live_server, login, screenshot, admin, midday):
    source = telematics_source_create(
        actor=Actor.for_user(admin),
        name="VisionLink",
        base_url="https://127.0.0.1:9/aemp/v2",
        auth=SourceAuth(type="oauth2", token_url="https://127.0.0.1:9/token", client_id="cc", secret="s3cret"),
    )
    TelematicsRun.objects.create(
        source=source,
        requested_at=midday - dt.timedelta(minutes=5),
        started_at=midday - dt.timedelta(minutes=5),
        finished_at=midday - dt.timedelta(minutes=5) + dt.timedelta(seconds=7),
        machines_seen=3,
        machines_matched=2,
        readings_seen=16,
        readings_stored=14,
        error="Caterpillar 950 GC CAT0950GCXYZ02, FaultCodes: a fault code without a date or an identifier",
    )
    page.set_viewport_size({"width": 1280, "height": 900})
    login(admin.email)
    page.get_by_role("link", name="Telematics").click()
    expect(page.get_by_role("heading", name="Telematics sources")).to_be_visible()
    expect(page.get_by_text("16 values read, 14 new stored")).to_be_visible()
    screenshot("telematics-sources")

    page.get_by_role("link", name="Register a source").click()
    page.get_by_label("Name", exact=True).fill("JDLink")
    page.get_by_label("Feed address").fill("https://127.0.0.1:9/jd/aemp")
    page.get_by_label("A key in a header").check()
    page.get_by_label("Header name").fill("X-Api-Key")
    page.get_by_label("Password, client secret or key").fill("k3y")
    screenshot("telematics-source-form")
    page.get_by_role("button", name="Register the source").click()
    expect(page.get_by_text("Source “JDLink” registered")).to_be_visible()
    page.get_by_role("button", name="Poll now JDLink").click()
    expect(page.locator(".messages").get_by_text("A poll of “JDLink”")).to_be_visible()
    assert "s3cret" not in page.content()
    assert "k3y" not in page.content()

    page.set_viewport_size({"width": 375, "height": 812})
    page.get_by_role("button", name="Français").click()
    expect(page.get_by_role("heading", name="Sources télématiques")).to_be_visible()
    screenshot("telematics-sources-fr-phone")
