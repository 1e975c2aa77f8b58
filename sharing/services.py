"""The only writers of sharings and received machines. Forms, the API, imports, contract sync and periodic tasks all
call these; the rules live here and in lifecycle.py. Each action writes its audit event in the same transaction and
refuses a forbidden action with a DomainError (code + human message)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import datetime
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.models import Organisation, User
from accounts.selectors import account_by_email
from accounts.services import contact_record
from audit.services import audit_event, audit_record, audit_record_many
from fleet.data_packs import ALL_DATA_PACKS, normalise_data_packs
from fleet.models import Machine, Workspace
from fleet.services import workspaces_place
from hiboo_connect.api.fields import format_instant
from hiboo_connect.errors import DomainError, InvalidInput, NotAllowed, RuleConflict
from hiboo_connect.text import single_line
from outbox.models import Message
from outbox.services import message_retry

from . import lifecycle, messages, selectors
from .audit import AuditAction, AuditTarget
from .changes import Change, ChangeType, changes_announce, lifecycle_change_type, sharing_change
from .lifecycle import SharingStatus
from .models import ExtensionRequest, ExtensionStatus, ReceivedMachine, Sharing, SharingMachine

PROPERTY_KEY_MAX = 50
PROPERTY_VALUE_MAX = 255
PROPERTIES_MAX = 30
UPDATABLE_FIELDS = {
    "start_at",
    "end_at",
    "reference",
    "properties",
    "recipient_email",
    "recipient_organisation_name",
    "notification_enabled",
    "data_packs",
}


# --- validation of inputs --------------------------------------------------------------------------------------------


def _clean_email(email: str, field: str = "recipient_email") -> str:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput("invalid_email", _("Enter a valid e-mail address."), field=field) from None
    return email


def _clean_reference(reference: str | None) -> str:
    reference = single_line(reference)
    if len(reference) > 255:
        raise InvalidInput(
            "reference_too_long", _("The reference is too long (255 characters at most)."), field="reference"
        )
    return reference


def _clean_properties(properties: Mapping[str, Any] | None) -> dict[str, str]:
    if properties is None:
        return {}
    if not isinstance(properties, Mapping):
        raise InvalidInput("invalid_properties", _("Properties must be a set of names and texts."), field="properties")
    if len(properties) > PROPERTIES_MAX:
        raise InvalidInput(
            "too_many_properties", _("A sharing has at most %d properties.") % PROPERTIES_MAX, field="properties"
        )
    cleaned = {}
    for key, value in properties.items():
        if not isinstance(key, str) or not key.strip() or len(key) > PROPERTY_KEY_MAX:
            raise InvalidInput(
                "invalid_property_name",
                _("Property names are texts of 1 to %d characters.") % PROPERTY_KEY_MAX,
                field="properties",
            )
        if value is None:
            continue
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise InvalidInput(
                "invalid_property_value", _("The property “%s” must be a text.") % key, field="properties"
            )
        value = str(value).strip()
        if len(value) > PROPERTY_VALUE_MAX:
            raise InvalidInput(
                "property_too_long",
                _("The property “%(key)s” is too long (%(max)d characters at most).")
                % {"key": key, "max": PROPERTY_VALUE_MAX},
                field="properties",
            )
        if value:
            cleaned[key.strip()] = value
    return cleaned


def _clean_data_packs(codes) -> list[str]:
    if codes is None:
        return list(ALL_DATA_PACKS)
    if isinstance(codes, str) or not isinstance(codes, Iterable):
        raise InvalidInput("invalid_data_packs", _("Data packs must be a list of codes."), field="data_packs")
    try:
        packs = normalise_data_packs(codes)
    except ValueError as error:
        raise InvalidInput("unknown_data_pack", _("Unknown data pack: %s.") % error, field="data_packs") from None
    if not packs:
        raise InvalidInput("data_packs_required", _("Choose at least one data pack."), field="data_packs")
    return packs


def _clean_datetime(value, field: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime) or timezone.is_naive(value):
        raise InvalidInput("invalid_datetime", _("Give a date and time with a time zone."), field=field)
    return value


def _raise_refusal(refusal: lifecycle.Refusal | None) -> None:
    if refusal is None:
        return
    error_class = RuleConflict if refusal.conflict else InvalidInput
    raise error_class(refusal.code, refusal.message, field=refusal.field or None)


def _machines_for_sharing(*, owner: Organisation, machine_ids) -> list[Machine]:
    """The machines to share: at least one, all owned by the owner. Received machines are never shared on."""
    try:
        ids = {uuid.UUID(str(machine_id)) for machine_id in machine_ids}
    except (TypeError, ValueError, AttributeError):
        raise InvalidInput("invalid_machine_id", _("Machine ids must be UUIDs."), field="machines") from None
    if not ids:
        raise InvalidInput("machines_required", _("Choose at least one machine."), field="machines")
    machines = list(Machine.objects.filter(pk__in=ids, organisation=owner).order_by("make", "model", "serial_number"))
    missing = ids - {machine.pk for machine in machines}
    if missing:
        if ReceivedMachine.objects.filter(organisation=owner, machine_id__in=missing).exists():
            raise RuleConflict(
                "resharing_forbidden",
                _("Machines shared with your organisation can never be shared on."),
                field="machines",
            )
        raise InvalidInput(
            "unknown_machine",
            _("Unknown machine: %s.") % ", ".join(sorted(str(machine_id) for machine_id in missing)),
            field="machines",
        )
    return machines


def _resolve_recipient(*, owner: Organisation, email: str) -> Organisation | None:
    """The recipient's organisation if they already have one; refuses members of the owner organisation."""
    user = _recipient_user(owner=owner, email=email)
    return user.organisation if user is not None and user.organisation_id is not None else None


def _recipient_user(
    *, owner: Organisation, email: str, accounts: Mapping[str, User | None] | None = None
) -> User | None:
    """The recipient's account if they have one (from `accounts` when read there); refuses members of the owner
    organisation."""
    user = accounts[email] if accounts is not None and email in accounts else account_by_email(email)
    if user is None or user.organisation_id is None:
        return user
    if user.organisation_id == owner.pk:
        raise InvalidInput(
            "recipient_in_own_organisation",
            _("The recipient is a member of your own organisation; share with another organisation."),
            field="recipient_email",
        )
    return user


def properties_clean(properties: Mapping[str, Any] | None) -> dict[str, str]:
    """Properties as a sharing stores them: for a caller that must compare a wanted state before writing it (contract
    sync), so that what it asks and what was stored compare equal."""
    return _clean_properties(properties)


def data_packs_clean(codes) -> list[str]:
    """Data packs as a sharing stores them (canonical order, no duplicates); see properties_clean."""
    return _clean_data_packs(codes)


def recipient_account(
    *, owner: Organisation, email: str, accounts: Mapping[str, User | None] | None = None
) -> User | None:
    """The recipient's account (with its organisation), None when they have none yet; refuses (InvalidInput) an
    invalid e-mail and members of the owner organisation, as sharing_create does. `accounts`: what
    recipient_accounts read for a batch."""
    return _recipient_user(owner=owner, email=_clean_email(email), accounts=accounts)


def recipient_accounts(*, emails: Iterable[str]) -> dict[str, User | None]:
    """The accounts of many recipients in one query, by e-mail as cleaned (None: no account), for recipient_account
    over a batch (a contract import's preview)."""
    wanted = {(email or "").strip().lower() for email in emails}
    accounts: dict[str, User | None] = dict.fromkeys(wanted)
    for user in User.objects.filter(email__in=wanted).select_related("organisation"):
        accounts[user.email] = user
    return accounts


def recipient_organisation(*, owner: Organisation, email: str) -> Organisation | None:
    """The organisation of the recipient's account, None when they have none yet; refuses (InvalidInput) an invalid
    e-mail and members of the owner organisation, as sharing_create does."""
    return _resolve_recipient(owner=owner, email=_clean_email(email))


def _receive_machines(*, beneficiary: Organisation, machines: Iterable[Machine], now: datetime) -> None:
    """Put machines in the beneficiary's fleet the first time it receives them, named "model serial-number". One
    statement: a machine it already receives is left as it is (its own name and workspaces) by the unique constraint."""
    ReceivedMachine.objects.bulk_create(
        [
            ReceivedMachine(
                organisation=beneficiary, machine=machine, name=machine.default_display_name, created_at=now
            )
            for machine in machines
        ],
        ignore_conflicts=True,
    )


# --- sharings --------------------------------------------------------------------------------------------------------


@dataclass
class _CreationInput:
    """What sharing_create writes, once every input is checked."""

    machines: list[Machine] = dataclass_field(default_factory=list)
    recipient_email: str = ""
    recipient: User | None = None
    beneficiary: Organisation | None = None
    recipient_organisation_name: str = ""
    start_at: datetime | None = None
    end_at: datetime | None = None
    reference: str = ""
    properties: dict[str, str] = dataclass_field(default_factory=dict)
    data_packs: list[str] = dataclass_field(default_factory=list)


def _creation_checked(
    *,
    owner: Organisation,
    machine_ids: Iterable,
    recipient_email: str,
    recipient_organisation_name: str,
    reference: str,
    properties: Mapping[str, Any] | None,
    data_packs: Iterable[str] | None,
    notification_enabled: bool,
    start_at: datetime | str | None,
    end_at: datetime | None,
    now: datetime,
    accounts: Mapping[str, User | None] | None = None,
) -> tuple[_CreationInput, list[DomainError]]:
    """Every check of a creation, each one whatever the others found: the cleaned input and the refusals, in the
    order of the fields (machines, recipient, dates, reference, properties, data packs). A check that needs another
    input (the recipient's organisation needs a valid e-mail, the dates a start) waits for it to be valid."""
    checked = _CreationInput()
    errors: list[DomainError] = []

    def check(clean, *args, **kwargs):
        try:
            return clean(*args, **kwargs), True
        except DomainError as error:
            errors.append(error)
            return None, False

    machines, _ok = check(_machines_for_sharing, owner=owner, machine_ids=machine_ids)
    checked.machines = machines or []
    email, email_ok = check(_clean_email, recipient_email)
    if email_ok:
        checked.recipient_email = email
        recipient, recipient_ok = check(_recipient_user, owner=owner, email=email, accounts=accounts)
        if recipient_ok:
            checked.recipient = recipient
            checked.beneficiary = (
                recipient.organisation if recipient is not None and recipient.organisation_id else None
            )
            name = single_line(recipient_organisation_name)[:200]
            if checked.beneficiary is not None:
                name = checked.beneficiary.name
            elif not name:
                contact = owner.contacts.filter(email=email).first()
                name = contact.organisation_name if contact else ""
                if not name:
                    errors.append(
                        InvalidInput(
                            "recipient_organisation_required",
                            _("This recipient has no account yet: give the name of their organisation."),
                            field="recipient_organisation_name",
                        )
                    )
            checked.recipient_organisation_name = name
    start, start_ok = check(_clean_datetime, start_at, "start_at")
    if start_ok and start is None:
        errors.append(InvalidInput("start_required", _("Give a start date."), field="start_at"))
    end, end_ok = check(_clean_datetime, end_at, "end_at")
    if start is not None and end_ok:
        refusal = lifecycle.creation_dates_refusal(start_at=start, end_at=end, now=now)
        if refusal is not None:
            check(_raise_refusal, refusal)
    checked.start_at, checked.end_at = start, end
    checked.reference, _ok = check(_clean_reference, reference)
    checked.properties, _ok = check(_clean_properties, properties)
    checked.data_packs, _ok = check(_clean_data_packs, data_packs)
    if not isinstance(notification_enabled, bool):
        errors.append(InvalidInput("invalid_boolean", _("Must be true or false."), field="notification_enabled"))
    return checked, errors


def _refused_with_all(errors: list[DomainError]) -> DomainError:
    """The first refusal, carrying the others (`also`): the API names every field at fault, as the portal does."""
    first = errors[0]
    first.also = errors[1:]
    return first


def sharing_create_refusals(
    *,
    actor: Actor,
    machine_ids: Iterable,
    recipient_email: str,
    recipient_organisation_name: str = "",
    reference: str = "",
    properties: Mapping[str, Any] | None = None,
    data_packs: Iterable[str] | None = None,
    notification_enabled: bool = True,
    start_at: datetime | str | None,
    end_at: datetime | None = None,
    one_per_machine: bool = False,
    now: datetime | None = None,
) -> list[DomainError]:
    """Every refusal sharing_create would give these arguments, all at once, writing nothing: the checks are
    sharing_create's own (a form shows them all on one submit and invents no rule of its own)."""
    owner = actor.organisation
    if owner is None:
        raise NotAllowed("no_organisation", _("You need an organisation to share machines."))
    actor.require_admin_of(owner)
    _checked, errors = _creation_checked(
        owner=owner,
        machine_ids=machine_ids,
        recipient_email=recipient_email,
        recipient_organisation_name=recipient_organisation_name,
        reference=reference,
        properties=properties,
        data_packs=data_packs,
        notification_enabled=notification_enabled,
        start_at=start_at,
        end_at=end_at,
        now=now or timezone.now(),
    )
    return errors


@transaction.atomic
def sharing_create(
    *,
    actor: Actor,
    machine_ids: Iterable,
    recipient_email: str,
    recipient_organisation_name: str = "",
    reference: str = "",
    properties: Mapping[str, Any] | None = None,
    data_packs: Iterable[str] | None = None,
    notification_enabled: bool = True,
    start_at: datetime | str | None,
    end_at: datetime | None = None,
    one_per_machine: bool = False,
    contract_id=None,
    contract_lines: Mapping[Any, str] | None = None,
    notify: bool = True,
    now: datetime | None = None,
) -> list[Sharing]:
    """Create one sharing of all the machines, or one sharing per machine. Returns the sharings created.

    A contract names the contract that manages them (`contract_id`) and, per machine id, the contract line each
    sharing stands for (`contract_lines`); a contract apply itself calls sharings_create."""
    owner = actor.organisation
    if owner is None:
        raise NotAllowed("no_organisation", _("You need an organisation to share machines."))
    actor.require_admin_of(owner)
    now = now or timezone.now()
    checked, errors = _creation_checked(
        owner=owner,
        machine_ids=machine_ids,
        recipient_email=recipient_email,
        recipient_organisation_name=recipient_organisation_name,
        reference=reference,
        properties=properties,
        data_packs=data_packs,
        notification_enabled=notification_enabled,
        start_at=start_at,
        end_at=end_at,
        now=now,
    )
    if errors:
        raise _refused_with_all(errors)
    start_at, end_at = cast(datetime, checked.start_at), checked.end_at  # a start is checked to be there
    groups = [[machine] for machine in checked.machines] if one_per_machine else [checked.machines]
    lines = contract_lines or {}
    return _sharings_write(
        actor=actor,
        owner=owner,
        checked=checked,
        groups=[(group, start_at, end_at, lines.get(group[0].pk, "") if len(group) == 1 else "") for group in groups],
        notification_enabled=notification_enabled,
        contract=contract_id,
        notify=notify,
        now=now,
    )


@dataclass(frozen=True)
class NewSharing:
    """One sharing of a batch created by sharings_create: its machines (one per sharing for a contract line), its
    period, and the contract line it stands for."""

    machine_ids: tuple
    start_at: datetime | None
    end_at: datetime | None = None
    contract_line: str = ""


@transaction.atomic
def sharings_create(
    *,
    actor: Actor,
    sharings: Sequence[NewSharing],
    recipient_email: str,
    recipient_organisation_name: str = "",
    reference: str = "",
    properties: Mapping[str, Any] | None = None,
    data_packs: Iterable[str] | None = None,
    notification_enabled: bool = True,
    contract: Any = None,
    accounts: Mapping[str, User | None] | None = None,
    notify: bool = True,
    now: datetime | None = None,
) -> list[Sharing]:
    """Create several sharings for one recipient at once, each with its own machines and period (a contract's new
    lines), under exactly the checks of sharing_create, in a fixed number of statements whatever their number: one
    INSERT each for the sharings, their machines, their audit events and their events. A contract sync names the
    contract that manages them (`contract`, its row), passes the recipient's account it read (`accounts`, as
    recipient_accounts answers) and tells the recipient itself, once for the whole change (`notify=False`). Returns
    the sharings created, in the order asked."""
    owner = actor.organisation
    if owner is None:
        raise NotAllowed("no_organisation", _("You need an organisation to share machines."))
    actor.require_admin_of(owner)
    now = now or timezone.now()
    if not sharings:
        raise InvalidInput("machines_required", _("Choose at least one machine."), field="machines")
    first = sharings[0]
    checked, errors = _creation_checked(
        owner=owner,
        machine_ids=[machine_id for new in sharings for machine_id in new.machine_ids],
        recipient_email=recipient_email,
        recipient_organisation_name=recipient_organisation_name,
        reference=reference,
        properties=properties,
        data_packs=data_packs,
        notification_enabled=notification_enabled,
        start_at=first.start_at,
        end_at=first.end_at,
        now=now,
        accounts=accounts,
    )
    if errors:
        raise _refused_with_all(errors)
    periods = {(first.start_at, first.end_at): (cast(datetime, checked.start_at), checked.end_at)}
    for new in sharings:
        if (new.start_at, new.end_at) not in periods:
            start_at = _clean_datetime(new.start_at, "start_at")
            if start_at is None:
                raise InvalidInput("start_required", _("Give a start date."), field="start_at")
            end_at = _clean_datetime(new.end_at, "end_at")
            _raise_refusal(lifecycle.creation_dates_refusal(start_at=start_at, end_at=end_at, now=now))
            periods[(new.start_at, new.end_at)] = (start_at, end_at)
    machines = {machine.pk: machine for machine in checked.machines}
    groups = []
    for new in sharings:
        group = [machines[_as_uuid(machine_id)] for machine_id in new.machine_ids]
        if not group:
            raise InvalidInput("machines_required", _("Choose at least one machine."), field="machines")
        start_at, end_at = periods[(new.start_at, new.end_at)]
        groups.append((group, start_at, end_at, single_line(new.contract_line)[:100]))
    return _sharings_write(
        actor=actor,
        owner=owner,
        checked=checked,
        groups=groups,
        notification_enabled=notification_enabled,
        contract=contract,
        notify=notify,
        now=now,
    )


def _as_uuid(value) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _sharings_write(
    *,
    actor: Actor,
    owner: Organisation,
    checked: _CreationInput,
    groups: list[tuple[list[Machine], datetime, datetime | None, str]],
    notification_enabled: bool,
    contract: Any,
    notify: bool,
    now: datetime,
) -> list[Sharing]:
    """The writes of checked sharings, each group (machines, start, end, contract line) one sharing, each kind of row
    in one statement. `contract`: the managing contract's row, or its id."""
    recipient_email, recipient, beneficiary = checked.recipient_email, checked.recipient, checked.beneficiary
    contact_record(
        organisation=owner,
        email=recipient_email,
        organisation_name=checked.recipient_organisation_name,
        known_organisation=beneficiary,
    )
    managed = {"contract": contract} if isinstance(contract, models.Model) else {"contract_id": contract}
    created: list[tuple[Sharing, list[Machine]]] = []
    for group, start_at, end_at, contract_line in groups:
        sharing = Sharing(
            owner=owner,
            beneficiary=beneficiary,
            sender=actor.user,
            sender_label=actor.label,
            recipient_email=recipient_email,
            recipient_organisation_name=checked.recipient_organisation_name,
            reference=checked.reference,
            properties=checked.properties,
            data_packs=checked.data_packs,
            notification_enabled=notification_enabled,
            start_at=start_at,
            end_at=end_at,
            contract_line=contract_line if len(group) == 1 else "",
            created_at=now,
            updated_at=now,
            **managed,
        )
        sharing.status = sharing.status_at(now)
        created.append((sharing, group))
    sharings = Sharing.objects.bulk_create([sharing for sharing, _group in created])
    links = SharingMachine.objects.bulk_create(
        [SharingMachine(sharing=sharing, machine=machine) for sharing, group in created for machine in group]
    )
    by_sharing: dict[Any, list[SharingMachine]] = {}
    for link in links:
        by_sharing.setdefault(link.sharing_id, []).append(link)
    for sharing in sharings:
        # The events and the answer show each sharing's machines: they are known, no need to read them back.
        selectors.machine_links_known(sharing, by_sharing.get(sharing.pk, []))
    audit_record_many(
        audit_event(
            actor=actor,
            organisation=owner,
            target_type=AuditTarget.SHARING,
            target_id=sharing.pk,
            action=AuditAction.CREATED,
            changes=[
                ("machines", None, [str(machine.pk) for machine in group]),
                ("recipient_email", None, recipient_email),
                ("beneficiary", None, beneficiary),
                ("start_at", None, sharing.start_at),
                ("end_at", None, sharing.end_at),
                ("reference", None, checked.reference),
                ("properties", None, checked.properties),
                ("data_packs", None, checked.data_packs),
                ("notification_enabled", None, notification_enabled),
                ("status", None, sharing.status),
            ],
            now=now,
        )
        for sharing, group in created
    )
    if notify:
        messages.notify_sharings_created(created, recipient=recipient)
    if beneficiary is not None:
        _receive_machines(
            beneficiary=beneficiary,
            machines=list({machine.pk: machine for _sharing, group in created for machine in group}.values()),
            now=now,
        )
    changes_announce(sharing_change(ChangeType.SHARING_CREATED, sharing, now=now) for sharing in sharings)
    return sharings


def _locked_sharing(sharing: Sharing) -> Sharing:
    """Re-read the sharing under a row lock so concurrent changes queue up instead of overwriting each other."""
    return Sharing.objects.select_for_update(of=("self",)).select_related("owner", "beneficiary").get(pk=sharing.pk)


@transaction.atomic
def sharing_update(
    *, actor: Actor, sharing: Sharing, changes: Mapping[str, Any], notify: bool = True, now: datetime | None = None
) -> Sharing:
    """Change some of a sharing's fields; only the keys present in `changes` are touched (an `end_at` of None clears
    the end). Machines can never change: that is a new sharing. `notify=False`: the caller tells the recipient."""
    actor.require_admin_of(sharing.owner)
    _refuse_unknown_changes(changes)
    sharing = _locked_sharing(sharing)
    now = now or timezone.now()
    status = sharing.status_at(now)
    before = _updatable_values(sharing)

    _apply_dates(sharing=sharing, changes=changes, status=status, now=now)
    _apply_settings(sharing=sharing, changes=changes, status=status, start_before=before["start_at"], now=now)
    if "recipient_email" in changes or "recipient_organisation_name" in changes:
        _change_recipient(
            sharing=sharing,
            status=status,
            email=changes.get("recipient_email", sharing.recipient_email),
            organisation_name=changes.get("recipient_organisation_name"),
        )

    after = _updatable_values(sharing)
    diff = [(field, before[field], after[field]) for field in sorted(after) if before[field] != after[field]]
    if not diff:
        return sharing
    old_status = sharing.status
    sharing.status = sharing.status_at(now)
    if sharing.status != old_status:
        diff.append(("status", old_status, sharing.status))
    sharing.updated_at = now
    sharing.save()
    if before["beneficiary"] is None and sharing.beneficiary is not None:
        _receive_machines(beneficiary=sharing.beneficiary, machines=sharing.machines.all(), now=now)
    if sharing.beneficiary_id is not None:
        contact_record(
            organisation=sharing.owner, email=sharing.recipient_email, known_organisation=sharing.beneficiary
        )
    else:
        contact_record(
            organisation=sharing.owner,
            email=sharing.recipient_email,
            organisation_name=sharing.recipient_organisation_name,
        )
    event = audit_record(
        actor=actor,
        organisation=sharing.owner,
        target_type=AuditTarget.SHARING,
        target_id=sharing.pk,
        action=AuditAction.UPDATED,
        changes=diff,
        now=now,
    )
    if not notify:
        return sharing
    # The new recipient gets the whole summary (current dates included); otherwise the recipient hears of new dates.
    if after["recipient_email"] != before["recipient_email"]:
        messages.notify_recipient_changed(sharing, audit_event=event)
    elif (after["start_at"], after["end_at"]) != (before["start_at"], before["end_at"]):
        messages.notify_dates_changed(
            sharing, previous_start_at=before["start_at"], previous_end_at=before["end_at"], audit_event=event
        )
    messages.notify_status_changed(sharing, old_status=old_status, new_status=sharing.status)
    changes_announce([sharing_change(ChangeType.SHARING_UPDATED, sharing, now=now)])
    return sharing


def _refuse_unknown_changes(changes: Mapping[str, Any]) -> None:
    if "machines" in changes or "machine_ids" in changes:
        raise RuleConflict(
            "machines_locked",
            _("The machines of a sharing cannot be changed: stop or delete this sharing and create a new one."),
            field="machines",
        )
    unknown = set(changes) - UPDATABLE_FIELDS
    if unknown:
        raise InvalidInput("unknown_field", _("Unknown field: %s.") % ", ".join(sorted(unknown)))


def _updatable_values(sharing: Sharing) -> dict[str, Any]:
    values = {field: getattr(sharing, field) for field in UPDATABLE_FIELDS}
    values["beneficiary"] = sharing.beneficiary
    return values


def _apply_dates(*, sharing: Sharing, changes: Mapping[str, Any], status: str, now: datetime) -> None:
    """The new start and end, each checked against the rules only if it changes, and against the other's new value."""
    new_start = _clean_datetime(changes["start_at"], "start_at") if "start_at" in changes else sharing.start_at
    if new_start is None:  # only a change can remove it: a stored sharing always has a start
        raise InvalidInput("start_required", _("Give a start date."), field="start_at")
    new_end = _clean_datetime(changes["end_at"], "end_at") if "end_at" in changes else sharing.end_at
    if new_start != sharing.start_at:
        _raise_refusal(
            lifecycle.start_change_refusal(
                status=status, current_start=sharing.start_at, new_start=new_start, end_at=new_end, now=now
            )
        )
    if new_end != sharing.end_at:
        _raise_refusal(
            lifecycle.end_change_refusal(
                status=status, current_end=sharing.end_at, new_end=new_end, start_at=new_start, now=now
            )
        )
    sharing.start_at, sharing.end_at = new_start, new_end


def _apply_settings(
    *, sharing: Sharing, changes: Mapping[str, Any], status: str, start_before: datetime, now: datetime
) -> None:
    """Data packs (only before the start, judged on the start before this change), reference, properties and the
    notification switch (at any time)."""
    if "data_packs" in changes:
        packs = _clean_data_packs(changes["data_packs"])
        if packs != sharing.data_packs:
            _raise_refusal(lifecycle.data_packs_change_refusal(status=status, start_at=start_before, now=now))
            sharing.data_packs = packs
    if "reference" in changes:
        sharing.reference = _clean_reference(changes["reference"])
    if "properties" in changes:
        sharing.properties = _clean_properties(changes["properties"])
    if "notification_enabled" in changes:
        if not isinstance(changes["notification_enabled"], bool):
            raise InvalidInput("invalid_boolean", _("Must be true or false."), field="notification_enabled")
        sharing.notification_enabled = changes["notification_enabled"]


def _change_recipient(*, sharing: Sharing, status: str, email: str, organisation_name: str | None) -> None:
    """While pending, any e-mail (an existing user's organisation becomes the beneficiary). Once the beneficiary is
    known, only another user of that same organisation."""
    email = _clean_email(email)
    if sharing.beneficiary_id is None:
        if status != SharingStatus.PENDING:
            raise RuleConflict(
                "recipient_locked",
                _("This sharing has ended; its recipient can no longer be changed."),
                field="recipient_email",
            )
        beneficiary = _resolve_recipient(owner=sharing.owner, email=email)
        if organisation_name is not None:
            sharing.recipient_organisation_name = single_line(organisation_name)[:200]
        if beneficiary is not None:
            sharing.beneficiary = beneficiary
            sharing.recipient_organisation_name = beneficiary.name
        elif not sharing.recipient_organisation_name:
            raise InvalidInput(
                "recipient_organisation_required",
                _("This recipient has no account yet: give the name of their organisation."),
                field="recipient_organisation_name",
            )
        sharing.recipient_email = email
        return
    if email == sharing.recipient_email:
        return
    if not User.objects.filter(email=email, organisation_id=sharing.beneficiary_id).exists():
        raise RuleConflict(
            "recipient_other_organisation",
            _(
                "The new recipient must be a user of %(organisation)s. To share with another organisation, "
                "create a new sharing."
            )
            % {"organisation": cast(Organisation, sharing.beneficiary).name},
            field="recipient_email",
        )
    sharing.recipient_email = email


@transaction.atomic
def sharing_stop(*, actor: Actor, sharing: Sharing, notify: bool = True, now: datetime | None = None) -> Sharing:
    """Stop a pending, scheduled or in-progress sharing now. The beneficiary keeps the history up to this moment.
    `notify=False`: the caller tells the recipient."""
    actor.require_admin_of(sharing.owner)
    sharing = _locked_sharing(sharing)
    now = now or timezone.now()
    status = sharing.status_at(now)
    if not lifecycle.can_stop(status):
        raise RuleConflict("sharing_ended", _("This sharing has already ended (%s).") % SharingStatus(status).label)
    old_status = sharing.status
    sharing.stopped_at = sharing.updated_at = now
    sharing.status = SharingStatus.STOPPED
    sharing.save(update_fields=["stopped_at", "status", "updated_at"])
    audit_record(
        actor=actor,
        organisation=sharing.owner,
        target_type=AuditTarget.SHARING,
        target_id=sharing.pk,
        action=AuditAction.STOPPED,
        changes=[("stopped_at", None, now), ("status", old_status, sharing.status)],
        now=now,
    )
    if notify:
        messages.notify_stopped(sharing)
    changes_announce([sharing_change(ChangeType.SHARING_STOPPED, sharing, now=now)])
    return sharing


@transaction.atomic
def sharing_delete(*, actor: Actor, sharing: Sharing, now: datetime | None = None) -> None:
    """Delete a sharing that exposed nothing yet. The audit trail keeps its id and what it was."""
    actor.require_admin_of(sharing.owner)
    sharing = _locked_sharing(sharing)
    now = now or timezone.now()
    _raise_refusal(lifecycle.deletion_refusal(status=sharing.status_at(now), start_at=sharing.start_at, now=now))
    machine_ids = list(sharing.sharing_machines.values_list("machine_id", flat=True))
    audit_record(
        actor=actor,
        organisation=sharing.owner,
        target_type=AuditTarget.SHARING,
        target_id=sharing.pk,
        action=AuditAction.DELETED,
        changes=[
            ("machines", [str(machine_id) for machine_id in machine_ids], None),
            ("recipient_email", sharing.recipient_email, None),
            ("reference", sharing.reference, None),
            ("start_at", sharing.start_at, None),
            ("end_at", sharing.end_at, None),
        ],
        now=now,
    )
    beneficiary_id = sharing.beneficiary_id
    messages.messages_of_sharing_drop(sharing)
    # Announced while the sharing is still there, so that it is shown as it was.
    changes_announce([sharing_change(ChangeType.SHARING_DELETED, sharing, now=now)])
    sharing.delete()
    if beneficiary_id is not None:
        # A machine leaves the beneficiary's fleet when no other sharing brings it there.
        still_shared = SharingMachine.objects.filter(
            sharing__beneficiary_id=beneficiary_id, machine_id__in=machine_ids
        ).values_list("machine_id", flat=True)
        ReceivedMachine.objects.filter(organisation_id=beneficiary_id, machine_id__in=machine_ids).exclude(
            machine_id__in=still_shared
        ).delete()


@transaction.atomic
def sharings_attach_beneficiary(*, actor: Actor, user: User, now: datetime | None = None) -> list[Sharing]:
    """Attach every pending sharing addressed to `user`'s e-mail to the user's organisation (invitation accepted).
    Each takes its date-driven status. Returns the sharings attached, so their senders can be told."""
    if user.organisation_id is None:
        raise InvalidInput("no_organisation", _("The user has no organisation yet."))
    now = now or timezone.now()
    # Only sharings still pending: one that ended before anyone accepted it has nothing to attach.
    candidates = (
        selectors.sharings_pending_for_email(user.email, now=now)
        .select_for_update(of=("self",))
        .exclude(owner_id=user.organisation_id)
    )
    attached = []
    for sharing in candidates:
        old_status = sharing.status
        sharing.beneficiary = user.organisation
        sharing.recipient_organisation_name = cast(Organisation, user.organisation).name
        sharing.status = sharing.status_at(now)
        sharing.updated_at = now
        sharing.save(update_fields=["beneficiary", "recipient_organisation_name", "status", "updated_at"])
        _receive_machines(beneficiary=cast(Organisation, user.organisation), machines=sharing.machines.all(), now=now)
        contact_record(organisation=sharing.owner, email=sharing.recipient_email, known_organisation=user.organisation)
        audit_record(
            actor=actor,
            organisation=sharing.owner,
            target_type=AuditTarget.SHARING,
            target_id=sharing.pk,
            action=AuditAction.BENEFICIARY_ATTACHED,
            changes=[("beneficiary", None, user.organisation), ("status", old_status, sharing.status)],
            now=now,
        )
        attached.append(sharing)
    messages.notify_invitations_accepted(attached, invitee=user)
    changes_announce(sharing_change(ChangeType.INVITATION_ACCEPTED, sharing, now=now) for sharing in attached)
    return attached


#: Due sharings moved per transaction by the lifecycle job: the statements of a batch do not grow with its size.
LIFECYCLE_BATCH_SIZE = 1000


def sharing_lifecycle_run(*, now: datetime | None = None, batch_size: int = LIFECYCLE_BATCH_SIZE) -> int:
    """Move due sharings to the status their dates give them, audit each move and tell the recipients. Reads only due
    rows (two partial indexes), then works in batches, one transaction each: one conditional UPDATE claims the batch,
    one INSERT writes its audit events, the outbox writes its messages in bulk. Two runs never move one sharing twice,
    and a run catches up after any downtime in one pass. Returns how many sharings moved."""
    now = now or timezone.now()
    due_ids = sorted(selectors.sharings_due(now))
    moved = 0
    for first in range(0, len(due_ids), batch_size):
        moved += _lifecycle_batch(due_ids[first : first + batch_size], now=now)
    return moved


def _lifecycle_batch(sharing_ids: list, *, now: datetime) -> int:
    decided = [(sharing, sharing.status_at(now)) for sharing in selectors.sharings_by_ids(sharing_ids)]
    decided = [(sharing, new_status) for sharing, new_status in decided if new_status != sharing.status]
    if not decided:
        return 0
    with transaction.atomic():
        claimed = _lifecycle_claim(decided, now=now)
        moves = [(sharing, sharing.status, new_status) for sharing, new_status in decided if sharing.pk in claimed]
        system = Actor.system()
        audit_record_many(
            audit_event(
                actor=system,
                organisation=sharing.owner,
                target_type=AuditTarget.SHARING,
                target_id=sharing.pk,
                action=AuditAction.STATUS_CHANGED,
                changes=[("status", old_status, new_status)],
                now=now,
            )
            for sharing, old_status, new_status in moves
        )
        messages.notify_status_changed_many(moves)
        changes_announce(_lifecycle_changes(moves, now=now))
    return len(moves)


def _lifecycle_changes(moves: list[tuple[Sharing, str, str]], *, now: datetime) -> list:
    """The changes of a claimed batch, each sharing shown as the claim left it (its new status, stamped `now`)."""
    changes = []
    for sharing, old_status, new_status in moves:
        change_type = lifecycle_change_type(old_status=old_status, new_status=new_status)
        if change_type is not None:
            sharing.status, sharing.updated_at = new_status, now
            changes.append(sharing_change(change_type, sharing, now=now))
    return changes


def _lifecycle_claim(decided: list[tuple[Sharing, str]], *, now: datetime) -> set:
    """Set each decided status in one UPDATE … RETURNING, on the rows whose status and the fields it was decided from
    are still those read: another run, a stop or an edit of the dates in between wins, and a later run decides again.
    Returns the ids claimed."""
    fields: dict[str, Any] = {
        name: Sharing._meta.get_field(name) for name in ("id", "beneficiary", "start_at", "end_at", "stopped_at")
    }
    postgres = connection.vendor == "postgresql"
    if postgres:
        return _lifecycle_claim_json(decided, now=now)

    def placeholder(name: str | None) -> str:
        # PostgreSQL types a VALUES list from its first row, where a NULL says nothing: its columns are cast.
        return f"CAST(%s AS {fields[name].db_type(connection)})" if postgres and name else "%s"

    def prepared(name: str, value):
        return fields[name].get_db_prep_value(value, connection)

    columns = (
        ("id", "id"),
        ("beneficiary", "beneficiary_id"),
        ("start_at", "start_at"),
        ("end_at", "end_at"),
        ("stopped_at", "stopped_at"),
    )
    row_sql = "(" + ", ".join([placeholder(name) for name, _column in columns] + ["%s", "%s"]) + ")"
    params: list = []
    for sharing, new_status in decided:
        params += [prepared(name, getattr(sharing, attribute)) for name, attribute in columns]
        params += [sharing.status, new_status]
    same = " AND ".join(f"sharing_sharing.{column} IS NOT DISTINCT FROM due.{column}" for _name, column in columns[1:])
    sql = (
        f"WITH due ({', '.join(column for _name, column in columns)}, old_status, new_status) AS "
        f"(VALUES {', '.join([row_sql] * len(decided))}) "
        "UPDATE sharing_sharing SET status = due.new_status, updated_at = %s FROM due "
        f"WHERE sharing_sharing.id = due.id AND sharing_sharing.status = due.old_status AND {same} "
        "RETURNING sharing_sharing.id"
    )
    params.append(Sharing._meta.get_field("updated_at").get_db_prep_value(now, connection))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {uuid.UUID(str(row[0])) for row in cursor.fetchall()}


def _lifecycle_claim_json(decided: list[tuple[Sharing, str]], *, now: datetime) -> set:
    """_lifecycle_claim on PostgreSQL: the decided rows travel as one JSON parameter (a VALUES list of a thousand
    rows is seven thousand parameters to quote one by one)."""
    rows = [
        [
            str(sharing.pk),
            str(sharing.beneficiary_id) if sharing.beneficiary_id is not None else None,
            sharing.start_at.isoformat(),
            sharing.end_at.isoformat() if sharing.end_at is not None else None,
            sharing.stopped_at.isoformat() if sharing.stopped_at is not None else None,
            sharing.status,
            new_status,
        ]
        for sharing, new_status in decided
    ]
    sql = """
        WITH due AS (
            SELECT row ->> 0 AS id, row ->> 1 AS beneficiary_id, row ->> 2 AS start_at, row ->> 3 AS end_at,
                   row ->> 4 AS stopped_at, row ->> 5 AS old_status, row ->> 6 AS new_status
            FROM json_array_elements(%s::json) AS row
        )
        UPDATE sharing_sharing SET status = due.new_status, updated_at = %s FROM due
        WHERE sharing_sharing.id = due.id::uuid AND sharing_sharing.status = due.old_status
          AND sharing_sharing.beneficiary_id IS NOT DISTINCT FROM due.beneficiary_id::uuid
          AND sharing_sharing.start_at IS NOT DISTINCT FROM due.start_at::timestamptz
          AND sharing_sharing.end_at IS NOT DISTINCT FROM due.end_at::timestamptz
          AND sharing_sharing.stopped_at IS NOT DISTINCT FROM due.stopped_at::timestamptz
        RETURNING sharing_sharing.id
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [json.dumps(rows, separators=(",", ":")), now])
        return {row[0] for row in cursor.fetchall()}


# --- extension requests (DESIGN §9) ---------------------------------------------------------------------------------

EXTENSION_MESSAGE_MAX = 1000


def _clean_extension_message(message, field: str = "message") -> str:
    message = (message if isinstance(message, str) else "").strip()
    if len(message) > EXTENSION_MESSAGE_MAX:
        raise InvalidInput(
            "message_too_long",
            _("The message is too long (%d characters at most).") % EXTENSION_MESSAGE_MAX,
            field=field,
        )
    return message


def _extension_change(change_type: str, extension: ExtensionRequest, *, now: datetime) -> Change:
    """The change as both sides hear of it: the request, with the sharing as the API shows it to each."""
    view = extension_view(extension)
    sharing = extension.sharing
    return Change(
        type=change_type,
        occurred_at=now,
        subject_type="extension_request",
        subject_id=extension.pk,
        sharing=sharing,
        views=dict.fromkeys((sharing.owner_id, sharing.beneficiary_id), view),
    )


def extension_view(extension: ExtensionRequest) -> dict:
    """The request as the API shows it, to either side (without the sharing, which each side sees its own way)."""
    return {
        "id": str(extension.pk),
        "sharingId": str(extension.sharing_id),
        "status": extension.status,
        "endDate": format_instant(extension.end_at),
        "previousEndDate": format_instant(extension.previous_end_at),
        "message": extension.message,
        "requestedBy": extension.requested_by_label,
        "answer": extension.answer,
        "createdAt": format_instant(extension.created_at),
        "answeredAt": format_instant(extension.answered_at) if extension.answered_at else None,
    }


@transaction.atomic
def extension_request_create(
    *, actor: Actor, sharing: Sharing, end_at: datetime | None, message: str = "", now: datetime | None = None
) -> tuple[ExtensionRequest, bool]:
    """A user (or API key) of the beneficiary asks for a later end. Returns the request and whether it is new: while
    one is pending, asking again answers that one, unchanged. The owner's admins are told."""
    if actor.organisation is not None and actor.organisation.pk == sharing.owner_id:
        raise RuleConflict(
            "owner_moves_the_end", _("You own this sharing: move its end yourself instead of asking."), field="end_at"
        )
    if sharing.beneficiary_id is None:
        raise NotAllowed("not_your_organisation", _("This belongs to another organisation."))
    actor.require_member_of(cast(Organisation, sharing.beneficiary))
    sharing = _locked_sharing(sharing)
    now = now or timezone.now()
    pending = sharing.extension_requests.filter(status=ExtensionStatus.PENDING).first()
    if pending is not None:
        return pending, False
    end_at = _clean_datetime(end_at, "end_at")
    if end_at is None:
        raise InvalidInput("end_required", _("Give the end date you need."), field="end_at")
    message = _clean_extension_message(message)
    if sharing.end_at is None:
        raise RuleConflict("no_end", _("This sharing has no end date: there is nothing to extend."), field="end_at")
    _raise_refusal(
        lifecycle.end_change_refusal(
            status=sharing.status_at(now),
            current_end=sharing.end_at,
            new_end=end_at,
            start_at=sharing.start_at,
            now=now,
        )
    )
    if end_at <= sharing.end_at:
        raise InvalidInput("extension_not_later", _("Ask for an end later than the current one."), field="end_at")
    extension = ExtensionRequest.objects.create(
        sharing=sharing,
        end_at=end_at,
        previous_end_at=sharing.end_at,
        message=message,
        requested_by=actor.user,
        requested_by_label=actor.label,
        created_at=now,
    )
    audit_record(
        actor=actor,
        organisation=sharing.owner,
        target_type=AuditTarget.SHARING,
        target_id=sharing.pk,
        action=AuditAction.EXTENSION_REQUESTED,
        changes=[("end_at", sharing.end_at, end_at), ("message", None, message)],
        now=now,
    )
    messages.notify_extension_requested(extension)
    changes_announce([_extension_change(ChangeType.EXTENSION_REQUESTED, extension, now=now)])
    return extension, True


def _locked_extension(extension: ExtensionRequest) -> ExtensionRequest:
    return (
        ExtensionRequest.objects.select_for_update(of=("self",))
        .select_related("sharing__owner", "sharing__beneficiary")
        .get(pk=extension.pk)
    )


def _require_pending(extension: ExtensionRequest) -> None:
    if extension.status != ExtensionStatus.PENDING:
        raise RuleConflict(
            "extension_answered",
            _("This request was already answered (%s).") % ExtensionStatus(extension.status).label,
        )


@transaction.atomic
def extension_request_approve(
    *, actor: Actor, extension: ExtensionRequest, now: datetime | None = None
) -> ExtensionRequest:
    """An admin of the owner grants the end asked for. The new end goes through sharing_update's rules: a request
    that has become impossible (the sharing stopped or ended) is refused with the reason, and stays pending."""
    actor.require_admin_of(extension.sharing.owner)
    extension = _locked_extension(extension)
    now = now or timezone.now()
    _require_pending(extension)
    sharing = extension.sharing
    if sharing.end_at is None or sharing.end_at >= extension.end_at:
        raise RuleConflict(
            "extension_superseded",
            _("The sharing already ends on or after the date asked for: decline the request with a word instead."),
        )
    sharing = sharing_update(actor=actor, sharing=sharing, changes={"end_at": extension.end_at}, now=now)
    extension.sharing = sharing
    extension.status, extension.answered_at, extension.answered_by_label = ExtensionStatus.APPROVED, now, actor.label
    extension.save(update_fields=["status", "answered_at", "answered_by_label"])
    audit_record(
        actor=actor,
        organisation=sharing.owner,
        target_type=AuditTarget.SHARING,
        target_id=sharing.pk,
        action=AuditAction.EXTENSION_APPROVED,
        changes=[("end_at", extension.previous_end_at, extension.end_at)],
        now=now,
    )
    messages.notify_extension_answered(extension)
    changes_announce([_extension_change(ChangeType.EXTENSION_APPROVED, extension, now=now)])
    return extension


@transaction.atomic
def extension_request_decline(
    *, actor: Actor, extension: ExtensionRequest, message: str = "", now: datetime | None = None
) -> ExtensionRequest:
    """An admin of the owner declines, with a word for the beneficiary."""
    actor.require_admin_of(extension.sharing.owner)
    extension = _locked_extension(extension)
    now = now or timezone.now()
    _require_pending(extension)
    extension.answer = _clean_extension_message(message)
    extension.status, extension.answered_at, extension.answered_by_label = ExtensionStatus.DECLINED, now, actor.label
    extension.save(update_fields=["status", "answer", "answered_at", "answered_by_label"])
    audit_record(
        actor=actor,
        organisation=extension.sharing.owner,
        target_type=AuditTarget.SHARING,
        target_id=extension.sharing_id,
        action=AuditAction.EXTENSION_DECLINED,
        changes=[("message", None, extension.answer)],
        now=now,
    )
    messages.notify_extension_answered(extension)
    changes_announce([_extension_change(ChangeType.EXTENSION_DECLINED, extension, now=now)])
    return extension


# --- received machines -----------------------------------------------------------------------------------------------


@transaction.atomic
def received_machine_update(
    *,
    actor: Actor,
    received_machine: ReceivedMachine,
    name: str | None = None,
    workspaces: Iterable[Workspace] | None = None,
    now: datetime | None = None,
) -> ReceivedMachine:
    """Rename a received machine or place it in the beneficiary's own workspaces. The owner never sees either."""
    actor.require_member_of(received_machine.organisation)
    now = now or timezone.now()
    if name is not None:
        name = single_line(name)
        if not name:
            raise InvalidInput("name_required", _("Give the machine a name."), field="name")
        if len(name) > 200:
            raise InvalidInput("name_too_long", _("The name is too long (200 characters at most)."), field="name")
        if name != received_machine.name:
            audit_record(
                actor=actor,
                organisation=received_machine.organisation,
                target_type=AuditTarget.RECEIVED_MACHINE,
                target_id=received_machine.pk,
                action=AuditAction.RENAMED,
                changes=[("name", received_machine.name, name)],
                now=now,
            )
            received_machine.name = name
            received_machine.save(update_fields=["name"])
    if workspaces is not None:
        workspaces_place(
            actor=actor,
            holder=received_machine,
            organisation=received_machine.organisation,
            target_type=AuditTarget.RECEIVED_MACHINE,
            workspaces=workspaces,
            now=now,
        )
    return received_machine


# --- notifications ---------------------------------------------------------------------------------------------------


@transaction.atomic
def notification_retry(*, actor: Actor, notification: Message) -> Message:
    """Send a failed notification (a sharing e-mail, a colleague invitation) again, with a fresh series of attempts.
    Admins of the organisation it speaks for only; its kind may refuse (an expired invitation's link no longer works:
    it needs a new one, from the members page)."""
    actor.require_admin_of(notification.organisation)
    return message_retry(message=notification)
