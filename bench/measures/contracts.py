"""Contracts through the API (issue 11, item 7): 1,000 contracts of three lines applied with PUT /api/v1/contracts/
{reference} by eight keep-alive clients against gunicorn (two workers, production settings), the same 1,000 applied
again unchanged (every plan noop), and the CSV of the same 3,000 lines previewed in one POST /contracts/import?dryRun=
true. The contracts and everything they wrote are removed afterwards."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import queue
import threading
import time

from django.db import connection, transaction

from . import Result, measure
from .create import CLIENTS, PORT, _gunicorn

CONTRACTS = 1000
LINES = 3
PREFIX = "BENCH-C-"


def _bodies(world) -> dict[str, str]:
    owner = world.organisation("big")
    machines = [str(pk) for pk in owner.machines.order_by("pk").values_list("pk", flat=True)]
    recipient = world.beneficiary_admin().email
    start = (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).replace(hour=8, minute=0, second=0, microsecond=0)
    end = start + dt.timedelta(days=30)
    bodies = {}
    for number in range(CONTRACTS):
        lines = [
            {"assetId": machines[(number * LINES + line) % len(machines)], "lineReference": f"L{line + 1}"}
            for line in range(LINES)
        ]
        body = {
            "recipient": recipient,
            "startDate": start.isoformat().replace("+00:00", "Z"),
            "endDate": end.isoformat().replace("+00:00", "Z"),
            "dataPacksCodes": ["essential", "usage_hours"],
            "properties": {"customer": "Bench customer", "site": f"Site {number % 50}"},
            "lines": lines,
        }
        bodies[f"{PREFIX}{number:04d}"] = json.dumps(body)
    return bodies


def _put_all(key: str, bodies: dict[str, str]) -> tuple[float, dict]:
    """Seconds to PUT every body, and the answers' statuses and summaries."""
    work: queue.Queue = queue.Queue()
    for item in bodies.items():
        work.put(item)
    outcome: dict = {"status": {}, "noop": 0, "create": 0}
    lock = threading.Lock()
    headers = {"Content-Type": "application/json", "x-access-token": key, "Host": "127.0.0.1"}

    def client():
        connection_ = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
        while True:
            try:
                reference, body = work.get_nowait()
            except queue.Empty:
                return
            connection_.request("PUT", f"/api/v1/contracts/{reference}", body=body, headers=headers)
            response = connection_.getresponse()
            answer = _json(response.read())
            summary = answer.get("data", {}).get("summary", {})
            with lock:
                outcome["status"][response.status] = outcome["status"].get(response.status, 0) + 1
                outcome["noop"] += summary.get("noop", 0)
                outcome["create"] += summary.get("create", 0)

    threads = [threading.Thread(target=client) for _client in range(CLIENTS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, outcome


def _preview(key: str, bodies: dict[str, str]) -> tuple[float, int, dict]:
    rows = ["reference,recipient,assetId,lineReference,startDate,endDate,dataPacksCodes,customer,site"]
    for reference, text in bodies.items():
        body = json.loads(text)
        for line in body["lines"]:
            rows.append(
                ",".join(
                    [
                        reference,
                        body["recipient"],
                        line["assetId"],
                        line["lineReference"],
                        body["startDate"],
                        body["endDate"],
                        " ".join(body["dataPacksCodes"]),
                        body["properties"]["customer"],
                        body["properties"]["site"],
                    ]
                )
            )
    connection_ = http.client.HTTPConnection("127.0.0.1", PORT, timeout=120)
    headers = {"Content-Type": "text/csv", "x-access-token": key, "Host": "127.0.0.1"}
    started = time.perf_counter()
    connection_.request("POST", "/api/v1/contracts/import?dryRun=true", body="\n".join(rows).encode(), headers=headers)
    response = connection_.getresponse()
    answer = _json(response.read())
    return time.perf_counter() - started, response.status, answer.get("data", {}).get("summary", {})


def _json(body: bytes) -> dict:
    """The answer's JSON; {} for anything else (a worker killed by gunicorn's timeout answers nothing, or HTML)."""
    try:
        answer = json.loads(body or b"{}")
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


@measure(14, "contracts: 1,000 × 3 lines PUT / again unchanged / CSV preview", "≤ 10 s / ≤ 2 s / ≤ 15 s")
def contracts_apply(world):
    key = world.api_key("big")
    bodies = _bodies(world)
    server = _gunicorn()
    try:
        first, created = _put_all(key, bodies)
        again, unchanged = _put_all(key, bodies)
        previewed, preview_status, preview = _preview(key, bodies)
    finally:
        server.terminate()
        server.wait(timeout=30)
        _remove_created()
    lines = CONTRACTS * LINES
    ok = (
        created["create"] == lines
        and unchanged["noop"] == lines
        and preview_status == 200
        and preview.get("noop") == lines
    )
    note = (
        f"first apply {created['status']} ({created['create']:,} sharings created); again {unchanged['status']} "
        f"({unchanged['noop']:,} noop); CSV preview of {lines:,} lines: {preview_status}, {preview}"
    )
    met = ok and first <= 10 and again <= 2 and previewed <= 15
    return Result(f"{first:.1f} s / {again:.1f} s / {previewed:.1f} s", met, note)


def _remove_created() -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE TEMP TABLE bench_contracts ON COMMIT DROP AS
                SELECT id FROM contracts_contract WHERE reference LIKE %s;
            CREATE TEMP TABLE bench_contract_sharings ON COMMIT DROP AS
                SELECT id FROM sharing_sharing WHERE contract_id IN (SELECT id FROM bench_contracts);
            DELETE FROM outbox_message WHERE subject_id IN (SELECT id FROM bench_contract_sharings)
                OR subject_id IN (SELECT id FROM bench_contracts);
            DELETE FROM audit_auditevent WHERE target_id IN (SELECT id FROM bench_contract_sharings)
                OR target_id IN (SELECT id FROM bench_contracts);
            DELETE FROM sharing_sharingmachine WHERE sharing_id IN (SELECT id FROM bench_contract_sharings);
            DELETE FROM sharing_sharing WHERE id IN (SELECT id FROM bench_contract_sharings);
            DELETE FROM contracts_contractapply WHERE contract_id IN (SELECT id FROM bench_contracts);
            DELETE FROM contracts_contract WHERE id IN (SELECT id FROM bench_contracts);
            """,
            [PREFIX + "%"],
        )
