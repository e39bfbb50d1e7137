"""Retention reaches every store: report content, triage items, cases, tracking rows, the
disclosure log, the staff access log, the claim history and the dead-letter access records (cut
from the audit chain's start, which stays verifiable), dead letters, outbox rows (sent: deleted;
never sent: kept and reported), and every stream of the catalogue, the audit anchors included.
`hub serve` runs it under a lease."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import redis.asyncio as aredis
from sqlalchemy import delete, func, insert, select, update
from sqlmodel import Session
from typer.testing import CliRunner

from hub.bootstrap import running
from hub.config.settings import Settings
from hub.entrypoints.cli import app
from hub.runtime import periodic
from hub.schemas import streams
from hub.schemas.lifecycle import REFERRAL_ACCEPTED
from hub.services.audit import chain_head, publish_anchor
from hub.services.replay import Accessor, show
from hub.services.retention import Cutoffs, purge_database, trim_each
from hub.store import claims
from hub.store.access import OWN_CLAIM, record_access
from hub.store.audit_chain import CHAIN
from hub.store.audit_verify import verify
from hub.store.models import (
    AccessRecord,
    Case,
    ClaimEvent,
    DeadLetterAccess,
    DeadLetterRecord,
    Deadline,
    Decision,
    Disclosure,
    Outbox,
    ProcessedEntry,
    ReferralUpdate,
    Report,
    TriageItem,
)
from tests.factories import child_cpr, cloudevent, decision, entry, planned_crime_data, report_data
from tests.integration.wire import read_events

SCHOOL = "herstedlund-skole"
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)
FAR = datetime(2100, 1, 1, tzinfo=UTC)


def _count(engine, model, *where) -> int:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return int(s.execute(select(func.count()).select_from(model).where(*where)).scalar_one())


async def test_every_store_is_kept_to_its_period(hub) -> None:
    client = aredis.Redis.from_url(hub.redis_url)
    # An old report with a § 133 notification and a referral (the chain's first rows) ...
    await client.xadd(streams.intake(SCHOOL), entry(cloudevent(SCHOOL, report_data())))
    [old] = await read_events(client, streams.receipts(SCHOOL), 1)
    old_ref = old["data"]["report_ref"]
    await client.xadd(streams.DECISIONS, entry(decision(old_ref, [("ssp", "bkv")], justification="Fortroligt")))
    [issued] = await read_events(client, streams.referrals("ssp", "bkv"), 1)
    # The partner accepted it (its update, with the report's content, goes with the report).
    accepted = cloudevent("bkv", {"referral_ref": issued["id"]}, type_=REFERRAL_ACCEPTED)
    await client.xadd(streams.referral_updates("bkv"), entry(accepted))
    await read_events(client, streams.referral_receipts("bkv"), 1)
    with Session(hub.engine) as s:  # a staff member claimed and read the old case (chained after its rows)
        assert claims.claim(s, old_ref, "mh", datetime.now(UTC))
        record_access(s, staff="mh", report_ref=old_ref, case_id=None, ground=OWN_CLAIM, reason=None,
                      at=datetime.now(UTC))  # fmt: skip
        s.commit()
    await asyncio.sleep(0.01)
    cut = datetime.now(UTC)  # the disclosure log's cutoff: after row 1, before the rest
    await asyncio.sleep(0.01)
    # ... a new one with a police alert, a dead letter and who saw it (the rows after).
    other = {**planned_crime_data(), "subject": {"cpr": child_cpr(serial=2), "name": "B", "district": "Herstedlund"}}
    await client.xadd(streams.intake(SCHOOL), entry(cloudevent(SCHOOL, other)))  # another person: another case
    await client.xadd(streams.intake(SCHOOL), {"not_event": "x"})
    await read_events(client, streams.DEADLETTER, 1)
    await read_events(client, streams.POLICE_ALERTS, 1)
    assert show(hub.engine, 1, Accessor.of("MH", "hub", "fejlsag"), datetime.now(UTC)) is not None
    await hub.relay.drain()
    await publish_anchor(client, chain_head(hub.engine), datetime.now(UTC))
    total = verify(hub.engine).rows
    old_rows = _count(hub.engine, Disclosure, Disclosure.report_ref == old_ref)
    assert old_rows >= 2 and total >= old_rows + 4
    old_chain = old_rows + 2  # the old report's disclosures, the claim and the access record

    with Session(hub.engine) as s:  # backdate the old report's own rows (not chained) and the rest
        old_case = s.get(Report, old_ref).case_id
        s.execute(update(Report).where(Report.ref == old_ref).values(received_at=LONG_AGO))
        s.execute(update(Case).where(Case.id == old_case).values(created_at=LONG_AGO))
        s.execute(update(DeadLetterRecord).values(created_at=LONG_AGO))
        s.execute(update(Outbox).values(sent_at=LONG_AGO))
        s.execute(update(ProcessedEntry).values(processed_at=LONG_AGO))
        # Never sent (the running relay is told to leave it alone: it stands for one that failed).
        never = {"stream": streams.POLICE_ALERTS, "event": {}, "created_at": LONG_AGO, "relay_after": FAR}
        s.execute(insert(Outbox).values(**never))
        s.commit()
        new_ref = s.execute(select(Report.ref).where(Report.ref != old_ref)).scalar_one()
    now = datetime.now(UTC)
    day = now - timedelta(days=1)
    cutoffs = Cutoffs(report=day, disclosure_log=cut, deadletter=day, outbox=day)

    old_clocks = _count(hub.engine, Deadline, Deadline.report_ref == old_ref)
    assert old_clocks >= 1  # the § 133 notification's assessment clock, at least
    dry = purge_database(hub.engine, cutoffs, dry_run=True)
    counts = purge_database(hub.engine, cutoffs)
    assert dry == counts
    assert counts == {
        "reports_erased": 1,
        "triage_deleted": 1,
        "deadlines_deleted": old_clocks,
        "referral_updates_deleted": 1,
        "reporter_messages_deleted": 1,  # the kvittering the old report's decision sent the teacher
        "cases_deleted": 1,
        "tracking_deleted": counts["tracking_deleted"],
        "disclosures_deleted": old_rows,
        "deadletter_access_deleted": 0,
        "access_records_deleted": 1,
        "claim_events_deleted": 1,
        "deadletters_deleted": 1,
        "outbox_deleted": counts["outbox_deleted"],
        "outbox_unsent_overdue": 1,
    }
    assert counts["tracking_deleted"] >= 4 and counts["outbox_deleted"] >= 6
    e = hub.engine
    with Session(e) as s:
        erased = s.get(Report, old_ref)
        assert erased.payload is None and erased.case_id is None and s.get(Case, old_case) is None
        assert s.get(Report, new_ref).payload is not None
        assert s.execute(select(Decision.justification)).scalar_one() == ""
    assert _count(e, TriageItem) == 1 and _count(e, TriageItem, TriageItem.report_ref == new_ref) == 1
    assert _count(e, Deadline, Deadline.report_ref == old_ref) == 0
    assert _count(e, ReferralUpdate) == 0
    assert _count(e, Case) == 1 and _count(e, ProcessedEntry) == 0 and _count(e, DeadLetterRecord) == 0
    assert _count(e, Disclosure) == total - old_chain - 1
    assert _count(e, AccessRecord) == 0 and _count(e, ClaimEvent) == 0
    assert _count(e, Disclosure, Disclosure.report_ref == old_ref) == 0
    assert _count(e, DeadLetterAccess) == 1
    assert _count(e, Outbox) == 1  # the one never sent: kept
    # The chain was cut after the old report's rows, with a checkpoint at its end; it verifies
    # from the first row after the cut on.
    verdict = verify(e)
    assert verdict.ok and verdict.start == old_chain + 1 and verdict.rows == total - old_chain + 1, verdict.problem
    assert purge_database(e, cutoffs)["disclosures_deleted"] == 0  # again: nothing more, no new checkpoint
    assert verify(e).rows == total - old_chain + 1
    # A row deleted after the cut is still found.
    with Session(e) as s:
        s.execute(delete(CHAIN).where(CHAIN.c.seq == old_chain + 1))
        s.commit()
    problem = verify(e).problem
    assert problem is not None and (problem.code, problem.seq) == ("deleted", old_chain + 1)

    # Every stream of the catalogue is trimmed by its period; those the hub reads no further
    # than it processed (the group's last delivered entry stays). The intake group acks the
    # planned-crime report only after the urgent watch's head start: until then it is pending.
    deadline = asyncio.get_running_loop().time() + 10
    while (await client.xpending(streams.intake(SCHOOL), streams.INTAKE_GROUP))["pending"]:
        assert asyncio.get_running_loop().time() < deadline, "the intake group never acked"
        await asyncio.sleep(0.05)
    trimmed = await trim_each(client, hub.registry, now + timedelta(days=1))
    names = hub.registry.catalogue().names()
    assert set(trimmed) == set(names)
    assert trimmed[streams.AUDIT_ANCHOR] == 1 and trimmed[streams.DEADLETTER] == 1
    assert trimmed[streams.intake(SCHOOL)] == 2 and trimmed[streams.DECISIONS] == 0  # one entry: the last read
    for name in names:
        read = (streams.intake(SCHOOL), streams.DECISIONS, streams.referral_updates("bkv"))
        assert await client.xlen(name) <= (1 if name in read else 0), name
    await client.aclose()


async def test_the_whole_chain_can_be_pruned_and_grow_again(hub) -> None:
    client = aredis.Redis.from_url(hub.redis_url)
    await client.xadd(streams.intake(SCHOOL), entry(cloudevent(SCHOOL, planned_crime_data())))
    await read_events(client, streams.POLICE_ALERTS, 1)
    future = datetime.now(UTC) + timedelta(days=1)
    past = datetime.now(UTC) - timedelta(days=1)
    first = verify(hub.engine).rows
    counts = purge_database(hub.engine, Cutoffs(report=past, disclosure_log=future, deadletter=past, outbox=past))
    assert counts["disclosures_deleted"] == first
    verdict = verify(hub.engine)
    assert verdict.ok and verdict.start == first + 1 and verdict.rows == 1  # only the checkpoint
    kept = verdict.head
    await client.xadd(streams.intake(SCHOOL), entry(cloudevent(SCHOOL, planned_crime_data())))
    await read_events(client, streams.POLICE_ALERTS, 2)
    verdict = verify(hub.engine, kept)
    assert verdict.ok and verdict.rows == 1 + first and verdict.head is not None
    assert verdict.head.seq == 2 * first + 1
    await client.aclose()


async def test_serve_runs_retention_under_a_lease(settings: Settings) -> None:
    """Two hubs start: one takes the lease and runs the job; the other skips it."""
    client = aredis.Redis.from_url(settings.redis_url or "")
    async with running(settings) as first:
        for _ in range(100):
            if await client.exists(periodic.RETENTION_LEASE):
                break
            await asyncio.sleep(0.05)
        ttl = await client.pttl(periodic.RETENTION_LEASE)
        assert 0 < ttl <= settings.retention_interval_s * 1000
        again = await periodic.retention_once(
            client, first.engine, first.registry, first.agreement, settings.retention_interval_s
        )
        assert again is None  # another process's round: skipped
        await client.delete(periodic.RETENTION_LEASE)
        done = await periodic.retention_once(client, first.engine, first.registry, first.agreement, 60)
        assert done is not None and set(done.streams) == set(first.registry.catalogue().names())
    await client.aclose()


def test_retention_command_reports_every_store_in_danish(settings: Settings) -> None:
    env = {"HUB_REDIS_URL": settings.redis_url or "", "HUB_DATABASE_URL": settings.database_url or "",
           "HUB_DATA_DIR": str(settings.data_dir), "HUB_LOG_LEVEL": "WARNING"}  # fmt: skip
    runner = CliRunner()
    dry = runner.invoke(app, ["retention", "--dry-run"], env=env)
    assert dry.exit_code == 0, dry.output
    assert "Prøvekørsel, intet er slettet" in dry.output and "sager slettet" in dry.output
    done = runner.invoke(app, ["retention"], env=env)
    assert done.exit_code == 0, done.output
    for text in ("henvendelser", "triageposter slettet", "videregivelser slettet", "aldrig sendt", "Strømme"):
        assert text in done.output
    assert streams.AUDIT_ANCHOR in done.output and streams.intake(SCHOOL) in done.output
