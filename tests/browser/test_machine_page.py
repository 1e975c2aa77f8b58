"""A machine's data page in a real browser, as its owner and as a beneficiary: the charts are drawn, the beneficiary's
charts mark what was not shared, the packs it was not given are named. Screenshots at desktop and phone widths."""

import datetime as dt

import pytest
from allauth.account.models import EmailAddress
from playwright.sync_api import expect

from fleet.models import Reading
from tests.browser.conftest import SCREENSHOTS
from tests.factories import FaultCodeFactory, MachineFactory, PositionFactory, SharingFactory

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}
UTC = dt.UTC


def day(offset: int, hour: int = 0) -> dt.datetime:
    today = dt.datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today + dt.timedelta(days=offset, hours=hour)


@pytest.fixture
def machine_data(owner_org, owner_admin, beneficiary_admin):
    """45 days of a working excavator; shared twice with BuildCo: 30 to 20 days ago (usage and fuel) and since 8 days
    ago (essential and usage only)."""
    for user in (owner_admin, beneficiary_admin):
        EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
    machine = MachineFactory(
        organisation=owner_org, make="Caterpillar", model="320 GC", serial_number="CAT0320GCXYZ01234"
    )
    hours, idle, fuel, level = 4200.0, 900.0, 61000.0, 80.0
    rows = []
    for offset in range(-45, 0):
        working = (offset % 7) not in (5, 6)
        for hour in (6, 12, 17):
            if working and hour > 6:
                hours += 4.5
                idle += 1.0
                fuel += 70
                level -= 18
                if level < 15:
                    level = 95.0
            for metric, value in (
                ("operating_hours", hours),
                ("idle_hours", idle),
                ("fuel_used", fuel),
                ("fuel_remaining", level),
                ("engine_running", 1.0 if working and hour == 12 else 0.0),
            ):
                rows.append(Reading(machine=machine, metric=metric, timestamp=day(offset, hour), value=value))
    Reading.objects.bulk_create(rows)
    PositionFactory(machine=machine, timestamp=day(-1, 17), latitude=45.76, longitude=4.83)
    FaultCodeFactory(machine=machine, timestamp=day(-3, 10), identifier="110-0", severity="high")
    FaultCodeFactory(
        machine=machine, timestamp=day(-12, 9), identifier="1761-18", description="DEF level low", severity="medium"
    )
    beneficiary = beneficiary_admin.organisation
    SharingFactory(
        owner=owner_org,
        beneficiary=beneficiary,
        recipient_email=beneficiary_admin.email,
        machines=[machine],
        reference="CTR-2024-0871",
        start_at=day(-30, 8),
        end_at=day(-20, 8),
        data_packs=["essential", "usage_hours", "energy_and_fuel"],
    )
    SharingFactory(
        owner=owner_org,
        beneficiary=beneficiary,
        recipient_email=beneficiary_admin.email,
        machines=[machine],
        reference="CTR-2024-0902",
        start_at=day(-8, 8),
        end_at=day(40),
        data_packs=["essential", "usage_hours"],
    )
    return machine


def _shots(page, screenshot, name):
    page.set_viewport_size(DESKTOP)
    screenshot(f"{name}-desktop")
    page.set_viewport_size(PHONE)
    screenshot(f"{name}-phone")
    page.screenshot(path=str(SCREENSHOTS / f"{name}-phone-top.png"))
    page.set_viewport_size(DESKTOP)


def test_owner_sees_everything_with_charts_and_the_sharing_timeline(
    page, live_server, login, screenshot, owner_admin, machine_data
):
    problems = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.set_viewport_size(DESKTOP)
    login(owner_admin.email)
    page.goto(f"{live_server.url}/fleet/machines/{machine_data.pk}/")
    expect(page.get_by_role("heading", name="Caterpillar 320 GC", exact=True)).to_be_visible()
    for title in ("Operating hours per day", "Idle hours per day", "Fuel used per day", "Fuel level"):
        expect(page.get_by_role("img", name=title)).to_be_visible()
    bars = page.locator("#operating-hours .chart-bar")
    expect(bars).to_have_count(29)  # a bar for every day of the last 30 with readings (today has none yet)
    working_days = sum(1 for offset in range(-29, 0) if offset % 7 not in (5, 6))
    expect(page.locator('#operating-hours .chart-bar:not([height="0.0"])')).to_have_count(working_days)
    expect(page.locator(".chart-unshared")).to_have_count(0)  # the owner sees everything
    expect(page.locator("table.faults tbody tr")).to_have_count(2)
    timeline = page.get_by_role("group", name="Sharings of this machine")
    expect(timeline).to_be_visible()
    expect(timeline.locator(".timeline-bar")).to_have_count(2)
    expect(timeline.locator(".timeline-terminated")).to_have_count(1)
    expect(timeline.locator(".timeline-in_progress")).to_have_count(1)
    expect(timeline.locator(".timeline-today")).to_have_count(1)
    _shots(page, screenshot, "machine-owner")
    page.locator(".timeline-panel").screenshot(path=str(SCREENSHOTS / "machine-owner-timeline.png"))
    page.emulate_media(media="print")
    screenshot("machine-owner-print")
    page.emulate_media(media="screen")
    assert problems == []


def test_beneficiary_sees_what_was_shared_and_the_rest_marked_not_shared(
    page, live_server, login, screenshot, beneficiary_admin, machine_data
):
    problems = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.set_viewport_size(DESKTOP)
    login(beneficiary_admin.email)
    page.get_by_role("link", name="Fleet").click()
    page.get_by_role("link", name="320 GC CAT0320GCXYZ01234", exact=True).click()
    expect(page.get_by_role("heading", name="320 GC CAT0320GCXYZ01234")).to_be_visible()
    # The default period ends today and starts with the first window; outside the windows, hatched and named.
    usage = page.get_by_role("img", name="Operating hours per day")
    expect(usage).to_be_visible()
    expect(usage.locator(".chart-unshared rect").first).to_be_visible()
    expect(usage.locator(".chart-unshared-label").first).to_have_text("Not shared")
    assert 0 < usage.locator(".chart-bar").count() < 21
    # Fuel was shared in the first window only: its chart shows data there and "not shared" around it.
    fuel = page.get_by_role("img", name="Fuel used per day")
    expect(fuel.locator(".chart-unshared rect")).to_have_count(1)  # from the end of the first window to now
    expect(fuel.locator('.chart-bar:not([height="0.0"])').first).to_be_visible()
    # Packs never shared are named as such, not shown empty.
    expect(page.locator(".unshared-packs")).to_contain_text("Fault codes")
    expect(page.locator("#pack-activity + p")).to_have_text("Not shared with you.")
    expect(
        page.get_by_text("Not shared with you: the “Fault codes” data pack is not part of the sharing.")
    ).to_be_visible()
    expect(page.get_by_text("Sharings of this machine")).to_have_count(0)  # the owner's business
    _shots(page, screenshot, "machine-beneficiary")
    assert problems == []
