"""A poison entry: it fails every time it is processed.

The batch it is in is split until it is alone; then it is answered at once: dead-lettered to
`hub.deadletter.v1` with reason `processing_failed` (without personal data), the reporter gets
a rejection receipt, and the entry is acked. The good reports around it are stored in the same
round, on the fresh path and on the reclaim path (a dead consumer's pending list). An entry
that keeps coming back without failing (a process killed while storing it, again and again) is
dead-lettered after `max_deliveries` deliveries, whatever it holds. Then DKE staff inspect it
and replay it with `hub deadletter list|show|replay` once the cause is fixed.
"""

from __future__ import annotations

import json
import time
from typing import Any

import anyio
import pytest
import redis.asyncio as aredis
from sqlmodel import Session, select
from typer.testing import CliRunner, Result

from hub.bootstrap import running
from hub.config.settings import Settings
from hub.runtime.transport import ensure_group, redis_client
from hub.schemas import streams
from hub.services.envelope import ParsedReport
from hub.services.intake import IntakeService
from hub.store.audit_verify import verify
from hub.store.db import make_engine
from hub.store.deadletters import decode_fields
from hub.store.models import DeadLetterRecord
from tests.factories import CHILD_NAME, cloudevent, entry, report_data
from tests.logcapture import LogCapture
from tests.redis_cluster import ON_CLUSTER_TOO
from tests.reliability.helpers import (
    ADDRESS,
    SCHOOL,
    assert_no_personal_data,
    events,
    eventually,
    log_events,
    pending,
    personal_report,
    xadd_at_once,
)

MAX_DELIVERIES = 3
INTAKE = streams.intake(SCHOOL)

pytestmark = ON_CLUSTER_TOO  # the same guarantees on a Redis Cluster


def cli(settings: Settings, *args: str) -> Result:
    from hub.entrypoints.cli import app  # `hub deadletter` is mounted by hub.entrypoints.cli

    env = {
        "HUB_REDIS_URL": settings.redis_url or "",
        "HUB_DATABASE_URL": settings.database_url or "",
        "HUB_DATA_DIR": str(settings.data_dir),
        "HUB_LOG_JSON": "true",
        "HUB_LOG_LEVEL": "INFO",
    }
    return CliRunner().invoke(app, ["deadletter", *args], env=env)


async def run_cli(settings: Settings, logs: LogCapture, *args: str) -> Result:
    # In a thread: the hub runs on this event loop and must keep going while the command runs.
    result = await anyio.to_thread.run_sync(lambda: cli(settings, *args))
    logs.attach()  # the command configured logging for itself
    return result


async def test_a_poison_entry_is_answered_at_once_without_holding_up_others_and_replayed(
    settings: Settings, captured_logs: LogCapture, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings.model_copy(
        update={"max_deliveries": MAX_DELIVERIES, "reclaim_idle_ms": 200, "reclaim_interval_s": 0.1}
    )
    good_data, good_cpr = personal_report(800)
    poison_data, poison_cpr = personal_report(801)
    later_data, later_cpr = personal_report(802)
    good, later = cloudevent(SCHOOL, good_data), cloudevent(SCHOOL, later_data)
    poison = cloudevent(SCHOOL, poison_data, event_id="poison-0001")

    # A bug that hits one report every time, with personal data in its message (as a driver's
    # or a library's error text may have): it must not reach a log line.
    real_accept = IntakeService._accept

    def buggy_accept(self: IntakeService, *args: Any) -> Any:
        parsed = next(a for a in args if isinstance(a, ParsedReport))
        if parsed.event_id.startswith("poison-"):
            raise RuntimeError(f"cannot handle {CHILD_NAME}, {poison_cpr}, {ADDRESS}")
        return real_accept(self, *args)

    monkeypatch.setattr(IntakeService, "_accept", buggy_accept)

    async with running(settings) as hub:
        client = redis_client(hub.redis_url)
        _, poison_id, _ = await xadd_at_once(client, INTAKE, [entry(e) for e in (good, poison, later)])  # one batch

        async def dead_lettered() -> list[dict[str, Any]]:
            return await events(client, streams.DEADLETTER)

        dead_letters = await eventually(dead_lettered, timeout=30, what="the poison entry dead-lettered")
        await eventually(lambda: _receipts(client, 3), timeout=20, what="receipts for all three reports")
        assert len(dead_letters) == 1, "good reports were dead-lettered with the poison entry"
        [dead] = dead_letters
        assert await pending(client, INTAKE, streams.INTAKE_GROUP) == 0  # acked, all of them

        # On the dead-letter stream: which entry, why, how often; no personal data.
        assert dead["data"]["entry_id"] == poison_id and dead["data"]["stream"] == INTAKE
        assert dead["data"]["reason"] == "processing_failed"
        assert dead["data"]["deliveries"] == 1  # answered on its first delivery, not after MAX_DELIVERIES
        assert_no_personal_data(json.dumps(dead), [poison_cpr])

        # The good reports were accepted before the poison was set aside: not held up.
        receipts = {r["data"]["report_event_id"]: r for r in await events(client, streams.receipts(SCHOOL))}
        assert receipts[good["id"]]["data"]["status"] == "accepted"
        assert receipts[later["id"]]["data"]["status"] == "accepted"
        assert receipts[later["id"]]["time"] < dead["time"]
        rejected = receipts[poison["id"]]  # the sender can tell which report it was
        assert rejected["data"]["status"] == "rejected" and rejected["data"]["code"] == "processing_failed"
        assert_no_personal_data(json.dumps(rejected), [poison_cpr])

        # The database keeps the entry whole, for inspection and replay.
        engine = make_engine(settings.database_url or "")
        with Session(engine) as s:
            [record] = s.exec(select(DeadLetterRecord)).all()
            assert record.reason == "processing_failed" and record.entry_id == poison_id
            assert decode_fields(record.payload, record.payload_encoding) == {
                k.encode(): v.encode() for k, v in entry(poison).items()
            }
            record_id = record.id
        assert record_id is not None

        # `hub deadletter list` and `show`: Danish labels, no personal data ...
        listed = await run_cli(settings, captured_logs, "list")
        assert listed.exit_code == 0, listed.output
        assert "processing_failed" in listed.stdout and poison_id in listed.stdout and "Årsag" in listed.stdout
        shown = await run_cli(settings, captured_logs, "show", str(record_id))
        assert shown.exit_code == 0, shown.output
        assert "Tilsidesat besked" in shown.stdout and "--payload" in shown.stdout
        for text in (listed.stdout, shown.stdout, listed.stderr, shown.stderr):
            assert_no_personal_data(text or "-", [poison_cpr])
        as_json = json.loads((await run_cli(settings, captured_logs, "show", str(record_id), "--json")).stdout)
        assert "payload" not in as_json and as_json["reason"] == "processing_failed"
        # ... unless asked for explicitly, saying who and why (Danish refusal otherwise) ...
        refused = await run_cli(settings, captured_logs, "show", str(record_id), "--payload", "--by", "MH")
        assert refused.exit_code == 2 and "Angiv --reason" in (refused.stderr or "")
        assert poison_cpr not in refused.stdout
        refused = await run_cli(settings, captured_logs, "show", str(record_id), "--payload", "--reason", "fejl 12")
        assert refused.exit_code == 2 and "Angiv --by" in (refused.stderr or "")
        full = await run_cli(
            settings, captured_logs, "show", str(record_id), "--payload", "--by", "MH", "--reason", "Fejlsag 4711"
        )
        assert full.exit_code == 0 and CHILD_NAME in full.stdout and poison_cpr in full.stdout
        assert_no_personal_data(full.stderr, [poison_cpr], must_contain=["deadletter.payload_shown"])

        # The bug is fixed; the entry is replayed as it arrived, and now processed.
        monkeypatch.setattr(IntakeService, "_accept", real_accept)
        refused = await run_cli(settings, captured_logs, "replay", str(record_id), "--by", "MH")
        assert refused.exit_code == 2 and "Angiv --reason" in (refused.stderr or "")
        replayed = await run_cli(settings, captured_logs, "replay", str(record_id), "--by", "MH", "--reason", "rettet")
        assert replayed.exit_code == 0, replayed.output
        assert "genafspillet" in replayed.stdout and "deadletter.replayed" in replayed.stderr

        async def accepted() -> bool:
            got = await events(client, streams.receipts(SCHOOL))
            return any(r["data"]["report_event_id"] == poison["id"] for r in got)

        await eventually(accepted, timeout=20, what="the replayed report accepted")
        with Session(engine) as s:
            record = s.get(DeadLetterRecord, record_id)
            assert record is not None and record.replay_count == 1 and record.replayed_at is not None
            new_id = record.replay_entry_id
        assert new_id is not None and new_id != poison_id
        assert (await client.xrange(INTAKE, min=new_id, max=new_id))[0][1] == {
            k.encode(): v.encode() for k, v in entry(poison).items()
        }
        # A second replay needs --again.
        again = await run_cli(settings, captured_logs, "replay", str(record_id), "--by", "MH", "--reason", "igen")
        assert again.exit_code == 1 and "--again" in (again.stderr or "")
        # Who saw the content and who replayed it, when and why: listed, and in the audit chain.
        audit = await run_cli(settings, captured_logs, "audit", str(record_id))
        assert audit.exit_code == 0, audit.output
        lines = audit.stdout.splitlines()
        assert len(lines) == 2, audit.stdout  # the refusals and the refused second replay left nothing
        assert "MH (konto " in lines[0] and "genafspillede besked" in lines[0] and new_id in lines[0]
        assert lines[0].endswith("Begrundelse: rettet")
        assert "så indholdet" in lines[1] and lines[1].endswith("Begrundelse: Fejlsag 4711")
        assert_no_personal_data(audit.stdout, [poison_cpr])
        verdict = verify(engine)
        assert verdict.ok and verdict.records >= 2, verdict.problem
        engine.dispose()
        await client.aclose()

    assert_no_personal_data(
        captured_logs.text,
        [good_cpr, poison_cpr, later_cpr],
        must_contain=["entry.failed", "intake.batch"],
    )


async def _receipts(client: aredis.Redis, n: int) -> bool:
    return len(await events(client, streams.receipts(SCHOOL))) >= n


DEAD_CONSUMER = "killed-9"  # read the entries, then died before storing any


async def _left_pending_by_a_dead_consumer(client: aredis.Redis, fields: list[dict[str, Any]]) -> list[str]:
    """Write the entries and leave them in a dead consumer's pending list (what kill -9 leaves)."""
    await ensure_group(client, INTAKE, streams.INTAKE_GROUP)
    ids = await xadd_at_once(client, INTAKE, fields)
    await client.xreadgroup(streams.INTAKE_GROUP, DEAD_CONSUMER, {INTAKE: ">"}, count=len(ids))
    assert await pending(client, INTAKE, streams.INTAKE_GROUP, DEAD_CONSUMER) == len(ids)
    return ids


async def test_a_poison_entry_in_a_dead_consumers_pending_list_costs_only_itself(
    settings: Settings, captured_logs: LogCapture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reclaimer claims the dead consumer's entries; the batch fails on the poison entry, is
    split until it is alone, and every good report is stored in the same round while the poison
    one is dead-lettered (`processing_failed`) and answered: all within seconds, nothing left
    pending."""
    settings = settings.model_copy(
        update={"max_deliveries": MAX_DELIVERIES, "reclaim_idle_ms": 200, "reclaim_interval_s": 0.1, "batch_size": 100}
    )
    goods = [cloudevent(SCHOOL, report_data()) for _ in range(50)]
    poison = cloudevent(SCHOOL, report_data(), event_id="poison-0002")
    real_accept = IntakeService._accept

    def buggy_accept(self: IntakeService, *args: Any) -> Any:
        if next(a for a in args if isinstance(a, ParsedReport)).event_id.startswith("poison-"):
            raise RuntimeError("cannot handle this report")
        return real_accept(self, *args)

    monkeypatch.setattr(IntakeService, "_accept", buggy_accept)
    client = redis_client(settings.redis_url or "")
    ids = await _left_pending_by_a_dead_consumer(client, [entry(e) for e in [*goods[:20], poison, *goods[20:]]])
    poison_id = ids[20]

    started = time.monotonic()
    async with running(settings):
        await eventually(lambda: _receipts(client, 51), timeout=15, what="a receipt for every report")
        answered_in = time.monotonic() - started
        receipts = {r["data"]["report_event_id"]: r["data"] for r in await events(client, streams.receipts(SCHOOL))}
        assert len(receipts) == 51
        assert all(receipts[g["id"]]["status"] == "accepted" for g in goods)  # every good report stored
        assert receipts[poison["id"]]["status"] == "rejected" and receipts[poison["id"]]["code"] == "processing_failed"
        [dead] = await events(client, streams.DEADLETTER)
        assert dead["data"]["entry_id"] == poison_id and dead["data"]["reason"] == "processing_failed"
        # Delivered to the dead consumer, then claimed once: answered in the first round, not
        # after MAX_DELIVERIES rounds.
        assert dead["data"]["deliveries"] == 2
        await eventually(
            lambda: _none_pending(client), timeout=5, what="every entry acked, the dead consumer's included"
        )
    await client.aclose()
    assert answered_in < 10, answered_in
    claimed = [e for e in log_events(captured_logs.text) if e.get("event") == "reclaim.done"]
    assert [e["claimed"] for e in claimed] == [51]  # one round claimed them all; none came back


async def test_an_entry_that_keeps_coming_back_is_dead_lettered_after_max_deliveries_whatever_it_holds(
    settings: Settings,
) -> None:
    """Entries a process died storing, again and again (delivered more than `max_deliveries`
    times), are set aside without being processed once more: also one that nothing can parse
    (100,000 `[`, which makes Python's own JSON parser recurse out of its depth)."""
    settings = settings.model_copy(
        update={"max_deliveries": MAX_DELIVERIES, "reclaim_idle_ms": 200, "reclaim_interval_s": 0.1}
    )
    data, cpr = personal_report(803)
    report = cloudevent(SCHOOL, data, event_id="again-0001")
    deep = {"event": "[" * 100_000}
    client = redis_client(settings.redis_url or "")
    ids = await _left_pending_by_a_dead_consumer(client, [entry(report), deep])
    # Delivered MAX_DELIVERIES times so far (each time to a process that died); the next is one too many.
    await client.xclaim(INTAKE, streams.INTAKE_GROUP, DEAD_CONSUMER, 0, ids, retrycount=MAX_DELIVERIES, justid=True)
    async with running(settings) as hub:
        dead = await eventually(lambda: _dead_letters(client, 2), timeout=15, what="both entries dead-lettered")
        assert {d["data"]["entry_id"]: d["data"]["reason"] for d in dead} == dict.fromkeys(ids, "max_deliveries")
        assert all(d["data"]["deliveries"] == MAX_DELIVERIES + 1 for d in dead)  # tried MAX_DELIVERIES times
        assert_no_personal_data(json.dumps(dead), [cpr])
        receipts = await eventually(lambda: _receipts_list(client, 2), timeout=10, what="both answered")
        assert all(r["data"]["status"] == "rejected" and r["data"]["code"] == "processing_failed" for r in receipts)
        # The sender can tell which report it was, where it has a readable id.
        assert sorted(str(r["data"].get("report_event_id")) for r in receipts) == ["None", report["id"]]
        assert_no_personal_data(json.dumps(receipts), [cpr])
        await eventually(lambda: _none_pending(client), timeout=5, what="both acked")
        engine = make_engine(settings.database_url or "")
        with Session(engine) as s:
            records = {r.entry_id: r for r in s.exec(select(DeadLetterRecord))}
        engine.dispose()
        assert decode_fields(records[ids[1]].payload, records[ids[1]].payload_encoding) == {
            b"event": b"[" * 100_000
        }  # kept whole, for inspection
        assert records[ids[0]].reason == "max_deliveries"
        assert hub.engine is not None
    await client.aclose()


async def _dead_letters(client: aredis.Redis, n: int) -> list[dict[str, Any]] | None:
    got = await events(client, streams.DEADLETTER)
    return got if len(got) >= n else None


async def _receipts_list(client: aredis.Redis, n: int) -> list[dict[str, Any]] | None:
    got = await events(client, streams.receipts(SCHOOL))
    return got if len(got) >= n else None


async def _none_pending(client: aredis.Redis) -> bool:
    return await pending(client, INTAKE, streams.INTAKE_GROUP) == 0
