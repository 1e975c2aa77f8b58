"""The one e-mail of a contract change (DESIGN §7): the recipient of a contract hears about an apply once, with every
machine it touched, not one e-mail per machine. The apply calls the sharing services with notify=False and queues
this message through the outbox in the same transaction. Registered in ContractsConfig.ready()."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import cast

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Language, User
from fleet.data_packs import DataPack
from fleet.models import Machine
from hiboo_connect.dates import showable
from outbox.kinds import MessageKind, message_kinds_register
from outbox.services import message_build, messages_queue_many
from sharing.messages import signup_url
from sharing.models import Sharing, SharingMachine

from .models import Contract
from .plan import Action, Desired, Plan, Step

#: Said for a recipient the caller did not read.
LOOK_UP = object()
#: The subject type of contract messages: the outbox keeps the contract by type and id.
SUBJECT = "contract"
LINES_LISTED = 50


class ContractMessage(models.TextChoices):
    CHANGED = "contract_changed", _("Contract changed")
    WITHDRAWN = "contract_withdrawn", _("Contract machines no longer shared")


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.astimezone(dt.UTC).isoformat() if moment is not None else None


def notify_contract_changed(
    *,
    contract: Contract,
    desired: Desired,
    plan: Plan,
    sharings: Iterable[Sharing],
    generation: int,
    before: Iterable[Sharing] = (),
    recipient: User | object | None = LOOK_UP,
) -> None:
    """Queue the one message of this apply to the contract's recipient, listing each machine that was added, changed,
    stopped or removed, with its period as the apply left it (`sharings`: the contract's sharings after the apply;
    `before`: as they were). When the recipient changed (a contact change), whoever received the machines before
    gets one message of their own saying which are no longer shared with them, and the new recipient hears only of
    what it receives. The apply passes the recipient's account it read (None: no account yet). Nothing when nothing
    changed, or when the contract's notifications are off."""
    steps = [step for step in plan.steps if step.action in Action.WRITES]
    if not steps or not desired.notification_enabled:
        return
    before = list(before)
    sharings = list(sharings)
    machines = _machine_names([*before, *sharings])
    missing = {step.asset_id for step in steps} - set(machines)
    if missing:
        machines.update((machine.pk, str(machine)) for machine in Machine.objects.filter(pk__in=missing))
    if recipient is LOOK_UP:
        recipient = User.objects.filter(email=desired.recipient_email).select_related("organisation").first()
    recipient = cast(User | None, recipient)
    previous = {sharing.pk: sharing.recipient_email for sharing in before}
    withdrawn: dict[str, list[Step]] = {}
    told = []
    for step in steps:
        old_email = previous.get(step.sharing_id) if step.sharing_id is not None else None
        moved_away = old_email is not None and old_email != desired.recipient_email
        if moved_away and (step.action in (Action.STOP, Action.DELETE) or _moves_recipient(step)):
            withdrawn.setdefault(cast(str, old_email), []).append(step)
            if step.action == Action.UPDATE:
                told.append(step)  # the sharing moved to the new recipient: news for them too
        else:
            told.append(step)
    owner = contract.owner
    queued = []
    if told:
        queued.append(_changed_message(contract, desired, told, sharings, machines, recipient, generation))
    if withdrawn:
        accounts = {user.email: user for user in User.objects.filter(email__in=list(withdrawn))}
        for email, gone in withdrawn.items():
            account = accounts.get(email)
            queued.append(
                message_build(
                    key=f"contract:{contract.pk}:apply:{generation}:withdrawn:{email}",
                    kind=ContractMessage.WITHDRAWN,
                    organisation=owner,
                    subject_id=contract.pk,
                    recipient=email,
                    language=_language(account.preferred_language if account is not None else owner.language),
                    time_zone=owner.timezone,
                    context={
                        "reference": contract.reference,
                        "owner": owner.name,
                        "lines": [{"machine": machines.get(step.asset_id, str(step.asset_id))} for step in gone][
                            :LINES_LISTED
                        ],
                        "more_lines": max(len(gone) - LINES_LISTED, 0),
                    },
                )
            )
    messages_queue_many(queued)


def _moves_recipient(step: Step) -> bool:
    return step.action == Action.UPDATE and any(change.field == "recipient" for change in step.changes)


def _language(language: str | None) -> str:
    return language if language in Language.values else Language.ENGLISH


def _changed_message(
    contract: Contract,
    desired: Desired,
    steps: list[Step],
    sharings: list[Sharing],
    machines: Mapping,
    recipient: User | None,
    generation: int,
):
    """The message of an apply to the contract's recipient. To a new recipient, a sharing moved to them is shared."""
    beneficiary = recipient.organisation if recipient is not None else None
    owner = contract.owner
    language = recipient.preferred_language if recipient is not None else owner.language
    after = {sharing.pk: sharing for sharing in sharings}
    lines = []
    for step in steps[:LINES_LISTED]:
        sharing = after.get(step.sharing_id) if step.sharing_id is not None else None
        lines.append(
            {
                "machine": machines.get(step.asset_id, str(step.asset_id)),
                "action": Action.CREATE if _moves_recipient(step) else step.action,
                "start_at": _iso(sharing.start_at) if sharing is not None else None,
                "end_at": _iso(sharing.end_at) if sharing is not None else None,
            }
        )
    return message_build(
        key=f"contract:{contract.pk}:apply:{generation}",
        kind=ContractMessage.CHANGED,
        organisation=owner,
        subject_id=contract.pk,
        recipient=desired.recipient_email,
        language=_language(language),
        time_zone=beneficiary.timezone if beneficiary is not None else owner.timezone,
        context={
            "reference": contract.reference,
            "owner": owner.name,
            "beneficiary": beneficiary.name if beneficiary else desired.recipient_organisation_name,
            "beneficiary_known": beneficiary is not None,
            "status": desired.status,
            "data_packs": list(desired.data_packs),
            "lines": lines,
            "more_lines": max(len(steps) - LINES_LISTED, 0),
        },
    )


def _machine_names(sharings: Iterable[Sharing]) -> dict:
    """The names of the sharings' machines, from their links as read with their machines (no query)."""
    names = {}
    for sharing in sharings:
        for link in sharing.sharing_machines.all():
            if SharingMachine.machine.is_cached(link):
                names[link.machine_id] = str(link.machine)
    return names


def _moment(value: str | None) -> dt.datetime | None:
    return showable(dt.datetime.fromisoformat(value)) if value else None


def _email_context(message) -> dict:
    data = message.context
    labels = dict(DataPack.choices)
    return {
        **data,
        "lines": [
            {**line, "start_at": _moment(line.get("start_at")), "end_at": _moment(line.get("end_at"))}
            for line in data.get("lines", [])
        ],
        # Lazy labels: the template renders them in the message's language.
        "data_pack_names": [labels.get(code, code) for code in data.get("data_packs", [])],
        "signup_url": signup_url(message.recipient),
    }


def register() -> None:
    message_kinds_register(
        *(
            MessageKind(name=value, label=label, subject_type=SUBJECT, render_context=_email_context)
            for value, label in ContractMessage.choices
        )
    )
