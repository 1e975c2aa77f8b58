"""The plan of a contract apply (DESIGN §7) as a pure function: a contract's desired state and its sharings as they
are → the steps that bring them in line, each judged by the lifecycle rules of sharing/lifecycle.py (the same
functions the sharing services refuse with), and the warnings. Nothing here touches the database: the service
(services.py) gathers the facts, calls contract_plan, and carries the steps out through the sharing services."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _

from hiboo_connect.api.fields import format_instant, parse_instant
from sharing import lifecycle
from sharing.lifecycle import OPEN_STATUSES, Refusal, SharingStatus

from .models import ContractStatus


class Action:
    CREATE = "create"
    UPDATE = "update"
    STOP = "stop"
    DELETE = "delete"
    NOOP = "noop"
    CONFLICT = "conflict"

    ALL = (CREATE, UPDATE, STOP, DELETE, NOOP, CONFLICT)
    #: The actions that write.
    WRITES = (CREATE, UPDATE, STOP, DELETE)


#: The fields of a sharing a contract decides, as the API names them, and the sharing services' names for them.
SERVICE_FIELDS = {
    "startDate": "start_at",
    "endDate": "end_at",
    "recipient": "recipient_email",
    "dataPacksCodes": "data_packs",
    "properties": "properties",
    "notificationEnabled": "notification_enabled",
    "reference": "reference",
}


def plain(value: Any) -> Any:
    """A value as the API and the stored states write it (instants as UTC text with a Z, tuples as lists)."""
    if isinstance(value, datetime):
        return format_instant(value)
    if isinstance(value, tuple | list):
        return [plain(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


# --- the inputs ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """One line of the desired state: one machine, for the contract's period unless the line gives its own."""

    asset_id: uuid.UUID
    line_reference: str = ""
    start_at: datetime | None = None
    end_at: datetime | None = None

    @property
    def key(self) -> tuple[str, str]:
        """Lines are matched to sharings by line reference when given, else by asset."""
        return ("line", self.line_reference) if self.line_reference else ("asset", str(self.asset_id))


@dataclass(frozen=True)
class Desired:
    """A contract's desired state, cleaned (the service normalises packs and properties as the sharing services
    would store them, so that the same state read twice compares equal)."""

    reference: str
    status: str
    recipient_email: str
    start_at: datetime
    end_at: datetime | None
    data_packs: tuple[str, ...]
    notification_enabled: bool = True
    properties: Mapping[str, str] = field(default_factory=dict)
    recipient_organisation_name: str = ""
    lines: tuple[Line, ...] = ()

    def line_values(self, line: Line) -> dict[str, Any]:
        """What the sharing of `line` should be, by API field name. A line without dates takes the contract's."""
        return {
            "startDate": line.start_at or self.start_at,
            "endDate": line.end_at if line.end_at is not None else self.end_at,
            "recipient": self.recipient_email,
            "dataPacksCodes": list(self.data_packs),
            "properties": dict(self.properties),
            "notificationEnabled": self.notification_enabled,
            "reference": self.reference,
        }

    def as_state(self) -> dict[str, Any]:
        """The desired state as the API answers it and the contract stores it."""
        return {
            "recipient": self.recipient_email,
            "recipientOrganisationName": self.recipient_organisation_name,
            "status": self.status,
            "startDate": plain(self.start_at),
            "endDate": plain(self.end_at),
            "dataPacksCodes": list(self.data_packs),
            "notificationEnabled": self.notification_enabled,
            "properties": dict(self.properties),
            "lines": [
                {
                    "assetId": str(line.asset_id),
                    "lineReference": line.line_reference,
                    "startDate": plain(line.start_at),
                    "endDate": plain(line.end_at),
                }
                for line in self.lines
            ],
        }


@dataclass(frozen=True)
class Current:
    """A sharing of the contract as it is now. `applied` is what it looked like right after the last apply (plain
    values by API field name), None if that apply did not know it."""

    id: uuid.UUID
    asset_id: uuid.UUID
    line_reference: str
    status: str  # computed from the dates at `now`, never the cached column
    beneficiary_id: Any
    recipient_email: str
    reference: str
    start_at: datetime
    end_at: datetime | None
    stopped_at: datetime | None
    data_packs: tuple[str, ...]
    properties: Mapping[str, str]
    notification_enabled: bool
    applied: Mapping[str, Any] | None = None

    @property
    def key(self) -> tuple[str, str]:
        return ("line", self.line_reference) if self.line_reference else ("asset", str(self.asset_id))

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def values(self) -> dict[str, Any]:
        return {
            "startDate": self.start_at,
            "endDate": self.end_at,
            "recipient": self.recipient_email,
            "dataPacksCodes": list(self.data_packs),
            "properties": dict(self.properties),
            "notificationEnabled": self.notification_enabled,
            "reference": self.reference,
        }

    def snapshot(self) -> dict[str, Any]:
        """Its values as an apply leaves them, to tell a later hand edit (drift) apart."""
        return plain({**self.values(), "stoppedAt": self.stopped_at})


def desired_from_state(reference: str, state: Mapping[str, Any]) -> Desired:
    """A desired state back from what Desired.as_state stored."""

    def instant(value):
        return parse_instant(value) if value else None

    return Desired(
        reference=reference,
        status=state.get("status", ContractStatus.ACTIVE),
        recipient_email=state.get("recipient", ""),
        recipient_organisation_name=state.get("recipientOrganisationName", ""),
        start_at=instant(state.get("startDate")),
        end_at=instant(state.get("endDate")),
        data_packs=tuple(state.get("dataPacksCodes", ())),
        notification_enabled=state.get("notificationEnabled", True),
        properties=state.get("properties", {}),
        lines=tuple(
            Line(
                asset_id=uuid.UUID(line["assetId"]),
                line_reference=line.get("lineReference") or "",
                start_at=instant(line.get("startDate")),
                end_at=instant(line.get("endDate")),
            )
            for line in state.get("lines", ())
        ),
    )


# --- the outputs -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    field: str
    before: Any
    after: Any

    def as_json(self) -> dict[str, Any]:
        return {"field": self.field, "before": plain(self.before), "after": plain(self.after)}


@dataclass(frozen=True)
class Step:
    action: str
    asset_id: uuid.UUID
    line_reference: str = ""
    sharing_id: uuid.UUID | None = None
    changes: tuple[Change, ...] = ()
    code: str = ""
    reason: str = ""
    #: What the step would have done had the rules allowed it (a conflict's intended action).
    intended: str = ""
    #: For create and update: the line's values by API field name.
    values: Mapping[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "assetId": str(self.asset_id),
            "lineReference": self.line_reference or None,
            "sharingId": str(self.sharing_id) if self.sharing_id else None,
            "changes": [change.as_json() for change in self.changes],
            "code": self.code or None,
            "reason": self.reason or None,
        }

    def refused(self, code: str, reason: str) -> Step:
        return replace(self, action=Action.CONFLICT, code=code, reason=reason, intended=self.intended or self.action)


@dataclass(frozen=True)
class Warning:
    code: str  # overlap | duplicate_line | drift
    asset_id: uuid.UUID
    message: str
    field: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"code": self.code, "assetId": str(self.asset_id), "field": self.field or None, "message": self.message}


@dataclass(frozen=True)
class Plan:
    steps: tuple[Step, ...]
    warnings: tuple[Warning, ...] = ()

    @property
    def summary(self) -> dict[str, int]:
        counts = dict.fromkeys(Action.ALL, 0)
        for step in self.steps:
            counts[step.action] += 1
        return counts

    @property
    def writes(self) -> bool:
        return any(step.action in Action.WRITES for step in self.steps)

    @property
    def conflicts(self) -> list[Step]:
        return [step for step in self.steps if step.action == Action.CONFLICT]

    def as_json(self) -> list[dict[str, Any]]:
        return [step.as_json() for step in self.steps]


# --- the plan --------------------------------------------------------------------------------------------------------


def contract_plan(
    *,
    desired: Desired,
    sharings: Sequence[Current],
    recipient_organisation_id: Any,
    unusable_assets: Mapping[uuid.UUID, Refusal],
    now: datetime,
) -> Plan:
    """The steps that bring the contract's `sharings` (oldest first) in line with `desired`.

    `recipient_organisation_id` is the organisation of the desired recipient's account (None: no account yet);
    `unusable_assets` the machines of the desired lines the owner may not share, with why."""
    warnings: list[Warning] = []
    steps: list[Step] = []
    if desired.status != ContractStatus.ACTIVE:
        # Completed or cancelled: every open sharing stops, or goes if nothing was exposed; the rest stays as it is.
        for sharing in sharings:
            steps.append(_close(sharing, now) if sharing.is_open else _noop(sharing))
        return Plan(tuple(steps), ())

    by_key: dict[tuple[str, str], list[Current]] = {}
    for sharing in sharings:
        by_key.setdefault(sharing.key, []).append(sharing)
    matched: set[uuid.UUID] = set()
    seen: set[tuple[str, str]] = set()
    for line in desired.lines:
        if line.key in seen:
            warnings.append(
                Warning(
                    "duplicate_line",
                    line.asset_id,
                    _("This line appears twice in the contract (“%s”); the first one is kept.")
                    % (line.line_reference or line.asset_id),
                )
            )
            continue
        seen.add(line.key)
        match = _match(line, by_key.get(line.key, []))
        if match is not None:
            matched.add(match.id)
            warnings.extend(_drift(match))
        steps.extend(_line_steps(line, match, desired, recipient_organisation_id, unusable_assets, now))
    for sharing in sharings:
        if sharing.id not in matched and sharing.is_open:
            steps.append(_close(sharing, now))
    return Plan(tuple(steps), tuple(warnings))


def _match(line: Line, candidates: list[Current]) -> Current | None:
    """The sharing that stands for `line`: its latest open one, else its latest ended one of the same machine (a line
    whose period is over stays matched, rather than shared anew)."""
    open_ones = [sharing for sharing in candidates if sharing.is_open]
    if open_ones:
        return open_ones[-1]
    same_machine = [sharing for sharing in candidates if sharing.asset_id == line.asset_id]
    return same_machine[-1] if same_machine else None


def drift_warnings(sharing: Current) -> list[Warning]:
    """The fields of `sharing` edited by hand since the last apply, as the plan warns of them."""
    return _drift(sharing)


def _drift(sharing: Current) -> list[Warning]:
    """The fields edited by hand since the last apply: the desired state wins, but the owner is told."""
    if sharing.applied is None:
        return []
    now_values = sharing.snapshot()
    return [
        Warning(
            "drift",
            sharing.asset_id,
            _("“%(field)s” of this sharing was changed by hand since the last apply; the contract's value wins.")
            % {"field": name},
            name,
        )
        for name, value in sharing.applied.items()
        if name in now_values and now_values[name] != value
    ]


def _noop(sharing: Current) -> Step:
    return Step(Action.NOOP, sharing.asset_id, sharing.line_reference, sharing.id)


def _close(sharing: Current, now: datetime) -> Step:
    """Stop a sharing that has started (the beneficiary keeps its history), delete one that exposed nothing."""
    if lifecycle.nothing_exposed(status=sharing.status, start_at=sharing.start_at, now=now):
        return Step(
            Action.DELETE,
            sharing.asset_id,
            sharing.line_reference,
            sharing.id,
            (Change("status", sharing.status, None),),
        )
    return Step(
        Action.STOP,
        sharing.asset_id,
        sharing.line_reference,
        sharing.id,
        (Change("stoppedAt", None, now), Change("status", sharing.status, SharingStatus.STOPPED.value)),
    )


def _line_steps(
    line: Line,
    sharing: Current | None,
    desired: Desired,
    recipient_organisation_id: Any,
    unusable_assets: Mapping[uuid.UUID, Refusal],
    now: datetime,
) -> list[Step]:
    values = desired.line_values(line)
    if sharing is None:
        return [_create(line, values, unusable_assets, now)]
    if sharing.asset_id != line.asset_id:
        # A swap: the machines of a sharing never change, so the old one ends and a new one starts.
        return _replace(sharing, line, values, unusable_assets, now)
    current = sharing.values()
    changed = [name for name in SERVICE_FIELDS if plain(current[name]) != plain(values[name])]
    if not changed:
        return [_noop(sharing)]
    moves_organisation = sharing.beneficiary_id is not None and recipient_organisation_id != sharing.beneficiary_id
    if "recipient" in changed and moves_organisation:
        # The data moves to another organisation: never silently, always a new sharing.
        return _replace(sharing, line, values, unusable_assets, now)
    step = Step(
        Action.UPDATE,
        sharing.asset_id,
        sharing.line_reference,
        sharing.id,
        tuple(Change(name, current[name], values[name]) for name in changed),
        values={name: values[name] for name in changed},
    )
    refusal = _update_refusal(sharing, values, changed, now)
    return [step.refused(refusal.code, refusal.message) if refusal else step]


def _update_refusal(sharing: Current, values: Mapping[str, Any], changed: list[str], now: datetime) -> Refusal | None:
    """The first rule of DESIGN §3 the update breaks, judged as sharing_update judges it."""
    new_start, new_end = values["startDate"], values["endDate"]
    if "startDate" in changed:
        refusal = lifecycle.start_change_refusal(
            status=sharing.status, current_start=sharing.start_at, new_start=new_start, end_at=new_end, now=now
        )
        if refusal is not None:
            return refusal
    if "endDate" in changed:
        refusal = lifecycle.end_change_refusal(
            status=sharing.status, current_end=sharing.end_at, new_end=new_end, start_at=new_start, now=now
        )
        if refusal is not None:
            return refusal
    if "dataPacksCodes" in changed:
        refusal = lifecycle.data_packs_change_refusal(status=sharing.status, start_at=sharing.start_at, now=now)
        if refusal is not None:
            return refusal
    if "recipient" in changed and sharing.beneficiary_id is None and sharing.status != SharingStatus.PENDING:
        return Refusal(
            "recipient_locked", _("This sharing has ended; its recipient can no longer be changed."), "recipient", True
        )
    return None


def _replace(
    sharing: Current, line: Line, values: Mapping[str, Any], unusable_assets: Mapping[uuid.UUID, Refusal], now
) -> list[Step]:
    create = _create(line, values, unusable_assets, now)
    if not sharing.is_open:
        return [create]
    close = _close(sharing, now)
    if create.action == Action.CONFLICT:
        # Never end the old sharing when its successor cannot be created: the swap waits, whole.
        close = close.refused(create.code, create.reason)
    return [close, create]


def _create(line: Line, values: Mapping[str, Any], unusable_assets: Mapping[uuid.UUID, Refusal], now) -> Step:
    step = Step(
        Action.CREATE,
        line.asset_id,
        line.line_reference,
        None,
        tuple(Change(name, None, values[name]) for name in SERVICE_FIELDS),
        values=dict(values),
    )
    refusal = unusable_assets.get(line.asset_id) or lifecycle.creation_dates_refusal(
        start_at=values["startDate"], end_at=values["endDate"], now=now
    )
    return step.refused(refusal.code, refusal.message) if refusal else step
