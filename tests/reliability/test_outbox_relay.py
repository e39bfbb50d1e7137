"""Several hub processes relay from one outbox: each row reaches Redis once.

Two relays with engines and Redis clients of their own (as two processes have) drain the same
outbox at the same time. PostgreSQL: each pass locks the rows it sends (`FOR UPDATE SKIP
LOCKED`), so the relays share the rows; SQLite: each pass holds the write lock, so they take
turns. Either way no row is sent twice and none is left behind.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from datetime import UTC, datetime

import redis.asyncio as aredis
from sqlmodel import col

from hub.runtime.relay import OutboxRelay
from hub.store.db import UnitOfWork, make_engine, migrate
from hub.store.models import Outbox
from tests.reliability.helpers import count_rows

ROWS = 3000
STREAM = "hub.test.relay.v1"


async def test_two_relays_on_one_outbox_send_each_row_once(clean_redis: str, database_url: str) -> None:
    migrate(database_url)
    engine = make_engine(database_url)
    now = datetime.now(UTC)
    with UnitOfWork(engine) as uow:
        for i in range(ROWS):
            uow.session.add(
                Outbox(stream=STREAM, event={"specversion": "1.0", "id": f"row-{i}", "data": {}}, created_at=now)
            )
        uow.commit()
    engine.dispose()

    relays = []
    for _ in range(2):
        relays.append(
            OutboxRelay(make_engine(database_url), aredis.Redis.from_url(clean_redis), batch=200, interval_s=0.05)
        )
    await asyncio.gather(*(r.drain(timeout_s=60) for r in relays))
    for relay in relays:  # a relay may stop while the other still holds the last rows: finish
        await relay.drain(timeout_s=60)

    client = aredis.Redis.from_url(clean_redis)
    ids = Counter(json.loads(f[b"event"])["id"] for _, f in await client.xrange(STREAM))
    assert len(ids) == ROWS, "rows were left behind"
    assert max(ids.values()) == 1, f"sent twice: {[i for i, n in ids.items() if n > 1][:5]}"
    assert count_rows(database_url, Outbox, col(Outbox.sent_at).is_(None)) == 0
    assert sum(r.sent_total for r in relays) == ROWS
    for relay in relays:
        await relay.client.aclose()
        relay.engine.dispose()
    await client.aclose()
