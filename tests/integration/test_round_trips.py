"""On PostgreSQL, an urgent alert's transaction waits for the server four times: each wait is
a round trip, and on a busy machine each costs two wake-ups (the server's and the client's)
that wait for a core (issue #17, the urgent alert's p99). Its rows, the audit chain's rows and
its COMMIT go in one pipeline, so the chain's lock is held only while the server works. Bulk
transactions keep their six waits: measured, fewer made the urgent alerts' tail worse
(docs/performance.md), and this test says so if someone takes them away.

Counted in libpq's protocol trace of the connection (`PGconn.trace`): a round trip is each
time the client asks for an answer (a simple query, a pipeline's Sync, or a Flush on its own)
while it waits for nothing. Which messages libpq sends depends only on the code path, so the
count is the same on a loaded machine.
"""

from __future__ import annotations

import itertools
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import IO, Any

import pytest
from psycopg import pq
from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from hub.config.registry import default_agreement_path, default_registry_path, load_agreement, load_registry
from hub.policies import PolicyEngine
from hub.schemas import streams
from hub.schemas.entry import Entry
from hub.services.intake import IntakeService
from hub.services.pipeline import BatchPipeline
from hub.store import db
from hub.store.rows import RowBatch
from tests.factories import cloudevent, entry, planned_crime_data

POLICE = "politi-vestegn"
INTAKE = streams.intake(POLICE)
_ids = itertools.count(int(time.time() * 1000))


@pytest.fixture
def engine(postgres_url: str | None) -> Iterator[Engine]:
    if postgres_url is None:
        pytest.skip("PostgreSQL not configured (set HUB_TEST_DATABASE_URL)")
    engine = db.make_engine(postgres_url)
    yield engine
    engine.dispose()


class Trace:
    """libpq's protocol trace of every connection `engine` hands out meanwhile."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.file: IO[str] = tempfile.TemporaryFile("w+")  # noqa: SIM115  # closed in `__exit__`

    def __enter__(self) -> Trace:
        event.listen(self.engine, "checkout", self._on)
        event.listen(self.engine, "checkin", self._off)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "checkout", self._on)
        event.remove(self.engine, "checkin", self._off)
        self.file.close()

    def _on(self, dbapi: Any, *_: object) -> None:
        dbapi.pgconn.trace(self.file.fileno())
        dbapi.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)

    def _off(self, dbapi: Any, *_: object) -> None:
        dbapi.pgconn.untrace()

    def messages(self) -> list[tuple[str, str]]:
        """(F for the client or B for the server, the message's name), in order."""
        self.file.flush()
        self.file.seek(0)
        return [(p[0], p[2]) for line in self.file.read().splitlines() if len(p := line.split("\t")) > 2]

    def round_trips(self) -> int:
        waiting = trips = 0  # answers the client waits for; times it started to wait
        for side, name in self.messages():
            if side == "F" and name in ("Query", "Sync"):
                trips += waiting == 0
                waiting += 1
            elif side == "F" and name == "Flush":
                trips += waiting == 0  # one on its own; after a Sync, only a nudge to send
            elif side == "B" and name == "ReadyForQuery":
                waiting -= 1
        return trips


def _intake(engine: Engine) -> BatchPipeline[Any]:
    registry, agreement = load_registry(default_registry_path()), load_agreement(default_agreement_path())
    return BatchPipeline(
        engine, IntakeService(registry, PolicyEngine(agreement), 1 << 20), publish_grace=timedelta(seconds=10)
    )


def _planned_crime() -> Entry:
    fields = entry(cloudevent(POLICE, planned_crime_data()))
    return Entry(INTAKE, f"{next(_ids)}-0", {k.encode(): v.encode() for k, v in fields.items()})


def _round_trips(engine: Engine, *, urgent: bool) -> int:
    pipeline = _intake(engine)
    pipeline.process_many([(INTAKE, [_planned_crime()])], datetime.now(UTC), look_first=False)  # prepared
    with Trace(engine) as trace:
        out = pipeline.process_many([(INTAKE, [_planned_crime()])], datetime.now(UTC), look_first=False, urgent=urgent)
        queries = [name for side, name in trace.messages() if side == "F"].count("Query")
        trips = trace.round_trips()
    assert out.accepted == 1 and any(stream == streams.POLICE_ALERTS for _, stream, _ in out.publish)
    assert queries == (1 if urgent else 2)  # the BEGIN; the bulk transaction's COMMIT of its own
    return trips


def test_an_urgent_alert_is_stored_in_four_round_trips(engine: Engine) -> None:
    """BEGIN; the subject's earlier reports; the case and outbox ids; the rows, the audit
    chain's rows and the COMMIT. As the urgent watch stores it."""
    assert _round_trips(engine, urgent=True) == 4


def test_a_bulk_transaction_keeps_its_six(engine: Engine) -> None:
    """The ids fetched with a flush and then a Sync, the COMMIT on its own."""
    assert _round_trips(engine, urgent=False) == 6


def test_the_commit_goes_with_the_last_rows(engine: Engine) -> None:
    """After `RowBatch.write(commit=True)` the rows are committed: another connection sees them
    before the session's own commit, which has nothing left to send."""
    ref = f"RT-{next(_ids)}"
    with db.UnitOfWork(engine) as uow:
        rows = RowBatch(datetime.now(UTC), timedelta(seconds=10))
        rows.outbox("hub.test.round-trips.v1", {"ref": ref})
        rows.write(uow.session, commit=True)
        with engine.connect() as other:
            seen = other.execute(text("SELECT count(*) FROM outbox WHERE event::text LIKE :ref"), {"ref": f"%{ref}%"})
            assert seen.scalar_one() == 1
        with Trace(engine) as trace:
            uow.commit()
            assert trace.messages() == []
