"""Maps drawn on the server as SVG, like the charts: the fleet's machines as dots, or one machine's track, over the
Natural Earth outlines shipped with the code (fleet.basemap), in Web Mercator. No network, no tiles, no script.

Pure functions of their inputs (no database, no request). The view is a `Box` of longitudes and latitudes: fitted to
what is shown with a margin, or chosen by the person (the page's `box` parameter: zoom in, zoom out, a cluster's
area). Dots that would overlap are gathered into a cluster that links to its own area, or, when they stand at one
place that no zoom would part, set side by side around it. Every dot is a link with an accessible name; looks come
from static/css/fleet.css (the CSP forbids inline styles)."""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.utils import formats
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from . import basemap

WIDTH, HEIGHT = 960, 600
#: The shown area never shrinks below this many degrees (about 1 km): a single machine is not zoomed to a point.
MIN_SPAN = 0.01
MAX_LATITUDE = 85.0
#: Dots closer than this many pixels (of the 960-wide drawing) are gathered.
CLUSTER_CELL = 34
DOT_RADIUS, HIT_RADIUS = 9, 17
#: Dots closer than this many degrees would still overlap at the closest zoom (MIN_SPAN across the drawing): one place.
ONE_PLACE = MIN_SPAN * CLUSTER_CELL / WIDTH
#: Dots of one place are set on a circle of this radius, in pixels, around it.
SPREAD_RADIUS = 24
WORLD = (-180.0, -60.0, 180.0, 80.0)


@dataclass(frozen=True)
class Box:
    """An area: west, south, east, north, in degrees (west < east: no box crosses the antimeridian)."""

    west: float
    south: float
    east: float
    north: float

    def as_param(self) -> str:
        return ",".join(
            f"{value:.4f}".rstrip("0").rstrip(".") for value in (self.west, self.south, self.east, self.north)
        )

    @classmethod
    def parse(cls, text: str) -> Box:
        """A box from "west,south,east,north"; ValueError when it is not one."""
        parts = text.split(",")
        if len(parts) != 4:
            raise ValueError("four numbers")
        west, south, east, north = (float(part) for part in parts)
        if not all(math.isfinite(value) for value in (west, south, east, north)):
            raise ValueError("finite numbers")
        if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
            raise ValueError("inside the world, west before east, south before north")
        return cls(west, max(south, -MAX_LATITUDE), east, min(north, MAX_LATITUDE))

    def zoomed(self, factor: float) -> Box:
        """The box `factor` times as wide and high around the same centre (0.5: zoom in), kept inside the world."""
        x0, y0, x1, y1 = _project_box(self)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        half_w, half_h = (x1 - x0) * factor / 2, (y1 - y0) * factor / 2
        return _unproject_box(cx - half_w, cy - half_h, cx + half_w, cy + half_h)


@dataclass(frozen=True)
class Marker:
    """One machine on the map. `label` is its accessible name ("320 GC, running, last seen 2 hours ago")."""

    latitude: float
    longitude: float
    label: str
    state: str  # running, off, unknown (fleet.glance.ENGINE_STATES)
    stale: bool
    url: str


@dataclass(frozen=True)
class TrackPoint:
    latitude: float
    longitude: float
    timestamp: dt.datetime


# --- projection (Web Mercator, in units of the whole world: 0..1 both ways) -------------------------------------------


def _x(longitude: float) -> float:
    return (longitude + 180.0) / 360.0


def _y(latitude: float) -> float:
    latitude = max(min(latitude, MAX_LATITUDE), -MAX_LATITUDE)
    radians = math.radians(latitude)
    return (1.0 - math.log(math.tan(radians) + 1.0 / math.cos(radians)) / math.pi) / 2.0


def _longitude(x: float) -> float:
    return x * 360.0 - 180.0


def _latitude(y: float) -> float:
    return math.degrees(math.atan(math.sinh(math.pi * (1.0 - 2.0 * y))))


def _project_box(box: Box) -> tuple[float, float, float, float]:
    """left, top, right, bottom in world units."""
    return _x(box.west), _y(box.north), _x(box.east), _y(box.south)


def _unproject_box(left: float, top: float, right: float, bottom: float) -> Box:
    # Keep it inside the world, sliding it back rather than cutting it where it can.
    width, height = min(right - left, 1.0), min(bottom - top, _y(-MAX_LATITUDE) - _y(MAX_LATITUDE))
    left = min(max(left, 0.0), 1.0 - width)
    top = min(max(top, _y(MAX_LATITUDE)), _y(-MAX_LATITUDE) - height)
    return Box(
        round(_longitude(left), 5),
        round(_latitude(top + height), 5),
        round(_longitude(left + width), 5),
        round(_latitude(top), 5),
    )


def fit(points: Sequence[tuple[float, float]], *, margin: float = 0.15) -> Box:
    """The area that shows every (latitude, longitude) with a margin on each side, at least MIN_SPAN wide and tall;
    the world when there is nothing to show."""
    if not points:
        return Box(*WORLD)
    latitudes = [point[0] for point in points]
    longitudes = [point[1] for point in points]
    west, east = min(longitudes), max(longitudes)
    south, north = min(latitudes), max(latitudes)
    pad_x = max((east - west) * margin, MIN_SPAN / 2)
    pad_y = max((north - south) * margin, MIN_SPAN / 2)
    return Box(
        max(west - pad_x, -180.0),
        max(south - pad_y, -MAX_LATITUDE),
        min(east + pad_x, 180.0),
        min(north + pad_y, MAX_LATITUDE),
    )


class _Frame:
    """The box widened to the drawing's proportions, and the projection from degrees to its pixels."""

    def __init__(self, box: Box, width: int, height: int):
        left, top, right, bottom = _project_box(box)
        span_x, span_y = max(right - left, 1e-9), max(bottom - top, 1e-9)
        if span_x / span_y > width / height:
            extra = span_x * height / width - span_y
            top, bottom = top - extra / 2, bottom + extra / 2
        else:
            extra = span_y * width / height - span_x
            left, right = left - extra / 2, right + extra / 2
        self.left, self.top = left, top
        self.scale = width / (right - left)  # pixels per world unit
        self.width, self.height = width, height
        self.box = _unproject_box(left, top, right, bottom)

    def point(self, latitude: float, longitude: float) -> tuple[float, float]:
        return (_x(longitude) - self.left) * self.scale, (_y(latitude) - self.top) * self.scale

    def _key(self) -> tuple:
        return self.left, self.top, self.scale, self.width, self.height

    def __eq__(self, other) -> bool:
        return isinstance(other, _Frame) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def area(self, x0: float, y0: float, x1: float, y1: float) -> Box:
        """The box of a pixel rectangle."""
        return _unproject_box(
            self.left + x0 / self.scale,
            self.top + y0 / self.scale,
            self.left + x1 / self.scale,
            self.top + y1 / self.scale,
        )


# --- drawing ----------------------------------------------------------------------------------------------------


def _land(frame: _Frame) -> list[str]:
    return [_land_drawn(frame)]


#: How many drawings of the outlines are kept (the world's is about 280 KB and took 190 ms to draw): each machine page
#: without a position shows the same world, and a fleet map is mostly seen again at the same area.
LAND_KEPT = 16


@functools.lru_cache(maxsize=LAND_KEPT)
def _land_drawn(frame: _Frame) -> str:
    """The countries that reach into the frame, one path each, points closer than a pixel dropped. Drawn once for each
    frame (the outlines are shipped with the code and never change while it runs)."""
    view = frame.box
    margin_x, margin_y = (view.east - view.west) * 0.1, (view.north - view.south) * 0.1
    parts = ['<g class="map-land" aria-hidden="true">']
    for country in basemap.countries():
        west, south, east, north = country.bbox
        if east < view.west - margin_x or west > view.east + margin_x:
            continue
        if north < view.south - margin_y or south > view.north + margin_y:
            continue
        path = []
        for ring in country.rings:
            last = None
            commands = []
            for longitude, latitude in ring:
                x, y = frame.point(latitude, longitude)
                if last is not None and abs(x - last[0]) < 0.8 and abs(y - last[1]) < 0.8:
                    continue
                commands.append(f"{x:.1f} {y:.1f}")
                last = (x, y)
            if len(commands) >= 3:
                path.append("M" + "L".join(commands) + "Z")
        if path:
            parts.append(f'<path fill-rule="evenodd" d="{"".join(path)}"/>')
    parts.append("</g>")
    return "".join(parts)


def _nice_step(span: float, lines: int) -> float:
    rough = span / lines
    power = 10 ** math.floor(math.log10(rough))
    for step in (1, 2, 5, 10):
        if rough <= step * power:
            return step * power
    return 10 * power  # pragma: no cover - the loop always returns


def _degrees(value: float, positive: str, negative: str) -> str:
    text = f"{abs(value):.4f}".rstrip("0").rstrip(".")
    return f"{text}°{positive if value >= 0 else negative}"


def _graticule(frame: _Frame) -> list[str]:
    """Meridians and parallels at a round step, labelled, for a sense of place where the outlines show only land."""
    box = frame.box
    lines, labels = (
        ['<g class="map-graticule" aria-hidden="true">'],
        ['<g class="map-graticule-label" aria-hidden="true">'],
    )
    step = _nice_step(box.east - box.west, 6)
    longitude = math.ceil(box.west / step) * step
    while longitude < box.east:
        x, _y0 = frame.point(0, longitude)
        lines.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="0" y2="{frame.height}"/>')
        labels.append(f'<text x="{x + 3:.1f}" y="14">{_degrees(longitude, "E", "W")}</text>')
        longitude += step
    step = _nice_step(box.north - box.south, 4)
    latitude = math.ceil(box.south / step) * step
    while latitude < box.north:
        _x0, y = frame.point(latitude, 0)
        lines.append(f'<line x1="0" x2="{frame.width}" y1="{y:.1f}" y2="{y:.1f}"/>')
        labels.append(f'<text x="4" y="{y - 4:.1f}">{_degrees(latitude, "N", "S")}</text>')
        latitude += step
    return [*lines, "</g>", *labels, "</g>"]


def _scale_bar(frame: _Frame) -> list[str]:
    """A scale bar at the bottom left: a round distance about 120 pixels long at the centre's latitude."""
    centre_latitude = (frame.box.south + frame.box.north) / 2
    metres_per_pixel = 40_075_016.7 * math.cos(math.radians(centre_latitude)) / frame.scale
    metres = _nice_step(metres_per_pixel * 120, 1)
    length = metres / metres_per_pixel
    label = f"{metres / 1000:g} km" if metres >= 1000 else f"{metres:g} m"
    y = frame.height - 18
    return [
        f'<g class="map-scale" aria-hidden="true"><line x1="16" x2="{16 + length:.1f}" y1="{y}" y2="{y}"/>'
        f'<line x1="16" x2="16" y1="{y - 5}" y2="{y + 5}"/>'
        f'<line x1="{16 + length:.1f}" x2="{16 + length:.1f}" y1="{y - 5}" y2="{y + 5}"/>'
        f'<text x="{20 + length:.1f}" y="{y + 4}">{escape(label)}</text></g>',
        f'<text class="map-credit" x="{frame.width - 8}" y="{frame.height - 8}" text-anchor="end" aria-hidden="true">'
        f"{escape(_('Outlines: Natural Earth'))}</text>",
    ]


def _dot(x: float, y: float, marker: Marker) -> str:
    state = "stale" if marker.stale else marker.state
    return (
        f'<a href="{escape(marker.url)}" aria-label="{escape(marker.label)}"><title>{escape(marker.label)}</title>'
        f'<circle class="map-hit" cx="{x:.1f}" cy="{y:.1f}" r="{HIT_RADIUS}"/>'
        f'<circle class="map-dot map-dot-{escape(state)}" cx="{x:.1f}" cy="{y:.1f}" r="{DOT_RADIUS}"/>'
        f'<circle class="map-focus" cx="{x:.1f}" cy="{y:.1f}" r="{DOT_RADIUS + 5}"/></a>'
    )


def _markers(frame: _Frame, markers: Sequence[Marker], area_url: Callable[[Box], str]) -> tuple[list[str], int]:
    """The dots (and clusters) inside the frame, and how many machines fall outside it."""
    groups: list[list[tuple[float, float, Marker]]] = []
    outside = 0
    for marker in sorted(markers, key=lambda marker: (marker.latitude, marker.longitude, marker.label)):
        x, y = frame.point(marker.latitude, marker.longitude)
        if not (0 <= x <= frame.width and 0 <= y <= frame.height):
            outside += 1
            continue
        # The first group whose first dot is near enough takes it (greedy: a handful of groups on a page).
        for group in groups:
            gx, gy, _first = group[0]
            if abs(gx - x) < CLUSTER_CELL and abs(gy - y) < CLUSTER_CELL:
                group.append((x, y, marker))
                break
        else:
            groups.append([(x, y, marker)])
    parts = ['<g class="map-markers">']
    for group in groups:
        if len(group) == 1:
            x, y, marker = group[0]
            parts.append(_dot(x, y, marker))
            continue
        xs, ys = [x for x, _y, _m in group], [y for _x, y, _m in group]
        cx, cy = sum(xs) / len(xs), sum(ys) / len(ys)
        area = frame.area(min(xs), min(ys), max(xs), max(ys))
        if area.east - area.west < ONE_PLACE and area.north - area.south < ONE_PLACE:
            # One place (a depot, a site): no zoom would part them, so they stand side by side around it.
            radius = SPREAD_RADIUS * max(1.0, len(group) / 6)
            for index, (_x, _y, marker) in enumerate(sorted(group, key=lambda item: item[2].label)):
                angle = 2 * math.pi * index / len(group) - math.pi / 2
                parts.append(_dot(cx + radius * math.cos(angle), cy + radius * math.sin(angle), marker))
            continue
        label = ngettext(
            "%(count)s machine here: show this area", "%(count)s machines here: show this area", len(group)
        ) % {"count": len(group)}
        zoom = fit([(m.latitude, m.longitude) for _x, _y, m in group], margin=0.3)
        parts.append(
            f'<a class="map-cluster" href="{escape(area_url(zoom))}" aria-label="{escape(label)}">'
            f"<title>{escape(label)}</title>"
            f'<circle class="map-cluster-disc" cx="{cx:.1f}" cy="{cy:.1f}" r="{DOT_RADIUS + 8}"/>'
            f'<text x="{cx:.1f}" y="{cy + 5:.1f}" aria-hidden="true">{len(group)}</text>'
            f'<circle class="map-focus" cx="{cx:.1f}" cy="{cy:.1f}" r="{DOT_RADIUS + 13}"/></a>'
        )
    parts.append("</g>")
    return parts, outside


def _frame_svg(chart_id: str, title: str, description: str, body: list[str], frame: _Frame, role: str) -> SafeString:
    return mark_safe(
        f'<svg class="fleet-map" viewBox="0 0 {frame.width} {frame.height}" role="{role}" id="{chart_id}" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-title">{escape(title)}</title><desc id="{chart_id}-desc">{escape(description)}</desc>'
        + "".join(body)
        + "</svg>"
    )


@dataclass(frozen=True)
class FleetMap:
    svg: SafeString
    #: The area drawn (the asked box widened to the drawing's proportions).
    box: Box
    #: Machines with a position outside the area drawn.
    outside: int


def fleet_map(
    *,
    chart_id: str,
    title: str,
    markers: Sequence[Marker],
    box: Box | None,
    area_url: Callable[[Box], str],
    width: int = WIDTH,
    height: int = HEIGHT,
) -> FleetMap:
    """The machines as dots over the outlines, in `box` (None: fitted to the machines). A group of dots that would
    overlap becomes a cluster that links to `area_url(its area)`."""
    frame = _Frame(box or fit([(marker.latitude, marker.longitude) for marker in markers]), width, height)
    dots, outside = _markers(frame, markers, area_url)
    shown = len(markers) - outside
    description = ngettext(
        "%(count)s machine on this part of the map.", "%(count)s machines on this part of the map.", shown
    ) % {"count": shown}
    body = _land(frame) + _graticule(frame) + dots + _scale_bar(frame)
    # Its dots link to the machines: a group of links, not a picture (whose content screen readers never reach).
    return FleetMap(
        _frame_svg(chart_id, title, description, body, frame, "group" if shown else "img"), frame.box, outside
    )


def track_map(
    *, chart_id: str, title: str, points: Sequence[TrackPoint], tz, width: int = WIDTH, height: int = HEIGHT
) -> SafeString:
    """One machine's positions of a period as a line over the outlines, fitted to them, its first and last positions
    marked."""
    frame = _Frame(fit([(point.latitude, point.longitude) for point in points]), width, height)
    body = _land(frame) + _graticule(frame)
    if points:
        projected = [frame.point(point.latitude, point.longitude) for point in points]
        line = " ".join(f"{x:.1f},{y:.1f}" for x, y in projected)
        first, last = points[0], points[-1]
        start_label = _("First position: %(when)s") % {
            "when": formats.date_format(first.timestamp.astimezone(tz), "DATETIME_FORMAT")
        }
        end_label = _("Last position: %(when)s") % {
            "when": formats.date_format(last.timestamp.astimezone(tz), "DATETIME_FORMAT")
        }
        body.append(f'<g class="map-track-layer"><polyline class="map-track" points="{line}"/>')
        (x0, y0), (x1, y1) = projected[0], projected[-1]
        body.append(
            f'<circle class="map-track-start" cx="{x0:.1f}" cy="{y0:.1f}" r="7"><title>{escape(start_label)}</title>'
            f'</circle><circle class="map-track-end" cx="{x1:.1f}" cy="{y1:.1f}" r="8"><title>{escape(end_label)}'
            "</title></circle></g>"
        )
        description = ngettext(
            "%(count)s position from %(start)s to %(end)s.",
            "%(count)s positions from %(start)s to %(end)s.",
            len(points),
        ) % {
            "count": len(points),
            "start": formats.date_format(first.timestamp.astimezone(tz), "DATETIME_FORMAT"),
            "end": formats.date_format(last.timestamp.astimezone(tz), "DATETIME_FORMAT"),
        }
    else:
        description = _("No position in this period.")
    body += _scale_bar(frame)
    return _frame_svg(chart_id, title, description, body, frame, "img")


def open_in_a_map_url(latitude: float, longitude: float) -> str:
    """A link to the position on OpenStreetMap's site: the person chooses to follow it (the portal itself loads
    nothing from it)."""
    return (
        f"https://www.openstreetmap.org/?mlat={latitude:.5f}&mlon={longitude:.5f}#map=15/{latitude:.5f}/{longitude:.5f}"
    )
