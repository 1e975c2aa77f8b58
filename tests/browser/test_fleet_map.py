"""Fleet → Map in a real browser: the dots of own and received machines over the shipped outlines (no network), a
received machine only where its sharing lets it be seen, a dot leading to its machine, zoom and the List view with its
"Open in a map" links; a machine page's track. Screenshots at desktop and phone widths."""

import datetime as dt
import os
import re
import shutil
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from django.utils import timezone
from playwright.sync_api import expect

from fleet.models import Position, Reading
from tests.factories import MachineFactory, SharingFactory, WorkspaceFactory

pytestmark = pytest.mark.browser

DOCS = Path(__file__).resolve().parents[2] / "docs"
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)


@pytest.fixture
def fleet(owner_org, owner_admin, beneficiary_org, beneficiary_admin):
    """Rent & Go's machines around Lyon and a crane at Annecy; two of them at one depot. BuildCo receives the excavator
    (essential pack, running) and the loader (usage hours only: never on its map), and owns a dumper in Lyon."""
    for user in (owner_admin, beneficiary_admin):
        EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
    now = timezone.now()
    depot = WorkspaceFactory(organisation=owner_org, name="Lyon depot")

    def machine(org, make, model, serial, latitude, longitude, running, seen, category="excavator"):
        item = MachineFactory(organisation=org, make=make, model=model, serial_number=serial, category=category)
        Position.objects.create(machine=item, timestamp=now - seen, latitude=latitude, longitude=longitude)
        Reading.objects.create(machine=item, metric="engine_running", timestamp=now - seen, value=running)
        return item

    excavator = machine(owner_org, "Caterpillar", "320 GC", "CAT320X01", 45.7640, 4.8357, 1, HOUR)
    # Its track of the last days, a drive across Lyon.
    for index in range(1, 12):
        Position.objects.create(
            machine=excavator,
            timestamp=now - index * 6 * HOUR,
            latitude=45.764 - index * 0.004,
            longitude=4.8357 + index * 0.006,
        )
    loader = machine(owner_org, "Volvo", "L60H", "VOL60H002", 45.7400, 4.9000, 0, 2 * HOUR, "wheel_loader")
    roller = machine(owner_org, "Hamm", "HD12", "HAMHD1204", 45.7400, 4.9000, 0, 16 * DAY, "roller")
    crane = machine(owner_org, "Liebherr", "LTM 1050", "LTM10500", 45.9002, 6.1199, 1, 3 * HOUR, "crane")
    for item in (loader, roller):
        item.workspaces.add(depot)
    dumper = machine(beneficiary_org, "Bell", "B30E", "BELB30E03", 45.7800, 4.8700, 1, 30 * dt.timedelta(minutes=1))
    SharingFactory(
        owner=owner_org,
        beneficiary=beneficiary_org,
        machines=[excavator],
        start_at=now - 3 * DAY,
        data_packs=["essential"],
    )
    SharingFactory(
        owner=owner_org,
        beneficiary=beneficiary_org,
        machines=[loader],
        start_at=now - 3 * DAY,
        data_packs=["usage_hours"],
    )
    return {
        "excavator": excavator,
        "loader": loader,
        "roller": roller,
        "crane": crane,
        "dumper": dumper,
        "depot": depot,
    }


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 900}, {"width": 375, "height": 812}])
def test_owner_map_dots_zoom_and_list(page, live_server, login, screenshot, owner_admin, fleet, viewport):
    page.set_viewport_size(viewport)
    login(owner_admin.email)
    page.goto(f"{live_server.url}/fleet/")
    page.locator(".fleet-tabs").get_by_role("link", name="Map").click()
    expect(page).to_have_url(f"{live_server.url}/fleet/map/")
    svg = page.locator("svg#fleet-map")
    expect(svg).to_be_visible()
    expect(svg.locator(".map-land path").first).to_be_attached()  # the shipped outlines, drawn by the server
    expect(page.locator("#map-summary")).to_contain_text("4 machines with a position")
    # The loader and the roller stand at one depot: side by side, each its own link.
    expect(svg.get_by_role("link", name="Volvo L60H: Off, last seen 2 hours ago")).to_be_attached()
    expect(svg.get_by_role("link", name="Hamm HD12: Last reported off, last seen 16 days ago")).to_be_attached()
    screenshot(f"fleet-map-{viewport['width']}")
    page.get_by_role("link", name="Zoom in").click()
    expect(page).to_have_url(re.compile(r"/fleet/map/\?box=[-0-9.,]+$"))
    expect(page.get_by_role("link", name="Show all machines")).to_be_visible()
    page.get_by_role("link", name="Show all machines").click()
    page.get_by_role("link", name="Zoom out").click()  # the borders of Switzerland and Italy come into view
    expect(svg.get_by_role("link")).to_have_count(2)  # Lyon's three dots gather into one cluster, and the crane
    expect(svg.get_by_role("link", name="3 machines here: show this area")).to_be_attached()
    shot = screenshot(f"fleet-map-zoomed-out-{viewport['width']}")
    if viewport["width"] == 1280 and os.environ.get("DOCS_SCREENSHOTS"):  # README's picture, refreshed on purpose
        shutil.copyfile(shot, DOCS / "fleet-map.png")
    page.get_by_role("link", name="Show all machines").click()
    # A dot leads to its machine.
    svg.get_by_role("link", name="Liebherr LTM 1050: Running, last seen 3 hours ago").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Liebherr LTM 1050")
    page.go_back()
    page.get_by_label("Workspace").select_option(label="Lyon depot")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#map-summary")).to_contain_text("2 machines with a position")
    page.locator(".view-switch").get_by_role("link", name="List").click()
    table = page.locator("table.map-list")
    expect(table.get_by_role("row")).to_have_count(3)
    expect(table.get_by_role("link", name="Open in a map: Volvo L60H (OpenStreetMap)")).to_have_attribute(
        "href", "https://www.openstreetmap.org/?mlat=45.74000&mlon=4.90000#map=15/45.74000/4.90000"
    )
    screenshot(f"fleet-map-list-{viewport['width']}")


def test_beneficiary_sees_only_what_its_sharings_show(page, live_server, login, screenshot, beneficiary_admin, fleet):
    login(beneficiary_admin.email)
    page.goto(f"{live_server.url}/fleet/map/")
    svg = page.locator("svg#fleet-map")
    expect(page.locator("#map-summary")).to_contain_text("2 machines with a position · 1 without a position to show")
    expect(svg.get_by_role("link")).to_have_count(2)
    expect(
        svg.get_by_role("link", name="320 GC CAT320X01 (from Rent & Go): Running, last seen 1 hour ago")
    ).to_be_attached()
    expect(svg.get_by_role("link", name="Bell B30E: Running, last seen 30 minutes ago")).to_be_attached()
    screenshot("fleet-map-beneficiary-1280")
    page.locator(".view-switch").get_by_role("link", name="List").click()
    loader = page.get_by_role("row").filter(has_text="VOL60H002")
    expect(loader).to_contain_text("No position to show")
    expect(page.locator("table.map-list")).not_to_contain_text("45.74000")


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 900}, {"width": 375, "height": 812}])
def test_machine_page_track(page, live_server, login, screenshot, owner_admin, beneficiary_admin, fleet, viewport):
    page.set_viewport_size(viewport)
    login(owner_admin.email)
    page.goto(f"{live_server.url}/fleet/machines/{fleet['excavator'].pk}/")
    track = page.locator("svg#machine-track")
    expect(track).to_be_visible()
    expect(track.locator("polyline.map-track")).to_have_count(1)
    expect(track).to_have_attribute("role", "img")
    expect(page.locator(".track-ends")).to_contain_text("First position")
    expect(page.get_by_role("link", name="Open in a map (OpenStreetMap)")).to_have_attribute(
        "href", "https://www.openstreetmap.org/?mlat=45.76400&mlon=4.83570#map=15/45.76400/4.83570"
    )
    page.locator("#track-title").scroll_into_view_if_needed()
    screenshot(f"machine-track-{viewport['width']}")
    # BuildCo received it three days ago: its track starts there.
    page.context.clear_cookies()
    login(beneficiary_admin.email)
    page.goto(f"{live_server.url}/fleet/machines/{fleet['excavator'].pk}/")
    expect(page.locator(".track-panel")).to_contain_text("Only positions from the periods shared with you.")
    expect(page.locator(".track-panel")).to_contain_text("12 positions in the period shown.")
