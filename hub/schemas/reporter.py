"""The reporter hears back: DKE's kvittering and feedback (Barnets lov § 137).

Two staff actions travel like triage decisions, on `hub.decisions.v1` from a decision source:
- `acknowledgement.requested`: send the kvittering (receipt of the notification) now;
- `feedback.requested`: tell the reporter, from a closed list, whether the concern led to an
  investigation or measures.
The hub answers the reporter on their source's receipts stream (`hub.receipts.<source>.v1`)
with `report.acknowledged` and `feedback.given`: the reference, dates, a fixed Danish text and
DKE's contact. Never the person's name, CPR number or the description, never which measures,
never another agency's information.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from hub.schemas.cloudevents import Identifier, event_type

ACKNOWLEDGEMENT_REQUESTED = event_type("acknowledgement", "requested")
FEEDBACK_REQUESTED = event_type("feedback", "requested")
REPORT_ACKNOWLEDGED = event_type("report", "acknowledged")
FEEDBACK_GIVEN = event_type("feedback", "given")


class FeedbackOutcome(StrEnum):
    """What DKE may tell a professional notifier later on: the closed list of answers."""

    INVESTIGATION = "investigation"  # led to an investigation (undersøgelse)
    MEASURES = "measures"  # led to measures (hjælp og støtte, foranstaltninger)
    REFERRED = "referred"  # passed on to the part of the municipality that handles it
    NO_ACTION = "no_action"  # led to neither an investigation nor measures


class _Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    report_ref: Identifier = Field(min_length=1, max_length=40)
    requested_by: Identifier = Field(min_length=1, max_length=100)  # the member of staff


class AcknowledgementRequest(_Command):
    """Data of `acknowledgement.requested`: send the kvittering for this report."""


class FeedbackRequest(_Command):
    """Data of `feedback.requested`: tell the reporter this outcome."""

    outcome: FeedbackOutcome


class _ToReporter(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    report_ref: str
    report_event_id: str  # the reporter's own id of the report, to match it
    received_at: datetime  # when the municipality received it
    message_da: str  # the fixed Danish text
    contact: str  # whom at DKE to ask, by the reference
    legal_basis: tuple[str, ...]


class Acknowledgement(_ToReporter):
    """Data of `report.acknowledged`: the kvittering."""


class Feedback(_ToReporter):
    """Data of `feedback.given`: whether the concern led to an investigation or measures."""

    outcome: FeedbackOutcome
