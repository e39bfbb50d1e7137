"""Retention of chained records without breaking the chain (`hub.store.audit_chain`).

Records leave the chain from its start only: the chain is cut after the last row whose record,
and every record before it, is past its kind's retention period. Those records and their chain
rows are deleted, and a checkpoint (`AuditCheckpoint`: pruned through sequence N, whose hash
was H) is chained in the same transaction, under the chain's lock. `hub audit verify` then starts
at N + 1 and checks that row's link against H; the checkpoint is itself chained, so a forged one
breaks the chain after it, and a kept anchor from after the cut still proves everything since.

A record past its period that comes after a record still within its own (the kinds may have
different periods) waits until the records before it are due: the chain is cut, never holed.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlmodel import Session

from hub.store import audit_chain
from hub.store.audit_chain import CHAIN, CHECKPOINT, KINDS, ChainedKind
from hub.store.bulk import table_of
from hub.store.models import AuditCheckpoint


@dataclass(frozen=True, slots=True)
class Pruned:
    through_seq: int  # 0: nothing was pruned
    records: dict[str, int]  # kind -> records deleted


def _first_live(session: Session, kind: ChainedKind, cutoff: datetime) -> int | None:
    """The lowest chain number of a record of `kind` still within its period."""
    table = kind.table
    query = (
        select(func.min(CHAIN.c.seq))
        .select_from(CHAIN.join(table, CHAIN.c.record_key == kind.key_text))
        .where(CHAIN.c.kind == kind.name, table.c[kind.time] >= cutoff)
    )
    found = session.connection().execute(query).scalar()
    return int(found) if found is not None else None


def _due(session: Session, kind: ChainedKind, through: int) -> int:
    table = kind.table
    keys = select(CHAIN.c.record_key).where(CHAIN.c.kind == kind.name, CHAIN.c.seq <= through)
    query = select(func.count()).select_from(table).where(kind.key_text.in_(keys))
    return int(session.connection().execute(query).scalar_one())


def prune(session: Session, cutoffs: Mapping[str, datetime], now: datetime, *, dry_run: bool = False) -> Pruned:
    """Cut the chain after the records past their periods (`cutoffs`: retention key -> cutoff).
    Takes the chain's lock (PostgreSQL) for the rest of the transaction; the caller commits."""
    conn = session.connection()
    head = audit_chain.locked_head(conn)
    if head is None:
        return Pruned(0, {})
    live = [
        seq
        for kind in KINDS.values()
        if kind is not CHECKPOINT and (seq := _first_live(session, kind, cutoffs[kind.retention])) is not None
    ]
    through = min(live) - 1 if live else head.seq
    start = conn.execute(select(func.min(CHAIN.c.seq))).scalar_one()
    if through < int(start) or (through == head.seq and _only_checkpoints(session)):
        return Pruned(0, {})
    records = {kind.name: _due(session, kind, through) for kind in KINDS.values()}
    if dry_run:
        return Pruned(through, records)
    through_hash = conn.execute(select(CHAIN.c.hash).where(CHAIN.c.seq == through)).scalar_one()
    for kind in KINDS.values():
        keys = select(CHAIN.c.record_key).where(CHAIN.c.kind == kind.name, CHAIN.c.seq <= through)
        conn.execute(delete(kind.table).where(kind.key_text.in_(keys)))
    conn.execute(delete(CHAIN).where(CHAIN.c.seq <= through))
    checkpoint = {
        "ref": uuid.uuid4().hex,
        "through_seq": through,
        "through_hash": str(through_hash),
        "records": sum(n for name, n in records.items() if name != CHECKPOINT.name),
        "created_at": now,
    }
    conn.execute(table_of(AuditCheckpoint).insert(), [checkpoint])
    # After the head read under the lock, not a new read: the rows up to it may all be gone.
    rows = audit_chain.chain_rows(head, CHECKPOINT, [checkpoint], audit_chain.stored_zone(conn))
    audit_chain.insert_chain(conn, rows)
    return Pruned(through, records)


def _only_checkpoints(session: Session) -> bool:
    """Nothing but checkpoints left in the chain: cutting again would only add another."""
    others = select(func.count()).select_from(CHAIN).where(CHAIN.c.kind != CHECKPOINT.name)
    return int(session.connection().execute(others).scalar_one()) == 0
