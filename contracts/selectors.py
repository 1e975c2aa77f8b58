"""Scoped reads of contracts: an organisation sees its own contracts only; anything else is NotFound."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Count, QuerySet
from django.utils.translation import gettext as _

from accounts.models import Organisation
from hiboo_connect.api.fields import format_instant
from hiboo_connect.errors import get_or_not_found
from sharing.lifecycle import SharingStatus
from sharing.models import Sharing

from .models import Contract, ContractApply

#: Applies shown with a contract, newest first.
HISTORY_SHOWN = 50


def contracts_of(organisation: Organisation) -> QuerySet[Contract]:
    return Contract.objects.filter(owner=organisation)


def contract_get(*, organisation: Organisation, reference: str) -> Contract:
    return get_or_not_found(
        contracts_of(organisation), "contract_not_found", _("No such contract."), reference=reference
    )


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
