"""The share centre in a real browser: creating sharings (with a pending and a known recipient), filtering and paging
in place with the URL and the back button following, changing an end date, stopping, and the beneficiary renaming a
received machine and placing it in a workspace. Screenshots of each main page at desktop and phone widths."""

import datetime as dt
import os
import re
import shutil
import zoneinfo
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from django.utils import timezone
from playwright.sync_api import expect

from accounts.actors import Actor
from sharing.lifecycle import SharingStatus
from sharing.models import ReceivedMachine, Sharing
from sharing.services import sharing_create, sharing_stop
from tests.browser.conftest import SCREENSHOTS
from tests.factories import (
    AdminFactory,
    ContactFactory,
    MachineFactory,
    OrganisationFactory,
    SharingFactory,
    WorkspaceFactory,
)

pytestmark = pytest.mark.browser

DOCS = Path(__file__).resolve().parents[2] / "docs"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}

MACHINES = [
    ("Caterpillar", "320 GC", "CAT0320GCXYZ01234", "excavator"),
    ("Volvo", "EC220E", "VCEC220EV00318", "excavator"),
    ("JCB", "540-180", "JCB5401802771", "telehandler"),
    ("Liebherr", "LTM 1060-3.1", "LHB106031A0412", "crane"),
    ("Bobcat", "E35z", "B4SX11892", "mini_excavator"),
    ("Komatsu", "PC210LCi-11", "KMTPC210L55203", "excavator"),
    ("Manitou", "MT 1840", "MAN1840E20987", "telehandler"),
    ("Atlas Copco", "XAS 188", "ACXAS188K7712", "compressor"),
    ("Kubota", "KX080-4", "KBKX0804A6621", "mini_excavator"),
    ("Hitachi", "ZX130-7", "HCMZX1307P0041", "excavator"),
    ("Bomag", "BW 120 AD-5", "BMG120AD58812", "roller"),
    ("Genie", "S-65 XC", "GNS65XC221907", "aerial_work_platform"),
]


def at(days: int, hour: int = 8) -> dt.datetime:
    """A day relative to today, at a round hour (UTC)."""
    today = timezone.now().astimezone(dt.UTC).replace(hour=hour, minute=0, second=0, microsecond=0)
    return today + dt.timedelta(days=days)


@pytest.fixture
def share_centre_data(owner_org, owner_admin, beneficiary_admin):
    """A rental company with a realistic share centre: sharings in every status, with several customers."""
    for user in (owner_admin, beneficiary_admin):  # e-mail verification is mandatory to log in
        EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
    admin = Actor.for_user(owner_admin)
    machines = [
        MachineFactory(organisation=owner_org, make=make, model=model, serial_number=serial, category=category)
        for make, model, serial, category in MACHINES
    ]
    lyon = WorkspaceFactory(organisation=owner_org, name="Lyon depot")
    for machine in machines[:5]:
        machine.workspaces.add(lyon)
    durand = OrganisationFactory(name="Durand Terrassement")
    AdminFactory(organisation=durand, email="chantier@durand.example")
    ContactFactory(
        organisation=owner_org, email="site@atlantic-civil.example", organisation_name="Atlantic Civil Works"
    )
    sharings = []

    def share(machine_indexes, email, start, end=None, reference="", organisation_name="", **properties):
        sharings.extend(
            sharing_create(
                actor=admin,
                machine_ids=[machines[index].pk for index in machine_indexes],
                recipient_email=email,
                recipient_organisation_name=organisation_name,
                start_at=start,
                end_at=end,
                reference=reference,
                properties=properties,
            )
        )
        return sharings[-1]

    share([0], beneficiary_admin.email, at(-10), at(20), "CTR-2024-0871", customer="BuildCo", site="Part-Dieu tower")
    share([1, 2], beneficiary_admin.email, at(-3), at(45), "CTR-2024-0902", site="Confluence")
    share([3], "chantier@durand.example", at(5), at(35), "CTR-2024-0915", project="A7 widening")
    share([4], "site@atlantic-civil.example", at(-1), at(60), "PO-55812", organisation_name="Atlantic Civil Works")
    share([5, 6, 7], "chantier@durand.example", at(-20), None, "CTR-2024-0788")
    share([8], beneficiary_admin.email, at(2), at(12), "CTR-2024-0931")
    stopped = share([9], "chantier@durand.example", at(-15), at(30), "CTR-2024-0840")
    sharing_stop(actor=admin, sharing=stopped)
    for index, machine in enumerate(machines[10:]):
        SharingFactory(
            owner=owner_org,
            beneficiary=beneficiary_admin.organisation,
            recipient_email=beneficiary_admin.email,
            recipient_organisation_name=beneficiary_admin.organisation.name,
            reference=f"CTR-2024-06{index + 10}",
            start_at=at(-90 - index * 10),
            end_at=at(-30 - index * 10),
            machines=[machine],
        )
    return {"machines": machines, "sharings": sharings, "workspace": lyon}


def _shots(page, screenshot, name):
    """The current page at desktop and phone widths."""
    page.set_viewport_size(DESKTOP)
    path = screenshot(f"{name}-desktop")
    page.set_viewport_size(PHONE)
    screenshot(f"{name}-phone")
    page.screenshot(path=str(SCREENSHOTS / f"{name}-phone-top.png"))  # what a phone shows first
    page.set_viewport_size(DESKTOP)
    return path


def test_share_centre_pages_look_right(page, live_server, login, screenshot, owner_admin, share_centre_data):
    problems = []  # a refused inline script or style (the CSP), a missing asset...
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.set_viewport_size(DESKTOP)
    login(owner_admin.email)
    page.goto(f"{live_server.url}/")  # without the "signed in" message, for the README's picture
    expect(page.get_by_role("heading", name="Share centre", exact=True)).to_be_visible()
    expect(page.locator("#results tbody tr")).to_have_count(9)
    path = _shots(page, screenshot, "share-centre")
    page.set_viewport_size(PHONE)
    page.locator("#results").screenshot(path=str(SCREENSHOTS / "share-centre-phone-list.png"))
    page.set_viewport_size(DESKTOP)
    if os.environ.get("DOCS_SCREENSHOTS"):  # README's picture, refreshed on purpose: DOCS_SCREENSHOTS=1 make test
        DOCS.mkdir(exist_ok=True)
        shutil.copyfile(path, DOCS / "share-centre.png")

    sharing = share_centre_data["sharings"][0]
    page.goto(f"{live_server.url}/sharings/{sharing.pk}/")
    expect(page.get_by_role("heading", name="History")).to_be_visible()
    _shots(page, screenshot, "sharing-page")

    page.goto(f"{live_server.url}/sharings/new/")
    expect(page.get_by_role("heading", name="New sharing")).to_be_visible()
    _shots(page, screenshot, "sharing-new")

    page.goto(f"{live_server.url}/fleet/workspaces/")
    _shots(page, screenshot, "workspaces")
    assert problems == []


def test_admin_shares_with_an_unknown_and_a_known_recipient(
    page, live_server, login, owner_admin, beneficiary_admin, share_centre_data
):
    login(owner_admin.email)
    page.get_by_role("link", name="New sharing").click()

    # An unknown recipient: the organisation's name is asked for, and the sharing is pending.
    page.get_by_label("Recipient's e-mail").fill("new.customer@example.org")
    page.get_by_label("Recipient's organisation").fill("Newco Construction")
    page.get_by_label("Search machines").fill("Bomag")
    expect(page.locator("#machine-list li")).to_have_count(1)
    page.get_by_role("option", name=re.compile("Bomag BW 120")).click()
    page.get_by_label("Reference").fill("NEW-001")
    page.get_by_role("button", name="Create the sharing").click()
    expect(page.get_by_role("heading", name=re.compile("NEW-001"))).to_be_visible()
    expect(page.locator(".page-head .badge")).to_have_text("Pending")
    created = Sharing.objects.get(reference="NEW-001")
    assert created.status == SharingStatus.PENDING
    assert created.beneficiary is None

    # A known recipient, picked from the contacts with the typeahead; a submit with a mistake keeps what was typed.
    page.goto(f"{live_server.url}/sharings/new/")
    page.get_by_label("Recipient's e-mail").press_sequentially("buildco", delay=20)
    page.get_by_role("option", name=re.compile(beneficiary_admin.email)).click()
    expect(page.get_by_label("Recipient's e-mail")).to_have_value(beneficiary_admin.email)
    page.get_by_label("Reference").fill("KNOWN-002")
    page.get_by_role("button", name="Create the sharing").click()
    expect(page.locator("#machines-error")).to_have_text("Choose at least one machine.")
    expect(page.get_by_label("Reference")).to_have_value("KNOWN-002")
    page.get_by_role("option", name=re.compile("Genie S-65")).click()
    page.get_by_role("button", name="Create the sharing").click()
    expect(page.get_by_role("heading", name=re.compile("KNOWN-002"))).to_be_visible()
    known = Sharing.objects.get(reference="KNOWN-002")
    assert known.beneficiary == beneficiary_admin.organisation
    assert known.status == SharingStatus.IN_PROGRESS


def test_filter_and_page_in_place_with_the_back_button(page, live_server, login, owner_admin, share_centre_data):
    owner = owner_admin.organisation
    machine = share_centre_data["machines"][0]
    SharingFactory.create_batch(
        30,
        owner=owner,
        beneficiary=None,
        recipient_email="bulk@example.org",
        recipient_organisation_name="Bulk Ltd",
        reference="BULK",
        start_at=at(3),
        machines=[machine],
    )
    login(owner_admin.email)
    page.get_by_label("Search").fill("CTR-2024-09")
    expect(page).to_have_url(re.compile(r"q=CTR-2024-09"))
    expect(page.locator("#results tbody tr")).to_have_count(3)

    page.get_by_role("link", name=re.compile("^Scheduled")).click()
    expect(page).to_have_url(re.compile(r"status=scheduled"))
    expect(page.locator("#results tbody tr")).to_have_count(2)

    page.go_back()
    expect(page.locator("#results tbody tr")).to_have_count(3)
    expect(page.get_by_label("Search")).to_have_value("CTR-2024-09")

    page.get_by_label("Search").fill("")
    expect(page).not_to_have_url(re.compile(r"q=CTR"))
    expect(page.locator("#results tbody tr")).to_have_count(25)
    page.get_by_role("link", name="Next").click()
    expect(page).to_have_url(re.compile(r"page=2"))
    expect(page.locator("#results tbody tr")).to_have_count(14)
    page.go_back()
    expect(page.locator("#results tbody tr")).to_have_count(25)


def test_change_an_end_date_then_stop(page, live_server, login, screenshot, owner_admin, share_centre_data):
    sharing = share_centre_data["sharings"][0]  # running: its start is locked, its end can move
    login(owner_admin.email)
    page.goto(f"{live_server.url}/sharings/{sharing.pk}/")
    page.get_by_role("link", name="Edit").click()
    expect(page.get_by_text("The start is in the past and can no longer be changed.")).to_be_visible()
    _shots(page, screenshot, "sharing-edit")
    new_end = timezone.localtime(at(40), zoneinfo.ZoneInfo(owner_admin.organisation.timezone))
    page.get_by_label("End").fill(new_end.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator(".messages").get_by_text("Sharing updated.")).to_be_visible()  # the announcer reads it too
    sharing.refresh_from_db()
    assert abs(sharing.end_at - at(40)) < dt.timedelta(days=1)
    expect(page.locator(".changes li", has_text="End")).to_be_visible()  # the timeline shows the change

    page.get_by_role("link", name="Stop the sharing").click()
    page.get_by_role("button", name="Yes, stop it now").click()
    expect(page.locator(".page-head .badge")).to_have_text("Stopped")
    sharing.refresh_from_db()
    assert sharing.status == SharingStatus.STOPPED


def test_beneficiary_renames_and_places_a_received_machine(
    page, live_server, login, screenshot, beneficiary_admin, share_centre_data
):
    WorkspaceFactory(organisation=beneficiary_admin.organisation, name="Part-Dieu site")
    login(beneficiary_admin.email)
    page.get_by_role("link", name="Fleet").click()
    row = page.locator("tr", has_text="320 GC CAT0320GCXYZ01234")
    row.get_by_role("link", name=re.compile("Rename or place")).click()
    page.get_by_label("Name", exact=True).fill("Big yellow digger")
    page.get_by_label("Part-Dieu site").check()
    page.get_by_role("button", name="Save").click()
    expect(page.locator("tr", has_text="Big yellow digger")).to_contain_text("Part-Dieu site")
    received = ReceivedMachine.objects.get(organisation=beneficiary_admin.organisation, name="Big yellow digger")
    assert [workspace.name for workspace in received.workspaces.all()] == ["Part-Dieu site"]
    _shots(page, screenshot, "fleet")
    page.goto(f"{live_server.url}/?direction=incoming")
    _shots(page, screenshot, "share-centre-incoming")
