"""Replaying set-aside messages: write a dead letter's fields to its stream again, as a new entry.

Each record is locked (PostgreSQL) while it is written, so two operators cannot replay it twice
at once; the replay is recorded (when, as which entry) in the same transaction. A record that
was replayed before is left alone unless `again`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine

from hub.store.db import UnitOfWork
from hub.store.deadletters import deadletter, decode_fields, record_replay

Xadd = Callable[[str, dict[bytes, bytes]], str]  # stream, fields -> the new entry's id


@dataclass(frozen=True, slots=True)
class Replayed:
    id: int
    stream: str
    entry_id: str  # the new entry


@dataclass(frozen=True, slots=True)
class NotReplayed:
    """`why`: unknown (no such record), replayed_before (and not `again`), or undecodable
    (stored before payloads were kept losslessly; `detail` says why)."""

    id: int
    why: str
    replay_count: int = 0
    replay_entry_id: str | None = None
    detail: str = ""


def replay(
    engine: Engine, xadd: Xadd, record_ids: Iterable[int], *, again: bool, now: datetime
) -> list[Replayed | NotReplayed]:
    """Replay each record in turn; one outcome per id, in order."""
    outcomes: list[Replayed | NotReplayed] = []
    for record_id in record_ids:
        with UnitOfWork(engine) as uow:
            record = deadletter(uow.session, record_id, for_update=True)
            if record is None:
                outcomes.append(NotReplayed(record_id, "unknown"))
                continue
            if record.replay_count and not again:
                outcomes.append(NotReplayed(record_id, "replayed_before", record.replay_count, record.replay_entry_id))
                continue
            try:
                fields = decode_fields(record.payload, record.payload_encoding)
            except ValueError as exc:
                outcomes.append(NotReplayed(record_id, "undecodable", detail=str(exc)))
                continue
            new_id = xadd(record.stream, fields)
            record_replay(record, new_id, now)
            uow.session.add(record)
            uow.commit()
            outcomes.append(Replayed(record_id, record.stream, new_id))
    return outcomes
