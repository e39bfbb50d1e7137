"""Engine, migrations and the unit of work.

SQLite (the embedded default) runs in WAL mode so readers do not block the writer;
PostgreSQL runs through psycopg 3. Driver errors become `TransientError` at this boundary.
"""

from __future__ import annotations

import fcntl
import os
import select
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.pool import NullPool
from sqlmodel import Session, create_engine

from hub.errors import TransientError

MIGRATIONS = Path(__file__).parent / "migrations"


def normalise_url(url: str) -> str:
    """Accept the usual PostgreSQL spellings and use psycopg 3 for them."""
    for prefix in ("postgresql://", "postgres://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


SQLITE_BUSY_TIMEOUT_S = 30.0
PG_CONNECT_TIMEOUT_S = 10  # seconds; see make_engine
PG_PING_IDLE_S = 10.0  # a pooled connection unused this long is pinged before use; see _liveness


class JsonText(str):
    """A value for a JSON column that is already JSON text (e.g. from pydantic's
    `model_dump_json`): stored as it is instead of being built as a dict and encoded again."""

    __slots__ = ()


def dump_json(value: Any) -> str:
    """JSON columns: `JsonText` as it is; anything else compact, with non-ASCII as it is (what
    `json.dumps(..., ensure_ascii=False, separators=(",", ":"))` writes, at orjson's speed)."""
    return str.__str__(value) if isinstance(value, JsonText) else orjson.dumps(value).decode()


# SQLite has one writer at a time. Threads of one process that wait for it in SQLite's busy
# handler sleep in steps of up to 100 ms and miss the moment the writer commits; so the units
# of work of one process take turns on a lock instead (other processes: the busy handler).
_SQLITE_WRITERS: weakref.WeakKeyDictionary[Engine, threading.RLock] = weakref.WeakKeyDictionary()


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        # How long a writer waits for another process's write lock before "database is locked"
        # (a TransientError). `?timeout=<seconds>` in the URL overrides it.
        connect_args: dict[str, Any] = {"check_same_thread": False}
        if "timeout" not in make_url(url).query:
            connect_args["timeout"] = SQLITE_BUSY_TIMEOUT_S
        engine = create_engine(url, connect_args=connect_args, json_serializer=dump_json)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        _SQLITE_WRITERS[engine] = threading.RLock()
        return engine
    # connect_timeout: a server that does not answer fails the transaction (and is retried
    # later) within seconds, instead of holding the caller for the operating system's TCP
    # timeout; the urgent watch's own process stores on its event loop (`hub.worker.Coalescer`).
    engine = create_engine(
        url,
        pool_size=5,
        max_overflow=5,
        json_serializer=dump_json,
        connect_args={"connect_timeout": PG_CONNECT_TIMEOUT_S},
    )
    _liveness(engine)

    @event.listens_for(engine, "connect")
    def _no_jit(dbapi_conn: Any, _: Any) -> None:
        # The hub's statements are small look-ups and inserts. PostgreSQL compiles a statement
        # whose estimated cost passes `jit_above_cost` (estimates that are far off while tables
        # grow unanalysed), which costs 10 ms or more in each transaction and saves nothing.
        # A session setting, not a startup option: a connection pooler may refuse those.
        dbapi_conn.execute("SET jit = off")
        dbapi_conn.commit()

    return engine


def _liveness(engine: Engine) -> None:
    """Pessimistic disconnect handling without a round trip per transaction.

    SQLAlchemy's `pool_pre_ping` sends a `SELECT 1` at every checkout: under a steady load that
    is a round trip in each transaction, and the urgent alert's transaction waits for it on a
    busy machine (issue #17). Instead, a connection is handed out as it is unless:
    - its socket has something to read: between transactions the server sends nothing unless
      it ends the session (a restart, `pg_terminate_backend`, an idle timeout), or
    - it was not used for `PG_PING_IDLE_S` (a firewall may have dropped it silently): then it is
      pinged as `pool_pre_ping` would.
    Either failing, the pool drops it and hands out a fresh one (`DisconnectionError` from the
    checkout event). A connection lost in a way neither shows fails its transaction, a
    `TransientError`: the entries stay pending and are stored again later."""

    @event.listens_for(engine, "connect")
    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_conn: Any, record: Any) -> None:
        record.info["hub_returned"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _alive(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        if readable(dbapi_conn.fileno()):
            raise DisconnectionError("the server has closed the connection")
        if time.monotonic() - record.info.get("hub_returned", 0.0) > PG_PING_IDLE_S:
            try:
                engine.dialect.do_ping(dbapi_conn)
            except Exception as exc:
                raise DisconnectionError("the connection did not answer a ping") from exc


def readable(fd: int) -> bool:
    """Whether the socket has data (or an end of file) waiting, without waiting."""
    ready, _, _ = select.select([fd], [], [], 0)
    return bool(ready)


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return cfg


def migrate(url: str) -> None:
    """Bring the schema to the newest migration (idempotent).

    Several processes may start at once (two `hub serve`, a worker and a CLI command): they
    take turns, so the second finds the schema done instead of creating the tables again."""
    url = normalise_url(url)
    if url.startswith("postgresql"):
        # The lock is held on a connection of its own (a session-level advisory lock): the
        # migration runs on Alembic's connection meanwhile.
        engine = create_engine(url, poolclass=NullPool)
        try:
            with engine.connect() as lock:
                lock.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
                try:
                    command.upgrade(alembic_config(url), "head")
                finally:
                    lock.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _MIGRATION_LOCK_KEY})
        finally:
            engine.dispose()
        return
    database = make_url(url).database if url.startswith("sqlite") else None
    if database and database != ":memory:" and not database.startswith("file:"):
        with _file_lock(Path(database).with_name(Path(database).name + ".migrate.lock")):
            command.upgrade(alembic_config(url), "head")
        return
    command.upgrade(alembic_config(url), "head")


_MIGRATION_LOCK_KEY = 0x4855_4201  # "HUB" 1: any constant the hub's database uses for nothing else


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive advisory lock on `path` (blocking), released when the process ends at the latest."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


class UnitOfWork:
    """One transaction. Rolls back unless `commit()` was called."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._turn = _SQLITE_WRITERS.get(engine)
        self.session: Session

    def __enter__(self) -> UnitOfWork:
        if self._turn is not None and not self._turn.acquire(timeout=SQLITE_BUSY_TIMEOUT_S):
            raise TransientError("database busy: another unit of work held it too long")
        self.session = Session(self._engine, expire_on_commit=False)
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.session.rollback()
            self.session.close()
        finally:
            if self._turn is not None:
                self._turn.release()

    def commit(self) -> None:
        self.session.commit()


@contextmanager
def transient_on_driver_errors() -> Iterator[None]:
    """Map 'the database is unreachable' to TransientError; other errors pass through."""
    try:
        yield
    except OperationalError as exc:
        raise TransientError("database unavailable") from exc
    except DBAPIError as exc:
        if exc.connection_invalidated:
            raise TransientError("database connection lost") from exc
        raise
