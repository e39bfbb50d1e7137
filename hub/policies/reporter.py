"""What the reporter hears back, and under which duty they reported (Barnets lov §§ 133, 134, 137).

- Who is a professional notifier: a reporter who is a public employee, through a source in
  public service (`SourceFacts.in_public_service`). Only they are owed the receipt within 6
  working days (BL-RECEIPT-6D) and feedback on whether the notification led to an investigation
  or measures. A private reporter reported under the general duty (BL134-GENERAL) and hears
  nothing more (a notifier is not a party to the case).
- The reporter's duty a notification carries on: `enhanced` (§ 133) or `general` (§ 134).
- Feedback is a closed choice with a fixed Danish text: whether the concern led to an
  investigation or measures, never which measures, never another agency's information.

Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from hub.policies.facts import SourceFacts
from hub.policies.rules import BL134_GENERAL, BL_RECEIPT_6D
from hub.schemas.report import ConcernReport
from hub.schemas.reporter import FeedbackOutcome

# The provision on feedback to a professional notifier (serviceloven § 155 b, stk. 2 before
# barnets lov); its check is in `citations.py`. No time limit was found in the texts we could
# read, so feedback has no statutory clock.
FEEDBACK_CITATION = "Barnets lov § 137, stk. 1"
RECEIPT_CITATION = BL_RECEIPT_6D.citation


class Duty(StrEnum):
    """The reporter's duty to notify, which a notification to children's services carries on."""

    ENHANCED = "enhanced"  # Barnets lov § 133: public service or public office
    GENERAL = "general"  # Barnets lov § 134: everyone else


DUTY_CITATIONS: dict[Duty, str] = {
    Duty.ENHANCED: "Barnets lov § 133",
    Duty.GENERAL: BL134_GENERAL.citation,
}


def professional(report: ConcernReport, source: SourceFacts) -> bool:
    """A professional notifier: a public employee reporting through a source in public service."""
    return report.reporter.public_employee and source.in_public_service


def duty_of(rule_ids: Iterable[str]) -> Duty:
    """The reporter's duty as an assessment recorded it (BL134-GENERAL among its rules: general)."""
    return Duty.GENERAL if BL134_GENERAL.id in rule_ids else Duty.ENHANCED


FEEDBACK_DA: dict[FeedbackOutcome, str] = {
    FeedbackOutcome.INVESTIGATION: "Din underretning har givet anledning til, at kommunen undersøger barnets "
    "eller den unges forhold nærmere.",
    FeedbackOutcome.MEASURES: "Din underretning har givet anledning til, at kommunen har iværksat hjælp og støtte.",
    FeedbackOutcome.REFERRED: "Din underretning er sendt videre til den del af kommunen, der skal behandle den.",
    FeedbackOutcome.NO_ACTION: "Din underretning har ikke givet anledning til en undersøgelse eller til, at "
    "kommunen iværksætter hjælp og støtte.",
}
FEEDBACK_LABELS_DA: dict[FeedbackOutcome, str] = {
    FeedbackOutcome.INVESTIGATION: "Førte til en undersøgelse",
    FeedbackOutcome.MEASURES: "Førte til hjælp og støtte (foranstaltninger)",
    FeedbackOutcome.REFERRED: "Sendt videre til rette myndighed",
    FeedbackOutcome.NO_ACTION: "Førte ikke til undersøgelse eller foranstaltninger",
}


def feedback_refusal(professional: bool, decided: bool) -> str | None:
    """Why feedback may not be given (a refusal code), or None. A private notifier is not a party
    and is told nothing more; feedback reports an outcome, so the report must be decided first."""
    if not professional:
        return "feedback_not_professional"
    if not decided:
        return "feedback_before_decision"
    return None


def acknowledgement_da(report_ref: str) -> str:
    """The kvittering's text: receipt of the notification, the reference, nothing about the person."""
    return (
        f"Kommunen har modtaget din underretning. Referencen er {report_ref}. "
        "Henvend dig til Den Kriminalpræventive Enhed med referencen, hvis du har spørgsmål."
    )
