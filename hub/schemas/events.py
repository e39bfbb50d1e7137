"""Data of the events the hub publishes. Each is minimised for its reader.

Triage entries, receipts, withheld referrals and dead letters carry no personal data: the
reader looks the case up by reference. Alerts, notifications and referrals carry exactly the
fields the policy allowed for that recipient.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from hub.schemas.cloudevents import event_type


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


TRIAGE_QUEUED = event_type("triage", "queued")
REPORT_ACCEPTED = event_type("report", "accepted")
REPORT_REJECTED = event_type("report", "rejected")
ALERT_RAISED = event_type("alert", "raised")
NOTIFICATION_ISSUED = event_type("notification", "issued")
REFERRAL_ISSUED = event_type("referral", "issued")
REFERRAL_WITHHELD = event_type("referral", "withheld")
MEETING_CONVENED = event_type("meeting", "convened")
MEETING_WITHHELD = event_type("meeting", "withheld")
DECISION_REJECTED = event_type("decision", "rejected")
MESSAGE_DEADLETTERED = event_type("message", "deadlettered")
DEADLINE_APPROACHING = event_type("deadline", "approaching")
DEADLINE_BREACHED = event_type("deadline", "breached")
AUDIT_ANCHORED = event_type("audit", "anchored")


class Reason(_Out):
    rule_id: str
    da: str
    en: str


class TriageQueued(_Out):
    report_ref: str
    queue: str
    source_id: str
    categories: tuple[str, ...]
    suggested_level: str | None
    suggested_pillar: str | None
    notifications: tuple[str, ...]
    assess_by: datetime | None
    rule_ids: tuple[str, ...]
    # With a notification: the reporter's duty (`enhanced`, § 133, or `general`, § 134).
    reporter_duty: Literal["enhanced", "general"] | None = None
    # The cross-agency pattern (several agencies, one person, within days): DKE's triage only.
    pattern: Reason | None = None


class DeadlineData(_Out):
    """A report's statutory deadline is near (`deadline.approaching`) or has passed unmet
    (`deadline.breached`). For DKE: the reference, which deadline and when, nothing more."""

    report_ref: str
    kind: Literal["assessment", "receipt"]  # the 24-hour assessment, the 6-working-day receipt
    due_at: datetime
    rule_id: str  # the deadline's rule (BL-ASSESS-24H, BL-RECEIPT-6D)


class ErrorItem(_Out):
    field: str
    problem: str


class ReceiptData(_Out):
    """Receipt to the reporting system. Never echoes the report's content back."""

    status: Literal["accepted", "rejected"]
    report_event_id: str | None
    report_ref: str | None = None
    code: str | None = None
    message: str | None = None
    message_da: str | None = None  # the same refusal in Danish for staff (`hub.schemas.messages`)
    errors: tuple[ErrorItem, ...] = ()
    reasons: tuple[Reason, ...] = ()


class DisclosedData(_Out):
    """Shared by alerts, notifications and referrals: fields as the policy allowed them."""

    report_ref: str
    fields: dict[str, Any]
    legal_basis: tuple[str, ...]
    rule_ids: tuple[str, ...]
    policy_version: str


class PlannedOffence(_Out):
    """An offence on the agreement's Straffeloven § 141 list: its id, Danish label and the
    sections of straffeloven it is under."""

    id: str
    label: str
    sections: tuple[str, ...]


class AlertData(DisclosedData):
    deadline: Literal["immediately"] = "immediately"
    offence: PlannedOffence | None = None  # the planned offence (§ 141 list) and its sections
    # Set on a reminder: the police did not acknowledge the alert in time (`alert.acknowledged`),
    # so the same alert is sent once more under a new id; this is the first one's id.
    reminder_of: str | None = None


class Informed(_Out):
    """Who is to be told of a notification (Barnets lov), and if the custody holders are not,
    why (the rule's Danish reason)."""

    custody_holders: bool
    child: bool  # the child from 15
    reason_da: str


class NotificationData(DisclosedData):
    grounds: tuple[str, ...]
    assess_by: datetime
    receipt_due_by: datetime | None
    informed: Informed | None = None
    # The reporter's duty this notification carries on: the enhanced duty of those in public
    # service (Barnets lov § 133) or everyone's general duty (§ 134, rule BL134-GENERAL), and its
    # citation. DKE's own staff have the enhanced duty, which is why the notification goes at all.
    duty: Literal["enhanced", "general"] = "enhanced"
    duty_citation: str = "Barnets lov § 133"


class AnswerNote(_Out):
    """A person answered a question the policy escalated, and the policy decided with the answer:
    the asking rule (`question`), the answer, the answering rule (`rule_id`, also in the event's
    `rule_ids`), who answered and what the answer rests on. The written reason stays with the
    decision in the hub (it may hold personal details); partners get who and on what basis."""

    question: str
    answer: str
    rule_id: str
    answered_by: str
    basis: str


class ReferralData(DisclosedData):
    referral_ref: str
    structure: str
    partner_id: str
    level: str
    pillar: str
    purpose: str
    justification: str
    revision_reason: str | None = None  # set when the decision revises an earlier one
    answers: tuple[AnswerNote, ...] = ()  # the escalated questions a person answered for this referral


class MeetingConvened(DisclosedData):
    """A partner is convened to the meeting of a decision's level (Niveau I coordination meeting,
    II sagsmøde, III Operativgruppen), with the case's fields the policy allows it in `structure`,
    like a referral. `convened`: every partner invited to the same meeting (`meeting_ref`)."""

    meeting_ref: str
    forum: Literal["coordination", "case", "operativgruppe"]
    level: str
    structure: str
    partner_id: str
    convened: tuple[str, ...]
    proposed_at: datetime | None = None
    agenda: str = ""
    purpose: str
    justification: str
    revision_reason: str | None = None


class WithheldData(_Out):
    report_ref: str
    structure: str
    partner_id: str
    effect: Literal["withhold", "escalate"]
    reasons: tuple[Reason, ...]
    rule_ids: tuple[str, ...]
    policy_version: str
    revision_reason: str | None = None  # set when the decision revises an earlier one
    answers: tuple[AnswerNote, ...] = ()  # the escalated questions a person answered for this recipient


class DeadLetter(_Out):
    """A message the hub gave up on. The payload itself stays in the database, not here."""

    stream: str
    entry_id: str
    reason: str
    detail: str
    deliveries: int
    payload_sha256: str
    payload_bytes: int


class AuditAnchor(_Out):
    """The audit chain's head (`hub audit verify`): keep a copy outside the hub's database and
    `hub audit verify --anchor SEQ:HASH` proves the history up to it unchanged."""

    seq: int
    hash: str
