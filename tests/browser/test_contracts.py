"""Contracts in a real browser: a CSV file with a mistake, its preview naming the row and the column, the corrected
file's plan, the apply, and the contract's page with its sharings; then a contract-wide extension whose plan is shown
before it applies. axe-core checks each state a form leads to (the walk of test_accessibility covers the pages a link
reaches), at both widths; screenshots of each step."""

import datetime as dt
import zoneinfo

import pytest
from allauth.account.models import EmailAddress
from django.utils import timezone
from playwright.sync_api import expect

from contracts.models import Contract
from sharing.models import Sharing
from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_accessibility import WIDTHS, axe_findings, report
from tests.factories import MachineFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def browser_context_args(browser_context_args):
    """axe is injected as a script the app's CSP does not list: the context lets it in (the CSP is tested elsewhere)."""
    return {**browser_context_args, "bypass_csp": True}


def day(offset: int) -> str:
    return (timezone.localdate() + dt.timedelta(days=offset)).strftime("%d/%m/%Y")


@pytest.fixture
def fleet(owner_org, owner_admin, beneficiary_admin):
    for user in (owner_admin, beneficiary_admin):
        EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
    return [
        MachineFactory(organisation=owner_org, make="Caterpillar", model="320 GC", serial_number="CAT0320GCXYZ01234"),
        MachineFactory(organisation=owner_org, make="Volvo", model="EC220E", serial_number="VCEC220EV00318"),
    ]


def csv_file(rows: list[str]) -> dict:
    header = "reference;recipient;serialNumber;lineReference;startDate;endDate;dataPacksCodes;customer;site"
    text = "\ufeff" + "\r\n".join([header, *rows]) + "\r\n"
    return {"name": "contrats.csv", "mimeType": "text/csv", "buffer": text.encode()}


def check(page, label: str, findings: list, shots: str = "") -> None:
    """axe at both widths on the page as it is; a screenshot of each width when `shots` names them."""
    for width, viewport in WIDTHS.items():
        page.set_viewport_size(viewport)
        findings += [{"page": label, "width": width, **finding} for finding in axe_findings(page)]
        if shots:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / f"{shots}-{width}.png"), full_page=True)
    page.set_viewport_size(WIDTHS["1280"])


def test_import_a_file_fix_it_apply_it_then_extend_the_contract(page, live_server, login, fleet, beneficiary_admin):
    findings: list = []
    page.set_viewport_size(WIDTHS["1280"])
    login("admin@rentandgo.example")
    page.goto(f"{live_server.url}/")
    page.get_by_role("navigation", name="Share centre").get_by_role("link", name="Contracts").click()
    expect(page.get_by_role("heading", name="No contract yet")).to_be_visible()
    page.get_by_role("link", name="Import a CSV file").first.click()

    # A file with a mistake on its second line: an unknown serial number and a 13th month.
    recipient = beneficiary_admin.email
    good = f"C-2026-0977;{recipient};CAT0320GCXYZ01234;L1;{day(1)};{day(30)};essential usage_hours;BuildCo;Lyon"
    bad = f"C-2026-0977;{recipient};NO-SUCH-SERIAL;L2;{day(1)};31/13/2026;essential usage_hours;BuildCo;Lyon"
    page.get_by_label("CSV file").set_input_files(csv_file([good, bad]))
    page.get_by_role("button", name="Preview the plan").click()
    errors = page.locator("table.import-errors tbody tr")
    expect(errors).to_have_count(2)
    expect(errors.nth(0)).to_contain_text("3")
    expect(errors.nth(0)).to_contain_text("serialNumber")
    expect(errors.nth(0)).to_contain_text("None of your machines has this serial number.")
    expect(errors.nth(1)).to_contain_text("endDate")
    expect(page.get_by_text("never keeps a chosen file")).to_be_visible()
    expect(page.get_by_role("button", name="Apply the file")).to_have_count(0)
    check(page, "import, errors", findings, "contracts-import-errors")
    assert not Contract.objects.exists()

    # The corrected file: the Volvo on line 2, a real date. The preview is the plan; nothing is written yet.
    fixed = f"C-2026-0977;{recipient};VCEC220EV00318;L2;{day(1)};{day(20)};essential usage_hours;BuildCo;Lyon"
    page.get_by_label("CSV file").set_input_files(csv_file([good, fixed]))
    page.get_by_role("button", name="Preview the plan").click()
    expect(page.get_by_text("1 contract: 2 new sharings.")).to_be_visible()
    expect(page.locator("table.plan tbody tr")).to_have_count(2)
    check(page, "import, preview", findings, "contracts-import-preview")
    assert not Contract.objects.exists()
    page.get_by_role("button", name="Apply the file").click()

    expect(page.locator(".messages").get_by_text("1 contract applied from the file: 2 new sharings.")).to_be_visible()
    check(page, "contracts", findings, "contracts-list")
    page.get_by_role("link", name="C-2026-0977").click()
    expect(page.get_by_role("heading", name="Contract C-2026-0977")).to_be_visible()
    sharings = page.get_by_role("region", name="2 sharings").locator("tbody tr")
    expect(sharings).to_have_count(2)
    expect(sharings.nth(0)).to_contain_text("Caterpillar 320 GC")
    expect(sharings.nth(1)).to_contain_text("Volvo EC220E")
    expect(page.locator("#contract-timeline")).to_be_visible()
    check(page, "contract", findings, "contract-page")

    # A contract-wide extension: the plan first, nothing changed until it is applied.
    ends = set(Sharing.objects.filter(contract__reference="C-2026-0977").values_list("end_at", flat=True))
    page.get_by_role("link", name="Extend the contract").click()
    new_end = timezone.localdate() + dt.timedelta(days=60)
    page.get_by_label("New end date").fill(new_end.isoformat())
    page.get_by_role("button", name="Preview the plan").click()
    expect(page.get_by_text("What applying does: 2 changes.")).to_be_visible()
    expect(page.locator("table.plan tbody tr")).to_have_count(2)
    check(page, "extend, plan", findings, "contract-extend-plan")
    assert set(Sharing.objects.filter(contract__reference="C-2026-0977").values_list("end_at", flat=True)) == ends
    page.get_by_role("button", name="Apply this plan").click()
    expect(page.locator(".messages").get_by_text("Contract applied: 2 changes.")).to_be_visible()
    expect(page.get_by_role("heading", name="Contract C-2026-0977")).to_be_visible()
    expect(page.get_by_text("Apply 2", exact=True)).to_be_visible()
    extended = set(Sharing.objects.filter(contract__reference="C-2026-0977").values_list("end_at", flat=True))
    paris = zoneinfo.ZoneInfo(Contract.objects.get().owner.timezone)  # the end day is included whole, there
    assert {end.astimezone(paris) for end in extended} == {
        dt.datetime.combine(new_end + dt.timedelta(days=1), dt.time.min, tzinfo=paris)
    }
    page.screenshot(path=str(SCREENSHOTS / "contract-page-extended.png"), full_page=True)
    assert not findings, report(findings)


def test_the_plan_and_the_errors_in_french(page, live_server, login, fleet, beneficiary_admin, owner_admin):
    """A refused step explained in French (which rule, why), and a file's errors, with axe at both widths."""
    findings: list = []
    page.set_viewport_size(WIDTHS["1280"])
    login("admin@rentandgo.example")
    page.context.add_cookies([{"name": "django_language", "value": "fr", "url": live_server.url}])
    page.goto(f"{live_server.url}/contracts/import/")
    recipient = beneficiary_admin.email
    row = f"C-1;{recipient};CAT0320GCXYZ01234;L1;{day(1)};31/13/2026;essential;BuildCo;Lyon"
    page.get_by_label("Fichier CSV").set_input_files(csv_file([row]))
    page.get_by_role("button", name="Voir le plan").click()
    expect(page.locator("table.import-errors tbody tr")).to_have_count(1)
    check(page, "import, errors (fr)", findings, "contracts-import-errors-fr")
    good = f"C-1;{recipient};CAT0320GCXYZ01234;L1;{day(1)};{day(30)};essential;BuildCo;Lyon"
    page.get_by_label("Fichier CSV").set_input_files(csv_file([good]))
    page.get_by_role("button", name="Voir le plan").click()
    page.get_by_role("button", name="Appliquer le fichier").click()
    contract = Contract.objects.get(reference="C-1")
    page.goto(f"{live_server.url}/contracts/{contract.pk}/add/")
    page.get_by_label("Numéro de série de la machine").fill("VCEC220EV00318")
    long_ago = timezone.localdate() - dt.timedelta(days=400)
    page.get_by_label("Date de début").fill(long_ago.isoformat())
    page.get_by_role("button", name="Voir le plan").click()
    expect(page.get_by_text("Le début ne peut pas remonter à plus d’un an.")).to_be_visible()
    expect(page.get_by_role("button", name="Appliquer ce plan")).to_have_count(0)
    check(page, "add, conflict (fr)", findings, "contract-add-conflict-fr")
    assert not findings, report(findings)
