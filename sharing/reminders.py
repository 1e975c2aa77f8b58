"""Expiry reminders (DESIGN §9): a set number of days before a sharing ends (each organisation's setting, 7 by default,
none at all possible), the owner's admins and the recipient are each reminded once, in their language.

Exactly once, whatever the scheduler does: a periodic job (every 15 minutes) reminds of every open sharing whose end
lies between now and now + the organisation's days, so a job that did not run for a while (beat down, a deploy)
catches up on its next run. Each reminder is an outbox message whose key names the sharing, its end date and the
person: a second run, or two runs at once, write nothing new (the outbox's unique key), and moving the end date
re-arms it (a new end, a new key). The sharings of one contract that end on the same day (in the reminded
organisation's time zone) make one reminder, naming all their machines, under a key that names the contract and the
day. A sharing whose end passed while the job was down is not reminded: it has ended, and its end is told instead."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation, Role, User
from outbox.email import absolute_url
from outbox.kinds import MessageKind, message_kinds_register
from outbox.models import Message
from outbox.services import message_build, messages_queue_many

from .filters import Direction, Period
from .lifecycle import OPEN_STATUSES
from .messages import MACHINES_LISTED, SUBJECT, _iso, _machines_of, _moment, _supported_language
from .models import Sharing

KIND = "sharing_ending_soon"
OWNER, RECIPIENT = "owner", "recipient"


@dataclass
class _Reminder:
    """What one organisation's side is reminded of: one sharing, or a contract's sharings ending on one day."""

    side: str
    organisation: Organisation
    sharings: list[Sharing] = field(default_factory=list)

    @property
    def first(self) -> Sharing:
        return self.sharings[0]


def _group_key(sharing: Sharing, *, side: str, organisation: Organisation) -> str:
    if sharing.contract_id is None:
        return f"sharing:{sharing.pk}:ending_soon:{_iso(sharing.end_at)}"
    day = sharing.end_at.astimezone(zoneinfo.ZoneInfo(organisation.timezone)).date()
    recipient = "" if side == OWNER else f":{sharing.recipient_email}"
    return f"contract:{sharing.contract_id}:ending_soon:{day.isoformat()}{recipient}"


def _open_sharings(now: dt.datetime):
    return Sharing.objects.filter(status__in=list(OPEN_STATUSES), end_at__gt=now).window_reaches(now)


def sharing_reminders_send(*, now: dt.datetime | None = None) -> int:
    """Queue the reminders due at `now` that were not queued before. Returns how many messages were written."""
    now = now or timezone.now()
    queued = 0
    days_in_use = (
        Organisation.objects.filter(reminder_days__isnull=False)
        .order_by("reminder_days")
        .values_list("reminder_days", flat=True)
        .distinct()
    )
    for days in [days for days in days_in_use if days]:
        due = _open_sharings(now).filter(end_at__lte=now + dt.timedelta(days=days))
        for side, due_side in (
            (OWNER, due.filter(owner__reminder_days=days)),
            (RECIPIENT, due.filter(beneficiary__reminder_days=days, notification_enabled=True)),
        ):
            sharings = list(due_side.select_related("owner", "beneficiary", "contract").order_by("end_at", "pk"))
            if sharings:
                with transaction.atomic():
                    queued += len(_queue(_reminders(sharings, side=side, now=now), now=now))
    return queued


def _reminders(due: list[Sharing], *, side: str, now: dt.datetime) -> dict[str, _Reminder]:
    """The reminders of these due sharings, by key. A contract's group holds every open sharing of that contract
    ending that day, so that a line ending later the same day is named too, not left without a reminder."""

    def organisation_of(sharing: Sharing) -> Organisation | None:
        return sharing.owner if side == OWNER else sharing.beneficiary

    due = [sharing for sharing in due if organisation_of(sharing) is not None]
    due_keys = {_group_key(sharing, side=side, organisation=organisation_of(sharing)) for sharing in due}  # type: ignore[arg-type]
    contract_ids = {sharing.contract_id for sharing in due if sharing.contract_id is not None}
    others = (
        _open_sharings(now)
        .filter(contract_id__in=contract_ids)
        .exclude(pk__in=[sharing.pk for sharing in due])
        .select_related("owner", "beneficiary", "contract")
        .order_by("end_at", "pk")
        if contract_ids
        else []
    )
    reminders: dict[str, _Reminder] = {}
    for sharing in [*due, *others]:
        organisation = organisation_of(sharing)
        if organisation is None:
            continue
        key = _group_key(sharing, side=side, organisation=organisation)
        if key in due_keys:  # a contract's other lines join a due group; alone they wait for their own day
            reminders.setdefault(key, _Reminder(side=side, organisation=organisation)).sharings.append(sharing)
    return reminders


def _people(reminders: dict[str, _Reminder]) -> dict:
    """Who is reminded, per key: the owner's active admins, or the recipient's account (none yet: nobody)."""
    owners = {r.organisation.pk for r in reminders.values() if r.side == OWNER}
    admins: dict = defaultdict(list)
    for admin in User.objects.filter(organisation_id__in=owners, role=Role.ADMIN, is_active=True).order_by("pk"):
        admins[admin.organisation_id].append(admin)
    emails = {r.first.recipient_email for r in reminders.values() if r.side == RECIPIENT}
    recipients = {user.email: user for user in User.objects.filter(email__in=emails, is_active=True)}
    people = {}
    for key, reminder in reminders.items():
        if reminder.side == OWNER:
            people[key] = admins.get(reminder.organisation.pk, [])
        else:
            user = recipients.get(reminder.first.recipient_email)
            people[key] = [user] if user is not None and user.organisation_id == reminder.organisation.pk else []
    return people


def _queue(reminders: dict[str, _Reminder], *, now: dt.datetime) -> list[Message]:
    people = _people(reminders)
    wanted = {
        f"{key}:user:{person.pk}": (reminder, person) for key, reminder in reminders.items() for person in people[key]
    }
    # Most runs find every reminder written already: nothing is built for those.
    written = set(Message.objects.filter(key__in=list(wanted)).values_list("key", flat=True))
    wanted = {key: value for key, value in wanted.items() if key not in written}
    if not wanted:
        return []
    machines = _machines_of([sharing.pk for reminder, _person in wanted.values() for sharing in reminder.sharings])
    return messages_queue_many(
        _message(key, reminder, person, machines=machines) for key, (reminder, person) in wanted.items()
    )


def _message(key: str, reminder: _Reminder, person: User, *, machines: dict) -> Message:
    sharing = reminder.first
    names = sorted({str(machine) for s in reminder.sharings for machine in machines.get(s.pk, [])})
    contract = sharing.contract if sharing.contract_id is not None else None
    return message_build(
        key=key,
        kind=KIND,
        organisation=sharing.owner,
        subject_id=sharing.pk,
        recipient=person.email,
        language=_supported_language(person.preferred_language),
        time_zone=reminder.organisation.timezone,
        context={
            "side": reminder.side,
            "sharing_id": str(sharing.pk),
            "sharing_count": len(reminder.sharings),
            "reference": sharing.reference,
            # The contract is the owner's: its reference is named to the owner's admins only.
            "contract_reference": contract.reference if contract is not None and reminder.side == OWNER else "",
            "owner": sharing.owner.name,
            "beneficiary": sharing.beneficiary.name if sharing.beneficiary else sharing.recipient_organisation_name,
            "recipient_email": sharing.recipient_email,
            "machines": names[:MACHINES_LISTED],
            "machine_count": len(names),
            "start_at": _iso(min(s.start_at for s in reminder.sharings)),
            "end_at": _iso(sharing.end_at),
        },
    )


def _link(context: dict) -> str:
    """One sharing: its page. A contract's sharings: the share centre's list of them, ending soon."""
    if context.get("sharing_count", 1) == 1:
        return absolute_url(reverse("sharing:detail", args=[context["sharing_id"]]))
    filters: dict[str, str] = {"period": Period.ENDING_SOON}
    if context["side"] == OWNER:
        filters |= {"direction": Direction.OUTGOING, "contract": context["contract_reference"]}
    else:
        filters |= {"direction": Direction.INCOMING}
    return absolute_url(f"{reverse('home')}?{urlencode(filters)}")


def _email_context(message: Message) -> dict:
    data = message.context
    return {
        **data,
        "start_at": _moment(data.get("start_at")),
        "end_at": _moment(data.get("end_at")),
        "more_machines": max(data.get("machine_count", 0) - len(data.get("machines", [])), 0),
        "is_owner": data.get("side") == OWNER,
        "link": _link(data),
    }


def register() -> None:
    message_kinds_register(
        MessageKind(name=KIND, label=_("Sharing ending soon"), subject_type=SUBJECT, render_context=_email_context)
    )
