"""The urgent watch's head start: the intake group holds back what the watch stores until the
watch has had time to store it, and hands it over with its next read; nothing else is held
back (`hub.runtime.worker.head_start`)."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Any

from hub.runtime.worker import StreamWorker, WorkerSettings
from hub.runtime.worker.head_start import HeadStart
from hub.schemas.entry import Entry
from hub.services.pipeline import Outcome
from tests.fakes import FakeRedis, Store

SCHOOL, POLICE = "hub.intake.school.v1", "hub.intake.police.v1"


def entry(stream: str, entry_id: str, body: bytes) -> Entry:
    return Entry(stream, entry_id, {b"event": body})


def is_urgent(e: Entry) -> bool:
    return e.fields[b"event"] == b"urgent"


def ids(batches: list[tuple[str, list[Entry]]]) -> list[tuple[str, list[str]]]:
    return [(stream, [e.entry_id for e in entries]) for stream, entries in batches]


def test_a_fresh_entry_of_the_watch_waits_for_the_first_read_after_its_head_start() -> None:
    head = HeadStart(is_urgent, 500)
    fresh, old = entry(POLICE, "999900-0", b"urgent"), entry(POLICE, "999000-0", b"urgent")
    bulk = entry(SCHOOL, "999900-1", b"ok")

    first = head.admit([(SCHOOL, [bulk]), (POLICE, [old, fresh])], now_ms=1_000_000)
    assert ids(first) == [(SCHOOL, ["999900-1"]), (POLICE, ["999000-0"])]  # 1 s old: the watch had its time
    assert head.admit([], now_ms=1_000_300) == []  # 400 ms old: still held
    later = entry(POLICE, "1000350-0", b"ok")
    # 500 ms old: first in the next read's batch of its stream, which it arrived before
    assert ids(head.admit([(POLICE, [later])], now_ms=1_000_400)) == [(POLICE, ["999900-0", "1000350-0"])]
    assert head.release() == []


def test_what_is_held_back_goes_at_once_when_the_worker_stops() -> None:
    head = HeadStart(is_urgent, 500)
    ahead = entry(POLICE, "1005000-0", b"urgent")  # Redis's clock ahead of this machine's: held, not lost

    assert head.admit([(POLICE, [ahead])], now_ms=1_000_000) == []
    assert ids(head.release()) == [(POLICE, ["1005000-0"])]
    assert head.release() == []


class Timed(Store):
    """Records when each entry's transaction began."""

    def __init__(self) -> None:
        super().__init__()
        self.began: dict[str, float] = {}

    def process_many(self, batches: list[tuple[str, list[Entry]]], now: datetime, **options: Any) -> Outcome:
        for _, es in batches:
            self.began.update(dict.fromkeys((e.entry_id for e in es), time.monotonic()))
        return super().process_many(batches, now, **options)


def intake_worker(store: Store, client: FakeRedis, head_start_ms: int) -> StreamWorker:
    settings = WorkerSettings(
        name="intake", group="g", consumer="c", max_deliveries=5, coalesce=True, watch_head_start_ms=head_start_ms
    )
    return StreamWorker(settings, store, client, watched=is_urgent)  # type: ignore[arg-type]


async def test_the_intake_stores_the_rest_at_once_and_the_watchs_entry_with_a_read_after_its_head_start() -> None:
    store, client = Timed(), FakeRedis()
    intake = intake_worker(store, client, 300)
    now_ms = int(time.time() * 1000)
    started = time.monotonic()

    await intake.take([(SCHOOL, [entry(SCHOOL, f"{now_ms}-0", b"ok"), entry(SCHOOL, f"{now_ms}-1", b"urgent")])])
    while time.monotonic() - started < 0.6:  # empty reads, as a reader's timeouts hand over
        await intake.take([])
        await asyncio.sleep(0.05)

    await intake.finish()
    assert set(store.began) == {f"{now_ms}-0", f"{now_ms}-1"}
    assert store.began[f"{now_ms}-0"] - started < 0.2  # the report the watch leaves alone: at once
    assert store.began[f"{now_ms}-1"] - started >= 0.25  # the watch's: after its head start
    assert sorted(i for _, i in client.acked) == [f"{now_ms}-0", f"{now_ms}-1"]


async def test_a_stopping_intake_stores_what_it_held_back() -> None:
    store, client = Timed(), FakeRedis()
    intake = intake_worker(store, client, 10_000)
    now_ms = int(time.time() * 1000)

    await intake.take([(SCHOOL, [entry(SCHOOL, f"{now_ms}-0", b"urgent")])])
    await intake.finish()

    assert client.acked == [(SCHOOL, f"{now_ms}-0")]
