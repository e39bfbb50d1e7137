"""The database is unavailable: entries stay pending, and are processed once it is back.

SQLite: another process holds the database's write lock (as a backup tool or a stuck writer
would), so every write gives up after the busy timeout with "database is locked".
PostgreSQL: the hub's own database stops accepting connections and its sessions are
terminated (`ALLOW_CONNECTIONS false` + `pg_terminate_backend`), on a database made for
this test on the server of `HUB_TEST_DATABASE_URL`, so no other test is disturbed.

The failure is a `TransientError`: nothing is acked, the delivery is given back, and the
outage lasts longer than `max_deliveries` reclaim rounds without dead-lettering anything.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import pytest
import redis.asyncio as aredis
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import OperationalError
from sqlmodel import col

from hub.bootstrap import running
from hub.config.settings import Settings
from hub.errors import TransientError
from hub.schemas import streams
from hub.schemas.entry import Entry
from hub.services.intake import IntakeService
from hub.services.pipeline import BatchPipeline
from hub.store.db import migrate
from hub.store.models import DeadLetterRecord, Outbox, Report
from tests.factories import cloudevent, entry
from tests.logcapture import LogCapture
from tests.reliability.helpers import (
    SCHOOL,
    assert_no_personal_data,
    count_rows,
    events,
    eventually,
    log_events,
    once_each,
    pending,
    personal_report,
)

N = 5
MAX_DELIVERIES = 2
INTAKE = streams.intake(SCHOOL)


class SqliteOutage:
    """Another connection holds SQLite's write lock: writers get "database is locked"."""

    def __init__(self, url: str) -> None:
        self.path = make_url(url).database
        self.conn: sqlite3.Connection | None = None

    def begin(self) -> None:
        assert self.path
        self.conn = sqlite3.connect(self.path, isolation_level=None)
        self.conn.execute("BEGIN IMMEDIATE")

    def end(self) -> None:
        assert self.conn is not None
        self.conn.execute("ROLLBACK")
        self.conn.close()


class PostgresOutage:
    """The database refuses connections and its open sessions are ended."""

    def __init__(self, admin_url: str, database: str) -> None:
        self.admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self.database = database

    def begin(self) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{self.database}" ALLOW_CONNECTIONS false'))
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :d"),
                {"d": self.database},
            )

    def end(self) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{self.database}" ALLOW_CONNECTIONS true'))


@contextmanager
def own_database(database_url: str) -> Iterator[tuple[str, Any]]:
    """SQLite: the test's file, with a short busy timeout. PostgreSQL: a new database on the same
    server (so that taking it away disturbs no one else), dropped afterwards."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        short = f"{database_url}?timeout=0.2"  # fail fast: each attempt waits this long for the lock
        yield short, SqliteOutage(short)
        return
    name = f"hub_outage_{uuid.uuid4().hex[:10]}"
    admin_url = url.set(drivername="postgresql+psycopg", database="postgres").render_as_string(hide_password=False)
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    outage = PostgresOutage(admin_url, name)
    try:
        own = url.set(database=name).render_as_string(hide_password=False)
        yield own, outage
    finally:
        outage.end()
        outage.admin.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


async def test_database_unavailable_entries_stay_pending_and_are_processed_when_it_is_back(
    settings: Settings, database_url: str, captured_logs: LogCapture
) -> None:
    with own_database(database_url) as (url, outage):
        await anyio.to_thread.run_sync(migrate, url)
        config = settings.model_copy(
            update={
                "database_url": url,
                "max_deliveries": MAX_DELIVERIES,
                "reclaim_idle_ms": 200,
                "reclaim_interval_s": 0.1,
            }
        )
        await _scenario(config, url, outage, captured_logs)


async def _scenario(settings: Settings, url: str, outage: Any, logs: LogCapture) -> None:
    cprs: list[str] = []

    def report(serial: int) -> dict[str, Any]:
        data, cpr = personal_report(serial)
        cprs.append(cpr)
        return cloudevent(SCHOOL, data)

    async with running(settings) as hub:
        client = aredis.Redis.from_url(settings.redis_url or "")
        first = report(700)
        await client.xadd(INTAKE, entry(first))

        async def receipts(n: int) -> bool:
            return len(await events(client, streams.receipts(SCHOOL))) >= n

        async def settled() -> bool:  # the relay has also recorded the receipt as sent
            return await receipts(1) and count_rows(url, Outbox, col(Outbox.sent_at).is_(None)) == 0

        # (Taking the database away while the relay is between its XADD and its commit would make
        # it send that row again later: the relay's at-least-once window, not what this tests.)
        await eventually(settled, timeout=20, what="a receipt before the outage")

        outage.begin()
        try:
            during = [report(710 + i) for i in range(N)]
            for event in during:
                await client.xadd(INTAKE, entry(event))

            def deferred() -> list[dict[str, Any]]:
                return [
                    e for e in log_events(logs.text) if e.get("event") == "batch.deferred" and e.get("stream") == INTAKE
                ]

            async def retried_past_the_cap() -> bool:
                return len(deferred()) > MAX_DELIVERIES + 1

            await eventually(retried_past_the_cap, timeout=30, what="the reports retried more than the cap")
            # The driver's error became a TransientError: nothing acked, nothing dead-lettered.
            assert {e.get("exc_type") for e in deferred()} == {"TransientError"}
            assert await pending(client, INTAKE, streams.INTAKE_GROUP) == N
            assert await events(client, streams.DEADLETTER) == []

            # The mapping itself (hub/store/db.py transient_on_driver_errors), on the service.
            service = BatchPipeline(hub.engine, IntakeService(hub.registry, hub.policy, settings.max_body_bytes))
            probe = Entry(INTAKE, "1-1", {k.encode(): v.encode() for k, v in entry(report(799)).items()})
            with pytest.raises(TransientError) as raised:
                await anyio.to_thread.run_sync(service.process, INTAKE, [probe], datetime.now(UTC))
            assert isinstance(raised.value.__cause__, OperationalError)
        finally:
            outage.end()

        async def recovered() -> bool:
            return await receipts(1 + N) and await pending(client, INTAKE, streams.INTAKE_GROUP) == 0

        await eventually(recovered, timeout=30, what="the reports processed once the database is back")
        out = await events(client, streams.receipts(SCHOOL))
        assert len(out) == 1 + N and once_each(r["data"]["report_event_id"] for r in out), [
            (r["id"], r["data"]["report_event_id"], r["data"]["status"]) for r in out
        ]
        # An outage longer than MAX_DELIVERIES rounds did not make good reports dead letters.
        assert [r["data"].get("code") for r in out if r["data"]["status"] != "accepted"] == []
        assert await events(client, streams.DEADLETTER) == []
        await client.aclose()

    assert count_rows(url, Report) == 1 + N
    assert count_rows(url, DeadLetterRecord) == 0
    assert_no_personal_data(logs.text, cprs, must_contain=["batch.deferred", "intake.batch"])


def test_the_outage_helpers_really_take_the_database_away(tmp_path: Path) -> None:
    """Guards the test above: with the lock held, a write fails as the hub would see it."""
    path = tmp_path / "probe.sqlite3"
    sqlite3.connect(path).execute("CREATE TABLE t (x INTEGER)")
    outage = SqliteOutage(f"sqlite:///{path}")
    outage.begin()
    try:
        writer = sqlite3.connect(path, timeout=0.1)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            writer.execute("INSERT INTO t VALUES (1)")
        writer.close()
    finally:
        outage.end()
