"""A machine's data page and its CSV export, for the owner and for a beneficiary: what each sees for one machine and
one period (windows, packs, late readings, nothing before the start, the history after the end), the "not shared"
marking, authorization, pinned query counts; and the pure chart maths and SVG rendering behind it."""

import csv
import datetime as dt
import io
import re
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import translation

from accounts.actors import Actor
from fleet import charts
from fleet.selectors import machine_audit_events
from fleet.services import machine_set_workspaces
from fleet.telemetry import DayStats, Period, daily_increments, merge_windows, unshared_intervals
from fleet.views import machine_page
from sharing.lifecycle import Window
from tests.factories import (
    FaultCodeFactory,
    MachineFactory,
    PositionFactory,
    ReadingFactory,
    SharingFactory,
    WorkspaceFactory,
)

UTC = dt.UTC
PARIS = ZoneInfo("Europe/Paris")
NOW = dt.datetime(2025, 3, 20, 12, tzinfo=UTC)


def utc(day, hour=0, month=3):
    return dt.datetime(2025, month, day, hour, tzinfo=UTC)


# --- pure maths ----------------------------------------------------------------------------------------------------


def test_daily_increments_use_the_previous_day_when_it_has_readings():
    days = [dt.date(2025, 3, day) for day in (1, 2, 3, 4)]
    stats = {
        dt.date(2025, 3, 1): DayStats(low=100, high=108, mean=104),
        dt.date(2025, 3, 2): DayStats(low=110, high=116, mean=113),  # 116 - 108, not 116 - 110
        dt.date(2025, 3, 4): DayStats(low=120, high=125, mean=122),  # no day before: within the day
    }
    assert daily_increments(stats, days) == {days[0]: 8, days[1]: 8, days[2]: None, days[3]: 5}


def test_daily_increments_never_go_negative():
    stats = {dt.date(2025, 3, 1): DayStats(50, 60, 55), dt.date(2025, 3, 2): DayStats(0, 2, 1)}
    assert daily_increments(stats, [dt.date(2025, 3, 2)]) == {dt.date(2025, 3, 2): 0.0}


@pytest.mark.parametrize(
    ("windows", "expected"),
    [
        ([], [(utc(1), utc(11))]),
        ([Window(utc(3), utc(5))], [(utc(1), utc(3)), (utc(5), utc(11))]),
        ([Window(utc(3), None)], [(utc(1), utc(3))]),
        ([Window(utc(4), utc(6)), Window(utc(2), utc(5))], [(utc(1), utc(2)), (utc(6), utc(11))]),
        ([Window(dt.datetime(2024, 1, 1, tzinfo=UTC), utc(12))], []),
        ([Window(utc(12), utc(14))], [(utc(1), utc(11))]),
    ],
)
def test_unshared_intervals_are_the_period_outside_every_window(windows, expected):
    gaps = unshared_intervals(utc(1), utc(11), windows)
    assert [(gap.start, gap.end) for gap in gaps] == expected


def test_merge_windows_joins_overlaps_and_keeps_an_open_end():
    merged = merge_windows([Window(utc(5), None), Window(utc(1), utc(3)), Window(utc(2), utc(6))])
    assert merged == [Window(utc(1), None)]


def test_a_period_counts_local_days_even_across_a_daylight_saving_change():
    period = Period(dt.date(2025, 3, 29), dt.date(2025, 3, 31), PARIS)  # 30 March has 23 hours in Paris
    assert period.start == dt.datetime(2025, 3, 28, 23, tzinfo=UTC)
    assert period.end == dt.datetime(2025, 3, 31, 22, tzinfo=UTC)
    assert period.position(dt.datetime(2025, 3, 30, 10, 30, tzinfo=UTC)) == pytest.approx(1.5)


# --- SVG rendering -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "ceiling"), [(0, 1), (0.7, 1), (7.2, 10), (13, 20), (24, 25), (180, 200), (5, 5)])
def test_nice_ceiling(value, ceiling):
    assert charts.nice_ceiling(value) == ceiling


def test_bar_chart_draws_one_bar_per_day_with_data_and_hatches_what_was_not_shared():
    period = Period(dt.date(2025, 3, 1), dt.date(2025, 3, 10), UTC)
    values = {dt.date(2025, 3, 1): 4.0, dt.date(2025, 3, 2): None, dt.date(2025, 3, 3): 8.5}
    svg = charts.bar_chart(
        chart_id="hours",
        title="Hours <per> day",
        unit="h",
        period=period,
        values=values,
        unshared=[Window(utc(5), utc(11))],
    )
    assert svg.startswith('<svg class="chart"')
    assert svg.endswith("</svg>")
    assert svg.count('class="chart-bar"') == 2
    assert "Hours &lt;per&gt; day" in svg  # titles are escaped
    assert 'fill="url(#hours-hatch)"' in svg
    assert ">Not shared</text>" in svg
    assert "style=" not in svg  # the CSP forbids inline styles
    # The hatching starts where 5 March starts: 4 of 10 days along the plot.
    assert f'<rect x="{charts.LEFT + 4 * charts.PLOT_WIDTH / 10:.1f}" y="{charts.TOP}"' in svg


def test_level_chart_breaks_its_line_on_days_without_data():
    period = Period(dt.date(2025, 3, 1), dt.date(2025, 3, 5), UTC)
    stats = {day: DayStats(40, 60, 50) for day in (dt.date(2025, 3, 1), dt.date(2025, 3, 2), dt.date(2025, 3, 4))}
    svg = charts.level_chart(chart_id="fuel", title="Fuel level", unit="%", period=period, stats=stats)
    assert svg.count('class="chart-line"') == 2
    assert svg.count('class="chart-point"') == 3


@pytest.mark.parametrize(
    ("language", "maximum", "labels"),
    [
        ("en", 5.0, ["0", "1.25", "2.5", "3.75", "5 h"]),
        ("fr", 5.0, ["0", "1,25", "2,5", "3,75", "5 h"]),
        ("en", 2.5, ["0", "0.625", "1.25", "1.875", "2.5 h"]),
        ("en", 200.0, ["0", "50", "100", "150", "200 h"]),
    ],
)
def test_the_y_axis_labels_its_ticks_exactly(language, maximum, labels):
    period = Period(dt.date(2025, 3, 1), dt.date(2025, 3, 2), UTC)
    with translation.override(language):
        svg = charts.bar_chart(
            chart_id="hours", title="Hours", unit="h", period=period, values={period.first: maximum}, unshared=[]
        )
    assert re.findall(r'<text class="chart-y-label"[^>]*>([^<]*)</text>', svg) == labels


@pytest.mark.parametrize(("value", "shown"), [(1.25, "1.3"), (1.05, "1.1"), (2.0, "2"), (0.04, "0")])
def test_a_value_is_rounded_half_up(value, shown):
    assert charts._number(value) == shown


def test_timeline_chart_colours_bars_by_status_and_marks_today():
    bars = [
        charts.TimelineBar(utc(1, month=2), utc(1), "terminated", "Terminated", "BuildCo · CTR-1", "/sharings/1/"),
        charts.TimelineBar(utc(15), None, "in_progress", "In progress", "Durand · CTR-2"),
    ]
    svg = charts.timeline_chart(
        chart_id="timeline",
        title="Sharings",
        rows=[charts.TimelineRow(bar.label, [bar]) for bar in bars],
        start=utc(1, month=1),
        end=utc(30, month=4),
        now=NOW,
        tz=PARIS,
    )
    assert "timeline-bar timeline-terminated" in svg
    assert "timeline-bar timeline-in_progress" in svg
    assert '<a href="/sharings/1/" aria-label="' in svg
    assert 'class="timeline-today"' in svg
    assert ">Today</text>" in svg
    assert "open-ended" in svg


# --- the page and its export -------------------------------------------------------------------------------------


@pytest.fixture
def telemetry(frozen, machine, beneficiary_org):
    """Readings at 09:00 and 17:00 UTC, 1 February to 19 March; a fault code in each window and one between them.
    Shared with the beneficiary twice: 1 March 12:00 to 10 March (essential, usage hours; ended, so history) and from
    15 March 12:00 (essential, energy and fuel, fault codes; running)."""
    frozen(NOW)
    for offset in range(47):
        day = dt.datetime(2025, 2, 1, tzinfo=UTC) + dt.timedelta(days=offset)
        for hour in (9, 17):
            at = day + dt.timedelta(hours=hour)
            ReadingFactory(machine=machine, metric="operating_hours", timestamp=at, value=1000 + offset * 8 + hour / 4)
            ReadingFactory(machine=machine, metric="fuel_used", timestamp=at, value=50_000 + offset * 100 + hour)
            ReadingFactory(machine=machine, metric="fuel_remaining", timestamp=at, value=90 - hour)
    PositionFactory(machine=machine, timestamp=utc(5, 17), latitude=45.0, longitude=4.0)
    PositionFactory(machine=machine, timestamp=utc(12, 17), latitude=46.0, longitude=5.0)  # between the windows
    FaultCodeFactory(machine=machine, timestamp=utc(4, 10), identifier="111-1")  # window 1: pack not shared
    FaultCodeFactory(machine=machine, timestamp=utc(12, 10), identifier="222-2")  # between the windows
    FaultCodeFactory(machine=machine, timestamp=utc(16, 10), identifier="333-3")  # window 2
    first = SharingFactory(
        owner=machine.organisation,
        beneficiary=beneficiary_org,
        machines=[machine],
        reference="CTR-1",
        start_at=utc(1, 12),
        end_at=utc(10),
        data_packs=["essential", "usage_hours"],
    )
    second = SharingFactory(
        owner=machine.organisation,
        beneficiary=beneficiary_org,
        machines=[machine],
        reference="CTR-2",
        start_at=utc(15, 12),
        end_at=utc(10, month=4),
        data_packs=["essential", "energy_and_fuel", "fault_codes"],
    )
    # A late reading: stored now, after the first sharing ended, for a moment inside its window.
    ReadingFactory(machine=machine, metric="operating_hours", timestamp=utc(5, 13), value=1120)
    return {"first": first, "second": second}


PERIOD = {"first": "2025-02-25", "last": "2025-03-20"}


def page_url(machine, **query):
    return reverse("fleet:machine", args=[machine.pk])


def export(client, machine, query=PERIOD):
    response = client.get(reverse("fleet:machine_export", args=[machine.pk]), query)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    return rows[0], rows[1:]


EXPORT_HEADER = [
    "Time",
    "Kind",
    "Metric",
    "ISO 15143-3 name",
    "Value",
    "Unit",
    "Data pack",
    "Latitude",
    "Longitude",
    "Altitude (m)",
    "Fault code",
    "Description",
    "Severity",
    "Source",
]


def by_kind(rows):
    kinds = {}
    for row in rows:
        assert len(row) == len(EXPORT_HEADER)
        kinds.setdefault(row[1], []).append(row)
    return kinds


def test_owner_exports_every_reading_position_and_fault_of_the_period_in_time_order(
    client, owner_admin, machine, telemetry
):
    client.force_login(owner_admin)
    header, rows = export(client, machine)
    assert header == EXPORT_HEADER
    kinds = by_kind(rows)
    # Paris days 25 February to 20 March: 23 days of readings at 09:00 and 17:00, three metrics, and the late one.
    assert len(kinds.pop("reading")) == 23 * 2 * 3 + 1
    assert rows[0][:3] == ["2025-02-25T10:00:00+01:00", "reading", "fuel_remaining"]  # the organisation's zone
    positions = kinds.pop("position")
    assert [(row[0], row[2], row[6], row[7], row[8]) for row in positions] == [
        ("2025-03-05T18:00:00+01:00", "location", "essential", "45.0", "4.0"),
        ("2025-03-12T18:00:00+01:00", "location", "essential", "46.0", "5.0"),
    ]
    faults = kinds.pop("fault")
    assert [(row[0], row[6], row[10]) for row in faults] == [
        ("2025-03-04T11:00:00+01:00", "fault_codes", "111-1"),
        ("2025-03-12T11:00:00+01:00", "fault_codes", "222-2"),
        ("2025-03-16T11:00:00+01:00", "fault_codes", "333-3"),
    ]
    assert all(row[11] and row[12] in ("low", "medium", "high") for row in faults)
    assert kinds == {}
    times = [dt.datetime.fromisoformat(row[0]) for row in rows]
    assert times == sorted(times)  # one sheet in time order, whatever the kind


def test_beneficiary_exports_exactly_its_windows_and_packs(client, beneficiary_admin, machine, telemetry):
    client.force_login(beneficiary_admin)
    _header, rows = export(client, machine)
    kinds = by_kind(rows)
    # Positions (essential) in both windows: only the one of 5 March; the 12 March one is between the windows.
    assert [row[0] for row in kinds.pop("position")] == ["2025-03-05T18:00:00+01:00"]
    # Fault codes only in window 2: not the one of window 1 (pack not shared then) nor the one between the windows.
    assert [row[10] for row in kinds.pop("fault")] == ["333-3"]
    by_metric = {}
    for time, _kind, metric, *_rest in kinds.pop("reading"):
        by_metric.setdefault(metric, []).append(dt.datetime.fromisoformat(time))
    assert kinds == {}
    # Window 1, usage hours only: from 1 March 17:00 (09:00 is before the start) to 9 March 17:00, and the late one.
    hours = by_metric.pop("operating_hours")
    assert min(hours) == utc(1, 17)
    assert max(hours) == utc(9, 17)
    assert utc(5, 13) in hours
    assert len(hours) == 1 + 8 * 2 + 1
    # Window 2, fuel only: from 15 March 17:00 to now (19 March 17:00).
    for metric in ("fuel_used", "fuel_remaining"):
        fuel = by_metric.pop(metric)
        assert min(fuel) == utc(15, 17)
        assert max(fuel) == utc(19, 17)
        assert len(fuel) == 1 + 4 * 2
    assert by_metric == {}


@pytest.mark.parametrize(("user", "queries"), [("owner_admin", 7), ("beneficiary_admin", 8)])
def test_the_export_costs_a_constant_number_of_queries(
    client, request, machine, telemetry, django_assert_num_queries, user, queries
):
    # session, user, organisation; machine, (the beneficiary's grants), readings, positions, fault codes
    client.force_login(request.getfixturevalue(user))
    with django_assert_num_queries(queries):
        export(client, machine, {"first": "2025-02-01", "last": "2025-03-20"})


def test_owner_page_shows_latest_values_charts_faults_and_the_sharing_timeline(
    client, owner_admin, machine, telemetry, django_assert_num_queries
):
    client.force_login(owner_admin)
    # session, user, organisation; machine, latest readings, position, daily stats, the track's positions, faults,
    # sharings, history (no change recorded: no workspace names to look up), the telematics sources that list it
    with django_assert_num_queries(12):
        response = client.get(page_url(machine), PERIOD)
    assert response.status_code == 200
    context = response.context
    packs = {pack["code"]: pack for pack in context["packs"]}
    assert all(pack["shared"] for pack in packs.values())
    assert context["unshared_packs"] == []
    assert packs["essential"]["position"].latitude == 46.0
    usage = {value["label"]: value for value in packs["usage_hours"]["values"]}
    assert usage["Cumulative operating hours"]["at"] == utc(19, 17)
    assert [fault.identifier for fault in context["faults"]] == ["333-3", "222-2", "111-1"]
    charts_by_id = {chart["id"]: chart for chart in context["charts"]}
    assert all(chart["svg"] and not chart["unshared"] for chart in charts_by_id.values())
    # 8 h a day: the highest reading of a day minus the day before's.
    assert '<rect class="chart-bar"' in charts_by_id["operating-hours"]["svg"]
    assert charts_by_id["operating-hours"]["svg"].count(": 8 h</title>") == 23  # 25 February to 19 March
    content = response.content.decode()
    assert "Not shared" not in content
    assert content.count("timeline-bar timeline-") == 2
    assert "CTR-1" in content
    assert "CTR-2" in content


def test_beneficiary_page_shows_its_windows_and_packs_and_marks_the_rest(
    client, beneficiary_admin, machine, telemetry, django_assert_num_queries
):
    client.force_login(beneficiary_admin)
    # As the owner's, without the sharings, plus: the grants (looked up once for the page and passed to each scoped
    # read with grants=), the received machine's name and its owner's name. Constant.
    with django_assert_num_queries(12):
        response = client.get(page_url(machine), PERIOD)
    assert response.status_code == 200
    context = response.context
    assert context["name"] == "320 GC " + machine.serial_number
    packs = {pack["code"]: pack for pack in context["packs"]}
    assert [code for code, pack in packs.items() if pack["shared"]] == [
        "essential",
        "usage_hours",
        "energy_and_fuel",
        "fault_codes",
    ]
    assert [str(label) for label in context["unshared_packs"]] == ["Activity", "Vehicle conditions", "Others"]
    # Latest values come from inside the windows only: the 12 March position is not shared.
    assert packs["essential"]["position"].latitude == 45.0
    usage = {value["label"]: value for value in packs["usage_hours"]["values"]}
    assert usage["Cumulative operating hours"]["at"] == utc(9, 17)  # history kept after the end
    assert [fault.identifier for fault in context["faults"]] == ["333-3"]
    charts_by_id = {chart["id"]: chart for chart in context["charts"]}
    assert all(chart["unshared"] for chart in charts_by_id.values())
    assert "Not shared" in charts_by_id["operating-hours"]["svg"]
    content = response.content.decode()
    assert "Activity" in content
    assert "Not shared with you." in content
    assert "timeline-bar" not in content  # the sharing timeline is the owner's
    assert context["history"] == []
    assert "history-title" not in content


def test_beneficiary_default_period_stays_within_its_windows(client, beneficiary_admin, machine, telemetry):
    client.force_login(beneficiary_admin)
    period = client.get(page_url(machine)).context["period"]
    assert (period.first, period.last) == (dt.date(2025, 3, 1), dt.date(2025, 3, 20))  # from the first window on
    telemetry["second"].delete()  # only the ended window is left: the page opens on it
    period = client.get(page_url(machine)).context["period"]
    assert (period.first, period.last) == (dt.date(2025, 3, 1), dt.date(2025, 3, 10))


def test_a_pack_never_shared_is_named_on_its_chart_not_drawn_empty(client, beneficiary_admin, machine, telemetry):
    telemetry["second"].delete()
    client.force_login(beneficiary_admin)
    response = client.get(page_url(machine), PERIOD)
    fuel = {chart["id"]: chart for chart in response.context["charts"]}["fuel-used"]
    assert fuel["svg"] is None
    assert "the “Energy and fuel” data pack is not part of the sharing" in response.content.decode()


def test_nothing_is_shown_before_a_sharing_starts(client, beneficiary_admin, machine, frozen, owner_org):
    frozen(NOW)
    ReadingFactory(machine=machine, metric="operating_hours", timestamp=utc(19, 9), value=10)
    SharingFactory(owner=owner_org, beneficiary=beneficiary_admin.organisation, machines=[machine], start_at=utc(25))
    client.force_login(beneficiary_admin)
    response = client.get(page_url(machine))
    assert response.status_code == 200
    assert all(not pack["values"] for pack in response.context["packs"])
    page = response.content.decode()
    # When it starts and what it will show, not "Not shared with you" on every pack; nothing to pick or export.
    assert "Sharing starts 25 Mar 2025, 01:00, with no end date." in page
    assert "What will be shared:" in page
    assert "Energy and fuel" in page
    assert "Not shared with you" not in page
    assert 'class="period-form' not in page
    assert reverse("fleet:machine_export", args=[machine.pk]) not in page
    _header, rows = export(client, machine, {"first": "2025-03-01", "last": "2025-03-20"})
    assert rows == []


def test_a_machine_not_yet_shared_names_the_packs_of_its_sharing_in_french(
    client, beneficiary_admin, machine, frozen, owner_org
):
    frozen(NOW)
    SharingFactory(
        owner=owner_org,
        beneficiary=beneficiary_admin.organisation,
        machines=[machine],
        start_at=utc(25),
        end_at=utc(30),
        data_packs=["essential", "usage_hours"],
    )
    client.force_login(beneficiary_admin)
    client.cookies["django_language"] = "fr"
    page = client.get(page_url(machine)).content.decode()
    assert "Le partage commence le 25 mars 2025" in page
    assert "Ce qui sera partagé\xa0:" in page
    assert page.count('<span class="tag">') == 2


@pytest.mark.parametrize(
    ("language", "sharings", "earlier", "every"),
    [
        ("en", 13, "And 3 earlier periods.", "Every sharing of this machine in the share centre"),
        ("en", 11, "And 1 earlier period.", "Every sharing of this machine in the share centre"),
        ("fr", 13, "Et 3 périodes antérieures.", "Tous les partages de cette machine dans le centre de partage"),
        ("fr", 11, "Et 1 période antérieure.", "Tous les partages de cette machine dans le centre de partage"),
    ],
)
def test_a_machine_received_through_many_sharings_lists_its_latest_periods_and_counts_the_rest(
    client, beneficiary_admin, machine, frozen, owner_org, django_assert_num_queries, language, sharings, earlier, every
):
    """Weekly sharings of five days, the newest running now: the notice lists the ten most recent periods, newest
    first, and counts the earlier ones, so the page costs the same however many sharings the machine came through."""
    frozen(NOW)
    starts = [NOW - dt.timedelta(days=7 * week, hours=12) for week in range(sharings)]  # newest first
    for week, start in enumerate(starts):
        SharingFactory(
            owner=owner_org,
            beneficiary=beneficiary_admin.organisation,
            machines=[machine],
            reference=f"WEEK-{week:02}",
            start_at=start,
            end_at=start + dt.timedelta(days=5),
            data_packs=["essential", "usage_hours"],
        )
    client.force_login(beneficiary_admin)
    client.cookies["django_language"] = language
    # As the beneficiary page above, less the fault codes (not shared): the same whatever the number of sharings.
    with django_assert_num_queries(11):
        response = client.get(page_url(machine))
    windows = response.context["windows"]
    assert [window["start"] for window in windows] == starts[: machine_page.WINDOWS_SHOWN]
    assert [window["ongoing"] for window in windows] == [True] + [False] * 9
    assert response.context["earlier_windows"] == sharings - machine_page.WINDOWS_SHOWN
    page = response.content.decode()
    notice = re.search(r'<ul class="shared-windows">(.*?)</ul>', page, re.DOTALL)
    assert notice is not None
    assert notice.group(1).count("<li") == machine_page.WINDOWS_SHOWN + 1
    assert earlier in notice.group(1)
    link = f'href="{reverse("home")}?direction=incoming&amp;asset_id={machine.pk}">{every}</a>'
    assert link in notice.group(1)
    # The link lists every sharing of the machine, the earliest too.
    share_centre = client.get(reverse("home"), {"direction": "incoming", "asset_id": machine.pk}).content.decode()
    assert "WEEK-00" in share_centre
    assert f"WEEK-{sharings - 1:02}" in share_centre


def test_a_few_periods_are_all_listed_with_no_count(client, beneficiary_admin, machine, telemetry):
    client.force_login(beneficiary_admin)
    response = client.get(page_url(machine), PERIOD)
    assert [window["start"] for window in response.context["windows"]] == [utc(15, 12), utc(1, 12)]  # newest first
    assert response.context["earlier_windows"] == 0
    assert "earlier-windows" not in response.content.decode()


def test_an_invalid_period_keeps_the_default_and_says_why(client, owner_admin, machine, frozen):
    frozen(NOW)
    client.force_login(owner_admin)
    response = client.get(page_url(machine), {"first": "2025-03-10", "last": "2025-03-01"})
    assert response.status_code == 200
    assert response.context["period_form"].errors["last"]
    assert response.context["period"].last == dt.date(2025, 3, 20)


def test_anonymous_visitors_are_sent_to_log_in(client, machine):
    for url in (page_url(machine), reverse("fleet:machine_export", args=[machine.pk])):
        response = client.get(url)
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]


def test_outsiders_get_404(client, outsider_admin, machine):
    client.force_login(outsider_admin)
    assert client.get(page_url(machine)).status_code == 404
    assert client.get(reverse("fleet:machine_export", args=[machine.pk])).status_code == 404


# --- the owner's history of its machine ------------------------------------------------------------------------------


@pytest.fixture
def placed(frozen, machine, owner_admin, owner_org):
    """The owner's admin places the machine in Lyon depot (1 March), then in Grenoble site and Paris north (2 March);
    Grenoble site is deleted since."""
    lyon = WorkspaceFactory(organisation=owner_org, name="Lyon depot")
    grenoble = WorkspaceFactory(organisation=owner_org, name="Grenoble site")
    paris = WorkspaceFactory(organisation=owner_org, name="Paris north")
    actor = Actor.for_user(owner_admin)
    frozen(utc(1, 9))
    machine_set_workspaces(actor=actor, machine=machine, workspaces=[lyon])
    frozen(utc(2, 9))
    machine_set_workspaces(actor=actor, machine=machine, workspaces=[grenoble, paris])
    grenoble.delete()
    frozen(NOW)
    return machine


def test_owner_sees_its_machine_history_newest_first_with_workspace_names(
    client, owner_admin, placed, django_assert_num_queries
):
    client.force_login(owner_admin)
    # As without history (no telemetry, no sharing), plus the workspace names of the changes, in one query.
    with django_assert_num_queries(13):
        response = client.get(page_url(placed))
    assert response.status_code == 200
    history = response.context["history"]
    assert [item["event"].occurred_at for item in history] == [utc(2, 9), utc(1, 9)]
    assert [item["event"].actor_label for item in history] == ["admin@rentandgo.example"] * 2
    assert [(change["before"], change["after"]) for item in history for change in item["changes"]] == [
        ("Lyon depot", "Paris north, deleted workspace"),
        ("no workspace", "Lyon depot"),
    ]
    assert not response.context["more_history"]
    content = response.content.decode()
    assert "History" in content
    assert "Workspaces changed" in content
    assert "Paris north, deleted workspace" in content


def test_the_history_is_capped_and_says_so(client, owner_admin, placed, monkeypatch):
    monkeypatch.setattr(machine_page, "HISTORY_SHOWN", 1)
    client.force_login(owner_admin)
    response = client.get(page_url(placed))
    assert [item["event"].occurred_at for item in response.context["history"]] == [utc(2, 9)]
    assert "The 1 most recent changes only." in response.content.decode()


def test_a_beneficiary_never_sees_the_owners_history(client, beneficiary_admin, beneficiary_org, placed, frozen):
    SharingFactory(owner=placed.organisation, beneficiary=beneficiary_org, machines=[placed], start_at=utc(1))
    assert not machine_audit_events(organisation=beneficiary_org, machine=placed).exists()
    assert machine_audit_events(organisation=placed.organisation, machine=placed).count() == 2
    client.force_login(beneficiary_admin)
    response = client.get(page_url(placed))
    assert response.status_code == 200
    assert response.context["history"] == []
    content = response.content.decode()
    assert "Lyon depot" not in content
    assert "history-title" not in content


def test_an_owner_admin_can_share_the_machine_from_its_page(client, owner_admin, owner_member, machine, outsider_org):
    share_url = f"{reverse('sharing:create')}?machines={machine.pk}"
    client.force_login(owner_member)
    assert share_url not in client.get(page_url(machine)).content.decode()  # members create no sharing
    client.force_login(owner_admin)

    page = client.get(page_url(machine)).content.decode()
    form = client.get(share_url).content.decode()

    assert f'href="{share_url}"' in page
    assert f'name="machines" value="{machine.pk}" checked' in form
    # Another organisation's machine is never ticked, whatever the address says.
    theirs = MachineFactory(organisation=outsider_org)
    other_form = client.get(f"{reverse('sharing:create')}?machines={theirs.pk}").content.decode()
    assert f'value="{theirs.pk}"' not in other_form


def test_a_beneficiary_is_not_offered_to_share_a_received_machine(client, beneficiary_admin, machine, owner_org):
    SharingFactory(owner=owner_org, beneficiary=beneficiary_admin.organisation, machines=[machine])
    client.force_login(beneficiary_admin)
    assert "Share this machine" not in client.get(page_url(machine)).content.decode()


def test_every_page_links_to_the_api_reference(client, owner_member):
    client.force_login(owner_member)
    assert (
        f'<a href="{reverse("api:docs")}">API reference</a>' in client.get(reverse("fleet:machines")).content.decode()
    )
    docs = client.get(reverse("api:docs")).content.decode()
    assert 'href="/"' in docs  # and the reference has the way back
