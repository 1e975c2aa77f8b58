"""The share centre's pages and actions against every actor: anonymous (to the login), a member (read only, 403 on
admin actions), another organisation (404), the beneficiary (only what was shared), and the owner's admin. Plus the
list's pinned query count, the CSV export and the create / edit / stop / delete journeys."""

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import translation

from accounts.actors import Actor
from audit.models import AuditEvent
from sharing.audit import AuditAction
from sharing.lifecycle import SharingStatus
from sharing.models import ReceivedMachine, Sharing, SharingMachine
from sharing.services import sharing_create
from tests.factories import ContactFactory, MachineFactory, SharingFactory, UserFactory, WorkspaceFactory

UTC = dt.UTC
NOW = dt.datetime(2026, 7, 12, 9, 0, tzinfo=UTC)
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def now(frozen):
    frozen(NOW)
    return NOW


@pytest.fixture
def running(now, admin_actor, machine, beneficiary_admin):
    """In progress since 1 July, ends 30 July: the start is locked, the end can move; it cannot be deleted."""
    (sharing,) = sharing_create(
        actor=admin_actor,
        machine_ids=[machine.pk],
        recipient_email=beneficiary_admin.email,
        start_at=dt.datetime(2026, 7, 1, tzinfo=UTC),
        end_at=dt.datetime(2026, 7, 30, tzinfo=UTC),
        reference="CTR-RUNNING",
        properties={"customer": "BuildCo", "site": "Part-Dieu", "legacyCode": "X9"},
    )
    return sharing


@pytest.fixture
def scheduled(now, admin_actor, owner_org, beneficiary_admin):
    (sharing,) = sharing_create(
        actor=admin_actor,
        machine_ids=[MachineFactory(organisation=owner_org).pk],
        recipient_email=beneficiary_admin.email,
        start_at=dt.datetime(2026, 8, 1, tzinfo=UTC),
        reference="CTR-SCHEDULED",
    )
    return sharing


def detail(sharing, action=""):
    return reverse(f"sharing:{action or 'detail'}", args=[sharing.pk])


# --- anonymous ---------------------------------------------------------------------------------------------------


def test_anonymous_sees_the_landing_page_at_the_root(client):
    response = client.get("/")
    assert response.status_code == 200
    assert b"Log in" in response.content
    assert b'id="results"' not in response.content


@pytest.mark.parametrize(
    "url",
    [
        "/sharings/export.csv",
        "/sharings/new/",
        "/sharings/new/machines/",
        "/sharings/new/overlaps/",
        "/sharings/new/contacts/",
        "/sharings/00000000-0000-0000-0000-000000000001/",
        "/sharings/00000000-0000-0000-0000-000000000001/edit/",
        "/sharings/00000000-0000-0000-0000-000000000001/stop/",
        "/sharings/00000000-0000-0000-0000-000000000001/delete/",
        "/fleet/",
        "/fleet/received/00000000-0000-0000-0000-000000000001/edit/",
        "/fleet/workspaces/",
        "/fleet/workspaces/00000000-0000-0000-0000-000000000001/rename/",
    ],
)
def test_anonymous_is_sent_to_the_login(client, db, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


# --- the list ------------------------------------------------------------------------------------------------------


def test_share_centre_lists_outgoing_and_incoming(client, owner_member, beneficiary_admin, running):
    client.force_login(owner_member)
    response = client.get("/")
    assert response.status_code == 200
    assert b"CTR-RUNNING" in response.content
    assert response.context["direction_counts"] == {"outgoing": 1, "incoming": 0}
    assert b"New sharing" not in response.content  # members see no button
    assert "HX-Request" in response["Vary"]

    client.force_login(beneficiary_admin)
    assert b"CTR-RUNNING" not in client.get("/?direction=outgoing").content
    incoming = client.get("/?direction=incoming")
    assert b"CTR-RUNNING" in incoming.content
    assert b"Rent &amp; Go" in incoming.content  # the owner's name, in the owner column


def test_a_list_row_says_what_the_sharing_is_in_both_languages(client, owner_admin, owner_org, beneficiary_org, now):
    machines = [MachineFactory(organisation=owner_org, model=f"M{n}", serial_number=f"SN{n}") for n in range(3)]
    invited = SharingFactory(
        owner=owner_org,
        beneficiary=None,
        recipient_email="site@newco.example",
        recipient_organisation_name="NewCo <b>",
        reference="<script>alert(1)</script>",
        machines=machines,
        start_at=NOW + dt.timedelta(days=2),
    )
    stopped = SharingFactory(
        owner=owner_org,
        beneficiary=beneficiary_org,
        reference="",
        machines=machines[:1],
        start_at=NOW - dt.timedelta(days=9),
        end_at=NOW + dt.timedelta(days=9),
        stopped_at=NOW - dt.timedelta(days=1),
    )
    client.force_login(owner_admin)
    for language in ("en", "fr"):
        client.cookies["django_language"] = language
        content = client.get("/").content.decode()
        rows = {row.split('href="')[1].split('"')[0]: row for row in content.split("<tbody>")[1].split("<tr>")[1:]}
        first, second = rows[f"/sharings/{invited.pk}/"], rows[f"/sharings/{stopped.pk}/"]
        with translation.override(language):
            words = {
                text: translation.gettext(text)
                for text in ("Pending", "Stopped", "(no reference)", "invited, no account yet", "stopped", "open-ended")
            }
            more = translation.ngettext("and %(counter)s more", "and %(counter)s more", 1) % {"counter": 1}
        assert f'<span class="badge badge-pending">{words["Pending"]}</span>' in first
        assert "&lt;script&gt;alert(1)&lt;/script&gt;</a>" in first  # typed text is text, never markup
        assert '<span class="nowrap">M0 SN0</span>, <span class="nowrap">M1 SN1</span>' in first
        assert f'<span class="sub">{more}</span>' in first
        assert f'NewCo &lt;b&gt;<span class="sub">{words["invited, no account yet"]}</span>' in first
        assert f'<span class="muted">{words["open-ended"]}</span>' in first
        assert f'<span class="badge badge-stopped">{words["Stopped"]}</span>' in second
        assert f"{words['(no reference)']}</a>" in second
        assert f'<span class="sub">{words["stopped"]}</span><span class="nowrap">' in second
        if language == "fr":
            assert words["open-ended"] != "open-ended"
            assert words["stopped"] != "stopped"


def test_an_organisation_that_only_receives_lands_on_what_it_receives(client, beneficiary_admin, running):
    client.force_login(beneficiary_admin)

    response = client.get("/")

    assert response.context["direction"] == "incoming"
    assert b"CTR-RUNNING" in response.content
    # The export of that page is the same list.
    export = client.get(reverse("sharing:export"))
    assert "CTR-RUNNING" in b"".join(export.streaming_content).decode()
    # Asked for, the other tab still opens.
    assert client.get("/?direction=outgoing").context["direction"] == "outgoing"


def test_an_organisation_that_shares_lands_on_what_it_shares(client, owner_admin, running, beneficiary_admin):
    SharingFactory(owner=beneficiary_admin.organisation, beneficiary=owner_admin.organisation, reference="BACK")
    client.force_login(owner_admin)

    assert client.get("/").context["direction"] == "outgoing"


def test_share_centre_counts_each_status_under_the_other_filters(client, owner_admin, running, scheduled):
    client.force_login(owner_admin)
    response = client.get("/?status=scheduled&q=CTR")
    chips = {chip["value"]: chip["count"] for chip in response.context["chips"]}
    assert chips[None] == 2
    assert chips[SharingStatus.IN_PROGRESS] == 1
    assert chips[SharingStatus.SCHEDULED] == 1
    assert chips[SharingStatus.PENDING] == 0
    assert [sharing.reference for sharing in response.context["sharings"]] == ["CTR-SCHEDULED"]


def test_share_centre_answers_htmx_with_the_list_fragment(client, owner_admin, running):
    client.force_login(owner_admin)
    response = client.get("/?q=RUNNING", **HTMX)
    content = response.content.decode()
    assert response.status_code == 200
    assert content.lstrip().startswith('<div id="results"')
    assert "<html" not in content
    assert 'hx-swap-oob="true"' in content  # the sort and status state for the filter form
    # The address bar keeps the filters in use only.
    pushed = client.get("/?direction=outgoing&q=RUN&period=&workspace=&status=pending", **HTMX)
    assert pushed["HX-Push-Url"] == "/?direction=outgoing&q=RUN&status=pending"
    # A history restore gets the whole page.
    restore = client.get("/?q=RUNNING", HTTP_HX_HISTORY_RESTORE_REQUEST="true", **HTMX)
    assert "<html" in restore.content.decode()


def test_share_centre_empty_states_say_what_to_do(client, owner_admin, owner_member, now):
    client.force_login(owner_admin)
    assert b"Create your first sharing" in client.get("/").content
    assert b"No sharing matches these filters" in client.get("/?q=nothing").content
    assert b"Nothing has been shared with you yet" in client.get("/?direction=incoming").content
    client.force_login(owner_member)
    assert b"Ask one of them to create a sharing" in client.get("/").content


def _bulk_sharings(count, *, owner, beneficiary, machines, status=SharingStatus.IN_PROGRESS):
    sharings = Sharing.objects.bulk_create(
        [
            Sharing(
                owner=owner,
                beneficiary=beneficiary,
                sender_label="bulk",
                recipient_email="someone@example.org",
                recipient_organisation_name=beneficiary.name,
                reference=f"BULK-{index:04d}",
                start_at=NOW - dt.timedelta(days=index % 40),
                end_at=NOW + dt.timedelta(days=30),
                status=status,
            )
            for index in range(count)
        ]
    )
    SharingMachine.objects.bulk_create(
        [SharingMachine(sharing=sharing, machine=machine) for sharing in sharings for machine in machines]
    )


#: session, user, organisation, status counts, direction counts, page rows, machines prefetch, the workspaces of the
#: filter form and, for an admin, the count of failed notifications and the requests for a later end waiting for an
#: answer (none here: one query; their count is read only when there are some; the list fragment htmx swaps in has
#: neither the form nor the page head: three queries fewer). The paginator's count is the selected chips' (no query of
#: its own). A searched list counts its matches and reads its page's ids in one query (selectors.sharings_searched),
#: then their rows: as many queries.
SHARE_CENTRE_QUERIES = 10
SHARE_CENTRE_SEARCHED_QUERIES = SHARE_CENTRE_QUERIES
SHARE_CENTRE_FRAGMENT_QUERIES = 7


@pytest.mark.parametrize("count", [10, 500])
def test_share_centre_query_count_does_not_grow_with_the_sharings(
    client, django_assert_num_queries, now, owner_org, owner_admin, beneficiary_org, count
):
    machines = [MachineFactory(organisation=owner_org) for _ in range(3)]
    WorkspaceFactory(organisation=owner_org)
    _bulk_sharings(count, owner=owner_org, beneficiary=beneficiary_org, machines=machines)
    received = [MachineFactory(organisation=beneficiary_org) for _ in range(2)]
    _bulk_sharings(count, owner=beneficiary_org, beneficiary=owner_org, machines=received)
    client.force_login(owner_admin)
    with django_assert_num_queries(SHARE_CENTRE_SEARCHED_QUERIES):
        response = client.get("/?q=BULK&period=current&ordering=-start")
    assert response.content.count(b'class="row-title"') == min(count, 25)
    with django_assert_num_queries(SHARE_CENTRE_FRAGMENT_QUERIES):
        response = client.get("/?direction=incoming&status=in_progress&page=2", **HTMX)
    assert response.content.count(b'class="row-title"') == (10 if count == 10 else 25)


@pytest.mark.parametrize("ordering", ["", "-start", "reference", "-status", "end"])
def test_a_searched_list_pages_and_sorts_as_the_list_does(
    client, now, owner_org, owner_admin, beneficiary_org, ordering
):
    """A search reads its page's ids first, then their rows: the same rows in the same order as the list without a
    search, on every page, whatever the sort."""
    machines = [MachineFactory(organisation=owner_org)]
    _bulk_sharings(60, owner=owner_org, beneficiary=beneficiary_org, machines=machines)
    client.force_login(owner_admin)
    for page in ("1", "2", "3"):
        listed = client.get("/", {"ordering": ordering, "page": page}).context["sharings"]
        searched = client.get("/", {"q": "BULK", "ordering": ordering, "page": page}).context["sharings"]
        assert [sharing.pk for sharing in searched] == [sharing.pk for sharing in listed], (ordering, page)
        assert len(searched) == (25 if page != "3" else 10)


@pytest.mark.parametrize("asked_page", ["2", "9", "0", "-1", "two", ""])
@pytest.mark.parametrize("capped", [False, True])
def test_a_searched_list_counts_and_pages_as_the_list_does(
    client, monkeypatch, now, owner_org, owner_admin, beneficiary_org, asked_page, capped
):
    """The search's one pass (its counts and the asked page's ids) gives the list's chips and rows, with statuses
    selected, for a page past the end or no page at all (the paginator's choice, read again), counts capped or not."""
    if capped:
        monkeypatch.setattr("sharing.views.share_centre.COUNT_CAP", 30)
        monkeypatch.setattr("sharing.selectors.COUNT_CAP", 30)
    machines = [MachineFactory(organisation=owner_org)]
    _bulk_sharings(40, owner=owner_org, beneficiary=beneficiary_org, machines=machines, status=SharingStatus.SCHEDULED)
    _bulk_sharings(30, owner=owner_org, beneficiary=beneficiary_org, machines=machines)
    client.force_login(owner_admin)
    for statuses in ([], [SharingStatus.IN_PROGRESS], [SharingStatus.SCHEDULED, SharingStatus.IN_PROGRESS]):
        asked = {"status": statuses, "page": asked_page, "ordering": "reference"}
        listed = client.get("/", asked)
        searched = client.get("/", {**asked, "q": "BULK"})
        assert [s.pk for s in searched.context["sharings"]] == [s.pk for s in listed.context["sharings"]], statuses
        assert searched.context["sharings"], statuses
        assert searched.context["chips"] == listed.context["chips"], statuses
        assert searched.context["page_obj"].number == listed.context["page_obj"].number, statuses
        assert searched.context["page_obj"].has_next() == listed.context["page_obj"].has_next(), statuses


def test_counts_stop_at_the_cap_and_every_page_stays_reachable(
    client, monkeypatch, now, owner_org, owner_admin, beneficiary_org
):
    monkeypatch.setattr("sharing.views.share_centre.COUNT_CAP", 30)
    monkeypatch.setattr("sharing.selectors.COUNT_CAP", 30)
    _bulk_sharings(60, owner=owner_org, beneficiary=beneficiary_org, machines=[MachineFactory(organisation=owner_org)])
    client.force_login(owner_admin)
    first = client.get("/")
    last = client.get("/", {"page": 3})
    beyond = client.get("/", {"page": 9})
    chips = {chip["value"]: (chip["count"], chip["capped"]) for chip in first.context["chips"]}
    assert chips[None] == (30, True)
    assert chips[SharingStatus.PENDING] == (0, False)
    assert first.context["direction_counts"] == {"outgoing": 30, "incoming": 0}
    assert b"More than 30 sharings" in first.content
    assert b"Page 1<" in first.content
    assert first.context["page_obj"].has_next()
    assert last.content.count(b'class="row-title"') == 10
    assert not last.context["page_obj"].has_next()
    assert beyond.status_code == 200


def test_csv_export_uses_the_same_filters(client, owner_member, running, scheduled):
    client.force_login(owner_member)
    response = client.get("/sharings/export.csv?status=in_progress")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["Id", "Status", "Reference"]
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Reference"] == "CTR-RUNNING"
    assert row["Status"] == "In progress"
    assert row["Beneficiary"] == "BuildCo"
    assert row["Start"] == "2026-07-01T02:00+02:00"  # the organisation's time zone (Europe/Paris)
    assert row["Machine ids"] == str(running.machines.get().pk)


def test_csv_export_writes_packs_and_properties_of_each_row(client, owner_member, owner_org, now, machine):
    """The JSON columns are read as text and each distinct text written once a chunk: every row still shows its own."""
    shapes = [
        (["usage", "location"], {"site": "Lyon", "client": "Été & Co"}),
        (["usage", "location"], {"site": "Lyon", "client": "Été & Co"}),
        (["usage"], {}),
        (["usage", "location"], {"site": "Nantes"}),
    ]
    for index, (packs, properties) in enumerate(shapes):
        SharingFactory(
            owner=owner_org, machines=[machine], data_packs=packs, properties=properties, reference=f"R{index}"
        )
    client.force_login(owner_member)
    rows = list(csv.reader(io.StringIO(b"".join(client.get("/sharings/export.csv").streaming_content).decode())))
    cells = {row["Reference"]: row for row in (dict(zip(rows[0], row, strict=True)) for row in rows[1:])}
    assert [(cells[f"R{index}"]["Data packs"], cells[f"R{index}"]["Properties"]) for index in range(4)] == [
        ("usage; location", '{"client": "Été & Co", "site": "Lyon"}'),
        ("usage; location", '{"client": "Été & Co", "site": "Lyon"}'),
        ("usage", ""),
        ("usage; location", '{"site": "Nantes"}'),
    ]


def test_csv_export_shows_only_the_organisations_sharings(client, outsider_admin, running):
    client.force_login(outsider_admin)
    rows = list(csv.reader(io.StringIO(b"".join(client.get("/sharings/export.csv").streaming_content).decode())))
    assert len(rows) == 1


# --- one sharing: who sees what --------------------------------------------------------------------------------------


def test_owner_admin_sees_the_sharing_with_actions_and_timeline(client, owner_admin, running):
    client.force_login(owner_admin)
    response = client.get(detail(running))
    content = response.content.decode()
    assert response.status_code == 200
    assert "CTR-RUNNING" in content
    assert "Part-Dieu" in content
    assert "legacyCode" in content
    assert "Stop the sharing" in content
    assert "This sharing has started: stop it instead" in content  # why it cannot be deleted
    assert "History" in content
    assert "admin@rentandgo.example" in content
    # Dates in the organisation's time zone.
    assert "1 Jul 2026, 02:00" in content


def test_member_reads_the_sharing_but_cannot_act(client, owner_member, running):
    client.force_login(owner_member)
    response = client.get(detail(running))
    assert response.status_code == 200
    assert b"Stop the sharing" not in response.content
    assert b"Only admins of your organisation" in response.content
    for action in ("edit", "stop", "delete"):
        assert client.get(detail(running, action)).status_code == 403
        assert client.post(detail(running, action)).status_code == 403
    running.refresh_from_db()
    assert running.stopped_at is None


def test_beneficiary_sees_only_what_was_shared(client, beneficiary_admin, running):
    client.force_login(beneficiary_admin)
    response = client.get(detail(running))
    content = response.content.decode()
    assert response.status_code == 200
    assert "Shared with your organisation by Rent &amp; Go" in content
    assert "history-title" not in content  # the owner's audit trail stays the owner's
    assert "admin@rentandgo.example" not in content
    assert "Stop the sharing" not in content
    assert "Edit" not in content
    for action in ("edit", "stop", "delete"):
        assert client.post(detail(running, action)).status_code == 403


def test_another_organisation_gets_404_everywhere(client, outsider_admin, running):
    client.force_login(outsider_admin)
    for action in ("detail", "edit", "stop", "delete"):
        assert client.get(detail(running, action)).status_code == 404
    assert client.post(detail(running, "stop")).status_code == 404
    assert client.post(detail(running, "delete")).status_code == 404
    running.refresh_from_db()
    assert running.stopped_at is None


# --- creating --------------------------------------------------------------------------------------------------------


def test_member_has_no_access_to_creating(client, owner_member, now):
    client.force_login(owner_member)
    for url in ("/sharings/new/", "/sharings/new/machines/", "/sharings/new/overlaps/", "/sharings/new/contacts/"):
        assert client.get(url).status_code == 403
    assert client.post("/sharings/new/", {}).status_code == 403


def test_create_form_offers_only_own_machines(client, owner_admin, owner_org, beneficiary_admin, now):
    own = MachineFactory(organisation=owner_org, model="Own model")
    received = MachineFactory(organisation=beneficiary_admin.organisation, model="Received model")
    ReceivedMachine.objects.create(organisation=owner_org, machine=received, name="Received one")
    client.force_login(owner_admin)
    content = client.get("/sharings/new/").content.decode()
    assert str(own.pk) in content
    assert str(received.pk) not in content
    picker = client.get("/sharings/new/machines/?machine_q=model", **HTMX).content.decode()
    assert str(own.pk) in picker
    assert str(received.pk) not in picker
    # Forcing a received machine in is refused, with the error next to the machines.
    response = client.post(
        "/sharings/new/",
        {
            "recipient_email": "x@example.org",
            "recipient_organisation_name": "X",
            "start_at": "2026-07-12T12:00",
            "machines": [str(received.pk)],
            "data_packs": ["essential"],
        },
    )
    assert response.status_code == 400
    assert response.context["form"].errors["machines"]
    assert not Sharing.objects.exists()


def test_create_pending_sharing_for_an_unknown_recipient(client, owner_admin, owner_org, now):
    first, second = MachineFactory(organisation=owner_org), MachineFactory(organisation=owner_org)
    client.force_login(owner_admin)
    response = client.post(
        "/sharings/new/",
        {
            "recipient_email": "Someone@Newco.example",
            "recipient_organisation_name": "Newco",
            "start_at": "2026-07-15T08:00",
            "end_at": "2026-08-15T18:00",
            "reference": "NEW-1",
            "purchase_order": "PO-77",
            "machines": [str(first.pk), str(second.pk)],
            "data_packs": ["essential", "usage_hours"],
            "notification_enabled": "on",
            "one_per_machine": "on",
        },
    )
    assert response.status_code == 302
    sharings = Sharing.objects.filter(reference="NEW-1")
    assert sharings.count() == 2  # one per machine
    sharing = sharings.first()
    assert sharing.status == SharingStatus.PENDING
    assert sharing.recipient_email == "someone@newco.example"
    assert sharing.properties == {"purchaseOrder": "PO-77"}
    assert sharing.data_packs == ["essential", "usage_hours"]
    # Typed in Europe/Paris (UTC+2 in July).
    assert sharing.start_at == dt.datetime(2026, 7, 15, 6, tzinfo=UTC)
    assert sharing.end_at == dt.datetime(2026, 8, 15, 16, tzinfo=UTC)


def test_create_for_a_known_recipient_in_one_sharing(client, owner_admin, owner_org, beneficiary_admin, now):
    machines = [MachineFactory(organisation=owner_org) for _ in range(2)]
    client.force_login(owner_admin)
    response = client.post(
        "/sharings/new/",
        {
            "recipient_email": beneficiary_admin.email,
            "start_at": "2026-07-12T08:00",
            "machines": [str(machine.pk) for machine in machines],
            "data_packs": ["essential"],
        },
    )
    sharing = Sharing.objects.get()
    assert response.status_code == 302
    assert response.url == detail(sharing)
    assert sharing.beneficiary == beneficiary_admin.organisation
    assert sharing.status == SharingStatus.IN_PROGRESS
    assert sharing.notification_enabled is False  # the switch was left off
    assert sharing.machines.count() == 2


def test_create_errors_are_shown_next_to_their_fields_and_nothing_is_lost(client, owner_admin, owner_org, now):
    machine = MachineFactory(organisation=owner_org)
    client.force_login(owner_admin)
    response = client.post(
        "/sharings/new/",
        {
            "recipient_email": "nobody@unknown.example",
            "start_at": "2026-07-12T08:00",
            "end_at": "2026-07-01T08:00",
            "reference": "TYPED-REF",
            "customer": "Typed customer",
            "machines": [str(machine.pk)],
            "data_packs": ["essential"],
        },
    )
    assert response.status_code == 400
    form = response.context["form"]
    # Every refusal of the service at once, each on its field.
    assert list(form.errors) == ["recipient_organisation_name", "end_at"]
    content = response.content.decode()
    assert 'value="TYPED-REF"' in content
    assert 'value="Typed customer"' in content
    assert f'value="{machine.pk}" checked' in content

    response = client.post(
        "/sharings/new/",
        {
            "recipient_email": "nobody@unknown.example",
            "recipient_organisation_name": "Unknown Ltd",
            "start_at": "2026-07-12T08:00",
            "end_at": "2026-07-01T08:00",
            "machines": [str(machine.pk)],
            "data_packs": ["essential"],
        },
    )
    assert response.context["form"].errors["end_at"] == ["The end must be after the start."]
    assert not Sharing.objects.exists()


def test_an_empty_create_form_names_every_missing_field_at_once(client, owner_admin, owner_org, now):
    MachineFactory(organisation=owner_org)
    client.force_login(owner_admin)
    response = client.post("/sharings/new/", {"start_at": "", "notification_enabled": "on"})
    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors == {
        "recipient_email": ["This field is required."],
        "machines": ["Choose at least one machine."],
        "start_at": ["This field is required."],
        "data_packs": ["Choose at least one data pack."],
    }
    summary = response.context["error_summary"]
    assert [(item["anchor"], item["label"]) for item in summary] == [
        ("id_recipient_email", "Recipient's e-mail"),
        ("machine-picker", "Machines"),
        ("id_start_at", "Start"),
        ("id_data_packs_0", "Data packs"),
    ]  # in the page's order
    content = response.content.decode()
    # The summary takes focus (static/js/portal.js) and links to each field.
    assert 'id="error-summary" role="group" aria-labelledby="error-summary-title" tabindex="-1" data-focus' in content
    assert "4 things to correct before going on" in content
    for anchor, _label in [(item["anchor"], item["label"]) for item in summary]:
        assert f'href="#{anchor}"' in content
    # Each invalid field says so and points at its error.
    assert 'aria-describedby="recipient-help id_recipient_email_error" aria-invalid="true"' in content
    assert 'id="id_recipient_email_error"' in content
    assert 'name="start_at" value="" required aria-invalid="true" aria-describedby="id_start_at_error"' in content
    assert 'id="id_start_at_error"' in content
    assert 'aria-describedby="machines-error"' in content
    assert 'id="machines-error"' in content
    assert 'aria-describedby="id_data_packs_error"' in content
    assert 'id="id_data_packs_error"' in content
    assert not Sharing.objects.exists()


def test_the_form_and_the_api_refuse_the_same_things(client, owner_admin, owner_org, now):
    """The form's errors are the service's checks: the API, given the same empty input, names the same fields."""
    from accounts.actors import Actor
    from sharing import services

    refusals = services.sharing_create_refusals(
        actor=Actor.for_user(owner_admin), machine_ids=[], recipient_email="", start_at=None, data_packs=[]
    )
    assert [(error.code, error.field) for error in refusals] == [
        ("machines_required", "machines"),
        ("invalid_email", "recipient_email"),
        ("start_required", "start_at"),
        ("data_packs_required", "data_packs"),
    ]
    with pytest.raises(services.InvalidInput) as raised:
        services.sharing_create(
            actor=Actor.for_user(owner_admin), machine_ids=[], recipient_email="", start_at=None, data_packs=[]
        )
    assert raised.value.code == "machines_required"  # the first, as before
    assert [error.field for error in raised.value.also] == ["recipient_email", "start_at", "data_packs"]


def test_required_fields_are_marked(client, owner_admin, owner_org, now):
    client.force_login(owner_admin)
    content = client.get("/sharings/new/").content.decode()
    assert "Fields marked * are required." in content
    assert content.count('class="is-required"') == 2  # e-mail, start: app.css draws their asterisk
    assert '<input type="email" name="recipient_email"' in content
    assert 'name="start_at"' in content
    assert "required" in content.split('name="start_at"')[1].split(">")[0]
    assert content.count("(at least one)") == 2  # machines, data packs


def test_overlap_is_a_warning_not_a_refusal(client, owner_admin, running, beneficiary_admin, outsider_admin):
    machine = running.machines.get()
    client.force_login(owner_admin)
    warning = client.get(
        "/sharings/new/overlaps/",
        {"machines": [str(machine.pk)], "start_at": "2026-07-20T08:00", "end_at": ""},
        **HTMX,
    )
    assert b"already shared over this period" in warning.content
    assert b"CTR-RUNNING" in warning.content
    response = client.post(
        "/sharings/new/",
        {
            "recipient_email": outsider_admin.email,
            "start_at": "2026-07-20T08:00",
            "machines": [str(machine.pk)],
            "data_packs": ["essential"],
        },
        follow=True,
    )
    assert Sharing.objects.count() == 2
    assert "also shared with others over the same period" in response.content.decode()


def test_contact_typeahead_searches_the_organisations_contacts(client, owner_admin, owner_org, outsider_org, now):
    mine = ContactFactory(organisation=owner_org, email="site@atlantic.example", organisation_name="Atlantic")
    ContactFactory(organisation=outsider_org, email="site@atlantis.example")
    client.force_login(owner_admin)
    content = client.get("/sharings/new/contacts/", {"recipient_email": "atlant"}, **HTMX).content.decode()
    assert "site@atlantic.example" in content
    assert "site@atlantis.example" not in content
    picked = client.get(f"/sharings/new/contacts/{mine.pk}/", **HTMX).content.decode()
    assert 'value="site@atlantic.example"' in picked
    assert 'value="Atlantic"' in picked


def test_contact_of_another_organisation_is_not_found(client, owner_admin, outsider_org, now):
    theirs = ContactFactory(organisation=outsider_org)
    client.force_login(owner_admin)
    assert client.get(f"/sharings/new/contacts/{theirs.pk}/").status_code == 404


# --- editing, stopping, deleting ------------------------------------------------------------------------------------


def test_edit_form_locks_the_start_of_a_running_sharing_with_the_reason(client, owner_admin, running):
    client.force_login(owner_admin)
    response = client.get(detail(running, "edit"), **HTMX)
    content = response.content.decode()
    assert content.lstrip().startswith('<div id="sharing">')
    assert "The start is in the past and can no longer be changed." in content
    assert "The data packs can no longer be changed: the sharing has started." in content
    assert 'name="end_at"' in content
    assert 'name="start_at"' not in content


def test_edit_changes_the_end_date_in_place(client, owner_admin, running):
    client.force_login(owner_admin)
    response = client.post(
        detail(running, "edit"),
        {
            "end_at": "2026-08-10T18:00",
            "reference": "CTR-RUNNING",
            "recipient_email": running.recipient_email,
            "customer": "BuildCo",
            "site": "Part-Dieu",
            "notification_enabled": "on",
        },
        **HTMX,
    )
    assert response.status_code == 200
    assert b"Sharing updated." in response.content
    running.refresh_from_db()
    assert running.end_at == dt.datetime(2026, 8, 10, 16, tzinfo=UTC)
    assert running.properties["legacyCode"] == "X9"  # keys without a field are kept
    event = AuditEvent.objects.filter(target_id=running.pk, action=AuditAction.UPDATED).get()
    assert [change["field"] for change in event.changes] == ["end_at"]
    assert b"End" in response.content
    assert b"10 Aug 2026, 18:00" in response.content


def test_edit_refusal_is_shown_next_to_the_field(client, owner_admin, running):
    client.force_login(owner_admin)
    response = client.post(
        detail(running, "edit"),
        {"end_at": "2026-07-10T08:00", "recipient_email": running.recipient_email, "notification_enabled": "on"},
        **HTMX,
    )
    assert response.status_code == 400
    assert response.context["form"].errors["end_at"] == ["The new end must be in the future."]
    running.refresh_from_db()
    assert running.end_at == dt.datetime(2026, 7, 30, tzinfo=UTC)


def test_stop_asks_for_confirmation_then_stops(client, owner_admin, running):
    client.force_login(owner_admin)
    confirm = client.get(detail(running, "stop"), **HTMX)
    assert b"Stop this sharing now?" in confirm.content
    running.refresh_from_db()
    assert running.stopped_at is None
    response = client.post(detail(running, "stop"), **HTMX)
    assert response.status_code == 200
    running.refresh_from_db()
    assert running.status == SharingStatus.STOPPED
    assert running.stopped_at == NOW
    assert b"Sharing stopped." in response.content
    # Stopping again says why not.
    again = client.post(detail(running, "stop"), **HTMX)
    assert again.status_code == 409
    assert b"already ended" in again.content


def test_stopping_before_the_start_says_nothing_was_shared_and_empties_the_fleet(
    client, owner_admin, beneficiary_admin, scheduled
):
    (machine,) = scheduled.machines.all()
    client.force_login(beneficiary_admin)
    assert client.get(reverse("fleet:machine", args=[machine.pk])).status_code == 200  # shown before the start
    client.force_login(owner_admin)

    confirm = client.get(detail(scheduled, "stop"), **HTMX).content.decode()
    response = client.post(detail(scheduled, "stop"), **HTMX).content.decode()

    assert "keeps the history" not in confirm + response
    assert "It has not started: nothing is shared" in confirm
    assert "Sharing stopped before it started: nothing was shared." in response
    client.force_login(beneficiary_admin)
    assert machine.serial_number not in client.get(reverse("fleet:machines")).content.decode()
    assert client.get(reverse("fleet:machine", args=[machine.pk])).status_code == 404
    # The sharing's page, which the beneficiary still sees as stopped, names the machine without a dead link.
    page = client.get(detail(scheduled)).content.decode()
    assert machine.serial_number in page
    assert reverse("fleet:machine", args=[machine.pk]) not in page


def test_a_machine_another_sharing_brings_stays_in_the_fleet(
    client, owner_admin, beneficiary_admin, admin_actor, scheduled, now
):
    (machine,) = scheduled.machines.all()
    sharing_create(
        actor=admin_actor,
        machine_ids=[machine.pk],
        recipient_email=beneficiary_admin.email,
        start_at=dt.datetime(2026, 9, 1, tzinfo=UTC),
        reference="CTR-LATER",
    )
    client.force_login(owner_admin)
    client.post(detail(scheduled, "stop"), **HTMX)

    client.force_login(beneficiary_admin)
    assert machine.serial_number in client.get(reverse("fleet:machines")).content.decode()


def test_a_sharing_page_links_its_machines(client, owner_admin, beneficiary_admin, running, machine):
    for user in (owner_admin, beneficiary_admin):
        client.force_login(user)
        page = client.get(detail(running)).content.decode()
        assert f'href="{reverse("fleet:machine", args=[machine.pk])}"' in page


def test_delete_only_when_nothing_was_exposed(client, owner_admin, running, scheduled):
    client.force_login(owner_admin)
    refused = client.post(detail(running, "delete"), **HTMX)
    assert refused.status_code == 409
    assert b"stop it instead" in refused.content
    assert Sharing.objects.filter(pk=running.pk).exists()

    assert b"Delete this sharing?" in client.get(detail(scheduled, "delete"), **HTMX).content
    response = client.post(detail(scheduled, "delete"), **HTMX)
    assert response.status_code == 200
    assert response["HX-Redirect"] == "/"
    assert not Sharing.objects.filter(pk=scheduled.pk).exists()


# --- received machines and workspaces ------------------------------------------------------------------------------


def test_received_machines_are_listed_renamed_and_placed(client, beneficiary_admin, beneficiary_org, running):
    received = ReceivedMachine.objects.get(organisation=beneficiary_org)
    site = WorkspaceFactory(organisation=beneficiary_org, name="Part-Dieu site")
    client.force_login(beneficiary_admin)
    listing = client.get("/fleet/").content.decode()
    assert received.machine.default_display_name in listing
    url = reverse("received:edit", args=[received.pk])
    assert b'name="name"' in client.get(url, **HTMX).content
    response = client.post(url, {"name": "Big digger", "workspaces": [str(site.pk)]}, **HTMX)
    assert response.status_code == 200
    assert response.content.decode().lstrip().startswith(f'<tr id="received-{received.pk}"')
    received.refresh_from_db()
    assert received.name == "Big digger"
    assert list(received.workspaces.all()) == [site]


def test_received_machine_rename_refusals(client, beneficiary_admin, beneficiary_org, owner_admin, running):
    received = ReceivedMachine.objects.get(organisation=beneficiary_org)
    url = reverse("received:edit", args=[received.pk])
    client.force_login(beneficiary_admin)
    blank = client.post(url, {"name": "  "}, **HTMX)
    assert blank.status_code == 400
    assert client.post(url, {"name": "Secret site name"}, **HTMX).status_code == 200
    # The owner (another organisation to this row) gets 404 and never sees the beneficiary's names.
    client.force_login(owner_admin)
    assert client.post(url, {"name": "Mine now"}).status_code == 404
    assert b"Secret site name" not in client.get("/fleet/").content
    assert b"Secret site name" not in client.get(detail(running)).content


def test_members_may_rename_received_machines(client, beneficiary_org, running):
    member = UserFactory(organisation=beneficiary_org)
    received = ReceivedMachine.objects.get(organisation=beneficiary_org)
    client.force_login(member)
    response = client.post(reverse("received:edit", args=[received.pk]), {"name": "Renamed"})
    assert response.status_code == 302
    received.refresh_from_db()
    assert received.name == "Renamed"


def test_workspaces_are_managed_by_admins(client, owner_admin, owner_member, owner_org, outsider_org, now):
    client.force_login(owner_admin)
    assert client.post("/fleet/workspaces/new/", {"name": "Lyon depot"}).status_code == 302
    workspace = owner_org.workspaces.get()
    duplicate = client.post("/fleet/workspaces/new/", {"name": "Lyon depot"})
    assert duplicate.status_code == 400
    assert b"already exists" in duplicate.content
    rename = reverse("fleet:workspace_rename", args=[workspace.pk])
    assert client.post(rename, {"name": "Lyon east"}, **HTMX).status_code == 200
    workspace.refresh_from_db()
    assert workspace.name == "Lyon east"

    client.force_login(owner_member)
    assert client.get("/fleet/workspaces/").status_code == 200
    assert client.post("/fleet/workspaces/new/", {"name": "Other"}).status_code == 403
    assert client.post(rename, {"name": "Member's"}).status_code == 403
    assert client.post(reverse("fleet:workspace_delete", args=[workspace.pk])).status_code == 403

    theirs = WorkspaceFactory(organisation=outsider_org)
    client.force_login(owner_admin)
    assert client.post(reverse("fleet:workspace_rename", args=[theirs.pk]), {"name": "x"}).status_code == 404
    assert client.post(reverse("fleet:workspace_delete", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("fleet:workspace_delete", args=[workspace.pk])).status_code == 302
    assert not owner_org.workspaces.exists()


def test_sharing_factory_rows_show_in_the_list(client, owner_admin, owner_org, beneficiary_org, now):
    SharingFactory(owner=owner_org, beneficiary=beneficiary_org, reference="FACTORY-ROW")
    client.force_login(owner_admin)
    assert b"FACTORY-ROW" in client.get("/").content


def test_actor_of_the_view_is_the_logged_in_user(client, owner_admin, owner_org, beneficiary_admin, now):
    machine = MachineFactory(organisation=owner_org)
    client.force_login(owner_admin)
    client.post(
        "/sharings/new/",
        {
            "recipient_email": beneficiary_admin.email,
            "start_at": "2026-07-12T08:00",
            "machines": [str(machine.pk)],
            "data_packs": ["essential"],
        },
    )
    sharing = Sharing.objects.get()
    assert sharing.sender == owner_admin
    assert AuditEvent.objects.get(target_id=sharing.pk).actor_label == Actor.for_user(owner_admin).label
