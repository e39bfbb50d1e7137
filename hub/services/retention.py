"""Retention: personal data is kept no longer than the local agreement says.

There is no fixed statutory SSP period; the agreement's `retention_days` decide. After
`report` days a report's personal content is erased (the row stays as a tombstone, because
the disclosure log refers to it), the decision's free-text justification with it, and the
streams that carry reports are trimmed to that age; triage items of those reports, tracking
rows, and cases none of whose reports is within the period go then too. The disclosure log,
the staff access log, the claim history and the dead-letter access records are kept
`disclosure_log` days (so a person can still ask what was disclosed) and leave the audit chain
from its start, with a checkpoint that keeps it verifiable (`hub.store.audit_prune`). Dead
letters (records and the dead-letter stream) are kept `deadletter` days, relayed outbox rows
`outbox` days (default 7); outbox rows never sent are kept and reported
(`outbox_unsent_overdue`).

`run_retention` is the whole job, database and streams: `hub retention` runs it, and `hub serve`
daily under a lease (`hub.runtime.periodic`).

Which streams are trimmed, and to which of these periods, is the stream catalogue's
`retention` column (`hub.schemas.catalogue`): intake and decision streams too, since their
entries hold the reports themselves, but never past what the hub has processed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import redis.asyncio as aredis
from redis.exceptions import ResponseError
from sqlalchemy import delete, func, update
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from hub.config.registry import Registry
from hub.policies import Agreement
from hub.store.audit_prune import prune
from hub.store.db import UnitOfWork
from hub.store.models import (
    Case,
    DeadLetterRecord,
    Deadline,
    Decision,
    Outbox,
    ProcessedEntry,
    ReferralUpdate,
    Report,
    ReporterMessage,
    TriageItem,
)

DEFAULT_OUTBOX_DAYS = 7
RETENTION_KEYS = ("report", "disclosure_log", "deadletter", "outbox")


@dataclass(frozen=True)
class Cutoffs:
    report: datetime
    disclosure_log: datetime
    deadletter: datetime
    outbox: datetime

    @classmethod
    def of(cls, agreement: Agreement, now: datetime) -> Cutoffs:
        days = agreement.retention_days
        return cls(
            report=now - timedelta(days=days["report"]),
            disclosure_log=now - timedelta(days=days["disclosure_log"]),
            deadletter=now - timedelta(days=days["deadletter"]),
            outbox=now - timedelta(days=days.get("outbox", DEFAULT_OUTBOX_DAYS)),
        )

    def by_key(self) -> dict[str, datetime]:
        return {key: self.for_key(key) for key in RETENTION_KEYS}

    def for_key(self, key: str) -> datetime:
        """The cutoff of a `retention_days` key (a stream catalogue row's `retention`)."""
        if key not in RETENTION_KEYS:
            raise ValueError(f"unknown retention key {key!r}; known: {', '.join(RETENTION_KEYS)}")
        value: datetime = getattr(self, key)
        return value


def purge_database(
    engine: Engine, cutoffs: Cutoffs, *, dry_run: bool = False, now: datetime | None = None
) -> dict[str, int]:
    """Erase and delete what is past its retention period. Returns counts per kind.

    `outbox_unsent_overdue` counts outbox rows never sent and older than the outbox period: they
    are kept (an alert or a notification the partner never got is for a person to look into, not
    to drop unseen), and reported every time until someone does."""
    with UnitOfWork(engine) as uow:
        s = uow.session
        expired = list(
            s.exec(select(Report.ref).where(Report.received_at < cutoffs.report, col(Report.payload).is_not(None)))
        )
        counts = {"reports_erased": len(expired)}
        old_reports = select(Report.ref).where(col(Report.received_at) < cutoffs.report)
        live_cases = select(Report.case_id).where(
            col(Report.received_at) >= cutoffs.report, col(Report.case_id).is_not(None)
        )
        old_cases = select(Case.id).where(col(Case.created_at) < cutoffs.report, col(Case.id).not_in(live_cases))
        statements: dict[str, Any] = {
            "triage_deleted": delete(TriageItem).where(col(TriageItem.report_ref).in_(old_reports)),
            "deadlines_deleted": delete(Deadline).where(col(Deadline.report_ref).in_(old_reports)),
            # Partners' updates are case content (their notes): kept as long as the report.
            "referral_updates_deleted": delete(ReferralUpdate).where(col(ReferralUpdate.report_ref).in_(old_reports)),
            # What the reporter heard back goes with the report's content (who sent it, when).
            "reporter_messages_deleted": delete(ReporterMessage).where(
                col(ReporterMessage.report_ref).in_(old_reports)
            ),
            "deadletters_deleted": delete(DeadLetterRecord).where(
                col(DeadLetterRecord.created_at) < cutoffs.deadletter
            ),
            "outbox_deleted": delete(Outbox).where(
                col(Outbox.sent_at).is_not(None), col(Outbox.sent_at) < cutoffs.outbox
            ),
            "tracking_deleted": delete(ProcessedEntry).where(col(ProcessedEntry.processed_at) < cutoffs.report),
        }
        overdue = select(func.count()).where(col(Outbox.sent_at).is_(None), col(Outbox.created_at) < cutoffs.outbox)
        counts["outbox_unsent_overdue"] = int(s.exec(overdue).one())
        pruned = prune(s, cutoffs.by_key(), now or datetime.now(UTC), dry_run=dry_run)
        counts["disclosures_deleted"] = pruned.records.get("disclosure", 0)
        counts["deadletter_access_deleted"] = pruned.records.get("deadletter_access", 0)
        counts["access_records_deleted"] = pruned.records.get("access", 0)
        counts["claim_events_deleted"] = pruned.records.get("claim_event", 0)
        if dry_run:
            counts["cases_deleted"] = int(s.exec(select(func.count()).select_from(old_cases.subquery())).one())
            for name, stmt in statements.items():
                query = select(func.count()).select_from(stmt.table).where(stmt.whereclause)
                counts[name] = int(s.exec(query).one())
            return counts
        if expired:
            s.execute(update(Report).where(col(Report.ref).in_(expired)).values(payload=None, receipt_event=None))
            s.execute(update(Decision).where(col(Decision.report_ref).in_(expired)).values(justification=""))
        for name, stmt in statements.items():
            counts[name] = s.execute(stmt).rowcount  # type: ignore[attr-defined]
        # A case goes once none of its reports is within the period; the reports (tombstones the
        # disclosure log refers to) let go of it first.
        s.execute(update(Report).where(col(Report.case_id).in_(old_cases)).values(case_id=None))
        counts["cases_deleted"] = s.execute(delete(Case).where(col(Case.id).in_(old_cases))).rowcount  # type: ignore[attr-defined]
        uow.commit()
    return counts


def retained_streams(registry: Registry) -> list[tuple[str, str]]:
    """Every (stream, `retention_days` key) the job trims: the catalogue's rows with a retention."""
    return registry.catalogue().retained()


async def _unprocessed_floor(client: aredis.Redis, stream: str, groups: list[str]) -> str:
    """The lowest entry id the hub's processing groups may still need (`0-0`: keep everything).

    Intake and decision streams are trimmed below this only: entries a group has not read, or
    read and not acked, stay, whatever their age."""
    try:
        found = {_text(g["name"]): g for g in await client.xinfo_groups(stream)}
    except ResponseError:  # no such stream: nothing to trim
        return "0-0"
    floor: tuple[int, int] | None = None
    for name in groups:
        group = found.get(name)
        if group is None:  # never read by the hub: keep everything
            return "0-0"
        ids = [_text(group["last-delivered-id"])]
        if int(group["pending"]):
            ids.append(_text((await client.xpending(stream, name))["min"]))
        for entry_id in ids:
            floor = min(floor or _split(entry_id), _split(entry_id))
    return "0-0" if floor is None else f"{floor[0]}-{floor[1]}"


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _split(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


async def trim_streams(client: aredis.Redis, registry: Registry, cutoff: Cutoffs | datetime) -> int:
    """XTRIM MINID: drop stream entries older than their row's cutoff (entry ids are
    millisecond times); a plain datetime is the cutoff for every stream. Streams the hub reads
    are trimmed no further than its groups have processed. Returns the entries dropped."""
    return sum((await trim_each(client, registry, cutoff)).values())


async def trim_each(client: aredis.Redis, registry: Registry, cutoff: Cutoffs | datetime) -> dict[str, int]:
    """`trim_streams`, with the entries dropped per stream (every stream of the catalogue)."""
    catalogue = registry.catalogue()
    processing: dict[str, list[str]] = {}
    for stream, group in catalogue.hub_groups():
        if group.processes:
            processing.setdefault(stream, []).append(group.name)
    trimmed = {}
    for name, key in catalogue.retained():
        when = cutoff if isinstance(cutoff, datetime) else cutoff.for_key(key)
        min_id = (int(when.timestamp() * 1000), 0)
        if name in processing:
            min_id = min(min_id, _split(await _unprocessed_floor(client, name, processing[name])))
        trimmed[name] = int(await client.xtrim(name, minid=f"{min_id[0]}-{min_id[1]}", approximate=False))
    return trimmed


@dataclass(frozen=True)
class RetentionRun:
    cutoffs: Cutoffs
    database: dict[str, int]  # counts per kind (`purge_database`)
    streams: dict[str, int]  # entries dropped per stream; empty on a dry run


async def run_retention(
    client: aredis.Redis,
    engine: Engine,
    registry: Registry,
    agreement: Agreement,
    now: datetime,
    *,
    dry_run: bool = False,
) -> RetentionRun:
    """The whole job: the database first (in a worker thread), then the streams."""
    cutoffs = Cutoffs.of(agreement, now)
    database = await anyio.to_thread.run_sync(lambda: purge_database(engine, cutoffs, dry_run=dry_run, now=now))
    trimmed = {} if dry_run else await trim_each(client, registry, cutoffs)
    return RetentionRun(cutoffs, database, trimmed)


def as_dict(cutoffs: Cutoffs) -> dict[str, str]:
    return {k: v.isoformat() for k, v in asdict(cutoffs).items()}
