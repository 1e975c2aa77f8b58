"""What the layers above sharing hear of its changes (DESIGN §9 events): the services announce every change of a
sharing inside their own transaction, and the receivers registered in an AppConfig.ready() (the events app) write
what they need in that same transaction, so a rollback leaves nothing behind. sharing never imports them (DESIGN §5).

The integrations beside the events app (contracts) announce their own changes here too, with what each organisation
is shown already rendered (`views`): they are siblings of the events app and may not import it."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import models

from accounts.hooks import Hook

from .lifecycle import SharingStatus
from .models import Sharing


class ChangeType(models.TextChoices):
    """The changes of DESIGN §9, by the name integrations know them under."""

    SHARING_CREATED = "sharing.created"
    SHARING_UPDATED = "sharing.updated"
    SHARING_STARTED = "sharing.started"
    SHARING_STOPPED = "sharing.stopped"
    SHARING_ENDED = "sharing.ended"
    SHARING_DELETED = "sharing.deleted"
    INVITATION_ACCEPTED = "invitation.accepted"
    CONTRACT_APPLIED = "contract.applied"
    EXTENSION_REQUESTED = "extension.requested"
    EXTENSION_APPROVED = "extension.approved"
    EXTENSION_DECLINED = "extension.declined"


@dataclass(frozen=True)
class Change:
    """One change, as the organisations that may see it hear of it.

    A sharing's change carries the sharing as it is after the change (as it was, for a deletion), with its owner and
    beneficiary loaded: each organisation is then shown the sharing as the API shows it to that organisation. Any
    other subject carries `views`, what each organisation is shown, keyed by organisation id (only those may see it).
    A change about something of a sharing's (an extension request) carries both: its owner and beneficiary see it,
    each with the sharing as shown to them under "sharing".
    """

    type: str
    occurred_at: datetime
    subject_type: str
    subject_id: uuid.UUID
    sharing: Sharing | None = None
    views: Mapping[Any, dict] | None = None

    @property
    def organisation_ids(self) -> list:
        """Who may see it: a sharing's owner, and its beneficiary once known; for other subjects, whom `views` name."""
        if self.sharing is None:
            return list(self.views or {})
        return [self.sharing.owner_id] + ([self.sharing.beneficiary_id] if self.sharing.beneficiary_id else [])


#: Receivers: (*, changes: list[Change]) → None, called inside the writer's transaction: once per service call, once
#: per batch of the lifecycle job, so a receiver can write a whole batch in a fixed number of statements.
changes_announced = Hook("changes_announced")


def changes_announce(changes: Iterable[Change]) -> None:
    changes = list(changes)
    if changes:
        changes_announced.run(changes=changes)


def sharing_change(change_type: str, sharing: Sharing, *, now: datetime) -> Change:
    return Change(type=change_type, occurred_at=now, subject_type="sharing", subject_id=sharing.pk, sharing=sharing)


def lifecycle_change_type(*, old_status: str, new_status: str) -> str | None:
    """What a move of the calendar is called: reaching in progress is a start, reaching terminated an end (straight
    from scheduled too, when both passed while the scheduler was down)."""
    if new_status == SharingStatus.IN_PROGRESS and old_status != SharingStatus.IN_PROGRESS:
        return ChangeType.SHARING_STARTED
    if new_status == SharingStatus.TERMINATED and old_status != SharingStatus.TERMINATED:
        return ChangeType.SHARING_ENDED
    return None
