"""Scoped reads of contracts: an organisation sees its own contracts only; anything else is NotFound."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from django.db.models import Count, QuerySet
from django.utils.translation import gettext as _

from accounts.models import Organisation
from fleet.models import Machine
from hiboo_connect import rows
from hiboo_connect.api.fields import format_instant
from hiboo_connect.errors import get_or_not_found
from sharing.lifecycle import SharingStatus
from sharing.models import Sharing, SharingMachine
from sharing.selectors import machine_links_known

from .models import Contract, ContractApply

#: Applies shown with a contract, newest first.
HISTORY_SHOWN = 50


def contracts_of(organisation: Organisation) -> QuerySet[Contract]:
    return Contract.objects.filter(owner=organisation)


def contract_get(*, organisation: Organisation, reference: str) -> Contract:
    return get_or_not_found(
        contracts_of(organisation), "contract_not_found", _("No such contract."), reference=reference
    )


def contract_find(*, organisation: Organisation, reference: str) -> Contract | None:
    """The organisation's contract of this reference, None if there is none: in plain SQL (hiboo_connect/rows.py),
    as every contract apply reads it first."""
    contracts = rows.columns(Contract)
    sql = f"SELECT {rows.select(Contract, 'c')} FROM contracts_contract c WHERE c.owner_id = %s AND c.reference = %s"
    for row in rows.fetch(sql, [rows.param(Contract, "owner", organisation.pk), reference]):
        return contracts.instance(row)
    return None


def contract_sharings_of(contracts: list[Contract], *, machines: bool = False) -> list[Sharing]:
    """The sharings of these contracts, oldest first, with their owner, beneficiary and machine links (`machines`:
    and the machines, whose names an e-mail lists), each given its contract object as read: in one statement of
    plain SQL (hiboo_connect/rows.py), as every contract apply reads them."""
    if not contracts:
        return []
    by_id = {contract.pk: contract for contract in contracts}
    sharing_columns, organisations = rows.columns(Sharing), rows.columns(Organisation)
    links, machine_columns = rows.columns(SharingMachine), rows.columns(Machine)
    slices = _slices(sharing_columns, organisations, organisations, links, *([machine_columns] if machines else []))
    sql = (
        f"SELECT {rows.select(Sharing, 's')}, {rows.select(Organisation, 'o')}, {rows.select(Organisation, 'b')}, "
        f"{rows.select(SharingMachine, 'sm')}{', ' + rows.select(Machine, 'm') if machines else ''} "
        "FROM sharing_sharing s JOIN accounts_organisation o ON o.id = s.owner_id "
        "LEFT JOIN accounts_organisation b ON b.id = s.beneficiary_id "
        "LEFT JOIN sharing_sharingmachine sm ON sm.sharing_id = s.id "
        f"{'LEFT JOIN fleet_machine m ON m.id = sm.machine_id ' if machines else ''}"
        f"WHERE s.contract_id IN ({', '.join(['%s'] * len(by_id))}) ORDER BY s.created_at, s.id, sm.id"
    )
    sharings: list[Sharing] = []
    links_of: dict[Any, list[SharingMachine]] = {}
    sharing_id = rows.reader(Sharing, "id")
    for row in rows.fetch(sql, [rows.param(Sharing, "contract", pk) for pk in by_id]):
        parts = [row[start:end] for start, end in slices]
        if not sharings or sharings[-1].pk != sharing_id(parts[0][0]):  # one row per machine link
            sharing = sharing_columns.instance(parts[0])
            Sharing.owner.field.set_cached_value(sharing, organisations.instance(parts[1]))
            Sharing.beneficiary.field.set_cached_value(sharing, organisations.optional(parts[2]))
            Sharing.contract.field.set_cached_value(sharing, by_id[cast(Any, sharing.contract_id)])
            sharings.append(sharing)
            links_of[sharing.pk] = []
        link = links.optional(parts[3])
        if link is not None:
            if machines:
                SharingMachine.machine.field.set_cached_value(link, machine_columns.optional(parts[4]))
            links_of[sharings[-1].pk].append(link)
    for sharing in sharings:
        machine_links_known(sharing, links_of[sharing.pk])
    return sharings


def _slices(*columns: rows.Columns) -> list[tuple[int, int]]:
    """Where each model's columns lie in a row that lists them one after the other."""
    slices, start = [], 0
    for model_columns in columns:
        slices.append((start, start + len(model_columns)))
        start += len(model_columns)
    return slices


def contract_get_by_id(*, organisation: Organisation, contract_id) -> Contract:
    """A contract by its id, as the portal's addresses name it (a reference may be any text, "import" included)."""
    return get_or_not_found(contracts_of(organisation), "contract_not_found", _("No such contract."), pk=contract_id)


def contract_recipients(organisation: Organisation) -> list[str]:
    """The recipients of the organisation's contracts, for the list's filter: one query on its index."""
    return list(
        contracts_of(organisation)
        .exclude(recipient_email="")
        .order_by("recipient_email")
        .values_list("recipient_email", flat=True)
        .distinct()
    )


def contract_history(contract: Contract, *, limit: int = HISTORY_SHOWN) -> list[ContractApply]:
    return list(contract.applies.order_by("-applied_at", "-generation")[:limit])


def contract_row(contract: Contract, counts: dict) -> dict[str, Any]:
    """A contract as GET /contracts lists it (and the contract.applied event shows it to its owner); `counts`: its
    sharings by status, from sharing_counts_of."""
    state = contract.desired_state or {}
    return {
        "reference": contract.reference,
        "status": contract.status,
        "generation": contract.generation,
        "recipient": contract.recipient_email,
        "startDate": state.get("startDate"),
        "endDate": state.get("endDate"),
        "lines": len(state.get("lines", ())),
        "sharingCounts": counts,
        "lastAppliedAt": format_instant(contract.last_applied_at),
        "lastAppliedBy": contract.last_applied_by,
    }


def sharing_counts_in(sharings: Iterable[Sharing]) -> dict[str, int]:
    """sharing_counts_of for sharings already read: by their status column, as the lists count."""
    counts = dict.fromkeys(SharingStatus.values, 0)
    for sharing in sharings:
        counts[sharing.status] += 1
    return counts


def sharing_counts_of(contracts: list[Contract]) -> dict:
    """For each contract, how many of its sharings have each status (the cached column, as lists count): one query."""
    counts: dict = {contract.pk: dict.fromkeys(SharingStatus.values, 0) for contract in contracts}
    rows = (
        Sharing.objects.filter(contract__in=contracts)
        .order_by()
        .values_list("contract_id", "status")
        .annotate(count=Count("pk"))
    )
    for contract_id, status, count in rows:
        counts[contract_id][status] = count
    return counts
