"""Bulk writers on the driver: many rows of a table in one statement, pipeline or COPY.

The fast path of every batch transaction (`hub.store.rows.RowBatch` uses them): Core and raw
driver calls instead of ORM objects, for SQLite and PostgreSQL. Also the outbox's `mark_sent`.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator, Sequence
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, Column, DateTime, Table, insert, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlmodel import SQLModel

from hub.store.db import dump_json
from hub.store.models import Outbox

if TYPE_CHECKING:
    import sqlite3

    import psycopg


def table_of(model: type[SQLModel]) -> Table:
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table


OutboxRow = tuple[int, str, str]  # id, stream, the CloudEvent as JSON text


def mark_sent(conn: Connection, ids: Sequence[int], now: datetime) -> None:
    """Outbox rows sent. On PostgreSQL in one round trip (a pipeline), and without waiting for
    the commit to reach the disk: a mark lost in a crash only makes the relay send the row
    again, which at-least-once allows."""
    if conn.dialect.name != "postgresql":
        conn.execute(update(table_of(Outbox)).where(table_of(Outbox).c.id.in_(ids)).values(sent_at=now))
        return
    sql = "UPDATE outbox SET sent_at = %(now)s WHERE id = ANY(%(ids)s)"
    raw = psycopg_of(conn)
    with driver_errors(conn, sql), raw.pipeline(), raw.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO OFF")
        cursor.execute(sql, {"now": now, "ids": list(ids)})


# Each slot's case: the subject's oldest (as `case_for`), or a new id from the sequence (no key:
# always new). COALESCE evaluates `nextval` only where nothing was found. Each key is looked up
# on its own (LATERAL, ORDER BY id LIMIT 1): the first entry of the (subject_key, id) index, the
# one plan there is whatever the planner knows of the table. Looked up all at once (`subject_key
# = ANY(keys)`), a table never analysed (a new deployment, a burst autovacuum has not caught up
# with) gets the default estimate of 0.5 % of the rows per key, so a batch of keys "matches" the
# whole table and is planned as a sequential scan of `case` in every transaction (issue #17's
# steady load: 26 to 39 scans a second over 23,000 cases, 5 ms each). Array parameters, so the
# statement text is the same for every batch (psycopg and the server keep it prepared).
_PG_CASE_IDS = """
SELECT coalesce(oldest.id, nextval(pg_get_serial_sequence('"case"', 'id'))), oldest.id IS NULL
FROM unnest(%(keys)s::text[]) WITH ORDINALITY AS k(key, n)
LEFT JOIN LATERAL (SELECT id FROM "case" WHERE subject_key = k.key ORDER BY id LIMIT 1) AS oldest ON true
ORDER BY k.n"""
_PG_OUTBOX_IDS = "SELECT nextval(pg_get_serial_sequence('outbox', 'id')) FROM generate_series(1, %(count)s)"


def reserve_ids(
    conn: Connection, keys: list[str | None], outbox: int, chain_head: tuple[str, str] | None = None
) -> tuple[list[tuple[int, bool]], list[int], tuple[int, str] | None]:
    """PostgreSQL, in one round trip (a pipeline): for each key, its case id and whether that
    case is new (to be inserted with that id); `outbox` new outbox ids, ascending; and with
    `chain_head` (the two statements that take the audit chain's lock, then read its head: see
    `hub.store.audit_chain`), the chain's head as (seq, hash), or None while it is empty."""
    raw = psycopg_of(conn)
    with (
        driver_errors(conn, _PG_CASE_IDS),
        raw.pipeline(),
        raw.cursor() as by_key,
        raw.cursor() as by_count,
        raw.cursor() as chain,
    ):
        if chain_head is not None:
            lock, read = chain_head
            chain.execute(lock)  # the lock first: the head is read once this transaction holds it
            chain.execute(read)
        if keys:
            by_key.execute(_PG_CASE_IDS, {"keys": keys})
        if outbox:
            by_count.execute(_PG_OUTBOX_IDS, {"count": outbox})
        cases = [(int(i), bool(new)) for i, new in by_key.fetchall()] if keys else []
        ids = sorted(int(i) for (i,) in by_count.fetchall()) if outbox else []
        head = chain.fetchone() if chain_head is not None else None
    return cases, ids, (int(head[0]), str(head[1])) if head is not None else None


@contextlib.contextmanager
def driver_errors(conn: Connection, sql: str) -> Iterator[None]:
    """Driver errors raised as SQLAlchemy's, as from a Core statement (a unique violation is an
    `IntegrityError`): for the statements sent past SQLAlchemy on the driver's connection."""
    dbapi = conn.dialect.loaded_dbapi
    try:
        yield
    except dbapi.Error as exc:
        raise DBAPIError.instance(sql, None, exc, dbapi.Error, dialect=conn.dialect) from exc


def psycopg_of(conn: Connection) -> psycopg.Connection[Any]:
    return cast("psycopg.Connection[Any]", conn.connection.dbapi_connection)


def insert_with_ids(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> list[int]:
    """Insert `rows` (in order) and return their ids (not PostgreSQL: `reserve_ids`)."""
    if conn.dialect.name == "sqlite":
        # One writer holds the database from the first insert on, and SQLite gives each new
        # row the largest rowid so far plus one: the batch's ids are consecutive.
        executemany_sqlite(conn, table, rows)
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


def executemany_sqlite(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
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
    with driver_errors(conn, sql):
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


Statement = tuple[str, dict[str, Any] | None]  # SQL with psycopg's placeholders, its parameters


def in_list(name: str, values: Sequence[Any]) -> tuple[str, dict[str, Any]]:
    """`%(name_0)s, %(name_1)s, ...` and their parameters: an IN list as SQLAlchemy's expanding
    parameter renders it (one text per length), so the planner sees each value, as it does for
    the Core statement it stands in for."""
    names = [f"{name}_{i}" for i in range(len(values))]
    return ", ".join(f"%({n})s" for n in names), dict(zip(names, values, strict=True))


def insert_postgresql(
    conn: Connection, tables: list[tuple[Table, list[dict[str, Any]]]], then: Sequence[Statement] = ()
) -> None:
    """PostgreSQL: the tables' rows, in order (parents first): small tables as INSERTs in one
    pipeline, larger ones with `COPY ... FROM STDIN`; then the statements `then` (the audit
    chain's), in the pipeline of the last small tables: a transaction of a few reports (an
    urgent alert's) sends its rows and its chain rows in one round trip. Driver errors are
    raised as SQLAlchemy's (a unique violation is an `IntegrityError`, as from a Core insert)."""
    small: list[tuple[Table, list[dict[str, Any]]]] = []
    for table, rows in tables:
        if len(rows) <= PIPELINE_MAX_ROWS:
            small.append((table, rows))
            continue
        _pipelined_inserts(conn, small)
        small = []
        _copy(conn, table, rows)
    _pipelined_inserts(conn, small, then)


def _pipelined_inserts(
    conn: Connection, tables: list[tuple[Table, list[dict[str, Any]]]], then: Sequence[Statement] = ()
) -> None:
    if not tables and not then:
        return
    quote = conn.dialect.identifier_preparer.quote
    statements = []
    for table, rows in tables:
        names, values = _pg_values(conn, table, rows)
        marks = ", ".join(["%s"] * len(names))
        # Identifiers from the table's metadata, quoted; values only as parameters.
        sql = f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) VALUES ({marks})"  # noqa: S608
        statements.append((sql, values))
    raw = psycopg_of(conn)
    sent = "; ".join([*(sql for sql, _ in statements), *(sql for sql, _ in then)])
    with driver_errors(conn, sent), raw.pipeline(), raw.cursor() as cursor:
        for sql, values in statements:
            cursor.executemany(sql, values)
        for sql, params in then:
            cursor.execute(sql, params)


def _copy(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """PostgreSQL: the rows in one `COPY ... FROM STDIN` instead of a statement per row."""
    names, values = _pg_values(conn, table, rows)
    quote = conn.dialect.identifier_preparer.quote
    sql = f"COPY {quote(table.name)} ({', '.join(quote(name) for name in names)}) FROM STDIN"
    with driver_errors(conn, sql), psycopg_of(conn).cursor() as cursor, cursor.copy(sql) as copy:
        for row in values:
            copy.write_row(row)


def _pg_values(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    """The column names and each row's values as the Core insert would bind them: JSON as text
    (`JsonText` as it is), aware datetimes as the session's local time (PostgreSQL's own cast to
    `timestamp`), column defaults of the model for the columns not given."""
    given = list(rows[0])
    defaults = _defaults(table, rows[0])
    json_columns = {c.name for c in table.columns if isinstance(c.type, JSON)}
    zone = session_zone(conn)
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


def session_zone(conn: Connection) -> tzinfo:
    """The session's TimeZone setting, which turns an aware datetime into a `timestamp`. Asked
    once per database connection (the hub never changes it), not once per COPY."""
    zone: tzinfo | None = conn.info.get("hub_time_zone")
    if zone is None:
        name = str(conn.exec_driver_sql("SHOW TimeZone").scalar())
        zone = conn.info["hub_time_zone"] = ZoneInfo(name)
    return zone
