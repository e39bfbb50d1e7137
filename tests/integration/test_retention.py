"""Retention: past the agreement's periods, personal data is erased from the database and streams."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import redis.asyncio as aredis
from sqlalchemy import update
from sqlmodel import Session, select

from hub.schemas import streams
from hub.services.retention import Cutoffs, purge_database, trim_streams
from hub.store.models import Decision, Disclosure, Outbox, Report
from tests.factories import cloudevent, decision, entry, report_data
from tests.integration.wire import read_events

SCHOOL = "herstedlund-skole"


async def test_old_reports_are_erased_and_recent_ones_kept(hub) -> None:
    client = aredis.Redis.from_url(hub.redis_url)
    await client.xadd(streams.intake(SCHOOL), entry(cloudevent(SCHOOL, report_data())))
    await client.xadd(streams.intake(SCHOOL), entry(cloudevent(SCHOOL, report_data())))
    old, new = await read_events(client, streams.receipts(SCHOOL), 2)
    old_ref, new_ref = old["data"]["report_ref"], new["data"]["report_ref"]
    await client.xadd(streams.DECISIONS, entry(decision(old_ref, [("ssp", "bkv")], justification="Fortroligt xyz")))
    await read_events(client, streams.referrals("ssp", "bkv"), 1)
    await hub.relay.drain()

    now = datetime.now(UTC)
    cutoffs = Cutoffs.of(hub.agreement, now)
    long_ago = now - timedelta(days=hub.agreement.retention_days["report"] + 1)
    with Session(hub.engine) as s:  # backdate one report, as if it came in two years ago
        s.execute(update(Report).where(Report.ref == old_ref).values(received_at=long_ago))
        s.execute(update(Outbox).values(sent_at=now - timedelta(days=30)))
        s.commit()

    dry = purge_database(hub.engine, cutoffs, dry_run=True)
    assert dry["reports_erased"] == 1 and dry["outbox_deleted"] > 0
    with Session(hub.engine) as s:
        assert s.get(Report, old_ref).payload is not None  # a dry run changes nothing

    counts = purge_database(hub.engine, cutoffs)
    assert counts["reports_erased"] == 1
    with Session(hub.engine) as s:
        erased, kept = s.get(Report, old_ref), s.get(Report, new_ref)
        assert erased.payload is None and erased.receipt_event is None
        assert kept.payload is not None
        assert s.exec(select(Decision.justification).where(Decision.report_ref == old_ref)).one() == ""
        # The disclosure log outlives the report: the person can still ask what was disclosed.
        assert s.exec(select(Disclosure).where(Disclosure.report_ref == old_ref)).first() is not None
        assert s.exec(select(Outbox)).first() is None

    trimmed = await trim_streams(client, hub.registry, now + timedelta(seconds=1))
    assert trimmed > 0
    assert await client.xlen(streams.referrals("ssp", "bkv")) == 0
    await client.aclose()
