"""A worker process killed with SIGKILL in the middle of a batch: nothing lost, nothing twice.

Worker A reads a batch of reports and a batch of decisions and is killed while it commits
them: before the commit (the transaction dies with it) or after the commit but before the
XACK (the effect is stored; the entries are still pending). Worker B, started afterwards,
claims A's pending entries (XAUTOCLAIM after `reclaim_idle_ms`) and finishes the work. In the
end each report is stored once, queued once, receipted once, and each referral issued once.
Events A committed but never published are B's relay's once `publish_grace_s` has passed.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aredis
from sqlmodel import col

from hub.runtime.transport import redis_client
from hub.schemas import streams
from hub.schemas.events import REPORT_ACCEPTED
from hub.schemas.reporter import REPORT_ACKNOWLEDGED
from hub.store.models import Decision, Disclosure, Outbox, ProcessedEntry, Report, TriageItem
from tests.factories import cloudevent, decision, entry
from tests.redis_cluster import ON_CLUSTER_TOO
from tests.reliability.helpers import (
    SCHOOL,
    assert_no_personal_data,
    count_rows,
    events,
    eventually,
    log_events,
    once_each,
    pending,
    personal_report,
    worker_env,
    xadd_at_once,
)

N_BEFORE, N_DURING = 8, 8  # reports processed before the crash, and in the batch it interrupts
RECLAIM_IDLE_MS, RECLAIM_INTERVAL_S, PUBLISH_GRACE_S = 1000, 0.2, 1.0
INTAKE = streams.intake(SCHOOL)
REFERRALS = streams.referrals("ssp", "politi-vestegn")

pytestmark = ON_CLUSTER_TOO  # the same guarantees on a Redis Cluster


async def triage_events(client: aredis.Redis) -> list[dict[str, Any]]:
    return [e for q in streams.Queue for e in await events(client, streams.triage(q))]


@pytest.mark.parametrize("stall", ["before_commit", "after_commit"])
async def test_a_worker_killed_mid_batch_loses_nothing_and_duplicates_nothing(
    stall: str, workers: Any, clean_redis: str, database_url: str, tmp_path: Path, signal_dir: Path
) -> None:
    env = worker_env(
        clean_redis,
        database_url,
        tmp_path / "data",
        reclaim_idle_ms=RECLAIM_IDLE_MS,
        reclaim_interval_s=RECLAIM_INTERVAL_S,
        publish_grace_s=PUBLISH_GRACE_S,
    )
    # A relays only when its own commits wake it, so what it commits while stalled is left for
    # B to relay: every stream count below is exact, not "at least".
    a = await workers("a", {**env, "HUB_TEST_STALL": stall, "HUB_RELAY_INTERVAL_S": "3600"}).ready()
    client = redis_client(clean_redis)
    cprs: list[str] = []

    def reports(first_serial: int, n: int) -> list[dict[str, Any]]:
        out = []
        for serial in range(first_serial, first_serial + n):
            data, cpr = personal_report(serial)
            cprs.append(cpr)
            out.append(cloudevent(SCHOOL, data))
        return out

    before = reports(100, N_BEFORE)
    for event in before:
        await client.xadd(INTAKE, entry(event))

    async def accepted() -> list[dict[str, Any]]:
        """The hub's receipts for the reports (the stream also carries DKE's kvitteringer)."""
        return [e for e in await events(client, streams.receipts(SCHOOL)) if e["type"] == REPORT_ACCEPTED]

    async def receipts(n: int) -> list[dict[str, Any]] | None:
        got = await accepted()
        return got if len(got) >= n else None

    first = await eventually(lambda: receipts(N_BEFORE), timeout=20, what="receipts before the crash")
    refs = [r["data"]["report_ref"] for r in first]
    # A marks what it published within `MARK_WITHIN_S`; a crash before that would only send those
    # rows again after the grace (at least once), and the counts below are exact.
    async def marked() -> bool:
        return count_rows(database_url, Outbox, col(Outbox.sent_at).is_(None)) == 0

    await eventually(marked, timeout=5, what="A marking what it published")

    async def read_all(stream: str) -> bool:
        last = (await client.xinfo_stream(stream))["last-generated-id"]
        return all(g["last-delivered-id"] == last for g in await client.xinfo_groups(stream))

    # The batches the kill interrupts, each written at once so that A reads it as one batch.
    # First new reports: A stalls in their commit. Then decisions on the first reports: A reads
    # them too, and is in (PostgreSQL) or waiting for (SQLite: one writer) their transaction.
    (signal_dir / "arm").touch()
    during = reports(200, N_DURING)
    await xadd_at_once(client, INTAKE, [entry(event) for event in during])

    async def stalled_on_reports() -> bool:
        return a.stalled() >= 1 and await read_all(INTAKE)

    await eventually(stalled_on_reports, timeout=20, what="worker A stalled in the commit of the reports")
    await xadd_at_once(client, streams.DECISIONS, [entry(decision(ref, [("ssp", "politi-vestegn")])) for ref in refs])
    await eventually(lambda: read_all(streams.DECISIONS), timeout=20, what="worker A reading the decisions")
    held = (
        await pending(client, INTAKE, streams.INTAKE_GROUP, a.consumer),
        await pending(client, streams.DECISIONS, streams.DECISIONS_GROUP, a.consumer),
    )
    a.kill()

    b = await workers("b", env).ready()
    started = time.monotonic()
    total = N_BEFORE + N_DURING

    async def finished() -> bool:
        left = await pending(client, INTAKE, streams.INTAKE_GROUP) + await pending(
            client, streams.DECISIONS, streams.DECISIONS_GROUP
        )
        return (
            left == 0
            and len(await accepted()) >= total
            and len(await events(client, REFERRALS)) >= N_BEFORE
            and count_rows(database_url, Outbox, col(Outbox.sent_at).is_(None)) == 0
        )

    async def state() -> dict[str, Any]:
        return {
            "receipts": len(await accepted()),
            "referrals": len(await events(client, REFERRALS)),
            "pending": await pending(client, INTAKE, streams.INTAKE_GROUP),
            "reports": count_rows(database_url, Report),
        }

    await eventually(finished, timeout=30, what="B finishing A's batches", describe=state)
    elapsed = time.monotonic() - started

    # Exactly once in effect, on the streams: one receipt per report, one triage entry, each
    # referral once ...
    receipts_out = await accepted()
    assert len(receipts_out) == total
    assert {r["data"]["report_event_id"] for r in receipts_out} == {e["id"] for e in before + during}
    assert once_each(r["id"] for r in receipts_out)
    triage = await triage_events(client)
    assert len(triage) == total and once_each(t["data"]["report_ref"] for t in triage)
    referrals = await events(client, REFERRALS)
    assert sorted(r["data"]["report_ref"] for r in referrals) == sorted(refs)
    # ... and each decided report's kvittering to the teacher once (sent with its first decision).
    kvitteringer = [e for e in await events(client, streams.receipts(SCHOOL)) if e["type"] == REPORT_ACKNOWLEDGED]
    assert sorted(k["data"]["report_ref"] for k in kvitteringer) == sorted(refs)
    assert once_each(n["data"]["report_ref"] for n in await events(client, streams.CHILDREN_NOTIFICATIONS))
    assert await events(client, streams.DEADLETTER) == []

    # ... and in the database.
    assert count_rows(database_url, Report) == total
    assert count_rows(database_url, TriageItem) == total
    assert count_rows(database_url, Decision) == N_BEFORE
    assert count_rows(database_url, Disclosure, Disclosure.kind == "referral") == N_BEFORE
    assert count_rows(database_url, ProcessedEntry) == total + N_BEFORE

    # The kill landed mid-batch: A held both batches, unacknowledged; B claimed them from the dead
    # consumer, within the configured idle time and interval, and B's relay sent what A had
    # committed, within the grace (plus processing on a busy machine).
    assert held == (N_DURING, N_BEFORE), f"A held {held} entries pending when it died"
    claimed = sum(e.get("claimed", 0) for e in log_events(b.log()) if e.get("event") == "reclaim.done")
    assert claimed >= N_DURING + N_BEFORE, "B did not claim A's pending entries"
    assert elapsed < max(RECLAIM_IDLE_MS / 1000, PUBLISH_GRACE_S) + RECLAIM_INTERVAL_S + 5, elapsed

    for worker in (a, b):
        assert_no_personal_data(worker.log(), cprs, must_contain=["hub.started"])
    assert "intake.batch" in a.log() and "reclaim.done" in b.log()
    await client.aclose()
