"""Wire contracts of a referral's (and a police alert's) life after the hub sent it.

A partner writes updates about what it received to its own stream,
`hub.referral-updates.<partner_id>.v1`: `referral.received`, `referral.accepted`,
`referral.declined` (a reason from a closed list), `referral.completed` (an outcome from a
closed list) and, for the police, `alert.acknowledged` (Straffeloven § 141). Each update names
what it is about by the CloudEvent id the partner received (`referral_ref` is the id of the
`referral.issued` event, equal to its `data.referral_ref`; `alert_ref` the id of the
`alert.raised` event). The hub answers each update on `hub.referral-receipts.<partner_id>.v1`.

What the hub raises when a partner does not answer in time goes to DKE on `hub.deadlines.v1`:
`referral.overdue` and `alert.escalated` (the alert itself is then published once more to the
police, marked as a reminder: `AlertData.reminder_of`).

No update carries personal data but the optional short `text`, which stays in the database
(never in a log line, a receipt or an event the hub publishes).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from hub.schemas.cloudevents import Identifier, event_type

REFERRAL_RECEIVED = event_type("referral", "received")
REFERRAL_ACCEPTED = event_type("referral", "accepted")
REFERRAL_DECLINED = event_type("referral", "declined")
REFERRAL_COMPLETED = event_type("referral", "completed")
ALERT_ACKNOWLEDGED = event_type("alert", "acknowledged")
# The hub's answers to a partner's update, on its referral-receipts stream.
UPDATE_ACCEPTED = event_type("update", "accepted")
UPDATE_REJECTED = event_type("update", "rejected")
# To DKE when a partner does not answer in time (`hub.deadlines.v1`).
REFERRAL_OVERDUE = event_type("referral", "overdue")
ALERT_ESCALATED = event_type("alert", "escalated")

TEXT_MAX = 300  # the optional free text beside a reason or an outcome: short, for the case handler


class DeclineReason(StrEnum):
    """Why a partner declines a referral (closed list; Danish labels in `REASON_DA`)."""

    NOT_TARGET_GROUP = "not_target_group"
    ALREADY_KNOWN = "already_known"
    INSUFFICIENT_INFORMATION = "insufficient_information"
    NO_CAPACITY = "no_capacity"
    WRONG_RECIPIENT = "wrong_recipient"
    OTHER = "other"


class CompletionOutcome(StrEnum):
    """How a partner completed an accepted referral (closed list; Danish labels in `OUTCOME_DA`)."""

    ACTION_PLAN = "action_plan"
    SUPPORT_GIVEN = "support_given"
    REFERRED_ON = "referred_on"
    NO_ACTION_NEEDED = "no_action_needed"
    NO_CONTACT = "no_contact"
    OTHER = "other"


REASON_DA: dict[str, str] = {
    DeclineReason.NOT_TARGET_GROUP: "uden for målgruppen",
    DeclineReason.ALREADY_KNOWN: "kendt og i forløb i forvejen",
    DeclineReason.INSUFFICIENT_INFORMATION: "for få oplysninger",
    DeclineReason.NO_CAPACITY: "ingen kapacitet",
    DeclineReason.WRONG_RECIPIENT: "forkert modtager",
    DeclineReason.OTHER: "andet",
}
OUTCOME_DA: dict[str, str] = {
    CompletionOutcome.ACTION_PLAN: "handleplan udarbejdet",
    CompletionOutcome.SUPPORT_GIVEN: "støtte eller indsats givet",
    CompletionOutcome.REFERRED_ON: "henvist videre",
    CompletionOutcome.NO_ACTION_NEEDED: "ingen indsats nødvendig",
    CompletionOutcome.NO_CONTACT: "ingen kontakt opnået",
    CompletionOutcome.OTHER: "andet",
}


class _In(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ReferralUpdateData(_In):
    """`referral.received` and `referral.accepted`: which referral, by the id of its `referral.issued`."""

    referral_ref: Identifier = Field(min_length=1, max_length=200)


class Decline(_In):
    code: DeclineReason
    text: str | None = Field(default=None, max_length=TEXT_MAX)


class Completion(_In):
    code: CompletionOutcome
    text: str | None = Field(default=None, max_length=TEXT_MAX)


class ReferralDeclinedData(ReferralUpdateData):
    reason: Decline


class ReferralCompletedData(ReferralUpdateData):
    outcome: Completion


class AlertAcknowledgedData(_In):
    """`alert.acknowledged`: the police have the alert, by the id of its `alert.raised`."""

    alert_ref: Identifier = Field(min_length=1, max_length=200)


class ReferralOverdueData(_In):
    """A partner did not acknowledge a referral within the agreement's window. For DKE: references only."""

    report_ref: str
    referral_ref: str
    partner_id: str
    due_at: datetime


class AlertEscalatedData(_In):
    """The police did not acknowledge a § 141 alert within the agreement's minutes: it was sent
    once more (`reminder_event_id`) and DKE is told. References only."""

    report_ref: str
    alert_ref: str
    reminder_event_id: str
    due_at: datetime


# Each update type's data model and the state it records (`hub.policies.lifecycle`).
UPDATE_DATA: dict[str, type[BaseModel]] = {
    REFERRAL_RECEIVED: ReferralUpdateData,
    REFERRAL_ACCEPTED: ReferralUpdateData,
    REFERRAL_DECLINED: ReferralDeclinedData,
    REFERRAL_COMPLETED: ReferralCompletedData,
    ALERT_ACKNOWLEDGED: AlertAcknowledgedData,
}
STATE_OF: dict[str, str] = {
    REFERRAL_RECEIVED: "received",
    REFERRAL_ACCEPTED: "accepted",
    REFERRAL_DECLINED: "declined",
    REFERRAL_COMPLETED: "completed",
    ALERT_ACKNOWLEDGED: "acknowledged",
}
