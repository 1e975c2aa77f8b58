"""The sharing e-mails of DESIGN §3, as the outbox's message kinds: the services call the notify_* functions inside
their transaction, and the outbox delivers after commit (outbox/delivery.py states how, and its guarantees). Each kind
has its templates under templates/emails/<kind>/. Registered in SharingConfig.ready()."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import cast
from urllib.parse import urlencode

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.models import Language, Role, User
from audit.models import AuditEvent
from fleet.data_packs import DataPack
from fleet.models import Machine
from hiboo_connect.dates import showable
from outbox.email import absolute_url
from outbox.kinds import MessageKind, message_kinds_register
from outbox.models import Message
from outbox.services import message_build, message_queue, messages_drop, messages_queue_many

from .lifecycle import OPEN_STATUSES, SharingStatus
from .models import Sharing, SharingMachine

MACHINES_LISTED = 20
#: The subject type of every sharing message: the outbox keeps the sharing by type and id.
SUBJECT = "sharing"
#: A recipient not given: look the account up by the sharing's recipient e-mail.
LOOK_UP = object()


class SharingMessage(models.TextChoices):
    INVITATION = "sharing_invitation", _("Invitation to a sharing")
    CREATED = "sharing_created", _("Sharing created")
    STARTED = "sharing_started", _("Sharing started")
    DATES_CHANGED = "sharing_dates_changed", _("Sharing dates changed")
    STOPPED = "sharing_stopped", _("Sharing stopped")
    ENDED = "sharing_ended", _("Sharing ended")
    INVITATION_ACCEPTED = "invitation_accepted", _("Invitation accepted")
    EXTENSION_REQUESTED = "sharing_extension_requested", _("Later end asked for")
    EXTENSION_APPROVED = "sharing_extension_approved", _("Later end approved")
    EXTENSION_DECLINED = "sharing_extension_declined", _("Later end declined")


# --- queueing: called by the services, inside their transaction ------------------------------------------------------


def notify_sharing_created(
    sharing: Sharing, *, occurrence: str = "created", recipient: User | object | None = LOOK_UP, machines=None
) -> Message | None:
    """Tell the recipient of a new sharing: an invitation with a sign-up link while pending, a summary otherwise.
    A sharing created already in progress gets only this summary (it says the data is available now), no "started".
    The creation knows the recipient's account (or None) and the machines (in their order): it passes them."""
    message = SharingMessage.INVITATION if sharing.beneficiary_id is None else SharingMessage.CREATED
    return _queue_for_recipient(
        sharing, message=message, key=f"sharing:{sharing.pk}:{occurrence}", recipient=recipient, machines=machines
    )


def notify_sharings_created(created: Iterable[tuple[Sharing, list]], *, recipient: User | None) -> list[Message]:
    """notify_sharing_created for sharings created together (one recipient), in one outbox write: one e-mail per
    period, listing the machines of every sharing over it ("one sharing per machine" is one e-mail), keyed and
    linked by its first sharing, with `sharing_count` when it tells of several."""
    periods: dict[tuple, list[tuple[Sharing, list]]] = defaultdict(list)
    for sharing, machines in created:
        if sharing.notification_enabled:
            periods[(sharing.start_at, sharing.end_at)].append((sharing, machines))
    return messages_queue_many(
        _message_for_recipient(
            group[0][0],
            recipient=recipient,
            machines=[machine for _sharing, machines in group for machine in machines],
            message=SharingMessage.INVITATION if group[0][0].beneficiary_id is None else SharingMessage.CREATED,
            key=f"sharing:{group[0][0].pk}:created",
            extra={"sharing_count": len(group)} if len(group) > 1 else None,
        )
        for group in periods.values()
    )


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
    event = _calendar_event(old_status=old_status, new_status=new_status)
    if event is None:
        return None
    message, name = event
    return _queue_for_recipient(
        sharing, message=message, key=f"sharing:{sharing.pk}:{name}", extra={"status": new_status}
    )


def notify_status_changed_many(moves: Iterable[tuple[Sharing, str, str]]) -> list[Message]:
    """notify_status_changed for a batch of (sharing, old status, new status) moves of the lifecycle job, in a fixed
    number of statements: the recipients, the machines and the outbox rows are each read or written once. The
    sharings come with their owner and beneficiary loaded."""
    wanted = []
    for sharing, old_status, new_status in moves:
        event = _calendar_event(old_status=old_status, new_status=new_status)
        if event is not None and sharing.notification_enabled:
            wanted.append((sharing, new_status, *event))
    if not wanted:
        return []
    emails = {sharing.recipient_email for sharing, *_rest in wanted}
    recipients = {user.email: user for user in User.objects.filter(email__in=emails).select_related("organisation")}
    machines = _machines_of([sharing.pk for sharing, *_rest in wanted])
    return messages_queue_many(
        _message_for_recipient(
            sharing,
            recipient=recipients.get(sharing.recipient_email),
            message=message,
            key=f"sharing:{sharing.pk}:{name}",
            extra={"status": new_status},
            machines=machines.get(sharing.pk, []),
        )
        for sharing, new_status, message, name in wanted
    )


def _calendar_event(*, old_status: str, new_status: str) -> tuple[str, str] | None:
    if new_status == SharingStatus.IN_PROGRESS and old_status == SharingStatus.SCHEDULED:
        return SharingMessage.STARTED, "started"
    if new_status == SharingStatus.TERMINATED and old_status in OPEN_STATUSES:
        return SharingMessage.ENDED, "ended"
    return None


def _machines_of(sharing_ids: list) -> dict:
    """The machines of each sharing, in the order sharing.machines gives them; each machine made once (a batch's
    sharings often share machines). Two queries."""
    links = list(
        SharingMachine.objects.filter(sharing_id__in=sharing_ids)
        .order_by(*(f"machine__{name}" for name in Machine._meta.ordering or ()))
        .values_list("sharing_id", "machine_id")
    )
    known = Machine.objects.in_bulk({machine_id for _sharing_id, machine_id in links})
    machines: dict = defaultdict(list)
    for sharing_id, machine_id in links:
        machines[sharing_id].append(known[machine_id])
    return machines


def notify_invitations_accepted(sharings: list[Sharing], *, invitee: User) -> list[Message]:
    """Tell each sender that the recipient signed up and their sharings attached: one e-mail per creation (the
    sharings of one sender alike but for their machines, as "one per machine" makes them), listing its machines. The
    switch concerns the recipient only, so this goes regardless. A sharing sent by an API key, or by a user who has
    left the owner organisation, has no one to tell."""
    creations: dict[tuple, list[Sharing]] = defaultdict(list)
    for sharing in sharings:
        sender = sharing.sender
        if sender is None or sender.organisation_id != sharing.owner_id or not sender.is_active:
            continue
        alike = (sender.pk, sharing.reference, sharing.start_at, sharing.end_at, tuple(sharing.data_packs or ()))
        creations[alike].append(sharing)
    if not creations:
        return []
    machines = _machines_of([sharing.pk for group in creations.values() for sharing in group])
    built = []
    for group in creations.values():
        first, sender = group[0], cast(User, group[0].sender)
        group_machines = [machine for sharing in group for machine in machines.get(sharing.pk, [])]
        context = {**sharing_context(first, machines=group_machines), "invitee_email": invitee.email}
        if len(group) > 1:
            context["sharing_count"] = len(group)
        built.append(
            message_build(
                key=f"sharing:{first.pk}:accepted",
                kind=SharingMessage.INVITATION_ACCEPTED,
                organisation=first.owner,
                subject_id=first.pk,
                recipient=sender.email,
                language=_supported_language(sender.preferred_language),
                time_zone=first.owner.timezone,
                context=context,
            )
        )
    return messages_queue_many(built)


# --- extension requests ----------------------------------------------------------------------------------------------


def _extension_context(extension) -> dict:
    return {
        **sharing_context(extension.sharing),
        "extension_id": str(extension.pk),
        "requested_end_at": _iso(extension.end_at),
        "previous_end_at": _iso(extension.previous_end_at),
        "request_message": extension.message,
        "requested_by": extension.requested_by_label,
        "answer": extension.answer,
    }


def notify_extension_requested(extension) -> list[Message]:
    """Tell each active admin of the owner, in their language, that the beneficiary asks for more time."""
    sharing = extension.sharing
    admins = User.objects.filter(organisation_id=sharing.owner_id, role=Role.ADMIN, is_active=True).order_by("pk")
    context = _extension_context(extension)
    return messages_queue_many(
        message_build(
            key=f"extension:{extension.pk}:requested:user:{admin.pk}",
            kind=SharingMessage.EXTENSION_REQUESTED,
            organisation=sharing.owner,
            subject_id=sharing.pk,
            recipient=admin.email,
            language=_supported_language(admin.preferred_language),
            time_zone=sharing.owner.timezone,
            context=context,
        )
        for admin in admins
    )


def notify_extension_answered(extension) -> Message | None:
    """Tell whoever asked (the sharing's recipient when an API key asked) that the request was approved or
    declined. The sharing's notification switch does not silence an answer to a question they asked."""
    sharing = extension.sharing
    asker = extension.requested_by
    if asker is None or not asker.is_active or asker.organisation_id != sharing.beneficiary_id:
        asker = User.objects.filter(email=sharing.recipient_email, is_active=True).first()
    if asker is None:
        return None
    approved = extension.status == "approved"
    return message_queue(
        key=f"extension:{extension.pk}:{extension.status}",
        kind=SharingMessage.EXTENSION_APPROVED if approved else SharingMessage.EXTENSION_DECLINED,
        organisation=sharing.owner,
        subject_id=sharing.pk,
        recipient=asker.email,
        language=_supported_language(asker.preferred_language),
        time_zone=sharing.beneficiary.timezone if sharing.beneficiary else sharing.owner.timezone,
        context=_extension_context(extension),
    )


def messages_of_sharing_drop(sharing: Sharing) -> int:
    """A deleted sharing takes its messages with it, sent or not (as its foreign key did before the outbox became
    generic): nothing is left to say about it, and nothing of it stays in the outbox."""
    return messages_drop(subject_type=SUBJECT, subject_ids=[sharing.pk])


def _queue_for_recipient(
    sharing: Sharing,
    *,
    message: str,
    key: str,
    extra: dict | None = None,
    recipient: User | object | None = LOOK_UP,
    machines: list | None = None,
) -> Message | None:
    if not sharing.notification_enabled:
        return None
    if recipient is LOOK_UP:
        recipient = User.objects.filter(email=sharing.recipient_email).select_related("organisation").first()
    queued = messages_queue_many(
        [_message_for_recipient(sharing, recipient=recipient, machines=machines, message=message, key=key, extra=extra)]
    )
    return queued[0] if queued else None


def _message_for_recipient(sharing: Sharing, *, recipient, machines: list | None, **fields) -> Message:
    return message_build(**_recipient_message(sharing, recipient=recipient, machines=machines, **fields))


def _recipient_message(
    sharing: Sharing,
    *,
    recipient: User | None,
    message: str,
    key: str,
    extra: dict | None,
    machines: list | None = None,
) -> dict:
    language = recipient.preferred_language if recipient is not None else sharing.owner.language
    time_zone = sharing.beneficiary.timezone if sharing.beneficiary is not None else sharing.owner.timezone
    return {
        "key": key,
        "kind": message,
        "organisation": sharing.owner,
        "subject_id": sharing.pk,
        "recipient": sharing.recipient_email,
        "language": _supported_language(language),
        "time_zone": time_zone,
        "context": {**sharing_context(sharing, machines=machines), **(extra or {})},
    }


#: Language.values builds its list anew at each call; a batch of the lifecycle job asks a thousand times.
_LANGUAGES = frozenset(Language.values)


def _supported_language(language: str | None) -> str:
    return language if language in _LANGUAGES else Language.ENGLISH


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.astimezone(dt.UTC).isoformat() if moment is not None else None


def sharing_context(sharing: Sharing, *, machines: list | None = None) -> dict:
    """What the message says, as it is at the moment of the change (a later change gets its own message). `machines`:
    all the sharing's machines in their order, when the caller has read them already."""
    if machines is None:
        machine_count = sharing.sharing_machines.count()
        listed = [str(machine) for machine in sharing.machines.all()[:MACHINES_LISTED]]
    else:
        machine_count = len(machines)
        listed = [str(machine) for machine in machines[:MACHINES_LISTED]]
    return {
        "sharing_id": str(sharing.pk),
        "reference": sharing.reference,
        "owner": sharing.owner.name,
        "beneficiary": sharing.beneficiary.name if sharing.beneficiary else sharing.recipient_organisation_name,
        "beneficiary_known": sharing.beneficiary_id is not None,
        "recipient_email": sharing.recipient_email,
        "sender": sharing.sender_label,
        "machines": listed,
        "machine_count": machine_count,
        "start_at": _iso(sharing.start_at),
        "end_at": _iso(sharing.end_at),
        "stopped_at": _iso(sharing.stopped_at),
        "status": sharing.status,
        "data_packs": list(sharing.data_packs or []),
    }


# --- rendering, at send time ------------------------------------------------------------------------------------------


def sharing_url(sharing_id) -> str:
    return absolute_url(reverse("sharing:detail", args=[sharing_id]))


def _sharings_url(data: dict, *, direction: str) -> str:
    """The sharing's page, or for a creation of several sharings (one per machine) the share centre's list of them,
    on the reader's side."""
    if data.get("sharing_count", 1) <= 1:
        return sharing_url(data["sharing_id"])
    query = {"direction": direction, **({"q": data["reference"]} if data.get("reference") else {})}
    return absolute_url(f"{reverse('home')}?{urlencode(query)}")


def signup_url(email: str) -> str:
    return absolute_url(f"{reverse('account_signup')}?{urlencode({'email': email})}")


def _moment(value: str | None) -> dt.datetime | None:
    # A message queued before dates were bounded may carry one Europe/Paris cannot show: kept inside what it can.
    return showable(dt.datetime.fromisoformat(value)) if value else None


def _email_context(message: Message) -> dict:
    """The templates' context: what was captured at the change, with dates as datetimes and absolute links."""
    data = message.context
    return {
        **data,
        **{
            name: _moment(data.get(name))
            for name in ("start_at", "end_at", "stopped_at", "previous_start_at", "previous_end_at", "requested_end_at")
        },
        "more_machines": max(data.get("machine_count", 0) - len(data.get("machines", [])), 0),
        # Lazy labels, named when the template renders in the recipient's language (this context is built before it is
        # active); a message queued before packs were kept names none.
        "data_pack_labels": [label for code, label in DataPack.choices if code in data.get("data_packs", ())],
        "sharing_url": _sharings_url(
            data, direction="incoming" if message.kind != SharingMessage.INVITATION_ACCEPTED else "outgoing"
        ),
        "signup_url": signup_url(message.recipient),
    }


def register() -> None:
    message_kinds_register(
        *(
            MessageKind(name=value, label=label, subject_type=SUBJECT, render_context=_email_context)
            for value, label in SharingMessage.choices
        )
    )
