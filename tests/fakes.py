"""Shared fakes for unit tests (no Redis, no database): the stream worker's Redis and pipeline,
and an in-memory unit of work for the batch pipeline's services (`InMemoryDatabase`)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import JSON, Integer, PrimaryKeyConstraint, UniqueConstraint
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel

import hub.store.models  # noqa: F401  (the tables, registered on SQLModel.metadata)
from hub.runtime.worker import Output, StreamWorker, WorkerSettings
from hub.schemas.entry import Entry
from hub.services.pipeline import Outcome
from hub.store.batch import StoredReceipt
from hub.store.bulk import OutboxRow
from hub.store.db import dump_json
from hub.store.lookups import DecisionContext, ReporterThread
from hub.store.referral_updates import Target, UpdateContext
from hub.store.rows import RowBatch


class FakeRedis:
    """The two calls a worker makes after processing: XACK, and XCLAIM to give entries back."""

    def __init__(self) -> None:
        self.acked: list[tuple[str, str]] = []

    async def xack(self, stream: str, group: str, *ids: str) -> int:
        self.acked += [(stream, i) for i in ids]
        return len(ids)

    async def xclaim(self, *args: Any, **kwargs: Any) -> list[Any]:
        return []


def entries(stream: str, *bodies: bytes) -> list[Entry]:
    return [Entry(stream, f"1-{n}", {b"event": body}) for n, body in enumerate(bodies)]


class GivingUp:
    """`BatchPipeline.give_up` as the worker sees it: the entries set aside are acked."""

    def __init__(self) -> None:
        self.given_up: list[tuple[str, str, str]] = []  # (stream, entry id, reason)

    def give_up(self, stream: str, batch: list[Entry], now: datetime, reason: str) -> Outcome:
        self.given_up += [(stream, e.entry_id, reason) for e in batch]
        return Outcome([e.entry_id for e in batch], relay=True, dead=len(batch))


class Store(GivingUp):
    """Stands in for the batch pipeline: a batch holding a b"bad" entry fails as a whole."""

    def __init__(self) -> None:
        super().__init__()
        self.together: list[list[str]] = []  # streams of each combined transaction
        self.alone: list[tuple[str, int]] = []  # (stream, entries) of each lone transaction

    def process_many(self, batches: list[tuple[str, list[Entry]]], now: datetime, **_: Any) -> Outcome:
        self.together.append([stream for stream, _ in batches])
        self._check([e for _, es in batches for e in es])
        publish: list[OutboxRow] = [(n, "hub.out.v1", "{}") for n, _ in enumerate(batches)]
        return Outcome([e.entry_id for _, es in batches for e in es], publish)

    def process(self, stream: str, batch: list[Entry], now: datetime, **_: Any) -> Outcome:
        self.alone.append((stream, len(batch)))
        self._check(batch)
        return Outcome([e.entry_id for e in batch])

    @staticmethod
    def _check(batch: list[Entry]) -> None:
        if any(e.fields[b"event"] == b"bad" for e in batch):
            raise ValueError("cannot store this entry")


ProcessFn = Callable[[str, list[Entry], datetime], Outcome]


class LonePipeline(GivingUp):
    """A pipeline that stores each batch with `store` alone (no coalescing)."""

    def __init__(self, store: ProcessFn) -> None:
        super().__init__()
        self.store = store

    def process(self, stream: str, batch: list[Entry], now: datetime, **_: Any) -> Outcome:
        return self.store(stream, batch, now)

    def process_many(self, batches: list[tuple[str, list[Entry]]], now: datetime, **_: Any) -> Outcome:
        done = Outcome()
        for stream, batch in batches:
            done += self.store(stream, batch, now)
        return done


def worker(
    store: Store,
    client: FakeRedis,
    published: list[list[OutboxRow]],
    *,
    coalesce_max_entries: int = 500,
    **options: Any,
) -> StreamWorker:
    """An intake worker that coalesces, on `store`."""

    async def publish(rows: list[OutboxRow]) -> None:
        published.append(rows)

    lanes = {k: options.pop(k) for k in ("batches_in_flight", "coalesce_concurrency") if k in options}
    settings = WorkerSettings(
        name="intake",
        group="g",
        consumer="c",
        max_deliveries=5,
        coalesce=True,
        coalesce_max_entries=coalesce_max_entries,
        **lanes,
    )
    return StreamWorker(settings, store, client, output=Output(publish=publish), **options)  # type: ignore[arg-type]


def lone_worker(name: str, group: str, client: FakeRedis, process: ProcessFn, **options: Any) -> StreamWorker:
    """A worker that stores each batch with `process` alone (no coalescing)."""
    priority, noack = options.pop("priority", False), options.pop("noack", False)
    settings = WorkerSettings(name=name, group=group, consumer="c", max_deliveries=5, priority=priority, noack=noack)
    return StreamWorker(settings, LonePipeline(process), client, **options)  # type: ignore[arg-type]


# --- an in-memory unit of work for the batch pipeline -------------------------------------------

Row = dict[str, Any]


@dataclass(frozen=True)
class _Schema:
    """What the fake enforces and fills in for one table, read from its SQLModel table (so the
    fake's keys are the database's): unique keys (primary keys too), foreign keys, the
    autoincremented id, column defaults, JSON columns."""

    columns: tuple[str, ...]
    unique: tuple[tuple[str, ...], ...]
    foreign: tuple[tuple[str, str, str], ...]  # column, parent table, parent column
    autoid: bool
    defaults: tuple[tuple[str, Any], ...]
    json: frozenset[str]


@functools.cache
def _schema(name: str) -> _Schema:
    table = SQLModel.metadata.tables[name]
    unique = {
        tuple(c.name for c in k.columns)
        for k in table.constraints
        if isinstance(k, PrimaryKeyConstraint | UniqueConstraint)
    }
    id_column = table.c.get("id")
    return _Schema(
        columns=tuple(c.name for c in table.columns),
        unique=tuple(sorted(unique)),
        foreign=tuple((fk.parent.name, fk.column.table.name, fk.column.name) for fk in table.foreign_keys),
        autoid=id_column is not None and id_column.primary_key and isinstance(id_column.type, Integer),
        defaults=tuple(
            (c.name, c.default.arg)  # type: ignore[attr-defined]
            for c in table.columns
            if c.default is not None and c.default.is_scalar
        ),
        json=frozenset(c.name for c in table.columns if isinstance(c.type, JSON)),
    )


def _violation(table: str, what: str) -> IntegrityError:
    return IntegrityError(f"INSERT INTO {table}", None, Exception(what))


class InMemoryDatabase:
    """The hub's tables as lists of rows (dicts), for fast service unit tests: what the batch
    pipeline writes (cases, reports, triage items, disclosures, decisions, dead letters, outbox
    and tracking rows). Unique and foreign keys are the database's: a conflict raises
    `IntegrityError`, as the database does (so the pipeline's retry path runs). A transaction
    works on a copy; nothing is visible here unless it commits.

        db = InMemoryDatabase()
        pipeline = BatchPipeline(None, steps, unit_of_work=db.unit_of_work)
    """

    def __init__(self) -> None:
        self.tables: dict[str, list[Row]] = {t.name: [] for t in SQLModel.metadata.sorted_tables}
        self.last_id: dict[str, int] = dict.fromkeys(self.tables, 0)
        self.commits = 0
        self.rollbacks = 0

    def unit_of_work(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self)

    def rows(self, table: str, **where: Any) -> list[Row]:
        """The committed rows of `table` (its SQL name, e.g. "triageitem") whose columns equal `where`."""
        return [dict(r) for r in self.tables[table] if all(r[k] == v for k, v in where.items())]


class FakeUnitOfWork:
    """One transaction on an `InMemoryDatabase` (a `hub.store.batch.BatchUnitOfWork`)."""

    def __init__(self, db: InMemoryDatabase) -> None:
        self.db = db
        self._store: FakeBatchStore | None = None

    @property
    def store(self) -> FakeBatchStore:
        assert self._store is not None, "outside the transaction"
        return self._store

    def __enter__(self) -> FakeUnitOfWork:
        tables = {name: [dict(r) for r in rows] for name, rows in self.db.tables.items()}
        self._store = FakeBatchStore(tables, dict(self.db.last_id))
        return self

    def __exit__(self, *exc: object) -> None:
        if self._store is not None:  # not committed: dropped
            self.db.rollbacks += 1
        self._store = None

    def commit(self) -> None:
        self.db.tables, self.db.last_id = self.store.tables, self.store.last_id
        self.db.commits += 1
        self._store = None


class FakeBatchStore:
    """`hub.store.batch.BatchStore` on the tables of one fake transaction."""

    def __init__(self, tables: dict[str, list[Row]], last_id: dict[str, int]) -> None:
        self.tables = tables
        self.last_id = last_id

    def processed_ids(self, stream: str, entry_ids: Sequence[str]) -> set[str]:
        wanted = set(entry_ids)
        return {
            r["entry_id"] for r in self.tables["processedentry"] if r["stream"] == stream and r["entry_id"] in wanted
        }

    def receipts_by_event(self, source_id: str, event_ids: Iterable[str]) -> dict[str, StoredReceipt]:
        wanted = set(event_ids)
        return {
            r["event_id"]: (r["ref"], r["receipt_event"])
            for r in self.tables["report"]
            if r["source_id"] == source_id and r["event_id"] in wanted
        }

    def decision_exists(self, source_id: str, event_id: str) -> bool:
        return any(r["source_id"] == source_id and r["event_id"] == event_id for r in self.tables["decision"])

    def insert_decisions(self, rows: list[Row]) -> list[int]:
        return self._insert("decision", rows)

    def mark_decided(self, report_refs: Iterable[str], now: datetime) -> None:
        refs = set(report_refs)
        for row in self.tables["triageitem"]:
            if row["report_ref"] in refs:
                row.update(status="decided", decided_at=now)

    def subject_reports(self, keys: Iterable[str], since: datetime) -> dict[str, list[tuple[str, datetime]]]:
        wanted = set(keys)
        subjects = {c["id"]: c["subject_key"] for c in self.tables["case"] if c["subject_key"] in wanted}
        found: dict[str, list[tuple[str, datetime]]] = {}
        for r in self.tables["report"]:
            if r["case_id"] in subjects and r["received_at"] >= since:
                found.setdefault(subjects[r["case_id"]], []).append((r["source_id"], r["received_at"]))
        return found

    def meet_deadlines(self, report_refs: Iterable[str], kind: str, now: datetime) -> None:
        refs = set(report_refs)
        for row in self.tables["deadline"]:
            if row["report_ref"] in refs and row["kind"] == kind and row["met_at"] is None:
                if row["state"] in ("pending", "approaching"):
                    row["state"] = "met"
                row.update(next_at=None, met_at=now)

    def update_context(self, partner_id: str, event_ids: Iterable[str], refs: Iterable[str]) -> UpdateContext:
        wanted, ids = set(refs), set(event_ids)
        out = UpdateContext()
        for r in self.tables["disclosure"]:
            if r["ref"] in wanted:
                out.targets[r["ref"]] = Target(r["ref"], r["report_ref"], r["recipient"], r["kind"], r["effect"])
        for r in self.tables["referral_update"]:
            if r["ref"] in wanted:
                out.recorded.setdefault(r["ref"], []).append(r["state"])
            if r["partner_id"] == partner_id and r["event_id"] in ids:
                out.stored[r["event_id"]] = r["report_ref"]
        return out

    def meet_clocks(self, refs: Iterable[str], now: datetime) -> None:
        wanted = set(refs)
        for row in self.tables["deadline"]:
            if row["ref"] in wanted and row["met_at"] is None:
                if row["state"] in ("pending", "approaching"):
                    row["state"] = "met"
                row.update(next_at=None, met_at=now)

    def decision_context(self, refs: Iterable[str]) -> DecisionContext:
        wanted = set(refs)
        out = DecisionContext({}, set(), {})
        decided = {t["report_ref"] for t in self.tables["triageitem"] if t["status"] == "decided"}
        for r in self.tables["report"]:
            if r["ref"] not in wanted:
                continue
            out.reports[r["ref"]] = (r["payload"], r["case_id"], r.get("receipt_event"))
            if r["ref"] in decided:
                out.decided.add(r["ref"])
            kinds = [m["kind"] for m in self.tables["reportermessage"] if m["report_ref"] == r["ref"]]
            out.threads[r["ref"]] = ReporterThread(
                ref=r["ref"],
                source_id=r["source_id"],
                event_id=r["event_id"],
                received_at=r["received_at"],
                public_employee=bool(r["payload"]["reporter"]["public_employee"]),
                rule_ids=tuple(r["assessment"].get("rule_ids", ())),
                acknowledged="acknowledgement" in kinds,
                feedback=kinds.count("feedback"),
            )
        return out

    def reporter_message_exists(self, source_id: str, event_id: str) -> bool:
        return any(m["source_id"] == source_id and m["event_id"] == event_id for m in self.tables["reportermessage"])

    def write(self, rows: RowBatch) -> None:
        for table, batch in rows.drain(lambda key: self._case_id(key, rows.now)):
            if not batch:
                continue
            ids = self._insert(table, batch)
            if table == "outbox" and rows.publishes:
                rows.published += [(i, r["stream"], str(r["event"])) for i, r in zip(ids, batch, strict=True)]

    def _case_id(self, key: str | None, now: datetime) -> int:
        """The subject's oldest case, or a new one (no key: always new), as `RowBatch.write` does."""
        if key is not None and (found := [r["id"] for r in self.tables["case"] if r["subject_key"] == key]):
            return int(min(found))
        return self._insert("case", [{"subject_key": key, "created_at": now}])[0]

    def _insert(self, table: str, rows: list[Row]) -> list[int]:
        """Insert `rows` (all or none), as the database would store and return them."""
        schema = _schema(table)
        existing = self.tables[table]
        keys = {k: {tuple(r[c] for c in k) for r in existing} for k in schema.unique}
        last_id = self.last_id[table]
        added: list[Row] = []
        for given in rows:
            unknown = set(given) - set(schema.columns)
            assert not unknown, f"no such columns in {table}: {unknown}"
            row: Row = dict.fromkeys(schema.columns)
            row.update(schema.defaults)
            row.update(given)
            if schema.autoid and row["id"] is None:
                last_id += 1
                row["id"] = last_id
            for column in schema.json:  # stored as JSON: read back as the database returns it
                if row[column] is not None:
                    row[column] = orjson.loads(dump_json(row[column]))
            for key, seen in keys.items():
                value = tuple(row[c] for c in key)
                if None in value:
                    continue  # NULLs never conflict
                if value in seen:
                    raise _violation(table, f"UNIQUE constraint failed: {table}.{', '.join(key)}")
                seen.add(value)
            for column, parent, parent_column in schema.foreign:
                if row[column] is not None and not any(
                    p[parent_column] == row[column] for p in (*self.tables[parent], *(added if parent == table else ()))
                ):
                    raise _violation(table, f"FOREIGN KEY constraint failed: {table}.{column}")
            added.append(row)
        existing += added
        if schema.autoid:
            self.last_id[table] = max([last_id, *(r["id"] for r in added)])
        return [r["id"] for r in added] if schema.autoid else []
