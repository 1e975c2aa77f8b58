"""What the sharing layer tells fleet (fleet.access.SharingFacts): which machines an organisation receives, through
which windows and packs, who has an owner's machines now, and a machine's sharings on a timeline. Registered once at
start-up (apps.py), so fleet's pages and selectors can ask without importing this layer."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils.translation import gettext as _

from fleet import charts

from . import selectors
from .lifecycle import SharingStatus
from .models import ReceivedMachine


class SharingFacts:
    def received_machines(self, organisation):
        return ReceivedMachine.objects.filter(organisation=organisation)

    def grants_by_machine(self, *, organisation, machine_ids, now):
        return selectors.access_grants_by_machine(organisation=organisation, machine_ids=machine_ids, now=now)

    def running_by_machine(self, *, organisation, machine_ids, now):
        return selectors.sharings_in_progress_by_machine(organisation=organisation, machine_ids=machine_ids, now=now)

    def machine_timeline(self, *, organisation, machine, now, tz):
        return machine_sharing_timeline(organisation=organisation, machine=machine, now=now, tz=tz)


def machine_sharing_timeline(*, organisation, machine, now: dt.datetime, tz: dt.tzinfo):
    """The owner's sharings of this machine on a time axis, with today marked (one query)."""
    sharings = list(
        selectors.sharings_outgoing(organisation)
        .filter(sharing_machines__machine=machine)
        .select_related("beneficiary")
        .order_by("start_at", "created_at")
    )
    if not sharings:
        return None
    bars = []
    for sharing in sharings:
        status = sharing.status_at(now)
        window = sharing.window
        who = sharing.beneficiary.name if sharing.beneficiary else sharing.recipient_organisation_name
        who = who or sharing.recipient_email
        label = f"{who} · {sharing.reference}" if sharing.reference else who
        bars.append(
            charts.TimelineBar(
                start=window.start,
                end=window.end,
                status=status,
                status_label=str(dict(SharingStatus.choices)[status]),
                label=label,
                url=reverse("sharing:detail", args=[sharing.pk]),
            )
        )
    start = min(min(bar.start for bar in bars), now - dt.timedelta(days=30))
    ends = [bar.end or now + dt.timedelta(days=60) for bar in bars]
    end = max(max(ends), now + dt.timedelta(days=30))
    start, end = start - (end - start) * 0.02, end + (end - start) * 0.02
    rows = [charts.TimelineRow(label=bar.label, bars=[bar]) for bar in bars]
    return charts.timeline_chart(
        chart_id="sharing-timeline",
        title=_("Sharings of this machine"),
        rows=rows,
        start=start,
        end=end,
        now=now,
        tz=tz,
    )
