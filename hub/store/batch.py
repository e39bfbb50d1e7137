"""The storage port of a batch transaction, and its SQL unit of work.

The batch pipeline (`hub.services.pipeline`) and the use cases' stagers reach storage only
through `BatchStore`: the look-ups of the batch path and the writes of its rows (`RowBatch`),
never through a raw session. `BatchUnitOfWork` is one transaction holding one; it rolls back
unless `commit()` is called. A unique key violated raises `sqlalchemy.exc.IntegrityError`
(the pipeline's cue to roll back and try once more, looking first).

`SqlUnitOfWork` is the real one: `hub.store.lookups` and `RowBatch.write` on one session,
with exactly their statements and round trips (this is the hot path: the port adds one call
per batch, no work per entry). The tests' in-memory one (`tests/fakes.py`) keeps the same
contract; `tests/integration/test_batch_store_contract.py` runs both.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.engine import Engine
from sqlmodel import Session

from hub.store import deadlines, lookups, referral_updates
from hub.store.bulk import Statement
from hub.store.db import UnitOfWork
from hub.store.lookups import DecisionContext as DecisionContext  # re-exported: the batch port's types
from hub.store.lookups import ReporterThread as ReporterThread
from hub.store.lookups import StoredReport as StoredReport
from hub.store.rows import RowBatch

StoredReceipt = tuple[str, dict[str, Any] | str]  # report ref, the receipt sent for it


class BatchStore(Protocol):
    """What one batch transaction reads and writes."""

    def processed_ids(self, stream: str, entry_ids: Sequence[str]) -> set[str]:
        """The entries of `stream` among `entry_ids` that have a tracking row (were processed)."""

    def receipts_by_event(self, source_id: str, event_ids: Iterable[str]) -> dict[str, StoredReceipt]:
        """Reports already stored for these CloudEvent ids: event id -> (report ref, receipt sent)."""

    def decision_exists(self, source_id: str, event_id: str) -> bool:
        """Whether the decision event (`source_id`, `event_id`) is recorded."""

    def insert_decisions(self, rows: list[dict[str, Any]]) -> list[int]:
        """Insert decision rows (in order) and return their ids."""

    def mark_decided(self, report_refs: Iterable[str], now: datetime) -> None:
        """The triage items of these reports are decided (no item: nothing to do)."""

    def subject_reports(self, keys: Iterable[str], since: datetime) -> dict[str, list[tuple[str, datetime]]]:
        """The reports received since `since` about each subject key: key -> [(source id, received at)]."""

    def meet_deadlines(self, report_refs: Iterable[str], kind: str, now: datetime) -> None:
        """The statutory clocks of `kind` of these reports are met (`hub.store.deadlines.meet`)."""

    def update_context(
        self, partner_id: str, event_ids: Iterable[str], refs: Iterable[str]
    ) -> referral_updates.UpdateContext:
        """What a batch of a partner's updates is about (`hub.store.referral_updates`)."""

    def meet_clocks(self, refs: Iterable[str], now: datetime) -> None:
        """The clocks of these referrals or alerts are met (`hub.store.deadlines.meet_refs`)."""

    def decision_context(self, refs: Iterable[str]) -> DecisionContext:
        """The reports a batch of decisions names, which are decided, what their reporters heard
        back (`hub.store.lookups.decision_context`)."""

    def reporter_message_exists(self, source_id: str, event_id: str) -> bool:
        """Whether the staff event (`source_id`, `event_id`) has been answered to the reporter."""

    def write(self, rows: RowBatch) -> None:
        """Insert everything `rows` holds since its last write, in this transaction."""


class BatchUnitOfWork(Protocol):
    """One batch transaction: `with factory() as uow: ... uow.commit()`. Rolls back unless committed."""

    @property
    def store(self) -> BatchStore: ...

    def __enter__(self) -> BatchUnitOfWork: ...

    def __exit__(self, *exc: object) -> None: ...

    def commit(self) -> None: ...


UnitOfWorkFactory = Callable[[], BatchUnitOfWork]


class SqlBatchStore:
    """`BatchStore` on a SQLAlchemy session: `hub.store.lookups` and `RowBatch.write`.

    On PostgreSQL the updates whose answer nobody reads (a triage item decided, a report's
    clock met) wait for `write` and go in its last pipeline, after the rows: a lone decision
    made three round trips more for them, each a few hundred µs of the client's CPU on a busy
    machine (issue #17). Nothing in a batch transaction reads what they change before then."""

    __slots__ = ("_later", "_postgresql", "session")

    def __init__(self, session: Session) -> None:
        self.session = session
        self._postgresql = session.get_bind().dialect.name == "postgresql"
        self._later: list[Statement] = []

    def processed_ids(self, stream: str, entry_ids: Sequence[str]) -> set[str]:
        return lookups.processed_ids(self.session, stream, entry_ids)

    def receipts_by_event(self, source_id: str, event_ids: Iterable[str]) -> dict[str, StoredReceipt]:
        return lookups.receipts_by_event(self.session, source_id, event_ids)

    def decision_exists(self, source_id: str, event_id: str) -> bool:
        return lookups.decision_exists(self.session, source_id, event_id)

    def insert_decisions(self, rows: list[dict[str, Any]]) -> list[int]:
        return lookups.insert_decisions(self.session, rows)

    def mark_decided(self, report_refs: Iterable[str], now: datetime) -> None:
        if not self._postgresql:
            lookups.mark_decided(self.session, report_refs, now)
        elif statement := lookups.mark_decided_pg(report_refs, now):
            self._later.append(statement)

    def subject_reports(self, keys: Iterable[str], since: datetime) -> dict[str, list[tuple[str, datetime]]]:
        return lookups.subject_reports(self.session, keys, since)

    def meet_deadlines(self, report_refs: Iterable[str], kind: str, now: datetime) -> None:
        if not self._postgresql:
            deadlines.meet(self.session, report_refs, kind, now)
        elif statement := deadlines.meet_pg(report_refs, kind, now):
            self._later.append(statement)

    def update_context(
        self, partner_id: str, event_ids: Iterable[str], refs: Iterable[str]
    ) -> referral_updates.UpdateContext:
        return referral_updates.update_context(self.session, partner_id, event_ids, refs)

    def meet_clocks(self, refs: Iterable[str], now: datetime) -> None:
        deadlines.meet_refs(self.session, refs, now)

    def decision_context(self, refs: Iterable[str]) -> DecisionContext:
        return lookups.decision_context(self.session, refs)

    def reporter_message_exists(self, source_id: str, event_id: str) -> bool:
        return lookups.reporter_message_exists(self.session, source_id, event_id)

    def write(self, rows: RowBatch) -> None:
        later, self._later = self._later, []
        rows.write(self.session, then=later)


class SqlUnitOfWork(UnitOfWork):
    """The database's unit of work (`hub.store.db.UnitOfWork`) with its `BatchStore`."""

    store: SqlBatchStore

    def __enter__(self) -> SqlUnitOfWork:
        super().__enter__()
        self.store = SqlBatchStore(self.session)
        return self


def sql_unit_of_work(engine: Engine) -> UnitOfWorkFactory:
    """The factory of SQL batch transactions on `engine` (the pipeline's default)."""
    return functools.partial(SqlUnitOfWork, engine)
