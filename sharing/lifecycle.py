"""The sharing lifecycle as pure functions of a sharing's fields and `now` (DESIGN §3).

Nothing here touches the database: services call these to decide, and tests pin them row by row."""

from dataclasses import dataclass
from datetime import datetime

from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fleet.access import Window
from hiboo_connect.dates import after_last_day


class SharingStatus(models.TextChoices):
    PENDING = "pending", gettext_lazy("Pending")
    SCHEDULED = "scheduled", gettext_lazy("Scheduled")
    IN_PROGRESS = "in_progress", gettext_lazy("In progress")
    STOPPED = "stopped", gettext_lazy("Stopped")
    TERMINATED = "terminated", gettext_lazy("Terminated")


#: Statuses the lifecycle job may still move on; stopped and terminated are final.
OPEN_STATUSES = (SharingStatus.PENDING, SharingStatus.SCHEDULED, SharingStatus.IN_PROGRESS)
#: Statuses of a sharing whose start the lifecycle job has not acted on yet.
NOT_STARTED_STATUSES = (SharingStatus.PENDING, SharingStatus.SCHEDULED)


def sharing_status(
    *, beneficiary_known: bool, start_at: datetime, end_at: datetime | None, stopped_at: datetime | None, now: datetime
) -> str:
    """The first row of DESIGN §3's table that matches wins."""
    if stopped_at is not None:
        return SharingStatus.STOPPED
    if end_at is not None and end_at <= now:
        return SharingStatus.TERMINATED
    if not beneficiary_known:
        return SharingStatus.PENDING
    if now < start_at:
        return SharingStatus.SCHEDULED
    return SharingStatus.IN_PROGRESS


def effective_end(*, end_at: datetime | None, stopped_at: datetime | None) -> datetime | None:
    """min(end_at, stopped_at), either may be empty; None means open-ended."""
    ends = [moment for moment in (end_at, stopped_at) if moment is not None]
    return min(ends) if ends else None


# The rules below that select sharings have a query twin of the same name on Sharing.objects (models.SharingQuerySet);
# tests/sharing/test_lifecycle_queries.py holds each pair to the same answers.


def window_reaches(*, end_at: datetime | None, stopped_at: datetime | None, moment: datetime) -> bool:
    """The access window still reaches `moment`: it was neither stopped nor ended at or before it."""
    end = effective_end(end_at=end_at, stopped_at=stopped_at)
    return end is None or moment < end


def running_at(
    *, beneficiary_known: bool, start_at: datetime, end_at: datetime | None, stopped_at: datetime | None, now: datetime
) -> bool:
    """Data flows to a known beneficiary at `now`: the window has started and still reaches `now`."""
    return beneficiary_known and start_at <= now and window_reaches(end_at=end_at, stopped_at=stopped_at, moment=now)


def overlapping(
    *,
    start_at: datetime,
    end_at: datetime | None,
    stopped_at: datetime | None,
    period_start: datetime,
    period_end: datetime | None,
) -> bool:
    """The access window overlaps the period [period_start, period_end) (period_end None: open-ended)."""
    starts_in_time = period_end is None or start_at < period_end
    return starts_in_time and window_reaches(end_at=end_at, stopped_at=stopped_at, moment=period_start)


def due_to_start(*, status: str, beneficiary_known: bool, start_at: datetime, now: datetime) -> bool:
    """The lifecycle job must look at it because its start passed: not started yet by the cached status, with a
    beneficiary (a pending invitation stays pending whatever the start)."""
    return status in NOT_STARTED_STATUSES and beneficiary_known and start_at <= now


def due_to_end(*, status: str, end_at: datetime | None, now: datetime) -> bool:
    """The lifecycle job must look at it because its end passed while the cached status is still open."""
    return status in OPEN_STATUSES and end_at is not None and end_at <= now


def access_window(*, start_at: datetime, end_at: datetime | None, stopped_at: datetime | None) -> Window:
    return Window(start=start_at, end=effective_end(end_at=end_at, stopped_at=stopped_at))


def one_year_before(now: datetime) -> datetime:
    """The same instant one calendar year earlier (29 February falls back to 28 February)."""
    try:
        return now.replace(year=now.year - 1)
    except ValueError:
        return now.replace(year=now.year - 1, day=28)


@dataclass(frozen=True)
class Refusal:
    """Why a change is refused: a machine-readable code, a human message and the field at fault."""

    code: str
    message: str
    field: str
    #: True when the rules forbid the change in the current state (409), False when the new value is wrong (400).
    conflict: bool = False


def too_late_refusal(moment: datetime | None, field: str) -> Refusal | None:
    """No date after 31 December 2099 (read in the time zone it was given in): an open-ended sharing leaves its end
    empty. Every path that sets a date (forms, API, contract sync, imports) reaches this through the services."""
    if moment is None or not after_last_day(moment):
        return None
    if field == "end_at":
        message = _("The end cannot be after 31 December 2099; leave it empty for an open-ended sharing.")
    else:
        message = _("The start cannot be after 31 December 2099.")
    return Refusal("date_after_2099", message, field)


def creation_dates_refusal(*, start_at: datetime, end_at: datetime | None, now: datetime) -> Refusal | None:
    """Dates of a new sharing: start no earlier than one rolling year ago and no later than 2099; end empty or after
    both start and now, and no later than 2099."""
    too_late = too_late_refusal(start_at, "start_at") or too_late_refusal(end_at, "end_at")
    if too_late is not None:
        return too_late
    if start_at < one_year_before(now):
        return Refusal("start_too_early", _("The start cannot be more than one year in the past."), "start_at")
    if end_at is not None and end_at <= start_at:
        return Refusal("end_before_start", _("The end must be after the start."), "end_at")
    if end_at is not None and end_at <= now:
        return Refusal("end_in_past", _("The end must be in the future."), "end_at")
    return None


@dataclass(frozen=True)
class EditableDates:
    """Which of a sharing's dates may still change; for a date that may not, the refusal that says why."""

    start_lock: Refusal | None
    end_lock: Refusal | None

    @property
    def start(self) -> bool:
        return self.start_lock is None

    @property
    def end(self) -> bool:
        return self.end_lock is None


def editable_dates(*, status: str, start_at: datetime, end_at: datetime | None, now: datetime) -> EditableDates:
    """A date can change only while it is in the future (an empty end counts as ahead), and never once the sharing has
    ended. This is the part of the date rules that depends on the current state alone: the edit form reads it to
    lock its fields, and start_change_refusal / end_change_refusal start from it before judging the new value."""
    if status in (SharingStatus.STOPPED, SharingStatus.TERMINATED):
        message = _("This sharing has ended; its dates can no longer be changed.")
        return EditableDates(
            start_lock=Refusal("sharing_ended", message, "start_at", True),
            end_lock=Refusal("sharing_ended", message, "end_at", True),
        )
    start_lock = end_lock = None
    if start_at <= now:
        start_lock = Refusal(
            "start_locked", _("The start is in the past and can no longer be changed."), "start_at", True
        )
    if end_at is not None and end_at <= now:
        end_lock = Refusal("end_locked", _("The end is in the past and can no longer be changed."), "end_at", True)
    return EditableDates(start_lock=start_lock, end_lock=end_lock)


def start_change_refusal(
    *, status: str, current_start: datetime, new_start: datetime, end_at: datetime | None, now: datetime
) -> Refusal | None:
    """A start changes only while it is in the future, only to a future value, and stays before the end."""
    locked = editable_dates(status=status, start_at=current_start, end_at=None, now=now).start_lock
    if locked is not None:
        return locked
    if (too_late := too_late_refusal(new_start, "start_at")) is not None:
        return too_late
    if new_start <= now:
        return Refusal("start_in_past", _("The new start must be in the future."), "start_at")
    if end_at is not None and end_at <= new_start:
        return Refusal("end_before_start", _("The start must be before the end."), "start_at")
    return None


def end_change_refusal(
    *, status: str, current_end: datetime | None, new_end: datetime | None, start_at: datetime, now: datetime
) -> Refusal | None:
    """An end changes only while it is empty or in the future, only to empty or a future value after the start."""
    locked = editable_dates(status=status, start_at=start_at, end_at=current_end, now=now).end_lock
    if locked is not None:
        return locked
    if (too_late := too_late_refusal(new_end, "end_at")) is not None:
        return too_late
    if new_end is not None and new_end <= now:
        return Refusal("end_in_past", _("The new end must be in the future."), "end_at")
    if new_end is not None and new_end <= start_at:
        return Refusal("end_before_start", _("The end must be after the start."), "end_at")
    return None


def can_stop(status: str) -> bool:
    return status in OPEN_STATUSES


def nothing_exposed(*, status: str, start_at: datetime, now: datetime) -> bool:
    """True while no data can have reached a beneficiary: pending, or scheduled with the start still ahead."""
    return status == SharingStatus.PENDING or (status == SharingStatus.SCHEDULED and start_at > now)


def deletion_refusal(*, status: str, start_at: datetime, now: datetime) -> Refusal | None:
    """Deleting is allowed only while nothing has been exposed; a started sharing is stopped, never deleted."""
    if nothing_exposed(status=status, start_at=start_at, now=now):
        return None
    if status in (SharingStatus.STOPPED, SharingStatus.TERMINATED):
        return Refusal(
            "sharing_ended",
            _("This sharing has ended: it is kept, with its audit trail, for the record."),
            "",
            True,
        )
    return Refusal(
        "sharing_started",
        _("This sharing has started: stop it instead, so the beneficiary keeps the history of the shared period."),
        "",
        True,
    )


def data_packs_change_refusal(*, status: str, start_at: datetime, now: datetime) -> Refusal | None:
    """Data packs change only while the sharing has not started."""
    if nothing_exposed(status=status, start_at=start_at, now=now):
        return None
    return Refusal(
        "data_packs_locked",
        _("The data packs can no longer be changed: the sharing has started."),
        "data_packs",
        True,
    )
