"""Scoped reads of tenant data. Every read of another organisation's data goes through here: querysets start from
what the acting organisation may see, and a look-up of anything else answers NotFound."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.db.models import Window as WindowExpression
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organisation
from fleet.data_packs import METRICS, DataPack, pack_of_metric
from fleet.models import FaultCode, Machine, Position, Reading
from hiboo_connect.errors import get_or_not_found

from .lifecycle import Window, access_window
from .models import (
    AuditEvent,
    AuditTarget,
    Notification,
    NotificationStatus,
    ReceivedMachine,
    Sharing,
    SharingMachine,
    SharingQuerySet,
)

# --- sharings --------------------------------------------------------------------------------------------------------


def sharings_outgoing(organisation: Organisation) -> QuerySet[Sharing]:
    return Sharing.objects.filter(owner=organisation)


def sharings_incoming(organisation: Organisation) -> QuerySet[Sharing]:
    return Sharing.objects.filter(beneficiary=organisation)


def sharings_visible_to(organisation: Organisation) -> QuerySet[Sharing]:
    return Sharing.objects.filter(Q(owner=organisation) | Q(beneficiary=organisation))


def sharing_get(*, organisation: Organisation, sharing_id) -> Sharing:
    """A sharing the organisation owns or receives; anything else is NotFound, never a hint that it exists."""
    return get_or_not_found(
        sharings_visible_to(organisation).select_related("owner", "beneficiary", "sender"),
        "sharing_not_found",
        _("No such sharing."),
        pk=sharing_id,
    )


def sharing_audit_events(*, organisation: Organisation, sharing: Sharing) -> QuerySet[AuditEvent]:
    """The audit timeline of a sharing, for its owner only: the beneficiary does not see who did what at the owner."""
    if sharing.owner_id != organisation.pk:
        return AuditEvent.objects.none()
    return AuditEvent.objects.filter(target_type=AuditTarget.SHARING, target_id=sharing.pk).select_related("actor_user")


def sharings_overlapping(
    *, organisation: Organisation, machine_ids, start_at: datetime, end_at: datetime | None
) -> QuerySet[Sharing]:
    """The organisation's open sharings of these machines whose windows overlap [start_at, end_at): shown as a
    warning where a sharing is created (overlaps are allowed, not silently doubled)."""
    return (
        sharings_outgoing(organisation)
        .overlapping(start_at, end_at)
        .filter(sharing_machines__machine_id__in=list(machine_ids))
        .distinct()
    )


@dataclass(frozen=True)
class MachineSharings:
    """One machine of a timeline and the sharings of it that the list shows, earliest start first."""

    machine: Machine
    name: str
    sharings: list[Sharing]
    #: How many more sharings of this machine `sharings` holds beyond those listed (the oldest are left out).
    left_out: int = 0


def sharings_by_machine(
    *, organisation: Organisation, sharings: QuerySet[Sharing], max_machines: int, max_sharings: int | None = None
) -> tuple[list[MachineSharings], bool]:
    """The share centre's timeline: the machines of `sharings` (a filtered list) one by one, each with its sharings
    among them; at most `max_machines` machines (the second value says whether some were left out) and, with
    `max_sharings`, at most that many sharings per machine, the most recent by start (each machine's `left_out` counts
    the others). Three queries, however many sharings. Whatever `sharings` holds, only what the organisation owns or
    receives is read."""
    links = SharingMachine.objects.filter(
        Q(sharing__owner=organisation) | Q(sharing__beneficiary=organisation),
        sharing__in=sharings.order_by().values("pk"),
    )
    machine_ids = list(
        links.order_by("machine__make", "machine__model", "machine__serial_number", "machine_id")
        .values_list("machine_id", flat=True)
        .distinct()[: max_machines + 1]
    )
    truncated = len(machine_ids) > max_machines
    machine_ids = machine_ids[:max_machines]
    machines: dict[object, Machine] = {}
    sharings_of: dict[object, list[Sharing]] = {machine_id: [] for machine_id in machine_ids}
    left_out: dict[object, int] = {}
    rows = links.filter(machine_id__in=machine_ids)
    if max_sharings is not None:
        # Rank each machine's sharings newest first and count them in the same query (window functions), so the cap
        # costs no query per machine.
        by_machine = {"partition_by": [F("machine_id")]}
        newest_first = [F("sharing__start_at").desc(), F("sharing__created_at").desc(), F("sharing__pk").desc()]
        rows = rows.annotate(
            rank=WindowExpression(RowNumber(), order_by=newest_first, **by_machine),
            machine_total=WindowExpression(Count("pk"), **by_machine),
        ).filter(rank__lte=max_sharings)
    for link in rows.select_related("machine", "sharing__owner", "sharing__beneficiary").order_by(
        "sharing__start_at", "sharing__created_at", "sharing__pk"
    ):
        machines[link.machine_id] = link.machine
        sharings_of[link.machine_id].append(link.sharing)
        if max_sharings is not None:
            left_out[link.machine_id] = link.machine_total - max_sharings if link.machine_total > max_sharings else 0
    # The beneficiary knows received machines under the names it gave them.
    names = dict(
        ReceivedMachine.objects.filter(organisation=organisation, machine_id__in=machine_ids).values_list(
            "machine_id", "name"
        )
    )
    result = [
        MachineSharings(
            machine=machines[machine_id],
            name=names.get(machine_id) or machines[machine_id].default_display_name,
            sharings=sharings_of[machine_id],
            left_out=left_out.get(machine_id, 0),
        )
        for machine_id in machine_ids
        if machine_id in machines
    ]
    return result, truncated


# --- machines --------------------------------------------------------------------------------------------------------


def received_machines_of(organisation: Organisation) -> QuerySet[ReceivedMachine]:
    return ReceivedMachine.objects.filter(organisation=organisation).select_related("machine")


def received_machine_get(*, organisation: Organisation, received_machine_id) -> ReceivedMachine:
    return get_or_not_found(
        received_machines_of(organisation), "received_machine_not_found", _("No such machine."), pk=received_machine_id
    )


def machines_visible_to(organisation: Organisation) -> QuerySet[Machine]:
    """The organisation's own machines and the machines shared with it."""
    received = ReceivedMachine.objects.filter(organisation=organisation, machine=OuterRef("pk"))
    return Machine.objects.filter(Q(organisation=organisation) | Q(Exists(received)))


def machine_get(*, organisation: Organisation, machine_id) -> Machine:
    return get_or_not_found(
        machines_visible_to(organisation), "machine_not_found", _("No such machine."), pk=machine_id
    )


# --- readings: owner sees all, beneficiary the union of its windows, each with its own packs --------------------------


@dataclass(frozen=True)
class Grant:
    """One sharing's access to one machine: a window and the data packs of that sharing."""

    window: Window
    packs: frozenset[str]


def _grant(*, start_at, end_at, stopped_at, data_packs, now: datetime) -> Grant | None:
    """One sharing's grant, cut at `now` (no live stream after a sharing ends); None if it gives nothing."""
    window = access_window(start_at=start_at, end_at=end_at, stopped_at=stopped_at)
    end = min(window.end, now) if window.end is not None else now
    if end <= window.start:
        return None
    return Grant(window=Window(window.start, end), packs=frozenset(data_packs))


def access_grants(*, organisation: Organisation, machine: Machine, now: datetime | None = None) -> list[Grant]:
    """The windows through which `organisation` receives `machine`'s data, computed from the dates (never from the
    cached status). Nothing after `now` is granted: the live stream exists only while a sharing runs."""
    now = now or timezone.now()
    grants = []
    sharings = Sharing.objects.filter(beneficiary=organisation, sharing_machines__machine=machine, start_at__lte=now)
    for sharing in sharings.only("start_at", "end_at", "stopped_at", "data_packs"):
        grant = _grant(
            start_at=sharing.start_at,
            end_at=sharing.end_at,
            stopped_at=sharing.stopped_at,
            data_packs=sharing.data_packs,
            now=now,
        )
        if grant is not None:
            grants.append(grant)
    return grants


def access_grants_by_machine(
    *, organisation: Organisation, machine_ids, now: datetime | None = None
) -> dict[object, list[Grant]]:
    """access_grants for many machines in one query (a list page): machine id → its grants. Machines the organisation
    receives nothing of are absent."""
    now = now or timezone.now()
    rows = SharingMachine.objects.filter(
        sharing__beneficiary=organisation, machine_id__in=list(machine_ids), sharing__start_at__lte=now
    ).values_list("machine_id", "sharing__start_at", "sharing__end_at", "sharing__stopped_at", "sharing__data_packs")
    grants: dict[object, list[Grant]] = {}
    for machine_id, start_at, end_at, stopped_at, data_packs in rows:
        grant = _grant(start_at=start_at, end_at=end_at, stopped_at=stopped_at, data_packs=data_packs, now=now)
        if grant is not None:
            grants.setdefault(machine_id, []).append(grant)
    return grants


def sharings_in_progress_by_machine(
    *, organisation: Organisation, machine_ids, now: datetime | None = None
) -> dict[object, list[Sharing]]:
    """The owner's sharings running now (from the dates, not the cached status) of these machines, in one query:
    machine id → sharings, soonest end first (open-ended last). Who has each machine now, and until when."""
    now = now or timezone.now()
    rows = (
        SharingMachine.objects.filter(
            SharingQuerySet.running_at_q(now, prefix="sharing__"),
            sharing__owner=organisation,
            machine_id__in=list(machine_ids),
        )
        .select_related("sharing__beneficiary")
        .order_by("sharing__start_at", "sharing__pk")
    )
    running: dict[object, list[Sharing]] = {}
    for row in rows:
        running.setdefault(row.machine_id, []).append(row.sharing)
    for sharings in running.values():
        sharings.sort(key=lambda sharing: (sharing.end_at is None, sharing.end_at or now))
    return running


def _metric_q(packs: frozenset[str]) -> Q | None:
    metrics = [metric for metric, info in METRICS.items() if info.pack in packs]
    query = Q(metric__in=metrics) if metrics else None
    if DataPack.OTHERS in packs:
        # "others" holds every metric not listed in DESIGN §4 too.
        unlisted = ~Q(metric__in=list(METRICS))
        query = unlisted if query is None else query | unlisted
    return query


def _window_q(window: Window) -> Q:
    query = Q(timestamp__gte=window.start)
    if window.end is not None:
        query &= Q(timestamp__lt=window.end)
    return query


def _visible(queryset: QuerySet, *, organisation, machine, now, pack_q, grants) -> QuerySet:
    queryset = queryset.filter(machine=machine)
    if machine.organisation_id == organisation.pk:
        return queryset
    if grants is None:
        grants = access_grants(organisation=organisation, machine=machine, now=now)
    visible = Q()
    any_grant = False
    for grant in grants:
        packs_q = pack_q(grant.packs)
        if packs_q is None:
            continue
        visible |= _window_q(grant.window) & packs_q
        any_grant = True
    return queryset.filter(visible) if any_grant else queryset.none()


def readings_visible_to(
    *, organisation: Organisation, machine: Machine, metrics=None, since=None, until=None, now=None, grants=None
) -> QuerySet[Reading]:
    """Numeric readings of `machine` the organisation may see, optionally narrowed to metrics and [since, until).

    `grants`, when given, must be what access_grants (or access_grants_by_machine) returned for this organisation and
    machine: a page that reads several things computes them once instead of once per read. Never build them from
    user input. The owner's reads ignore them."""
    pack_q = _metric_q
    if metrics is not None:
        metrics = list(metrics)

        def pack_q(packs):
            # One `metric IN (...)` per window, already narrowed to the packs: the planner bounds the index scan on it.
            wanted = [metric for metric in metrics if pack_of_metric(metric) in packs]
            return Q(metric__in=wanted) if wanted else None

    queryset = _visible(
        Reading.objects.all(), organisation=organisation, machine=machine, now=now, pack_q=pack_q, grants=grants
    )
    if metrics is not None:
        queryset = queryset.filter(metric__in=metrics)
    return _narrow(queryset, since, until)


def positions_visible_to(
    *, organisation: Organisation, machine: Machine, since=None, until=None, now=None, grants=None
) -> QuerySet[Position]:
    """Positions (the essential pack) the organisation may see; `grants` as in readings_visible_to."""

    def pack_q(packs):
        return Q() if DataPack.ESSENTIAL in packs else None

    queryset = _visible(
        Position.objects.all(), organisation=organisation, machine=machine, now=now, pack_q=pack_q, grants=grants
    )
    return _narrow(queryset, since, until)


def fault_codes_visible_to(
    *, organisation: Organisation, machine: Machine, since=None, until=None, now=None, grants=None
) -> QuerySet[FaultCode]:
    """Fault codes (their own pack) the organisation may see; `grants` as in readings_visible_to."""

    def pack_q(packs):
        return Q() if DataPack.FAULT_CODES in packs else None

    queryset = _visible(
        FaultCode.objects.all(), organisation=organisation, machine=machine, now=now, pack_q=pack_q, grants=grants
    )
    return _narrow(queryset, since, until)


def _narrow(queryset: QuerySet, since, until) -> QuerySet:
    if since is not None:
        queryset = queryset.filter(timestamp__gte=since)
    if until is not None:
        queryset = queryset.filter(timestamp__lt=until)
    return queryset


# --- invitations -----------------------------------------------------------------------------------------------------


def sharings_pending_for_email(email: str, *, now: datetime | None = None) -> QuerySet[Sharing]:
    """Pending sharings addressed to an e-mail, newest first: what a person invited by a sharing may accept when they
    sign up (the organisation name the sender typed pre-fills theirs)."""
    return (
        Sharing.objects.filter(recipient_email=(email or "").lower(), beneficiary__isnull=True)
        .window_reaches(now or timezone.now())
        .select_related("owner")
        .order_by("-created_at")
    )


# --- notifications: the owner organisation's outbox -------------------------------------------------------------------


def notifications_failed(organisation: Organisation) -> QuerySet[Notification]:
    """The organisation's notifications that could not be sent, newest first, for its admins to retry."""
    return (
        Notification.objects.filter(organisation=organisation, status=NotificationStatus.FAILED)
        .select_related("sharing")
        .order_by("-created_at")
    )


def notification_get(*, organisation: Organisation, notification_id) -> Notification:
    """A notification of the organisation's outbox; anything else is NotFound."""
    return get_or_not_found(
        Notification.objects.select_related("organisation", "sharing"),
        "notification_not_found",
        _("No such notification."),
        organisation=organisation,
        pk=notification_id,
    )
