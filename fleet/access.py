"""What an organisation may see of a machine's data: its access scope.

Fleet stores the machines and their telemetry but not the sharings that open them to other organisations; those live
a layer up (DESIGN §5). So the sharing layer registers, once at start-up, a `SharingFacts` that answers the few
questions fleet must ask (which machines an organisation receives, through which windows and packs, who has our
machines now, how a machine's sharings look on a timeline), and fleet never imports it.

An `AccessScope` is a capability: only `scope_for` and `scopes_for` below can make one, from the machine's owner or
the registered facts, and every read of telemetry (fleet.selectors) takes one. A caller can pass a scope on, never
widen one: there is no list of windows to hand-craft."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from django.db.models import QuerySet
from django.utils import timezone

from .data_packs import DataPack


@dataclass(frozen=True)
class Window:
    """A half-open interval [start, end); end None means open-ended."""

    start: dt.datetime
    end: dt.datetime | None

    def contains(self, moment: dt.datetime) -> bool:
        return self.start <= moment and (self.end is None or moment < self.end)


@dataclass(frozen=True)
class Grant:
    """One sharing's access to one machine: a window (already cut at `now`) and the data packs of that sharing."""

    window: Window
    packs: frozenset[str]


class SharingFacts(Protocol):
    """What the sharing layer tells fleet. Implemented and registered by sharing (sharing/apps.py)."""

    def received_machines(self, organisation: Any) -> QuerySet:
        """The organisation's received machines: rows with `machine_id`, `name` and `workspaces`."""

    def grants_by_machine(
        self, *, organisation: Any, machine_ids: Iterable, now: dt.datetime
    ) -> Mapping[Any, list[Grant]]:
        """Machine id → the grants through which `organisation` receives it, computed from the dates (never a cached
        status) and cut at `now`. Machines it receives nothing of are absent."""

    def upcoming_grants(self, *, organisation: Any, machine_id: Any, now: dt.datetime) -> list[Grant]:
        """What `organisation` will receive of a machine through its sharings that have not started, soonest first."""

    def running_by_machine(self, *, organisation: Any, machine_ids: Iterable, now: dt.datetime) -> Mapping[Any, list]:
        """Machine id → the owner's sharings of it running now (who has the machine, until when)."""

    def machine_timeline(self, *, organisation: Any, machine: Any, now: dt.datetime, tz: dt.tzinfo) -> Any:
        """The owner's sharings of one of its machines as a timeline chart, or None when it has none."""


_facts: SharingFacts | None = None


def register_sharing_facts(facts: SharingFacts) -> None:
    global _facts
    _facts = facts


def sharing_facts() -> SharingFacts:
    if _facts is None:
        raise RuntimeError("No sharing facts registered: is the sharing app installed?")
    return _facts


_SEAL = object()


class AccessScope:
    """Everything for the owner; for a beneficiary the union of its grants, each window with its own packs. Built
    only by scope_for / scopes_for."""

    __slots__ = ("grants", "machine", "now", "organisation_id")

    def __init__(self, *, seal: object, organisation_id, machine, now: dt.datetime, grants: tuple[Grant, ...] | None):
        if seal is not _SEAL:
            raise TypeError("Access scopes are made by fleet.access.scope_for, never by hand.")
        self.organisation_id = organisation_id
        self.machine = machine
        self.now = now
        #: None for the owner (no limit), else what was granted (maybe nothing).
        self.grants = grants

    def __repr__(self):
        return f"<AccessScope {self.organisation_id} → {self.machine.pk} owned={self.owned}>"

    @property
    def owned(self) -> bool:
        return self.grants is None

    @property
    def shared_packs(self) -> set[str]:
        if self.grants is None:
            return set(DataPack.values)
        return {pack for grant in self.grants for pack in grant.packs}

    def windows_of(self, pack: str) -> list[Window]:
        return [grant.window for grant in self.grants or () if pack in grant.packs]

    def require(self, *, organisation, machine) -> AccessScope:
        """This scope, after checking it was made for this organisation and machine."""
        if self.organisation_id != organisation.pk or self.machine.pk != machine.pk:
            raise ValueError("This access scope was made for another organisation or machine.")
        return self


def scope_for(*, organisation, machine, now: dt.datetime | None = None) -> AccessScope:
    """What `organisation` may see of `machine` at `now`."""
    return scopes_for(organisation=organisation, machines=[machine], now=now)[machine.pk]


def scopes_for(*, organisation, machines: Iterable, now: dt.datetime | None = None) -> dict[Any, AccessScope]:
    """Machine id → scope, for many machines in at most one query (a list page)."""
    now = now or timezone.now()
    machines = list(machines)
    received = [machine.pk for machine in machines if machine.organisation_id != organisation.pk]
    grants = (
        sharing_facts().grants_by_machine(organisation=organisation, machine_ids=received, now=now) if received else {}
    )
    return {
        machine.pk: AccessScope(
            seal=_SEAL,
            organisation_id=organisation.pk,
            machine=machine,
            now=now,
            grants=None if machine.organisation_id == organisation.pk else tuple(grants.get(machine.pk, ())),
        )
        for machine in machines
    }
