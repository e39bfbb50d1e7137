"""Retention: personal data is kept no longer than the local agreement says.

There is no fixed statutory SSP period; the agreement's `retention_days` decide. After
`report` days a report's personal content is erased (the row stays as a tombstone, because
the disclosure log refers to it), the decision's free-text justification with it, and the
hub's output streams are trimmed to that age. The disclosure log is kept `disclosure_log`
days (so a person can still ask what was disclosed), dead letters `deadletter` days, and
relayed outbox rows `outbox` days (default 7).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

import redis.asyncio as aredis
from sqlalchemy import delete, func, update
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from hub.config.registry import Registry
from hub.policies import Agreement
from hub.schemas import streams
from hub.store.db import UnitOfWork
from hub.store.models import DeadLetterRecord, Decision, Disclosure, Outbox, ProcessedEntry, Report

DEFAULT_OUTBOX_DAYS = 7


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


def purge_database(engine: Engine, cutoffs: Cutoffs, *, dry_run: bool = False) -> dict[str, int]:
    """Erase and delete what is past its retention period. Returns counts per kind."""
    with UnitOfWork(engine) as uow:
        s = uow.session
        expired = list(
            s.exec(select(Report.ref).where(Report.received_at < cutoffs.report, col(Report.payload).is_not(None)))
        )
        counts = {"reports_erased": len(expired)}
        statements: dict[str, Any] = {
            "disclosures_deleted": delete(Disclosure).where(col(Disclosure.created_at) < cutoffs.disclosure_log),
            "deadletters_deleted": delete(DeadLetterRecord).where(
                col(DeadLetterRecord.created_at) < cutoffs.deadletter
            ),
            "outbox_deleted": delete(Outbox).where(
                col(Outbox.sent_at).is_not(None), col(Outbox.sent_at) < cutoffs.outbox
            ),
            "tracking_deleted": delete(ProcessedEntry).where(col(ProcessedEntry.processed_at) < cutoffs.report),
        }
        if dry_run:
            for name, stmt in statements.items():
                query = select(func.count()).select_from(stmt.table).where(stmt.whereclause)
                counts[name] = int(s.exec(query).one())
            return counts
        if expired:
            s.execute(update(Report).where(col(Report.ref).in_(expired)).values(payload=None, receipt_event=None))
            s.execute(update(Decision).where(col(Decision.report_ref).in_(expired)).values(justification=""))
        for name, stmt in statements.items():
            counts[name] = s.execute(stmt).rowcount  # type: ignore[attr-defined]
        uow.commit()
    return counts


def output_streams(registry: Registry) -> list[str]:
    """Every stream the hub writes that may carry personal data or point to a case."""
    names = [streams.receipts(s.id) for s in registry.sources]
    names += [streams.triage(q) for q in streams.Queue]
    names += [streams.POLICE_ALERTS, streams.CHILDREN_NOTIFICATIONS, streams.REFERRALS_WITHHELD, streams.DEADLETTER]
    names += [name for p in registry.partners for name in p.streams()]
    return names


async def trim_streams(client: aredis.Redis, registry: Registry, cutoff: datetime) -> int:
    """XTRIM MINID: drop stream entries older than `cutoff` (entry ids are millisecond times)."""
    min_id = f"{int(cutoff.timestamp() * 1000)}-0"
    trimmed = 0
    for name in output_streams(registry):
        trimmed += int(await client.xtrim(name, minid=min_id, approximate=False))
    return trimmed


def as_dict(cutoffs: Cutoffs) -> dict[str, str]:
    return {k: v.isoformat() for k, v in asdict(cutoffs).items()}
