"""The only writers of contracts (DESIGN §7). An apply locks its contract, works out the plan (plan.py, pure) from
the desired state and the contract's sharings, and carries each step out through the sharing services, so that every
rule of DESIGN §3 holds and every write is audited there; the apply itself is one more audit event, and every event
it causes is tagged with the apply's id."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import TextChoices
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.actors import Actor
from audit.services import audit_cause, audit_record
from fleet.selectors import machines_owned_by
from hiboo_connect.errors import DomainError, InvalidInput, NotAllowed, PreconditionFailed, RuleConflict
from hiboo_connect.text import single_line
from sharing import selectors as sharing_selectors
from sharing import services as sharing_services
from sharing.changes import Change, ChangeType, changes_announce
from sharing.lifecycle import Refusal
from sharing.models import Sharing

from . import messages, selectors
from .audit import AuditAction, AuditTarget
from .messages import SUBJECT
from .models import Contract, ContractApply, ContractStatus
from .plan import (
    SERVICE_FIELDS,
    Action,
    Current,
    Desired,
    Plan,
    Step,
    Warning,
    contract_plan,
    desired_from_state,
    drift_warnings,
)

REFERENCE_MAX = 255
LINE_REFERENCE_MAX = 100
#: Lines of one contract: a rental contract has a handful; the bound keeps one apply one reasonable transaction.
LINES_MAX = 500


class OnConflict(TextChoices):
    FAIL = "fail", _("Refuse the whole apply")
    SKIP = "skip", _("Apply the rest")


@dataclass(frozen=True)
class ApplyResult:
    contract: Contract  # unsaved when a dry run previews a new contract
    created: bool
    dry_run: bool
    plan: Plan
    sharings: list[Sharing]
    desired: Desired


class ContractConflict(RuleConflict):
    """onConflict=fail and the plan has conflicts: nothing was applied; `result` holds the plan."""

    def __init__(self, result: ApplyResult):
        count = len(result.plan.conflicts)
        super().__init__(
            "contract_conflict",
            ngettext(
                "%(count)d step of the plan breaks the sharing rules: nothing was applied.",
                "%(count)d steps of the plan break the sharing rules: nothing was applied.",
                count,
            )
            % {"count": count},
        )
        self.result = result


def contract_reference_clean(reference: str) -> str:
    cleaned = single_line(reference)
    if not cleaned:
        raise InvalidInput("reference_required", _("Give the contract's reference."), field="reference")
    if len(cleaned) > REFERENCE_MAX:
        raise InvalidInput(
            "reference_too_long", _("The reference is too long (255 characters at most)."), field="reference"
        )
    return cleaned


def _cleaned(desired: Desired, reference: str) -> Desired:
    """The desired state as the sharing services would store it, so the same state sent twice compares equal."""
    return replace(
        desired,
        reference=reference,
        recipient_email=desired.recipient_email.strip().lower(),
        recipient_organisation_name=single_line(desired.recipient_organisation_name)[:200],
        data_packs=tuple(sharing_services.data_packs_clean(list(desired.data_packs))),
        properties=sharing_services.properties_clean(desired.properties),
    )


@dataclass(frozen=True)
class ContractFacts:
    """What the previews of many contracts (a CSV file) read once for all of them rather than once per contract:
    the recipients' accounts and the owner's contacts with a name, the contracts and their sharings, and the machines
    of all the lines the owner may not share. Only for dry runs: an apply reads its contract under its lock."""

    accounts: Mapping[str, Any]
    named_contacts: frozenset[str]
    contracts: Mapping[str, Contract]
    sharings: Mapping[Any, list[Sharing]]
    unusable: Mapping[uuid.UUID, Refusal]


def contract_facts(*, owner, desired_states: Iterable[Desired]) -> ContractFacts:
    """The facts of these contracts' previews, in a fixed number of queries whatever their number."""
    desired_states = list(desired_states)
    accounts = sharing_services.recipient_accounts(emails=[desired.recipient_email for desired in desired_states])
    named_contacts = frozenset(
        owner.contacts.filter(email__in=list(accounts)).exclude(organisation_name="").values_list("email", flat=True)
    )
    references = {contract_reference_clean(desired.reference) for desired in desired_states}
    contracts = {
        contract.reference: contract for contract in Contract.objects.filter(owner=owner, reference__in=references)
    }
    sharings: dict[Any, list[Sharing]] = {contract.pk: [] for contract in contracts.values()}
    for sharing in selectors.contract_sharings_of(list(contracts.values())):
        sharings[sharing.contract_id].append(sharing)
    wanted = {line.asset_id for desired in desired_states for line in desired.lines}
    return ContractFacts(accounts, named_contacts, contracts, sharings, _unusable_assets(owner=owner, wanted=wanted))


def _locked_contract(*, owner, reference: str, create: bool, exists: bool = False) -> tuple[Contract, bool]:
    """The contract under a row lock, so two applies of it queue up. A first apply inserts it (unless it was just
    read: `exists`, contracts are never deleted) with ON CONFLICT DO NOTHING: a second one racing it waits on the
    unique constraint, inserts nothing, and then locks the row the first committed. An apply that leaves a contract
    in the database has raised its generation, so a contract at generation 0 is the one this apply created. A dry run
    (create=False) reads it without a lock: it writes nothing."""
    if create:
        if not exists:
            Contract.objects.bulk_create([Contract(owner=owner, reference=reference)], ignore_conflicts=True)
        contract = Contract.objects.select_for_update().get(owner=owner, reference=reference)
        Contract.owner.field.set_cached_value(contract, owner)
        return contract, contract.generation == 0
    found = selectors.contract_find(organisation=owner, reference=reference)
    return (found, False) if found is not None else (Contract(owner=owner, reference=reference), True)


def contract_sharings(contract: Contract, *, machines: bool = False) -> list[Sharing]:
    """The contract's sharings, oldest first, ready for the plan and the API, with their machine links (one
    statement; `machines`: with the machines themselves, whose names an e-mail lists)."""
    if contract.pk is None or contract._state.adding:
        return []
    return selectors.contract_sharings_of([contract], machines=machines)


def contract_drift(contract: Contract, sharings: list[Sharing], now: datetime) -> list[Warning]:
    """The contract's sharings edited by hand since its last apply (the next apply puts them back), for its page."""
    return [
        warning for sharing in sharings for warning in drift_warnings(_current(sharing, contract.applied_state, now))
    ]


def _current(sharing: Sharing, applied_state: Mapping[str, Any], now: datetime) -> Current:
    links = list(sharing.sharing_machines.all())
    return Current(
        id=sharing.pk,
        asset_id=links[0].machine_id if links else uuid.UUID(int=0),
        line_reference=sharing.contract_line,
        status=sharing.status_at(now),
        beneficiary_id=sharing.beneficiary_id,
        recipient_email=sharing.recipient_email,
        reference=sharing.reference,
        start_at=sharing.start_at,
        end_at=sharing.end_at,
        stopped_at=sharing.stopped_at,
        data_packs=tuple(sharing.data_packs),
        properties=sharing.properties,
        notification_enabled=sharing.notification_enabled,
        applied=applied_state.get(str(sharing.pk)),
    )


def _unusable_assets(*, owner, wanted: set[uuid.UUID]) -> dict[uuid.UUID, Refusal]:
    """The machines among `wanted` the owner may not share, each with the rule's refusal."""
    if not wanted:
        return {}
    owned = set(machines_owned_by(owner).filter(pk__in=wanted).values_list("pk", flat=True))
    missing = wanted - owned
    if not missing:
        return {}
    received = set(
        sharing_selectors.received_machines_of(owner)
        .filter(machine_id__in=missing)
        .values_list("machine_id", flat=True)
    )
    unusable = {}
    for asset_id in missing:
        if asset_id in received:
            message = _("Machines shared with your organisation can never be shared on.")
            unusable[asset_id] = Refusal("resharing_forbidden", message, "assetId", True)
        else:
            message = _("Unknown machine: %s.") % asset_id
            unusable[asset_id] = Refusal("unknown_machine", message, "assetId")
    return unusable


def _recipient(*, owner, desired: Desired, facts: ContractFacts | None = None):
    """The recipient's account (None: no account yet). Refuses, as sharing_create would, a member of the owner
    organisation, and an unknown recipient without an organisation name to invite them under."""
    accounts = facts.accounts if facts is not None else None
    recipient = sharing_services.recipient_account(owner=owner, email=desired.recipient_email, accounts=accounts)
    if recipient is not None and recipient.organisation_id is not None:
        return recipient
    if facts is not None:
        named_contact = desired.recipient_email in facts.named_contacts
    else:
        named_contact = owner.contacts.filter(email=desired.recipient_email).exclude(organisation_name="").exists()
    if desired.status == ContractStatus.ACTIVE and not desired.recipient_organisation_name and not named_contact:
        raise InvalidInput(
            "recipient_organisation_required",
            _("This recipient has no account yet: give the name of their organisation."),
            field="recipient_organisation_name",
        )
    return recipient


def _overlap_warnings(*, owner, plan: Plan, own_sharing_ids: set) -> list[Warning]:
    """Machines the contract is about to share that other sharings of the owner already share over an overlapping
    period: allowed (a renter and a site operator), but said. One query per period of the new sharings."""
    periods: dict[tuple, list[Step]] = {}
    for step in plan.steps:
        if step.action == Action.CREATE:
            periods.setdefault((step.values["startDate"], step.values["endDate"]), []).append(step)
    warnings = []
    for (start_at, end_at), steps in periods.items():
        rows = sharing_selectors.sharing_overlaps(
            organisation=owner,
            machine_ids=[step.asset_id for step in steps],
            start_at=start_at,
            end_at=end_at,
            limit=50,
        )
        warned = set()
        for sharing_id, reference, machine_id in rows:
            if sharing_id in own_sharing_ids or machine_id in warned:
                continue
            warned.add(machine_id)
            warnings.append(
                Warning(
                    "overlap",
                    machine_id,
                    _("Already shared over an overlapping period in sharing %(id)s (reference “%(ref)s”).")
                    % {"id": sharing_id, "ref": reference},
                )
            )
    return warnings


def _plan(
    *,
    owner,
    contract: Contract,
    desired: Desired,
    sharings: list[Sharing],
    recipient,
    now: datetime,
    facts: ContractFacts | None = None,
) -> Plan:
    """The plan, reading which machines the owner may share only for the lines that would create a sharing (a no-op
    or an update reads none): the plan is pure, so it is worked out again when some of them may not be shared."""

    def plan_with(unusable: Mapping[uuid.UUID, Refusal]) -> Plan:
        return contract_plan(
            desired=desired,
            sharings=[_current(sharing, contract.applied_state, now) for sharing in sharings],
            recipient_organisation_id=recipient.organisation_id if recipient is not None else None,
            unusable_assets=unusable,
            now=now,
        )

    plan = plan_with({})
    creating = {step.asset_id for step in plan.steps if (step.intended or step.action) == Action.CREATE}
    if facts is not None:
        unusable = {asset_id: facts.unusable[asset_id] for asset_id in creating if asset_id in facts.unusable}
    else:
        unusable = _unusable_assets(owner=owner, wanted=creating)
    return plan_with(unusable) if unusable else plan


def contract_apply(
    *,
    actor: Actor,
    reference: str,
    desired: Desired,
    dry_run: bool = False,
    on_conflict: str = OnConflict.FAIL,
    expected_generation: int | None = None,
    now: datetime | None = None,
    facts: ContractFacts | None = None,
) -> ApplyResult:
    """Bring the contract `reference` of the actor's organisation in line with `desired`, in one transaction, with
    the contract's row locked. A dry run works out the same plan and writes nothing. With on_conflict=fail any
    conflict refuses the whole apply (ContractConflict, carrying the plan); with skip the rest applies. The same
    desired state again is all noop and writes nothing, not even the generation. A dry run of many contracts (a CSV
    preview) passes the `facts` contract_facts read for all of them at once."""
    owner = actor.organisation
    if owner is None:
        raise NotAllowed("no_organisation", _("You need an organisation to share machines."))
    actor.require_admin_of(owner)
    now = now or timezone.now()
    desired = _cleaned(desired, contract_reference_clean(reference))
    facts = facts if dry_run else None
    recipient = _recipient(owner=owner, desired=desired, facts=facts)
    known = None
    if not dry_run:
        known = selectors.contract_find(organisation=owner, reference=desired.reference)
        unchanged = _unchanged(
            known, owner=owner, desired=desired, recipient=recipient, generation=expected_generation, now=now
        )
        if unchanged is not None:
            return unchanged
    # A dry run writes nothing and locks nothing: it needs no transaction of its own.
    with transaction.atomic() if not dry_run else contextlib.nullcontext():
        if facts is not None:
            found = facts.contracts.get(desired.reference)
            contract, created = (
                (found, False) if found is not None else (Contract(owner=owner, reference=desired.reference), True)
            )
        else:
            contract, created = _locked_contract(
                owner=owner, reference=desired.reference, create=not dry_run, exists=known is not None
            )
        if expected_generation is not None and expected_generation != contract.generation:
            raise PreconditionFailed(
                "generation_mismatch",
                _("The contract changed since you read it (generation %(current)d, not %(expected)d).")
                % {"current": contract.generation, "expected": expected_generation},
            )
        if facts is not None:
            sharings = facts.sharings.get(contract.pk, [])
        else:
            sharings = [] if created else contract_sharings(contract)  # a contract created now has none
        plan = _plan(
            owner=owner,
            contract=contract,
            desired=desired,
            sharings=sharings,
            recipient=recipient,
            now=now,
            facts=facts,
        )
        state = desired.as_state()
        if not plan.writes and state == contract.desired_state and not created:
            return ApplyResult(contract, False, dry_run, plan, sharings, desired)
        own_ids = {sharing.pk for sharing in sharings}
        plan = replace(
            plan, warnings=(*plan.warnings, *_overlap_warnings(owner=owner, plan=plan, own_sharing_ids=own_ids))
        )
        if plan.conflicts and on_conflict == OnConflict.FAIL:
            raise ContractConflict(ApplyResult(contract, created, dry_run, plan, sharings, desired))
        if dry_run:
            return ApplyResult(contract, created, True, plan, sharings, desired)
        apply_id = uuid.uuid4()
        before = sharings
        with audit_cause(apply_id):
            plan, new_sharings = _execute(
                plan,
                actor=actor,
                contract=contract,
                desired=desired,
                sharings={s.pk: s for s in sharings},
                recipient=recipient,
                now=now,
            )
            if plan.conflicts and on_conflict == OnConflict.FAIL:
                raise ContractConflict(ApplyResult(contract, created, dry_run, plan, sharings, desired))
            sharings = _record_apply(
                apply_id,
                actor=actor,
                contract=contract,
                state=state,
                plan=plan,
                after=_after(plan, before, new_sharings),
                now=now,
            )
            messages.notify_contract_changed(
                contract=contract,
                desired=desired,
                plan=plan,
                before=before,
                sharings=sharings,
                generation=contract.generation,
                recipient=recipient,
            )
            _announce_apply(apply_id, contract=contract, plan=plan, sharings=sharings, now=now)
    return ApplyResult(contract, created, False, plan, sharings, desired)


def _unchanged(
    contract: Contract | None, *, owner, desired: Desired, recipient, generation: int | None, now: datetime
) -> ApplyResult | None:
    """The answer of an apply that changes nothing, from the contract as read without a transaction or a lock; None
    when something may change (the locked way then reads everything again). Most applies are an integration sending
    a contract again. A no-op writes nothing, so it needs no lock: the contract is read before its sharings, so an
    apply committing between the two reads shows as a change here, never as a false noop, and an answer given is the
    contract as it was at its read, as if this apply had come first."""
    if contract is None or desired.as_state() != contract.desired_state:
        return None
    if generation is not None and generation != contract.generation:
        return None  # the locked way refuses it with the generation it finds
    sharings = contract_sharings(contract)
    plan = _plan(owner=owner, contract=contract, desired=desired, sharings=sharings, recipient=recipient, now=now)
    return None if plan.writes else ApplyResult(contract, False, False, plan, sharings, desired)


def _announce_apply(apply_id, *, contract: Contract, plan: Plan, sharings: list[Sharing], now: datetime) -> None:
    """The contract.applied event (DESIGN §9), for the owner only: the contract as GET /contracts lists it, with
    this apply's plan. The recipient hears of the sharings it receives through their own events; the contract
    itself (its customer, its properties, the plan) is the owner's."""
    view = {
        **selectors.contract_row(contract, selectors.sharing_counts_in(sharings)),
        "applyId": str(apply_id),
        "summary": plan.summary,
        "plan": plan.as_json(),
    }
    changes_announce(
        [
            Change(
                type=ChangeType.CONTRACT_APPLIED,
                occurred_at=now,
                subject_type=SUBJECT,
                subject_id=contract.pk,
                views={contract.owner_id: view},
            )
        ]
    )


def _after(plan: Plan, before: list[Sharing], created: list[Sharing]) -> list[Sharing] | None:
    """The contract's sharings after an apply that only created some (the others are as read under the lock), None
    when it stopped, changed or removed some: they are read again."""
    if any(step.action in (Action.UPDATE, Action.STOP, Action.DELETE) for step in plan.steps):
        return None
    return sorted([*before, *created], key=lambda sharing: (sharing.created_at, sharing.pk))


def _record_apply(
    apply_id, *, actor: Actor, contract: Contract, state: dict, plan: Plan, after: list[Sharing] | None, now: datetime
) -> list:
    """The contract's new state and generation, its history row and its audit event carrying the plan. `after`:
    the contract's sharings now, when the apply knows them."""
    old_status, old_generation = contract.status, contract.generation
    sharings = after if after is not None else contract_sharings(contract, machines=True)
    contract.status = state["status"]
    contract.recipient_email = state["recipient"]
    contract.desired_state = state
    contract.applied_state = {str(s.pk): _current(s, {}, now).snapshot() for s in sharings}
    contract.generation = old_generation + 1
    contract.last_applied_at = now
    contract.last_applied_by = actor.label
    contract.save()
    ContractApply.objects.create(
        id=apply_id,
        contract=contract,
        applied_at=now,
        actor_user=actor.user,
        actor_label=actor.label,
        generation=contract.generation,
        plan=plan.as_json(),
        summary=plan.summary,
    )
    audit_record(
        actor=actor,
        organisation=contract.owner,
        target_type=AuditTarget.CONTRACT,
        target_id=contract.pk,
        action=AuditAction.APPLIED,
        changes=[
            ("status", old_status if old_generation else None, contract.status),
            ("generation", old_generation, contract.generation),
            ("plan", None, plan.as_json()),
        ],
        now=now,
    )
    return sharings


class _Steps:
    """The plan's steps while they are carried out: each write in its own savepoint, and a refusal the plan could
    not foresee (a hand edit racing the apply) turns its steps into conflicts with the service's code and message."""

    def __init__(self, plan: Plan):
        self.steps = list(plan.steps)

    def attempt(self, indexes: list[int], write: Callable[[], Any]) -> Any:
        """`write` is a sharing service: its own transaction.atomic is the savepoint a refusal rolls back to."""
        try:
            return write()
        except DomainError as error:
            for index in indexes:
                self.steps[index] = self.steps[index].refused(error.code, error.message)
            return None

    def of(self, *actions: str) -> list[tuple[int, Step]]:
        return [(index, step) for index, step in enumerate(self.steps) if step.action in actions]


def _execute(
    plan: Plan, *, actor: Actor, contract: Contract, desired: Desired, sharings: Mapping, recipient, now: datetime
) -> tuple[Plan, list[Sharing]]:
    """Carry the steps out through the sharing services: ends first (a swap frees its line), then updates, then the
    new sharings, all in one sharings_create (its statements do not grow with the lines), handed the recipient's
    account the apply read. Returns the plan as carried out and the sharings created."""
    steps = _Steps(plan)
    for index, step in steps.of(Action.STOP, Action.DELETE):
        sharing = sharings[step.sharing_id]
        end: Callable[[], Any]
        if step.action == Action.STOP:
            end = partial(sharing_services.sharing_stop, actor=actor, sharing=sharing, notify=False, now=now)
        else:
            end = partial(sharing_services.sharing_delete, actor=actor, sharing=sharing, now=now)
        steps.attempt([index], end)
    for index, step in steps.of(Action.UPDATE):
        changes = {SERVICE_FIELDS[name]: value for name, value in step.values.items()}
        if "recipient_email" in changes and desired.recipient_organisation_name:
            changes["recipient_organisation_name"] = desired.recipient_organisation_name
        update = partial(
            sharing_services.sharing_update,
            actor=actor,
            sharing=sharings[step.sharing_id],
            changes=changes,
            notify=False,
            now=now,
        )
        steps.attempt([index], update)
    creating = steps.of(Action.CREATE)
    created: list[Sharing] = []
    if creating:
        create = partial(
            sharing_services.sharings_create,
            actor=actor,
            sharings=[
                sharing_services.NewSharing(
                    machine_ids=(step.asset_id,),
                    start_at=step.values["startDate"],
                    end_at=step.values["endDate"],
                    contract_line=step.line_reference,
                )
                for _index, step in creating
            ],
            recipient_email=desired.recipient_email,
            recipient_organisation_name=desired.recipient_organisation_name,
            reference=desired.reference,
            properties=desired.properties,
            data_packs=list(desired.data_packs),
            notification_enabled=desired.notification_enabled,
            contract=contract,
            accounts={desired.recipient_email: recipient},
            notify=False,
            now=now,
        )
        created = steps.attempt([index for index, _step in creating], create) or []
        for (index, step), sharing in zip(creating, created, strict=False):
            steps.steps[index] = replace(step, sharing_id=sharing.pk)
    return replace(plan, steps=tuple(steps.steps)), created


def contract_cancel(*, actor: Actor, contract: Contract, now: datetime | None = None) -> ApplyResult:
    """Cancel a contract: its last desired state with the status cancelled (every open sharing stops, or goes if
    nothing was exposed)."""
    desired = replace(desired_from_state(contract.reference, contract.desired_state), status=ContractStatus.CANCELLED)
    return contract_apply(
        actor=actor, reference=contract.reference, desired=desired, on_conflict=OnConflict.SKIP, now=now
    )
