"""The share centre's Timeline view: the filtered sharings machine by machine (one row per machine, a bar per sharing
coloured by status and labelled with the reference and the other side, today marked), the List / Timeline switch that
keeps the filters, the period shown and its navigation, the pages of machines, the cap on bars per machine,
authorization and a pinned query count."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import formats

from sharing import timeline as sharing_timeline
from sharing.models import ReceivedMachine
from sharing.timeline import TIMELINE_MACHINES_PER_PAGE as PER_PAGE
from tests.factories import MachineFactory, SharingFactory, UserFactory

UTC = dt.UTC
NOW = dt.datetime(2025, 3, 20, 12, tzinfo=UTC)
HTMX = {"HTTP_HX_REQUEST": "true"}
DAY = dt.timedelta(days=1)


@pytest.fixture
def sharings(frozen, owner_org, beneficiary_org, outsider_org):
    """Two machines of Rent & Go: the excavator shared with BuildCo (ended, then running), the dumper with Quarry
    (scheduled)."""
    frozen(NOW)
    excavator = MachineFactory(organisation=owner_org, model="320 GC")
    dumper = MachineFactory(organisation=owner_org, make="Volvo", model="A30G")
    return {
        "excavator": excavator,
        "dumper": dumper,
        "ended": SharingFactory(
            owner=owner_org,
            beneficiary=beneficiary_org,
            machines=[excavator],
            reference="CTR-1",
            start_at=NOW - 40 * DAY,
            end_at=NOW - 10 * DAY,
        ),
        "running": SharingFactory(
            owner=owner_org, beneficiary=beneficiary_org, machines=[excavator], reference="CTR-2", start_at=NOW - DAY
        ),
        "scheduled": SharingFactory(
            owner=owner_org, beneficiary=outsider_org, machines=[dumper], reference="Q-9", start_at=NOW + 5 * DAY
        ),
    }


def test_owner_sees_one_row_per_machine_and_a_bar_per_sharing(client, owner_admin, sharings):
    client.force_login(owner_admin)
    response = client.get("/", {"view": "timeline"})
    assert response.status_code == 200
    timeline = response.context["timeline"]
    assert (timeline["machines"], timeline["first"], timeline["last"], timeline["next_page"]) == (2, 1, 2, None)
    svg = str(timeline["svg"])
    assert svg.count('class="timeline-row"') == 2
    assert svg.count("timeline-bar timeline-terminated") == 1
    assert svg.count("timeline-bar timeline-in_progress") == 1
    assert svg.count("timeline-bar timeline-scheduled") == 1
    assert "CTR-1 · BuildCo" in svg
    assert "CTR-2 · BuildCo" in svg
    assert "Q-9 · Quarry Ltd" in svg
    assert 'class="timeline-today"' in svg
    assert f'href="/sharings/{sharings["running"].pk}/"' in svg
    content = response.content.decode()
    assert "Export CSV" not in content  # the List view's
    assert '<input type="hidden" name="view" value="timeline">' in content  # the filter form keeps the view


def test_the_timeline_uses_the_list_filters(client, owner_admin, sharings):
    client.force_login(owner_admin)
    svg = str(client.get("/", {"view": "timeline", "status": "in_progress"}).context["timeline"]["svg"])
    assert svg.count('class="timeline-row"') == 1
    assert "CTR-2" in svg
    assert "CTR-1" not in svg
    svg = str(client.get("/", {"view": "timeline", "q": "Q-9"}).context["timeline"]["svg"])
    assert "Q-9" in svg
    assert "CTR-" not in svg
    empty = client.get("/", {"view": "timeline", "q": "nothing like this"})
    assert empty.context["timeline"] is None
    assert "No sharing matches these filters" in empty.content.decode()


def test_a_sharing_of_two_machines_is_one_bar_on_each_row_whatever_the_filters(
    client, owner_admin, owner_org, beneficiary_org, sharings
):
    pair = SharingFactory(
        owner=owner_org,
        beneficiary=beneficiary_org,
        machines=[sharings["excavator"], sharings["dumper"]],
        reference="PAIR-1",
        start_at=NOW - 2 * DAY,
    )
    client.force_login(owner_admin)
    for filters in ({}, {"q": "PAIR-1"}, {"q": "A30G"}, {"status": "in_progress"}):
        svg = str(client.get("/", {"view": "timeline", **filters}).context["timeline"]["svg"])
        assert svg.count(f'href="/sharings/{pair.pk}/"') == 2, filters  # the excavator's row and the dumper's
        assert svg.count('class="timeline-row"') == 2, filters


def test_the_beneficiary_sees_its_names_and_the_owner(client, beneficiary_admin, beneficiary_org, sharings):
    ReceivedMachine.objects.filter(organisation=beneficiary_org).update(name="Big yellow digger")
    client.force_login(beneficiary_admin)
    svg = str(client.get("/", {"view": "timeline", "direction": "incoming"}).context["timeline"]["svg"])
    assert svg.count('class="timeline-row"') == 1  # the dumper went to Quarry, not to BuildCo
    assert "Big yellow digger" in svg
    assert "CTR-2 · Rent &amp; Go" in svg
    assert "Q-9" not in svg


def test_the_switch_keeps_the_filters_and_htmx_pushes_the_address(client, owner_admin, sharings):
    client.force_login(owner_admin)
    response = client.get("/", {"view": "timeline", "q": "CTR", "period": "", "workspace": ""}, **HTMX)
    content = response.content.decode()
    assert "<html" not in content
    assert response["HX-Push-Url"] == "/?view=timeline&q=CTR"
    list_link = content.split('<nav class="view-switch"')[1].split("</a>")[0]
    assert "q=CTR" in list_link
    assert "view=" not in list_link
    listing = client.get("/", {"q": "CTR"}).content.decode()
    assert 'href="/?q=CTR&amp;view=timeline"' in listing


def test_the_machines_come_a_page_at_a_time(client, owner_admin, sharings, monkeypatch):
    monkeypatch.setattr(sharing_timeline, "TIMELINE_MACHINES_PER_PAGE", 1)
    client.force_login(owner_admin)
    first = client.get("/", {"view": "timeline"})
    timeline = first.context["timeline"]
    assert (timeline["machines"], timeline["previous_page"], timeline["next_page"]) == (1, None, 2)
    assert "Q-9" not in str(timeline["svg"])  # the excavator (Caterpillar) comes before the dumper (Volvo)
    assert "Next machines" in first.content.decode()
    second = client.get("/", {"view": "timeline", "page": "2"})
    timeline = second.context["timeline"]
    assert (timeline["first"], timeline["previous_page"], timeline["next_page"]) == (2, 1, None)
    assert "Q-9" in str(timeline["svg"])
    assert "Previous machines" in second.content.decode()
    for page in ("0", "-3", "two", "99999999999999999999"):
        assert client.get("/", {"view": "timeline", "page": page}).context["timeline"]["first"] == 1


def test_the_timeline_shows_a_period_and_moves_through_time(client, owner_admin, owner_org, beneficiary_org, sharings):
    """Three months either side of today by default; the date filters choose another; Earlier and Later move by the
    period's length. A sharing outside the period is not drawn: nothing before it is read."""
    old = SharingFactory(
        owner=owner_org,
        beneficiary=beneficiary_org,
        machines=[sharings["dumper"]],
        reference="OLD-1",
        start_at=NOW - 300 * DAY,
        end_at=NOW - 250 * DAY,
    )
    client.force_login(owner_admin)
    response = client.get("/", {"view": "timeline"})
    period = response.context["period_nav"]["period"]
    assert (period.first, period.last) == (dt.date(2024, 12, 19), dt.date(2025, 6, 19))
    assert "OLD-1" not in str(response.context["timeline"]["svg"])
    content = response.content.decode()
    assert "date_from=2024-06-19&amp;date_to=2024-12-18" in content  # Earlier: the 183 days before
    assert "date_from=2025-06-20&amp;date_to=2025-12-19" in content  # Later
    earlier = client.get("/", {"view": "timeline", "date_from": "2024-06-19", "date_to": "2024-12-18"})
    svg = str(earlier.context["timeline"]["svg"])
    assert f'href="/sharings/{old.pk}/"' in svg
    assert "CTR-" not in svg
    assert "Around today" in earlier.content.decode()
    empty = client.get("/", {"view": "timeline", "date_from": "2020-01-01", "date_to": "2020-02-01"})
    assert empty.context["timeline"] is None
    assert "date_from=2019-11-30&amp;date_to=2019-12-31" in empty.content.decode()  # still a way back and forth


@pytest.mark.parametrize(
    ("date_from", "date_to", "first", "last"),
    [
        (None, None, dt.date(2025, 12, 20), dt.date(2026, 6, 20)),
        (dt.date(2026, 1, 1), dt.date(2026, 1, 31), dt.date(2026, 1, 1), dt.date(2026, 1, 31)),
        (dt.date(2026, 1, 1), None, dt.date(2026, 1, 1), dt.date(2026, 7, 2)),
        (None, dt.date(2026, 1, 1), dt.date(2025, 7, 3), dt.date(2026, 1, 1)),
        (dt.date(2026, 2, 1), dt.date(2026, 1, 1), dt.date(2026, 2, 1), dt.date(2026, 2, 1)),
    ],
)
def test_the_period_of_the_filters(date_from, date_to, first, last):
    today = dt.date(2026, 3, 21)
    period = sharing_timeline.TimelinePeriod.of_filters(date_from=date_from, date_to=date_to, today=today)
    assert (period.first, period.last) == (first, last)
    earlier, later = period.earlier(), period.later()
    assert (earlier.last, earlier.last - earlier.first) == (first - DAY, last - first)
    assert (later.first, later.last - later.first) == (last + DAY, last - first)


def test_the_bars_of_a_machine_are_capped_to_its_most_recent_sharings_and_it_says_so(
    client, owner_admin, sharings, monkeypatch
):
    monkeypatch.setattr(sharing_timeline, "TIMELINE_MAX_SHARINGS", 1)
    client.force_login(owner_admin)
    response = client.get("/", {"view": "timeline"})
    timeline = response.context["timeline"]
    svg = str(timeline["svg"])
    assert svg.count('class="timeline-row"') == 2  # every machine still has its row
    assert "CTR-2" in svg
    assert "CTR-1" not in svg
    assert "Q-9" in svg
    assert timeline["machines_with_more_bars"] == 1
    assert "1 machine has more than 1 sharings: only its 1 most recent are drawn." in response.content.decode()
    monkeypatch.setattr(sharing_timeline, "TIMELINE_MAX_SHARINGS", 2)
    response = client.get("/", {"view": "timeline"})
    assert response.context["timeline"]["machines_with_more_bars"] == 0
    assert "most recent are drawn" not in response.content.decode()


def test_anonymous_visitors_get_the_landing_page_and_outsiders_no_bars(client, outsider_org, sharings):
    response = client.get("/", {"view": "timeline"})
    assert response.status_code == 200
    assert "timeline" not in response.context
    MachineFactory(organisation=outsider_org)  # a machine of its own, never shared: no row
    client.force_login(UserFactory(organisation=outsider_org))
    timeline = client.get("/", {"view": "timeline", "direction": "outgoing"}).context["timeline"]
    assert timeline is None
    svg = str(client.get("/", {"view": "timeline", "direction": "incoming"}).context["timeline"]["svg"])
    assert "Q-9" in svg
    assert "CTR-" not in svg


#: session, user, organisation, status counts, direction counts, the timeline's machines, their sharings, the
#: received names, the workspaces of the filter form and, for an admin, the count of failed notifications and the
#: requests for a later end waiting for an answer (none here: one query, as in test_views.SHARE_CENTRE_QUERIES).
TIMELINE_QUERIES = 11


@pytest.mark.parametrize("count", [3, 30])
def test_timeline_query_count_does_not_grow(
    client, django_assert_num_queries, frozen, owner_org, owner_admin, beneficiary_org, count
):
    frozen(NOW)
    for index in range(count):
        machine = MachineFactory(organisation=owner_org)
        SharingFactory(owner=owner_org, beneficiary=beneficiary_org, machines=[machine], start_at=NOW - index * DAY)
        SharingFactory(owner=owner_org, beneficiary=beneficiary_org, machines=[machine], start_at=NOW + DAY)
    client.force_login(owner_admin)
    with django_assert_num_queries(TIMELINE_QUERIES):
        response = client.get("/", {"view": "timeline"})
    assert str(response.context["timeline"]["svg"]).count('class="timeline-row"') == min(count, PER_PAGE)


@pytest.mark.parametrize("count", [3, 12])
def test_capping_the_bars_costs_no_query_per_machine(
    client, django_assert_num_queries, monkeypatch, frozen, owner_org, owner_admin, beneficiary_org, count
):
    monkeypatch.setattr(sharing_timeline, "TIMELINE_MAX_SHARINGS", 2)
    frozen(NOW)
    for _machine in range(count):
        machine = MachineFactory(organisation=owner_org)
        for index in range(4):
            SharingFactory(
                owner=owner_org,
                beneficiary=beneficiary_org,
                machines=[machine],
                reference=f"R-{index}",
                start_at=NOW - (10 - index) * DAY,
                end_at=NOW - (9 - index) * DAY,
            )
    client.force_login(owner_admin)
    with django_assert_num_queries(TIMELINE_QUERIES):
        response = client.get("/", {"view": "timeline"})
    timeline = response.context["timeline"]
    svg = str(timeline["svg"])
    assert svg.count('class="timeline-row"') == count
    assert timeline["machines_with_more_bars"] == count
    assert svg.count("timeline-bar timeline-") == 2 * count
    # Each linked bar says what and who three times: its link's name, its tooltip and its label.
    assert svg.count("R-3 · ") == svg.count("R-2 · ") == 3 * count
    assert "R-1 · " not in svg
    assert "· R-0" not in svg


# --- zoom, the plot's layout and the table of the same bars --------------------------------------------------------


@pytest.mark.parametrize(
    ("zoom", "given", "first", "last", "earlier", "later"),
    [
        ("month", {}, "2025-03-01", "2025-03-31", ("2025-02-01", "2025-02-28"), ("2025-04-01", "2025-04-30")),
        ("quarter", {}, "2025-01-01", "2025-03-31", ("2024-10-01", "2024-12-31"), ("2025-04-01", "2025-06-30")),
        ("month", {"date_from": "2025-05-10"}, "2025-05-01", "2025-05-31", ("2025-04-01", "2025-04-30"), None),
        ("quarter", {"date_to": "2025-11-02"}, "2025-10-01", "2025-12-31", None, ("2026-01-01", "2026-03-31")),
        ("month", {"date_from": "2024-12-01"}, "2024-12-01", "2024-12-31", None, ("2025-01-01", "2025-01-31")),
    ],
)
def test_zoom_shows_a_calendar_month_or_quarter_and_moves_by_one(
    client, owner_admin, sharings, zoom, given, first, last, earlier, later
):
    client.force_login(owner_admin)
    response = client.get("/", {"view": "timeline", "zoom": zoom, **given})
    assert response.status_code == 200
    period = response.context["period_nav"]["period"]
    assert (period.first.isoformat(), period.last.isoformat()) == (first, last)
    content = response.content.decode()
    nav = response.context["period_nav"]
    if earlier:
        assert (nav["earlier"]["date_from"], nav["earlier"]["date_to"]) == earlier
    if later:
        assert (nav["later"]["date_from"], nav["later"]["date_to"]) == later
    assert f'<input type="hidden" name="zoom" value="{zoom}">' in content  # the filter form keeps the zoom


@pytest.mark.parametrize("zoom", ["year", "", "MONTH", "<b>", "month\x00", "9" * 500])
def test_a_zoom_not_offered_is_the_default_period_never_an_error(client, owner_admin, sharings, zoom):
    client.force_login(owner_admin)
    response = client.get("/", {"view": "timeline", "zoom": zoom})
    assert response.status_code == 200
    period = response.context["period_nav"]["period"]
    assert (period.first, period.last, period.zoom) == (dt.date(2024, 12, 19), dt.date(2025, 6, 19), None)
    assert 'name="zoom"' not in response.content.decode()
    assert client.get("/", {"view": "timeline", "zoom": ["month", "quarter"]}).status_code == 200


def test_the_zoom_links_keep_the_filters_and_say_which_is_shown(client, owner_admin, sharings):
    client.force_login(owner_admin)
    links = client.get("/", {"view": "timeline", "q": "CTR"}).context["period_nav"]["zoom_links"]
    assert [(link["zoom"], link["current"], link["date_from"]) for link in links] == [
        ("month", False, None),  # around today: no dates in the address
        ("quarter", False, None),
        (None, True, None),
    ]
    content = client.get("/", {"view": "timeline", "q": "CTR", "zoom": "quarter"}).content.decode()
    zoom_nav = content.split('<nav class="view-switch timeline-zoom"')[1].split("</nav>")[0]
    assert 'href="/?view=timeline&amp;q=CTR&amp;zoom=month"' in zoom_nav
    assert 'href="/?view=timeline&amp;q=CTR" ' in zoom_nav  # six months: back to the default
    current = zoom_nav.split('zoom=quarter"')[-1].split(">")[0]
    assert 'aria-current="true"' in current
    # Away from today, a zoom keeps to the period being looked at.
    away = client.get("/", {"view": "timeline", "zoom": "month", "date_from": "2024-06-01", "date_to": "2024-06-30"})
    quarter = away.context["period_nav"]["zoom_links"][1]
    assert (quarter["date_from"], quarter["date_to"]) == ("2024-04-01", "2024-06-30")


def test_the_plot_fills_its_box_names_each_bar_and_widens_short_ones(
    client, owner_admin, owner_org, beneficiary_org, sharings
):
    short = SharingFactory(
        owner=owner_org,
        beneficiary=beneficiary_org,
        machines=[sharings["dumper"]],
        reference="ONE-DAY",
        start_at=NOW + 20 * DAY,
        end_at=NOW + 21 * DAY,
    )
    client.force_login(owner_admin)
    response = client.get("/", {"view": "timeline"})
    svg = str(response.context["timeline"]["svg"])
    assert 'width="100%"' in svg  # the width of its box, with no viewBox: text keeps its size on a phone
    assert "viewBox" not in svg
    # The one-day sharing is 0.5 % of six months: drawn MIN_BAR pixels wide, its label beside it.
    one_day = svg.split(f'href="/sharings/{short.pk}/"')[1].split("</a>")[0]
    assert f'width="{sharing_timeline.MIN_BAR}"' in one_day
    assert 'class="timeline-bar-label timeline-bar-label-out"' in one_day
    assert ">ONE-DAY · BuildCo</text>" in one_day
    # A long one has its label inside, the reference first, and its link names the machine.
    running = svg.split(f'href="/sharings/{sharings["running"].pk}/"')[1].split("</a>")[0]
    assert '<text class="timeline-bar-label" x="5"' in running
    assert ">CTR-2 · BuildCo</text>" in running
    excavator = response.context["timeline"]["labels"][0]
    assert f'aria-label="{excavator} — CTR-2 · BuildCo · In progress' in svg
    # The machines' column, in HTML beside the plot (it stays put while the plot scrolls).
    content = response.content.decode()
    column = content.split('<div class="timeline-machines"')[1].split("</svg>")[0]
    assert column.count('class="timeline-machine"') == 2


def test_the_same_bars_as_a_table(client, owner_admin, owner_org, sharings):
    client.force_login(owner_admin)
    response = client.get("/", {"view": "timeline"})
    content = response.content.decode()
    assert "<summary>Show these sharings as a table</summary>" in content
    table = content.split('<details class="timeline-table">')[1].split("</details>")[0]
    rows = table.split("<tbody>")[1].split("<tr>")[1:]
    assert len(rows) == 3  # every bar drawn, none of the old ones left out of the period
    references = [row.split('class="row-title"')[1].split("</a>")[0] for row in rows]
    assert references == [
        f' href="/sharings/{sharings["ended"].pk}/">CTR-1 · BuildCo',
        f' href="/sharings/{sharings["running"].pk}/">CTR-2 · BuildCo',
        f' href="/sharings/{sharings["scheduled"].pk}/">Q-9 · Quarry Ltd',
    ]
    assert ["Terminated" in rows[0], "In progress" in rows[1], "Scheduled" in rows[2]] == [True, True, True]
    assert "open-ended" in rows[1]
    assert "8 Feb 2025" in rows[0]  # 40 days before 20 March, in the date style
    # Each moment as the template's date filter writes it, in the organisation's time zone (dates and times of day
    # are formatted once a page and reused).
    start = sharings["running"].start_at.astimezone(ZoneInfo(owner_org.timezone))
    written = f'<span class="nowrap">{formats.date_format(start, "DATE_FORMAT")}</span> '
    assert f'{written}<span class="muted nowrap">{formats.date_format(start, "TIME_FORMAT")}</span>' in rows[1]
