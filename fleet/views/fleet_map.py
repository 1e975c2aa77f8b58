"""Fleet → Map: the organisation's own and received machines at their last visible position, drawn by the server over
the shipped Natural Earth outlines (fleet.maps), filtered like the fleet list; and the same machines as a table (the
"List" view, for screen readers and anyone who prefers it), each position with an "Open in a map" link.

A received machine shows only the newest position inside its sharings' windows, and only when the essential pack was
shared in that window (fleet.selectors.machines_snapshot reads through each machine's access scope). The cost does not
grow with the fleet: the machines, then their scopes, newest engine statuses and newest positions, one query each."""

from dataclasses import dataclass

from django.http import QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts.portal import organisation_page

from .. import maps
from ..data_packs import Metric
from ..filters import MachineFilterSet
from ..glance import Freshness, Naming, freshness, naming
from ..models import Machine, Position
from ..selectors import machines_snapshot

ZOOM_STEP = 2.0


@dataclass(frozen=True)
class MapRow:
    """One machine of the map's list."""

    machine: Machine
    naming: Naming
    glance: Freshness
    received: bool
    position: Position | None
    open_url: str

    @property
    def label(self) -> str:
        """The dot's accessible name: which machine, whose, in what state."""
        if self.received:
            owner = _("from %(owner)s") % {"owner": self.machine.organisation.name}
            return f"{self.naming.name} ({owner}): {self.glance.summary}"
        return f"{self.naming.name}: {self.glance.summary}"


def _rows(organisation, machines, now) -> list[MapRow]:
    snapshots = machines_snapshot(
        organisation=organisation, machines=machines, metrics=[Metric.ENGINE_RUNNING], now=now
    )
    rows = []
    for machine in machines:
        snapshot = snapshots[machine.pk]
        engine = snapshot.readings.get(Metric.ENGINE_RUNNING)
        position = snapshot.position
        seen = [moment for moment in (position and position.timestamp, engine and engine.timestamp) if moment]
        rows.append(
            MapRow(
                machine=machine,
                naming=naming(machine, machine.received_name),
                glance=freshness(
                    engine_running=None if engine is None else engine.value >= 0.5,
                    last_seen=max(seen, default=None),
                    now=now,
                ),
                received=machine.organisation_id != organisation.pk,
                position=position,
                open_url=maps.open_in_a_map_url(position.latitude, position.longitude) if position else "",
            )
        )
    return rows


def _url(request, **changes) -> str:
    """This page's address with some parameters changed (None removes one)."""
    query = QueryDict(mutable=True)
    for key, values in request.GET.lists():
        if key not in changes:
            query.setlist(key, [value for value in values if value])
    for key, value in changes.items():
        if value:
            query[key] = value
    return f"{request.path}?{query.urlencode(safe=',')}" if query else request.path


@organisation_page
@require_GET
def fleet_map(request):
    organisation = request.organisation
    now = timezone.now()
    filterset = MachineFilterSet(request.GET, organisation=organisation)
    machines = list(filterset.qs.select_related("organisation"))
    rows = _rows(organisation, machines, now)
    placed = [row for row in rows if row.position is not None]
    view = "list" if request.GET.get("view") == "list" else "map"

    box, box_error = None, ""
    if request.GET.get("box"):
        try:
            box = maps.Box.parse(request.GET["box"])
        except ValueError:
            box_error = _("The map's area was not understood: the map shows all the machines instead.")

    context = {
        "nav": "fleet",
        "fleet_tab": "map",
        "filterset": filterset,
        "workspaces": filterset.filters["workspace"].queryset,
        "view": view,
        "rows": rows,
        "placed": len(placed),
        "unplaced": len(rows) - len(placed),
        "box_error": box_error,
        "map_url": _url(request, view=None),
        "list_url": _url(request, view="list"),
        "fit_url": _url(request, box=None, view=None),
    }
    if view == "map":
        drawn = maps.fleet_map(
            chart_id="fleet-map",
            title=_("Map of the fleet"),
            markers=[
                maps.Marker(
                    latitude=row.position.latitude,
                    longitude=row.position.longitude,
                    label=row.label,
                    state=row.glance.state,
                    stale=row.glance.stale,
                    url=reverse("fleet:machine", args=[row.machine.pk]),
                )
                for row in placed
                if row.position is not None  # for the type checker: `placed` has positions
            ],
            box=box,
            area_url=lambda area: _url(request, box=area.as_param(), view=None),
        )
        context.update(
            svg=drawn.svg,
            outside=drawn.outside,
            zoom_in_url=_url(request, box=drawn.box.zoomed(1 / ZOOM_STEP).as_param(), view=None),
            zoom_out_url=_url(request, box=drawn.box.zoomed(ZOOM_STEP).as_param(), view=None),
            zoomed=box is not None,
        )
    return render(request, "fleet/map.html", context)
