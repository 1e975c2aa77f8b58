"""DESIGN §3 row by row, on the pure lifecycle module: the status table, the access window, the rolling year and every
rule on dates, stopping, deleting and data packs.

These functions take `now` as an argument and must never read the clock: every test runs with the wall clock frozen
years away from NOW, so a function that read it would give the wrong answer."""

import datetime as dt

import pytest

from sharing import lifecycle
from sharing.lifecycle import SharingStatus, Window

UTC = dt.UTC
NOW = dt.datetime(2026, 7, 12, 9, 0, tzinfo=UTC)
SECOND = dt.timedelta(seconds=1)
DAY = dt.timedelta(days=1)

PENDING = SharingStatus.PENDING
SCHEDULED = SharingStatus.SCHEDULED
IN_PROGRESS = SharingStatus.IN_PROGRESS
STOPPED = SharingStatus.STOPPED
TERMINATED = SharingStatus.TERMINATED


@pytest.fixture(autouse=True)
def wall_clock_elsewhere(frozen):
    """The wall clock is frozen far from NOW: the pure functions must use the `now` they are given."""
    frozen(dt.datetime(2001, 1, 1, tzinfo=UTC))


# --- the status table ------------------------------------------------------------------------------------------------

STATUS_ROWS = [
    # id, beneficiary known, start_at, end_at, stopped_at, expected
    ("pending: start ahead", False, NOW + DAY, None, None, PENDING),
    ("pending: start passed, open-ended", False, NOW - DAY, None, None, PENDING),
    ("pending: start passed, end ahead", False, NOW - DAY, NOW + DAY, None, PENDING),
    ("scheduled: start ahead", True, NOW + DAY, NOW + 2 * DAY, None, SCHEDULED),
    ("scheduled: one second before the start", True, NOW + SECOND, None, None, SCHEDULED),
    ("in progress: exactly at the start", True, NOW, NOW + DAY, None, IN_PROGRESS),
    ("in progress: open-ended", True, NOW - DAY, None, None, IN_PROGRESS),
    ("in progress: one second before the end", True, NOW - DAY, NOW + SECOND, None, IN_PROGRESS),
    ("terminated: exactly at the end", True, NOW - DAY, NOW, None, TERMINATED),
    ("terminated: end passed", True, NOW - 2 * DAY, NOW - DAY, None, TERMINATED),
    ("stopped while pending", False, NOW + DAY, None, NOW - SECOND, STOPPED),
    ("stopped while scheduled", True, NOW + DAY, NOW + 2 * DAY, NOW - SECOND, STOPPED),
    ("stopped while in progress", True, NOW - DAY, NOW + DAY, NOW - SECOND, STOPPED),
    ("stopped just now", True, NOW - DAY, None, NOW, STOPPED),
    # The first matching row wins.
    ("order: stopped wins over terminated", True, NOW - 2 * DAY, NOW - DAY, NOW - 3 * DAY, STOPPED),
    ("order: terminated wins over pending", False, NOW - 2 * DAY, NOW - DAY, None, TERMINATED),
    ("order: pending wins over in progress", False, NOW - DAY, NOW + DAY, None, PENDING),
    ("order: pending wins over scheduled", False, NOW + DAY, NOW + 2 * DAY, None, PENDING),
]


@pytest.mark.parametrize(
    ("beneficiary_known", "start_at", "end_at", "stopped_at", "expected"),
    [row[1:] for row in STATUS_ROWS],
    ids=[row[0] for row in STATUS_ROWS],
)
def test_sharing_status(beneficiary_known, start_at, end_at, stopped_at, expected):
    status = lifecycle.sharing_status(
        beneficiary_known=beneficiary_known, start_at=start_at, end_at=end_at, stopped_at=stopped_at, now=NOW
    )
    assert status == expected


def test_open_statuses_are_the_ones_the_job_may_still_move():
    assert set(lifecycle.OPEN_STATUSES) == {PENDING, SCHEDULED, IN_PROGRESS}


# --- access window ---------------------------------------------------------------------------------------------------

EFFECTIVE_END_ROWS = [
    ("open-ended", None, None, None),
    ("end only", NOW, None, NOW),
    ("stopped only", None, NOW, NOW),
    ("stopped before the end", NOW + DAY, NOW, NOW),
    ("end before the stop", NOW, NOW + DAY, NOW),
    ("end and stop at the same instant", NOW, NOW, NOW),
]


@pytest.mark.parametrize(
    ("end_at", "stopped_at", "expected"),
    [row[1:] for row in EFFECTIVE_END_ROWS],
    ids=[row[0] for row in EFFECTIVE_END_ROWS],
)
def test_effective_end(end_at, stopped_at, expected):
    assert lifecycle.effective_end(end_at=end_at, stopped_at=stopped_at) == expected


WINDOW_ROWS = [
    # id, end_at, stopped_at, moment, inside
    ("one second before the start", NOW + DAY, None, NOW - SECOND, False),
    ("exactly at the start", NOW + DAY, None, NOW, True),
    ("one second before the end", NOW + DAY, None, NOW + DAY - SECOND, True),
    ("exactly at the end", NOW + DAY, None, NOW + DAY, False),
    ("open-ended, years later", None, None, NOW + 3650 * DAY, True),
    ("stopped: one second before the stop", NOW + 2 * DAY, NOW + DAY, NOW + DAY - SECOND, True),
    ("stopped: exactly at the stop", NOW + 2 * DAY, NOW + DAY, NOW + DAY, False),
    ("stopped: between the stop and the planned end", NOW + 2 * DAY, NOW + DAY, NOW + DAY + SECOND, False),
    ("stopped after the end: the end cuts", NOW + DAY, NOW + 2 * DAY, NOW + DAY, False),
]


@pytest.mark.parametrize(
    ("end_at", "stopped_at", "moment", "inside"),
    [row[1:] for row in WINDOW_ROWS],
    ids=[row[0] for row in WINDOW_ROWS],
)
def test_access_window(end_at, stopped_at, moment, inside):
    window = lifecycle.access_window(start_at=NOW, end_at=end_at, stopped_at=stopped_at)
    assert window == Window(start=NOW, end=lifecycle.effective_end(end_at=end_at, stopped_at=stopped_at))
    assert window.contains(moment) is inside


# --- the rolling year ------------------------------------------------------------------------------------------------

YEAR_ROWS = [
    ("ordinary day", dt.datetime(2026, 7, 12, 9, 30, 15, tzinfo=UTC), dt.datetime(2025, 7, 12, 9, 30, 15, tzinfo=UTC)),
    (
        "29 February falls back to 28",
        dt.datetime(2028, 2, 29, 23, 59, tzinfo=UTC),
        dt.datetime(2027, 2, 28, 23, 59, tzinfo=UTC),
    ),
    ("1 March after a leap day", dt.datetime(2028, 3, 1, tzinfo=UTC), dt.datetime(2027, 3, 1, tzinfo=UTC)),
    (
        "28 February of the year after a leap year",
        dt.datetime(2029, 2, 28, tzinfo=UTC),
        dt.datetime(2028, 2, 28, tzinfo=UTC),
    ),
    ("1 January", dt.datetime(2027, 1, 1, tzinfo=UTC), dt.datetime(2026, 1, 1, tzinfo=UTC)),
    (
        "other time zone kept",
        dt.datetime(2026, 7, 12, 9, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        dt.datetime(2025, 7, 12, 9, tzinfo=dt.timezone(dt.timedelta(hours=2))),
    ),
]


@pytest.mark.parametrize(("now", "expected"), [row[1:] for row in YEAR_ROWS], ids=[row[0] for row in YEAR_ROWS])
def test_one_year_before(now, expected):
    result = lifecycle.one_year_before(now)
    assert result == expected
    assert result.utcoffset() == now.utcoffset()


# --- dates of a new sharing ------------------------------------------------------------------------------------------

A_YEAR_AGO = dt.datetime(2025, 7, 12, 9, 0, tzinfo=UTC)

CREATION_ROWS = [
    # id, start_at, end_at, expected refusal code (None: accepted)
    ("start now, open-ended", NOW, None, None),
    ("start in the future", NOW + DAY, NOW + 2 * DAY, None),
    ("start exactly one year ago", A_YEAR_AGO, None, None),
    ("start one second more than a year ago", A_YEAR_AGO - SECOND, None, "start_too_early"),
    ("start in the past, end in the future", NOW - DAY, NOW + DAY, None),
    ("end one second after now", NOW - DAY, NOW + SECOND, None),
    ("end equal to start", NOW + DAY, NOW + DAY, "end_before_start"),
    ("end before start", NOW + 2 * DAY, NOW + DAY, "end_before_start"),
    ("end after start but in the past", NOW - 2 * DAY, NOW - DAY, "end_in_past"),
    ("end exactly now", NOW - DAY, NOW, "end_in_past"),
]


@pytest.mark.parametrize(
    ("start_at", "end_at", "expected"), [row[1:] for row in CREATION_ROWS], ids=[row[0] for row in CREATION_ROWS]
)
def test_creation_dates_refusal(start_at, end_at, expected):
    refusal = lifecycle.creation_dates_refusal(start_at=start_at, end_at=end_at, now=NOW)
    assert (refusal.code if refusal else None) == expected
    if refusal:
        assert refusal.conflict is False  # a wrong value, not a state that forbids it


def test_creation_rolling_year_on_29_february():
    leap_day = dt.datetime(2028, 2, 29, 12, tzinfo=UTC)
    assert (
        lifecycle.creation_dates_refusal(start_at=dt.datetime(2027, 2, 28, 12, tzinfo=UTC), end_at=None, now=leap_day)
        is None
    )
    refusal = lifecycle.creation_dates_refusal(
        start_at=dt.datetime(2027, 2, 28, 12, tzinfo=UTC) - SECOND, end_at=None, now=leap_day
    )
    assert refusal.code == "start_too_early"


# --- editing dates ---------------------------------------------------------------------------------------------------

START_CHANGE_ROWS = [
    # id, status, current start, new start, end, expected (code, conflict) or None
    ("scheduled: future to later future", SCHEDULED, NOW + DAY, NOW + 2 * DAY, None, None),
    ("scheduled: future to earlier future", SCHEDULED, NOW + 2 * DAY, NOW + SECOND, NOW + 3 * DAY, None),
    ("pending: future to future", PENDING, NOW + DAY, NOW + 2 * DAY, None, None),
    ("scheduled: to exactly now", SCHEDULED, NOW + DAY, NOW, None, ("start_in_past", False)),
    ("scheduled: to the past", SCHEDULED, NOW + DAY, NOW - DAY, None, ("start_in_past", False)),
    ("in progress: start locked", IN_PROGRESS, NOW - DAY, NOW + DAY, None, ("start_locked", True)),
    ("start exactly now is locked", IN_PROGRESS, NOW, NOW + DAY, None, ("start_locked", True)),
    ("pending with a past start: locked", PENDING, NOW - DAY, NOW + DAY, None, ("start_locked", True)),
    ("new start equal to the end", SCHEDULED, NOW + DAY, NOW + 3 * DAY, NOW + 3 * DAY, ("end_before_start", False)),
    ("new start after the end", SCHEDULED, NOW + DAY, NOW + 4 * DAY, NOW + 3 * DAY, ("end_before_start", False)),
    ("stopped keeps its dates", STOPPED, NOW + DAY, NOW + 2 * DAY, None, ("sharing_ended", True)),
    ("terminated keeps its dates", TERMINATED, NOW - 2 * DAY, NOW + 2 * DAY, None, ("sharing_ended", True)),
]


@pytest.mark.parametrize(
    ("status", "current_start", "new_start", "end_at", "expected"),
    [row[1:] for row in START_CHANGE_ROWS],
    ids=[row[0] for row in START_CHANGE_ROWS],
)
def test_start_change_refusal(status, current_start, new_start, end_at, expected):
    refusal = lifecycle.start_change_refusal(
        status=status, current_start=current_start, new_start=new_start, end_at=end_at, now=NOW
    )
    assert ((refusal.code, refusal.conflict) if refusal else None) == expected
    if refusal:
        assert refusal.field == "start_at"


END_CHANGE_ROWS = [
    # id, status, current end, new end, start, expected (code, conflict) or None
    ("in progress: future end to later", IN_PROGRESS, NOW + DAY, NOW + 2 * DAY, NOW - DAY, None),
    ("in progress: future end to earlier future", IN_PROGRESS, NOW + 2 * DAY, NOW + SECOND, NOW - DAY, None),
    ("in progress: future end to empty", IN_PROGRESS, NOW + DAY, None, NOW - DAY, None),
    ("in progress: empty end to future", IN_PROGRESS, None, NOW + DAY, NOW - DAY, None),
    ("scheduled: future end to empty", SCHEDULED, NOW + 2 * DAY, None, NOW + DAY, None),
    ("pending: future end to later", PENDING, NOW + DAY, NOW + 2 * DAY, NOW - DAY, None),
    ("new end exactly now", IN_PROGRESS, NOW + DAY, NOW, NOW - DAY, ("end_in_past", False)),
    ("new end in the past", IN_PROGRESS, None, NOW - SECOND, NOW - DAY, ("end_in_past", False)),
    ("new end equal to the start", SCHEDULED, NOW + 3 * DAY, NOW + DAY, NOW + DAY, ("end_before_start", False)),
    ("new end before the start", SCHEDULED, NOW + 3 * DAY, NOW + DAY, NOW + 2 * DAY, ("end_before_start", False)),
    ("current end exactly now is locked", IN_PROGRESS, NOW, NOW + DAY, NOW - DAY, ("end_locked", True)),
    ("current end in the past is locked", IN_PROGRESS, NOW - SECOND, None, NOW - DAY, ("end_locked", True)),
    ("stopped keeps its dates", STOPPED, NOW + DAY, NOW + 2 * DAY, NOW - DAY, ("sharing_ended", True)),
    ("stopped: not even to empty", STOPPED, None, NOW + DAY, NOW - DAY, ("sharing_ended", True)),
    ("terminated keeps its dates", TERMINATED, NOW - DAY, NOW + DAY, NOW - 2 * DAY, ("sharing_ended", True)),
]


@pytest.mark.parametrize(
    ("status", "current_end", "new_end", "start_at", "expected"),
    [row[1:] for row in END_CHANGE_ROWS],
    ids=[row[0] for row in END_CHANGE_ROWS],
)
def test_end_change_refusal(status, current_end, new_end, start_at, expected):
    refusal = lifecycle.end_change_refusal(
        status=status, current_end=current_end, new_end=new_end, start_at=start_at, now=NOW
    )
    assert ((refusal.code, refusal.conflict) if refusal else None) == expected
    if refusal:
        assert refusal.field == "end_at"


EDITABLE_DATES_ROWS = [
    # id, status, start, end, expected (start lock code or None, end lock code or None)
    ("pending, both ahead", PENDING, NOW + DAY, NOW + 2 * DAY, (None, None)),
    ("scheduled, open-ended", SCHEDULED, NOW + DAY, None, (None, None)),
    ("scheduled, start one second ahead", SCHEDULED, NOW + SECOND, NOW + DAY, (None, None)),
    ("in progress: start locked, end ahead", IN_PROGRESS, NOW - DAY, NOW + DAY, ("start_locked", None)),
    ("in progress: start exactly now", IN_PROGRESS, NOW, None, ("start_locked", None)),
    ("pending with a past start", PENDING, NOW - DAY, None, ("start_locked", None)),
    ("pending with both dates past", PENDING, NOW - 2 * DAY, NOW - DAY, ("start_locked", "end_locked")),
    ("end exactly now", IN_PROGRESS, NOW - DAY, NOW, ("start_locked", "end_locked")),
    ("stopped keeps its dates", STOPPED, NOW + DAY, NOW + 2 * DAY, ("sharing_ended", "sharing_ended")),
    ("terminated keeps its dates", TERMINATED, NOW - 2 * DAY, NOW - DAY, ("sharing_ended", "sharing_ended")),
]


@pytest.mark.parametrize(
    ("status", "start_at", "end_at", "expected"),
    [row[1:] for row in EDITABLE_DATES_ROWS],
    ids=[row[0] for row in EDITABLE_DATES_ROWS],
)
def test_editable_dates(status, start_at, end_at, expected):
    dates = lifecycle.editable_dates(status=status, start_at=start_at, end_at=end_at, now=NOW)
    locks = (dates.start_lock, dates.end_lock)
    assert tuple(lock.code if lock else None for lock in locks) == expected
    assert (dates.start, dates.end) == (expected[0] is None, expected[1] is None)
    assert all(lock.conflict for lock in locks if lock)
    assert [lock.field for lock in locks if lock] == [
        field for field, code in zip(("start_at", "end_at"), expected, strict=True) if code
    ]


@pytest.mark.parametrize(
    ("status", "start_at", "end_at", "expected"),
    [row[1:] for row in EDITABLE_DATES_ROWS],
    ids=[row[0] for row in EDITABLE_DATES_ROWS],
)
def test_editable_dates_agrees_with_the_change_rules(status, start_at, end_at, expected):
    """A date the predicate locks is refused as a conflict whatever the new value; one it leaves open accepts some
    new value. So the form that reads the predicate locks exactly what the service would refuse."""
    dates = lifecycle.editable_dates(status=status, start_at=start_at, end_at=end_at, now=NOW)
    candidates = [NOW - DAY, NOW, NOW + SECOND, NOW + DAY, NOW + 3 * DAY, NOW + 365 * DAY]
    start_refusals = [
        lifecycle.start_change_refusal(status=status, current_start=start_at, new_start=new, end_at=end_at, now=NOW)
        for new in candidates
    ]
    end_refusals = [
        lifecycle.end_change_refusal(status=status, current_end=end_at, new_end=new, start_at=start_at, now=NOW)
        for new in [None, *candidates]
    ]
    for editable, refusals in ((dates.start, start_refusals), (dates.end, end_refusals)):
        if editable:
            assert None in refusals
        else:
            assert all(refusal is not None and refusal.conflict for refusal in refusals)


JULY = {"start": dt.datetime(2026, 7, 1, tzinfo=UTC), "end": dt.datetime(2026, 7, 30, tzinfo=UTC)}
DESIGN_EXAMPLE_ROWS = [
    ("move the start to 15 July", "start", dt.datetime(2026, 7, 15, tzinfo=UTC), "start_locked"),
    ("move the start back to 2 July", "start", dt.datetime(2026, 7, 2, tzinfo=UTC), "start_locked"),
    ("move the end to 31 August", "end", dt.datetime(2026, 8, 31, tzinfo=UTC), None),
    ("move the end to 20 July", "end", dt.datetime(2026, 7, 20, tzinfo=UTC), None),
    ("clear the end", "end", None, None),
    ("move the end to 10 July", "end", dt.datetime(2026, 7, 10, tzinfo=UTC), "end_in_past"),
]


@pytest.mark.parametrize(
    ("which", "new_value", "expected"),
    [row[1:] for row in DESIGN_EXAMPLE_ROWS],
    ids=[row[0] for row in DESIGN_EXAMPLE_ROWS],
)
def test_design_example_12_july_sharing_1_to_30_july(which, new_value, expected):
    """DESIGN §3: today is 12 July, the sharing runs 1–30 July: the start is locked, the end can move."""
    status = lifecycle.sharing_status(
        beneficiary_known=True, start_at=JULY["start"], end_at=JULY["end"], stopped_at=None, now=NOW
    )
    assert status == IN_PROGRESS
    if which == "start":
        refusal = lifecycle.start_change_refusal(
            status=status, current_start=JULY["start"], new_start=new_value, end_at=JULY["end"], now=NOW
        )
    else:
        refusal = lifecycle.end_change_refusal(
            status=status, current_end=JULY["end"], new_end=new_value, start_at=JULY["start"], now=NOW
        )
    assert (refusal.code if refusal else None) == expected


# --- stopping, deleting, data packs ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "allowed"),
    [(PENDING, True), (SCHEDULED, True), (IN_PROGRESS, True), (STOPPED, False), (TERMINATED, False)],
    ids=["pending", "scheduled", "in progress", "stopped", "terminated"],
)
def test_can_stop(status, allowed):
    assert lifecycle.can_stop(status) is allowed


NOTHING_EXPOSED_ROWS = [
    # id, status, start_at, nothing exposed yet
    ("pending, start ahead", PENDING, NOW + DAY, True),
    ("pending, start passed (no beneficiary saw anything)", PENDING, NOW - DAY, True),
    ("scheduled, start ahead", SCHEDULED, NOW + SECOND, True),
    ("scheduled in the cache but the start has come", SCHEDULED, NOW, False),
    ("in progress", IN_PROGRESS, NOW - DAY, False),
    ("stopped", STOPPED, NOW - DAY, False),
    ("terminated", TERMINATED, NOW - 2 * DAY, False),
]


@pytest.mark.parametrize(
    ("status", "start_at", "nothing_exposed"),
    [row[1:] for row in NOTHING_EXPOSED_ROWS],
    ids=[row[0] for row in NOTHING_EXPOSED_ROWS],
)
def test_deletion_refusal(status, start_at, nothing_exposed):
    refusal = lifecycle.deletion_refusal(status=status, start_at=start_at, now=NOW)
    if nothing_exposed:
        assert refusal is None
    else:
        expected = "sharing_ended" if status in (STOPPED, TERMINATED) else "sharing_started"
        assert (refusal.code, refusal.conflict) == (expected, True)


@pytest.mark.parametrize(
    ("status", "start_at", "nothing_exposed"),
    [row[1:] for row in NOTHING_EXPOSED_ROWS],
    ids=[row[0] for row in NOTHING_EXPOSED_ROWS],
)
def test_data_packs_change_refusal(status, start_at, nothing_exposed):
    refusal = lifecycle.data_packs_change_refusal(status=status, start_at=start_at, now=NOW)
    if nothing_exposed:
        assert refusal is None
    else:
        assert (refusal.code, refusal.conflict, refusal.field) == ("data_packs_locked", True, "data_packs")
