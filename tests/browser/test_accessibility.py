"""axe-core on every page of the portal, as each kind of user (an admin and a member of an owner organisation and of a
beneficiary, and a visitor), in English and in French, at desktop (1280 px) and phone (375 px) widths: no serious and
no critical finding anywhere. axe comes from npm (package.json, installed by `make test` with `npm ci`) and is
injected from node_modules, never from a CDN. One browser for the whole walk; each page is loaded once per user and
language and checked at both widths."""

import datetime as dt
import json
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from django.utils import timezone
from playwright.sync_api import expect

from accounts.actors import Actor
from accounts.models import ApiKeyRole
from accounts.services import api_key_create
from contracts.plan import Desired, Line
from contracts.services import contract_apply
from fleet.models import Reading
from outbox.models import Message, MessageStatus
from sharing.messages import SharingMessage
from sharing.models import ExtensionRequest, ReceivedMachine
from telematics.services import SourceAuth, telematics_source_create
from tests.browser.conftest import SCREENSHOTS
from tests.factories import (
    ContactFactory,
    FaultCodeFactory,
    MachineFactory,
    PositionFactory,
    SharingFactory,
    UserFactory,
    WorkspaceFactory,
)

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = {"1280": {"width": 1280, "height": 900}, "375": {"width": 375, "height": 812}}
LANGUAGES = ("en", "fr")
#: What fails the walk; "moderate" and "minor" findings are looked at by hand, except the rules below.
BLOCKING = ("serious", "critical")
#: Rules that fail the walk whatever their impact: axe rates both "moderate", and each was a real defect here (two
#: regions both named "Fault codes"; buttons whose accessible name lacked their visible text, which speech-input
#: users say to press them). The second is one of axe's experimental rules, off unless asked for.
ALWAYS_BLOCKING = ("landmark-unique", "label-content-name-mismatch")
AXE_OPTIONS = {"resultTypes": ["violations"], "rules": {"label-content-name-mismatch": {"enabled": True}}}


def day(offset: int, hour: int = 8) -> dt.datetime:
    today = timezone.now().astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today + dt.timedelta(days=offset, hours=hour)


@pytest.fixture
def world(owner_org, owner_admin, owner_member, beneficiary_org, beneficiary_admin):
    """A small but complete portal: machines with data, sharings in several statuses both ways, workspaces, a contact,
    an API key, a failed notification; a member on each side."""
    beneficiary_member = UserFactory(organisation=beneficiary_org, email="member@buildco.example")
    for user in (owner_admin, owner_member, beneficiary_admin, beneficiary_member):
        EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
    machine = MachineFactory(
        organisation=owner_org, make="Caterpillar", model="320 GC", serial_number="CAT0320GCXYZ01234"
    )
    others = [
        MachineFactory(organisation=owner_org, make="Volvo", model="EC220E", serial_number="VCEC220EV00318"),
        MachineFactory(organisation=owner_org, make="JCB", model="540-180", serial_number="JCB5401802771"),
    ]
    rows = []
    for offset in range(-20, 0):
        for metric, value in (
            ("operating_hours", 4000 + offset * 6.0),
            ("idle_hours", 800 + offset * 1.0),
            ("fuel_used", 60000 + offset * 90.0),
            ("fuel_remaining", 40 + offset % 50),
            ("engine_running", 1.0),
        ):
            rows.append(Reading(machine=machine, metric=metric, timestamp=day(offset, 12), value=value))
    Reading.objects.bulk_create(rows)
    PositionFactory(machine=machine, timestamp=day(-1, 17), latitude=45.76, longitude=4.83)
    FaultCodeFactory(machine=machine, timestamp=day(-3, 10), identifier="110-0", severity="high")
    lyon = WorkspaceFactory(organisation=owner_org, name="Lyon depot")
    machine.workspaces.add(lyon)
    WorkspaceFactory(organisation=beneficiary_org, name="Part-Dieu site")
    contact = ContactFactory(
        organisation=owner_org, email="site@atlantic-civil.example", organisation_name="Atlantic Civil"
    )
    running = SharingFactory(
        owner=owner_org,
        beneficiary=beneficiary_org,
        recipient_email=beneficiary_admin.email,
        machines=[machine],
        reference="CTR-2024-0871",
        start_at=day(-10),
        end_at=day(30),
        properties={"site": "Part-Dieu tower"},
    )
    scheduled = SharingFactory(
        owner=owner_org,
        beneficiary=beneficiary_org,
        recipient_email=beneficiary_admin.email,
        machines=[others[0]],
        reference="CTR-2024-0915",
        start_at=day(5),
        end_at=day(35),
    )
    SharingFactory(
        owner=owner_org,
        beneficiary=None,
        recipient_email="new@atlantic-civil.example",
        recipient_organisation_name="Atlantic Civil",
        machines=[others[1]],
        reference="PO-55812",
        start_at=day(-1),
    )
    Message.objects.create(
        key=f"sharing:{running.pk}:a11y",
        organisation=owner_org,
        subject_type="sharing",
        subject_id=running.pk,
        kind=SharingMessage.STARTED,
        recipient=beneficiary_admin.email,
        language="en",
        time_zone="Europe/Paris",
        status=MessageStatus.FAILED,
        attempts=8,
        last_error="SMTPServerDisconnected: Connection unexpectedly closed",
        next_attempt_at=timezone.now(),
        created_at=timezone.now() - dt.timedelta(hours=3),
    )
    api_key_create(actor=Actor.for_user(owner_admin), organisation=owner_org, name="ERP", role=ApiKeyRole.VIEWER)
    source = telematics_source_create(
        actor=Actor.for_user(owner_admin),
        name="VisionLink",
        base_url="https://127.0.0.1:9/aemp/v2",
        auth=SourceAuth(type="oauth2", token_url="https://127.0.0.1:9/token", client_id="cc", secret="s3cret"),
    )
    rented = MachineFactory(organisation=owner_org, make="Manitou", model="MT 1840", serial_number="MAN1840E20987")
    contract = contract_apply(
        actor=Actor.for_user(owner_admin),
        reference="C-2026-0901",
        desired=Desired(
            reference="C-2026-0901",
            status="active",
            recipient_email=beneficiary_admin.email,
            start_at=day(-3),
            end_at=day(25),
            data_packs=("essential", "usage_hours"),
            properties={"customer": "BuildCo", "site": "Part-Dieu tower"},
            lines=(Line(rented.pk, "L1"),),
        ),
    ).contract
    # Requests for a later end: one waiting for the owner's answer (its badge, its answer forms), one declined.
    ExtensionRequest.objects.create(
        sharing=scheduled,
        end_at=day(50),
        previous_end_at=day(35),
        message="Two more weeks on site, please.",
        requested_by_label=beneficiary_admin.email,
        created_at=timezone.now(),
    )
    ExtensionRequest.objects.create(
        sharing=running,
        status="declined",
        end_at=day(60),
        previous_end_at=day(30),
        message="Longer?",
        answer="The machine is booked elsewhere.",
        requested_by_label=beneficiary_admin.email,
        answered_by_label=owner_admin.email,
        created_at=timezone.now() - dt.timedelta(days=1),
        answered_at=timezone.now(),
    )
    received = ReceivedMachine.objects.get(organisation=beneficiary_org, machine=machine)
    received_later = ReceivedMachine.objects.get(organisation=beneficiary_org, machine=others[0])
    owner_pages = {
        "share centre": "/",
        "share centre, received": "/?direction=incoming",
        "share centre, timeline": "/?view=timeline",
        "sharing": f"/sharings/{running.pk}/",
        "sharing, later end asked": f"/sharings/{scheduled.pk}/",
        "fleet": "/fleet/",
        "fleet map": "/fleet/map/",
        "fleet map, list": "/fleet/map/?view=list",
        "machine": f"/fleet/machines/{machine.pk}/",
        "workspaces": "/fleet/workspaces/",
        "members": "/accounts/members/",
        "settings": "/accounts/organisation/",
        "e-mail addresses": "/accounts/email/",
        "password": "/accounts/password/change/",
        "contracts": "/contracts/",
        "contract": f"/contracts/{contract.pk}/",
    }
    owner_admin_pages = {
        **owner_pages,
        "new sharing": "/sharings/new/",
        "edit a sharing": f"/sharings/{running.pk}/edit/",
        "stop a sharing": f"/sharings/{running.pk}/stop/",
        "delete a sharing": f"/sharings/{scheduled.pk}/delete/",
        "failed notifications": "/sharings/notifications/failed/",
        "rename a workspace": f"/fleet/workspaces/{lyon.pk}/rename/",
        "delete a workspace": f"/fleet/workspaces/{lyon.pk}/delete/",
        "API keys": "/accounts/api-keys/",
        "contacts": "/sharings/contacts/",
        "edit a contact": f"/sharings/contacts/{contact.pk}/edit/",
        "remove a contact": f"/sharings/contacts/{contact.pk}/remove/",
        "telematics sources": "/telematics/",
        "new telematics source": "/telematics/new/",
        "edit a telematics source": f"/telematics/{source.pk}/",
        "delete a telematics source": f"/telematics/{source.pk}/delete/",
        "import contracts": "/contracts/import/",
        "extend a contract": f"/contracts/{contract.pk}/extend/",
        "add a machine to a contract": f"/contracts/{contract.pk}/add/",
        "swap a machine of a contract": f"/contracts/{contract.pk}/swap/",
        "stop a contract": f"/contracts/{contract.pk}/complete/",
    }
    beneficiary_pages = {
        "share centre": "/",
        "share centre, received": "/?direction=incoming",
        "received sharing": f"/sharings/{running.pk}/",
        "received sharing, later end asked": f"/sharings/{scheduled.pk}/",
        "fleet": "/fleet/",
        "fleet map": "/fleet/map/",
        "fleet map, list": "/fleet/map/?view=list",
        "received machine": f"/fleet/machines/{machine.pk}/",
        "received machine, not started": f"/fleet/machines/{others[0].pk}/",
        "rename a received machine": f"/fleet/received/{received.pk}/edit/",
        "workspaces": "/fleet/workspaces/",
        "members": "/accounts/members/",
        "settings": "/accounts/organisation/",
    }
    assert received_later  # a machine received whose sharing has not started yet
    return {
        owner_admin.email: owner_admin_pages,
        owner_member.email: owner_pages,
        beneficiary_admin.email: beneficiary_pages,
        beneficiary_member.email: {**beneficiary_pages, "rename a received machine": None},
    }


def axe_findings(page) -> list[dict]:
    """axe's serious and critical findings on the page as it is now, one dict per rule."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    results = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)
    return [
        {
            "rule": violation["id"],
            "impact": violation["impact"],
            "help": violation["help"],
            "nodes": [" ".join(node["target"][-1:]) if node["target"] else "" for node in violation["nodes"]][:5],
        }
        for violation in results["violations"]
        if violation["impact"] in BLOCKING or violation["id"] in ALWAYS_BLOCKING
    ]


def check_page(page, url: str, label: str, findings: list, status: int = 200) -> None:
    """Load `url` once (it answers `status`) and check it at both widths."""
    page.set_viewport_size(WIDTHS["1280"])
    response = page.goto(url)
    assert response is not None, (label, url)
    assert response.status == status, (label, url, response.status)
    for width, viewport in WIDTHS.items():
        page.set_viewport_size(viewport)
        for finding in axe_findings(page):
            findings.append({"page": label, "width": width, **finding})


def new_page(browser, live_server, language: str):
    """A fresh context in `language`. axe is injected as a script the app's CSP does not list: the context lets it in
    (the CSP itself is tested elsewhere)."""
    context = browser.new_context(bypass_csp=True)
    context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    return context, context.new_page()


def report(findings: list) -> str:
    return f"{len(findings)} serious or critical axe findings:\n" + "\n".join(
        json.dumps(finding, ensure_ascii=False) for finding in findings
    )


def test_axe_is_installed():
    assert AXE.exists(), f"{AXE} is missing: `npm ci` at the project's root installs it (make test does)."


@pytest.mark.parametrize(
    "email",
    ["admin@rentandgo.example", "member@rentandgo.example", "admin@buildco.example", "member@buildco.example"],
)
def test_no_serious_or_critical_axe_finding_on_any_page(browser, live_server, world, email):
    findings: list = []
    for language in LANGUAGES:
        context, page = new_page(browser, live_server, language)
        page.goto(f"{live_server.url}/accounts/login/")
        page.locator("input[name=login]").fill(email)
        page.locator("input[name=password]").fill("password")
        page.locator("form.login button[type=submit], form button[type=submit]").last.click()
        page.wait_for_url(f"{live_server.url}/")
        for label, path in world[email].items():
            if path is not None:
                check_page(page, f"{live_server.url}{path}", f"{label} ({language})", findings)
        # The pages that say something went wrong, inside the layout.
        if email.startswith("member@"):
            check_page(page, f"{live_server.url}/sharings/new/", f"not allowed ({language})", findings, 403)
        missing = f"{live_server.url}/fleet/machines/00000000-0000-4000-8000-000000000000/"
        check_page(page, missing, f"not found ({language})", findings, 404)
        context.close()
    assert not findings, report(findings)


def test_no_serious_or_critical_axe_finding_for_visitors(browser, live_server, owner_admin):
    findings: list = []
    for language in LANGUAGES:
        context, page = new_page(browser, live_server, language)
        for label, path in {
            "landing": "/",
            "log in": "/accounts/login/",
            "sign up": "/accounts/signup/",
            "password reset": "/accounts/password/reset/",
            "API docs": "/api/v1/docs/",
        }.items():
            check_page(page, f"{live_server.url}{path}", f"{label} ({language})", findings)
        check_page(page, f"{live_server.url}/no-such-page/", f"not found ({language})", findings, 404)
        page.goto(f"{live_server.url}/accounts/login/")
        page.locator("input[name=login]").fill(owner_admin.email)
        page.locator("input[name=password]").fill("wrong password")
        page.locator("form button[type=submit]").last.click()
        page.wait_for_load_state()
        for width, viewport in WIDTHS.items():
            page.set_viewport_size(viewport)
            findings += [{"page": f"log-in error ({language})", "width": width, **f} for f in axe_findings(page)]
        context.close()
    assert not findings, report(findings)


def contrast(first: str, second: str) -> float:
    """WCAG's contrast ratio of two CSS colours given as "rgb(r, g, b)"."""

    def luminance(colour: str) -> float:
        channels = [int(part) / 255 for part in colour[colour.index("(") + 1 : colour.index(")")].split(",")[:3]]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


FOCUS_STYLE = """element => {
  const style = getComputedStyle(element);
  return {outline: style.outlineStyle, width: parseFloat(style.outlineWidth), colour: style.outlineColor,
          border: style.borderTopColor, tag: element.tagName, text: element.textContent.trim().slice(0, 40)};
}"""


def test_every_control_reached_by_tab_shows_a_solid_ring_at_3_to_1(page, live_server, login, screenshot, world):
    """WCAG 1.4.11: the focus ring and a field's border stand out at least 3:1 from the white or grey around them."""
    page.set_viewport_size(WIDTHS["1280"])
    login("admin@rentandgo.example")
    page.goto(f"{live_server.url}/sharings/new/")
    white, grey = "rgb(255, 255, 255)", "rgb(244, 246, 248)"
    seen = []
    while len(seen) < 40 and (not seen or seen[-1]["tag"] != "INPUT"):  # the header's controls, then the first field
        page.keyboard.press("Tab")
        focused = page.evaluate_handle("document.activeElement")
        style = page.evaluate(FOCUS_STYLE, focused)
        seen.append(style)
        assert style["outline"] == "solid", style
        assert style["width"] >= 2, style
        assert min(contrast(style["colour"], white), contrast(style["colour"], grey)) >= 3, style
        if style["tag"] == "INPUT":
            assert min(contrast(style["border"], white), contrast(style["border"], grey)) >= 3, style
    assert {"A", "BUTTON", "INPUT"} <= {style["tag"] for style in seen}
    page.get_by_label("Recipient's e-mail").focus()
    screenshot("focus-ring-input")
    # The timeline's bars are links in an SVG: reached with Tab, ringed too.
    page.goto(f"{live_server.url}/?view=timeline")
    bar = page.locator("#share-centre-timeline a").first
    bar.focus()
    style = page.evaluate(FOCUS_STYLE, bar.element_handle())
    assert style["outline"] == "solid", style
    assert style["width"] >= 2, style
    page.locator("#share-centre-timeline").screenshot(path=str(SCREENSHOTS / "focus-ring-timeline.png"))


def test_the_contacts_page_and_a_machine_not_started_look_right(page, live_server, login, screenshot, world):
    """Screenshots looked at: the contacts page (search, sharings of each, actions) at both widths, and a received
    machine whose sharing starts in five days (when, which packs, no period picker or export)."""
    login("admin@rentandgo.example")
    for name, size in WIDTHS.items():
        page.set_viewport_size(size)
        page.goto(f"{live_server.url}/sharings/contacts/")
        expect(page.get_by_role("heading", name="Contacts", exact=True)).to_be_visible()
        screenshot(f"contacts-{name}")
    page.get_by_label("Search").fill("atlantic")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("table.contacts")).to_contain_text("site@atlantic-civil.example")
    page.context.clear_cookies()
    login("admin@buildco.example")
    page.set_viewport_size(WIDTHS["1280"])
    page.goto(f"{live_server.url}{world['admin@buildco.example']['received machine, not started']}")
    expect(page.get_by_text("Sharing starts")).to_be_visible()
    expect(page.locator(".period-form")).to_have_count(0)
    screenshot("received-machine-not-started")


def test_api_docs_look_right(page, live_server):
    for language in LANGUAGES:
        page.context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
        page.set_viewport_size(WIDTHS["1280"])
        page.goto(f"{live_server.url}/api/v1/docs/")
        expect(page.locator("html")).to_have_attribute("lang", language)
        page.screenshot(path=str(SCREENSHOTS / f"api-docs-desktop-{language}.png"))  # the first screen
        page.locator("#sharings_create").scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOTS / f"api-docs-desktop-create-{language}.png"))
        page.set_viewport_size(WIDTHS["375"])
        page.locator("#sharings_create").scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOTS / f"api-docs-phone-{language}.png"))


def test_a_member_refused_sees_where_to_go(page, live_server, login, world):
    """The styled 403 inside the layout, with the way to the admins; and a 404 (screenshots of both)."""
    login("member@rentandgo.example")
    page.goto(f"{live_server.url}/sharings/new/")
    expect(page.get_by_role("heading", name="You cannot do this with your role")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    for width, viewport in WIDTHS.items():
        page.set_viewport_size(viewport)
        page.screenshot(path=str(SCREENSHOTS / f"error-403-{width}.png"))
    page.get_by_role("link", name="See your organisation's admins").click()
    expect(page).to_have_url(f"{live_server.url}/accounts/members/")
    page.context.add_cookies([{"name": "django_language", "value": "fr", "url": live_server.url}])
    page.goto(f"{live_server.url}/no-such-page/")
    expect(page.get_by_role("heading", name="Cette page n’existe pas, ou vous n’avez pas à la voir")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "error-404-375-fr.png"))
