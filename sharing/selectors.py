"""Scoped reads of tenant data. Every read of another organisation's data goes through here: querysets start from
what the acting organisation may see, and a look-up of anything else answers NotFound."""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from django.db import connection, connections
from django.db.models import Case, Count, Exists, F, Model, OuterRef, Q, QuerySet, Subquery, When
from django.db.models import Window as WindowExpression
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organisation
from audit.models import AuditEvent
from fleet.access import Grant, Window
from fleet.models import Machine
from hiboo_connect import rows
from hiboo_connect.errors import get_or_not_found
from outbox.models import Message
from outbox.selectors import messages_failed, messages_of

from .audit import AuditTarget
from .lifecycle import SharingStatus, access_window
from .messages import SUBJECT as SHARING_SUBJECT
from .models import (
    ExtensionRequest,
    ExtensionStatus,
    ReceivedMachine,
    Sharing,
    SharingMachine,
    SharingQuerySet,
)

# --- sharings --------------------------------------------------------------------------------------------------------


def sharings_outgoing(organisation: Organisation) -> SharingQuerySet:
    return Sharing.objects.filter(owner=organisation)


def sharings_incoming(organisation: Organisation) -> QuerySet[Sharing]:
    return Sharing.objects.filter(beneficiary=organisation)


@dataclass(frozen=True)
class RecipientSharings:
    newest: list[Sharing]
    total: int


def sharings_by_recipient(
    *, organisation: Organisation, emails: list[str], max_sharings: int = 3
) -> dict[str, RecipientSharings]:
    """The sharings the organisation sent to each of `emails` (its contacts page): the newest `max_sharings` of each
    and how many there are, in one query whatever the number of addresses."""
    by_recipient: dict[str, Any] = {"partition_by": [F("recipient_email")]}
    rows = (
        sharings_outgoing(organisation)
        .filter(recipient_email__in=emails)
        .annotate(
            rank=WindowExpression(
                RowNumber(), order_by=[F("start_at").desc(), F("created_at").desc(), F("pk")], **by_recipient
            ),
            recipient_total=WindowExpression(Count("pk"), **by_recipient),
        )
        .filter(rank__lte=max_sharings)
        .order_by("recipient_email", "rank")
    )
    found: dict[str, list[Sharing]] = {}
    totals: dict[str, int] = {}
    for sharing in rows:
        found.setdefault(sharing.recipient_email, []).append(sharing)
        totals[sharing.recipient_email] = sharing.recipient_total
    return {email: RecipientSharings(newest=found[email], total=totals[email]) for email in found}


def sharings_visible_to(organisation: Organisation) -> QuerySet[Sharing]:
    return Sharing.objects.filter(Q(owner=organisation) | Q(beneficiary=organisation))


#: The share centre counts up to here and then says "1000+": a count reads at most this many index entries per chip,
#: so a page costs the same at 10,000 sharings as at 1,000,000. Exact counts would read every entry of the
#: organisation's index on each page view (100 ms at 100,000 sharings on a busy 2-core machine); counters kept up to
#: date would have to be maintained by every write and by the lifecycle job, and could not count a filtered list.
COUNT_CAP = 1000


def counts_capped(querysets: dict[str, QuerySet], *, cap: int = COUNT_CAP) -> dict[str, int]:
    """How many rows each queryset has, each read up to `cap + 1` rows (`cap + 1` means "more than `cap`"): one
    statement of one small LIMITed subquery per name, each an index(-only) range scan where an index serves it."""
    if not querysets:
        return {}
    parts: list[str] = []
    params: list = []
    for queryset in querysets.values():
        sql, part_params = queryset.order_by().values("pk")[: cap + 1].query.sql_with_params()
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS capped)")  # Django compiled it; its params stay params
        params.extend(part_params)
    database = next(iter(querysets.values())).db
    with connections[database].cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        row = cursor.fetchone()
    return dict(zip(querysets, row, strict=True))


def sharings_count_by_status(
    sharings: QuerySet[Sharing], *, cap: int = COUNT_CAP, grouped: bool = False
) -> dict[str, int]:
    """How many of `sharings` have each status (the cached column, what the list filters on), and "all", each up to
    `cap + 1`; one statement (counts_capped). `grouped` counts them in one pass instead, for a searched list: its rows
    come from a set of matches that is cheaper to build once than once per status, and its size is the work asked."""
    if grouped:
        counted = dict(
            sharings.order_by().values_list("status").annotate(count=Count("pk")).values_list("status", "count")
        )
        counts = {status: min(counted.get(status, 0), cap + 1) for status in SharingStatus.values}
        return {"all": min(sum(counted.values()), cap + 1), **counts}
    by_status = {status: sharings.filter(status=status) for status in SharingStatus.values}
    return counts_capped({"all": sharings, **by_status}, cap=cap)


def sharings_count_by_direction(organisation: Organisation, *, cap: int = COUNT_CAP) -> dict[str, int]:
    """How many sharings the organisation sends and receives, each up to `cap + 1`; one statement, two index-only
    scans (never an OR, which no index serves)."""
    return counts_capped(
        {"outgoing": sharings_outgoing(organisation), "incoming": sharings_incoming(organisation)}, cap=cap
    )


class _SortKey:
    """A value as the database orders it: descending or not, NULL first or last as the database puts it."""

    __slots__ = ("descending", "rank")

    def __init__(self, value, *, descending: bool, nulls_largest: bool):
        # A NULL comes after every value where the database counts it largest, before every value elsewhere.
        self.rank: tuple = (0, value) if value is not None else (1 if nulls_largest else -1, None)
        self.descending = descending

    def __lt__(self, other: _SortKey) -> bool:
        return other.rank < self.rank if self.descending else self.rank < other.rank

    def __eq__(self, other) -> bool:
        return isinstance(other, _SortKey) and self.rank == other.rank

    def __hash__(self) -> int:
        return hash(self.rank)


def sharings_page_of_both_directions(
    outgoing: QuerySet[Sharing],
    incoming: QuerySet[Sharing],
    *,
    offset: int,
    limit: int,
) -> tuple[int, list]:
    """How many sharings an organisation sends and receives (the same filters on each side, one list), and the ids of
    one page of them in the lists' order (sharings_by_ids reads them). Each side is read through its own
    index, in order, up to the end of the page, and the two are merged: the OR of both sides, sorted whole, costs the
    organisation's whole history on every page. The total is the sum of the sides' counts: a sharing never has its
    owner as beneficiary (a constraint says so)."""
    total = outgoing.count() + incoming.count()
    if offset >= total:
        return total, []
    ordering = [str(field) for field in outgoing.query.order_by]  # names: the FilterSet orders by fields only
    fields = [field.lstrip("-") for field in ordering]
    end = offset + limit
    # Two ordered reads of at most `end` rows, merged here: a UNION of LIMITed reads is PostgreSQL's, not SQLite's.
    columns = list(dict.fromkeys(["pk", *fields]))
    sides = [list(side.values_list(*columns)[:end]) for side in (outgoing, incoming)]
    positions = [columns.index(field) for field in fields]
    nulls_largest = connections[outgoing.db].features.nulls_order_largest

    def order_key(row):
        return tuple(
            _SortKey(row[position], descending=name.startswith("-"), nulls_largest=nulls_largest)
            for position, name in zip(positions, ordering, strict=True)
        )

    page = list(heapq.merge(*sides, key=order_key))[offset:end]
    return total, [row[0] for row in page]


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


def machines_of_sharings(sharing_ids) -> dict[object, list[tuple[object, str]]]:
    """Sharing id → its machines as (id, "make model serial"), in the order the lists show them; one query. For the
    CSV export, whose sharing ids come from a scoped queryset."""
    rows = (
        SharingMachine.objects.filter(sharing_id__in=list(sharing_ids))
        .order_by("machine__make", "machine__model", "machine__serial_number")
        .values_list("sharing_id", "machine_id", "machine__make", "machine__model", "machine__serial_number")
    )
    machines: dict[object, list[tuple[object, str]]] = {}
    for sharing_id, machine_id, make, model, serial_number in rows:
        machines.setdefault(sharing_id, []).append((machine_id, f"{make} {model} {serial_number}"))
    return machines


def machines_of_sharings_joined(sharing_ids: list[str]) -> dict[str, tuple[str, str]]:
    """On PostgreSQL, machines_of_sharings as the CSV export writes it: sharing id (as text) → its machines' names
    ("make model serial") and their ids, each joined by "; " in the same order. One query, the ids bound as one array
    (not one parameter each: one text, split by the database, which the driver need not escape id by id), the
    names and ids joined by the database."""
    if not sharing_ids:
        return {}
    machine = connection.ops.quote_name(Machine._meta.db_table)
    link = connection.ops.quote_name(SharingMachine._meta.db_table)
    order = "m.make, m.model, m.serial_number"
    sql = (
        f"SELECT sm.sharing_id::text, STRING_AGG(m.make || ' ' || m.model || ' ' || m.serial_number, '; ' ORDER BY"
        f" {order}), STRING_AGG(m.id::text, '; ' ORDER BY {order}) FROM {link} sm JOIN {machine} m ON m.id ="
        " sm.machine_id WHERE sm.sharing_id = ANY(STRING_TO_ARRAY(%s, ',')::uuid[]) GROUP BY sm.sharing_id"
    )
    return {sharing_id: (names, ids) for sharing_id, names, ids in rows.fetch(sql, [",".join(sharing_ids)])}


def sharing_overlaps(
    *, organisation: Organisation, machine_ids, start_at: datetime, end_at: datetime | None, limit: int
) -> list[tuple]:
    """sharings_overlapping as (sharing id, reference, machine id) rows of the chosen machines, for at most `limit`
    sharings, earliest start first. One query in plain SQL (hiboo_connect/rows.py) over the machines' links (their
    own history, whatever the organisation's), unsorted, stopping after `limit` rows per machine asked (one LIMIT):
    a sort would read every overlapping sharing, so when more overlap, which ones are named is not chosen by start."""
    machine_ids = list(machine_ids)
    if not machine_ids:
        return []
    params = [rows.param(SharingMachine, "machine", machine_id) for machine_id in machine_ids]
    moment = rows.param(Sharing, "start_at", start_at)
    params += [rows.param(Sharing, "owner", organisation.pk), moment, moment]
    before_end = ""
    if end_at is not None:
        before_end = " AND s.start_at < %s"
        params.append(rows.param(Sharing, "start_at", end_at))
    sql = (
        "SELECT s.start_at, s.id, s.reference, sm.machine_id "
        "FROM sharing_sharingmachine sm JOIN sharing_sharing s ON s.id = sm.sharing_id "
        f"WHERE sm.machine_id IN ({', '.join(['%s'] * len(machine_ids))}) AND s.owner_id = %s "
        "AND (s.end_at IS NULL OR s.end_at > %s) AND (s.stopped_at IS NULL OR s.stopped_at > %s)"
        f"{before_end} LIMIT %s"
    )
    params.append(limit * len(machine_ids))
    start, sharing_id, machine = (
        rows.reader(Sharing, "start_at"),
        rows.reader(Sharing, "id"),
        rows.reader(SharingMachine, "machine"),
    )
    found = sorted((start(row[0]), sharing_id(row[1]), row[2], machine(row[3])) for row in rows.fetch(sql, params))
    kept: dict = {}
    for _start, found_id, reference, machine_id in found:
        if found_id in kept or len(kept) < limit:
            kept.setdefault(found_id, []).append((found_id, reference, machine_id))
    return [row for sharing_rows in kept.values() for row in sharing_rows]


@dataclass(frozen=True)
class MachineSharings:
    """One machine of a timeline and the sharings of it that the list shows, earliest start first."""

    machine_id: object
    name: str
    sharings: list[Sharing]
    #: How many more sharings of this machine `sharings` holds beyond those listed (the oldest are left out).
    left_out: int = 0


def sharings_by_machine(
    *,
    organisation: Organisation,
    sharings: SharingQuerySet,
    incoming: bool,
    period_start: datetime,
    period_end: datetime,
    offset: int,
    limit: int,
    max_sharings: int,
) -> tuple[list[MachineSharings], bool]:
    """The share centre's timeline: the sharings of `sharings` (a filtered list of one direction) whose windows
    overlap the period, machine by machine (by make, model, serial number), `limit` machines from `offset` (the
    second value says whether more follow), each with at most `max_sharings` of its sharings, the most recent by start
    (`left_out` counts the others), with their owner and beneficiary. Three queries. The machines are walked in order,
    each asked whether one of its sharings is in the period, until the page is full: the cost follows the page, not
    the organisation's history nor the number of sharings in the period. Whatever `sharings` holds, only what the
    organisation owns or receives is read."""
    in_period = (
        sharings.overlapping(period_start, period_end)
        .filter(Q(owner=organisation) | Q(beneficiary=organisation))
        .order_by()
        .values("pk")
    )
    candidates = (
        Machine.objects.filter(received_as__organisation=organisation)
        if incoming
        else Machine.objects.filter(organisation=organisation)
    )
    page = list(
        candidates.filter(Exists(SharingMachine.objects.filter(machine=OuterRef("pk"), sharing__in=in_period)))
        .order_by("make", "model", "serial_number", "pk")
        .values_list("pk", "model", "serial_number")[offset : offset + limit + 1]
    )
    more = len(page) > limit
    page = page[:limit]
    if not page:
        return [], more
    machine_ids = [machine_id for machine_id, _model, _serial in page]
    links = (
        sharings.overlapping(period_start, period_end)
        .filter(Q(owner=organisation) | Q(beneficiary=organisation), sharing_machines__machine__in=machine_ids)
        .order_by()
    )
    found = _sharings_of_machines(links, max_sharings=max_sharings)
    # The beneficiary knows received machines under the names it gave them.
    names = dict(
        ReceivedMachine.objects.filter(organisation=organisation, machine_id__in=machine_ids).values_list(
            "machine_id", "name"
        )
    )
    result = [
        MachineSharings(
            machine_id=machine_id,
            name=names.get(machine_id) or f"{model} {serial_number}",  # Machine.default_display_name
            sharings=found[machine_id][0],
            left_out=max(found[machine_id][1] - max_sharings, 0),
        )
        for machine_id, model, serial_number in page
        if machine_id in found
    ]
    return result, more


def _sharings_of_machines(links: SharingQuerySet, *, max_sharings: int) -> dict[object, tuple]:
    """Each machine's (sharings, how many in all) among the sharings of `links` (filtered on their machines' links):
    its `max_sharings` most recent by start, earliest first, with their owner and beneficiary. One query in plain SQL
    (hiboo_connect/rows.py) around the ORM's own of the filtered links, so PostgreSQL walks the page's machines'
    links (a filter on the sharings as an IN subquery made it scan every sharing); the ORM's instances of every
    link, machine and organisation cost more than the query, and each organisation is made once here."""
    own = rows.columns(Sharing)
    names = [field.column for field in own.fields]
    inner, params = (
        links.values_list(*own.attnames, "sharing_machines__machine")
        .query.get_compiler(connection=connections[links.db])
        .as_sql()
    )
    quote = connections[links.db].ops.quote_name

    def listed(alias: str) -> str:
        return ", ".join(f"{alias}.{quote(name)}" for name in names)

    sql = (
        f"WITH links ({', '.join(quote(name) for name in names)}, link_machine) AS ({inner}) "
        f"SELECT ranked.link_machine, ranked.total, {listed('ranked')}, "
        f"{rows.select(Organisation, 'o')}, {rows.select(Organisation, 'b')} FROM ("
        f"SELECT {listed('links')}, links.link_machine, "
        "ROW_NUMBER() OVER (PARTITION BY links.link_machine ORDER BY links.start_at DESC, links.created_at DESC, "
        "links.id DESC) AS rank, COUNT(*) OVER (PARTITION BY links.link_machine) AS total FROM links"
        ") ranked JOIN accounts_organisation o ON o.id = ranked.owner_id "
        "LEFT JOIN accounts_organisation b ON b.id = ranked.beneficiary_id "
        "WHERE ranked.rank <= %s ORDER BY ranked.start_at, ranked.created_at, ranked.id"
    )
    machine_of = rows.reader(SharingMachine, "machine")
    found_rows = list(rows.fetch(sql, [*params, max_sharings]))
    sharings_found = rows.joined_many(Sharing, ("owner", "beneficiary"), (row[2:] for row in found_rows))
    found: dict[object, tuple[list[Sharing], int]] = {}
    for row, sharing in zip(found_rows, sharings_found, strict=True):
        found.setdefault(machine_of(row[0]), ([], row[1]))[0].append(sharing)
    return found


@dataclass(frozen=True)
class SearchedPage:
    """What one pass over a searched list's matches gives: how many have each status (and "all"), each up to the cap
    + 1, and the ids of the rows from `offset` (at most `limit` of them) of those whose status was selected."""

    counts: dict[str, int]
    offset: int
    ids: list


def sharings_searched(
    matches: SharingQuerySet, *, statuses: list[str], offset: int, limit: int, cap: int = COUNT_CAP
) -> SearchedPage:
    """Count a searched list's matches by status and take one page of their ids, sorted as `matches` is, in one
    statement: the matches (thousands, each read by primary key after the search's indexes found it) are computed
    once, not once for the chips and again for the page. `matches` is the list under every filter but the status;
    `statuses` are those selected (none: all). Its ordering names columns of the sharing table, as the list's sorts
    do; the database's own order of NULLs holds, as in the ORM's ORDER BY."""
    meta = Sharing._meta
    ordering = [str(name) for name in matches.query.order_by]
    keys = [(name.lstrip("-"), name.startswith("-")) for name in ordering]
    columns = ["pk", "status", *(name for name, _descending in keys)]
    sql, params = matches.order_by().values_list(*columns).query.sql_with_params()
    names = ["id", "status", *(f"k{index}" for index in range(len(keys)))]
    order = ", ".join(f"k{index}{' DESC' if descending else ''}" for index, (_name, descending) in enumerate(keys))
    chosen = ""
    if statuses:
        chosen = f"WHERE status IN ({', '.join(['%s'] * len(statuses))})"
    with connections[matches.db].cursor() as cursor:
        cursor.execute(
            f"WITH m ({', '.join(names)}) AS MATERIALIZED ({sql}) "
            "SELECT status, COUNT(*), NULL, NULL FROM m GROUP BY status "
            "UNION ALL SELECT * FROM ("
            f"SELECT NULL, CAST(NULL AS BIGINT), id, ROW_NUMBER() OVER (ORDER BY {order}) FROM m {chosen} "
            f"ORDER BY {order} LIMIT %s OFFSET %s) AS page",
            [*params, *statuses, limit, offset],
        )
        found = cursor.fetchall()
    counted = {status: count for status, count, _id, _place in found if status is not None}
    to_python = meta.pk.to_python
    ids = [
        to_python(sharing_id)
        for *_counts, sharing_id, _place in sorted((row for row in found if row[0] is None), key=lambda row: row[3])
    ]
    counts = {status: min(counted.get(status, 0), cap + 1) for status in SharingStatus.values}
    return SearchedPage({"all": min(sum(counted.values()), cap + 1), **counts}, offset, ids)


class SharingsByIdsFirst:
    """The rows of a filtered list for Django's paginator, read in two steps: the page's ids, sorted on the sharing
    table alone, then those sharings with what the rows show (`related`, `prefetch`). For a searched list, whose
    matches can be thousands: in one query PostgreSQL joined owner, beneficiary and contract to every match before
    sorting them for one page (148 ms at 20,000 matches; the ids alone 80 ms). The ids come from `sharings`, the
    organisation's filtered list, so the second read needs no scope of its own; `known`, a page of them already read
    (sharings_searched), spares reading them again when the paginator asks for that page."""

    ordered = True  # the paginator's check: `sharings` is ordered

    def __init__(
        self,
        sharings: SharingQuerySet,
        *,
        related: tuple[str, ...],
        prefetch: tuple = (),
        known: SearchedPage | None = None,
    ):
        self.sharings, self.related, self.prefetch, self.known = sharings, related, prefetch, known

    def count(self) -> int:
        return self.sharings.count()

    def __getitem__(self, page: slice) -> list[Sharing]:
        if self.known is not None and page.start == self.known.offset:
            ids = self.known.ids[: page.stop - page.start]
        else:
            ids = list(self.sharings.values_list("pk", flat=True)[page])
        found = Sharing.objects.filter(pk__in=ids).select_related(*self.related).prefetch_related(*self.prefetch)
        by_id = {sharing.pk: sharing for sharing in found}
        return [by_id[sharing_id] for sharing_id in ids]


#: Due ids read per statement by the lifecycle job (sharings_due).
DUE_PAGE = 5000


def sharings_due(now: datetime, *, page_size: int = DUE_PAGE) -> set:
    """The ids of the sharings whose dates have passed a step their status has not taken: due to start, or to end.
    Each of the two partial indexes is read in its own order, a page at a time (keyset on its date, then the id). An
    ordered index scan marks as dead the entries left by rows that earlier runs moved out of the index, and later
    scans skip them; the bitmap scan PostgreSQL picks for an unordered read never does, so every run read each of them
    again until a vacuum, and autovacuum waits for a fifth of the table to change (200,000 moves at a million
    sharings). A run with nothing due then cost what the moves since the last vacuum left behind."""
    due: set = set()
    for sharings, column in (
        (Sharing.objects.due_to_start(now), "start_at"),
        (Sharing.objects.due_to_end(now), "end_at"),
    ):
        ordered = sharings.order_by(column, "pk")
        after = None
        while True:
            page = ordered
            if after is not None:
                moment, last_id = after
                # The first condition bounds the index scan; the second keeps the rows of that moment not yet read.
                page = page.filter(**{f"{column}__gte": moment}).filter(
                    Q(**{f"{column}__gt": moment}) | Q(pk__gt=last_id)
                )
            rows = list(page.values_list(column, "pk")[:page_size])
            due.update(sharing_id for _moment, sharing_id in rows)
            if len(rows) < page_size:
                break
            after = rows[-1]
    return due


def sharings_by_ids(sharing_ids: list) -> list[Sharing]:
    """Sharings by id (a lifecycle batch, a page of the API's list), with their owner, beneficiary and contract, in id
    order. One query in plain SQL (hiboo_connect/rows.py): each organisation and contract is made once for them all,
    not once a row. The ids say which: no scope is applied here."""
    if not sharing_ids:
        return []
    contract_model = cast(type[Model], Sharing._meta.get_field("contract").related_model)
    contract_table = connection.ops.quote_name(contract_model._meta.db_table)
    sql = (
        f"SELECT {rows.select(Sharing, 's')}, {rows.select(Organisation, 'o')}, {rows.select(Organisation, 'b')}, "
        f"{rows.select(contract_model, 'c')} FROM sharing_sharing s JOIN accounts_organisation o ON o.id = s.owner_id "
        "LEFT JOIN accounts_organisation b ON b.id = s.beneficiary_id "
        f"LEFT JOIN {contract_table} c ON c.id = s.contract_id "
        f"WHERE s.id IN ({', '.join(['%s'] * len(sharing_ids))}) ORDER BY s.id"
    )
    params = [rows.param(Sharing, "id", sharing_id) for sharing_id in sharing_ids]
    return rows.joined_many(Sharing, ("owner", "beneficiary", "contract"), rows.fetch(sql, params))


def machine_ids_of_sharings(sharing_ids: list) -> dict:
    """The ids of each sharing's machines, by sharing id (none: absent); one query of the links, no instances."""
    machines: dict = {}
    links = SharingMachine.objects.filter(sharing_id__in=sharing_ids).values_list("sharing_id", "machine_id")
    for sharing_id, machine_id in links:
        machines.setdefault(sharing_id, []).append(machine_id)
    return machines


# --- received machines and what they grant: the facts fleet asks through fleet.access -------------------------------


def received_machines_shown(organisation: Organisation) -> QuerySet[ReceivedMachine]:
    """The machines in the organisation's fleet: received through a sharing that shows or will show their data. One
    stopped before it started exposed nothing and brings nothing (its machine had been placed in the fleet when the
    sharing was created, and stayed there with no data)."""
    brought = SharingMachine.objects.filter(
        machine_id=OuterRef("machine_id"), sharing__beneficiary_id=OuterRef("organisation_id")
    ).exclude(sharing__stopped_at__lte=F("sharing__start_at"))
    return ReceivedMachine.objects.filter(Exists(brought), organisation=organisation)


def machine_known_as(*, organisation: Organisation, machine_id) -> tuple[Machine, str | None] | None:
    """One machine as the organisation knows it: the machine and, received, the name the organisation gave it; None
    when it is neither the organisation's nor shared with it (a link naming another's machine learns nothing)."""
    machine = Machine.objects.filter(pk=machine_id, organisation=organisation).first()
    if machine is not None:
        return machine, None
    received = ReceivedMachine.objects.filter(organisation=organisation, machine_id=machine_id).select_related(
        "machine"
    )
    found = received.first()
    return (found.machine, found.name) if found is not None else None


def received_machines_of(organisation: Organisation) -> QuerySet[ReceivedMachine]:
    return received_machines_shown(organisation).select_related("machine")


def received_machine_get(*, organisation: Organisation, received_machine_id) -> ReceivedMachine:
    return get_or_not_found(
        received_machines_of(organisation), "received_machine_not_found", _("No such machine."), pk=received_machine_id
    )


def _grant(*, start_at, end_at, stopped_at, data_packs, now: datetime) -> Grant | None:
    """One sharing's grant, cut at `now` (no live stream after a sharing ends); None if it gives nothing."""
    window = access_window(start_at=start_at, end_at=end_at, stopped_at=stopped_at)
    end = min(window.end, now) if window.end is not None else now
    if end <= window.start:
        return None
    return Grant(window=Window(window.start, end), packs=frozenset(data_packs))


def access_grants_by_machine(
    *, organisation: Organisation, machine_ids, now: datetime | None = None
) -> dict[object, list[Grant]]:
    """The windows through which `organisation` receives each machine's data, with their packs, in one query: machine
    id → its grants, computed from the dates (never from the cached status). Nothing after `now` is granted: the live
    stream exists only while a sharing runs. Machines the organisation receives nothing of are absent. fleet.access
    builds its scopes from this; nothing else should."""
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


def upcoming_grants(*, organisation: Organisation, machine_id, now: datetime | None = None) -> list[Grant]:
    """What the organisation will receive of a machine and when: the windows and packs of its sharings of it that
    have not started (a stopped one gives nothing), soonest first. Grants nothing now; says what to expect."""
    now = now or timezone.now()
    rows = (
        SharingMachine.objects.filter(
            sharing__beneficiary=organisation, machine_id=machine_id, sharing__start_at__gt=now
        )
        .filter(Q(sharing__stopped_at__isnull=True) | Q(sharing__stopped_at__gt=F("sharing__start_at")))
        .order_by("sharing__start_at", "sharing__pk")
        .values_list("sharing__start_at", "sharing__end_at", "sharing__stopped_at", "sharing__data_packs")
    )
    return [
        Grant(
            window=Window(start_at, min((moment for moment in (end_at, stopped_at) if moment), default=None)),
            packs=frozenset(data_packs),
        )
        for start_at, end_at, stopped_at, data_packs in rows
    ]


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


def _with_sharing_reference(messages: QuerySet[Message]) -> QuerySet[Message]:
    """Name the sharing a message is about by its reference as it is now, in the same query."""
    reference = Sharing.objects.filter(pk=OuterRef("subject_id")).values("reference")[:1]
    return messages.annotate(sharing_reference=Case(When(subject_type=SHARING_SUBJECT, then=Subquery(reference))))


def notifications_failed(organisation: Organisation) -> QuerySet[Message]:
    """The organisation's notifications that could not be sent, newest first, for its admins to retry."""
    return _with_sharing_reference(messages_failed(organisation))


def notification_get(*, organisation: Organisation, notification_id) -> Message:
    """A notification of the organisation's outbox; anything else is NotFound."""
    return get_or_not_found(
        _with_sharing_reference(messages_of(organisation)).select_related("organisation"),
        "notification_not_found",
        _("No such notification."),
        pk=notification_id,
    )


# --- extension requests ----------------------------------------------------------------------------------------------


def extension_requests_visible_to(organisation: Organisation) -> QuerySet[ExtensionRequest]:
    """The requests about the sharings the organisation owns or receives: each side sees both its own and the other's
    part of the conversation, nothing of any other sharing."""
    return ExtensionRequest.objects.filter(
        Q(sharing__owner=organisation) | Q(sharing__beneficiary=organisation)
    ).select_related("sharing__owner", "sharing__beneficiary", "sharing__contract")


def extension_request_get(*, organisation: Organisation, extension_id) -> ExtensionRequest:
    return get_or_not_found(
        extension_requests_visible_to(organisation),
        "extension_request_not_found",
        _("No such extension request."),
        pk=extension_id,
    )


def extension_requests_of_sharing(sharing: Sharing) -> list[ExtensionRequest]:
    """A sharing's requests, newest first (the caller has checked the sharing is visible)."""
    return list(sharing.extension_requests.order_by("-created_at", "pk"))


def extension_requests_waiting_for(organisation: Organisation) -> QuerySet[ExtensionRequest]:
    """The pending requests the organisation's admins are to answer (about sharings it owns), oldest first."""
    return (
        ExtensionRequest.objects.filter(sharing__owner=organisation, status=ExtensionStatus.PENDING)
        .select_related("sharing__beneficiary")
        .order_by("created_at", "pk")
    )


def machine_links_known(sharing: Sharing, links: list[SharingMachine]) -> None:
    """Give a sharing its machine links, read or written along with it, as if prefetch_related had read them."""
    links_: Any = sharing.sharing_machines.all()
    links_._result_cache, links_._prefetch_done = links, True
    cast(Any, sharing)._prefetched_objects_cache = {"sharing_machines": links_}
