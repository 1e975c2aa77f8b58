"""POST /api/v1/sharings throughput: gunicorn with two workers (gunicorn.conf.py, production settings: DEBUG off,
persistent connections) on the bench database, driven by eight keep-alive clients for a while. The sharings created
are removed afterwards."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from django.db import connection, transaction

from . import Result, measure

ROOT = Path(__file__).resolve().parent.parent.parent
#: BENCH_PORT: helpers benching side by side on one machine each need their own.
PORT = int(os.environ.get("BENCH_PORT", "8765"))
CLIENTS = 8
SECONDS = 20
REFERENCE = "BENCH-CREATE"


@measure(9, "POST /api/v1/sharings throughput, gunicorn 2 workers + PostgreSQL", "≥ 200/s")
def create_throughput(world):
    key = world.api_key("small")
    machine_id = str(world.organisation("small").machines.order_by("pk").values_list("pk", flat=True)[0])
    body = json.dumps(
        {
            "assetIds": [machine_id],
            "recipient": world.beneficiary_admin().email,
            "reference": REFERENCE,
            "startDate": (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).isoformat().replace("+00:00", "Z"),
        }
    )
    server = _gunicorn()
    try:
        created, errors = _drive(key, body)
    finally:
        server.terminate()
        server.wait(timeout=30)
        _remove_created()
    rate = created / SECONDS
    note = f"{created:,} created in {SECONDS} s by {CLIENTS} clients, {errors} errors"
    return Result(f"{rate:,.0f}/s", rate >= 200 and not errors, note)


def _gunicorn() -> subprocess.Popen:
    settings = connection.settings_dict
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "bench-" + "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_COOKIES": "false",
        "WEB_CONCURRENCY": "2",
        # One key drives the whole load: its rate limit (1200/minute by default) is not what is measured here.
        "API_RATE_LIMIT": "1000000/minute",
        "GUNICORN_BIND": f"127.0.0.1:{PORT}",
        "DATABASE_URL": f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}",
    }
    env.pop("DATABASE_CONN_MAX_AGE", None)  # the production default
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "-c",
            "gunicorn.conf.py",
            "--access-logfile",
            "/dev/null",
            "hiboo_connect.wsgi",
        ],
        cwd=ROOT,
        env=env,
        stderr=None if os.environ.get("BENCH_VERBOSE") else subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", PORT), timeout=1).close()
            time.sleep(2)  # both workers up
            return server
        except OSError:
            time.sleep(0.5)
    server.terminate()
    raise RuntimeError("gunicorn did not start")


@measure(
    15,
    "the floor under rows 9 and 14: requests/s the same gunicorn and clients serve",
    "none (what 9 and 14 compare with)",
)
def request_floor(world):
    """What two workers and the eight client threads on the same two cores serve when a request does (almost)
    nothing: a static file (gunicorn and WSGI), an API address that does not exist (Django's middleware, URL
    resolution and the JSON error), and the API list of one sharing (the API key's look-up and one page). Rows 9 and
    14 ask 200 creates/s and 500 no-op contract PUTs/s of the same setup."""
    key = world.api_key("small")
    server = _gunicorn()
    figures = []
    try:
        static = sorted((ROOT / "static" / "css").glob("*.css"))[0]
        for label, path in (
            ("static file", f"/static/css/{static.name}"),
            ("API 404", "/api/v1/no-such-address"),
            ("GET /api/v1/sharings?limit=1", "/api/v1/sharings?limit=1"),
        ):
            served, _failed = _drive(key, None, method="GET", path=path, ok=(200, 404), seconds=FLOOR_SECONDS)
            figures.append(f"{label} {served / FLOOR_SECONDS:,.0f}/s")
    finally:
        server.terminate()
        server.wait(timeout=30)
    return Result(" · ".join(figures), None, f"{FLOOR_SECONDS} s each, {CLIENTS} keep-alive clients")


FLOOR_SECONDS = 10


def _drive(
    key: str,
    body: str | None,
    *,
    method: str = "POST",
    path: str = "/api/v1/sharings",
    ok: tuple[int, ...] = (201,),
    seconds: int = SECONDS,
) -> tuple[int, int]:
    counts = {"created": 0, "errors": 0}
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    headers = {"Content-Type": "application/json", "x-access-token": key, "Host": "127.0.0.1"}

    def client():
        connection_ = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        while time.monotonic() < stop_at:
            connection_.request(method, path, body=body, headers=headers)
            response = connection_.getresponse()
            response.read()
            with lock:
                counts["created" if response.status in ok else "errors"] += 1
            if response.getheader("Connection", "").lower() == "close":
                connection_.close()
                connection_ = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)

    threads = [threading.Thread(target=client) for _client in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return counts["created"], counts["errors"]


def _remove_created() -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE TEMP TABLE bench_created ON COMMIT DROP AS SELECT id FROM sharing_sharing WHERE reference = %s;
            DELETE FROM outbox_message WHERE subject_id IN (SELECT id FROM bench_created);
            DELETE FROM audit_auditevent WHERE target_id IN (SELECT id FROM bench_created);
            DELETE FROM sharing_sharingmachine WHERE sharing_id IN (SELECT id FROM bench_created);
            DELETE FROM sharing_sharing WHERE id IN (SELECT id FROM bench_created);
            """,
            [REFERENCE],
        )
