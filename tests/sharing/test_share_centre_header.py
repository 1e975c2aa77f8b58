"""The share centre's header: the search on one line with the Filters panel, the filters in use as pills (each a link
to the same list without that filter, every other filter kept), the panel's count and when it opens by itself, the
filters a link brings that no control sets, and htmx answers that keep the form and the address bar in step."""

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest

from sharing.models import ReceivedMachine
from tests.factories import MachineFactory, SharingFactory, WorkspaceFactory

NOW = dt.datetime(2026, 7, 12, 9, 0, tzinfo=dt.UTC)
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def lyon(frozen, owner_org, beneficiary_org):
    frozen(NOW)
    workspace = WorkspaceFactory(organisation=owner_org, name="Lyon depot")
    machine = MachineFactory(organisation=owner_org)
    machine.workspaces.add(workspace)
    SharingFactory(owner=owner_org, beneficiary=beneficiary_org, machines=[machine], reference="CTR-7", start_at=NOW)
    return workspace


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def pills_of(response) -> dict[str, dict]:
    return {pill["name"]: pill for pill in response.context["pills"]}


def test_each_pill_drops_exactly_its_filter(client, owner_admin, lyon):
    client.force_login(owner_admin)
    given = {
        "direction": "outgoing",
        "q": "CTR",
        "period": "current",
        "date_from": "2026-07-01",
        "date_to": "2026-07-31",
        "workspace": str(lyon.pk),
        "status": "in_progress",
        "ordering": "-start",
        "page": "2",
    }
    response = client.get("/", given)
    pills = pills_of(response)
    assert list(pills) == ["q", "period", "date_from", "date_to", "workspace"]
    assert [pill["value"] for pill in pills.values()] == ["CTR", "Current", "1 Jul 2026", "31 Jul 2026", "Lyon depot"]
    kept = {key: [value] for key, value in given.items() if key != "page"}  # a pill goes back to the first page
    for name, pill in pills.items():
        assert query(pill["url"]) == {key: value for key, value in kept.items() if key != name}, name
    content = response.content.decode()
    assert 'href="/?direction=outgoing&amp;period=current&amp;date_from=2026-07-01' in content  # the search's pill
    assert "Clear all" in content
    assert response.context["panel_count"] == 4  # the search is on the first line, not in the panel


def test_a_pill_drops_one_value_and_keeps_the_list_view_or_the_timeline(client, owner_admin, lyon):
    client.force_login(owner_admin)
    response = client.get("/", {"view": "timeline", "workspace": str(lyon.pk), "zoom": "month"})
    (pill,) = response.context["pills"]
    assert query(pill["url"]) == {"view": ["timeline"], "zoom": ["month"]}
    alone = client.get("/", {"q": "CTR"})
    (pill,) = alone.context["pills"]
    assert pill["url"] == "/"
    assert "Clear all" not in alone.content.decode()  # one pill is its own way out


def test_no_pill_without_a_filter_and_empty_values_are_no_filters(client, owner_admin, lyon):
    client.force_login(owner_admin)
    response = client.get("/", {"q": "  ", "period": "", "workspace": "", "status": "scheduled", "ordering": "end"})
    assert response.context["pills"] == []  # status and sort have their own controls on the page
    assert response.context["panel_count"] == 0
    assert 'class="filter-pills"' not in response.content.decode()


def test_a_refused_date_opens_the_panel_and_its_pill_shows_what_was_typed(client, owner_admin, lyon):
    client.force_login(owner_admin)
    response = client.get("/", {"date_from": "2150-01-01"})
    assert response.status_code == 200
    assert response.context["panel_open"]
    assert '<details class="filters-panel" open>' in response.content.decode()
    (pill,) = response.context["pills"]
    assert (pill["value"], pill["url"]) == ("2150-01-01", "/")
    assert '<details class="filters-panel">' in client.get("/", {"date_from": "2026-07-01"}).content.decode()


def test_filters_from_a_link_are_kept_by_the_form_and_shown_as_pills(client, owner_admin, lyon):
    client.force_login(owner_admin)
    response = client.get("/", {"reference": "CTR-7", "recipient": "a@b.example"})
    content = response.content.decode()
    assert '<input type="hidden" name="reference" value="CTR-7">' in content
    assert '<input type="hidden" name="recipient" value="a@b.example">' in content
    assert {name: query(pill["url"]) for name, pill in pills_of(response).items()} == {
        "reference": {"recipient": ["a@b.example"]},
        "recipient": {"reference": ["CTR-7"]},
    }


def test_htmx_redraws_the_form_fields_after_a_pill_only(client, owner_admin, lyon):
    client.force_login(owner_admin)
    results = client.get("/", {"q": "CTR", "period": "current"}, HTTP_HX_TARGET="results", **HTMX)
    content = results.content.decode()
    assert content.lstrip().startswith('<div id="results"')
    assert '<span id="filter-count" hx-swap-oob="true">' in content  # the panel's count follows the list
    assert 'id="filter-q"' not in content  # a field perhaps in use is never replaced
    assert 'id="filter-period"' not in content
    assert 'hx-headers=\'{"X-Redraw-Filters": "true"}\'' in content  # on each pill
    assert "X-Redraw-Filters" in results["Vary"]
    pill = client.get("/", {"period": "current"}, HTTP_X_REDRAW_FILTERS="true", **HTMX)
    content = pill.content.decode()
    assert content.lstrip().startswith('<div id="results"')
    assert '<div id="filter-q-field" class="field field-search" hx-swap-oob="true">' in content
    assert '<input type="search" id="filter-q" name="q" value=""' in content  # the search's pill was removed
    assert '<div id="filter-period-field" class="field" hx-swap-oob="true">' in content
    assert '<option value="current" selected>' in content
    assert '<div id="filter-workspace-field" class="field" hx-swap-oob="true">' in content
    assert "<html" not in content
    assert pill["HX-Push-Url"] == "/?period=current"


def test_a_machine_pill_names_the_machine_as_the_organisation_knows_it(
    client, owner_admin, beneficiary_admin, beneficiary_org, outsider_org, lyon
):
    machine = lyon.machines.get()
    machine.make, machine.model, machine.serial_number = "Caterpillar", "320 GC", "CAT0320X"
    machine.save()
    client.force_login(owner_admin)
    (pill,) = client.get("/", {"asset_id": str(machine.pk)}).context["pills"]
    assert (pill["label"], pill["value"]) == ("Machine", "Caterpillar 320 GC · CAT0320X")
    # The beneficiary, under the name it gave the machine.
    ReceivedMachine.objects.filter(organisation=beneficiary_org, machine=machine).update(name="Big yellow")
    client.force_login(beneficiary_admin)
    response = client.get("/", {"direction": "incoming", "asset_id": str(machine.pk)})
    (pill,) = response.context["pills"]
    assert pill["value"] == "Big yellow · Caterpillar 320 GC · CAT0320X"
    # Another organisation's machine is only the id typed: the pill tells nothing about it.
    other = MachineFactory(organisation=outsider_org, make="Secret", model="X1")
    (pill,) = client.get("/", {"asset_id": str(other.pk)}).context["pills"]
    assert pill["value"] == str(other.pk)
