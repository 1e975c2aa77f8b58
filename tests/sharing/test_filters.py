"""The sharings FilterSet, filter by filter. It always starts from what the organisation owns or receives."""

import datetime as dt

import pytest
from django.http import QueryDict
from django.utils import timezone

from sharing.filters import SharingFilterSet
from sharing.lifecycle import SharingStatus
from sharing.models import ReceivedMachine
from tests.factories import MachineFactory, OrganisationFactory, SharingFactory, WorkspaceFactory

UTC = dt.UTC
NOW = dt.datetime(2026, 7, 12, 9, 0, tzinfo=UTC)


def day(month, day_, hour=0):
    return dt.datetime(2026, month, day_, hour, tzinfo=UTC)


@pytest.fixture
def rows(frozen, owner_org, beneficiary_org, outsider_org):
    """Six sharings of the owner (and one it receives, one it has nothing to do with), at 12 July 2026."""
    frozen(NOW)
    excavator = MachineFactory(organisation=owner_org, make="Caterpillar", model="320 GC", serial_number="CAT01")
    crane = MachineFactory(organisation=owner_org, make="Liebherr", model="LTM 1060", serial_number="LHB01")
    loader = MachineFactory(organisation=owner_org, make="Volvo", model="L60H", serial_number="VOL01")
    theirs = MachineFactory(organisation=beneficiary_org, make="JCB", model="540-180", serial_number="JCB01")

    def sharing(reference, machines, **fields):
        fields.setdefault("owner", owner_org)
        fields.setdefault("beneficiary", beneficiary_org)
        return SharingFactory(reference=reference, machines=machines, **fields)

    made = {
        "running": sharing("CTR-1", [excavator, crane], start_at=day(7, 1), end_at=day(7, 30)),
        "upcoming": sharing("CTR-2", [crane], start_at=day(8, 1), end_at=day(8, 31)),
        "pending": sharing(
            "PO-3",
            [loader],
            beneficiary=None,
            recipient_email="new@newco.example",
            recipient_organisation_name="Newco",
            start_at=day(7, 5),
        ),
        "ended": sharing("CTR-4", [excavator], start_at=day(5, 1), end_at=day(6, 1)),
        "stopped": sharing("CTR-5", [loader], start_at=day(6, 20), end_at=day(9, 1), stopped_at=day(7, 2)),
        "open": sharing("CTR-6", [loader], start_at=day(3, 1), recipient_email="site@buildco.example"),
        "incoming": sharing("IN-7", [theirs], owner=beneficiary_org, beneficiary=owner_org, start_at=day(7, 1)),
        "unrelated": sharing("CTR-1", [theirs], owner=beneficiary_org, beneficiary=outsider_org, start_at=day(7, 1)),
    }
    made["machines"] = {"excavator": excavator, "crane": crane, "loader": loader, "theirs": theirs}
    return made


def filtered(organisation, query=""):
    with timezone.override("Europe/Paris"):
        filterset = SharingFilterSet(QueryDict(query), organisation=organisation)
        return {sharing.reference for sharing in filterset.qs}


def test_no_filter_gives_what_the_organisation_owns_or_receives(rows, owner_org):
    assert filtered(owner_org) == {"CTR-1", "CTR-2", "PO-3", "CTR-4", "CTR-5", "CTR-6", "IN-7"}


def test_direction(rows, owner_org, beneficiary_org):
    assert filtered(owner_org, "direction=incoming") == {"IN-7"}
    assert "IN-7" not in filtered(owner_org, "direction=outgoing")
    assert filtered(beneficiary_org, "direction=incoming") == {"CTR-1", "CTR-2", "CTR-4", "CTR-5", "CTR-6"}


def test_status_one_or_several(rows, owner_org):
    assert filtered(owner_org, "status=pending") == {"PO-3"}
    assert filtered(owner_org, "status=stopped&status=terminated") == {"CTR-4", "CTR-5"}
    assert filtered(owner_org, f"direction=outgoing&status={SharingStatus.IN_PROGRESS}") == {"CTR-1", "CTR-6"}


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("ctr-2", {"CTR-2"}),  # reference
        ("newco.example", {"PO-3"}),  # recipient e-mail
        ("NEWCO", {"PO-3"}),  # recipient organisation
        ("liebherr", {"CTR-1", "CTR-2"}),  # machine make
        ("320 gc", {"CTR-1", "CTR-4"}),  # machine model
        ("VOL01", {"PO-3", "CTR-5", "CTR-6"}),  # serial number
        ("nothing like it", set()),
    ],
)
def test_search(rows, owner_org, q, expected):
    assert filtered(owner_org, f"direction=outgoing&q={q}") == expected


def test_search_lists_a_sharing_once_even_when_several_machines_match(rows, owner_org):
    with timezone.override("Europe/Paris"):
        references = [
            sharing.reference
            for sharing in SharingFilterSet(QueryDict("q=01"), organisation=owner_org).qs.filter(reference="CTR-1")
        ]
    assert references == ["CTR-1"]


def test_search_finds_received_machines_by_the_name_the_beneficiary_gave(rows, owner_org):
    ReceivedMachine.objects.filter(organisation=owner_org).update(name="Big J")
    assert filtered(owner_org, "q=big j") == {"IN-7"}


def test_search_finds_received_machines_by_what_they_are_and_never_lists_others_sharings_of_them(rows, owner_org):
    """The JCB is received by the owner organisation (IN-7) and by an outsider (the other CTR-1): the machine matches
    both, the list holds only the first."""
    assert filtered(owner_org, "q=jcb") == {"IN-7"}
    assert filtered(owner_org, "q=540-180&direction=outgoing") == set()


def test_search_finds_the_owner_by_name(rows, owner_org, beneficiary_org):
    assert filtered(owner_org, f"direction=incoming&q={beneficiary_org.name.upper()}") == {"IN-7"}


def test_search_and_the_other_filters_narrow_each_other(rows, owner_org):
    assert filtered(owner_org, "q=VOL01&status=stopped") == {"CTR-5"}
    assert filtered(owner_org, "q=ctr&period=upcoming") == {"CTR-2"}


@pytest.mark.django_db
def test_the_searched_columns_have_trigram_indexes_on_postgresql():
    """What the search's speed rests on (docs/benchmarks.md): one GIN trigram index per searched column on
    PostgreSQL, none on SQLite, which has no such index."""
    from django.db import connection

    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE '%trgm'")
            assert cursor.fetchall() == []
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE '%%_trgm' ORDER BY indexname")
        names = [name for (name,) in cursor.fetchall()]
    assert names == [
        "accounts_organisation_name_trgm",
        "fleet_machine_make_trgm",
        "fleet_machine_model_trgm",
        "fleet_machine_serial_number_trgm",
        "sharing_receivedmachine_name_trgm",
        "sharing_sharing_recipient_email_trgm",
        "sharing_sharing_recipient_organisation_name_trgm",
        "sharing_sharing_reference_trgm",
    ]


@pytest.mark.parametrize("ordering", ["", "end", "-end", "reference", "-status", "start"])
def test_both_directions_merged_page_by_page_match_the_databases_own_order(rows, owner_org, ordering):
    """The API's list of both directions reads each side in order and merges them (selectors say why): page by page
    it must be what the database would give for the whole list, NULL end dates included, on SQLite and PostgreSQL."""
    from sharing.selectors import sharings_page_of_both_directions

    def qs(direction=""):
        query = QueryDict(mutable=True)
        if direction:
            query["direction"] = direction
        if ordering:
            query["ordering"] = ordering
        return SharingFilterSet(query, organisation=owner_org).qs

    expected = [sharing.pk for sharing in qs()]
    pages = [
        sharings_page_of_both_directions(qs("outgoing"), qs("incoming"), offset=offset, limit=3)
        for offset in (0, 3, 6, 9)
    ]
    assert {total for total, _rows in pages} == {len(expected)} == {7}
    assert [sharing_id for _total, page in pages for sharing_id in page] == expected


def test_period(rows, owner_org):
    assert filtered(owner_org, "direction=outgoing&period=current") == {"CTR-1", "PO-3", "CTR-6"}
    assert filtered(owner_org, "direction=outgoing&period=upcoming") == {"CTR-2"}
    assert filtered(owner_org, "direction=outgoing&period=past") == {"CTR-4", "CTR-5"}


def test_date_range_keeps_windows_that_overlap_it(rows, owner_org):
    # 15–20 August: the upcoming one and the open-ended ones run then (the stopped one ended 2 July).
    assert filtered(owner_org, "direction=outgoing&date_from=2026-08-15&date_to=2026-08-20") == {
        "CTR-2",
        "PO-3",
        "CTR-6",
    }
    # Up to 1 May (a whole day, in the organisation's time zone): the ended one starts that day.
    assert filtered(owner_org, "direction=outgoing&date_to=2026-05-01") == {"CTR-4", "CTR-6"}
    # From 2 July: the stopped one stopped that day at midnight UTC, which is still 2 July in Paris.
    assert "CTR-5" in filtered(owner_org, "direction=outgoing&date_from=2026-07-02")
    assert "CTR-5" not in filtered(owner_org, "direction=outgoing&date_from=2026-07-03")


def test_workspace_of_own_and_of_received_machines(rows, owner_org, outsider_org):
    depot = WorkspaceFactory(organisation=owner_org, name="Depot")
    rows["machines"]["crane"].workspaces.add(depot)
    ReceivedMachine.objects.get(organisation=owner_org).workspaces.add(depot)
    assert filtered(owner_org, f"workspace={depot.pk}") == {"CTR-1", "CTR-2", "IN-7"}
    # Another organisation's workspace is not a valid choice: the filter is ignored, never applied.
    theirs = WorkspaceFactory(organisation=outsider_org)
    filterset = SharingFilterSet(QueryDict(f"workspace={theirs.pk}"), organisation=owner_org)
    assert not filterset.is_valid()


def test_reference_is_exact(rows, owner_org):
    assert filtered(owner_org, "reference=CTR-1") == {"CTR-1"}
    assert filtered(owner_org, "reference=CTR") == set()


def test_asset_id(rows, owner_org):
    assert filtered(owner_org, f"asset_id={rows['machines']['crane'].pk}") == {"CTR-1", "CTR-2"}


def test_recipient(rows, owner_org):
    assert filtered(owner_org, "recipient=SITE@buildco.example") == {"CTR-6"}


@pytest.mark.parametrize(
    ("ordering", "first", "last"),
    [
        ("start", "CTR-6", "CTR-2"),
        ("-start", "CTR-2", "CTR-6"),
        ("reference", "CTR-1", "PO-3"),
    ],
)
def test_ordering(rows, owner_org, ordering, first, last):
    with timezone.override("Europe/Paris"):
        qs = SharingFilterSet(QueryDict(f"direction=outgoing&ordering={ordering}"), organisation=owner_org).qs
        references = [sharing.reference for sharing in qs]
    assert references[0] == first
    assert references[-1] == last


def test_ordering_by_end(rows, owner_org):
    with timezone.override("Europe/Paris"):
        qs = SharingFilterSet(QueryDict("direction=outgoing&ordering=-end"), organisation=owner_org).qs
        # SQLite and PostgreSQL place empty ends differently: only the dated ones are compared.
        references = [sharing.reference for sharing in qs if sharing.end_at is not None]
    assert references == ["CTR-5", "CTR-2", "CTR-1", "CTR-4"]


def test_ordering_by_status_and_creation(rows, owner_org):
    with timezone.override("Europe/Paris"):
        by_status = SharingFilterSet(QueryDict("direction=outgoing&ordering=status"), organisation=owner_org).qs
        assert [sharing.status for sharing in by_status] == sorted(sharing.status for sharing in by_status)
        by_created = SharingFilterSet(QueryDict("direction=outgoing&ordering=created"), organisation=owner_org).qs
        assert len(list(by_created)) == 6


def test_other_organisations_never_appear(rows, outsider_org):
    assert filtered(outsider_org) == {"CTR-1"}  # only the outsider's own incoming one
    assert filtered(OrganisationFactory()) == set()


def test_a_range_that_ends_before_it_starts_is_refused_next_to_its_second_date(rows, owner_org):
    filterset = SharingFilterSet(
        QueryDict("direction=outgoing&date_from=2026-08-20&date_to=2026-08-15"), organisation=owner_org
    )

    assert not filterset.is_valid()
    assert list(filterset.errors) == ["date_to"]
    # The list keeps the first date's filter, never an empty list or every sharing with no word.
    assert {sharing.reference for sharing in filterset.qs} == {"CTR-2", "PO-3", "CTR-6"}


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_share_centre_says_the_range_is_backwards_beside_the_field(client, owner_admin, language):
    client.force_login(owner_admin)
    client.cookies["django_language"] = language

    response = client.get("/", {"date_from": "2026-08-20", "date_to": "2026-08-15"})

    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="filter-to" name="date_to" value="2026-08-15" aria-invalid="true"' in page
    expected = {"en": "This date is before the first one", "fr": "Cette date précède la première"}[language]
    assert f'<ul class="errorlist" id="filter-to-error"><li>{expected}' in page
