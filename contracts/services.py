"""The only writers of contracts (DESIGN §7). An apply locks its contract, works out the plan (plan.py, pure) from
the desired state and the contract's sharings, and carries each step out through the sharing services, so that every
rule of DESIGN §3 holds and every write is audited there; the apply itself is one more audit event, and every event
it causes is tagged with the apply's id."""

from __future__ import annotations

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
from sharing.lifecycle import Refusal
from sharing.models import Sharing, SharingMachine

from . import messages
from .audit import AuditAction, AuditTarget
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


def _locked_contract(*, owner, reference: str, create: bool) -> tuple[Contract, bool]:
    """The contract under a row lock, so two applies of it queue up. A first apply creates it; a second one racing it
    waits on the unique constraint and then locks the row the first committed."""
    contracts = Contract.objects.select_for_update()
    if create:
        return contracts.get_or_create(owner=owner, reference=reference)
    contract = contracts.filter(owner=owner, reference=reference).first()
    return (contract, False) if contract is not None else (Contract(owner=owner, reference=reference), True)


def contract_sharings(contract: Contract) -> list[Sharing]:
    """The contract's sharings, oldest first, ready for the plan and the API (one query and one for the machines)."""
    if contract.pk is None or contract._state.adding:
        return []
    return list(
        Sharing.objects.filter(contract=contract)
        .select_related("owner", "beneficiary", "contract")
        .prefetch_related("sharing_machines")
        .order_by("created_at", "pk")
    )


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


def _unusable_assets(*, owner, desired: Desired) -> dict[uuid.UUID, Refusal]:
    """The machines of the desired lines the owner may not share, each with the rule's refusal."""
    wanted = {line.asset_id for line in desired.lines}
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


def _recipient_organisation_id(*, owner, desired: Desired):
    """The organisation of the recipient's account (None: no account yet). Refuses, as sharing_create would, a
    member of the owner organisation, and an unknown recipient without an organisation name to invite them under."""
    organisation = sharing_services.recipient_organisation(owner=owner, email=desired.recipient_email)
    if organisation is not None:
        return organisation.pk
    if (
        desired.status == ContractStatus.ACTIVE
        and not desired.recipient_organisation_name
        and not owner.contacts.filter(email=desired.recipient_email).exclude(organisation_name="").exists()
    ):
        raise InvalidInput(
            "recipient_organisation_required",
            _("This recipient has no account yet: give the name of their organisation."),
            field="recipient_organisation_name",
        )
    return None


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


def contract_apply(
    *,
    actor: Actor,
    reference: str,
    desired: Desired,
    dry_run: bool = False,
    on_conflict: str = OnConflict.FAIL,
    expected_generation: int | None = None,
    now: datetime | None = None,
) -> ApplyResult:
    """Bring the contract `reference` of the actor's organisation in line with `desired`, in one transaction, with
    the contract's row locked. A dry run works out the same plan and writes nothing. With on_conflict=fail any
    conflict refuses the whole apply (ContractConflict, carrying the plan); with skip the rest applies. The same
    desired state again is all noop and writes nothing, not even the generation."""
    owner = actor.organisation
    if owner is None:
        raise NotAllowed("no_organisation", _("You need an organisation to share machines."))
    actor.require_admin_of(owner)
    now = now or timezone.now()
    desired = _cleaned(desired, contract_reference_clean(reference))
    recipient_organisation_id = _recipient_organisation_id(owner=owner, desired=desired)
    with transaction.atomic():
        contract, created = _locked_contract(owner=owner, reference=desired.reference, create=not dry_run)
        if expected_generation is not None and expected_generation != contract.generation:
            raise PreconditionFailed(
                "generation_mismatch",
                _("The contract changed since you read it (generation %(current)d, not %(expected)d).")
                % {"current": contract.generation, "expected": expected_generation},
            )
        sharings = contract_sharings(contract)
        plan = contract_plan(
            desired=desired,
            sharings=[_current(sharing, contract.applied_state, now) for sharing in sharings],
            recipient_organisation_id=recipient_organisation_id,
            unusable_assets=_unusable_assets(owner=owner, desired=desired),
            now=now,
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
        with audit_cause(apply_id):
            plan = _execute(
                plan, actor=actor, contract=contract, desired=desired, sharings={s.pk: s for s in sharings}, now=now
            )
            if plan.conflicts and on_conflict == OnConflict.FAIL:
                raise ContractConflict(ApplyResult(contract, created, dry_run, plan, sharings, desired))
            sharings = _record_apply(apply_id, actor=actor, contract=contract, state=state, plan=plan, now=now)
            messages.notify_contract_changed(
                contract=contract, desired=desired, plan=plan, sharings=sharings, generation=contract.generation
            )
    return ApplyResult(contract, created, False, plan, sharings, desired)


def _record_apply(apply_id, *, actor: Actor, contract: Contract, state: dict, plan: Plan, now: datetime) -> list:
    """The contract's new state and generation, its history row and its audit event carrying the plan."""
    old_status, old_generation = contract.status, contract.generation
    sharings = contract_sharings(contract)
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
        try:
            with transaction.atomic():
                return write()
        except DomainError as error:
            for index in indexes:
                self.steps[index] = self.steps[index].refused(error.code, error.message)
            return None

    def of(self, *actions: str) -> list[tuple[int, Step]]:
        return [(index, step) for index, step in enumerate(self.steps) if step.action in actions]


def _execute(
    plan: Plan, *, actor: Actor, contract: Contract, desired: Desired, sharings: Mapping, now: datetime
) -> Plan:
    """Carry the steps out through the sharing services: ends first (a swap frees its line), then updates, then the
    new sharings, one sharing_create per period."""
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
    for indexes in _creation_groups(steps.steps):
        first = steps.steps[indexes[0]]
        lines = {steps.steps[index].asset_id: steps.steps[index].line_reference for index in indexes}
        create = partial(
            sharing_services.sharing_create,
            actor=actor,
            machine_ids=list(lines),
            recipient_email=desired.recipient_email,
            recipient_organisation_name=desired.recipient_organisation_name,
            reference=desired.reference,
            properties=desired.properties,
            data_packs=list(desired.data_packs),
            notification_enabled=desired.notification_enabled,
            start_at=first.values["startDate"],
            end_at=first.values["endDate"],
            one_per_machine=True,
            contract_id=contract.pk,
            contract_lines=lines,
            notify=False,
            now=now,
        )
        created = steps.attempt(indexes, create)
        if created:
            by_machine = dict(
                SharingMachine.objects.filter(sharing__in=created).values_list("machine_id", "sharing_id")
            )
            for index in indexes:
                steps.steps[index] = replace(steps.steps[index], sharing_id=by_machine.get(steps.steps[index].asset_id))
    return replace(plan, steps=tuple(steps.steps))


def _creation_groups(steps: Iterable[Step]) -> list[list[int]]:
    """The create steps by period, a machine at most once per group: each group is one sharing_create call."""
    groups: list[tuple[tuple, set, list[int]]] = []
    for index, step in enumerate(steps):
        if step.action != Action.CREATE:
            continue
        period = (step.values["startDate"], step.values["endDate"])
        group = next((g for g in groups if g[0] == period and step.asset_id not in g[1]), None)
        if group is None:
            group = (period, set(), [])
            groups.append(group)
        group[1].add(step.asset_id)
        group[2].append(index)
    return [indexes for _period, _assets, indexes in groups]


def contract_cancel(*, actor: Actor, contract: Contract, now: datetime | None = None) -> ApplyResult:
    """Cancel a contract: its last desired state with the status cancelled (every open sharing stops, or goes if
    nothing was exposed)."""
    desired = replace(desired_from_state(contract.reference, contract.desired_state), status=ContractStatus.CANCELLED)
    return contract_apply(
        actor=actor, reference=contract.reference, desired=desired, on_conflict=OnConflict.SKIP, now=now
    )
