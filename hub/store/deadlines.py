"""The deadline rows' claim and updates (`hub.store.models.Deadline`).

The scheduler (`hub.services.deadlines`) fires each stage of a clock exactly once, however
many hub processes run it at the same moment:
- `due` finds the rows whose `next_at` has come; on PostgreSQL with `FOR UPDATE SKIP LOCKED`,
  so a second scheduler skips the rows the first holds and takes others (or none);
- `advance` moves each row on with a conditional UPDATE (`WHERE state = <what it was>`) and
  returns only the rows it moved: a row another scheduler moved meanwhile (SQLite, which
  has no row locks but one writer at a time) is not returned, so its event is not written
  again. The caller writes the events to the outbox in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import bindparam, case, select, update
from sqlmodel import Session

from hub.store.bulk import Statement, in_list, table_of
from hub.store.models import Deadline

PENDING, APPROACHING, MET, BREACHED = "pending", "approaching", "met", "breached"
OPEN_STATES = (PENDING, APPROACHING)

_table = table_of(Deadline)
_d = _table.c
_DUE = (
    select(_d.id, _d.report_ref, _d.kind, _d.due_at, _d.state, _d.ref)
    .where(_d.next_at <= bindparam("now", type_=_d.next_at.type))
    .order_by(_d.next_at, _d.id)
    .limit(bindparam("limit"))
)
_MEET = (
    update(_table)
    .where(
        _d.report_ref.in_(bindparam("refs", expanding=True)),
        _d.kind == bindparam("clock_kind"),
        _d.met_at.is_(None),
    )
    .values(
        state=case((_d.state.in_(OPEN_STATES), MET), else_=_d.state),
        next_at=None,
        met_at=bindparam("now", type_=_d.met_at.type),
    )
)


@dataclass(frozen=True, slots=True)
class Due:
    """A clock whose next stage has come, as `due` found it."""

    id: int
    report_ref: str
    kind: str
    due_at: datetime
    state: str
    ref: str = ""


@dataclass(frozen=True, slots=True)
class Fired:
    """A stage this transaction moved a clock to (`approaching` or `breached`). `ref`: the
    referral's or alert's event id of a clock of one of them, else ""."""

    report_ref: str
    kind: str
    due_at: datetime
    stage: str
    ref: str = ""


def utc(moment: datetime) -> datetime:
    """Stored times as aware UTC (SQLite keeps UTC without its zone)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def due(session: Session, now: datetime, limit: int) -> list[Due]:
    """Up to `limit` clocks whose next stage has come, earliest first; on PostgreSQL locked
    until the transaction ends, skipping rows another transaction holds."""
    conn = session.connection()
    query = _DUE.with_for_update(skip_locked=True) if conn.dialect.name == "postgresql" else _DUE
    rows = conn.execute(query, {"now": utc(now), "limit": limit})
    return [Due(i, report, kind, utc(at), state, ref) for i, report, kind, at, state, ref in rows]


def advance(session: Session, found: Iterable[Due], now: datetime) -> list[Fired]:
    """Move each clock on: to `breached` once its deadline has passed, else to `approaching`.
    Only rows still in the state `due` saw are moved (and returned)."""
    now = utc(now)
    groups: dict[tuple[str, str], list[int]] = {}
    for d in found:
        stage = BREACHED if d.due_at <= now else APPROACHING
        if stage == APPROACHING and d.state != PENDING:
            continue  # approaching already; `next_at` is its due time, which has not come
        groups.setdefault((d.state, stage), []).append(d.id)
    conn = session.connection()
    fired: list[Fired] = []
    for (before, stage), ids in sorted(groups.items()):
        sent = _d.breached_sent_at if stage == BREACHED else _d.approaching_sent_at
        statement = (
            update(_table)
            .where(_d.id.in_(ids), _d.state == before)
            .values({_d.state: stage, _d.next_at: None if stage == BREACHED else _d.due_at, sent: now})
            .returning(_d.report_ref, _d.kind, _d.due_at, _d.ref)
        )
        fired += [Fired(report, kind, utc(at), stage, ref) for report, kind, at, ref in conn.execute(statement)]
    return fired


def meet(session: Session, report_refs: Iterable[str], kind: str, now: datetime) -> None:
    """The clocks of `kind` of these reports are met (the action they wait for is recorded):
    an open one becomes `met` and never fires; a breached one keeps its state, with the time
    it was met after all."""
    if refs := list(set(report_refs)):
        session.connection().execute(_MEET, {"refs": refs, "clock_kind": kind, "now": utc(now)})


def meet_pg(report_refs: Iterable[str], kind: str, now: datetime) -> Statement | None:
    """PostgreSQL: `meet` as a statement for the batch's last pipeline (`hub.store.batch`)."""
    if not (refs := sorted(set(report_refs))):
        return None
    listed, params = in_list("ref", refs)
    open_states, states = in_list("open", OPEN_STATES)
    sql = (
        f"UPDATE deadline SET state = CASE WHEN state IN ({open_states}) THEN %(met)s ELSE state END,"  # noqa: S608
        f" next_at = NULL, met_at = %(now)s WHERE report_ref IN ({listed}) AND kind = %(kind)s AND met_at IS NULL"
    )
    return sql, {"met": MET, "now": utc(now), "kind": kind, **states, **params}


_MEET_REFS = (
    update(_table)
    .where(_d.ref.in_(bindparam("refs", expanding=True)), _d.met_at.is_(None))
    .values(
        state=case((_d.state.in_(OPEN_STATES), MET), else_=_d.state),
        next_at=None,
        met_at=bindparam("now", type_=_d.met_at.type),
    )
)


def meet_refs(session: Session, refs: Iterable[str], now: datetime) -> None:
    """The clocks of these referrals or alerts (by event id, `Deadline.ref`) are met, as `meet`."""
    if wanted := [r for r in set(refs) if r]:
        session.connection().execute(_MEET_REFS, {"refs": wanted, "now": utc(now)})
