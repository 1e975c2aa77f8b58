"""DESIGN §7's rules of the plan, row by row, on the pure plan engine (contracts/plan.py): a desired state and the
contract's sharings as they are → the steps. The wall clock is frozen years away from NOW: the engine must use the
`now` it is given."""

import datetime as dt
import uuid

import pytest

from contracts.plan import Action, Current, Desired, Line, contract_plan, desired_from_state
from fleet.data_packs import ALL_DATA_PACKS
from sharing.lifecycle import Refusal, SharingStatus

UTC = dt.UTC
NOW = dt.datetime(2026, 7, 12, 9, 0, tzinfo=UTC)
DAY = dt.timedelta(days=1)
A, B, C = (uuid.UUID(int=n) for n in (1, 2, 3))
BENEFICIARY, OTHER_ORGANISATION = "beneficiary-org", "other-org"
RECIPIENT = "site@buildco.example"


@pytest.fixture(autouse=True)
def wall_clock_elsewhere(frozen):
    frozen(dt.datetime(2001, 1, 1, tzinfo=UTC))


def desired(*lines, status="active", **fields):
    values = {
        "reference": "C-1",
        "status": status,
        "recipient_email": RECIPIENT,
        "start_at": NOW + DAY,
        "end_at": NOW + 30 * DAY,
        "data_packs": tuple(ALL_DATA_PACKS),
        "lines": tuple(lines),
    }
    return Desired(**{**values, **fields})


def sharing(asset, line="", *, status=SharingStatus.SCHEDULED, **fields):
    values = {
        "id": uuid.uuid4(),
        "asset_id": asset,
        "line_reference": line,
        "status": status,
        "beneficiary_id": None if status == SharingStatus.PENDING else BENEFICIARY,
        "recipient_email": RECIPIENT,
        "reference": "C-1",
        "start_at": NOW + DAY,
        "end_at": NOW + 30 * DAY,
        "stopped_at": None,
        "data_packs": tuple(ALL_DATA_PACKS),
        "properties": {},
        "notification_enabled": True,
    }
    return Current(**{**values, **fields})


def plan(wanted, sharings=(), *, organisation=BENEFICIARY, unusable=None):
    return contract_plan(
        desired=wanted,
        sharings=list(sharings),
        recipient_organisation_id=organisation,
        unusable_assets=unusable or {},
        now=NOW,
    )


def actions(result):
    return [(step.action, step.asset_id, step.code or None) for step in result.steps]


STARTED = {"status": SharingStatus.IN_PROGRESS, "start_at": NOW - DAY}

ROWS = [
    # id, desired, sharings, expected (action, asset, code)
    ("new contract: one create per line", desired(Line(A), Line(B)), [], [("create", A, None), ("create", B, None)]),
    ("same state: noop", desired(Line(A)), [sharing(A)], [("noop", A, None)]),
    ("machine added", desired(Line(A), Line(B)), [sharing(A)], [("noop", A, None), ("create", B, None)]),
    (
        "line gone before the start: delete",
        desired(Line(A)),
        [sharing(A), sharing(B)],
        [("noop", A, None), ("delete", B, None)],
    ),
    (
        "line gone after the start: stop",
        desired(Line(A)),
        [sharing(A), sharing(B, **STARTED)],
        [("noop", A, None), ("stop", B, None)],
    ),
    (
        "line gone, already ended: nothing",
        desired(Line(A)),
        [sharing(A), sharing(B, status=SharingStatus.TERMINATED, start_at=NOW - 9 * DAY, end_at=NOW - DAY)],
        [("noop", A, None)],
    ),
    (
        "swap by line reference: stop + create",
        desired(Line(B, "L1")),
        [sharing(A, "L1", **STARTED)],
        [("stop", A, None), ("create", B, None)],
    ),
    (
        "swap before the start: delete + create",
        desired(Line(B, "L1")),
        [sharing(A, "L1")],
        [("delete", A, None), ("create", B, None)],
    ),
    (
        "swap without line references: stop + create",
        desired(Line(B)),
        [sharing(A, **STARTED)],
        [("create", B, None), ("stop", A, None)],
    ),
    (
        "extension: the end moves",
        desired(Line(A), end_at=NOW + 60 * DAY, start_at=NOW - DAY),
        [sharing(A, **STARTED)],
        [("update", A, None)],
    ),
    (
        "extension after the end: the rule's conflict",
        desired(Line(A), end_at=NOW + 60 * DAY),
        [sharing(A, status=SharingStatus.TERMINATED, start_at=NOW - 9 * DAY, end_at=NOW - DAY)],
        [("conflict", A, "sharing_ended")],
    ),
    (
        "past start moved: conflict",
        desired(Line(A), start_at=NOW - 2 * DAY),
        [sharing(A, **STARTED)],
        [("conflict", A, "start_locked")],
    ),
    (
        "packs after the start: conflict",
        desired(Line(A), data_packs=("essential",), start_at=NOW - DAY),
        [sharing(A, **STARTED)],
        [("conflict", A, "data_packs_locked")],
    ),
    (
        "packs before the start: update",
        desired(Line(A), data_packs=("essential",)),
        [sharing(A)],
        [("update", A, None)],
    ),
    (
        "contact change in the same organisation: update",
        desired(Line(A), recipient_email="boss@buildco.example", start_at=NOW - DAY),
        [sharing(A, **STARTED)],
        [("update", A, None)],
    ),
    (
        "completed: stop what started, delete what did not",
        desired(Line(A), Line(B), status="completed"),
        [sharing(A, **STARTED), sharing(B)],
        [("stop", A, None), ("delete", B, None)],
    ),
    (
        "cancelled before the start: delete everything",
        desired(Line(A), status="cancelled"),
        [sharing(A), sharing(B, status=SharingStatus.PENDING)],
        [("delete", A, None), ("delete", B, None)],
    ),
    (
        "completed again: noop",
        desired(Line(A), status="completed"),
        [sharing(A, status=SharingStatus.STOPPED, start_at=NOW - 9 * DAY, stopped_at=NOW - DAY)],
        [("noop", A, None)],
    ),
    (
        "a start more than a year ago: the rule's conflict",
        desired(Line(A), start_at=NOW - 400 * DAY),
        [],
        [("conflict", A, "start_too_early")],
    ),
    (
        "an end already passed: the rule's conflict",
        desired(Line(A, end_at=NOW - DAY), start_at=NOW - 9 * DAY),
        [],
        [("conflict", A, "end_in_past")],
    ),
    ("a line's own dates", desired(Line(A, start_at=NOW + 5 * DAY)), [sharing(A)], [("update", A, None)]),
]


@pytest.mark.parametrize(("wanted", "sharings", "expected"), [row[1:] for row in ROWS], ids=[row[0] for row in ROWS])
def test_the_plan_follows_design_7(wanted, sharings, expected):
    assert sorted(actions(plan(wanted, sharings)), key=str) == sorted(expected, key=str)


def test_a_recipient_in_another_organisation_is_a_new_sharing_never_a_silent_move():
    started = sharing(A, **STARTED)
    result = plan(
        desired(Line(A), recipient_email="someone@elsewhere.example"), [started], organisation=OTHER_ORGANISATION
    )
    assert actions(result) == [("stop", A, None), ("create", A, None)]
    result = plan(desired(Line(A), recipient_email="new@nowhere.example"), [started], organisation=None)
    assert actions(result) == [("stop", A, None), ("create", A, None)]


def test_a_pending_sharing_takes_any_new_recipient():
    pending = sharing(A, status=SharingStatus.PENDING)
    result = plan(desired(Line(A), recipient_email="new@nowhere.example"), [pending], organisation=None)
    assert actions(result) == [("update", A, None)]
    assert [change.field for change in result.steps[0].changes] == ["recipient"]


def test_a_swap_waits_whole_when_its_new_machine_cannot_be_shared():
    refusal = Refusal("resharing_forbidden", "Machines shared with your organisation can never be shared on.", "", True)
    result = plan(desired(Line(B, "L1")), [sharing(A, "L1", **STARTED)], unusable={B: refusal})
    assert actions(result) == [("conflict", A, "resharing_forbidden"), ("conflict", B, "resharing_forbidden")]
    assert not result.writes


def test_an_update_lists_each_change_before_and_after():
    result = plan(
        desired(
            Line(A), start_at=NOW - DAY, end_at=NOW + 60 * DAY, properties={"site": "Lyon"}, notification_enabled=False
        ),
        [sharing(A, **STARTED)],
    )
    (step,) = result.steps
    assert [change.as_json() for change in step.changes] == [
        {"field": "endDate", "before": "2026-08-11T09:00:00Z", "after": "2026-09-10T09:00:00Z"},
        {"field": "properties", "before": {}, "after": {"site": "Lyon"}},
        {"field": "notificationEnabled", "before": True, "after": False},
    ]
    assert step.values == {"endDate": NOW + 60 * DAY, "properties": {"site": "Lyon"}, "notificationEnabled": False}


def test_a_conflict_carries_the_rule_code_and_message():
    (step,) = plan(desired(Line(A), start_at=NOW - 2 * DAY), [sharing(A, **STARTED)]).steps
    assert step.as_json()["code"] == "start_locked"
    assert step.as_json()["reason"] == "The start is in the past and can no longer be changed."
    assert step.intended == Action.UPDATE


def test_a_duplicate_line_is_warned_and_kept_once():
    result = plan(desired(Line(A, "L1"), Line(B, "L1"), Line(C), Line(C)))
    assert actions(result) == [("create", A, None), ("create", C, None)]
    assert [(warning.code, warning.asset_id) for warning in result.warnings] == [
        ("duplicate_line", B),
        ("duplicate_line", C),
    ]


def test_drift_names_each_field_edited_by_hand_and_the_desired_state_wins():
    applied = sharing(A).snapshot()
    edited = sharing(A, end_at=NOW + 10 * DAY, properties={"site": "by hand"}, applied=applied)
    result = plan(desired(Line(A)), [edited])
    assert [(warning.code, warning.field) for warning in result.warnings] == [
        ("drift", "endDate"),
        ("drift", "properties"),
    ]
    assert actions(result) == [("update", A, None)]
    assert {change.field for change in result.steps[0].changes} == {"endDate", "properties"}


def test_no_drift_without_a_hand_edit():
    applied = sharing(A).snapshot()
    assert plan(desired(Line(A)), [sharing(A, applied=applied)]).warnings == ()


def test_the_same_desired_state_writes_nothing():
    result = plan(desired(Line(A, "L1"), Line(B, "L2")), [sharing(A, "L1"), sharing(B, "L2")])
    assert not result.writes
    assert result.summary == {"create": 0, "update": 0, "stop": 0, "delete": 0, "noop": 2, "conflict": 0}


def test_a_line_whose_period_is_over_stays_matched():
    ended = sharing(A, "L1", status=SharingStatus.TERMINATED, start_at=NOW - 30 * DAY, end_at=NOW - DAY)
    result = plan(desired(Line(A, "L1"), start_at=NOW - 30 * DAY, end_at=NOW - DAY), [ended])
    assert actions(result) == [("noop", A, None)]


def test_the_stored_state_reads_back_as_the_same_desired_state():
    wanted = desired(Line(A, "L1", start_at=NOW + 2 * DAY), Line(B), properties={"site": "Lyon"})
    assert desired_from_state("C-1", wanted.as_state()) == wanted
