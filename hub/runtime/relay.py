"""The outbox: committed events reach Redis at least once, and in the normal course once.

Two paths send outbox rows:
- The worker that committed a batch publishes the batch's events itself, right after the
  commit (`OutboxRelay.publish`): the events leave without waiting for a relay pass. Such rows
  carry `relay_after` (commit time + `publish_grace_s`); the relay marks them sent in its
  next pass and otherwise leaves them alone until then.
- The relay sends every other row (dead letters, decisions, CLI), and any row whose worker
  died or could not reach Redis before `relay_after`.

At-least-once: a crash between XADD and the update sends a row again, with the same
CloudEvent id, so readers dedupe on it. The relay sends rows in id order, a pass at a time in
one Lua script (EVALSHA), so a pass costs one round trip (on a Redis Cluster one script per hash
slot, in parallel: each stream's rows still go in id order).

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
from sqlalchemy import BindParameter, ColumnElement, Text, and_, bindparam, cast, or_, update
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from hub.logs import get_logger
from hub.runtime.transport import slot_groups
from hub.schemas.cloudevents import EVENT_FIELD
from hub.store.bulk import OutboxRow, mark_sent, table_of
from hub.store.models import Outbox

log = get_logger("hub.relay")

Row = OutboxRow  # id, stream, the CloudEvent as stored JSON text

# A whole pass in one command and one reply: XADD each event (ARGV) to its stream (KEYS), in
# order. Per-command round-trip bookkeeping in the client, not Redis, was the relay's main cost.
XADD_ALL = f"for i = 1, #KEYS do redis.call('XADD', KEYS[i], '*', '{EVENT_FIELD}', ARGV[i]) end return #KEYS"


_outbox = table_of(Outbox).c


def _due(now: datetime | BindParameter[datetime]) -> ColumnElement[bool]:
    """Unsent, and not (or no longer) left to the worker that wrote it."""
    return and_(_outbox.sent_at.is_(None), or_(_outbox.relay_after.is_(None), _outbox.relay_after <= now))


_LOOK = sa_select(_outbox.id).where(_due(bindparam("now", type_=_outbox.relay_after.type))).limit(1)  # compiled once


MARK_WITHIN_S = 0.2  # published rows are marked sent by a pass this soon (or by the next look)


class OutboxRelay:
    def __init__(
        self,
        engine: Engine,
        client: aredis.Redis,
        *,
        batch: int,
        interval_s: float,
        send_timeout_s: float = 15.0,
        looks: bool = True,
    ) -> None:
        self.engine = engine
        self.client = client
        self.batch = batch
        self.interval_s = interval_s
        # False: no look every interval, only when told (`rows_left`); the passes mark what this
        # process published. For a process of the urgent watch alone: it publishes every row it
        # writes, and the other processes' relays look for the rest (a look is a query).
        self.looks = looks
        # A Redis that accepts the connection but does not answer must not hold the claim forever.
        self.send_timeout_s = send_timeout_s
        self.wake = asyncio.Event()
        self.sent_total = 0
        self._lock = asyncio.Lock()  # one relay pass at a time in this process
        self._xadd_all = client.register_script(XADD_ALL)  # EVALSHA; loaded on first use
        self._published: list[int] = []  # ids workers published, to be marked sent
        self.published_total = 0
        self._look = True  # rows may be waiting that no worker publishes: look in the next pass
        self._mark_timer: asyncio.TimerHandle | None = None  # a pass to mark what was published

    async def publish(self, rows: list[Row]) -> None:
        """Send rows a worker has just committed (`RowBatch` with `publish_grace`), so its events
        go out without waiting for a relay pass; the next pass marks them sent. If the send
        fails they stay unsent, and the relay sends them once their `relay_after` has passed."""
        try:
            await self._send(rows)
        except (RedisError, OSError) as exc:  # TimeoutError is an OSError
            log.warning("publish.deferred_to_relay", count=len(rows), exc_info=exc)
            return
        # Marked sent by a pass at most `MARK_WITHIN_S` from now, with everything published
        # meanwhile: a pass per publish was a transaction per batch, per decision, per urgent
        # report. A crash before the mark only sends the rows again after the grace (at least
        # once), so the mark is not put off longer than that.
        self._published += [row_id for row_id, _, _ in rows]
        self.published_total += len(rows)
        if self._mark_timer is None:
            self._mark_timer = asyncio.get_running_loop().call_later(MARK_WITHIN_S, self._mark_due)

    def _mark_due(self) -> None:
        self._mark_timer = None
        self.wake.set()

    def rows_left(self) -> None:
        """A transaction stored outbox rows that nobody publishes: relay them now."""
        self._look = True
        self.wake.set()

    def _mark_and_look(self, published: list[int], look: bool) -> bool:
        """Mark what workers published as sent and, if `look`, whether any row is due: one
        transaction. The look takes no locks, so an idle relay never takes SQLite's write lock.
        On a Core connection: a look runs every interval in every process, and an ORM session
        cost twice its CPU (650 against 270 µs)."""
        if not published and not look:
            return False
        # Begun at once (the marks go to the driver's connection, past SQLAlchemy) and ended with a
        # COMMIT, not the ROLLBACK of closing: psycopg forgets a connection's prepared statements
        # at every ROLLBACK (DEALLOCATE ALL), and the pooled connection's next bulk transactions
        # would prepare them again (a look runs every interval).
        with self.engine.begin() as conn:
            if published:
                mark_sent(conn, published, datetime.now(UTC))
            return look and conn.execute(_LOOK, {"now": datetime.now(UTC)}).first() is not None

    def _claim(self, session: Session) -> list[Row]:
        """Unsent rows, oldest first, claimed until `session` commits or ends."""
        # The event as the JSON text it was stored as: sent as it is, never parsed and re-encoded.
        query = (
            select(Outbox.id, Outbox.stream, cast(Outbox.event, Text))
            .where(_due(datetime.now(UTC)))
            .order_by(col(Outbox.id))
            .limit(self.batch)
        )
        if self.engine.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        elif self.engine.dialect.name == "sqlite":
            session.connection().exec_driver_sql("BEGIN IMMEDIATE")
        return [(i, st, ev) for i, st, ev in session.exec(query) if i is not None]

    async def _send(self, rows: list[Row]) -> None:
        """One script call for all rows; on a Redis Cluster one per hash slot, side by side (a
        script's keys must share a slot there). Each stream's rows keep their order; if one call
        fails, the rows stay unsent and go again (the same event ids: readers dedupe)."""
        keys = [stream for _, stream, _ in rows]
        groups = slot_groups(self.client, keys)
        async with asyncio.timeout(self.send_timeout_s):
            await asyncio.gather(
                *(self._xadd_all(keys=[keys[n] for n in group], args=[rows[n][2] for n in group]) for group in groups)
            )

    def _pass(self, loop: asyncio.AbstractEventLoop, published: list[int], look: bool) -> int:
        """One pass, in a worker thread: mark what workers published as sent and, if `look`,
        look for rows due; if there are any, claim, send (on the event loop), mark sent, commit.

        The session lives and dies in this one thread, so a cancelled caller can never close
        it while the thread still uses it; an unfinished pass rolls back and unclaims its rows.
        The send is a plain task on the loop, its outcome handed back through a future."""
        if not self._mark_and_look(published, look):
            return 0
        with Session(self.engine) as session:
            rows = self._claim(session)
            if not rows:
                session.commit()  # nothing claimed; a COMMIT, not a ROLLBACK (see `_mark_and_look`)
                return 0
            asyncio.run_coroutine_threadsafe(self._send(rows), loop).result(self.send_timeout_s + 5)
            ids = [r[0] for r in rows]
            session.execute(update(Outbox).where(col(Outbox.id).in_(ids)).values(sent_at=datetime.now(UTC)))
            session.commit()
        return len(rows)

    async def relay_once(self, *, look: bool = True) -> int:
        """One pass; the rows the relay sent itself (none unless `look`)."""
        async with self._lock:
            published, self._published = self._published, []
            try:
                sent = await anyio.to_thread.run_sync(self._pass, asyncio.get_running_loop(), published, look)
            except BaseException:
                self._published = published + self._published  # marked next time (idempotent)
                raise
        self.sent_total += sent
        return sent

    async def drain(self, timeout_s: float = 30.0) -> None:
        """Relay until nothing is left (used by `hub demo` and tests)."""
        deadline = time.monotonic() + timeout_s
        while await self.relay_once():
            if time.monotonic() > deadline:
                break

    async def run(self) -> None:
        """Relay forever. A pass looks for rows to send when a transaction left some
        (`rows_left`) and at least every `interval_s` (rows of other processes, of a worker that
        did not publish in time); each pass marks what workers published since the last, and a
        publish asks for a pass within `MARK_WITHIN_S`."""
        backoff = self.interval_s
        last_look = -float("inf")
        while True:
            self.wake.clear()  # before reading: a wake from now on (rows left, a mark due) ends the next wait
            look = self._look or (self.looks and time.monotonic() - last_look >= self.interval_s)
            if look:
                self._look, last_look = False, time.monotonic()
            try:
                sent = await self.relay_once(look=look)
                backoff = self.interval_s
            except (RedisError, OSError, SQLAlchemyError) as exc:  # TimeoutError is an OSError
                log.warning("relay.retry", exc_info=exc, retry_in_s=backoff)
                self._look = True
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            except Exception as exc:  # the relay must outlive any one failure, or the outbox stalls
                log.error("relay.failed", exc_info=exc, retry_in_s=backoff)
                self._look = True
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            if sent >= self.batch:
                self._look = True  # a full pass: more rows may be waiting
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), self.interval_s)
