"""Repository functions over one session: the only place that knows the tables' shape."""

from __future__ import annotations

import contextlib
import functools
import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, Column, DateTime, Table, bindparam, func, insert, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, SQLModel, col, select

from hub.schemas import streams
from hub.schemas.cloudevents import new_event
from hub.schemas.entry import Entry
from hub.schemas.events import MESSAGE_DEADLETTERED, DeadLetter
from hub.store.db import JsonText, dump_json
from hub.store.models import (
    PAYLOAD_FIELDS_V1,
    PAYLOAD_KV_LINES,
    Case,
    DeadLetterRecord,
    Decision,
    Disclosure,
    Outbox,
    ProcessedEntry,
    Report,
    TriageItem,
)

if TYPE_CHECKING:
    import sqlite3

    import psycopg


def _table(model: type[SQLModel]) -> Table:
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table


# Hot-path lookups as Core statements with expanding parameters: compiled once and cached,
# instead of an ORM query with a hundred literal parameters coerced per batch.
_processed = _table(ProcessedEntry).c
_PROCESSED_IDS = select(_processed.entry_id).where(
    _processed.stream == bindparam("stream"), _processed.entry_id.in_(bindparam("ids", expanding=True))
)
_report = _table(Report).c
_RECEIPTS_BY_EVENT = select(_report.event_id, _report.ref, _report.receipt_event).where(
    _report.source_id == bindparam("source_id"), _report.event_id.in_(bindparam("ids", expanding=True))
)
_REPORTS_BY_REF = select(_report.ref, _report.payload, _report.case_id).where(
    _report.ref.in_(bindparam("refs", expanding=True))
)
_triage = _table(TriageItem).c
_MARK_DECIDED = (
    update(_table(TriageItem))
    .where(_triage.report_ref.in_(bindparam("refs", expanding=True)))
    .values(status="decided", decided_at=bindparam("now", type_=_triage.decided_at.type))
)
_case = _table(Case).c
_OLDEST_CASES = (
    select(_case.subject_key, func.min(_case.id))
    .where(_case.subject_key.in_(bindparam("keys", expanding=True)))
    .group_by(_case.subject_key)
)


OutboxRow = tuple[int, str, str]  # id, stream, the CloudEvent as JSON text


def mark_sent(session: Session, ids: Sequence[int], now: datetime) -> None:
    """Outbox rows sent. On PostgreSQL in one round trip (a pipeline), and without waiting for
    the commit to reach the disk: a mark lost in a crash only makes the relay send the row
    again, which at-least-once allows."""
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        conn.execute(update(_table(Outbox)).where(_table(Outbox).c.id.in_(ids)).values(sent_at=now))
        return
    sql = "UPDATE outbox SET sent_at = %(now)s WHERE id = ANY(%(ids)s)"
    raw = _psycopg(conn)
    with _driver_errors(conn, sql), raw.pipeline(), raw.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO OFF")
        cursor.execute(sql, {"now": now, "ids": list(ids)})


def processed_ids(session: Session, stream: str, entry_ids: Sequence[str]) -> set[str]:
    if not entry_ids:
        return set()
    rows = session.connection().execute(_PROCESSED_IDS, {"stream": stream, "ids": list(entry_ids)})
    return set(rows.scalars())


def mark_processed(session: Session, stream: str, entry_id: str, now: datetime) -> None:
    session.add(ProcessedEntry(stream=stream, entry_id=entry_id, processed_at=now))


def reports_by_event(session: Session, source_id: str, event_ids: Iterable[str]) -> dict[str, Report]:
    ids = list(set(event_ids))
    if not ids:
        return {}
    rows = session.exec(select(Report).where(Report.source_id == source_id, col(Report.event_id).in_(ids)))
    return {r.event_id: r for r in rows}


def get_report(session: Session, ref: str) -> Report | None:
    return session.get(Report, ref)


def subject_key(cpr: str | None) -> str | None:
    return hashlib.sha256(cpr.encode()).hexdigest() if cpr else None


def case_for(session: Session, key: str | None, now: datetime) -> Case:
    """The subject's open case, or a new one (an area observation always gets a new one)."""
    if key is not None:
        found = session.exec(select(Case).where(Case.subject_key == key).order_by(col(Case.id))).first()
        if found is not None:
            return found
    case = Case(subject_key=key, created_at=now)
    session.add(case)
    session.flush()
    return case


def add_outbox(
    session: Session, stream: str, event: dict[str, Any], now: datetime, relay_after: datetime | None = None
) -> Outbox:
    row = Outbox(stream=stream, event=event, created_at=now, relay_after=relay_after)
    session.add(row)
    return row


def encode_fields(fields: dict[bytes, bytes]) -> bytes:
    """An entry's fields as bytes, losslessly: `<len>:<key><len>:<value>` for each, in order."""
    out = bytearray()
    for key, value in fields.items():
        for part in (key, value):
            out += b"%d:" % len(part) + part
    return bytes(out)


def decode_fields(payload: bytes, encoding: str = PAYLOAD_FIELDS_V1) -> dict[bytes, bytes]:
    """The fields `encode_fields` wrote. Raises ValueError if the payload cannot be restored exactly."""
    if encoding == PAYLOAD_KV_LINES:
        # The old form joined `key=value` with newlines: only a lone `event` field is unambiguous.
        if payload.startswith(b"event="):
            return {b"event": payload[len(b"event=") :]}
        raise ValueError("this dead letter predates lossless storage and holds no `event` field")
    if encoding != PAYLOAD_FIELDS_V1:
        raise ValueError(f"unknown payload encoding {encoding!r}")
    parts: list[bytes] = []
    pos = 0
    while pos < len(payload):
        colon = payload.index(b":", pos)
        length = int(payload[pos:colon])
        end = colon + 1 + length
        if length < 0 or end > len(payload):
            raise ValueError("truncated dead-letter payload")
        parts.append(payload[colon + 1 : end])
        pos = end
    if len(parts) % 2:
        raise ValueError("dead-letter payload has a key without a value")
    return dict(zip(parts[::2], parts[1::2], strict=True))


def add_deadletter(session: Session, entry: Entry, reason: str, detail: str, now: datetime) -> None:
    """Keep the entry whole in the database; put a redacted record on `hub.deadletter.v1`."""
    record, event = _deadletter_rows(entry, reason, detail, now)
    session.add(DeadLetterRecord(**record))
    add_outbox(session, streams.DEADLETTER, event, now)


def _deadletter_rows(entry: Entry, reason: str, detail: str, now: datetime) -> tuple[dict[str, Any], dict[str, Any]]:
    """The dead-letter row (the entry's fields, losslessly) and its redacted event."""
    payload = encode_fields(entry.fields)
    digest = hashlib.sha256(payload).hexdigest()
    record = {
        "stream": entry.stream,
        "entry_id": entry.entry_id,
        "reason": reason,
        "detail": detail,
        "deliveries": entry.deliveries,
        "payload": payload,
        "payload_encoding": PAYLOAD_FIELDS_V1,
        "payload_sha256": digest,
        "created_at": now,
    }
    data = DeadLetter(
        stream=entry.stream,
        entry_id=entry.entry_id,
        reason=reason,
        detail=detail,
        deliveries=entry.deliveries,
        payload_sha256=digest,
        payload_bytes=len(payload),
    )
    return record, new_event(MESSAGE_DEADLETTERED, data, now=now)


def deadletters(
    session: Session, *, stream: str | None = None, reason: str | None = None, limit: int = 100
) -> list[DeadLetterRecord]:
    """Dead letters, newest first."""
    query = select(DeadLetterRecord).order_by(col(DeadLetterRecord.id).desc()).limit(limit)
    if stream:
        query = query.where(DeadLetterRecord.stream == stream)
    if reason:
        query = query.where(DeadLetterRecord.reason == reason)
    return list(session.exec(query))


def deadletter(session: Session, record_id: int, *, for_update: bool = False) -> DeadLetterRecord | None:
    query = select(DeadLetterRecord).where(DeadLetterRecord.id == record_id)
    if for_update:
        query = query.with_for_update()
    return session.exec(query).first()


def record_replay(record: DeadLetterRecord, new_entry_id: str, now: datetime) -> None:
    record.replayed_at = now
    record.replay_count += 1
    record.replay_entry_id = new_entry_id


def triage_items(session: Session, queue: str | None = None, status: str | None = "open") -> list[TriageItem]:
    query = select(TriageItem).order_by(col(TriageItem.created_at))
    if queue:
        query = query.where(TriageItem.queue == queue)
    if status:
        query = query.where(TriageItem.status == status)
    return list(session.exec(query))


def reports_by_ref(session: Session, refs: Iterable[str]) -> dict[str, tuple[dict[str, Any], int | None]]:
    """Stored reports: ref -> (the report as accepted, its case id)."""
    unique = list(set(refs))
    if not unique:
        return {}
    rows = session.connection().execute(_REPORTS_BY_REF, {"refs": unique})
    return {ref: (payload, case_id) for ref, payload, case_id in rows}


def insert_decisions(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """Insert decision rows (in order, in one statement) and return their ids."""
    return _insert_with_ids(session.connection(), _table(Decision), rows) if rows else []


def mark_decided(session: Session, report_refs: Iterable[str], now: datetime) -> None:
    """The triage items of these reports are decided (no item: nothing to do)."""
    if refs := list(set(report_refs)):
        session.connection().execute(_MARK_DECIDED, {"refs": refs, "now": now})


def triage_item(session: Session, report_ref: str) -> TriageItem | None:
    return session.exec(select(TriageItem).where(TriageItem.report_ref == report_ref)).first()


def decision_exists(session: Session, source_id: str, event_id: str) -> bool:
    row = session.exec(
        select(Decision.id).where(Decision.source_id == source_id, Decision.event_id == event_id)
    ).first()
    return row is not None


def disclosures_for(session: Session, report_ref: str) -> list[Disclosure]:
    return list(
        session.exec(select(Disclosure).where(Disclosure.report_ref == report_ref).order_by(col(Disclosure.id)))
    )


def disclosures_about(session: Session, cpr: str) -> list[Disclosure]:
    """Every disclosure about the person with this CPR number (the data subject's right of
    access to the log): all their cases, oldest first."""
    key = subject_key(cpr)
    case_ids = list(session.exec(select(Case.id).where(Case.subject_key == key)))
    if not case_ids:
        return []
    return list(
        session.exec(
            select(Disclosure).where(col(Disclosure.case_id).in_(case_ids)).order_by(col(Disclosure.created_at))
        )
    )


def receipts_by_event(
    session: Session, source_id: str, event_ids: Iterable[str]
) -> dict[str, tuple[str, dict[str, Any] | str]]:
    """Reports already stored for these CloudEvent ids: event id -> (report ref, receipt sent)."""
    ids = list(set(event_ids))
    if not ids:
        return {}
    rows = session.connection().execute(_RECEIPTS_BY_EVENT, {"source_id": source_id, "ids": ids})
    return {event_id: (ref, receipt) for event_id, ref, receipt in rows}


@dataclass(frozen=True, slots=True)
class CaseRef:
    """A case the batch finds or creates when it is written (its id is not known before)."""

    slot: int


# Parents before children: a row's foreign keys point at rows written before it.
_BATCH_TABLES: tuple[Table, ...] = tuple(
    _table(m) for m in (Report, TriageItem, Disclosure, DeadLetterRecord, Outbox, ProcessedEntry)
)


_OUTBOX, _PROCESSED = _table(Outbox), _table(ProcessedEntry)


class RowBatch:
    """The rows of one transaction, written with one multi-row INSERT per table.

    Core inserts, no ORM objects: a report costs a handful of parameter rows, not a unit of
    work per row. Cases are resolved first (the subject's oldest case, as `case_for`, or a new
    one; an area observation always gets a new one), then the rows that refer to them. Rows of
    one table are written in the order they were added, so outbox ids follow the order of
    `outbox()` calls. Every row of a table must be added with the same columns.

    With `publish_grace`, the caller publishes the outbox rows itself once the transaction has
    committed (`published`: id, stream and JSON text of each); the relay leaves them alone
    for that long and sends only those still unsent then.
    """

    def __init__(self, now: datetime, publish_grace: timedelta | None = None) -> None:
        self.now = now
        self._relay_after = now + publish_grace if publish_grace is not None else None
        self.published: list[OutboxRow] = []
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
        self._rows[_table(model)].append(values)

    def outbox(self, stream: str, event: dict[str, Any] | str) -> None:
        """`event`: the CloudEvent as a dict, or already as JSON text (`hub.store.db.JsonText`).
        Encoded here, once: the same text is stored and published."""
        text = JsonText(dump_json(event))
        row = {"stream": stream, "event": text, "created_at": self.now, "relay_after": self._relay_after}
        self._rows[_OUTBOX].append(row)

    def deadletter(self, entry: Entry, reason: str, detail: str) -> None:
        """As `add_deadletter`, in this batch."""
        record, event = _deadletter_rows(entry, reason, detail, self.now)
        self._rows[_table(DeadLetterRecord)].append(record)
        self.outbox(streams.DEADLETTER, event)

    def processed(self, stream: str, entry_id: str) -> None:
        self._rows[_PROCESSED].append({"stream": stream, "entry_id": entry_id, "processed_at": self.now})

    def write(self, session: Session) -> None:
        """Insert everything added since the last write, in the session's transaction."""
        conn = session.connection()
        if conn.dialect.name == "postgresql":
            self._write_postgresql(conn)
            return
        self._write_cases(session)
        for table in _BATCH_TABLES:
            rows = self._take(table)
            if not rows:
                continue
            if table is _OUTBOX and self._relay_after is not None:
                ids = _insert_with_ids(conn, table, rows)
                self.published += [(i, r["stream"], str(r["event"])) for i, r in zip(ids, rows, strict=True)]
            elif conn.dialect.name == "sqlite":
                _executemany_sqlite(conn, table, rows)
            else:
                conn.execute(insert(table), rows)

    def _take(self, table: Table) -> list[dict[str, Any]]:
        """The table's rows added since the last write, with their cases' ids filled in."""
        rows, self._rows[table] = self._rows[table], []
        for row in rows:
            if isinstance(ref := row.get("case_id"), CaseRef):
                row["case_id"] = self._ids[ref.slot]
        return rows

    def _write_postgresql(self, conn: Connection) -> None:
        """One round trip finds the cases and draws the new ids (cases, and outbox rows to
        publish); then the rows go in, parents first. Few round trips matter as much as few
        rows: each one lets go of the GIL, and a busy process takes long to get it back."""
        todo = [slot for slot in range(len(self._keys)) if slot not in self._ids]
        outbox = self._rows[_OUTBOX] if self._relay_after is not None else []
        cases, outbox_ids = _reserve_ids(conn, [self._keys[slot] for slot in todo], len(outbox))
        new_cases = []
        for slot, (case_id, new) in zip(todo, cases, strict=True):
            self._ids[slot] = case_id
            if new:
                new_cases.append({"id": case_id, "subject_key": self._keys[slot], "created_at": self.now})
        tables = [(_CASE, new_cases)]
        for table in _BATCH_TABLES:
            rows = self._take(table)
            if table is _OUTBOX and outbox_ids:
                rows = [{"id": i, **row} for i, row in zip(outbox_ids, rows, strict=True)]
                self.published += [(r["id"], r["stream"], str(r["event"])) for r in rows]
            tables.append((table, rows))
        _insert_postgresql(conn, [(table, rows) for table, rows in tables if rows])

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


_CASE = _table(Case)


def _oldest_cases(conn: Connection, keys: list[str]) -> dict[str, int]:
    """The oldest case of each subject key (SQLite; PostgreSQL: `_reserve_ids`)."""
    rows = conn.execute(_OLDEST_CASES, {"keys": keys})
    return {k: i for k, i in rows if k is not None and i is not None}


# Each slot's case: the subject's oldest (as `case_for`), or a new id from the sequence (no key:
# always new). COALESCE evaluates `nextval` only where nothing was found. The oldest cases are
# found in one pass over the subject-key index (GROUP BY), not with `min(id)` per key, which
# PostgreSQL plans as a walk along the primary key: the whole table for a subject it has never
# seen. Array parameters, so the statement text is the same for every batch (psycopg and the
# server keep it prepared).
_PG_CASE_IDS = """
SELECT coalesce(oldest.id, nextval(pg_get_serial_sequence('"case"', 'id'))), oldest.id IS NULL
FROM unnest(%(keys)s::text[]) WITH ORDINALITY AS k(key, n)
LEFT JOIN (SELECT subject_key, min(id) AS id FROM "case" WHERE subject_key = ANY(%(keys)s) GROUP BY subject_key)
    AS oldest ON oldest.subject_key = k.key
ORDER BY k.n"""
_PG_OUTBOX_IDS = "SELECT nextval(pg_get_serial_sequence('outbox', 'id')) FROM generate_series(1, %(count)s)"


def _reserve_ids(conn: Connection, keys: list[str | None], outbox: int) -> tuple[list[tuple[int, bool]], list[int]]:
    """PostgreSQL, in one round trip (a pipeline): for each key, its case id and whether that
    case is new (to be inserted with that id); and `outbox` new outbox ids, ascending."""
    raw = _psycopg(conn)
    with _driver_errors(conn, _PG_CASE_IDS), raw.pipeline(), raw.cursor() as by_key, raw.cursor() as by_count:
        if keys:
            by_key.execute(_PG_CASE_IDS, {"keys": keys})
        if outbox:
            by_count.execute(_PG_OUTBOX_IDS, {"count": outbox})
        cases = [(int(i), bool(new)) for i, new in by_key.fetchall()] if keys else []
        ids = sorted(int(i) for (i,) in by_count.fetchall()) if outbox else []
    return cases, ids


@contextlib.contextmanager
def _driver_errors(conn: Connection, sql: str) -> Iterator[None]:
    """Driver errors raised as SQLAlchemy's, as from a Core statement (a unique violation is an
    `IntegrityError`): for the statements sent past SQLAlchemy on the driver's connection."""
    dbapi = conn.dialect.loaded_dbapi
    try:
        yield
    except dbapi.Error as exc:
        raise DBAPIError.instance(sql, None, exc, dbapi.Error, dialect=conn.dialect) from exc


def _psycopg(conn: Connection) -> psycopg.Connection[Any]:
    return cast("psycopg.Connection[Any]", conn.connection.dbapi_connection)


def _insert_with_ids(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> list[int]:
    """Insert `rows` (in order) and return their ids (not PostgreSQL: `_reserve_ids`)."""
    if conn.dialect.name == "sqlite":
        # One writer holds the database from the first insert on, and SQLite gives each new
        # row the largest rowid so far plus one: the batch's ids are consecutive.
        _executemany_sqlite(conn, table, rows)
        last = int(conn.exec_driver_sql("SELECT last_insert_rowid()").scalar_one())
        return list(range(last - len(rows) + 1, last + 1))
    result = conn.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows)
    return [i for (i,) in result]


def _defaults(table: Table, given: dict[str, Any]) -> list[tuple[str, Any]]:
    """The model's scalar column defaults for the columns a row does not give."""
    return [
        (c.name, c.default.arg)  # type: ignore[attr-defined]
        for c in table.columns
        if c.name not in given and c.default is not None and c.default.is_scalar
    ]


def _executemany_sqlite(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """SQLite: one `executemany` on the driver, values converted as SQLAlchemy's SQLite types
    store them (JSON as text, DATETIME as `YYYY-MM-DD HH:MM:SS.ffffff`), without SQLAlchemy's
    per-row parameter processing, which costs more than SQLite's own work on this path."""
    given = list(rows[0])
    defaults = _defaults(table, rows[0])
    json_columns = {c.name for c in table.columns if isinstance(c.type, JSON)}
    quote = conn.dialect.identifier_preparer.quote
    names = [*given, *(name for name, _ in defaults)]
    marks = ", ".join("?" * len(names))
    # Identifiers from the table's metadata, quoted; values only as parameters.
    sql = f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) VALUES ({marks})"  # noqa: S608
    tail = [value for _, value in defaults]
    params = []
    for row in rows:
        values = []
        for name in given:
            value = row[name]
            if value is None:
                pass
            elif name in json_columns:
                value = dump_json(value)
            elif isinstance(value, datetime):
                value = _sqlite_datetime(value)
            values.append(value)
        params.append(values + tail)
    raw = cast("sqlite3.Connection", conn.connection.dbapi_connection)
    with _driver_errors(conn, sql):
        cursor = raw.cursor()
        try:
            cursor.executemany(sql, params)
        finally:
            cursor.close()


@functools.lru_cache(maxsize=16)
def _sqlite_datetime(value: datetime) -> str:
    """As SQLAlchemy's SQLite DATETIME stores it (the time zone is not stored). One `now` per
    batch, so formatted once."""
    return (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d} "
        f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}.{value.microsecond:06d}"
    )


# Up to this many rows of a table: INSERTs sent in a pipeline with the other small tables (no
# round trip of their own); more: COPY, which costs the server less per row but two round trips.
PIPELINE_MAX_ROWS = 32


def _insert_postgresql(conn: Connection, tables: list[tuple[Table, list[dict[str, Any]]]]) -> None:
    """PostgreSQL: the tables' rows, in order (parents first): small tables as INSERTs in one
    pipeline, larger ones with `COPY ... FROM STDIN`. Driver errors are raised as SQLAlchemy's
    (a unique violation is an `IntegrityError`, as from a Core insert)."""
    small: list[tuple[Table, list[dict[str, Any]]]] = []
    for table, rows in tables:
        if len(rows) <= PIPELINE_MAX_ROWS:
            small.append((table, rows))
            continue
        _pipelined_inserts(conn, small)
        small = []
        _copy(conn, table, rows)
    _pipelined_inserts(conn, small)


def _pipelined_inserts(conn: Connection, tables: list[tuple[Table, list[dict[str, Any]]]]) -> None:
    if not tables:
        return
    quote = conn.dialect.identifier_preparer.quote
    statements = []
    for table, rows in tables:
        names, values = _pg_values(conn, table, rows)
        marks = ", ".join(["%s"] * len(names))
        # Identifiers from the table's metadata, quoted; values only as parameters.
        sql = f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) VALUES ({marks})"  # noqa: S608
        statements.append((sql, values))
    raw = _psycopg(conn)
    with _driver_errors(conn, "; ".join(sql for sql, _ in statements)), raw.pipeline(), raw.cursor() as cursor:
        for sql, values in statements:
            cursor.executemany(sql, values)


def _copy(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """PostgreSQL: the rows in one `COPY ... FROM STDIN` instead of a statement per row."""
    names, values = _pg_values(conn, table, rows)
    quote = conn.dialect.identifier_preparer.quote
    sql = f"COPY {quote(table.name)} ({', '.join(quote(name) for name in names)}) FROM STDIN"
    with _driver_errors(conn, sql), _psycopg(conn).cursor() as cursor, cursor.copy(sql) as copy:
        for row in values:
            copy.write_row(row)


def _pg_values(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    """The column names and each row's values as the Core insert would bind them: JSON as text
    (`JsonText` as it is), aware datetimes as the session's local time (PostgreSQL's own cast to
    `timestamp`), column defaults of the model for the columns not given."""
    given = list(rows[0])
    defaults = _defaults(table, rows[0])
    json_columns = {c.name for c in table.columns if isinstance(c.type, JSON)}
    zone = _session_zone(conn)
    tail = [value for _, value in defaults]
    json_at = [i for i, name in enumerate(given) if name in json_columns]
    time_at = [i for i, name in enumerate(given) if _is_datetime(table.c[name])]
    local: dict[datetime, datetime] = {}  # a batch has one `now`: converted once
    out = []
    for row in rows:
        values = [row[name] for name in given]
        for i in json_at:
            if values[i] is not None:
                values[i] = dump_json(values[i])
        for i in time_at:
            if (value := values[i]) is not None and value.tzinfo is not None:
                if (converted := local.get(value)) is None:
                    converted = local[value] = value.astimezone(zone).replace(tzinfo=None)
                values[i] = converted
        values += tail
        out.append(values)
    return [*given, *(name for name, _ in defaults)], out


def _is_datetime(column: Column[Any]) -> bool:
    """A DATETIME column, also behind a type decorator (SQLModel's `UTCDateTime`)."""
    return isinstance(column.type, DateTime) or isinstance(getattr(column.type, "impl", None), DateTime)


def _session_zone(conn: Connection) -> tzinfo:
    """The session's TimeZone setting, which turns an aware datetime into a `timestamp`. Asked
    once per database connection (the hub never changes it), not once per COPY."""
    zone: tzinfo | None = conn.info.get("hub_time_zone")
    if zone is None:
        name = str(conn.exec_driver_sql("SHOW TimeZone").scalar())
        zone = conn.info["hub_time_zone"] = ZoneInfo(name)
    return zone
