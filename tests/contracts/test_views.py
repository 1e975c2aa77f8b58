"""The contracts in the portal: the list, a contract's page, the contract-wide actions (a dry run first, then the same
apply with the generation previewed) and the CSV import, against every actor: a visitor (to the login), a member (reads,
403 on every write), another organisation (404), the owner's admin. Plus the list's pinned query count and the routing
of a contract named "import"."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.actors import Actor
from contracts import services
from contracts.models import Contract, ContractApply, ContractStatus
from contracts.plan import Desired, Line
from sharing.lifecycle import SharingStatus
from sharing.models import Sharing
from sharing.services import sharing_update
from tests.factories import MachineFactory
from tests.test_french_pages import english_on, english_strings

from .conftest import DAY, NOW

pytestmark = pytest.mark.django_db
UTC = dt.UTC
HTMX = {"HTTP_HX_REQUEST": "true"}


def desired(machines, *, reference="C-1", recipient="admin@buildco.example", start=None, end=None, **fields):
    return Desired(
        reference=reference,
        status=fields.pop("status", ContractStatus.ACTIVE),
        recipient_email=recipient,
        start_at=start or NOW - 2 * DAY,
        end_at=end if end is not None else NOW + 30 * DAY,
        data_packs=("essential", "usage_hours"),
        properties={"customer": "BuildCo", "site": "Lyon"},
        lines=tuple(Line(machine.pk, f"L{index}") for index, machine in enumerate(machines, 1)),
        **fields,
    )


@pytest.fixture
def contract(now, owner_admin, machines, beneficiary_admin):
    services.contract_apply(actor=Actor.for_user(owner_admin), reference="C-1", desired=desired(machines[:2]))
    return Contract.objects.get(reference="C-1")


def page_urls(contract):
    return {
        "list": reverse("contracts:list"),
        "detail": reverse("contracts:detail", args=[contract.pk]),
        "template": reverse("contracts:import_template"),
    }


def write_urls(contract):
    return {
        "import": reverse("contracts:import"),
        **{
            action: reverse(f"contracts:{action}", args=[contract.pk])
            for action in ("extend", "complete", "add", "swap")
        },
    }


# --- who sees what ---------------------------------------------------------------------------------------------------


def test_visitors_are_sent_to_log_in(client, contract):
    for url in [*page_urls(contract).values(), *write_urls(contract).values()]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/accounts/login/" in response["Location"], url


def test_a_member_reads_and_is_refused_every_write(client, contract, owner_member):
    client.force_login(owner_member)
    for url in page_urls(contract).values():
        assert client.get(url).status_code == 200, url
    detail = client.get(page_urls(contract)["detail"]).content.decode()
    assert "Only admins of your organisation can change a contract." in detail
    assert reverse("contracts:extend", args=[contract.pk]) not in detail
    generation = contract.generation
    for url in write_urls(contract).values():
        assert client.get(url).status_code == 403, url
        assert client.post(url, {"step": "apply", "end_day": "2026-09-30"}).status_code == 403, url
    contract.refresh_from_db()
    assert contract.generation == generation


def test_another_organisation_gets_404(client, contract, outsider_admin):
    client.force_login(outsider_admin)
    assert client.get(reverse("contracts:list")).status_code == 200
    assert "C-1" not in client.get(reverse("contracts:list")).content.decode()
    for name in ("detail", "extend", "complete", "add", "swap"):
        url = reverse(f"contracts:{name}", args=[contract.pk])
        assert client.get(url).status_code == 404, url
        if name != "detail":
            assert client.post(url, {"step": "apply"}).status_code == 404, url


def test_the_beneficiary_sees_no_contract_of_the_owner(client, contract, beneficiary_admin):
    client.force_login(beneficiary_admin)
    assert client.get(reverse("contracts:detail", args=[contract.pk])).status_code == 404
    sharing = Sharing.objects.filter(contract=contract).first()
    page = client.get(reverse("sharing:detail", args=[sharing.pk])).content.decode()
    assert reverse("contracts:detail", args=[contract.pk]) not in page
    share_centre = client.get("/?direction=incoming").content.decode()
    assert reverse("contracts:detail", args=[contract.pk]) not in share_centre


def test_the_owner_s_share_centre_links_each_sharing_to_its_contract(client, contract, owner_admin):
    client.force_login(owner_admin)
    share_centre = client.get("/").content.decode()
    link = f'<span class="sub"><a href="{reverse("contracts:detail", args=[contract.pk])}">Contract C-1</a></span>'
    assert share_centre.count(link) == 2  # the contract's two sharings


# --- the list --------------------------------------------------------------------------------------------------------


def test_the_list_shows_one_row_per_contract_with_its_summary(client, contract, owner_admin, machines):
    client.force_login(owner_admin)
    page = client.get(reverse("contracts:list")).content.decode()
    assert reverse("contracts:detail", args=[contract.pk]) in page
    assert "BuildCo" in page
    assert "admin@buildco.example" in page
    assert "2 in progress" in page


def test_the_list_filters_by_status_recipient_machine_and_search(client, now, owner_admin, machines, beneficiary_admin):
    actor = Actor.for_user(owner_admin)
    services.contract_apply(actor=actor, reference="C-A", desired=desired(machines[:1], reference="C-A"))
    services.contract_apply(
        actor=actor,
        reference="C-B",
        desired=desired(
            machines[1:2],
            reference="C-B",
            recipient="other@buildco.example",
            recipient_organisation_name="BuildCo",
        ),
    )
    services.contract_cancel(actor=actor, contract=Contract.objects.get(reference="C-B"))
    client.force_login(owner_admin)

    def listed(**params):
        page = client.get(reverse("contracts:list"), params).content.decode()
        return {reference for reference in ("C-A", "C-B") if f">{reference}<" in page}

    assert listed() == {"C-A", "C-B"}
    assert listed(status="cancelled") == {"C-B"}
    assert listed(recipient="other@buildco.example") == {"C-B"}
    assert listed(machine=machines[0].serial_number) == {"C-A"}
    assert listed(q="C-B") == {"C-B"}
    assert listed(q="BuildCo") == {"C-A", "C-B"}
    assert listed(ordering="-reference") == {"C-A", "C-B"}
    sorted_page = client.get(reverse("contracts:list"), {"ordering": "-reference"}).content.decode()
    assert sorted_page.index(">C-B<") < sorted_page.index(">C-A<")


def test_the_list_answers_its_fragment_to_htmx_and_the_address_keeps_the_filters(client, contract, owner_admin):
    client.force_login(owner_admin)
    response = client.get(reverse("contracts:list"), {"status": "active", "q": "", "page": ""}, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="results"')
    assert response["HX-Push-Url"] == "/contracts/?status=active"


def test_the_list_sort_options_are_translated(client, contract, owner_admin):
    client.force_login(owner_admin)
    page = client.get(reverse("contracts:list"), headers={"accept-language": "fr"}).content.decode()
    assert "Référence (de Z à A)" in page


@pytest.mark.parametrize("count", [10, 100])
def test_the_list_costs_the_same_queries_whatever_the_number_of_contracts(
    client, now, owner_org, owner_admin, django_assert_num_queries, count
):
    machine = MachineFactory(organisation=owner_org)
    Contract.objects.bulk_create(
        Contract(
            owner=owner_org,
            reference=f"C-{index:03}",
            recipient_email=f"site{index % 7}@buildco.example",
            desired_state={"startDate": "2026-07-01T00:00:00Z", "endDate": None, "lines": [], "properties": {}},
            last_applied_at=NOW - index * DAY,
        )
        for index in range(count)
    )
    client.force_login(owner_admin)
    client.get(reverse("contracts:list"))  # the session and the user are read once per request
    assert machine
    with django_assert_num_queries(LIST_QUERIES):
        assert client.get(reverse("contracts:list")).status_code == 200
    with django_assert_num_queries(LIST_QUERIES - 1):  # the fragment: no recipients for the filters
        assert client.get(reverse("contracts:list"), {"status": "active"}, **HTMX).status_code == 200


#: session, user, organisation, status counts, the page's count and rows, their sharing counts, the recipients
LIST_QUERIES = 8


# --- a contract's page -----------------------------------------------------------------------------------------------


def test_the_page_shows_the_sharings_the_timeline_and_the_history(client, contract, owner_admin, machines):
    client.force_login(owner_admin)
    page = client.get(reverse("contracts:detail", args=[contract.pk])).content.decode()
    for sharing in Sharing.objects.filter(contract=contract):
        assert reverse("sharing:detail", args=[sharing.pk]) in page
    for machine in machines[:2]:
        assert reverse("fleet:machine", args=[machine.pk]) in page
    assert 'id="contract-timeline"' in page
    assert "Apply 1" in page
    assert "2 new sharings" in page
    assert reverse("contracts:extend", args=[contract.pk]) in page


def test_a_hand_edit_shows_as_drift(client, contract, owner_admin):
    sharing = Sharing.objects.filter(contract=contract).first()
    sharing_update(actor=Actor.for_user(owner_admin), sharing=sharing, changes={"end_at": NOW + 40 * DAY})
    client.force_login(owner_admin)
    page = client.get(reverse("contracts:detail", args=[contract.pk])).content.decode()
    assert "Changed by hand since the last apply" in page
    assert "endDate" in page


def test_sharing_pages_link_to_their_contract(client, contract, owner_admin):
    client.force_login(owner_admin)
    sharing = Sharing.objects.filter(contract=contract).first()
    url = reverse("contracts:detail", args=[contract.pk])
    assert url in client.get(reverse("sharing:detail", args=[sharing.pk])).content.decode()
    assert url in client.get("/").content.decode()


# --- contract-wide actions -------------------------------------------------------------------------------------------


def preview_then_apply(client, url, data):
    preview = client.post(url, {**data, "step": "preview"})
    assert preview.status_code == 200, preview.content.decode()
    context = preview.context
    assert context["previewed"]
    apply = client.post(
        url, {**data, "step": "apply", "previewed": context["fingerprint"], "generation": context["generation"]}
    )
    return preview, apply


def test_extend_shows_the_plan_then_applies_it(client, contract, owner_admin):
    client.force_login(owner_admin)
    url = reverse("contracts:extend", args=[contract.pk])
    form = client.get(url).content.decode()
    assert 'value="2026-08-11"' in form  # the current end's day, in Paris
    before = Sharing.objects.filter(contract=contract).count(), ContractApply.objects.count()
    preview = client.post(url, {"end_day": "2026-09-30", "step": "preview"})
    text = preview.content.decode()
    assert "Apply this plan" in text
    assert "2 changes" in text
    assert (Sharing.objects.filter(contract=contract).count(), ContractApply.objects.count()) == before
    assert {s.end_at for s in Sharing.objects.filter(contract=contract)} == {NOW + 30 * DAY}
    _preview, apply = preview_then_apply(client, url, {"end_day": "2026-09-30"})
    assert apply.status_code == 302
    assert apply["Location"] == reverse("contracts:detail", args=[contract.pk])
    end = dt.datetime(2026, 9, 30, 22, 0, tzinfo=UTC)  # 1 October, midnight in Paris
    assert {s.end_at for s in Sharing.objects.filter(contract=contract)} == {end}
    contract.refresh_from_db()
    assert contract.generation == 2
    assert contract.applies.first().actor_user == owner_admin


def test_an_apply_of_a_changed_form_previews_again_and_applies_nothing(client, contract, owner_admin):
    client.force_login(owner_admin)
    url = reverse("contracts:extend", args=[contract.pk])
    preview = client.post(url, {"end_day": "2026-09-30", "step": "preview"})
    stale = client.post(
        url,
        {
            "end_day": "2026-10-31",
            "step": "apply",
            "previewed": preview.context["fingerprint"],
            "generation": preview.context["generation"],
        },
    )
    assert stale.status_code == 200
    assert "nothing was applied" in stale.content.decode()
    contract.refresh_from_db()
    assert contract.generation == 1


def test_an_apply_after_another_change_previews_again(client, contract, owner_admin, machines):
    client.force_login(owner_admin)
    url = reverse("contracts:extend", args=[contract.pk])
    preview = client.post(url, {"end_day": "2026-09-30", "step": "preview"})
    services.contract_apply(
        actor=Actor.for_user(owner_admin), reference="C-1", desired=desired(machines[:3])
    )  # someone adds a machine meanwhile
    response = client.post(
        url,
        {
            "end_day": "2026-09-30",
            "step": "apply",
            "previewed": preview.context["fingerprint"],
            "generation": preview.context["generation"],
        },
    )
    assert "nothing was applied" in response.content.decode()
    contract.refresh_from_db()
    assert contract.generation == 2
    assert "3 changes" in response.content.decode()  # the new plan reaches the machine added meanwhile


def test_stop_everything_completes_the_contract(client, contract, owner_admin):
    client.force_login(owner_admin)
    url = reverse("contracts:complete", args=[contract.pk])
    preview, apply = preview_then_apply(client, url, {})
    assert "2 stops" in preview.content.decode()
    assert apply.status_code == 302
    contract.refresh_from_db()
    assert contract.status == ContractStatus.COMPLETED
    assert {s.status for s in Sharing.objects.filter(contract=contract)} == {SharingStatus.STOPPED}
    closed = client.get(url)
    assert "there is nothing left to change" in closed.content.decode()
    assert client.post(url, {"step": "apply"}).status_code == 409


def test_add_a_machine(client, contract, owner_admin, machines):
    client.force_login(owner_admin)
    url = reverse("contracts:add", args=[contract.pk])
    unknown = client.post(url, {"serial_number": "NO-SUCH", "start_day": "2026-07-12", "step": "preview"})
    assert unknown.status_code == 400
    assert "None of your machines has this serial number." in unknown.content.decode()
    assert 'value="NO-SUCH"' in unknown.content.decode()  # what was typed stays
    data = {"serial_number": machines[2].serial_number, "line_reference": "L3", "start_day": "2026-07-12"}
    preview, apply = preview_then_apply(client, url, data)
    assert "1 new sharing" in preview.content.decode()
    assert apply.status_code == 302
    added = Sharing.objects.get(contract=contract, contract_line="L3")
    assert added.start_at == dt.datetime(2026, 7, 11, 22, 0, tzinfo=UTC)


def test_swap_a_machine(client, contract, owner_admin, machines):
    client.force_login(owner_admin)
    url = reverse("contracts:swap", args=[contract.pk])
    assert machines[0].serial_number in client.get(url).content.decode()
    data = {"line": "0", "serial_number": machines[3].serial_number, "start_day": "2026-07-12"}
    preview, apply = preview_then_apply(client, url, data)
    assert "1 new sharing, 1 stop" in preview.content.decode()
    assert apply.status_code == 302
    line = Sharing.objects.filter(contract=contract, contract_line="L1").order_by("created_at")
    assert [s.status for s in line] == [SharingStatus.STOPPED, SharingStatus.IN_PROGRESS]


def test_a_conflict_is_explained_and_cannot_be_applied(client, contract, owner_admin, machines):
    """A line ended by hand in the past cannot be extended: the plan says which rule and why, and offers no apply."""
    client.force_login(owner_admin)
    url = reverse("contracts:add", args=[contract.pk])
    data = {"serial_number": machines[2].serial_number, "start_day": "2025-01-01", "step": "preview"}
    response = client.post(url, data)
    text = response.content.decode()
    assert "Refused" in text
    assert "start_too_early" in text
    assert "The start cannot be more than one year in the past." in text
    assert "Apply this plan" not in text
    french = client.post(url, data, headers={"accept-language": "fr"}).content.decode()
    assert "start_too_early" in french
    assert "Apply this plan" not in french
    assert "Refusé" in french


# --- the CSV import --------------------------------------------------------------------------------------------------

HEADER = "reference;recipient;serialNumber;lineReference;startDate;endDate;customer"


def upload(client, text, name="contracts.csv"):
    file = SimpleUploadedFile(name, ("\ufeff" + text).encode(), content_type="text/csv")
    return client.post(reverse("contracts:import"), {"file": file, "step": "preview"})


def test_an_invalid_file_shows_each_error_by_row_and_column(client, now, owner_admin, machines, beneficiary_admin):
    client.force_login(owner_admin)
    rows = [
        HEADER,
        f"C-9;{beneficiary_admin.email};{machines[0].serial_number};L1;13/07/2026;31/08/2026;BuildCo",
        f"C-9;{beneficiary_admin.email};NO-SUCH;L2;13/07/2026;31/13/2026;BuildCo",
    ]
    response = upload(client, "\r\n".join(rows))
    assert response.status_code == 400
    errors = [(error.row, error.column) for error in response.context["errors"]]
    assert errors == [(3, "serialNumber"), (3, "endDate")]
    text = response.content.decode()
    assert "None of your machines has this serial number." in text
    assert "Choose the corrected file" in text
    assert "never keeps a chosen file" in text
    assert "Apply the file" not in text
    assert not Contract.objects.exists()


def test_a_valid_file_previews_its_plan_then_applies(client, now, owner_admin, machines, beneficiary_admin):
    client.force_login(owner_admin)
    rows = [HEADER, f"C-9;{beneficiary_admin.email};{machines[0].serial_number};L1;13/07/2026;31/08/2026;BuildCo"]
    preview = upload(client, "\r\n".join(rows))
    assert preview.status_code == 200
    assert "Apply the file" in preview.content.decode()
    assert "1 new sharing" in preview.content.decode()
    assert not Contract.objects.exists()
    apply = client.post(
        reverse("contracts:import"), {"step": "apply", "name": "contracts.csv", "content": preview.context["content"]}
    )
    assert apply.status_code == 302
    assert Sharing.objects.get(contract__reference="C-9").contract_line == "L1"


def test_the_template_is_the_apis(client, owner_member):
    client.force_login(owner_member)
    response = client.get(reverse("contracts:import_template"))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.decode().startswith("reference,recipient,")


def test_a_contract_named_import_has_its_page(client, now, owner_admin, machines, beneficiary_admin):
    services.contract_apply(
        actor=Actor.for_user(owner_admin), reference="import", desired=desired(machines[:1], reference="import")
    )
    contract = Contract.objects.get(reference="import")
    client.force_login(owner_admin)
    page = client.get(reverse("contracts:detail", args=[contract.pk]))
    assert page.status_code == 200
    assert "Contract import" in page.content.decode()
    assert client.get(reverse("contracts:import")).context["form"]


def test_the_contract_pages_show_no_english_in_french(client, contract, owner_admin, machines, beneficiary_admin):
    client.force_login(owner_admin)
    client.cookies["django_language"] = "fr"
    english = english_strings()
    found = {}

    def check(label, response):
        page = response.content.decode()
        assert '<html lang="fr">' in page, label
        if shown := english_on(page, english):
            found[label] = shown

    sharing = Sharing.objects.filter(contract=contract).first()
    sharing_update(actor=Actor.for_user(owner_admin), sharing=sharing, changes={"end_at": NOW + 40 * DAY})  # drift
    for name in ("list", "import", "detail", "extend", "complete", "add", "swap"):
        args = [] if name in ("list", "import") else [contract.pk]
        check(name, client.get(reverse(f"contracts:{name}", args=args)))
    check("extend, preview", client.post(reverse("contracts:extend", args=[contract.pk]), {"end_day": "2026-09-30"}))
    conflict = {"serial_number": machines[2].serial_number, "start_day": "2025-01-01"}
    check("add, conflict", client.post(reverse("contracts:add", args=[contract.pk]), conflict))
    rows = [HEADER, f"C-9;{beneficiary_admin.email};NO-SUCH;L1;13/07/2026;31/13/2026;BuildCo"]
    check("import, errors", upload(client, "\r\n".join(rows)))
    rows = [HEADER, f"C-9;{beneficiary_admin.email};{machines[3].serial_number};L1;13/07/2026;31/08/2026;BuildCo"]
    check("import, preview", upload(client, "\r\n".join(rows)))
    assert not found, f"English on French pages: {found}"


@pytest.mark.parametrize("applies", [1, 4])
def test_the_page_costs_the_same_queries_whatever_its_history(
    client, contract, owner_admin, machines, django_assert_num_queries, applies
):
    actor = Actor.for_user(owner_admin)
    for index in range(1, applies):
        services.contract_apply(
            actor=actor, reference="C-1", desired=desired(machines[:2], end=NOW + (30 + index) * DAY)
        )
    assert contract.applies.count() == applies
    client.force_login(owner_admin)
    url = reverse("contracts:detail", args=[contract.pk])
    client.get(url)
    with django_assert_num_queries(PAGE_QUERIES):
        assert client.get(url).status_code == 200


#: session, user, organisation, the contract, its sharings with their machines' links (one statement), its history,
#: the machines' names
PAGE_QUERIES = 7
