"""A lifecycle run with nothing due on a database of 1,000 sharings (DATABASE_URL, created, migrated and filled the
first time): bench/measures/lifecycle.py compares it with the same run on the bench's million. Prints JSON."""

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hiboo_connect.settings")

import django
import psycopg

url = os.environ["DATABASE_URL"]
database = url.rsplit("/", 1)[1]
with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
    if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone():
        admin.execute(f'CREATE DATABASE "{database}"')

django.setup()

from django.core.management import call_command  # noqa: E402

from bench.measures import median, repeated  # noqa: E402
from bench.world import world_of_a_thousand  # noqa: E402
from sharing.services import sharing_lifecycle_run  # noqa: E402

call_command("migrate", verbosity=0)
world_of_a_thousand(log=lambda line: print(line, file=sys.stderr))
sharing_lifecycle_run()
print(json.dumps({"median": median(repeated(sharing_lifecycle_run, 50))}))
