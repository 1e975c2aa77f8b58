"""`python manage.py build_basemap`: build the fleet map's basemap (fleet/geodata/countries.json) from npm's
world-atlas package (Natural Earth, public domain), installed by `npm ci`. Run it after changing the pinned version or
fleet.basemap's tolerance, and commit the file: the app itself never reads node_modules."""

import json

from django.core.management.base import BaseCommand, CommandError

from fleet import basemap


class Command(BaseCommand):
    help = "Build fleet/geodata/countries.json from node_modules/world-atlas (Natural Earth outlines)."

    def handle(self, *args, **options):
        if not basemap.WORLD_ATLAS.exists():
            raise CommandError(f"{basemap.WORLD_ATLAS} is missing: run `npm ci` (make test does) first.")
        content = basemap.build(json.loads(basemap.WORLD_ATLAS.read_text(encoding="utf-8")))
        basemap.BASEMAP_FILE.write_text(basemap.dumps(content), encoding="utf-8")
        points = sum(len(ring) // 2 for country in content["countries"] for ring in country["rings"])
        self.stdout.write(
            f"{basemap.BASEMAP_FILE}: {len(content['countries'])} countries, {points} points, "
            f"{basemap.BASEMAP_FILE.stat().st_size // 1024} KiB"
        )
