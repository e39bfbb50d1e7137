"""Retention: personal data is kept no longer than the local agreement says.

There is no fixed statutory SSP period; the agreement's `retention_days` decide. After
`report` days a report's personal content is erased (the row stays as a tombstone, because
the disclosure log refers to it), the decision's free-text justification with it, and the
streams that carry reports are trimmed to that age. The disclosure log is kept
`disclosure_log` days (so a person can still ask what was disclosed), dead letters (records
and the dead-letter stream) `deadletter` days, and relayed outbox rows `outbox` days
(default 7).

Which streams are trimmed, and to which of these periods, is the stream catalogue's
`retention` column (`hub.schemas.catalogue`): intake and decision streams too, since their
entries hold the reports themselves, but never past what the hub has processed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

import redis.asyncio as aredis
from redis.exceptions import ResponseError
from sqlalchemy import delete, func, update
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from hub.config.registry import Registry
from hub.policies import Agreement
from hub.store.db import UnitOfWork
from hub.store.models import DeadLetterRecord, Decision, Disclosure, Outbox, ProcessedEntry, Report

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

    def for_key(self, key: str) -> datetime:
        """The cutoff of a `retention_days` key (a stream catalogue row's `retention`)."""
        if key not in RETENTION_KEYS:
            raise ValueError(f"unknown retention key {key!r}; known: {', '.join(RETENTION_KEYS)}")
        value: datetime = getattr(self, key)
        return value


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
    are trimmed no further than its groups have processed."""
    catalogue = registry.catalogue()
    processing: dict[str, list[str]] = {}
    for stream, group in catalogue.hub_groups():
        if group.processes:
            processing.setdefault(stream, []).append(group.name)
    trimmed = 0
    for name, key in catalogue.retained():
        when = cutoff if isinstance(cutoff, datetime) else cutoff.for_key(key)
        min_id = (int(when.timestamp() * 1000), 0)
        if name in processing:
            min_id = min(min_id, _split(await _unprocessed_floor(client, name, processing[name])))
        trimmed += int(await client.xtrim(name, minid=f"{min_id[0]}-{min_id[1]}", approximate=False))
    return trimmed


def as_dict(cutoffs: Cutoffs) -> dict[str, str]:
    return {k: v.isoformat() for k, v in asdict(cutoffs).items()}
