"""Durable statutory clocks: the 24-hour assessment and the 6-working-day receipt.

A report that needs a notification gets its clocks as `deadline` rows in the same transaction
as the report (`stage_clocks`, on the intake batch's `RowBatch`: no round trip of its own).
They are met by the action they wait for, in that action's transaction:
- the assessment: by DKE's triage decision (`hub.services.decisions`, one UPDATE per batch);
- the receipt: by DKE's kvittering (`report.acknowledged` on the reporter's receipts stream,
  `hub.services.reporter`), which staff send from the case (or `hub triage receipt`), or which
  goes with the report's first decision. The hub's system receipt `report.accepted` only says the
  message arrived; it is not the municipality's kvittering. Only a professional notifier's
  notification has this clock (BL-RECEIPT-6D); feedback later on is not a receipt.

`DeadlineScheduler.tick` (run every few seconds by `hub serve`, `hub.runtime.clocks`) fires
the clocks whose time has come: `deadline.approaching` to DKE the agreement's hours before
(`deadline_warnings`), `deadline.breached` once the deadline has passed unmet. Each fires once
however many processes tick at the same moment: the rows are claimed (`hub.store.deadlines`)
and the events written to the outbox in that same transaction, with an event id derived from
the clock and its stage, so even a relay's resend carries the same id.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy.engine import Engine
from sqlmodel import Session

from hub import metrics
from hub.policies.agreement import DeadlineWarnings
from hub.policies.decision import Assessment
from hub.schemas import streams
from hub.schemas.cloudevents import new_event_json
from hub.schemas.events import DEADLINE_APPROACHING, DEADLINE_BREACHED, DeadlineData
from hub.services import referral_clocks
from hub.store import deadlines as store
from hub.store.db import JsonText, UnitOfWork, transient_on_driver_errors
from hub.store.models import Deadline
from hub.store.rows import RowBatch

ASSESSMENT, RECEIPT = "assessment", "receipt"
# The rule each clock comes from (`hub.policies.rules`).
RULE_OF: dict[str, str] = {ASSESSMENT: "BL-ASSESS-24H", RECEIPT: "BL-RECEIPT-6D"}
_EVENT_TYPE = {store.APPROACHING: DEADLINE_APPROACHING, store.BREACHED: DEADLINE_BREACHED}
_IDS = uuid.UUID("5f0c3a52-0d7e-4a43-9a61-6b1f0c8e2d11")  # namespace of the clocks' event ids


def stage_clocks(rows: RowBatch, report_ref: str, a: Assessment, warnings: DeadlineWarnings, now: datetime) -> None:
    """The report's clocks as rows of its transaction (none unless the assessment set deadlines)."""
    now = now.astimezone(UTC)
    for kind, due_at, hours in (
        (ASSESSMENT, a.assess_by, warnings.assessment_hours),
        (RECEIPT, a.receipt_due_by, warnings.receipt_hours),
    ):
        if due_at is None:
            continue
        due_at = due_at.astimezone(UTC)  # SQLite keeps a time without its zone: always UTC
        approaching_at = due_at - timedelta(hours=hours)
        rows.add(
            Deadline,
            report_ref=report_ref,
            kind=kind,
            ref="",  # a report's own clock (a referral's or alert's carries its event id)
            due_at=due_at,
            approaching_at=approaching_at,
            state=store.PENDING,
            next_at=approaching_at,
            created_at=now,
            met_at=None,
        )


def event_id(fired: store.Fired) -> str:
    """The same id for the same clock and stage, whoever writes it."""
    clock = f"{fired.ref}/{fired.kind}" if fired.ref else f"{fired.report_ref}/{fired.kind}"  # a referral's, an alert's
    return str(uuid.uuid5(_IDS, f"{clock}/{fired.stage}"))


@dataclass
class Tick:
    """What one scheduler transaction fired."""

    fired: list[store.Fired] = field(default_factory=list)
    found: int = 0  # clocks claimed (another scheduler may have moved some of them first)

    def count(self, stage: str) -> int:
        return sum(1 for f in self.fired if f.stage == stage)


class DeadlineScheduler:
    """Fires the clocks whose time has come, `batch` rows per transaction."""

    def __init__(self, engine: Engine, *, batch: int = 200, unit_of_work: Callable[[], UnitOfWork] | None = None):
        self.unit_of_work = unit_of_work or (lambda: UnitOfWork(engine))
        self.batch = batch

    def tick(self, now: datetime) -> Tick:
        """One transaction: claim the due clocks, move them on, write their events to the
        outbox, commit; then count them. Raises `TransientError` if the database is down."""
        out = Tick()
        with transient_on_driver_errors(), self.unit_of_work() as uow:
            found = store.due(uow.session, now, self.batch)
            out.found = len(found)
            if not found:
                # Nothing written: a COMMIT keeps the connection's prepared statements, which
                # psycopg forgets at a ROLLBACK (as `OutboxRelay._unsent`).
                uow.commit()
                return out
            out.fired = store.advance(uow.session, found, now)
            write_events(uow.session, out.fired, now)
            uow.commit()
        count(out.fired)
        return out

    def run_until(self, now: datetime) -> Tick:
        """Ticks until nothing more is due at `now` (a backlog after downtime)."""
        total = Tick()
        while True:
            tick = self.tick(now)
            total.fired += tick.fired
            if tick.found < self.batch:
                return total


def write_events(session: Session, fired: list[store.Fired], now: datetime) -> None:
    """The fired clocks' events, as outbox rows of the claiming transaction (the relay sends them)."""
    rows = RowBatch(now)
    for f in fired:
        if f.kind in referral_clocks.KINDS:  # a referral or alert not acknowledged in time
            referral_clocks.write_breach(session, rows, f, event_id(f), now)
            continue
        kind: Literal["assessment", "receipt"] = "assessment" if f.kind == ASSESSMENT else "receipt"
        data = DeadlineData(report_ref=f.report_ref, kind=kind, due_at=f.due_at, rule_id=RULE_OF[f.kind])
        _, text = new_event_json(_EVENT_TYPE[f.stage], data, now=now, subject=f.report_ref, event_id=event_id(f))
        rows.outbox(streams.DEADLINES, JsonText(text))
    rows.write(session)


def count(fired: list[store.Fired]) -> None:
    """Committed: in the metrics, by kind."""
    for f in fired:
        counter = metrics.DEADLINES_BREACHED if f.stage == store.BREACHED else metrics.DEADLINES_APPROACHING
        counter.labels(f.kind).inc()
