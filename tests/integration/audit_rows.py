"""Disclosure rows written as the hub writes them (`RowBatch`), for the audit chain's tests; also
the body of the processes of the concurrent-writer test (so it lives outside a test module)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from hub.store.db import UnitOfWork, make_engine
from hub.store.models import Disclosure, Report
from hub.store.rows import RowBatch

NOW = datetime(2026, 11, 22, 7, 30, 15, 123456, tzinfo=UTC)


def add_disclosures(rows: RowBatch, ref: str, count: int = 1) -> None:
    """A report of `ref` and `count` disclosures of it (refs `<ref>-D<n>`)."""
    key = hashlib.sha256(ref.encode()).hexdigest()
    rows.add(Report, ref=ref, source_id="skole", event_id=f"ev-{ref}", received_at=rows.now, case_id=rows.case(key),
             queue="reactive", payload={"navn": "Åse"}, assessment={}, receipt_event={})  # fmt: skip
    for n in range(count):
        rows.add(
            Disclosure,
            ref=f"{ref}-D{n}",
            report_ref=ref,
            case_id=rows.case(key),
            recipient="politi",
            kind="police_alert",
            effect="share",
            fields=["cpr", "navn"],
            legal_basis=["Retsplejeloven § 115"],
            rule_ids=["R1"],
            reasons=[{"rule_id": "R1", "da": "ø", "en": "o"}],
            purpose="crime_prevention",
            policy_version="test@1",
            created_at=rows.now,
        )


def write(database_url: str, prefix: str, batches: int, per_batch: int, now: datetime = NOW) -> None:
    """`batches` transactions of `per_batch` reports with two disclosures each."""
    engine = make_engine(database_url)
    try:
        for b in range(batches):
            with UnitOfWork(engine) as uow:
                rows = RowBatch(now + timedelta(milliseconds=b))
                for n in range(per_batch):
                    add_disclosures(rows, f"{prefix}{b}x{n}", 2)
                rows.write(uow.session)
                uow.commit()
    finally:
        engine.dispose()
