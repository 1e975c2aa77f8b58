"""The one e-mail of a contract change (DESIGN §7): the recipient of a contract hears about an apply once, with every
machine it touched, not one e-mail per machine. The apply calls the sharing services with notify=False and queues
this message through the outbox in the same transaction. Registered in ContractsConfig.ready()."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Language, User
from fleet.data_packs import DataPack
from fleet.models import Machine
from hiboo_connect.dates import showable
from outbox.kinds import MessageKind, message_kinds_register
from outbox.services import message_build, messages_queue_many
from sharing.messages import signup_url
from sharing.models import Sharing

from .models import Contract
from .plan import Action, Desired, Plan

#: The subject type of contract messages: the outbox keeps the contract by type and id.
SUBJECT = "contract"
LINES_LISTED = 50


class ContractMessage(models.TextChoices):
    CHANGED = "contract_changed", _("Contract changed")


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.astimezone(dt.UTC).isoformat() if moment is not None else None


def notify_contract_changed(
    *, contract: Contract, desired: Desired, plan: Plan, sharings: Iterable[Sharing], generation: int
) -> None:
    """Queue the one message of this apply to the contract's recipient, listing each machine that was added, changed,
    stopped or removed, with its period as the apply left it (`sharings`: the contract's sharings after the apply).
    Nothing when nothing changed, or when the contract's notifications are off."""
    steps = [step for step in plan.steps if step.action in Action.WRITES]
    if not steps or not desired.notification_enabled:
        return
    machines = {machine.pk: str(machine) for machine in Machine.objects.filter(pk__in={s.asset_id for s in steps})}
    recipient = User.objects.filter(email=desired.recipient_email).select_related("organisation").first()
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
                "action": step.action,
                "start_at": _iso(sharing.start_at) if sharing is not None else None,
                "end_at": _iso(sharing.end_at) if sharing is not None else None,
            }
        )
    messages_queue_many(
        [
            message_build(
                key=f"contract:{contract.pk}:apply:{generation}",
                kind=ContractMessage.CHANGED,
                organisation=owner,
                subject_id=contract.pk,
                recipient=desired.recipient_email,
                language=language if language in Language.values else Language.ENGLISH,
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
        ]
    )


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
