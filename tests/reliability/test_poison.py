"""A poison entry: it fails every time it is processed.

It is dead-lettered after `max_deliveries` deliveries to `hub.deadletter.v1` (with its
reason, without personal data), the reporter gets a rejection receipt, and the entry is
acked. The good reports around it are not held up. Then DKE staff inspect it and replay it
with `hub deadletter list|show|replay` once the cause is fixed.
"""

from __future__ import annotations

import json
from typing import Any

import anyio
import pytest
import redis.asyncio as aredis
from sqlmodel import Session
from typer.testing import CliRunner, Result

from hub.bootstrap import running
from hub.config.settings import Settings
from hub.schemas import streams
from hub.services.envelope import ParsedReport
from hub.services.intake import IntakeService
from hub.store import repository as repo
from hub.store.db import make_engine
from hub.store.models import DeadLetterRecord
from tests.factories import CHILD_NAME, cloudevent, entry
from tests.reliability.conftest import LogCapture
from tests.reliability.helpers import (
    ADDRESS,
    SCHOOL,
    assert_no_personal_data,
    events,
    eventually,
    pending,
    personal_report,
)

MAX_DELIVERIES = 3
INTAKE = streams.intake(SCHOOL)


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


async def test_a_poison_entry_is_dead_lettered_after_max_deliveries_without_holding_up_others_and_replayed(
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
        client = aredis.Redis.from_url(hub.redis_url)
        pipe = client.pipeline(transaction=True)  # one batch: good, poison, later
        for event in (good, poison, later):
            pipe.xadd(INTAKE, entry(event))
        _, poison_id, _ = [i.decode() for i in await pipe.execute()]

        async def dead_lettered() -> list[dict[str, Any]]:
            return await events(client, streams.DEADLETTER)

        dead_letters = await eventually(dead_lettered, timeout=30, what="the poison entry dead-lettered")
        await eventually(lambda: _receipts(client, 3), timeout=20, what="receipts for all three reports")
        assert len(dead_letters) == 1, "good reports were dead-lettered with the poison entry"
        [dead] = dead_letters
        assert await pending(client, INTAKE, streams.INTAKE_GROUP) == 0  # acked, all of them

        # On the dead-letter stream: which entry, why, how often; no personal data.
        assert dead["data"]["entry_id"] == poison_id and dead["data"]["stream"] == INTAKE
        assert dead["data"]["reason"] == "max_deliveries"
        assert dead["data"]["deliveries"] == MAX_DELIVERIES + 1  # tried MAX_DELIVERIES times, then set aside
        assert_no_personal_data(json.dumps(dead), [poison_cpr])

        # The good reports were accepted before the poison was given up: not held up.
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
            [record] = repo.deadletters(s)
            assert record.reason == "max_deliveries" and record.entry_id == poison_id
            assert repo.decode_fields(record.payload, record.payload_encoding) == {
                k.encode(): v.encode() for k, v in entry(poison).items()
            }
            record_id = record.id
        assert record_id is not None

        # `hub deadletter list` and `show`: Danish labels, no personal data ...
        listed = await run_cli(settings, captured_logs, "list")
        assert listed.exit_code == 0, listed.output
        assert "max_deliveries" in listed.stdout and poison_id in listed.stdout and "Årsag" in listed.stdout
        shown = await run_cli(settings, captured_logs, "show", str(record_id))
        assert shown.exit_code == 0, shown.output
        assert "Tilsidesat besked" in shown.stdout and "--payload" in shown.stdout
        for text in (listed.stdout, shown.stdout, listed.stderr, shown.stderr):
            assert_no_personal_data(text or "-", [poison_cpr])
        as_json = json.loads((await run_cli(settings, captured_logs, "show", str(record_id), "--json")).stdout)
        assert "payload" not in as_json and as_json["reason"] == "max_deliveries"
        # ... unless asked for explicitly.
        full = await run_cli(settings, captured_logs, "show", str(record_id), "--payload")
        assert full.exit_code == 0 and CHILD_NAME in full.stdout and poison_cpr in full.stdout
        assert_no_personal_data(full.stderr, [poison_cpr], must_contain=["deadletter.payload_shown"])

        # The bug is fixed; the entry is replayed as it arrived, and now processed.
        monkeypatch.setattr(IntakeService, "_accept", real_accept)
        replayed = await run_cli(settings, captured_logs, "replay", str(record_id))
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
        again = await run_cli(settings, captured_logs, "replay", str(record_id))
        assert again.exit_code == 1 and "--again" in (again.stderr or "")
        engine.dispose()
        await client.aclose()

    assert_no_personal_data(
        captured_logs.text,
        [good_cpr, poison_cpr, later_cpr],
        must_contain=["entry.failed", "intake.batch"],
    )


async def _receipts(client: aredis.Redis, n: int) -> bool:
    return len(await events(client, streams.receipts(SCHOOL))) >= n
