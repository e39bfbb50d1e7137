"""What a stream worker is made of: its settings, the pipeline it stores with, where its
events go."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from hub.schemas.entry import Entry
from hub.services.pipeline import Outcome
from hub.store.bulk import OutboxRow

PublishFn = Callable[[list[OutboxRow]], Awaitable[None]]


class Pipeline(Protocol):
    """What a worker stores its batches with (`hub.services.pipeline.BatchPipeline`)."""

    def process(self, stream: str, entries: list[Entry], now: datetime, *, look_first: bool = True) -> Outcome: ...

    def process_many(
        self, batches: list[tuple[str, list[Entry]]], now: datetime, *, look_first: bool = True
    ) -> Outcome: ...

    def give_up(self, stream: str, entries: list[Entry], now: datetime, reason: str) -> Outcome: ...


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    """How one consumer group's worker runs."""

    name: str  # in log event names: intake, decisions, urgent_watch
    group: str
    consumer: str
    max_deliveries: int
    # `dispatch` reads a stream's next batch while earlier ones are still being stored (so
    # transactions fill up), at most this many per stream: memory stays bounded, the rest
    # waits in Redis.
    batches_in_flight: int = 1
    coalesce: bool = False  # batches of several streams in one transaction (`Coalescer`)
    coalesce_concurrency: int = 1
    coalesce_max_entries: int = 500
    # A `priority` worker's batches (triage decisions: someone waits for each) hold bulk
    # transactions back while they are stored (`Gate`).
    priority: bool = False
    # The first attempt looks up the tracking rows of entries another lane usually stores
    # first (`Steps.likely_done`); the urgent watch, usually first, does not.
    look_first: bool = True
    # The urgent lane stores on the event loop's thread: for a process that runs the watch
    # alone, where each hand-over to a worker thread and back would wait for a core.
    urgent_on_loop: bool = False
    # The group is read with NOACK (the urgent watch): nothing waits in its pending list, and an
    # XACK would be a command that finds nothing.
    noack: bool = False
    # The intake group: what the urgent watch stores waits until the watch has had this long
    # since the entry arrived (`hub.runtime.worker.head_start`).
    watch_head_start_ms: int = 0


@dataclass(frozen=True, slots=True)
class Output:
    """Where a committed batch's events go: published at once (`publish`), or the relay is
    woken (`wake_relay`) for rows left to it."""

    publish: PublishFn | None = None
    wake_relay: Callable[[], None] = field(default=lambda: None)
