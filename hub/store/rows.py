"""`RowBatch`: the rows of one batch transaction, written with one multi-row INSERT per table."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, func, insert, select
from sqlalchemy.engine import Connection
from sqlmodel import Session, SQLModel

from hub.store import audit_chain
from hub.store.bulk import (
    OutboxRow,
    Statement,
    executemany_sqlite,
    insert_postgresql,
    insert_with_ids,
    reserve_ids,
    table_of,
)
from hub.store.db import JsonText, dump_json
from hub.store.models import (
    Case,
    DeadLetterRecord,
    Deadline,
    Disclosure,
    Outbox,
    ProcessedEntry,
    ReferralUpdate,
    Report,
    ReporterMessage,
    TriageItem,
)

_case = table_of(Case).c
_OLDEST_CASES = (
    select(_case.subject_key, func.min(_case.id))
    .where(_case.subject_key.in_(bindparam("keys", expanding=True)))
    .group_by(_case.subject_key)
)


@dataclass(frozen=True, slots=True)
class CaseRef:
    """A case the batch finds or creates when it is written (its id is not known before)."""

    slot: int


# Parents before children: a row's foreign keys point at rows written before it.
_BATCH_TABLES: tuple[Table, ...] = tuple(
    table_of(m)
    for m in (
        Report,
        TriageItem,
        Deadline,
        Disclosure,
        ReferralUpdate,
        ReporterMessage,
        DeadLetterRecord,
        Outbox,
        ProcessedEntry,
    )
)


_OUTBOX, _PROCESSED, _DEADLETTER = table_of(Outbox), table_of(ProcessedEntry), table_of(DeadLetterRecord)
_CASE = table_of(Case)
_DISCLOSURE = table_of(Disclosure)


class RowBatch:
    """The rows of one transaction, written with one multi-row INSERT per table.

    Core inserts, no ORM objects: a report costs a handful of parameter rows, not a unit of
    work per row. Cases are resolved first (the subject's oldest case, as `case_for`, or a new
    one; an area observation always gets a new one), then the rows that refer to them. Rows of
    one table are written in the order they were added, so outbox ids follow the order of
    `outbox()` calls. Every row of a table must be added with the same columns. Disclosure
    rows join the audit chain (`hub.store.audit_chain`) in the same transaction: one lock and
    one head read per write, in the round trips there are anyway.

    With `publish_grace`, the caller publishes the outbox rows itself once the transaction has
    committed (`published`: id, stream and JSON text of each); the relay leaves them alone
    for that long and sends only those still unsent then.
    """

    def __init__(self, now: datetime, publish_grace: timedelta | None = None) -> None:
        self.now = now
        self._relay_after = now + publish_grace if publish_grace is not None else None
        self.published: list[OutboxRow] = []
        self.left_to_relay = False  # outbox rows nobody publishes: the relay sends them
        self._keys: list[str | None] = []  # slot -> subject key
        self._slot_of: dict[str, int] = {}
        self._ids: dict[int, int] = {}  # slot -> case id, once written
        self._rows: dict[Table, list[dict[str, Any]]] = {t: [] for t in _BATCH_TABLES}

    def case(self, key: str | None) -> CaseRef:
        if key is not None and key in self._slot_of:
            return CaseRef(self._slot_of[key])
        self._keys.append(key)
        slot = len(self._keys) - 1
        if key is not None:
            self._slot_of[key] = slot
        return CaseRef(slot)

    def add(self, model: type[SQLModel], **values: Any) -> None:
        self._rows[table_of(model)].append(values)

    def outbox(self, stream: str, event: dict[str, Any] | str) -> None:
        """`event`: the CloudEvent as a dict, or already as JSON text (`hub.store.db.JsonText`).
        Encoded here, once: the same text is stored and published."""
        text = JsonText(dump_json(event))
        row = {"stream": stream, "event": text, "created_at": self.now, "relay_after": self._relay_after}
        self._rows[_OUTBOX].append(row)
        self.left_to_relay |= self._relay_after is None

    def deadletter(self, record: dict[str, Any]) -> None:
        """A dead-letter row (`hub.store.deadletters.deadletter_record`); its redacted event goes
        out as an ordinary `outbox()` row, built by the caller."""
        self._rows[_DEADLETTER].append(record)

    def processed(self, stream: str, entry_id: str) -> None:
        self._rows[_PROCESSED].append({"stream": stream, "entry_id": entry_id, "processed_at": self.now})

    def write(self, session: Session, then: Sequence[Statement] = ()) -> None:
        """Insert everything added since the last write, in the session's transaction; on
        PostgreSQL, then the statements `then` (whose answers nobody reads), in the same
        pipeline as the last rows."""
        conn = session.connection()
        if conn.dialect.name == "postgresql":
            self._write_postgresql(conn, then)
            return
        if then:
            raise ValueError("statements after the rows are PostgreSQL's (psycopg placeholders)")
        self._write_cases(session)
        chained: list[dict[str, Any]] = []
        for table in _BATCH_TABLES:
            rows = self._take(table)
            if not rows:
                continue
            if table is _DISCLOSURE:
                chained = rows
            if table is _OUTBOX and self._relay_after is not None:
                ids = insert_with_ids(conn, table, rows)
                self.published += [(i, r["stream"], str(r["event"])) for i, r in zip(ids, rows, strict=True)]
            elif conn.dialect.name == "sqlite":
                executemany_sqlite(conn, table, rows)
            else:
                conn.execute(insert(table), rows)
        # After the inserts: this transaction is SQLite's writer now, so the head stays the head.
        audit_chain.append(session, audit_chain.DISCLOSURE, chained)

    @property
    def publishes(self) -> bool:
        """Whether the caller publishes the outbox rows itself (then `published` lists them)."""
        return self._relay_after is not None

    def drain(self, case_id: Callable[[str | None], int]) -> list[tuple[str, list[dict[str, Any]]]]:
        """Everything added since the last write, as (table name, rows), parents first, with
        each new case's id from `case_id(subject key)` (asked once per case): how a store that
        is not SQL writes the batch (the tests' in-memory one). Such a store appends the outbox
        rows it writes to `published` itself when `publishes`; it keeps no audit chain."""
        for slot, key in enumerate(self._keys):
            if slot not in self._ids:
                self._ids[slot] = case_id(key)
        return [(table.name, self._take(table)) for table in _BATCH_TABLES]

    def _take(self, table: Table) -> list[dict[str, Any]]:
        """The table's rows added since the last write, with their cases' ids filled in."""
        rows, self._rows[table] = self._rows[table], []
        for row in rows:
            if isinstance(ref := row.get("case_id"), CaseRef):
                row["case_id"] = self._ids[ref.slot]
        return rows

    def _write_postgresql(self, conn: Connection, then: Sequence[Statement]) -> None:
        """One round trip finds the cases and draws the new ids (cases, and outbox rows to
        publish); then the rows go in, parents first; with disclosure rows, the audit chain's lock
        and head last, and the disclosures' chain rows. Few round trips matter as much as few
        rows: each one lets go of the GIL, and a busy process takes long to get it back."""
        todo = [slot for slot in range(len(self._keys)) if slot not in self._ids]
        outbox = self._rows[_OUTBOX] if self._relay_after is not None else []
        cases, outbox_ids, _ = reserve_ids(conn, [self._keys[slot] for slot in todo], len(outbox))
        new_cases = []
        for slot, (case_id, new) in zip(todo, cases, strict=True):
            self._ids[slot] = case_id
            if new:
                new_cases.append({"id": case_id, "subject_key": self._keys[slot], "created_at": self.now})
        tables = [(_CASE, new_cases)]
        chained: list[dict[str, Any]] = []
        for table in _BATCH_TABLES:
            rows = self._take(table)
            if table is _OUTBOX and outbox_ids:
                rows = [{"id": i, **row} for i, row in zip(outbox_ids, rows, strict=True)]
                self.published += [(r["id"], r["stream"], str(r["event"])) for r in rows]
            tables.append((table, rows))
            if table is _DISCLOSURE:
                chained = rows
        # The chain's lock last: every writer of disclosures waits for it until the holder
        # commits, so it is taken after the batch's own rows are in (held for the chain rows and
        # the commit, not for the whole batch; an urgent alert does not queue behind a bulk insert).
        chain = audit_chain.append_statements(conn, audit_chain.DISCLOSURE, chained) if chained else []
        insert_postgresql(conn, [(table, rows) for table, rows in tables if rows], then=[*then, *chain])

    def _write_cases(self, session: Session) -> None:
        todo = [slot for slot in range(len(self._keys)) if slot not in self._ids]
        if not todo:
            return
        conn = session.connection()
        keys = list({k for slot in todo if (k := self._keys[slot]) is not None})
        found = _oldest_cases(conn, keys) if keys else {}
        new = []
        for slot in todo:
            key = self._keys[slot]
            if key is not None and key in found:
                self._ids[slot] = found[key]
            else:
                new.append(slot)
        if not new:
            return
        rows = [{"subject_key": self._keys[slot], "created_at": self.now} for slot in new]
        result = conn.execute(insert(_CASE).returning(_CASE.c.id, sort_by_parameter_order=True), rows)
        ids = [case_id for (case_id,) in result]
        for slot, case_id in zip(new, ids, strict=True):
            self._ids[slot] = case_id


def _oldest_cases(conn: Connection, keys: list[str]) -> dict[str, int]:
    """The oldest case of each subject key (SQLite; PostgreSQL: `reserve_ids`)."""
    rows = conn.execute(_OLDEST_CASES, {"keys": keys})
    return {k: i for k, i in rows if k is not None and i is not None}
