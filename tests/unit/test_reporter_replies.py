"""The reporter's kvittering and feedback on the decisions pipeline, with the in-memory store:
one batch with two kvitteringer answers the first and refuses the second; a decision and a
kvittering in one batch send one kvittering; feedback carries the outcome's fixed text and
nothing of the report; a staff action that does not parse is refused with its code."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from hub.config.registry import default_agreement_path, default_registry_path, load_agreement, load_registry
from hub.policies import PolicyEngine
from hub.policies.reporter import FEEDBACK_DA
from hub.schemas import streams
from hub.schemas.cloudevents import new_event
from hub.schemas.entry import Entry
from hub.schemas.reporter import (
    ACKNOWLEDGEMENT_REQUESTED,
    FEEDBACK_GIVEN,
    FEEDBACK_REQUESTED,
    REPORT_ACKNOWLEDGED,
    AcknowledgementRequest,
    FeedbackOutcome,
    FeedbackRequest,
)
from hub.services.decisions import DecisionService
from hub.services.intake import IntakeService
from hub.services.pipeline import BatchPipeline
from tests.factories import CHILD_DESCRIPTION, CHILD_NAME, cloudevent, decision, entry, report_data
from tests.fakes import InMemoryDatabase

SCHOOL = "herstedlund-skole"
INTAKE, RECEIPTS, DKE = streams.intake(SCHOOL), streams.receipts(SCHOOL), streams.receipts("dke-triage")
NOW = datetime.now(UTC) + timedelta(hours=1)  # ahead of the factories' stamps (see test_services.py)


def _entry(stream: str, entry_id: str, event: dict[str, Any]) -> Entry:
    return Entry(stream, entry_id, {k.encode(): v.encode() for k, v in entry(event).items()})


def _action(type_: str, data: Any) -> dict[str, Any]:
    return new_event(type_, data, now=NOW - timedelta(minutes=1), source="dke-triage", subject=data.report_ref)


def _setup() -> tuple[InMemoryDatabase, BatchPipeline[Any], str]:
    registry, policy = load_registry(default_registry_path()), PolicyEngine(load_agreement(default_agreement_path()))
    db = InMemoryDatabase()
    intake = BatchPipeline(None, IntakeService(registry, policy, 1 << 20), unit_of_work=db.unit_of_work)
    decisions = BatchPipeline(None, DecisionService(registry, policy), unit_of_work=db.unit_of_work)
    [ref] = intake.process(INTAKE, [_entry(INTAKE, "1-0", cloudevent(SCHOOL, report_data()))], NOW).refs
    return db, decisions, ref


def _outbox(db: InMemoryDatabase, stream: str, type_: str | None = None) -> list[dict[str, Any]]:
    return [r["event"] for r in db.rows("outbox", stream=stream) if type_ is None or r["event"]["type"] == type_]


def test_two_kvitteringer_in_one_batch_answer_the_first_and_refuse_the_second() -> None:
    db, decisions, ref = _setup()
    ask = AcknowledgementRequest(report_ref=ref, requested_by="AB")
    first, second = _action(ACKNOWLEDGEMENT_REQUESTED, ask), _action(ACKNOWLEDGEMENT_REQUESTED, ask)
    out = decisions.process(
        streams.DECISIONS, [_entry(streams.DECISIONS, "1-0", first), _entry(streams.DECISIONS, "2-0", second)], NOW
    )
    assert (out.accepted, out.rejected) == (1, 1)
    [ack] = _outbox(db, RECEIPTS, REPORT_ACKNOWLEDGED)
    assert ack["data"]["report_ref"] == ref and ack["data"]["legal_basis"] == ["Barnets lov § 137, stk. 1"]
    [refused] = _outbox(db, DKE)
    assert refused["data"]["code"] == "already_acknowledged" and refused["data"]["report_event_id"] == second["id"]
    [row] = db.rows("reportermessage")
    assert (row["kind"], row["event_id"], row["sent_by"], row["message_event_id"]) == (
        "acknowledgement", first["id"], "AB", ack["id"],
    )  # fmt: skip
    [clock] = db.rows("deadline", kind="receipt")
    assert (clock["state"], clock["met_at"]) == ("met", NOW)


def test_a_decision_with_a_kvittering_in_its_batch_sends_one() -> None:
    db, decisions, ref = _setup()
    ask = _action(ACKNOWLEDGEMENT_REQUESTED, AcknowledgementRequest(report_ref=ref, requested_by="AB"))
    made = decision(ref, [])
    out = decisions.process(
        streams.DECISIONS, [_entry(streams.DECISIONS, "1-0", made), _entry(streams.DECISIONS, "2-0", ask)], NOW
    )
    assert (out.accepted, out.rejected) == (2, 0)
    assert len(_outbox(db, RECEIPTS, REPORT_ACKNOWLEDGED)) == 1


def test_feedback_says_the_outcome_and_nothing_of_the_report() -> None:
    db, decisions, ref = _setup()
    decisions.process(streams.DECISIONS, [_entry(streams.DECISIONS, "1-0", decision(ref, [("ssp", "bkv")]))], NOW)
    asked = FeedbackRequest(report_ref=ref, requested_by="AB", outcome=FeedbackOutcome.NO_ACTION)
    fed = _action(FEEDBACK_REQUESTED, asked)
    out = decisions.process(streams.DECISIONS, [_entry(streams.DECISIONS, "2-0", fed)], NOW)
    assert (out.accepted, out.rejected) == (1, 0)
    [feedback] = _outbox(db, RECEIPTS, FEEDBACK_GIVEN)
    assert feedback["data"]["message_da"] == FEEDBACK_DA[FeedbackOutcome.NO_ACTION]
    text = json.dumps(feedback, ensure_ascii=False)
    assert CHILD_NAME not in text and CHILD_DESCRIPTION not in text and "Lærer Testesen" not in text
    assert "bkv" not in text and "ssp" not in text  # nothing of the referral


def test_a_staff_action_that_does_not_parse_is_refused_with_its_code() -> None:
    db, decisions, ref = _setup()
    asked = FeedbackRequest(report_ref=ref, requested_by="AB", outcome=FeedbackOutcome.MEASURES)
    bad = _action(FEEDBACK_REQUESTED, asked)
    bad["data"]["outcome"] = "anbragt uden for hjemmet"  # not on the closed list
    out = decisions.process(streams.DECISIONS, [_entry(streams.DECISIONS, "1-0", bad)], NOW)
    assert (out.accepted, out.rejected) == (0, 1)
    [refused] = _outbox(db, DKE)
    assert refused["data"]["code"] == "invalid_staff_action" and refused["data"]["message_da"].startswith("Handlingen")
    assert db.rows("reportermessage") == []
