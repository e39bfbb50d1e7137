"""What the workers observe for the metrics (`hub.metrics`): a batch's duration and its oldest
entry's age (one observation each per batch, never per entry), and the urgent lane's alert
latency (from a § 141 report's stream entry time to the commit of its police alert).

A stream entry id's first part is the Redis server's clock in milliseconds when the entry was
added: the latencies need no timestamp of the sender's, and are as good as the two clocks agree
(one host, or NTP).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import orjson

from hub import metrics
from hub.schemas import streams
from hub.schemas.entry import Entry
from hub.services.envelope import event_id_of, report_ref
from hub.store.bulk import OutboxRow


def entry_seconds(entry_id: str) -> float:
    """The Unix time an entry was added, from its id (`<ms>-<seq>`; 0 if it has none)."""
    ms, _, _ = entry_id.partition("-")
    return int(ms) / 1000 if ms.isdigit() else 0.0


def batch_done(worker: str, urgent: bool, entries: Sequence[Entry], started: float) -> None:
    """A batch stored, published and acked: `started` is its `time.perf_counter()` at the start."""
    lane = "urgent" if urgent else "bulk"
    metrics.BATCH_SECONDS.labels(worker, lane).observe(time.perf_counter() - started)
    if entries and (added := entry_seconds(entries[0].entry_id)):
        metrics.BATCH_AGE_SECONDS.labels(worker, lane).observe(max(time.time() - added, 0.0))


def alerts_committed(batches: Sequence[tuple[str, Sequence[Entry]]], published: Sequence[OutboxRow]) -> None:
    """The urgent lane committed `batches` with the outbox rows `published`: each police alert
    among them is matched to its entry (the alert's subject is the report's reference) and its
    latency observed. Called at once after the commit; costs nothing when no alert was stored."""
    committed = time.time()
    subjects = {_subject(text) for _, stream, text in published if stream == streams.POLICE_ALERTS}
    if not subjects:
        return
    for stream, entries in batches:
        source_id = streams.source_of_intake(stream)
        for e in entries:
            event_id = event_id_of(e.fields) if source_id else None
            if event_id is not None and report_ref(source_id or "", event_id) in subjects:
                metrics.URGENT_ALERT_SECONDS.observe(max(committed - entry_seconds(e.entry_id), 0.0))


def _subject(text: str) -> str | None:
    subject = orjson.loads(text).get("subject")
    return subject if isinstance(subject, str) else None
