"""The outbox relay: moves committed outbox rows to Redis, then marks them sent.

At-least-once: a crash between XADD and the update sends a row again on restart, with the
same CloudEvent id, so readers dedupe on it. Rows are sent in id order, a pass at a time in
one Lua script (EVALSHA), so a pass costs one round trip.

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

import anyio
import redis.asyncio as aredis
from redis.exceptions import RedisError
from sqlalchemy import Text, cast, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from hub.logs import get_logger
from hub.schemas.cloudevents import EVENT_FIELD
from hub.store.models import Outbox

log = get_logger("hub.relay")

Row = tuple[int, str, str]  # id, stream, the CloudEvent as stored JSON text

# A whole pass in one command and one reply: XADD each event (ARGV) to its stream (KEYS), in
# order. Per-command round-trip bookkeeping in the client, not Redis, was the relay's main cost.
XADD_ALL = f"for i = 1, #KEYS do redis.call('XADD', KEYS[i], '*', '{EVENT_FIELD}', ARGV[i]) end return #KEYS"


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
        self._xadd_all = client.register_script(XADD_ALL)  # EVALSHA; loaded on first use

    def _unsent(self) -> bool:
        """A look without locks, so an idle relay never takes SQLite's write lock."""
        with Session(self.engine) as session:
            return session.exec(select(Outbox.id).where(col(Outbox.sent_at).is_(None)).limit(1)).first() is not None

    def _claim(self, session: Session) -> list[Row]:
        """Unsent rows, oldest first, claimed until `session` commits or ends."""
        # The event as the JSON text it was stored as: sent as it is, never parsed and re-encoded.
        query = (
            select(Outbox.id, Outbox.stream, cast(Outbox.event, Text))
            .where(col(Outbox.sent_at).is_(None))
            .order_by(col(Outbox.id))
            .limit(self.batch)
        )
        if self.engine.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        elif self.engine.dialect.name == "sqlite":
            session.connection().exec_driver_sql("BEGIN IMMEDIATE")
        return [(i, st, ev) for i, st, ev in session.exec(query) if i is not None]

    async def _send(self, rows: list[Row]) -> None:
        async with asyncio.timeout(self.send_timeout_s):
            await self._xadd_all(keys=[stream for _, stream, _ in rows], args=[event for _, _, event in rows])

    def _pass(self, loop: asyncio.AbstractEventLoop) -> int:
        """One pass, in a worker thread: claim, send (on the event loop), mark sent, commit.

        The session lives and dies in this one thread, so a cancelled caller can never close
        it while the thread still uses it; an unfinished pass rolls back and unclaims its rows.
        The send is a plain task on the loop, its outcome handed back through a future."""
        if not self._unsent():
            return 0
        with Session(self.engine) as session:
            rows = self._claim(session)
            if not rows:
                return 0
            asyncio.run_coroutine_threadsafe(self._send(rows), loop).result(self.send_timeout_s + 5)
            ids = [r[0] for r in rows]
            session.execute(update(Outbox).where(col(Outbox.id).in_(ids)).values(sent_at=datetime.now(UTC)))
            session.commit()
        return len(rows)

    async def relay_once(self) -> int:
        async with self._lock:
            sent = await anyio.to_thread.run_sync(self._pass, asyncio.get_running_loop())
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
            except Exception as exc:  # the relay must outlive any one failure, or the outbox stalls
                log.error("relay.failed", exc_info=exc, retry_in_s=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            if sent < self.batch:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), self.interval_s)
