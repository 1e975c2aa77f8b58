"""Each rule of lifecycle.py that selects sharings against its query twin on Sharing.objects (SharingQuerySet): over a
grid of stored sharings × instants, the queryset keeps exactly the rows for which the pure function answers True.

The grid's dates sit on whole days around NOW so every instant lands on the boundaries (a start, an end, a stop) as
well as between them. The wall clock is frozen years away from NOW: a query that read it would disagree."""

import datetime as dt
import itertools

import pytest

from sharing import lifecycle
from sharing.lifecycle import SharingStatus
from sharing.models import Sharing, SharingMachine, SharingQuerySet
from sharing.selectors import sharings_due
from tests.factories import MachineFactory, OrganisationFactory

UTC = dt.UTC
NOW = dt.datetime(2026, 7, 12, 9, 0, tzinfo=UTC)
DAY = dt.timedelta(days=1)

STARTS = (NOW - 2 * DAY, NOW)
ENDS = (None, NOW - DAY, NOW + DAY)
STOPS = (None, NOW - 3 * DAY, NOW - DAY, NOW, NOW + DAY)
INSTANTS = tuple(NOW + days * DAY for days in range(-4, 4))
PERIODS = tuple(
    (start, end) for start, end in itertools.product(INSTANTS, (None, *INSTANTS)) if end is None or end > start
)


def _fields():
    """Every combination of the grid a sharing can hold (the end stays after the start)."""
    for beneficiary_known, start_at, end_at, stopped_at in itertools.product((False, True), STARTS, ENDS, STOPS):
        if end_at is None or end_at > start_at:
            yield {
                "beneficiary_known": beneficiary_known,
                "start_at": start_at,
                "end_at": end_at,
                "stopped_at": stopped_at,
            }


@pytest.fixture(autouse=True)
def wall_clock_elsewhere(frozen):
    frozen(dt.datetime(2001, 1, 1, tzinfo=UTC))


@pytest.fixture
def grid(db):
    """One stored sharing per combination of fields and cached status: sharing id → (fields, cached status)."""
    owner, beneficiary = OrganisationFactory(), OrganisationFactory()
    rows = {}
    sharings = []
    for fields, status in itertools.product(list(_fields()), SharingStatus.values):
        sharing = Sharing(
            owner=owner,
            beneficiary=beneficiary if fields["beneficiary_known"] else None,
            sender_label="grid",
            recipient_email="grid@example.com",
            start_at=fields["start_at"],
            end_at=fields["end_at"],
            stopped_at=fields["stopped_at"],
            status=status,
        )
        sharings.append(sharing)
        rows[sharing.pk] = (fields, status)
    Sharing.objects.bulk_create(sharings)
    return rows


def _ids(queryset):
    return set(queryset.values_list("pk", flat=True))


def _expected(grid, rule):
    return {pk for pk, (fields, status) in grid.items() if rule(fields, status)}


@pytest.mark.parametrize("moment", INSTANTS)
def test_window_reaches(grid, moment):
    expected = _expected(
        grid,
        lambda fields, status: lifecycle.window_reaches(
            end_at=fields["end_at"], stopped_at=fields["stopped_at"], moment=moment
        ),
    )
    assert _ids(Sharing.objects.window_reaches(moment)) == expected
    assert _ids(Sharing.objects.window_ended_by(moment)) == set(grid) - expected


@pytest.mark.parametrize("now", INSTANTS)
def test_status_expression(grid, now):
    expected = {pk: lifecycle.sharing_status(**fields, now=now) for pk, (fields, _status) in grid.items()}
    statuses = Sharing.objects.annotate(now_status=SharingQuerySet.status_expression(now))
    assert dict(statuses.values_list("pk", "now_status")) == expected


@pytest.mark.parametrize("now", INSTANTS)
def test_running_at(grid, now):
    expected = _expected(grid, lambda fields, status: lifecycle.running_at(**fields, now=now))
    assert _ids(Sharing.objects.running_at(now)) == expected


@pytest.mark.parametrize(("period_start", "period_end"), PERIODS)
def test_overlapping(grid, period_start, period_end):
    expected = _expected(
        grid,
        lambda fields, status: lifecycle.overlapping(
            start_at=fields["start_at"],
            end_at=fields["end_at"],
            stopped_at=fields["stopped_at"],
            period_start=period_start,
            period_end=period_end,
        ),
    )
    assert _ids(Sharing.objects.overlapping(period_start, period_end)) == expected


@pytest.mark.parametrize("now", INSTANTS)
def test_due_to_start(grid, now):
    expected = _expected(
        grid,
        lambda fields, status: lifecycle.due_to_start(
            status=status, beneficiary_known=fields["beneficiary_known"], start_at=fields["start_at"], now=now
        ),
    )
    assert _ids(Sharing.objects.due_to_start(now)) == expected


@pytest.mark.parametrize("now", INSTANTS)
def test_due_to_end(grid, now):
    expected = _expected(
        grid, lambda fields, status: lifecycle.due_to_end(status=status, end_at=fields["end_at"], now=now)
    )
    assert _ids(Sharing.objects.due_to_end(now)) == expected


@pytest.mark.parametrize("page_size", [1, 7, 1000])
@pytest.mark.parametrize("now", INSTANTS)
def test_the_lifecycle_job_reads_every_due_sharing_page_by_page(grid, now, page_size):
    """selectors.sharings_due reads each partial index a page at a time (keyset on its date, then the id): pages of
    one row, of seven or a single page find the sharings the two rules find, every row of one moment included (the
    grid holds dozens of rows at each date)."""
    expected = _expected(
        grid,
        lambda fields, status: (
            lifecycle.due_to_start(
                status=status, beneficiary_known=fields["beneficiary_known"], start_at=fields["start_at"], now=now
            )
            or lifecycle.due_to_end(status=status, end_at=fields["end_at"], now=now)
        ),
    )
    assert sharings_due(now, page_size=page_size) == expected


def test_running_at_through_a_relation(grid):
    """The `_q` form reaches the same sharings from a row that points at one (the owner's "who has it now")."""
    machine = MachineFactory()
    SharingMachine.objects.bulk_create([SharingMachine(sharing_id=pk, machine=machine) for pk in grid])
    for now in INSTANTS:
        through = SharingMachine.objects.filter(SharingQuerySet.running_at_q(now, prefix="sharing__"))
        assert set(through.values_list("sharing_id", flat=True)) == _ids(Sharing.objects.running_at(now))


@pytest.mark.parametrize("fields", list(_fields()), ids=str)
def test_the_job_reads_every_sharing_whose_cached_status_is_stale(fields):
    """The status was last computed at `earlier` (a stop writes it at once, so no stop lies between `earlier` and
    `now`); whenever the dates have moved it on by `now`, due_to_start or due_to_end picks the row up."""
    for earlier, now in itertools.combinations(INSTANTS, 2):
        if fields["stopped_at"] is not None and earlier < fields["stopped_at"] <= now:
            continue
        cached = lifecycle.sharing_status(**fields, now=earlier)
        if lifecycle.sharing_status(**fields, now=now) == cached:
            continue
        assert lifecycle.due_to_start(
            status=cached, beneficiary_known=fields["beneficiary_known"], start_at=fields["start_at"], now=now
        ) or lifecycle.due_to_end(status=cached, end_at=fields["end_at"], now=now), (earlier, now, cached)


def test_a_pending_invitation_whose_start_passed_is_not_due_to_start():
    assert not lifecycle.due_to_start(
        status=SharingStatus.PENDING, beneficiary_known=False, start_at=NOW - DAY, now=NOW
    )
