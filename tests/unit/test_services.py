"""Intake and triage decisions through the batch pipeline, on the in-memory unit of work
(`tests.fakes.InMemoryDatabase`): no database, no Redis, milliseconds per test.

Each test sends entries as a source would write them and looks at what the transaction left:
the rows (`db.rows(table)`) and the events the worker would publish (`Outcome.publish`). The
SQL store keeps the same contract (`tests/integration/test_batch_store_contract.py`)."""

from __future__ import annotations

import ast
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError

import hub.services
from hub.config.registry import default_agreement_path, default_registry_path, load_agreement, load_registry
from hub.policies import PolicyEngine
from hub.schemas import streams
from hub.schemas.entry import Entry
from hub.schemas.events import ALERT_RAISED, REFERRAL_ISSUED, REFERRAL_WITHHELD, REPORT_ACCEPTED, TRIAGE_QUEUED
from hub.services.decisions import DecisionService
from hub.services.intake import IntakeService
from hub.services.pipeline import BatchPipeline, Outcome
from hub.store.rows import RowBatch
from tests.factories import cloudevent, decision, entry, planned_crime_data, report_data
from tests.fakes import InMemoryDatabase

SCHOOL, POLICE = "herstedlund-skole", "politi-vestegn"
INTAKE = streams.intake(SCHOOL)
RECEIPTS = streams.receipts(SCHOOL)
# The clock these tests process at stands an hour ahead of the import: the factories stamp events
# with the real time when called, which must not be "ahead" of NOW however long the suite runs.
NOW = datetime.now(UTC) + timedelta(hours=1)


@pytest.fixture(scope="module")
def services() -> tuple[IntakeService, DecisionService]:
    registry, policy = load_registry(default_registry_path()), PolicyEngine(load_agreement(default_agreement_path()))
    return IntakeService(registry, policy, 1 << 20), DecisionService(registry, policy)


@pytest.fixture
def db() -> InMemoryDatabase:
    return InMemoryDatabase()


@pytest.fixture
def intake(db: InMemoryDatabase, services: tuple[IntakeService, DecisionService]) -> BatchPipeline[Any]:
    return BatchPipeline(None, services[0], publish_grace=timedelta(seconds=10), unit_of_work=db.unit_of_work)


@pytest.fixture
def decisions(db: InMemoryDatabase, services: tuple[IntakeService, DecisionService]) -> BatchPipeline[Any]:
    return BatchPipeline(None, services[1], unit_of_work=db.unit_of_work)


def _entry(stream: str, entry_id: str, event: dict[str, Any]) -> Entry:
    return Entry(stream, entry_id, {k.encode(): v.encode() for k, v in entry(event).items()})


def _published(out: Outcome) -> list[tuple[str, dict[str, Any]]]:
    return [(stream, json.loads(text)) for _, stream, text in out.publish]


def _outbox(db: InMemoryDatabase, stream: str) -> list[dict[str, Any]]:
    return [r["event"] for r in db.rows("outbox", stream=stream)]


def test_an_accepted_report_stages_its_report_triage_item_receipt_and_outbox_rows(
    db: InMemoryDatabase, intake: BatchPipeline[Any]
) -> None:
    event = cloudevent(SCHOOL, report_data())

    out = intake.process(INTAKE, [_entry(INTAKE, "1-0", event)], NOW)

    assert (out.accepted, out.rejected, out.duplicates, out.ack) == (1, 0, 0, ["1-0"])
    [report] = db.rows("report")
    assert (report["ref"], report["source_id"], report["event_id"]) == (out.refs[0], SCHOOL, event["id"])
    [item] = db.rows("triageitem")
    assert (item["report_ref"], item["queue"], item["status"]) == (report["ref"], report["queue"], "open")
    [receipt] = _outbox(db, RECEIPTS)
    assert receipt["type"] == REPORT_ACCEPTED
    assert receipt["data"]["report_event_id"] == event["id"] and receipt["data"]["report_ref"] == report["ref"]
    assert report["receipt_event"] == receipt  # kept, so a copy of the report gets the same receipt
    [queued] = _outbox(db, streams.triage(report["queue"]))
    assert queued["type"] == TRIAGE_QUEUED and queued["data"]["report_ref"] == report["ref"]
    assert db.rows("processedentry") == [{"stream": INTAKE, "entry_id": "1-0", "processed_at": NOW}]
    # Published by the worker after the commit: the outbox rows, in their order.
    assert [(s, e["id"]) for s, e in _published(out)] == [(r["stream"], r["event"]["id"]) for r in db.rows("outbox")]


def test_a_planned_crime_stages_the_police_alert_and_its_disclosure_row(
    db: InMemoryDatabase, intake: BatchPipeline[Any]
) -> None:
    out = intake.process(INTAKE, [_entry(INTAKE, "1-0", cloudevent(SCHOOL, planned_crime_data()))], NOW)

    assert out.accepted == 1
    [alert] = _outbox(db, streams.POLICE_ALERTS)
    assert alert["type"] == ALERT_RAISED and alert["data"]["report_ref"] == out.refs[0]
    assert "STRFL141" in alert["data"]["rule_ids"]
    [logged] = db.rows("disclosure", kind="police_alert")  # (a child at risk: a § 133 notification too)
    assert (logged["ref"], logged["report_ref"], logged["kind"], logged["effect"], logged["recipient"]) == (
        alert["id"],
        out.refs[0],
        "police_alert",
        "share",
        POLICE,
    )
    assert logged["fields"] == sorted(alert["data"]["fields"])  # the log says exactly what went out
    [report] = db.rows("report")
    assert logged["case_id"] == report["case_id"] is not None


def test_a_rejection_stages_a_receipt_and_a_dead_letter_with_the_code(
    db: InMemoryDatabase, intake: BatchPipeline[Any]
) -> None:
    out = intake.process(INTAKE, [Entry(INTAKE, "1-0", {b"event": b'{"specversion": "1.0",'})], NOW)

    assert (out.accepted, out.rejected, out.ack) == (0, 1, ["1-0"])
    [receipt] = _outbox(db, RECEIPTS)
    assert receipt["data"]["status"] == "rejected" and receipt["data"]["code"] == "invalid_json"
    [dead] = db.rows("deadletterrecord")
    assert (dead["stream"], dead["entry_id"], dead["reason"]) == (INTAKE, "1-0", "invalid_json")
    assert dead["payload"].endswith(b'{"specversion": "1.0",')  # kept whole, for inspection and replay
    [redacted] = _outbox(db, streams.DEADLETTER)
    assert redacted["data"]["reason"] == "invalid_json" and "payload" not in redacted["data"]
    assert db.rows("report") == [] and len(db.rows("processedentry")) == 1


def test_a_redelivered_entry_is_only_acked(db: InMemoryDatabase, intake: BatchPipeline[Any]) -> None:
    delivered = _entry(INTAKE, "1-0", cloudevent(SCHOOL, report_data()))
    intake.process(INTAKE, [delivered], NOW)
    before = {t: db.rows(t) for t in ("report", "outbox", "processedentry")}

    again = intake.process(INTAKE, [delivered], NOW + timedelta(minutes=1))  # a crash between commit and ack

    assert (again.ack, again.accepted, again.duplicates, again.rejected, again.publish) == (["1-0"], 0, 0, 0, [])
    assert {t: db.rows(t) for t in before} == before
    assert db.rollbacks == 1  # the tracking row's key caught it; the retry looked it up


def test_a_redelivered_refusal_beside_a_new_report_is_only_acked(
    db: InMemoryDatabase, intake: BatchPipeline[Any]
) -> None:
    """The first attempt stages the refusal again and fails on its tracking row: everything it
    wrote is rolled back, so the retry stores the new report once and no second dead letter."""
    refused = Entry(INTAKE, "1-0", {b"event": b"not json"})
    intake.process(INTAKE, [refused], NOW)
    fresh = _entry(INTAKE, "2-0", cloudevent(SCHOOL, report_data()))

    out = intake.process(INTAKE, [refused, fresh], NOW)

    assert (out.ack, out.accepted, out.rejected, out.duplicates) == (["1-0", "2-0"], 1, 0, 0)
    assert len(db.rows("deadletterrecord")) == 1 and len(db.rows("report")) == 1
    assert [r["data"].get("status") for r in _outbox(db, RECEIPTS)] == ["rejected", "accepted"]


def test_a_report_sent_twice_is_a_duplicate_with_the_same_receipt(
    db: InMemoryDatabase, intake: BatchPipeline[Any]
) -> None:
    event = cloudevent(SCHOOL, report_data())
    first = intake.process(INTAKE, [_entry(INTAKE, "1-0", event)], NOW)

    second = intake.process(INTAKE, [_entry(INTAKE, "2-0", event)], NOW + timedelta(minutes=1))

    assert (second.accepted, second.duplicates, second.ack, second.refs) == (0, 1, ["2-0"], first.refs)
    assert db.rollbacks == 1  # the report's (source, event id) key caught it; the retry found the report
    receipts = _outbox(db, RECEIPTS)
    assert len(receipts) == 2 and receipts[0] == receipts[1]  # the same receipt, the same CloudEvent
    [(stream, published)] = _published(second)
    assert (stream, published) == (RECEIPTS, receipts[0])
    assert len(db.rows("report")) == 1 and len(db.rows("processedentry")) == 2


def test_a_decision_shares_and_withholds_per_recipient(
    db: InMemoryDatabase, intake: BatchPipeline[Any], decisions: BatchPipeline[Any]
) -> None:
    [ref] = intake.process(INTAKE, [_entry(INTAKE, "1-0", cloudevent(SCHOOL, report_data()))], NOW).refs
    made = decision(ref, [("ssp", POLICE), ("ksp", "kriminalforsorgen")])

    out = decisions.process(streams.DECISIONS, [_entry(streams.DECISIONS, "1-0", made)], NOW)

    assert (out.accepted, out.rejected) == (1, 0)
    [recorded] = db.rows("decision")
    assert (recorded["event_id"], recorded["report_ref"], recorded["level"]) == (made["id"], ref, "I")
    shared, withheld = db.rows("disclosure", decision_id=recorded["id"])
    assert (shared["recipient"], shared["structure"], shared["effect"]) == (POLICE, "ssp", "share")
    assert shared["fields"] and shared["legal_basis"]
    assert (withheld["recipient"], withheld["structure"], withheld["fields"]) == ("kriminalforsorgen", "ksp", [])
    assert withheld["effect"] != "share" and all(r["rule_id"] and r["da"] for r in withheld["reasons"])
    [issued] = _outbox(db, streams.referrals("ssp", POLICE))
    assert issued["type"] == REFERRAL_ISSUED and issued["id"] == shared["ref"]
    assert sorted(issued["data"]["fields"]) == shared["fields"]  # exactly the allowed fields
    [refused] = _outbox(db, streams.REFERRALS_WITHHELD)
    assert refused["type"] == REFERRAL_WITHHELD and refused["id"] == withheld["ref"]
    [item] = db.rows("triageitem")
    assert (item["status"], item["decided_at"]) == ("decided", NOW)


def test_the_relay_is_woken_only_for_rows_nobody_publishes(
    db: InMemoryDatabase, services: tuple[IntakeService, DecisionService], intake: BatchPipeline[Any]
) -> None:
    """A transaction whose events its worker publishes does not wake the relay (a pass that
    looks for unsent rows costs a query): a decision that shares, withholds and is refused
    publishes all of them. Without `publish_grace` its rows are the relay's, and it is woken."""
    [ref] = intake.process(INTAKE, [_entry(INTAKE, "1-0", cloudevent(SCHOOL, report_data()))], NOW).refs
    made = decision(ref, [("ssp", POLICE), ("ksp", "kriminalforsorgen")])
    refused = decision("no-such-report", [("ssp", POLICE)])
    entries = [_entry(streams.DECISIONS, "1-0", made), _entry(streams.DECISIONS, "2-0", refused)]
    published = BatchPipeline(None, services[1], publish_grace=timedelta(seconds=10), unit_of_work=db.unit_of_work)

    out = published.process(streams.DECISIONS, entries, NOW)

    assert (out.accepted, out.rejected, out.relay) == (1, 1, False)
    assert {stream for _, stream, _ in out.publish} >= {
        streams.referrals("ssp", POLICE),
        streams.REFERRALS_WITHHELD,
        streams.receipts("dke-triage"),
        streams.DEADLETTER,
    }
    relayed = BatchPipeline(None, services[1], unit_of_work=InMemoryDatabase().unit_of_work)
    out = relayed.process(streams.DECISIONS, [_entry(streams.DECISIONS, "3-0", refused)], NOW)
    assert (out.rejected, out.publish, out.relay) == (1, [], True)


def test_a_decision_on_an_unknown_report_is_refused(db: InMemoryDatabase, decisions: BatchPipeline[Any]) -> None:
    made = decision("no-such-report", [("ssp", POLICE)])

    out = decisions.process(streams.DECISIONS, [_entry(streams.DECISIONS, "1-0", made)], NOW)

    assert (out.accepted, out.rejected, out.ack) == (0, 1, ["1-0"])
    assert db.rows("decision") == [] and db.rows("disclosure") == []
    [receipt] = _outbox(db, streams.receipts("dke-triage"))
    assert receipt["data"]["code"] == "unknown_report" and receipt["data"]["report_event_id"] == made["id"]
    [dead] = db.rows("deadletterrecord")
    assert (dead["stream"], dead["reason"]) == (streams.DECISIONS, "unknown_report")


def test_a_decided_report_takes_a_new_decision_only_as_a_revision_with_a_reason(
    db: InMemoryDatabase, intake: BatchPipeline[Any], decisions: BatchPipeline[Any]
) -> None:
    [ref] = intake.process(INTAKE, [_entry(INTAKE, "1-0", cloudevent(SCHOOL, report_data()))], NOW).refs
    first, again = decision(ref, [("ssp", POLICE)]), decision(ref, [("ssp", POLICE)])
    # Two decisions in one batch: the second is refused too (the first decided the report).
    out = decisions.process(
        streams.DECISIONS, [_entry(streams.DECISIONS, "1-0", first), _entry(streams.DECISIONS, "2-0", again)], NOW
    )
    assert (out.accepted, out.rejected) == (1, 1)
    [receipt] = _outbox(db, streams.receipts("dke-triage"))
    assert (receipt["data"]["code"], receipt["data"]["report_event_id"]) == ("already_decided", again["id"])
    assert "revision med en begrundelse" in receipt["data"]["message_da"]

    revised = decision(ref, [("ssp", POLICE)], level="II", revision_reason="Ny oplysning fra skolen om vold.")
    out = decisions.process(streams.DECISIONS, [_entry(streams.DECISIONS, "3-0", revised)], NOW)
    assert (out.accepted, out.rejected) == (1, 0)
    assert [(d["level"], d["revision_reason"]) for d in db.rows("decision")] == [
        ("I", None),
        ("II", "Ny oplysning fra skolen om vold."),
    ]
    issued = _outbox(db, streams.referrals("ssp", POLICE))
    assert [e["data"].get("revision_reason") for e in issued] == [None, "Ny oplysning fra skolen om vold."]


def test_the_fake_keeps_nothing_unless_committed_and_enforces_keys(db: InMemoryDatabase) -> None:
    """The fake's own contract: a transaction not committed leaves nothing, and a key the
    database enforces raises IntegrityError (the pipeline's retry depends on both)."""
    rows = RowBatch(NOW)
    rows.processed(INTAKE, "1-0")
    with db.unit_of_work() as uow:
        uow.store.write(rows)
        assert uow.store.processed_ids(INTAKE, ["1-0", "2-0"]) == {"1-0"}  # seen inside the transaction
    assert db.rows("processedentry") == []  # never committed

    with db.unit_of_work() as uow:
        rows.processed(INTAKE, "1-0")
        rows.processed(INTAKE, "1-0")
        with pytest.raises(IntegrityError):
            uow.store.write(rows)
    assert db.rows("processedentry") == []


@pytest.mark.parametrize("module", ["pipeline", "intake", "decisions"])
def test_the_batch_path_reaches_storage_only_through_the_port(module: str) -> None:
    """No session in the pipeline or its stagers: what they read and write goes through
    `Tx.store` (`hub.store.batch.BatchStore`), which is what lets these tests run on the fake."""
    path = Path(hub.services.__file__).parent / f"{module}.py"
    tree = ast.parse(path.read_text())
    imported = {
        f"{node.module}.{a.name}" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) for a in node.names
    }
    storage = {n for n in imported if n.startswith(("sqlmodel.", "hub.store.lookups.", "hub.store.db.Unit"))}
    assert storage <= {"hub.store.lookups.subject_key"}  # a pure function: the case key of a CPR number
    assert not [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr == "session"]
