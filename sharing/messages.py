"""The sharing e-mails of DESIGN §3, as the outbox's message kinds: the services call the notify_* functions inside
their transaction, and the outbox delivers after commit (outbox/delivery.py states how, and its guarantees). Each kind
has its templates under templates/emails/<kind>/. Registered in SharingConfig.ready()."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.models import Language, User
from audit.models import AuditEvent
from outbox.email import absolute_url
from outbox.kinds import MessageKind, message_kinds_register
from outbox.models import Message
from outbox.services import message_queue, messages_drop

from .lifecycle import OPEN_STATUSES, SharingStatus
from .models import Sharing

MACHINES_LISTED = 20
#: The subject type of every sharing message: the outbox keeps the sharing by type and id.
SUBJECT = "sharing"


class SharingMessage(models.TextChoices):
    INVITATION = "sharing_invitation", _("Invitation to a sharing")
    CREATED = "sharing_created", _("Sharing created")
    STARTED = "sharing_started", _("Sharing started")
    DATES_CHANGED = "sharing_dates_changed", _("Sharing dates changed")
    STOPPED = "sharing_stopped", _("Sharing stopped")
    ENDED = "sharing_ended", _("Sharing ended")
    INVITATION_ACCEPTED = "invitation_accepted", _("Invitation accepted")


# --- queueing: called by the services, inside their transaction ------------------------------------------------------


def notify_sharing_created(sharing: Sharing, *, occurrence: str = "created") -> Message | None:
    """Tell the recipient of a new sharing: an invitation with a sign-up link while pending, a summary otherwise.
    A sharing created already in progress gets only this summary (it says the data is available now), no "started"."""
    message = SharingMessage.INVITATION if sharing.beneficiary_id is None else SharingMessage.CREATED
    return _queue_for_recipient(sharing, message=message, key=f"sharing:{sharing.pk}:{occurrence}")


def notify_recipient_changed(sharing: Sharing, *, audit_event: AuditEvent) -> Message | None:
    """The sharing now goes to another person: they get what a new recipient gets (the invitation moves with it)."""
    return notify_sharing_created(sharing, occurrence=f"recipient_changed:{audit_event.pk}")


def notify_dates_changed(
    sharing: Sharing, *, previous_start_at: dt.datetime, previous_end_at: dt.datetime | None, audit_event: AuditEvent
) -> Message | None:
    return _queue_for_recipient(
        sharing,
        message=SharingMessage.DATES_CHANGED,
        key=f"sharing:{sharing.pk}:dates_changed:{audit_event.pk}",
        extra={"previous_start_at": _iso(previous_start_at), "previous_end_at": _iso(previous_end_at)},
    )


def notify_stopped(sharing: Sharing) -> Message | None:
    return _queue_for_recipient(sharing, message=SharingMessage.STOPPED, key=f"sharing:{sharing.pk}:stopped")


def notify_status_changed(sharing: Sharing, *, old_status: str, new_status: str) -> Message | None:
    """A status reached by the calendar: scheduled → in progress is "started", any open status → terminated is "ended"
    (straight from scheduled when the sharing both started and ended while the scheduler was down: a "started" after
    the end would mislead). Pending → in progress happens when the recipient accepts (they are on the portal already)
    or when the recipient is changed to someone with an account (who gets the full summary): no "started" then."""
    if new_status == SharingStatus.IN_PROGRESS and old_status == SharingStatus.SCHEDULED:
        message, event = SharingMessage.STARTED, "started"
    elif new_status == SharingStatus.TERMINATED and old_status in OPEN_STATUSES:
        message, event = SharingMessage.ENDED, "ended"
    else:
        return None
    return _queue_for_recipient(
        sharing, message=message, key=f"sharing:{sharing.pk}:{event}", extra={"status": new_status}
    )


def notify_invitation_accepted(sharing: Sharing, *, invitee: User) -> Message | None:
    """Tell the sender that the recipient signed up and the sharing attached. The switch concerns the recipient only,
    so this goes regardless. A sharing sent by an API key, or by a user who has left the owner organisation, has no
    one to tell."""
    sender = sharing.sender
    if sender is None or sender.organisation_id != sharing.owner_id or not sender.is_active:
        return None
    return message_queue(
        key=f"sharing:{sharing.pk}:accepted",
        kind=SharingMessage.INVITATION_ACCEPTED,
        organisation=sharing.owner,
        subject_id=sharing.pk,
        recipient=sender.email,
        language=_supported_language(sender.preferred_language),
        time_zone=sharing.owner.timezone,
        context={**sharing_context(sharing), "invitee_email": invitee.email},
    )


def messages_of_sharing_drop(sharing: Sharing) -> int:
    """A deleted sharing takes its messages with it, sent or not (as its foreign key did before the outbox became
    generic): nothing is left to say about it, and nothing of it stays in the outbox."""
    return messages_drop(subject_type=SUBJECT, subject_ids=[sharing.pk])


def _queue_for_recipient(sharing: Sharing, *, message: str, key: str, extra: dict | None = None) -> Message | None:
    if not sharing.notification_enabled:
        return None
    recipient = User.objects.filter(email=sharing.recipient_email).select_related("organisation").first()
    language = recipient.preferred_language if recipient is not None else sharing.owner.language
    time_zone = sharing.beneficiary.timezone if sharing.beneficiary is not None else sharing.owner.timezone
    return message_queue(
        key=key,
        kind=message,
        organisation=sharing.owner,
        subject_id=sharing.pk,
        recipient=sharing.recipient_email,
        language=_supported_language(language),
        time_zone=time_zone,
        context={**sharing_context(sharing), **(extra or {})},
    )


def _supported_language(language: str | None) -> str:
    return language if language in Language.values else Language.ENGLISH


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.astimezone(dt.UTC).isoformat() if moment is not None else None


def sharing_context(sharing: Sharing) -> dict:
    """What the message says, as it is at the moment of the change (a later change gets its own message)."""
    machine_count = sharing.sharing_machines.count()
    machines = [str(machine) for machine in sharing.machines.all()[:MACHINES_LISTED]]
    return {
        "sharing_id": str(sharing.pk),
        "reference": sharing.reference,
        "owner": sharing.owner.name,
        "beneficiary": sharing.beneficiary.name if sharing.beneficiary else sharing.recipient_organisation_name,
        "beneficiary_known": sharing.beneficiary_id is not None,
        "recipient_email": sharing.recipient_email,
        "sender": sharing.sender_label,
        "machines": machines,
        "machine_count": machine_count,
        "start_at": _iso(sharing.start_at),
        "end_at": _iso(sharing.end_at),
        "stopped_at": _iso(sharing.stopped_at),
        "status": sharing.status,
    }


# --- rendering, at send time ------------------------------------------------------------------------------------------


def sharing_url(sharing_id) -> str:
    return absolute_url(reverse("sharing:detail", args=[sharing_id]))


def signup_url(email: str) -> str:
    return absolute_url(f"{reverse('account_signup')}?{urlencode({'email': email})}")


def _moment(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def _email_context(message: Message) -> dict:
    """The templates' context: what was captured at the change, with dates as datetimes and absolute links."""
    data = message.context
    return {
        **data,
        **{
            name: _moment(data.get(name))
            for name in ("start_at", "end_at", "stopped_at", "previous_start_at", "previous_end_at")
        },
        "more_machines": max(data.get("machine_count", 0) - len(data.get("machines", [])), 0),
        "sharing_url": sharing_url(data["sharing_id"]),
        "signup_url": signup_url(message.recipient),
    }


def register() -> None:
    message_kinds_register(
        *(
            MessageKind(name=value, label=label, subject_type=SUBJECT, render_context=_email_context)
            for value, label in SharingMessage.choices
        )
    )
