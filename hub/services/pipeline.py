"""The batch pipeline: one driver for every stream the hub consumes.

It owns what every use case shares: the tracking rows (an entry processed is an entry with a
row in `processed_entry`, written in the same transaction as its effect), the optimistic first
attempt and the look-up retry after a unique violation, rejection receipts with their
dead-letter records, and setting entries aside (`give_up`) that cannot be processed at all.
It returns an `Outcome`: what the worker acks and publishes.

A use case supplies only its steps (`Steps`): how a stream's entries parse, and how the parsed
ones are staged as rows in the transaction (`Stager`). Intake (`hub.services.intake`), triage
decisions (`hub.services.decisions`) and partners' updates on referrals
(`hub.services.referral_updates`) are the three today. To add one: write a `Steps` class, build
`BatchPipeline(engine, steps, publish_grace=...)` in `hub.bootstrap.build` and hand it to a
`StreamWorker`.

Storage is reached only through the transaction's port, `Tx.store` (`hub.store.batch.BatchStore`),
never a raw session: the pipeline opens its transactions with a unit-of-work factory, by default
the SQL one on the engine; the unit tests give it an in-memory one (`tests/fakes.py`).

The first attempt assumes the batch is new (the usual case) and looks nothing up, except the
tracking rows of entries the steps say are likely done (`Steps.likely_done`); the unique
constraints catch a redelivered entry, an event sent twice or another worker's race. Then
everything is rolled back and done once more, looking first (`Tx.look_up`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence, Set
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Generic, Protocol, TypeVar

from opentelemetry.trace import SpanKind, StatusCode
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from hub import metrics
from hub.schemas import streams
from hub.schemas.cloudevents import new_event_json
from hub.schemas.entry import Entry
from hub.schemas.events import MESSAGE_DEADLETTERED, DeadLetter, ReceiptData
from hub.schemas.messages import danish
from hub.services.envelope import Rejection, event_id_of
from hub.store.batch import BatchStore, UnitOfWorkFactory, sql_unit_of_work
from hub.store.bulk import OutboxRow
from hub.store.db import JsonText, transient_on_driver_errors
from hub.store.deadletters import deadletter_record
from hub.store.rows import RowBatch
from hub.tracing import OFF, TraceContext, Tracing, context_of, links_of

P = TypeVar("P")
P_contra = TypeVar("P_contra", contravariant=True)

# Dead-letter reasons of `give_up` (the parser's codes are the reasons of rejected entries).
MAX_DELIVERIES = "max_deliveries"  # delivered more than the cap: a process died storing it, again and again
PROCESSING_FAILED = "processing_failed"  # processing raised, alone in its transaction
UNKNOWN_SOURCE = "unknown_source"  # an intake stream no configured source writes to

_DETAILS = {
    PROCESSING_FAILED: "Processing failed; the entry was set aside for inspection.",
    UNKNOWN_SOURCE: "No configured source writes to this intake stream; the entry was set aside for inspection.",
}


@dataclass(slots=True)
class Tally:
    """One stream's answers in one committed transaction, for the metrics by source kind."""

    stream: str
    received: int
    accepted: int = 0
    rejected: int = 0
    duplicates: int = 0
    dead: int = 0
    codes: Counter[str] = field(default_factory=Counter)


@dataclass
class Outcome:
    """What a committed batch leaves to do: entries to ack, outbox rows to publish now, and
    whether it stored outbox rows for the relay to send (then the relay is woken). The counts
    are for logs and tests."""

    ack: list[str] = field(default_factory=list)
    publish: list[OutboxRow] = field(default_factory=list)
    relay: bool = False
    accepted: int = 0
    rejected: int = 0
    duplicates: int = 0
    dead: int = 0  # set aside by `give_up`
    refs: list[str] = field(default_factory=list)  # the references of what was accepted or found
    codes: Counter[str] = field(default_factory=Counter)  # refused and set-aside entries by code (metrics)
    tallies: list[Tally] = field(default_factory=list)  # per stream, when the steps name source kinds (metrics)

    def __iadd__(self, other: Outcome) -> Outcome:
        self.ack += other.ack
        self.publish += other.publish
        self.relay |= other.relay
        self.accepted += other.accepted
        self.rejected += other.rejected
        self.duplicates += other.duplicates
        self.dead += other.dead
        self.refs += other.refs
        self.codes += other.codes
        self.tallies += other.tallies
        return self


@dataclass(slots=True)
class Tx:
    """One transaction of the pipeline, as a stager sees it."""

    store: BatchStore  # storage: look-ups, and the rows' write at the end
    rows: RowBatch
    now: datetime
    look_up: bool  # the retry after a unique violation: look up what may be stored already
    out: Outcome
    rejected_type: str
    span: TraceContext | None = None  # the batch's span, when tracing is on: the entries' spans link to it

    def reject(self, stream: str, entry: Entry, r: Rejection, receipts: str | None) -> None:
        """A refusal: a rejection receipt to `receipts` (if the sender has a receipts stream)
        and the entry kept as a dead letter, with the rejection's code as the reason."""
        if receipts is not None:
            self.receipt(receipts, r)
        self.deadletter(stream, entry, r.code, r.message)
        self.out.rejected += 1

    def receipt(self, receipts: str, r: Rejection) -> None:
        """A rejection receipt: the sender matches it by the event id, and learns what was wrong."""
        receipt = ReceiptData(
            status="rejected",
            report_event_id=r.event_id,
            code=r.code,
            message=r.message,
            message_da=danish(r.code, r.reasons[0].da if r.reasons else None),
            errors=r.errors,
            reasons=r.reasons,
        )
        _, text = new_event_json(self.rejected_type, receipt, now=self.now, subject=r.code, trace=r.trace)
        self.rows.outbox(receipts, JsonText(text))

    def deadletter(self, stream: str, entry: Entry, reason: str, detail: str) -> None:
        """Keep the entry whole in the database; put a redacted record on `hub.deadletter.v1`."""
        record = deadletter_record(stream, entry.entry_id, entry.fields, entry.deliveries, reason, detail, self.now)
        self.out.codes[reason] += 1
        self.rows.deadletter(record)
        data = DeadLetter(
            stream=stream,
            entry_id=entry.entry_id,
            reason=reason,
            detail=detail,
            deliveries=entry.deliveries,
            payload_sha256=record["payload_sha256"],
            payload_bytes=len(record["payload"]),
        )
        self.rows.outbox(streams.DEADLETTER, JsonText(new_event_json(MESSAGE_DEADLETTERED, data, now=self.now)[1]))


class Stager(Protocol[P_contra]):
    """Stages one transaction's parsed entries as rows (`Tx.rows`)."""

    def prepare(self, parsed: Sequence[tuple[str, Sequence[P_contra]]]) -> None:
        """Before any entry: look up what the whole transaction's entries need, every stream's
        at once (a coalesced transaction holds the small batches of many streams: one round
        trip for all of them, not one per stream)."""

    def batch(self, stream: str, parsed: Sequence[P_contra]) -> None:
        """Before a stream's entries: look up what they need, all at once (on `Tx.look_up`
        also what may be stored already)."""

    def entry(self, stream: str, entry: Entry, parsed: P_contra) -> None:
        """Stage one parsed entry (or refuse it with `Tx.reject`). Called in the entries' order."""

    def finish(self) -> None:
        """After every stream's entries, before the rows are written."""


class Steps(Protocol[P]):
    """What a use case supplies to the pipeline."""

    rejected_type: str  # the CloudEvent type of its rejection receipts

    def receipts_for(self, stream: str) -> str | None:
        """The receipts stream of the entries' sender, if it has one (never raises)."""

    def parse(self, stream: str, entries: Sequence[Entry], now: datetime) -> list[P | Rejection]:
        """Each entry parsed, or the reason it is refused. Outside the transaction."""

    def likely_done(self, entry: Entry) -> bool:
        """Whether the first attempt should look up this entry's tracking row anyway (another
        lane usually stores it first)."""

    def begin(self, tx: Tx) -> Stager[P]:
        """The stager of one transaction."""


class SourceKinds(Protocol):
    """Steps whose streams belong to configured sources (intake): the metrics count their
    entries by source kind too. Optional: the pipeline asks only steps that have it."""

    def source_kind(self, stream: str) -> str:
        """The registry's kind of the stream's source (`unknown` if none is configured)."""


_NOTHING: frozenset[str] = frozenset()


class BatchPipeline(Generic[P]):
    """Stores batches of entries for one use case (`Steps`), one transaction per call."""

    def __init__(
        self,
        engine: Engine | None,
        steps: Steps[P],
        *,
        publish_grace: timedelta | None = None,
        unit_of_work: UnitOfWorkFactory | None = None,
        tracing: Tracing = OFF,
        name: str = "intake",
    ) -> None:
        # `unit_of_work`: opens each transaction; by default the SQL one on `engine`.
        # `tracing` on: a span per call (`hub.<name> process`), linked to its entries' traces.
        if unit_of_work is None:
            if engine is None:
                raise ValueError("BatchPipeline needs an engine or a unit_of_work factory")
            unit_of_work = sql_unit_of_work(engine)
        self.unit_of_work = unit_of_work
        self.steps = steps
        # Set: the caller publishes each batch's events after the commit (`Outcome.publish`)
        # and the relay takes over only those still unsent this long after.
        self.publish_grace = publish_grace
        # Steps with sources (intake) have their answers tallied per stream for the metrics.
        self.source_kind: Callable[[str], str] | None = getattr(steps, "source_kind", None)
        self.tracing = tracing
        self.span_name = f"hub.{name} process"

    def process(self, stream: str, entries: list[Entry], now: datetime, *, look_first: bool = True) -> Outcome:
        """Store one stream's batch (see `process_many`)."""
        return self.process_many([(stream, entries)], now, look_first=look_first)

    def process_many(
        self, batches: list[tuple[str, list[Entry]]], now: datetime, *, look_first: bool = True
    ) -> Outcome:
        """Store batches of one or more streams in one transaction. `look_first`: on the first
        attempt, look up the tracking rows of the entries the steps call likely done.

        Raises `TransientError` for a driver error (the database is down), and whatever a step
        raises (the worker splits the batch to find the entry at fault)."""
        parsed = [(stream, entries, self.steps.parse(stream, entries, now)) for stream, entries in batches]
        if self.tracing.enabled:
            out = self._traced(parsed, now, look_first)
        else:
            out = _once_more_on_conflict(
                lambda look_up: self._attempt(parsed, now, look_up=look_up, look_first=look_first or look_up)
            )
        _count(batches[0][0] if batches else "", out, self.source_kind)
        return out

    def _traced(
        self, parsed: list[tuple[str, list[Entry], list[P | Rejection]]], now: datetime, look_first: bool
    ) -> Outcome:
        """`process_many` in a span of its own: one per transaction, not per entry (the entries'
        spans, made by the steps, are children of their own traces and link to this one)."""
        streams_ = {stream for stream, _, _ in parsed}
        span = self.tracing.start(
            self.span_name,
            kind=SpanKind.CONSUMER,
            links=links_of(getattr(r, "trace", None) for _, _, results in parsed for r in results),
            attributes={
                "messaging.system": "redis",
                "messaging.operation.type": "process",
                "messaging.batch.message_count": sum(len(entries) for _, entries, _ in parsed),
                "messaging.destination.name": next(iter(streams_)) if len(streams_) == 1 else "(several)",
            },
        )
        batch = context_of(span)
        try:
            return _once_more_on_conflict(
                lambda look_up: self._attempt(
                    parsed, now, look_up=look_up, look_first=look_first or look_up, span=batch
                )
            )
        except BaseException as exc:
            span.set_status(StatusCode.ERROR)
            span.set_attribute("exception.type", type(exc).__name__)  # the type only: a message may quote input
            raise
        finally:
            span.end()

    def _attempt(
        self,
        parsed: list[tuple[str, list[Entry], list[P | Rejection]]],
        now: datetime,
        *,
        look_up: bool,
        look_first: bool,
        span: TraceContext | None = None,
    ) -> Outcome:
        out = Outcome()
        steps, tally = self.steps, self.source_kind is not None
        with self.unit_of_work() as uow:
            store = uow.store
            rows = RowBatch(now, self.publish_grace)
            tx = Tx(store, rows, now, look_up, out, steps.rejected_type, span)
            stager = steps.begin(tx)
            stager.prepare(
                [(stream, [r for r in results if not isinstance(r, Rejection)]) for stream, _, results in parsed]
            )
            for stream, entries, results in parsed:
                done: Set[str]
                if look_up:
                    done = store.processed_ids(stream, [e.entry_id for e in entries])
                elif look_first and (likely := [e.entry_id for e in entries if steps.likely_done(e)]):
                    done = store.processed_ids(stream, likely)
                else:
                    done = _NOTHING
                stager.batch(stream, [r for r in results if not isinstance(r, Rejection)])
                if tally:
                    before = Tally(stream, len(entries), out.accepted, out.rejected, out.duplicates, 0, +out.codes)
                for entry, result in zip(entries, results, strict=True):
                    out.ack.append(entry.entry_id)
                    if entry.entry_id in done:
                        continue  # redelivered after a crash between commit and ack
                    if isinstance(result, Rejection):
                        tx.reject(stream, entry, result, steps.receipts_for(stream))
                    else:
                        stager.entry(stream, entry, result)
                    rows.processed(stream, entry.entry_id)
                if tally:
                    out.tallies.append(_since(before, out))
            stager.finish()
            store.write(rows)
            uow.commit()
        out.publish, out.relay = rows.published, rows.left_to_relay
        return out

    def give_up(self, stream: str, entries: list[Entry], now: datetime, reason: str) -> Outcome:
        """Set entries aside that cannot be processed: a dead-letter record each, with `reason`
        (`MAX_DELIVERIES`, `PROCESSING_FAILED` or `UNKNOWN_SOURCE`), and a rejection receipt
        with code `processing_failed` to the sender if it has a receipts stream; then they are
        acked. Works on any entry, whatever its fields hold: nothing is parsed but the event id
        (`event_id_of`, which never raises). Raises only `TransientError` (database down)."""
        # It looks up the tracking rows first; a conflict means another consumer finished one of
        # them meanwhile, and the retry sees its row.
        out = _once_more_on_conflict(lambda _: self._give_up(stream, entries, now, reason))
        _count(stream, out, self.source_kind)
        return out

    def _give_up(self, stream: str, entries: list[Entry], now: datetime, reason: str) -> Outcome:
        out = Outcome()
        receipts = self.steps.receipts_for(stream) if reason != UNKNOWN_SOURCE else None
        with self.unit_of_work() as uow:
            store = uow.store
            rows = RowBatch(now, self.publish_grace)
            tx = Tx(store, rows, now, True, out, self.steps.rejected_type)
            done = store.processed_ids(stream, [e.entry_id for e in entries])
            for e in entries:
                out.ack.append(e.entry_id)
                if e.entry_id in done:
                    continue
                detail = _DETAILS.get(
                    reason, f"Processing failed {e.deliveries} times; the entry was set aside for inspection."
                )
                if receipts is not None:
                    tx.receipt(receipts, Rejection(PROCESSING_FAILED, detail, (), event_id_of(e.fields)))
                tx.deadletter(stream, e, reason, detail)
                out.dead += 1
                rows.processed(stream, e.entry_id)
            if self.source_kind is not None:
                out.tallies.append(Tally(stream, len(entries), dead=out.dead, codes=+out.codes))
            store.write(rows)
            uow.commit()
        out.publish, out.relay = rows.published, rows.left_to_relay
        return out


def _once_more_on_conflict(attempt: Callable[[bool], Outcome]) -> Outcome:
    """`attempt(False)`, and after a unique violation (rolled back) `attempt(True)`: the second
    time it looks up what is stored already. Driver errors are raised as `TransientError`."""
    with transient_on_driver_errors():
        try:
            return attempt(False)
        except IntegrityError:
            return attempt(True)


def _since(before: Tally, out: Outcome) -> Tally:
    """What one stream's entries added to the transaction's counts (`before`: the counts then)."""
    return Tally(
        before.stream,
        before.received,
        out.accepted - before.accepted,
        out.rejected - before.rejected,
        out.duplicates - before.duplicates,
        0,
        out.codes - before.codes,
    )


def _count(stream: str, out: Outcome, source_kind: Callable[[str], str] | None) -> None:
    """A committed transaction's answers in the metrics (`hub.metrics`): by stream kind, outcome
    and code; dead letters by reason; and, for steps with sources, by source kind."""
    kind = metrics.stream_kind(stream)
    for outcome, n in (
        ("accepted", out.accepted),
        ("duplicate", out.duplicates),
        ("rejected", out.rejected),
        ("dead_lettered", out.dead),
    ):
        if n:
            metrics.ENTRIES.labels(kind, outcome).inc(n)
    for code, n in out.codes.items():
        metrics.REJECTIONS.labels(kind, code).inc(n)
        metrics.DEAD_LETTERS.labels(kind, code).inc(n)
    if source_kind is None:
        return
    for t in out.tallies:
        source = source_kind(t.stream)
        metrics.REPORTS_RECEIVED.labels(source).inc(t.received)
        for outcome, n in (
            ("accepted", t.accepted),
            ("duplicate", t.duplicates),
            ("rejected", t.rejected),
            ("dead_lettered", t.dead),
        ):
            if n:
                metrics.REPORTS.labels(source, outcome).inc(n)
        for code, n in t.codes.items():
            metrics.REPORT_REJECTIONS.labels(source, code).inc(n)
