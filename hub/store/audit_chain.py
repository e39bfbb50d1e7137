"""The audit chain: one hash chain over the hub's append-only records.

Every chained record (a disclosure log row, a dead-letter access record, a staff access
record, a claim event, a retention checkpoint) gets one row in `audit_chain`: a sequence
number, the SHA-256 of the record's canonical content and a hash that links it to the row
before. Editing, deleting, inserting or moving a record breaks the chain at that row
(`hub.store.audit_verify` finds it); the head (sequence and hash) is published to
`hub.audit.anchor.v1`, so a copy kept outside the database proves the history up to it.

Why one chain table over several record tables, not hash columns on each: one sequence and one
lock for every kind of record, one head to publish and keep; and a record table joins without
new columns: declare its `ChainedKind` here and call `append()` in the transaction that writes
its rows.

Appends are serialised per transaction, not per row: on PostgreSQL by a transaction-level
advisory lock taken before the head is read (held until commit); SQLite has one writer at a
time anyway. The primary key on `seq` turns any race that slipped through into an error, never
into a fork.

On PostgreSQL the rows are linked by the server (`PG_APPEND`), sent with the lock in one round
trip (with a batch's own rows, when they are few): every writer of disclosures queues for that
lock, an urgent alert's transaction too, so it is held only while the server inserts and
commits, not while a busy client process hashes the records and waits for its turn to send the
next statement (issue #17: lock waits of up to 80 ms under a steady load, the urgent alert's
tail). The records' content hashes, the costly part, are taken before the lock. `link` below
is the one definition; the statement repeats it in SQL, and `audit_verify` checks every row
it writes against it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

import orjson
from sqlalchemy import String, Table, cast, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, SQLModel

from hub.store.bulk import driver_errors, executemany_sqlite, psycopg_of, session_zone, table_of
from hub.store.db import JsonText
from hub.store.models import (
    AccessRecord,
    AdminAction,
    AuditChain,
    AuditCheckpoint,
    ClaimEvent,
    DeadLetterAccess,
    Disclosure,
)

GENESIS = "0" * 64  # the `prev_hash` of the first row
LOCK_KEY = 0x4855_4202  # "HUB" 2: the advisory lock of chain appends (0x…4201 is the migration's)

CHAIN: Table = table_of(AuditChain)
_HEAD = select(CHAIN.c.seq, CHAIN.c.hash).order_by(CHAIN.c.seq.desc()).limit(1)
PG_LOCK = f"SELECT pg_advisory_xact_lock({LOCK_KEY})"
PG_HEAD = "SELECT seq, hash FROM audit_chain ORDER BY seq DESC LIMIT 1"
# After `PG_LOCK` (a statement of its own: READ COMMITTED reads each statement's snapshot at its
# start, so this one sees the rows of the lock's previous holder): the records' chain rows after
# the head, linked as `link` does (seq, kind, key, content hash and the previous hash, one per
# line, SHA-256 as hex), and the new head.
PG_APPEND = r"""
WITH RECURSIVE
  head AS (SELECT seq, hash FROM audit_chain ORDER BY seq DESC LIMIT 1),
  chained(n, seq, prev, hash) AS (
    SELECT 0, coalesce((SELECT seq FROM head), 0), NULL::text, coalesce((SELECT hash FROM head), %(genesis)s)::text
    UNION ALL
    SELECT n + 1, seq + 1, hash, encode(sha256(convert_to(concat_ws(E'\n',
        seq + 1, %(kind)s::text, (%(keys)s::text[])[n + 1], (%(contents)s::text[])[n + 1], hash), 'UTF8')), 'hex')
    FROM chained WHERE n < cardinality(%(keys)s::text[])
  ),
  added AS (
    INSERT INTO audit_chain (seq, kind, record_key, content_hash, prev_hash, hash)
    SELECT seq, %(kind)s::text, (%(keys)s::text[])[n], (%(contents)s::text[])[n], prev, hash FROM chained WHERE n > 0
    RETURNING seq, hash
  )
SELECT seq, hash FROM added ORDER BY seq DESC LIMIT 1"""


@dataclass(frozen=True, slots=True)
class ChainedKind:
    """A table whose rows join the chain.

    `key`: the column that names a record for good (the chain row refers to it); `fields`: the
    canonical content, listed explicitly so a new column does not silently change old hashes;
    `time` and `retention`: the record's time and the agreement's `retention_days` key, which
    the retention job prunes the chain by; `optional`: columns added after rows were chained,
    hashed only where set, so a record written before the column existed keeps its hash."""

    name: str
    model: type[SQLModel]
    key: str
    fields: tuple[str, ...]
    time: str
    retention: str
    optional: tuple[str, ...] = ()

    @property
    def table(self) -> Table:
        return table_of(self.model)

    @property
    def key_text(self) -> ColumnElement[Any]:
        """The key column as text, to compare with `audit_chain.record_key` (an integer id is
        cast: PostgreSQL compares no text with an integer)."""
        column = self.table.c[self.key]
        return column if isinstance(column.type, String) else cast(column, String)


DISCLOSURE = ChainedKind(
    "disclosure",
    Disclosure,
    key="ref",
    fields=(
        "ref",
        "report_ref",
        "case_id",
        "decision_id",
        "recipient",
        "structure",
        "kind",
        "effect",
        "fields",
        "legal_basis",
        "rule_ids",
        "reasons",
        "purpose",
        "policy_version",
        "created_at",
    ),
    time="created_at",
    retention="disclosure_log",
)
DEADLETTER_ACCESS = ChainedKind(
    "deadletter_access",
    DeadLetterAccess,
    key="ref",
    fields=("ref", "deadletter_id", "stream", "entry_id", "action", "actor", "os_user", "reason", "new_entry_id", "at"),
    time="at",
    retention="disclosure_log",
)
# The staff access log (`hub.store.access.record_access`). Keyed by its id: the row is flushed
# before it is chained, and ids are never reused while a row with a higher one is kept.
ACCESS = ChainedKind(
    "access",
    AccessRecord,
    key="id",
    fields=("id", "staff", "report_ref", "case_id", "ground", "reason", "flagged", "at"),
    time="at",
    retention="disclosure_log",
)
# Claims, releases and takeovers of triage items (`hub.store.claims`): who owned a case when.
CLAIM_EVENT = ChainedKind(
    "claim_event",
    ClaimEvent,
    key="id",
    fields=("id", "report_ref", "action", "staff", "previous", "at"),
    time="at",
    retention="disclosure_log",
    optional=("assigned_by",),  # who assigned the item (migration 0012)
)
# What administrators changed (`hub.store.admin_log`): accounts and source tokens, no secrets.
ADMIN_ACTION = ChainedKind(
    "admin_action",
    AdminAction,
    key="id",
    fields=("id", "actor", "action", "target", "detail", "at"),
    time="at",
    retention="disclosure_log",
)
CHECKPOINT = ChainedKind(
    "checkpoint",
    AuditCheckpoint,
    key="ref",
    fields=("ref", "through_seq", "through_hash", "records", "created_at"),
    time="created_at",
    retention="",  # never pruned by age: the newest checkpoint says where the chain starts
)

# Every kind, by name. A new append-only record table joins by adding its kind here.
KINDS: dict[str, ChainedKind] = {
    k.name: k for k in (DISCLOSURE, DEADLETTER_ACCESS, ACCESS, CLAIM_EVENT, ADMIN_ACTION, CHECKPOINT)
}


@dataclass(frozen=True, slots=True)
class Head:
    seq: int
    hash: str

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"


def utc_text(value: datetime, zone: tzinfo | None) -> str:
    """A stored time as UTC ISO text. `zone`: the zone a naive time is in (PostgreSQL's session
    zone); None: SQLite, which keeps the wall-clock time as written, the zone dropped (UTC)."""
    if zone is None:
        value = value.replace(tzinfo=UTC)
    elif value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _plain(value: Any, zone: tzinfo | None) -> Any:
    if isinstance(value, datetime):
        return utc_text(value, zone)
    if isinstance(value, JsonText):
        return orjson.loads(str.__str__(value))  # orjson takes no subclass of str
    return value


def canonical(kind: ChainedKind, record: Mapping[str, Any], zone: tzinfo | None) -> bytes:
    """The record's canonical content: its kind's fields, keys sorted, times as UTC ISO text."""
    content = {name: _plain(record.get(name), zone) for name in kind.fields}
    content |= {name: _plain(record[name], zone) for name in kind.optional if record.get(name) is not None}
    return orjson.dumps({"kind": kind.name, "content": content}, option=orjson.OPT_SORT_KEYS)


def content_hash(kind: ChainedKind, record: Mapping[str, Any], zone: tzinfo | None) -> str:
    return hashlib.sha256(canonical(kind, record, zone)).hexdigest()


def link(seq: int, kind: str, key: str, content: str, prev: str) -> str:
    """The hash of a chain row: its place, its record and the row before."""
    return hashlib.sha256(f"{seq}\n{kind}\n{key}\n{content}\n{prev}".encode()).hexdigest()


def stored_zone(conn: Connection) -> tzinfo | None:
    """The zone naive times of this database are in (see `utc_text`)."""
    return session_zone(conn) if conn.dialect.name == "postgresql" else None


def chain_rows(
    head: Head | None, kind: ChainedKind, records: Iterable[Mapping[str, Any]], zone: tzinfo | None
) -> list[dict[str, Any]]:
    """The chain rows of `records` (in order), after `head`."""
    seq, prev = (head.seq, head.hash) if head is not None else (0, GENESIS)
    rows = []
    for record in records:
        seq += 1
        key = str(record[kind.key])
        digest = content_hash(kind, record, zone)
        linked = link(seq, kind.name, key, digest, prev)
        rows.append({"seq": seq, "kind": kind.name, "record_key": key, "content_hash": digest, "prev_hash": prev,
                     "hash": linked})  # fmt: skip
        prev = linked
    return rows


def locked_head(conn: Connection) -> Head | None:
    """Take the chain's append lock for this transaction (PostgreSQL), then read its head."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(PG_LOCK)
    found = conn.execute(_HEAD).first()
    return Head(int(found[0]), str(found[1])) if found is not None else None


def head(session: Session) -> Head | None:
    """The chain's newest row (no lock: for reading)."""
    found = session.connection().execute(_HEAD).first()
    return Head(int(found[0]), str(found[1])) if found is not None else None


def insert_chain(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        return
    if conn.dialect.name == "sqlite":
        executemany_sqlite(conn, CHAIN, list(rows))
    else:
        conn.execute(insert(CHAIN), list(rows))


def append(session: Session, kind: ChainedKind, records: Sequence[Mapping[str, Any]]) -> Head | None:
    """Chain `records`, already inserted in this session's transaction (on SQLite that insert
    has made this transaction the writer, so the head read next stays the head). Returns the
    new head. One lock and one read per call, whatever the number of records."""
    if not records:
        return None
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        return append_postgresql(conn, kind, records)
    rows = chain_rows(locked_head(conn), kind, records, stored_zone(conn))
    insert_chain(conn, rows)
    return Head(rows[-1]["seq"], rows[-1]["hash"])


def append_postgresql(conn: Connection, kind: ChainedKind, records: Sequence[Mapping[str, Any]]) -> Head:
    """PostgreSQL: chain `records` (at least one) in one round trip (`append_statements` in a
    pipeline) and return the new head."""
    raw = psycopg_of(conn)
    (lock_sql, _), (append_sql, params) = append_statements(conn, kind, records)
    with driver_errors(conn, append_sql), raw.pipeline(), raw.cursor() as lock, raw.cursor() as cursor:
        lock.execute(lock_sql)
        cursor.execute(append_sql, params)
        found = cursor.fetchone()
    if found is None:  # no records: nothing was chained
        raise ValueError("append_postgresql needs at least one record")
    return Head(int(found[0]), str(found[1]))


def append_statements(
    conn: Connection, kind: ChainedKind, records: Sequence[Mapping[str, Any]]
) -> list[tuple[str, dict[str, Any] | None]]:
    """PostgreSQL: the two statements that chain `records`, in order (the lock, then
    `PG_APPEND`), to be sent in one pipeline, alone or after the batch's inserts
    (`hub.store.bulk.insert_postgresql`). The records' content hashes are taken here, before
    the lock."""
    zone = stored_zone(conn)
    keys = [str(record[kind.key]) for record in records]
    contents = [content_hash(kind, record, zone) for record in records]
    return [(PG_LOCK, None), (PG_APPEND, {"genesis": GENESIS, "kind": kind.name, "keys": keys, "contents": contents})]
