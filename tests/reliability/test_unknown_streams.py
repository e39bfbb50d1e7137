"""Entries on an intake stream no configured source writes to (a mistyped source id, a
homoglyph) are answered too: dead-lettered with reason `unknown_source`, acked, logged and
counted; no receipt (the hub creates no stream under a name someone else chose)."""

from __future__ import annotations

import json
from typing import Any

import redis.asyncio as aredis

from hub.bootstrap import running
from hub.config.settings import Settings
from hub.runtime.transport import redis_client
from hub.runtime.worker.unknown import stream_label
from hub.schemas import streams
from tests.factories import cloudevent, entry, report_data
from tests.logcapture import LogCapture
from tests.redis_cluster import ON_CLUSTER_TOO
from tests.reliability.helpers import SCHOOL, events, eventually, log_events, pending

MISTYPED = "hub.intake.herstedlund-skol.v1"  # a well-formed source id, just not a configured one
HOMOGLYPH = "hub.intake.herstedlund-skоle.v1"  # a Cyrillic о: logged by a hash, never as written

pytestmark = ON_CLUSTER_TOO  # on a cluster the discovery SCANs every master


async def test_entries_on_unknown_intake_streams_are_dead_lettered_acked_logged_and_counted(
    settings: Settings, captured_logs: LogCapture
) -> None:
    settings = settings.model_copy(update={"reclaim_idle_ms": 200, "reclaim_interval_s": 0.1})
    client = redis_client(settings.redis_url or "")
    before = await client.xadd(MISTYPED, entry(cloudevent("herstedlund-skol", report_data())))  # before the hub ran
    async with running(settings) as hub:
        after = await client.xadd(MISTYPED, {"event": "[" * 10_000})  # while it runs; and garbage
        odd = await client.xadd(HOMOGLYPH, {"event": "{}", "x": "\x00"})
        good = cloudevent(SCHOOL, report_data())
        await client.xadd(streams.intake(SCHOOL), entry(good))

        async def all_dead() -> list[dict[str, Any]] | None:
            got = await events(client, streams.DEADLETTER)
            return got if len(got) >= 3 else None

        dead = await eventually(all_dead, timeout=10, what="the unknown streams' entries dead-lettered")
        # Entry ids are per stream: `after` and `odd` may share one when written in the same millisecond.
        records = {(d["data"]["stream"], d["data"]["entry_id"]): d["data"] for d in dead}
        expected = {(MISTYPED, before.decode()), (MISTYPED, after.decode()), (HOMOGLYPH, odd.decode())}
        assert set(records) == expected  # each record names its stream (printable text) and entry
        assert {d["reason"] for d in records.values()} == {"unknown_source"}
        for stream in (MISTYPED, HOMOGLYPH):
            await eventually(lambda stream=stream: _none_pending(client, stream), timeout=5, what=f"{stream} acked")
        # No receipts stream was made for them; the configured source's report went through.
        assert not await client.exists(streams.receipts("herstedlund-skol"))
        receipts = await eventually(
            lambda: events(client, streams.receipts(SCHOOL)), timeout=10, what="the good report's receipt"
        )
        assert [r["data"]["status"] for r in receipts] == ["accepted"]
        assert hub.unknown_streams is not None
        assert hub.unknown_streams.counts == {MISTYPED: 2, stream_label(HOMOGLYPH.encode()): 1}
    await client.aclose()

    warned = [e for e in log_events(captured_logs.text) if e.get("event") == "intake.unknown_stream"]
    assert {e["stream"] for e in warned} == {MISTYPED, stream_label(HOMOGLYPH.encode())}
    assert stream_label(HOMOGLYPH.encode()).startswith("sha256:")
    assert "herstedlund-sk\u043ele" not in captured_logs.text and "\\u043e" not in captured_logs.text
    assert json.dumps(warned)  # plain JSON lines


async def _none_pending(client: aredis.Redis, stream: str) -> bool:
    return await pending(client, stream, streams.INTAKE_GROUP) == 0
