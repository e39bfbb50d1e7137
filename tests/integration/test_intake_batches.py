"""One transaction, several batches of the same stream (as the coalescer hands them over
under load): a report sent twice, once in each batch, is stored once, and the second copy is
a duplicate with the same receipt, on the first attempt; on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, func, select

from hub.config.registry import default_agreement_path, default_registry_path, load_agreement, load_registry
from hub.policies import PolicyEngine
from hub.schemas import streams
from hub.schemas.entry import Entry
from hub.services.intake import IntakeService
from hub.services.pipeline import BatchPipeline
from hub.store.db import make_engine, migrate
from hub.store.models import Report
from tests.factories import cloudevent, entry, report_data

SCHOOL = "herstedlund-skole"
INTAKE = streams.intake(SCHOOL)


def _entry(entry_id: str, event: dict[str, object]) -> Entry:
    return Entry(INTAKE, entry_id, {k.encode(): v.encode() for k, v in entry(event).items()})


def test_a_report_in_two_batches_of_one_transaction_is_stored_once(database_url: str) -> None:
    migrate(database_url)
    engine = make_engine(database_url)
    service = BatchPipeline(
        engine,
        IntakeService(
            load_registry(default_registry_path()), PolicyEngine(load_agreement(default_agreement_path())), 1 << 20
        ),
        publish_grace=timedelta(seconds=10),
    )
    twice, other = cloudevent(SCHOOL, report_data()), cloudevent(SCHOOL, report_data())
    first = [_entry("1-0", twice), _entry("2-0", other)]
    second = [_entry("3-0", twice)]

    out = service.process_many([(INTAKE, first), (INTAKE, second)], datetime.now(UTC))

    assert (out.accepted, out.duplicates, out.rejected) == (2, 1, 0)
    assert out.ack == ["1-0", "2-0", "3-0"]
    assert out.refs[0] == out.refs[2] != out.refs[1]  # the copy has the first one's reference
    receipts = [text for _, stream, text in out.publish if stream == streams.receipts(SCHOOL)]
    assert len(receipts) == 3 and receipts[0] == receipts[2]  # the same receipt, the same CloudEvent
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Report)).one() == 2
    engine.dispose()
