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


def _drive(key: str, body: str) -> tuple[int, int]:
    counts = {"created": 0, "errors": 0}
    lock = threading.Lock()
    stop_at = time.monotonic() + SECONDS
    headers = {"Content-Type": "application/json", "x-access-token": key, "Host": "127.0.0.1"}

    def client():
        connection_ = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        while time.monotonic() < stop_at:
            connection_.request("POST", "/api/v1/sharings", body=body, headers=headers)
            response = connection_.getresponse()
            response.read()
            with lock:
                counts["created" if response.status == 201 else "errors"] += 1
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
