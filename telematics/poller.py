"""Polling one telematics source: claim it, read its fleet snapshot pages (following `next`), match the machines to
the organisation's fleet (creating unknown ones if the source allows it), then read each machine's time series since
its last stored reading, and store everything through fleet's one ingest service (telemetry_store, idempotent).

Guarantees:
- two polls of one source never run at once: a poll starts only after a conditional UPDATE of the source's lease
  (`claimed_until`) succeeded, and renews the lease after each page;
- a page is stored whole (one telemetry_store call, one transaction) or not at all; what a page could not give (an
  unreadable reading, a machine that could not be created) is written on the run, never dropped silently;
- a poll never raises: whatever goes wrong ends on the run's `error`, the source backs off (its interval doubled per
  failure in a row, at most a day), and the other sources are polled as usual.

Every call leaves through hiboo_connect.outbound (private targets refused unless the deployment allows them, a
deadline, a size cap, no redirects), and credentials go only to the source's own origin: a `next` link elsewhere is
not followed."""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode, urljoin, urlsplit

from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from fleet.models import FaultCode, Machine, MachineCategory, Position, Reading
from fleet.selectors import fault_codes_visible_to, machine_latest_position, machine_latest_readings, machines_owned_by
from fleet.services import machine_create, telemetry_store
from hiboo_connect import outbound
from hiboo_connect.errors import InvalidInput

from . import reader
from .models import AuthType, SourceMachine, TelematicsRun, TelematicsSource

logger = logging.getLogger(__name__)

#: How long a claim holds without renewal; a poll renews it after every page.
LEASE = dt.timedelta(minutes=30)
#: The longest a failing source waits between two polls.
MAX_BACKOFF = dt.timedelta(hours=24)
#: Seconds a feed has to answer one request, and the largest answer read.
TIMEOUT = 30.0
MAX_BYTES = reader.MAX_DOCUMENT_BYTES
#: Pages followed at most in one snapshot or one time series (a feed whose `next` never ends stops here).
MAX_PAGES = 500
#: How far back the first poll of a machine reads its time series.
FIRST_HISTORY = dt.timedelta(days=7)
#: Readings dated further ahead than this are a feed's clock error, not data.
FUTURE_TOLERANCE = dt.timedelta(days=1)
#: Problems written on a run at most (the rest are counted).
MAX_PROBLEMS = 20
ACCEPT = "application/json, application/iso15143-snapshot+json;q=0.9, application/xml;q=0.8, */*;q=0.1"
#: Common spellings of one maker in feeds and fleets: a feed's OEMName matches a machine's make through these.
MAKE_ALIASES = {
    "cat": "caterpillar",
    "deere": "john deere",
    "jd": "john deere",
    "volvo ce": "volvo",
    "volvo construction equipment": "volvo",
}


class PollFailed(Exception):
    """The poll cannot go on; `message` is for the source's owner."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# --- claiming and scheduling ----------------------------------------------------------------------------------------


def _unclaimed(now: dt.datetime) -> Q:
    return Q(claimed_until__isnull=True) | Q(claimed_until__lte=now)


def sources_due(*, now: dt.datetime, limit: int = 200) -> list:
    """Ids of the sources due for a poll and not being polled (the index on next_poll_at bounds the scan)."""
    return list(
        TelematicsSource.objects.filter(_unclaimed(now), next_poll_at__lte=now)
        .order_by("next_poll_at")
        .values_list("pk", flat=True)[:limit]
    )


def source_claim(*, source_id, now: dt.datetime, due_only: bool) -> bool:
    """Take the source's lease with one conditional UPDATE: True for exactly one of two concurrent callers."""
    claimable = TelematicsSource.objects.filter(_unclaimed(now), pk=source_id)
    if due_only:
        claimable = claimable.filter(next_poll_at__lte=now)
    return claimable.update(claimed_until=now + LEASE) == 1


def backoff(*, poll_minutes: int, failures: int) -> dt.timedelta:
    """The wait before the next poll: the interval, doubled for each failure in a row, at most MAX_BACKOFF (and never
    less than the interval itself)."""
    interval = dt.timedelta(minutes=poll_minutes)
    if failures <= 0:
        return interval
    return max(interval, min(interval * 2 ** min(failures, 20), MAX_BACKOFF))


# --- talking to the feed --------------------------------------------------------------------------------------------


def _basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port


class FeedClient:
    """GETs on one source's feed with its credentials (an OAuth2 token is fetched once per poll)."""

    def __init__(self, source: TelematicsSource):
        self.source = source
        self.origin = _origin(source.base_url)
        self._token: str | None = None
        self.requests = 0

    def _authorization(self) -> dict[str, str]:
        source = self.source
        if source.auth_type == AuthType.BASIC:
            return {"Authorization": _basic(source.username, source.secret)}
        if source.auth_type == AuthType.HEADER:
            return {source.header_name: source.secret}
        if self._token is None:
            self._token = self._fetch_token()
        return {"Authorization": f"Bearer {self._token}"}

    def _fetch_token(self) -> str:
        """OAuth2 client credentials, the client authenticating with HTTP Basic (which RFC 6749 §2.3.1 requires every
        token endpoint to accept)."""
        source = self.source
        try:
            response = outbound.request(
                "POST",
                source.token_url,
                headers={
                    "Authorization": _basic(quote(source.client_id, safe=""), quote(source.secret, safe="")),
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Accept": "application/json",
                },
                body=urlencode({"grant_type": "client_credentials"}).encode(),
                timeout=TIMEOUT,
                max_bytes=64 * 1024,
            )
        except outbound.OutboundError as error:
            raise PollFailed(_("The token endpoint: %(error)s") % {"error": error.message}) from None
        self.requests += 1
        token = None
        if response.status == 200:
            try:
                token = json.loads(response.body).get("access_token")
            except (ValueError, AttributeError):
                token = None
        if not isinstance(token, str) or not token or "\n" in token or "\r" in token:
            raise PollFailed(
                _("The token endpoint gave no access token (HTTP %(status)d): check the client id and secret.")
                % {"status": response.status}
            )
        return token

    def get(self, url: str) -> outbound.OutboundResponse | None:
        """The answer to a GET, or None for a 404 (what is not there); other failures raise PollFailed."""
        if _origin(url) != self.origin:
            raise PollFailed(
                _("The feed linked to %(url)s, outside its own address: not followed (credentials stay with it).")
                % {"url": url[:200]}
            )
        try:
            response = outbound.request(
                "GET", url, headers={**self._authorization(), "Accept": ACCEPT}, timeout=TIMEOUT, max_bytes=MAX_BYTES
            )
        except outbound.OutboundError as error:
            raise PollFailed(error.message) from None
        self.requests += 1
        if response.status == 404:
            return None
        if response.status in (401, 403):
            raise PollFailed(
                _("The feed refused the credentials (HTTP %(status)d) at %(url)s.")
                % {"status": response.status, "url": url[:200]}
            )
        if not 200 <= response.status < 300:
            raise PollFailed(
                _("The feed answered HTTP %(status)d at %(url)s.") % {"status": response.status, "url": url[:200]}
            )
        return response


# --- one poll --------------------------------------------------------------------------------------------------------


@dataclass
class _Tracked:
    """A matched machine of the snapshot, and what to ask its time series for."""

    machine: Machine
    equipment_id: str
    since: dict[str, dt.datetime | None]


@dataclass
class _Poll:
    source: TelematicsSource
    run: TelematicsRun
    client: FeedClient
    now: dt.datetime
    problems: list[str] = field(default_factory=list)
    pages_stored: int = 0

    def problem(self, text: str) -> None:
        self.problems.append(text)

    def renew_lease(self) -> None:
        TelematicsSource.objects.filter(pk=self.source.pk).update(claimed_until=timezone.now() + LEASE)


def _fleet_pages(poll: _Poll) -> Iterator[tuple[str, reader.FleetPage]]:
    """The snapshot's pages in order. Feeds number them from 1 (the standard) or from 0: page 1 is asked for first;
    a 404 there, or a `first`/`prev` link from it, leads to the real first page."""
    base = poll.source.base_url
    url: str | None = f"{base}/Fleet/1"
    visited: set[str] = set()
    first = True
    while url is not None and len(visited) < MAX_PAGES:
        visited.add(url)
        response = poll.client.get(url)
        if response is None and first:
            url, first = f"{base}/Fleet/0", False
            visited.add(url)
            response = poll.client.get(url)
        if response is None:
            raise PollFailed(_("The feed has no fleet snapshot at %(url)s (HTTP 404).") % {"url": url[:200]})
        try:
            page = reader.parse_fleet(response.body, response.headers.get("content-type", ""))
        except reader.FeedError as error:
            raise PollFailed(
                _("Page %(url)s: %(error)s") % {"url": url[:200], "error": error.message}
                + " "
                + _stored_before(poll.pages_stored)
            ) from None
        if first:
            first = False
            start = page.links.get("first") or page.links.get("prev")
            if start is not None and urljoin(url, start) not in visited:
                visited.discard(url)  # read again in its turn, after the pages before it
                url = urljoin(url, start)
                continue
        yield url, page
        following = page.links.get("next")
        url = urljoin(url, following) if following else None
        if url in visited:
            url = None


def _stored_before(pages: int) -> str:
    if pages == 0:
        return _("Nothing was stored.")
    return ngettext("The page before it was stored.", "The %(count)d pages before it were stored.", pages) % {
        "count": pages
    }


def _make_key(make: str) -> str:
    make = " ".join(make.lower().split())
    return MAKE_ALIASES.get(make, make)


def _match(poll: _Poll, equipment: tuple[reader.Equipment, ...]) -> list[tuple[reader.Equipment, Machine]]:
    """The page's equipment matched to the organisation's machines: by the link this source made before, by OEM name
    and serial number, or by PIN; unknown ones created if the source allows it."""
    organisation = poll.source.organisation
    links = {
        link.equipment_id: link.machine
        for link in SourceMachine.objects.filter(
            source=poll.source, equipment_id__in=[item.equipment_id for item in equipment]
        ).select_related("machine")
    }
    wanted = Q()
    for item in equipment:
        if item.serial_number:
            wanted |= Q(serial_number__iexact=item.serial_number)
        if item.pin:
            wanted |= Q(pin__iexact=item.pin)
    candidates = list(machines_owned_by(organisation).filter(wanted)) if wanted else []
    by_serial = {(_make_key(machine.make), machine.serial_number.lower()): machine for machine in candidates}
    by_pin = {machine.pin.lower(): machine for machine in candidates if machine.pin}
    matched = []
    for item in equipment:
        machine = (
            links.get(item.equipment_id)
            or by_serial.get((_make_key(item.oem_name), item.serial_number.lower()))
            or (by_pin.get(item.pin.lower()) if item.pin else None)
        )
        if machine is not None and machine.organisation_id == organisation.pk:
            poll.run.machines_matched += 1
        elif poll.source.create_machines:
            machine = _create(poll, item)
        else:
            machine = None
        if machine is not None:
            matched.append((item, machine))
    return matched


def _create(poll: _Poll, item: reader.Equipment) -> Machine | None:
    if not item.oem_name or not item.serial_number:
        poll.problem(
            _("%(machine)s: not created, the feed gives no OEM name or serial number.")
            % {"machine": item.serial_number or item.pin}
        )
        return None
    try:
        with transaction.atomic():
            machine = machine_create(
                organisation=poll.source.organisation,
                make=item.oem_name[:80],
                model=item.model[:80],
                serial_number=item.serial_number[:80],
                category=MachineCategory.OTHER,
                pin=item.pin[:40],
                now=poll.now,
            )
    except InvalidInput as error:
        poll.problem(
            _("%(machine)s: not created (%(error)s)")
            % {"machine": f"{item.oem_name} {item.serial_number}", "error": error.message}
        )
        return None
    poll.run.machines_created += 1
    return machine


def _link(poll: _Poll, matched: list[tuple[reader.Equipment, Machine]]) -> None:
    """Remember each machine's EquipmentID in this feed and when the feed last listed it."""
    machines = [machine for _item, machine in matched]
    existing = {
        link.machine_id: link for link in SourceMachine.objects.filter(source=poll.source, machine__in=machines)
    }
    for item, machine in matched:
        link = existing.get(machine.pk)
        if link is None:
            SourceMachine.objects.create(
                source=poll.source, machine=machine, equipment_id=item.equipment_id[:200], last_listed_at=poll.now
            )
        elif link.equipment_id != item.equipment_id[:200]:
            link.equipment_id = item.equipment_id[:200]
            link.last_listed_at = poll.now
            link.save(update_fields=["equipment_id", "last_listed_at"])
    SourceMachine.objects.filter(source=poll.source, machine__in=machines).update(last_listed_at=poll.now)


def _last_stored(poll: _Poll, machine: Machine) -> dict[str, dt.datetime]:
    """Data element → the newest instant already stored for the machine (three index look-ups)."""
    organisation, now = poll.source.organisation, poll.now
    last = {
        reader.ELEMENT_OF_METRIC[metric]: reading.timestamp
        for metric, reading in machine_latest_readings(organisation=organisation, machine=machine, now=now).items()
        if metric in reader.ELEMENT_OF_METRIC
    }
    position = machine_latest_position(organisation=organisation, machine=machine, now=now)
    if position is not None:
        last[reader.LOCATION] = position.timestamp
    fault = fault_codes_visible_to(organisation=organisation, machine=machine, now=now).order_by("-timestamp").first()
    if fault is not None:
        last[reader.FAULT_CODES] = fault.timestamp
    return last


def _rows(poll: _Poll, machine: Machine, values: reader.Values, who: str):
    """fleet rows from the reader's values; readings dated in the future are a clock error, reported and left out."""
    limit = poll.now + FUTURE_TOLERANCE
    every: list[reader.ReadingValue | reader.PositionValue | reader.FaultValue] = [
        *values.readings,
        *values.positions,
        *values.faults,
    ]
    late = [value for value in every if value.timestamp > limit]
    if late:
        poll.problem(
            ngettext(
                "%(machine)s: %(count)d value dated in the future left out.",
                "%(machine)s: %(count)d values dated in the future left out.",
                len(late),
            )
            % {"machine": who, "count": len(late)}
        )
    readings = [
        Reading(machine=machine, metric=value.metric, timestamp=value.timestamp, value=value.value)
        for value in values.readings
        if value.timestamp <= limit
    ]
    positions = [
        Position(
            machine=machine,
            timestamp=value.timestamp,
            latitude=value.latitude,
            longitude=value.longitude,
            altitude=value.altitude,
        )
        for value in values.positions
        if value.timestamp <= limit
    ]
    faults = [
        FaultCode(
            machine=machine,
            timestamp=value.timestamp,
            identifier=value.identifier,
            description=value.description,
            severity=value.severity,
            source=value.source,
        )
        for value in values.faults
        if value.timestamp <= limit
    ]
    return readings, positions, faults


def _store(poll: _Poll, batches) -> None:
    """One page's rows of every machine in one telemetry_store call: the page is stored whole or not at all."""
    readings, positions, faults = [], [], []
    for batch in batches:
        readings.extend(batch[0])
        positions.extend(batch[1])
        faults.extend(batch[2])
    poll.run.readings_seen += len(readings) + len(positions) + len(faults)
    stored = telemetry_store(readings=readings, positions=positions, fault_codes=faults)
    poll.run.readings_stored += stored.stored


def _snapshot_page(poll: _Poll, page: reader.FleetPage) -> list[_Tracked]:
    poll.run.machines_seen += len(page.equipment)
    for text in page.problems:
        poll.problem(text)
    matched = _match(poll, page.equipment)
    _link(poll, matched)
    tracked, batches = [], []
    for item, machine in matched:
        last = _last_stored(poll, machine)
        # Only the elements the snapshot shows newer than what is stored: the rest has nothing new to read. Fault
        # codes too, always: many snapshots (the standard's included) carry none, only their time series does.
        since = {
            element: last.get(element)
            for element, moment in item.values.latest().items()
            if element not in last or moment > last[element]
        }
        since.setdefault(reader.FAULT_CODES, last.get(reader.FAULT_CODES))
        tracked.append(_Tracked(machine=machine, equipment_id=item.equipment_id, since=since))
        batches.append(_rows(poll, machine, item.values, str(machine)))
    _store(poll, batches)
    poll.pages_stored += 1
    poll.renew_lease()
    return tracked


def _instant_path(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _time_series(poll: _Poll, tracked: _Tracked, element: str, since: dt.datetime | None) -> None:
    """One element's time series of one machine, page by page from 1, each page stored whole. A failure is written on
    the run and the poll goes on with the next element."""
    start = since or poll.now - FIRST_HISTORY
    base = poll.source.base_url
    url: str | None = (
        f"{base}/Fleet/Equipment/ID/{quote(tracked.equipment_id, safe='')}/{element}/"
        f"{_instant_path(start)}/{_instant_path(poll.now)}/1"
    )
    visited: set[str] = set()
    who = str(tracked.machine)
    while url is not None and len(visited) < MAX_PAGES:
        visited.add(url)
        try:
            response = poll.client.get(url)
            if response is None or response.status == 204:
                return  # the feed keeps no time series of this element
            page = reader.parse_time_series(response.body, element, response.headers.get("content-type", ""))
        except reader.FeedError as error:
            poll.problem(f"{who}, {element}: {error.message}")
            return
        for text in page.problems:
            poll.problem(f"{who}, {text}")
        _store(poll, [_rows(poll, tracked.machine, page.values, who)])
        poll.renew_lease()
        following = page.links.get("next")
        url = urljoin(url, following) if following else None
        if url in visited:
            url = None


def _poll(poll: _Poll) -> None:
    tracked: list[_Tracked] = []
    for _url, page in _fleet_pages(poll):
        tracked.extend(_snapshot_page(poll, page))
    for machine in tracked:
        for element, since in machine.since.items():
            try:
                _time_series(poll, machine, element, since)
            except PollFailed as failure:
                poll.problem(f"{machine.machine}, {element}: {failure.message}")


def _problems_text(problems: list[str]) -> str:
    shown = problems[:MAX_PROBLEMS]
    text = "\n".join(shown)
    if len(problems) > MAX_PROBLEMS:
        more = len(problems) - MAX_PROBLEMS
        text += "\n" + ngettext("… and %(count)d more problem.", "… and %(count)d more problems.", more) % {
            "count": more
        }
    return text


def _close_abandoned_runs(source: TelematicsSource, keep, now: dt.datetime) -> None:
    """Runs that started but never finished belong to a worker that stopped: the claim we now hold proves it."""
    source.runs.filter(finished_at__isnull=True, started_at__isnull=False).exclude(pk=keep).update(
        finished_at=now, error=_("The poll stopped before it finished (its worker stopped).")
    )


def telematics_source_poll(*, source_id, run_id=None, due_only: bool = False) -> TelematicsRun | None:
    """Poll one source now, if no other poll of it runs (and, with `due_only`, if it is due). Returns its run, or
    None when the source could not be claimed. Never raises for anything the feed does."""
    now = timezone.now()
    if not source_claim(source_id=source_id, now=now, due_only=due_only):
        if run_id is not None:
            language = (
                TelematicsSource.objects.filter(pk=source_id).values_list("organisation__language", flat=True).first()
            )
            with translation.override(language):
                message = _("Another poll of this source was under way.")
            TelematicsRun.objects.filter(pk=run_id, started_at__isnull=True).update(
                started_at=now, finished_at=now, error=message
            )
        return None
    source = TelematicsSource.objects.select_related("organisation").get(pk=source_id)
    run = TelematicsRun.objects.filter(pk=run_id, source=source, started_at__isnull=True).first() if run_id else None
    if run is None:
        run = TelematicsRun(source=source, requested_at=now)
    run.started_at = now
    run.save()
    _close_abandoned_runs(source, run.pk, now)
    poll = _Poll(source=source, run=run, client=FeedClient(source), now=now)
    failed = False
    try:
        # What the run says is read by the organisation's people: written in their language.
        with translation.override(source.organisation.language):
            _poll(poll)
    except PollFailed as failure:
        failed = True
        poll.problems.insert(0, failure.message)
    except Exception:
        # A bug of ours must not stop the other sources nor leave the source claimed: it is logged and said on the run.
        logger.exception("The poll of telematics source %s failed", source_id)
        failed = True
        with translation.override(source.organisation.language):
            poll.problems.insert(0, _("The poll failed on an unexpected error; the team has been told."))
    finished = timezone.now()
    with translation.override(source.organisation.language):
        run.error = _problems_text(poll.problems)
    run.finished_at = finished
    run.save()
    failures = source.failures + 1 if failed else 0
    TelematicsSource.objects.filter(pk=source.pk).update(
        failures=failures,
        claimed_until=None,
        next_poll_at=finished + backoff(poll_minutes=source.poll_minutes, failures=failures),
    )
    return run
