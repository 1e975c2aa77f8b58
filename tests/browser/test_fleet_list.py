"""The Fleet list and the share centre's Timeline in a real browser: filtering the fleet by origin in place (the
address follows), a received machine showing only what was shared, the Gantt view of the filtered sharings and the
List / Timeline switch. Screenshots at desktop and phone widths."""

import datetime as dt
import re

import pytest
from allauth.account.models import EmailAddress
from django.utils import timezone
from playwright.sync_api import expect

from fleet.models import Position, Reading
from tests.factories import MachineFactory, SharingFactory, WorkspaceFactory

pytestmark = pytest.mark.browser

DAY = dt.timedelta(days=1)


@pytest.fixture
def fleet(owner_org, owner_admin, beneficiary_org, beneficiary_admin, outsider_org):
    for user in (owner_admin, beneficiary_admin):
        EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
    now = timezone.now()
    excavator = MachineFactory(organisation=owner_org, make="Caterpillar", model="320 GC", serial_number="CAT320X01")
    loader = MachineFactory(
        organisation=owner_org, make="Volvo", model="L60H", serial_number="VOL60H002", category="wheel_loader"
    )
    dumper = MachineFactory(
        organisation=beneficiary_org, make="Bell", model="B30E", serial_number="BELB30E03", category="dumper"
    )
    for machine, hours in ((excavator, 4210.5), (loader, 1880.0), (dumper, 655.0)):
        Reading.objects.create(machine=machine, metric="operating_hours", timestamp=now - DAY, value=hours - 40)
        Reading.objects.create(
            machine=machine, metric="operating_hours", timestamp=now - dt.timedelta(hours=2), value=hours
        )
        Position.objects.create(machine=machine, timestamp=now - dt.timedelta(hours=1), latitude=45.7, longitude=4.8)
    # BuildCo got the excavator for a week a month ago (usage hours only): its history stops there.
    SharingFactory(
        owner=owner_org,
        beneficiary=beneficiary_org,
        machines=[excavator],
        reference="CTR-1001",
        start_at=now - 40 * DAY,
        end_at=now - 33 * DAY - dt.timedelta(hours=12),
        data_packs=["usage_hours"],
    )
    Reading.objects.create(machine=excavator, metric="operating_hours", timestamp=now - 35 * DAY, value=3990.0)
    SharingFactory(
        owner=owner_org,
        beneficiary=beneficiary_org,
        machines=[excavator],
        reference="CTR-1002",
        start_at=now - 3 * DAY,
        end_at=now + 25 * DAY,
        data_packs=["essential"],
    )
    SharingFactory(
        owner=owner_org,
        beneficiary=outsider_org,
        machines=[loader],
        reference="Q-77",
        start_at=now + 10 * DAY,
        end_at=now + 40 * DAY,
    )
    WorkspaceFactory(organisation=beneficiary_org, name="Part-Dieu site")
    # BuildCo's roller has been silent for 16 days, its engine off when it last reported.
    roller = MachineFactory(
        organisation=beneficiary_org, make="Hamm", model="HD12", serial_number="HAMHD1204", category="roller"
    )
    Reading.objects.create(machine=roller, metric="engine_running", timestamp=now - 16 * DAY, value=0)
    Position.objects.create(machine=roller, timestamp=now - 16 * DAY, latitude=45.75, longitude=4.85)
    return {"excavator": excavator, "loader": loader, "dumper": dumper, "roller": roller}


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 900}, {"width": 375, "height": 812}])
def test_beneficiary_filters_its_fleet_in_place(
    page, live_server, login, screenshot, beneficiary_admin, fleet, viewport
):
    page.set_viewport_size(viewport)
    login(beneficiary_admin.email)
    page.goto(f"{live_server.url}/fleet/")
    results = page.locator("#fleet-results")
    expect(results).to_contain_text("3 machines")
    expect(results).to_contain_text("From Rent & Go")
    expect(results).to_contain_text("Ours")
    excavator = page.get_by_role("row").filter(has_text="CAT320X01")
    expect(excavator.locator(".machine-status")).to_contain_text("last seen 1 hour ago")
    expect(excavator.locator(".machine-status.is-stale")).to_have_count(0)
    # The roller is silent: stale, said in amber and in words.
    roller = page.get_by_role("row").filter(has_text="HAMHD1204")
    expect(roller.locator(".machine-status.is-stale")).to_contain_text("Last reported off")
    expect(roller.locator(".freshness")).to_contain_text("last seen 16 days ago")
    expect(roller.locator(".freshness")).to_have_css("color", "rgb(138, 90, 0)")
    expect(results).to_contain_text("3,990 h")  # the last value inside the first window, not today's 4,210.5
    expect(results).not_to_contain_text("4,210")
    expect(results).to_contain_text("655 h")
    screenshot(f"fleet-list-{viewport['width']}")
    page.get_by_label("Origin").select_option("received")
    expect(results).to_contain_text("1 machine")
    expect(results).not_to_contain_text("BELB30E03")
    expect(page).to_have_url(f"{live_server.url}/fleet/?origin=received")
    page.get_by_label("Origin").select_option("")
    page.get_by_label("Category").select_option("dumper")
    expect(results).to_contain_text("1 machine")
    expect(results).to_contain_text("BELB30E03")
    expect(page).to_have_url(f"{live_server.url}/fleet/?category=dumper")


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 900}, {"width": 375, "height": 812}])
def test_owner_sees_who_has_its_machines_and_the_timeline(
    page, live_server, login, screenshot, owner_admin, fleet, viewport
):
    page.set_viewport_size(viewport)
    login(owner_admin.email)
    page.goto(f"{live_server.url}/fleet/")
    row = page.locator(f"#machine-{fleet['excavator'].pk}")
    expect(row).to_contain_text("BuildCo")
    expect(row).to_contain_text("CTR-1002")
    expect(row).to_contain_text("4,210.5 h")
    screenshot(f"fleet-list-owner-{viewport['width']}")

    page.goto(f"{live_server.url}/?q=CTR")
    page.locator(".view-switch").get_by_role("link", name="Timeline").click()
    chart = page.locator("svg#share-centre-timeline")
    expect(chart).to_be_visible()
    expect(chart.locator(".timeline-row")).to_have_count(1)  # the search keeps only the excavator's sharings
    expect(chart.locator(".timeline-bar")).to_have_count(2)
    expect(chart.locator(".timeline-today")).to_have_count(1)
    expect(page).to_have_url(f"{live_server.url}/?q=CTR&view=timeline")
    page.goto(f"{live_server.url}/?view=timeline")
    expect(chart.locator(".timeline-row")).to_have_count(2)
    screenshot(f"share-centre-timeline-{viewport['width']}")
    page.get_by_role("link", name="← Earlier").click()  # the period before, in place
    expect(page).to_have_url(re.compile(r"view=timeline&date_from=\d{4}-\d\d-\d\d&date_to=\d{4}-\d\d-\d\d$"))
    expect(page.get_by_role("link", name="Around today")).to_be_visible()
    screenshot(f"share-centre-timeline-earlier-{viewport['width']}")
    page.get_by_role("link", name="Around today").click()
    expect(chart.locator(".timeline-row")).to_have_count(2)
    page.locator(".view-switch").get_by_role("link", name="List").click()
    expect(page.locator("table.list")).to_be_visible()
