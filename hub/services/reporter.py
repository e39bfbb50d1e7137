"""The reporter hears back: DKE's kvittering and feedback, staged in the decisions transaction.

Staff ask on `hub.decisions.v1` (`acknowledgement.requested`, `feedback.requested`, parsed by
`hub.services.envelope.parse_staff_event`); the decisions pipeline (`hub.services.decisions`)
hands them here. Each answer is a `reportermessage` row and an event on the reporter's own
receipts stream (`report.acknowledged`, `feedback.given`), in the same transaction:
- the kvittering meets the report's 6-working-day receipt clock (`hub.services.deadlines`)
  where it has one (a professional notifier's notification); a second one is refused;
- a professional reporter who has had none gets it with the report's first decision;
- feedback goes only to a professional notifier, and only once the report is decided
  (`hub.policies.reporter.feedback_refusal`); it says one of the closed outcomes, nothing else.
What is refused gets a receipt to the deciding source and a dead letter, through the pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hub.config.registry import Registry
from hub.policies.reporter import (
    FEEDBACK_CITATION,
    FEEDBACK_DA,
    RECEIPT_CITATION,
    acknowledgement_da,
    feedback_refusal,
)
from hub.policies.rules import BL_RECEIPT_6D
from hub.schemas import streams
from hub.schemas.cloudevents import new_event_json
from hub.schemas.messages import DANISH
from hub.schemas.reporter import (
    FEEDBACK_GIVEN,
    REPORT_ACKNOWLEDGED,
    Acknowledgement,
    AcknowledgementRequest,
    Feedback,
    FeedbackOutcome,
    FeedbackRequest,
)
from hub.services.deadlines import RECEIPT
from hub.services.envelope import Rejection, StaffAction
from hub.store.batch import BatchStore, ReporterThread
from hub.store.db import JsonText
from hub.store.models import ReporterMessage
from hub.store.rows import RowBatch
from hub.tracing import TraceContext

ACKNOWLEDGEMENT, FEEDBACK = "acknowledgement", "feedback"


@dataclass(frozen=True, slots=True)
class Message:
    """One answer to the reporter, ready to insert: its row, its stream and its event's text."""

    row: dict[str, Any]
    stream: str
    text: JsonText


class ReporterReplies:
    """Builds the kvittering and feedback for the decisions transaction (pure but for the ids)."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def professional(self, thread: ReporterThread) -> bool:
        """A public employee through a source in public service (`hub.policies.reporter`)."""
        source = self.registry.source(thread.source_id)
        return thread.public_employee and source is not None and source.in_public_service

    def stage(
        self,
        event: StaffAction,
        thread: ReporterThread | None,
        decided: bool,
        now: datetime,
        trace: TraceContext | None = None,
    ) -> Message | Rejection:
        """The answer a staff action asks for, or why it is refused; its event in `trace` (the
        report's, so that the report's sender can follow it)."""
        ref = event.data.report_ref
        if thread is None:
            return Rejection("unknown_report", "No report has this reference.", (), event.id, trace=event.trace)
        if self.registry.source(thread.source_id) is None:
            message = "The report's source is no longer configured."
            return Rejection("unknown_reporter_source", message, (), event.id, trace=event.trace)
        data = event.data
        if isinstance(data, AcknowledgementRequest):
            if thread.acknowledged:
                return Rejection("already_acknowledged", f"{ref} has had its kvittering.", (), event.id, trace=trace)
            return self.acknowledgement(thread, event.source, event.id, data.requested_by, now, trace)
        assert isinstance(data, FeedbackRequest)
        if code := feedback_refusal(self.professional(thread), decided):
            return Rejection(code, DANISH[code], (), event.id, trace=trace)
        return self.feedback(thread, event.source, event.id, data.requested_by, data.outcome, now, trace)

    def acknowledgement(
        self,
        thread: ReporterThread,
        source_id: str,
        event_id: str,
        sent_by: str,
        now: datetime,
        trace: TraceContext | None = None,
    ) -> Message:
        """The kvittering: the reference, the date received and whom to ask; the legal basis only
        where the receipt is the statute's (a professional notifier's notification)."""
        owed = BL_RECEIPT_6D.id in thread.rule_ids
        data = Acknowledgement(
            report_ref=thread.ref,
            report_event_id=thread.event_id,
            received_at=thread.received_at,
            message_da=acknowledgement_da(thread.ref),
            contact=self.registry.reporter_contact,
            legal_basis=(RECEIPT_CITATION,) if owed else (),
        )
        return self._message(
            REPORT_ACKNOWLEDGED, ACKNOWLEDGEMENT, data, thread, source_id, event_id, sent_by, now, trace
        )

    def feedback(
        self,
        thread: ReporterThread,
        source_id: str,
        event_id: str,
        sent_by: str,
        outcome: FeedbackOutcome,
        now: datetime,
        trace: TraceContext | None = None,
    ) -> Message:
        data = Feedback(
            report_ref=thread.ref,
            report_event_id=thread.event_id,
            received_at=thread.received_at,
            message_da=FEEDBACK_DA[outcome],
            contact=self.registry.reporter_contact,
            legal_basis=(FEEDBACK_CITATION,),
            outcome=outcome,
        )
        message = self._message(FEEDBACK_GIVEN, FEEDBACK, data, thread, source_id, event_id, sent_by, now, trace)
        message.row["outcome"] = outcome.value
        return message

    def _message(
        self,
        type_: str,
        kind: str,
        data: Acknowledgement | Feedback,
        thread: ReporterThread,
        source_id: str,
        event_id: str,
        sent_by: str,
        now: datetime,
        trace: TraceContext | None,
    ) -> Message:
        message_id, text = new_event_json(type_, data, now=now, subject=thread.ref, trace=trace)
        row = {
            "report_ref": thread.ref,
            "kind": kind,
            "outcome": None,
            "source_id": source_id,
            "event_id": event_id,
            "sent_by": sent_by,
            "message_event_id": message_id,
            "created_at": now,
        }
        return Message(row, streams.receipts(thread.source_id), JsonText(text))


def write(rows: RowBatch, store: BatchStore, messages: list[Message], now: datetime) -> None:
    """The messages' rows and events in the transaction; a kvittering meets the receipt clock."""
    for m in messages:
        rows.add(ReporterMessage, **m.row)
        rows.outbox(m.stream, m.text)
    acknowledged = [m.row["report_ref"] for m in messages if m.row["kind"] == ACKNOWLEDGEMENT]
    if acknowledged:
        store.meet_deadlines(acknowledged, RECEIPT, now)  # the kvittering is what the clock waits for
