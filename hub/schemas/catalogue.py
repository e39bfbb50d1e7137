"""JSON Schemas of every event on the wire, generated from the pydantic models.

Sources and partners in any language validate against these (`hub schemas --out DIR`).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from hub.schemas import events
from hub.schemas.cloudevents import CloudEvent
from hub.schemas.decision import DECISION_MADE, TriageDecision
from hub.schemas.report import CONCERN_REPORTED, ConcernReport

EVENT_DATA: dict[str, type[BaseModel]] = {
    CONCERN_REPORTED: ConcernReport,
    DECISION_MADE: TriageDecision,
    events.REPORT_ACCEPTED: events.ReceiptData,
    events.REPORT_REJECTED: events.ReceiptData,
    events.DECISION_REJECTED: events.ReceiptData,
    events.TRIAGE_QUEUED: events.TriageQueued,
    events.ALERT_RAISED: events.AlertData,
    events.NOTIFICATION_ISSUED: events.NotificationData,
    events.REFERRAL_ISSUED: events.ReferralData,
    events.REFERRAL_WITHHELD: events.WithheldData,
    events.MESSAGE_DEADLETTERED: events.DeadLetter,
}


def json_schema(event_type: str) -> dict[str, Any]:
    """The JSON Schema of a whole CloudEvent of `event_type` (envelope and data)."""
    model: type[BaseModel] = CloudEvent[EVENT_DATA[event_type]]  # type: ignore[valid-type]
    schema = model.model_json_schema()
    schema["title"] = event_type
    schema["properties"]["type"] = {"const": event_type, "title": "Type", "type": "string"}
    return schema
