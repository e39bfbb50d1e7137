"""The outbox relay: moves committed outbox rows to Redis, then marks them sent.

At-least-once: a crash between XADD and the update sends a row again on restart, with the
same CloudEvent id, so readers dedupe on it. Rows are sent in id order, pipelined.

Several hub processes may relay from one database. So that they do not send the same row
twice in the normal course, a pass claims its rows in a transaction that lasts until they
are marked sent:
- PostgreSQL: `SELECT ... FOR UPDATE SKIP LOCKED`. Another relay skips the locked rows and
  takes the next ones, so several relays share the work.
- SQLite: `BEGIN IMMEDIATE` (the database's one write lock) before reading, so relays take
  turns. The lock is held while the rows are sent (milliseconds; at most `send_timeout_s`).
Either way a pass that cannot write its "sent" mark cannot claim rows in the first place, so
a database outage does not make the relay send the same rows over and over.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import UTC, datetime
from typing import Any

import anyio
import redis.asyncio as aredis
from redis.exceptions import RedisError
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from hub.logs import get_logger
from hub.store.models import Outbox
from hub.transport import encode

log = get_logger("hub.relay")

Row = tuple[int, str, dict[str, Any]]


class OutboxRelay:
    def __init__(
        self, engine: Engine, client: aredis.Redis, *, batch: int, interval_s: float, send_timeout_s: float = 15.0
    ) -> None:
        self.engine = engine
        self.client = client
        self.batch = batch
        self.interval_s = interval_s
        # A Redis that accepts the connection but does not answer must not hold the claim forever.
        self.send_timeout_s = send_timeout_s
        self.wake = asyncio.Event()
        self.sent_total = 0
        self._lock = asyncio.Lock()  # one relay pass at a time in this process

    def _unsent(self) -> bool:
        """A look without locks, so an idle relay never takes SQLite's write lock."""
        with Session(self.engine) as session:
            return session.exec(select(Outbox.id).where(col(Outbox.sent_at).is_(None)).limit(1)).first() is not None

    def _claim(self, session: Session) -> list[Row]:
        """Unsent rows, oldest first, claimed until `session` commits or ends."""
        query = (
            select(Outbox.id, Outbox.stream, Outbox.event)
            .where(col(Outbox.sent_at).is_(None))
            .order_by(col(Outbox.id))
            .limit(self.batch)
        )
        if self.engine.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        elif self.engine.dialect.name == "sqlite":
            session.connection().exec_driver_sql("BEGIN IMMEDIATE")
        return [(i, st, dict(ev)) for i, st, ev in session.exec(query) if i is not None]

    async def _send(self, rows: list[Row]) -> None:
        pipe = self.client.pipeline(transaction=False)
        for _, stream, event in rows:
            pipe.xadd(stream, encode(event))  # type: ignore[arg-type]
        with anyio.fail_after(self.send_timeout_s):
            await pipe.execute()

    def _pass(self) -> int:
        """One pass, in a worker thread: claim, send (on the event loop), mark sent, commit.

        The session lives and dies in this one thread, so a cancelled caller can never close
        it while the thread still uses it; an unfinished pass rolls back and unclaims its rows."""
        if not self._unsent():
            return 0
        with Session(self.engine) as session:
            rows = self._claim(session)
            if not rows:
                return 0
            anyio.from_thread.run(self._send, rows)
            ids = [r[0] for r in rows]
            session.execute(update(Outbox).where(col(Outbox.id).in_(ids)).values(sent_at=datetime.now(UTC)))
            session.commit()
        return len(rows)

    async def relay_once(self) -> int:
        async with self._lock:
            sent = await anyio.to_thread.run_sync(self._pass)
        self.sent_total += sent
        return sent

    async def drain(self, timeout_s: float = 30.0) -> None:
        """Relay until nothing is left (used by `hub demo` and tests)."""
        deadline = time.monotonic() + timeout_s
        while await self.relay_once():
            if time.monotonic() > deadline:
                break

    async def run(self) -> None:
        """Relay forever: at once when woken by a commit, else every `interval_s`."""
        backoff = self.interval_s
        while True:
            self.wake.clear()  # before reading: a commit from now on wakes the next wait
            try:
                sent = await self.relay_once()
                backoff = self.interval_s
            except (RedisError, OSError, SQLAlchemyError) as exc:  # TimeoutError is an OSError
                log.warning("relay.retry", exc_info=exc, retry_in_s=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            if sent < self.batch:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), self.interval_s)
