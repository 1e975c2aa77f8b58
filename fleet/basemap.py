"""The fleet map's basemap: Natural Earth's country outlines (public domain), simplified once and shipped with the
code as fleet/geodata/countries.json, so the map needs no network and no tile server.

The file is built by `python manage.py build_basemap` from npm's `world-atlas` package (Natural Earth 1:50m
"Admin 0 – Countries" as TopoJSON; package.json pins it and `npm ci` installs it): each country's rings decoded from
the topology, simplified (Douglas–Peucker, BUILD_TOLERANCE degrees) and stored as whole hundredths of a degree.
tests/fleet/test_basemap.py builds it again from node_modules and compares, so the shipped file is what the
command makes from the pinned package.

Natural Earth: "All versions of Natural Earth raster + vector map data found on this website are in the public
domain" (naturalearthdata.com/about/terms-of-use). world-atlas (the TopoJSON packaging): ISC licence, Michael
Bostock."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

BASEMAP_FILE = Path(__file__).resolve().parent / "geodata" / "countries.json"
WORLD_ATLAS = Path(__file__).resolve().parents[1] / "node_modules" / "world-atlas" / "countries-50m.json"
#: Simplification of the shipped outlines, in degrees (about 2 km): finer than a map of a region needs, far smaller
#: than the 1:50m source.
BUILD_TOLERANCE = 0.02
#: Coordinates are stored as whole multiples of this many degrees.
UNIT = 0.01

Ring = list[tuple[float, float]]  # (longitude, latitude) pairs


@dataclass(frozen=True)
class Country:
    name: str
    #: west, south, east, north
    bbox: tuple[float, float, float, float]
    #: The rings of all its polygons (outer rings and holes alike: drawn with the even-odd rule).
    rings: tuple[Ring, ...]


@cache
def countries() -> tuple[Country, ...]:
    """The shipped outlines, read once per process."""
    data = json.loads(BASEMAP_FILE.read_text(encoding="utf-8"))
    result = []
    for country in data["countries"]:
        rings = tuple(
            [(flat[index] * UNIT, flat[index + 1] * UNIT) for index in range(0, len(flat), 2)]
            for flat in country["rings"]
        )
        result.append(Country(name=country["name"], bbox=tuple(country["bbox"]), rings=rings))
    return tuple(result)


# --- building the file from world-atlas ------------------------------------------------------------------------------


def _decode_arcs(topology: dict) -> list[Ring]:
    """The topology's arcs as absolute coordinates (they are quantized and delta-encoded)."""
    scale_x, scale_y = topology["transform"]["scale"]
    shift_x, shift_y = topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * scale_x + shift_x, y * scale_y + shift_y))
        arcs.append(points)
    return arcs


def _ring(arcs: list[Ring], indexes: list[int]) -> Ring:
    """One ring stitched from its arcs (a negative index ~i is arc i reversed); each arc's first point repeats the
    previous arc's last, so it is dropped."""
    points: Ring = []
    for index in indexes:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        points.extend(arc[1:] if points else arc)
    return points


def _simplify(points: Ring, tolerance: float) -> Ring:
    """Douglas–Peucker, iterative: the points farther than `tolerance` from the chord of their stretch are kept."""
    if len(points) < 3:
        return points
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        (x0, y0), (x1, y1) = points[first], points[last]
        dx, dy = x1 - x0, y1 - y0
        length = (dx * dx + dy * dy) ** 0.5
        farthest, distance = -1, tolerance
        for index in range(first + 1, last):
            x, y = points[index]
            gap = abs(dy * (x - x0) - dx * (y - y0)) / length if length else math.hypot(x - x0, y - y0)
            if gap > distance:
                farthest, distance = index, gap
        if farthest >= 0:
            keep[farthest] = True
            stack += [(first, farthest), (farthest, last)]
    return [point for point, kept in zip(points, keep, strict=True) if kept]


def build(topology: dict, *, tolerance: float = BUILD_TOLERANCE) -> dict:
    """The shipped file's content from world-atlas's countries topology."""
    arcs = _decode_arcs(topology)
    countries_out = []
    for geometry in topology["objects"]["countries"]["geometries"]:
        polygons = {"Polygon": [geometry.get("arcs", [])], "MultiPolygon": geometry.get("arcs", [])}.get(
            geometry.get("type"), []
        )
        rings = []
        for polygon in polygons:
            for indexes in polygon:
                ring = _simplify(_ring(arcs, indexes), tolerance)
                flat = [round(value / UNIT) for point in ring for value in point]
                # A ring needs three distinct corners to enclose anything once rounded.
                if len({(flat[i], flat[i + 1]) for i in range(0, len(flat), 2)}) >= 3:
                    rings.append(flat)
        if not rings:
            continue
        xs = [ring[i] for ring in rings for i in range(0, len(ring), 2)]
        ys = [ring[i] for ring in rings for i in range(1, len(ring), 2)]
        bbox = [round(min(xs) * UNIT, 2), round(min(ys) * UNIT, 2), round(max(xs) * UNIT, 2), round(max(ys) * UNIT, 2)]
        name = (geometry.get("properties") or {}).get("name", "")
        countries_out.append({"name": name, "bbox": bbox, "rings": rings})
    countries_out.sort(key=lambda country: country["name"])
    return {
        "source": "Natural Earth 1:50m Admin 0 - Countries (public domain), from npm world-atlas 2.0.2 "
        "(countries-50m.json, ISC), simplified by fleet/basemap.py (python manage.py build_basemap)",
        "tolerance_degrees": tolerance,
        "unit_degrees": UNIT,
        "countries": countries_out,
    }


def dumps(content: dict) -> str:
    """The file's text: one country per line, so a rebuild's diff reads country by country."""
    head = {key: value for key, value in content.items() if key != "countries"}
    lines = [json.dumps(country, separators=(",", ":"), ensure_ascii=False) for country in content["countries"]]
    head_text = json.dumps(head, ensure_ascii=False)[:-1]
    return head_text + ', "countries": [\n' + ",\n".join(lines) + "\n]}\n"
