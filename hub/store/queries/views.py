"""The read models of the query layer: typed, frozen values a CLI prints and a web page renders.

Times are timezone-aware UTC. Nothing here is a transport type or a table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from hub.schemas.report import ConcernReport

POLICE_ALERT = "police_alert"  # Straffeloven § 141
CHILDREN_NOTIFICATION = "children_notification"  # Barnets lov § 133
REFERRAL = "referral"  # a decision's referral
MEETING = "meeting"  # a decision's meeting invitation (Niveau I-III)


def utc_or_none(moment: datetime | str | None) -> datetime | None:
    """Stored times as aware UTC datetimes (SQLite hands back naive ones, JSON ISO text)."""
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def as_utc(moment: datetime | str) -> datetime:
    value = utc_or_none(moment)
    assert value is not None
    return value


# --- read models --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reason:
    rule_id: str
    da: str
    en: str


@dataclass(frozen=True, slots=True)
class DeadlineView:
    """A report's statutory clock (`hub.services.deadlines`). `kind`: assessment (24 hours) or
    receipt (6 working days). `state`: pending, approaching (DKE warned), met, breached (passed
    unmet; DKE told). `met_at` is set when the awaited action was recorded, also after a breach."""

    kind: str
    state: str
    due_at: datetime
    approaching_at: datetime
    met_at: datetime | None
    approaching_sent_at: datetime | None
    breached_sent_at: datetime | None


@dataclass(frozen=True, slots=True)
class QueueRow:
    """One item of a triage queue, as a list of cases shows it."""

    report_ref: str
    received_at: datetime
    source_id: str
    source_kind: str | None  # from the registry, if the caller knows it
    queue: str
    status: str  # open, decided
    suggested_level: str | None
    suggested_pillar: str | None
    categories: tuple[str, ...]
    police_alert: bool  # § 141 alert raised
    children_notification: bool  # § 133 notification issued
    assess_by: datetime | None  # the statutory deadline for the municipality's assessment
    receipt_due_by: datetime | None  # the reporter's receipt deadline
    decided_at: datetime | None
    claimed_by: str | None = None  # no claims yet (the staff workspace adds them)
    assigned_by: str | None = None  # who assigned the item to `claimed_by` (None: taken by themselves)
    assessment_deadline: DeadlineView | None = None  # the 24-hour clock, if a notification set one
    receipt_deadline: DeadlineView | None = None  # the 6-working-day receipt clock (professional reporters)
    # The cross-agency pattern (`hub.policies.patterns`): DKE's eyes only.
    pattern_rule_id: str | None = None
    pattern_reason_da: str | None = None


@dataclass(frozen=True, slots=True)
class AssessmentView:
    """The policy's assessment of a report as it was stored."""

    queue: str | None
    suggested_level: str | None
    suggested_pillar: str | None
    notifications: tuple[str, ...]  # kinds the law required
    assess_by: datetime | None
    receipt_due_by: datetime | None
    rule_ids: tuple[str, ...]
    citations: tuple[str, ...]
    reasons: tuple[Reason, ...]
    policy_version: str


@dataclass(frozen=True, slots=True)
class DisclosureView:
    """One row of the disclosure log: what a recipient got (`effect` share: `fields`, on
    `legal_basis`) or why it got nothing (`reasons`). `kind`: referral, meeting (an invitation
    to the meeting of a decision's level), police_alert or children_notification."""

    ref: str
    report_ref: str
    recipient: str
    structure: str | None
    kind: str
    effect: str
    fields: tuple[str, ...]
    legal_basis: tuple[str, ...]
    rule_ids: tuple[str, ...]
    reasons: tuple[Reason, ...]
    purpose: str
    policy_version: str
    created_at: datetime

    @property
    def shared(self) -> bool:
        return self.effect == "share"


@dataclass(frozen=True, slots=True)
class DecisionView:
    """A triage decision and, per referral target, what was shared or why it was withheld."""

    id: int
    report_ref: str
    level: str
    pillar: str
    purpose: str
    justification: str
    decided_by: str
    decided_at: datetime
    referrals: tuple[DisclosureView, ...]
    description_justification: str = ""  # why the description itself was shared, if it was
    revision_reason: str | None = None  # a revision of an earlier decision says why
    meeting: MeetingView | None = None  # the meeting of its level it convened, if any
    # A person's answers to escalated questions (`TriageDecision.answers`): rule_id, partner_id,
    # answer, reason, basis; who answered is `decided_by`.
    answers: tuple[dict[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class MeetingView:
    """The meeting a decision convened (Niveau I koordinationsmøde, II sagsmøde, III
    Operativgruppen) and, per convened partner, what it received or why it got nothing
    (disclosure log rows of kind `meeting`)."""

    meeting_ref: str
    forum: str  # coordination, case, operativgruppe
    structure: str
    proposed_at: datetime | None
    agenda: str
    convened: tuple[DisclosureView, ...]


@dataclass(frozen=True, slots=True)
class ChronologyEntry:
    """One event in a person's history across cases and agencies. `kind`: report, decision,
    referral, meeting, police_alert or children_notification; `party`: the reporting source, the
    deciding staff member or the recipient; `detail`: the level of a decision, the effect of
    a disclosure (share, withhold, escalate), the queue of a report."""

    at: datetime
    kind: str
    report_ref: str
    party: str
    detail: str | None = None
    structure: str | None = None


@dataclass(frozen=True, slots=True)
class CaseView:
    """Everything about one report that a case page shows."""

    report_ref: str
    source_id: str
    source_kind: str | None
    received_at: datetime
    status: str | None  # of its triage item: open, decided
    report: ConcernReport  # as accepted
    assessment: AssessmentView
    notifications: tuple[DisclosureView, ...]  # § 141 alerts and § 133 notifications raised
    decisions: tuple[DecisionView, ...]  # oldest first
    chronology: tuple[ChronologyEntry, ...]  # the person's, across cases, oldest first
    deadlines: tuple[DeadlineView, ...] = ()  # its statutory clocks: assessment first, then receipt
    pattern_rule_id: str | None = None  # the cross-agency pattern, as on its queue row
    pattern_reason_da: str | None = None


@dataclass(frozen=True, slots=True)
class DeadLetterSummary:
    """A set-aside message without its content (safe to show)."""

    id: int
    stream: str
    entry_id: str
    reason: str
    detail: str
    deliveries: int
    created_at: datetime
    payload_bytes: int
    payload_sha256: str
    replay_count: int
    replayed_at: datetime | None
    replay_entry_id: str | None


@dataclass(frozen=True, slots=True)
class DeadLetterAccessView:
    """Who showed a set-aside message's content or replayed it, when and why (audit record)."""

    deadletter_id: int
    stream: str
    entry_id: str
    action: str  # show, replay
    actor: str
    os_user: str
    reason: str
    new_entry_id: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class PayloadField:
    """One field of a set-aside entry as it arrived. `name` is None when the stored payload
    cannot be split into fields (then `value` is the whole of it)."""

    name: bytes | None
    value: bytes


@dataclass(frozen=True, slots=True)
class DeadLetterView:
    summary: DeadLetterSummary
    payload: tuple[PayloadField, ...]  # personal data: show only on request


@dataclass(frozen=True, slots=True)
class UpdateView:
    """One update a partner sent on a referral or alert (`referral_update`). `text` is the
    partner's own short note: for staff's eyes, never for a log line."""

    state: str
    code: str | None
    text: str | None
    event_id: str
    sent_at: datetime
    received_at: datetime


@dataclass(frozen=True, slots=True)
class ReferralStateView:
    """Where a referral (or a § 141 police alert) stands: issued (`raised` for an alert) until
    its partner answers, then the latest state it recorded. `overdue`: its acknowledgement
    clock passed unmet (DKE was told), `due_at` that clock's time."""

    ref: str
    report_ref: str
    partner_id: str
    structure: str | None
    kind: str  # referral, police_alert
    issued_at: datetime
    state: str
    code: str | None
    updated_at: datetime | None
    due_at: datetime | None
    overdue: bool
    updates: tuple[UpdateView, ...] = ()
