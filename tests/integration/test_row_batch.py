"""`RowBatch` stores the same rows however it writes them.

On both databases, and on PostgreSQL both for small batches (INSERTs in one pipeline) and large
ones (COPY): each subject's reports meet the subject's oldest case, a new subject gets one case
however often it appears in a batch, a report without a subject always gets a new case; values
(aware datetimes, JSON text, bytes, model defaults) are stored as given; outbox ids follow the
order of `outbox()` calls; and a row that is already stored raises `IntegrityError`, which is how
intake learns that a batch was redelivered.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Text, cast, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlmodel import col, select

from hub.store.bulk import PIPELINE_MAX_ROWS, OutboxRow, table_of
from hub.store.db import JsonText, UnitOfWork, make_engine, migrate
from hub.store.deadletters import deadletter_record, decode_fields
from hub.store.models import Case, DeadLetterRecord, Outbox, ProcessedEntry, Report, TriageItem
from hub.store.rows import RowBatch

NOW = datetime(2026, 11, 22, 7, 30, 15, 123456, tzinfo=UTC)
SMALL, LARGE = 6, PIPELINE_MAX_ROWS + 5  # reports per batch: below and above the COPY threshold


def _key(n: int) -> str:
    return hashlib.sha256(f"subject-{n}".encode()).hexdigest()


def _add_report(rows: RowBatch, ref: str, key: str | None) -> None:
    rows.add(
        Report,
        ref=ref,
        source_id="skole",
        event_id=f"ev-{ref}",
        received_at=NOW,
        case_id=rows.case(key),
        queue="paaroerende",
        payload=JsonText('{"navn":"Åse Ærø"}'),
        assessment={"ok": True, "tekst": "ø"},
        receipt_event=JsonText('{"id":"r"}'),
    )
    rows.add(TriageItem, report_ref=ref, queue="paaroerende", suggested_level="I", created_at=NOW)
    rows.outbox("hub.test.a.v1", {"ref": ref})
    rows.processed("hub.intake.skole.v1", f"1-{ref}")


def _write(database_url: str, fill: object) -> list[OutboxRow]:
    engine = make_engine(database_url)
    with UnitOfWork(engine) as uow:
        rows = RowBatch(NOW, timedelta(seconds=10))
        fill(rows)  # type: ignore[operator]
        rows.write(uow.session)
        uow.commit()
    engine.dispose()
    return rows.published


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["small", "large"])
def test_cases_values_and_outbox_order(database_url: str, size: int) -> None:
    migrate(database_url)

    # Subject 0 has two cases already (the oldest one counts); subject 1 has one.
    def before(rows: RowBatch) -> None:
        for n, key in enumerate([_key(0), _key(1)]):
            _add_report(rows, f"OLD-{n}", key)

    _write(database_url, before)
    engine = make_engine(database_url)
    with Session(engine) as s:
        s.add(Case(subject_key=_key(0), created_at=NOW))
        s.commit()
        old = {key: cid for cid, key in s.execute(select(Case.id, Case.subject_key).order_by(col(Case.id)))}
        oldest_0 = min(cid for cid, key in s.execute(select(Case.id, Case.subject_key)) if key == _key(0))

    # In the batch: subjects 0 and 1 (known), subject 2 twice (new), no subject twice, then
    # fillers with subjects of their own up to `size` reports.
    plan: list[tuple[str, str | None]] = [
        ("A", _key(0)),
        ("B", _key(2)),
        ("C", None),
        ("D", _key(1)),
        ("E", _key(2)),
        ("F", None),
    ]
    plan += [(f"X{n}", _key(100 + n)) for n in range(size - len(plan))]

    def batch(rows: RowBatch) -> None:
        for ref, key in plan:
            _add_report(rows, ref, key)
        fields = {b"event": b"\x00\xffnot json"}
        rows.deadletter(deadletter_record("hub.intake.skole.v1", "9-0", fields, 1, "invalid_json", "x", NOW))
        rows.outbox("hub.deadletter.v1", {"reason": "invalid_json"})  # the redacted event: the services build it

    published = _write(database_url, batch)

    with Session(engine) as s:
        case_of = {ref: cid for ref, cid in s.execute(select(Report.ref, Report.case_id))}
        keys = {cid: key for cid, key in s.execute(select(Case.id, Case.subject_key))}
        assert case_of["A"] == oldest_0
        assert case_of["D"] == old[_key(1)]
        assert case_of["B"] == case_of["E"] and case_of["B"] not in old.values()
        assert keys[case_of["B"]] == _key(2)
        assert len({case_of["C"], case_of["F"], *old.values()}) == len(old) + 2
        assert keys[case_of["C"]] is None and keys[case_of["F"]] is None
        assert len(keys) == len(old) + 1 + 1 + 2 + (len(plan) - 6)  # old, the 2 extra, B/E, C, F, fillers

        report = s.execute(select(Report).where(col(Report.ref) == "A")).scalar_one()
        received = report.received_at
        assert (received if received.tzinfo else received.replace(tzinfo=UTC)) == NOW
        assert report.payload == {"navn": "Åse Ærø"} and report.assessment == {"ok": True, "tekst": "ø"}
        item = s.execute(select(TriageItem).where(col(TriageItem.report_ref) == "A")).scalar_one()
        assert item.status == "open"  # the model's default
        dead = s.execute(select(DeadLetterRecord)).scalar_one()
        assert decode_fields(dead.payload) == {b"event": b"\x00\xffnot json"}
        assert dead.replay_count == 0

        stored = [
            (i, st, ev)
            for i, st, ev in s.execute(
                select(Outbox.id, Outbox.stream, cast(Outbox.event, Text)).order_by(col(Outbox.id))
            )
        ]
    engine.dispose()
    # The batch's outbox rows: one per report in the order added, then the dead letter's event.
    assert [row[:2] for row in published] == [row[:2] for row in stored[-len(published) :]]
    assert [row[2] for row in published] == [row[2] for row in stored[-len(published) :]]
    assert [ev for _, _, ev in published[: len(plan)]] == [f'{{"ref":"{ref}"}}' for ref, _ in plan]
    assert published[-1][1] == "hub.deadletter.v1"


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["small", "large"])
def test_a_row_stored_before_raises_integrity_error(database_url: str, size: int) -> None:
    migrate(database_url)
    _write(database_url, lambda rows: rows.processed("hub.intake.skole.v1", "5-0"))

    def again(rows: RowBatch) -> None:
        for n in range(size):
            rows.processed("hub.intake.skole.v1", f"6-{n}")
        rows.processed("hub.intake.skole.v1", "5-0")

    with pytest.raises(IntegrityError):
        _write(database_url, again)
    engine = make_engine(database_url)
    with Session(engine) as s:
        assert [e for (e,) in s.execute(select(ProcessedEntry.entry_id))] == ["5-0"]  # nothing else kept
    engine.dispose()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # a PostgreSQL storage setting
def test_a_report_row_of_a_few_kilobytes_is_stored_uncompressed(database_url: str) -> None:
    """PostgreSQL compresses values of a row above 2 KB on every insert unless the table says
    otherwise (migration 0005): a report row of about 3 KB, as the hub writes them, stays as it is."""
    migrate(database_url)

    def fill(rows: RowBatch) -> None:
        _add_report(rows, "BIG", _key(9))
        rows._rows[table_of(Report)][-1]["assessment"] = {"reasons": ["Barnets lov § 133, stk. 1 " * 4] * 25}

    _write(database_url, fill)
    engine = make_engine(database_url)
    with Session(engine) as s:
        size, compression = s.execute(
            text(
                "SELECT octet_length(assessment::text), pg_column_compression(assessment) FROM report WHERE ref = 'BIG'"
            )
        ).one()
    engine.dispose()
    assert size > 2_500  # the row is above the default threshold (2 KB)
    assert compression is None  # not compressed (pglz would say "pglz")
