"""The webhooks page in Chromium: an admin adds an endpoint (its secret shown once), sees its deliveries to a real
receiver (status, time, answer code, duration), an endpoint disabled by a 410 with its failed delivery, sends it
again once enabled; in English and French, with no serious or critical axe finding at desktop and phone widths."""

import pytest
from allauth.account.models import EmailAddress
from playwright.sync_api import expect
from werkzeug import Response

from accounts.actors import Actor
from events.models import WebhookEndpoint
from events.services import webhook_endpoint_create
from sharing.services import sharing_create
from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_accessibility import check_page, new_page, report
from tests.factories import MachineFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def admin(owner_admin):
    EmailAddress.objects.create(user=owner_admin, email=owner_admin.email, primary=True, verified=True)
    return owner_admin


@pytest.fixture
def delivered(admin, beneficiary_admin, httpserver, midday):
    """Two endpoints, one answering 204 and one 410 (now disabled), and a sharing whose creation went to both."""
    httpserver.expect_request("/erp", method="POST").respond_with_response(Response("", status=204))
    httpserver.expect_request("/gone", method="POST").respond_with_response(Response("", status=410))
    actor = Actor.for_user(admin)
    working, _secret = webhook_endpoint_create(
        actor=actor, url=httpserver.url_for("/erp"), event_types=["sharing.created"], description="ERP"
    )
    gone, _secret = webhook_endpoint_create(
        actor=actor, url=httpserver.url_for("/gone"), event_types=["sharing.created"]
    )
    sharing_create(
        actor=actor,
        machine_ids=[MachineFactory(organisation=admin.organisation).pk],
        recipient_email=beneficiary_admin.email,
        reference="CTR-42",
        start_at=midday,
    )  # committed (live_server): the outbox delivers at once, eagerly, to the receiver
    return working, gone


def test_add_an_endpoint_and_follow_its_deliveries(page, live_server, login, screenshot, delivered):
    working, gone = delivered
    page.set_viewport_size({"width": 1280, "height": 900})
    login("admin@rentandgo.example")
    page.get_by_role("link", name="Webhooks").click()
    expect(page.get_by_role("heading", name="Webhooks", exact=True)).to_be_visible()

    page.get_by_label("URL").fill("https://127.0.0.1:9/crm")
    page.get_by_label("sharing.stopped").check()
    page.get_by_role("button", name="Add the endpoint").click()
    secret = WebhookEndpoint.objects.get(url="https://127.0.0.1:9/crm").secret
    expect(page.locator("#new-webhook-secret")).to_have_text(secret)
    screenshot("webhooks")

    page.get_by_role("link", name=working.url).click()
    row = page.locator("table.deliveries tbody tr").first
    expect(row).to_contain_text("sharing.created")
    expect(row).to_contain_text("Delivered")
    expect(row).to_contain_text("204")
    expect(row).to_contain_text(" ms")
    screenshot("webhook-deliveries")

    page.goto(f"{live_server.url}/webhooks/{gone.pk}/")
    expect(page.get_by_text("The endpoint answered 410 Gone")).to_be_visible()
    expect(page.locator("table.deliveries tbody tr").first).to_contain_text("410")
    page.get_by_role("button", name="Enable").click()
    page.get_by_role("button", name="Send again").click()
    expect(page.locator(".messages").get_by_text("1 delivery sent again.")).to_be_visible()
    assert secret not in page.content()


def test_no_serious_or_critical_axe_finding_on_the_webhooks_pages(browser, live_server, delivered):
    working, gone = delivered
    findings: list = []
    for language in ("en", "fr"):
        context, page = new_page(browser, live_server, language)
        page.goto(f"{live_server.url}/accounts/login/")
        page.locator("input[name=login]").fill("admin@rentandgo.example")
        page.locator("input[name=password]").fill("password")
        page.locator("form button[type=submit]").last.click()
        page.wait_for_url(f"{live_server.url}/")
        for label, path in (
            ("webhooks", "/webhooks/"),
            ("webhook", f"/webhooks/{working.pk}/"),
            ("disabled webhook", f"/webhooks/{gone.pk}/"),
        ):
            check_page(page, f"{live_server.url}{path}", f"{label} ({language})", findings)
        if language == "fr":
            page.set_viewport_size({"width": 375, "height": 812})
            page.goto(f"{live_server.url}/webhooks/{gone.pk}/")
            expect(page.get_by_text("Le point de réception a répondu 410 Gone")).to_be_visible()
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "webhook-disabled-fr-phone.png"), full_page=True)
        context.close()
    assert not findings, report(findings)
