"""The same report sent five times at once, by several clients, to two worker processes.

Two workers share the intake consumer group. To be sure they race on one report, the first
copy is held in one worker's open transaction (a test hook stalls its commit) while the
other worker reads the remaining copies, sent at once by four Redis clients and one HTTP
client; then the first commit goes ahead. The report is stored once, and every copy gets the
same receipt (the same CloudEvent, the same reference).
"""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
import redis.asyncio as aredis
from sqlmodel import col

from hub.config.registry import default_registry_path, load_registry
from hub.entrypoints.http import create_http_app
from hub.runtime.transport import redis_client
from hub.schemas import streams
from hub.services.envelope import report_ref
from hub.store.models import Outbox, Report, TriageItem
from hub.store.tokens import TokenStore
from tests.factories import cloudevent, entry
from tests.redis_cluster import ON_CLUSTER_TOO
from tests.reliability.helpers import (
    SCHOOL,
    HubProcess,
    assert_no_personal_data,
    count_rows,
    events,
    eventually,
    log_events,
    once_each,
    pending,
    personal_report,
    worker_env,
)

N_REPORTS, COPIES = 6, 5
INTAKE = streams.intake(SCHOOL)

pytestmark = ON_CLUSTER_TOO  # the same guarantees on a Redis Cluster


async def _first_stalled(a: HubProcess, b: HubProcess) -> HubProcess | None:
    return a if a.stalled() else b if b.stalled() else None


async def test_a_report_sent_five_times_at_once_to_two_workers_is_stored_once_with_one_receipt(
    workers: Any, clean_redis: str, database_url: str, tmp_path: Path, signal_dir: Path
) -> None:
    # Both workers live: each publishes its own events after its commit. The relay's grace is
    # longer than the stall, or the relay would also send the stalled transaction's receipt
    # (committed after the grace ran out), a second copy at-least-once allows but this test,
    # which counts receipts exactly, would take for a duplicate.
    env = worker_env(clean_redis, database_url, tmp_path / "data", reclaim_idle_ms=500, publish_grace_s=60)
    env["HUB_TEST_STALL"] = "before_commit"
    a, b = workers("a", env), workers("b", env)  # they start side by side
    await a.ready()
    await b.ready()

    reports = []
    cprs = []
    for i in range(N_REPORTS):
        data, cpr = personal_report(300 + i)
        cprs.append(cpr)
        reports.append(cloudevent(SCHOOL, data))

    clients = [redis_client(clean_redis) for _ in range(COPIES - 1)]
    client = clients[0]
    tokens = TokenStore(tmp_path / "tokens.toml")
    token = tokens.issue(SCHOOL)
    api = create_http_app(client, load_registry(default_registry_path()), tokens, max_bytes=1_000_000)
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=api), base_url="http://hub")

    async def by_redis(c: aredis.Redis, event: dict[str, Any]) -> None:
        await c.xadd(INTAKE, entry(event))

    async def by_http(event: dict[str, Any]) -> str:
        resp = await http.post("/v1/reports", json=event, headers={"Authorization": f"Bearer {token}"})
        assert resp.status_code == 202, resp.text
        return str(resp.json()["report_ref"])

    # The first copy of the first report: one worker reads it and stalls before its commit.
    (signal_dir / "arm").touch()
    await by_redis(clients[1], reports[0])
    first = await eventually(lambda: _first_stalled(a, b), timeout=20, what="a worker stalled on the first copy")
    other = b if first is a else a
    (signal_dir / "arm").unlink()

    # The other four copies at once, by three Redis clients and one HTTP client: the other
    # worker reads them while the first copy's transaction is still open, so both workers
    # store the same report at the same time.
    copies = [by_redis(c, reports[0]) for c in clients if c is not clients[1]] + [by_http(reports[0])]
    results = await asyncio.gather(*copies)

    async def other_has_read() -> bool:
        return await pending(client, INTAKE, streams.INTAKE_GROUP, other.consumer) > 0

    await eventually(other_has_read, timeout=20, what=f"worker {other.name} reading the other copies")
    (signal_dir / "release").touch()

    # The other reports: five copies each, all at once, by five clients, in random order.
    sends: list[Any] = []
    for event in reports[1:]:
        sends += [by_redis(c, event) for c in clients]
        sends.append(by_http(event))
    random.Random(4).shuffle(sends)
    results += await asyncio.gather(*sends)
    http_refs = {r for r in results if r is not None}

    async def finished() -> bool:
        return (
            len(await events(client, streams.receipts(SCHOOL))) >= N_REPORTS * COPIES
            and await pending(client, INTAKE, streams.INTAKE_GROUP) == 0
            and count_rows(database_url, Outbox, col(Outbox.sent_at).is_(None)) == 0
        )

    async def state() -> dict[str, Any]:
        return {
            "receipts": len(await events(client, streams.receipts(SCHOOL))),
            "pending": await client.xpending_range(INTAKE, streams.INTAKE_GROUP, min="-", max="+", count=100),
            "unsent": count_rows(database_url, Outbox, col(Outbox.sent_at).is_(None)),
            "entries": await client.xlen(INTAKE),
        }

    await eventually(finished, timeout=30, what="every copy processed and receipted", describe=state)

    receipts: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for receipt in await events(client, streams.receipts(SCHOOL)):
        receipts[receipt["data"]["report_event_id"]].append(receipt)
    assert set(receipts) == {e["id"] for e in reports}
    for event in reports:
        got = receipts[event["id"]]
        assert len(got) == COPIES
        assert all(r == got[0] for r in got), "copies of one report got different receipts"
        assert got[0]["data"]["status"] == "accepted"
        assert got[0]["data"]["report_ref"] == report_ref(SCHOOL, event["id"])
    assert http_refs == {report_ref(SCHOOL, e["id"]) for e in reports}

    assert count_rows(database_url, Report) == N_REPORTS
    assert count_rows(database_url, TriageItem) == N_REPORTS
    triage = [t for q in streams.Queue for t in await events(client, streams.triage(q))]
    assert len(triage) == N_REPORTS and once_each(t["data"]["report_ref"] for t in triage)
    assert once_each(n["data"]["report_ref"] for n in await events(client, streams.CHILDREN_NOTIFICATIONS))
    assert await events(client, streams.DEADLETTER) == []

    # Both processes took part: `first` held copy 1 in its transaction while `other` read the
    # other copies (awaited above); which of them finished which batch in the end may vary.
    assert first.stalled() == 1
    assert any(e.get("event") == "intake.batch" for e in log_events(first.log()))
    for worker in (a, b):
        assert_no_personal_data(worker.log(), cprs, must_contain=["hub.started"])
    await http.aclose()
    for c in clients:
        await c.aclose()
