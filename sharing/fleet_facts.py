"""What the sharing layer tells fleet (fleet.access.SharingFacts): which machines an organisation receives, through
which windows and packs, who has an owner's machines now, and a machine's sharings on a timeline. Registered once at
start-up (apps.py), so fleet's pages and selectors can ask without importing this layer."""

from __future__ import annotations

from . import selectors, timeline


class SharingFacts:
    def received_machines(self, organisation):
        return selectors.received_machines_shown(organisation)

    def grants_by_machine(self, *, organisation, machine_ids, now):
        return selectors.access_grants_by_machine(organisation=organisation, machine_ids=machine_ids, now=now)

    def upcoming_grants(self, *, organisation, machine_id, now):
        return selectors.upcoming_grants(organisation=organisation, machine_id=machine_id, now=now)

    def running_by_machine(self, *, organisation, machine_ids, now):
        return selectors.sharings_in_progress_by_machine(organisation=organisation, machine_ids=machine_ids, now=now)

    def machine_timeline(self, *, organisation, machine, now, tz):
        return timeline.machine_timeline(organisation=organisation, machine=machine, now=now, tz=tz)
