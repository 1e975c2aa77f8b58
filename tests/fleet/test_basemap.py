"""The fleet map's basemap: the shipped file is what `manage.py build_basemap` makes from the pinned world-atlas
package (Natural Earth, public domain), and it reads back as outlines where the countries are."""

import json

import pytest

from fleet import basemap


def test_the_shipped_file_is_built_from_the_pinned_package():
    if not basemap.WORLD_ATLAS.exists():
        pytest.fail(f"{basemap.WORLD_ATLAS} is missing: run `npm ci` (make test does).")
    built = basemap.dumps(basemap.build(json.loads(basemap.WORLD_ATLAS.read_text(encoding="utf-8"))))
    assert built == basemap.BASEMAP_FILE.read_text(encoding="utf-8")


def test_the_outlines_are_where_the_countries_are():
    countries = {country.name: country for country in basemap.countries()}
    assert len(countries) > 200
    west, south, east, north = countries["France"].bbox
    assert west < -4.5 < 2.35 < east  # Brittany to Paris
    assert south < 43.3 < 48.85 < north  # Marseille to Paris
    assert all(len(ring) >= 3 for country in countries.values() for ring in country.rings)


def test_simplify_keeps_the_corners_and_drops_what_lies_on_a_line():
    points = [(0.0, 0.0), (1.0, 0.001), (2.0, 0.0), (2.0, 2.0), (0.0, 2.0), (0.0, 0.0)]
    assert basemap._simplify(points, 0.01) == [(0.0, 0.0), (2.0, 0.0), (2.0, 2.0), (0.0, 2.0), (0.0, 0.0)]
