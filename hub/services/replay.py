"""Set-aside messages under audit: showing one's content, and replaying it (writing its fields
to its stream again, as a new entry).

Both are recorded, who (`Accessor.actor`, and the operating-system account), when and why, as a
chained audit record (`hub.store.deadletters.record_access`): the content may hold personal
data, and a replay makes the hub process it again. Showing is recorded before the content is
returned. Each record is locked (PostgreSQL) while it is replayed, so two operators cannot
replay it twice at once; the replay and its audit record are written in the same transaction.
A record that was replayed before is left alone unless `again`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine

from hub.errors import HubError
from hub.store.db import UnitOfWork
from hub.store.deadletters import deadletter, decode_fields, record_access, record_replay
from hub.store.queries import DeadLetterView, dead_letter

MAX_REASON = 500
MAX_ACTOR = 100

Xadd = Callable[[str, dict[bytes, bytes]], str]  # stream, fields -> the new entry's id


class AccessRefused(HubError):
    """`code`: no_actor or no_reason (the caller says it in Danish)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True, slots=True)
class Accessor:
    """Who looks or replays, and why. `actor`: the person's name or initials (staff accounts
    come later: then their identifier); `os_user`: the account the command runs under."""

    actor: str
    os_user: str
    reason: str

    @classmethod
    def of(cls, actor: str | None, os_user: str, reason: str | None) -> Accessor:
        actor, reason = (actor or "").strip(), " ".join((reason or "").split())
        if not actor:
            raise AccessRefused("no_actor")
        if not reason:
            raise AccessRefused("no_reason")
        return cls(actor[:MAX_ACTOR], os_user[:MAX_ACTOR], reason[:MAX_REASON])


def show(engine: Engine, record_id: int, by: Accessor, now: datetime) -> DeadLetterView | None:
    """The record with its content, once the showing is recorded (None: no such record)."""
    with UnitOfWork(engine) as uow:
        record = deadletter(uow.session, record_id)
        if record is None:
            return None
        record_access(uow.session, record, action="show", actor=by.actor, os_user=by.os_user, reason=by.reason, now=now)
        view = dead_letter(uow.session, record_id)
        uow.commit()
    return view


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
    engine: Engine, xadd: Xadd, record_ids: Iterable[int], *, by: Accessor, again: bool, now: datetime
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
            uow.session.flush()
            record_access(uow.session, record, action="replay", actor=by.actor, os_user=by.os_user,
                          reason=by.reason, now=now, new_entry_id=new_id)  # fmt: skip
            uow.commit()
            outcomes.append(Replayed(record_id, record.stream, new_id))
    return outcomes
