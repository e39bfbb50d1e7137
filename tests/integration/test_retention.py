"""Retention: past the agreement's periods, personal data is erased from the database and streams."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, select

from hub.config.registry import default_registry_path, load_registry
from hub.runtime.stream_guard import Loss, create_groups, loss
from hub.runtime.transport import redis_client
from hub.schemas import streams
from hub.services.retention import Cutoffs, purge_database, trim_streams
from hub.store.models import Decision, Disclosure, Outbox, Report
from tests.factories import cloudevent, decision, entry, report_data
from tests.integration.wire import read_events
from tests.redis_cluster import ON_CLUSTER_TOO

SCHOOL = "herstedlund-skole"

pytestmark = ON_CLUSTER_TOO  # XTRIM per stream, on each stream's master


async def test_old_reports_are_erased_and_recent_ones_kept(hub) -> None:
    client = redis_client(hub.redis_url)
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


async def test_streams_the_hub_reads_are_trimmed_only_below_what_it_processed(clean_redis: str) -> None:
    """Intake entries hold whole reports: past their age they go too, but never one the hub has
    not stored yet (unread, or read and not acked), and the trim is not mistaken for a loss."""
    registry = load_registry(default_registry_path())
    client = redis_client(clean_redis)
    await create_groups(client, registry.catalogue())
    stream = streams.intake(SCHOOL)
    ids = [await client.xadd(stream, {"event": "{}"}) for _ in range(6)]
    await client.xreadgroup(streams.INTAKE_GROUP, "hub-1", {stream: ">"}, count=4)
    await client.xack(stream, streams.INTAKE_GROUP, ids[0], ids[1])  # 2 stored, 2 pending, 2 unread

    await trim_streams(client, registry, datetime.now(UTC) + timedelta(days=1))
    assert [entry_id for entry_id, _ in await client.xrange(stream)] == ids[2:]
    counted = "entries-added" in await client.xinfo_stream(stream)  # Redis 7 (not the embedded 6.2)
    assert await loss(client, stream, streams.INTAKE_GROUP) == (
        Loss(stream, streams.INTAKE_GROUP, 0, 0) if counted else None
    )

    await client.xreadgroup(streams.INTAKE_GROUP, "hub-1", {stream: ">"}, count=10)
    await client.xack(stream, streams.INTAKE_GROUP, *ids[2:])
    await trim_streams(client, registry, datetime.now(UTC) + timedelta(days=1))
    assert [entry_id for entry_id, _ in await client.xrange(stream)] == ids[-1:]  # the group's last-delivered-id
    await client.aclose()


async def test_each_stream_is_trimmed_to_its_own_retention_period(clean_redis: str) -> None:
    """The catalogue's `retention` key: dead letters after `deadletter` days, receipts after `report` days."""
    registry = load_registry(default_registry_path())
    client = redis_client(clean_redis)
    await client.xadd(streams.DEADLETTER, {"event": "{}"})
    await client.xadd(streams.receipts("dke-triage"), {"event": "{}"})
    await client.xadd(streams.receipts(SCHOOL), {"event": "{}"})
    now = datetime.now(UTC)
    past, future = now - timedelta(days=1), now + timedelta(days=1)
    assert (
        await trim_streams(client, registry, Cutoffs(report=past, disclosure_log=past, deadletter=future, outbox=past))
        == 1
    )
    assert await client.xlen(streams.DEADLETTER) == 0
    assert await client.xlen(streams.receipts(SCHOOL)) == 1
    assert (
        await trim_streams(client, registry, Cutoffs(report=future, disclosure_log=past, deadletter=past, outbox=past))
        == 2
    )
    assert await client.xlen(streams.receipts("dke-triage")) == 0
    await client.aclose()
