"""Verify the audit chain (`hub.store.audit_chain`): the first row that was tampered with.

Every chain row is checked in sequence: its number follows the one before, it links to the
row before (`prev_hash`), its own hash is what its place and record give, and its record is
still there with the content it was chained with. Then every record of a chained kind must
have a chain row. The chain may start after a retention checkpoint (`AuditCheckpoint`): its
first row must link to the hash the newest checkpoint recorded.

What is found is named by its sequence number and record (kind and key); what kind of
tampering it looks like is `Problem.code`: `edited`, `deleted`, `inserted` or `reordered`.
An anchor (a head published earlier) is checked too: the row at its number must have its hash.

Read in one snapshot (REPEATABLE READ on PostgreSQL), so rows committed meanwhile by a running
hub are either wholly there (record and chain row) or not at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine

from hub.store.audit_chain import CHAIN, CHECKPOINT, GENESIS, KINDS, ChainedKind, Head, content_hash, link, stored_zone

Code = Literal["edited", "deleted", "inserted", "reordered", "anchor_mismatch", "anchor_pruned", "anchor_ahead"]


@dataclass(frozen=True, slots=True)
class Problem:
    code: Code
    seq: int | None  # the chain row where it shows (None: a record with no chain row)
    kind: str | None = None  # the record's kind and key, where one is concerned
    key: str | None = None
    detail: str = ""  # which check failed (English, for the log and the tests)


@dataclass(frozen=True, slots=True)
class Verdict:
    rows: int  # chain rows checked
    records: int  # records checked
    start: int  # the first sequence number checked (after the newest checkpoint: its through_seq + 1)
    head: Head | None
    problem: Problem | None

    @property
    def ok(self) -> bool:
        return self.problem is None


@dataclass(frozen=True, slots=True)
class _Row:
    seq: int
    kind: str
    key: str
    content: str
    prev: str
    hash: str


@contextmanager
def _snapshot(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            yield conn


def _records(conn: Connection, kind: ChainedKind) -> dict[str, dict[str, Any]]:
    zone = stored_zone(conn)
    table = kind.table
    out = {}
    for row in conn.execute(select(*(table.c[name] for name in {*kind.fields, *kind.optional, kind.key}))).mappings():
        record = dict(row)
        out[str(record[kind.key])] = {"hash": content_hash(kind, record, zone), "row": record}
    return out


def verify(engine: Engine, anchor: Head | None = None) -> Verdict:
    with _snapshot(engine) as conn:
        rows = [_Row(*r) for r in conn.execute(select(*CHAIN.c).order_by(CHAIN.c.seq))]
        records = {name: _records(conn, kind) for name, kind in KINDS.items()}
    return check(rows, records, anchor)


def check(rows: list[_Row], records: dict[str, dict[str, dict[str, Any]]], anchor: Head | None) -> Verdict:
    total = sum(len(r) for r in records.values())
    head = Head(rows[-1].seq, rows[-1].hash) if rows else None
    start, prev = _start(rows, records[CHECKPOINT.name])
    problem = _walk(rows, records, start, prev)
    if problem is None:
        problem = _unchained(rows, records)
    if problem is None and anchor is not None:
        problem = _anchor(rows, anchor, start, prev)
    return Verdict(len(rows), total, start, head, problem)


def _start(rows: list[_Row], checkpoints: dict[str, dict[str, Any]]) -> tuple[int, str]:
    """Where the chain starts: after the newest chained checkpoint (first number, hash to link to)."""
    chained = [r for r in rows if r.kind == CHECKPOINT.name and r.key in checkpoints]
    if not chained:
        return 1, GENESIS
    newest = checkpoints[chained[-1].key]["row"]
    return int(newest["through_seq"]) + 1, str(newest["through_hash"])


def _walk(rows: list[_Row], records: dict[str, dict[str, dict[str, Any]]], start: int, prev: str) -> Problem | None:
    by_hash = {r.hash: r for r in rows}
    expected = start
    for row in rows:
        found = _row_problem(row, expected, prev, by_hash, records)
        if found is not None:
            return found
        expected, prev = row.seq + 1, row.hash
    return None


def _row_problem(
    row: _Row, expected: int, prev: str, by_hash: dict[str, _Row], records: dict[str, dict[str, dict[str, Any]]]
) -> Problem | None:
    if row.seq < expected:
        return Problem("inserted", row.seq, row.kind, row.key, "row before the newest checkpoint's start")
    if row.seq > expected:
        return Problem("deleted", expected, detail=f"rows {expected}..{row.seq - 1} missing")
    if row.prev != prev:
        return _broken_link(row, by_hash)
    if link(row.seq, row.kind, row.key, row.content, row.prev) != row.hash:
        return Problem("edited", row.seq, row.kind, row.key, "chain row's hash does not match")
    kind = records.get(row.kind)
    if kind is None:
        return Problem("inserted", row.seq, row.kind, row.key, "unknown kind of record")
    record = kind.get(row.key)
    if record is None:
        return Problem("deleted", row.seq, row.kind, row.key, "record missing")
    if record["hash"] != row.content:
        return Problem("edited", row.seq, row.kind, row.key, "record content changed")
    return None


def _broken_link(row: _Row, by_hash: dict[str, _Row]) -> Problem:
    """A row that does not link to the row before it: what happened, judged by where the row
    it does link to is, and at which number the row's own hash was made."""
    linked_to = by_hash.get(row.prev)
    if linked_to is None:
        if link(row.seq + 1, row.kind, row.key, row.content, row.prev) == row.hash:
            return Problem("deleted", row.seq, row.kind, row.key, "renumbered down: a row before it was deleted")
        return Problem("inserted", row.seq, row.kind, row.key, "links to no row of the chain")
    if linked_to.seq == row.seq - 2 and link(row.seq - 1, row.kind, row.key, row.content, row.prev) == row.hash:
        return Problem("inserted", row.seq - 1, detail="renumbered up: a row was inserted before it")
    return Problem("reordered", row.seq, row.kind, row.key, f"links to row {linked_to.seq}'s hash")


def _unchained(rows: list[_Row], records: dict[str, dict[str, dict[str, Any]]]) -> Problem | None:
    chained = {(r.kind, r.key) for r in rows}
    for name, by_key in records.items():
        for key in sorted(by_key):
            if (name, key) not in chained:
                return Problem("inserted", None, name, key, "record without a chain row")
    return None


def _anchor(rows: list[_Row], anchor: Head, start: int, start_prev: str) -> Problem | None:
    if anchor.seq == start - 1 and start > 1:  # the newest checkpoint's own row
        return None if anchor.hash == start_prev else Problem("anchor_mismatch", anchor.seq, detail="checkpoint")
    if anchor.seq < start:
        return Problem("anchor_pruned", anchor.seq, detail="the anchor's row was pruned by retention")
    at = next((r for r in rows if r.seq == anchor.seq), None)
    if at is None:
        return Problem("anchor_ahead", anchor.seq, detail="the chain is shorter than the anchor")
    if at.hash != anchor.hash:
        return Problem("anchor_mismatch", anchor.seq, at.kind, at.key, "history differs from the anchor")
    return None
