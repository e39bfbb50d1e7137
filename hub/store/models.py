"""SQLModel tables. The system of record for reports, cases, decisions and disclosures.

Stream entries are transport; these rows are the truth. Uniqueness constraints make
idempotency structural: a second insert of the same fact fails instead of duplicating it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel


def _json() -> Any:
    return Field(default=None, sa_column=Column(JSON, nullable=True))


class Case(SQLModel, table=True):
    """An individual case (enkeltsag), keyed by a hash of the subject's CPR where there is one."""

    # A subject's oldest case is the first entry of this index (migration 0004).
    __table_args__ = (Index("ix_case_subject_key_id", "subject_key", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    subject_key: str | None = Field(default=None, max_length=64)
    created_at: datetime


class Report(SQLModel, table=True):
    """A concern report as accepted, with the policy's assessment and the receipt sent for it."""

    # PostgreSQL keeps rows of up to 8160 bytes inline and uncompressed (migration 0005).
    __table_args__ = (
        UniqueConstraint("source_id", "event_id", name="uq_report_source_event"),
        # A subject's recent reports, for the cross-agency pattern (migration 0009).
        Index("ix_report_case_id", "case_id"),
        {"postgresql_with": {"toast_tuple_target": 8160}},
    )

    ref: str = Field(primary_key=True, max_length=40)
    source_id: str = Field(max_length=64)
    event_id: str = Field(max_length=200)
    received_at: datetime
    case_id: int | None = Field(default=None, foreign_key="case.id")
    queue: str | None = Field(default=None, max_length=20)
    payload: dict[str, Any] = _json()
    assessment: dict[str, Any] = _json()
    receipt_event: dict[str, Any] = _json()


class TriageItem(SQLModel, table=True):
    """A report waiting in (or decided from) one of DKE's triage queues."""

    id: int | None = Field(default=None, primary_key=True)
    report_ref: str = Field(foreign_key="report.ref", unique=True, max_length=40)
    queue: str = Field(index=True, max_length=20)
    status: str = Field(default="open", index=True, max_length=20)
    suggested_level: str | None = Field(default=None, max_length=4)
    created_at: datetime
    decided_at: datetime | None = None
    # The cross-agency pattern (`hub.policies.patterns`), for DKE's eyes only: rule id and reason.
    pattern_rule_id: str | None = Field(default=None, max_length=40)
    pattern_reason_da: str | None = Field(default=None, max_length=300)

    claimed_by: str | None = Field(default=None, max_length=64)  # staff username; at most one owner
    claimed_at: datetime | None = None
    # Who gave the item to `claimed_by` (None: they claimed or took it over themselves).
    assigned_by: str | None = Field(default=None, max_length=64)


class Deadline(SQLModel, table=True):
    """A statutory clock of one report (`hub.services.deadlines`): written with the report, met
    by the action it waits for, fired by the scheduler at most once per stage.

    `state`: pending, approaching (`deadline.approaching` sent), met, breached
    (`deadline.breached` sent). `next_at`: when the scheduler must look at it next (NULL once
    met or breached), the one column its claim reads."""

    __table_args__ = (
        UniqueConstraint("report_ref", "kind", "ref", name="uq_deadline_report_kind_ref"),
        Index("ix_deadline_next_at", "next_at"),
        Index("ix_deadline_ref", "ref"),
    )

    id: int | None = Field(default=None, primary_key=True)
    report_ref: str = Field(foreign_key="report.ref", max_length=40)
    kind: str = Field(max_length=20)  # assessment, receipt, referral, alert
    # The referral's or alert's event id for a clock of one of them (several per report); "" for
    # a report's own clocks (one per kind).
    ref: str = Field(default="", max_length=40, sa_column_kwargs={"server_default": ""})
    due_at: datetime
    approaching_at: datetime
    state: str = Field(default="pending", max_length=20)
    next_at: datetime | None = None
    created_at: datetime
    approaching_sent_at: datetime | None = None
    breached_sent_at: datetime | None = None
    met_at: datetime | None = None


class ReferralUpdate(SQLModel, table=True):
    """A partner's update on a referral or a police alert it received (`hub.services.referral_updates`).

    Unique keys: (partner, event id), so an update sent twice is stored once; (ref, step), so each
    step of a referral's life is recorded once (`hub.policies.lifecycle`). Deleted with its report
    (retention)."""

    __tablename__ = "referral_update"
    __table_args__ = (
        UniqueConstraint("partner_id", "event_id", name="uq_referral_update_event"),
        UniqueConstraint("ref", "step", name="uq_referral_update_step"),
        Index("ix_referral_update_report", "report_ref"),
    )

    id: int | None = Field(default=None, primary_key=True)
    partner_id: str = Field(max_length=64)
    event_id: str = Field(max_length=200)
    ref: str = Field(max_length=40)  # the disclosure's ref: the id of the referral.issued / alert.raised
    report_ref: str = Field(max_length=40)
    state: str = Field(max_length=20)  # received, accepted, declined, completed, acknowledged
    step: int
    code: str | None = Field(default=None, max_length=40)  # the decline reason or completion outcome
    text: str | None = Field(default=None, max_length=300)  # the partner's short note: never logged
    sent_at: datetime  # the CloudEvent's time
    received_at: datetime


class Decision(SQLModel, table=True):
    """A triage decision as recorded from `hub.decisions.v1`."""

    __table_args__ = (UniqueConstraint("source_id", "event_id", name="uq_decision_source_event"),)

    id: int | None = Field(default=None, primary_key=True)
    source_id: str = Field(max_length=64)
    event_id: str = Field(max_length=200)
    report_ref: str = Field(foreign_key="report.ref", index=True, max_length=40)
    level: str = Field(max_length=4)
    pillar: str = Field(max_length=20)
    purpose: str = Field(max_length=40)
    justification: str
    # Why the free-text description itself had to go along (PRIVATE-DESCRIPTION); "" when none.
    description_justification: str = Field(default="", sa_column_kwargs={"server_default": ""})
    decided_by: str = Field(max_length=100)
    decided_at: datetime
    revision_reason: str | None = None  # a later decision on a decided report says why (migration 0006)
    # The meeting it convened (forum, structure, convened partner ids, proposed time, agenda);
    # what each partner received is in the disclosure log, kind "meeting" (migration 0011).
    meeting: dict[str, Any] | None = _json()
    # A person's answers to escalated questions (`TriageDecision.answers`, migration 0013); None: none.
    answers: list[dict[str, str]] | None = _json()


class Disclosure(SQLModel, table=True):
    """The disclosure log: who got (or was refused) which fields, on which basis, when, why."""

    __table_args__ = (Index("ix_disclosure_case", "case_id"),)

    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(unique=True, max_length=40)
    report_ref: str = Field(foreign_key="report.ref", index=True, max_length=40)
    case_id: int | None = Field(default=None)
    decision_id: int | None = Field(default=None, foreign_key="decision.id")
    recipient: str = Field(max_length=64)
    structure: str | None = Field(default=None, max_length=20)
    kind: str = Field(max_length=30)  # referral, meeting, police_alert, children_notification
    effect: str = Field(max_length=20)
    fields: list[str] = _json()
    legal_basis: list[str] = _json()
    rule_ids: list[str] = _json()
    reasons: list[dict[str, str]] = _json()
    purpose: str = Field(max_length=40)
    policy_version: str = Field(max_length=200)
    created_at: datetime


class Outbox(SQLModel, table=True):
    """Events waiting to be relayed to Redis, written in the same transaction as the state."""

    __table_args__ = (Index("ix_outbox_unsent", "sent_at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    stream: str = Field(max_length=200)
    event: dict[str, Any] = _json()
    created_at: datetime
    sent_at: datetime | None = None
    # Set when the writing worker publishes the row itself: the relay waits until then.
    relay_after: datetime | None = None


class ProcessedEntry(SQLModel, table=True):
    """Tracking row: this stream entry's effect is stored. A redelivery is acked, not redone."""

    stream: str = Field(primary_key=True, max_length=200)
    entry_id: str = Field(primary_key=True, max_length=40)
    processed_at: datetime


PAYLOAD_FIELDS_V1 = "fields-v1"  # every field, length-prefixed: lossless, so a replay writes the entry exactly
PAYLOAD_KV_LINES = "kv-lines"  # before migration 0002: `key=value` lines, lossy for odd keys and values


class DeadLetterRecord(SQLModel, table=True):
    """A message the hub gave up on, kept whole for inspection and replay.

    `payload` holds the entry's fields (personal data: shown only on explicit request).
    A replay writes them to `stream` again as a new entry and records when and as which id.
    """

    id: int | None = Field(default=None, primary_key=True)
    stream: str = Field(max_length=200)
    entry_id: str = Field(max_length=40)
    reason: str = Field(max_length=60)
    detail: str
    deliveries: int
    payload: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    payload_encoding: str = Field(default=PAYLOAD_FIELDS_V1, max_length=20)
    payload_sha256: str = Field(max_length=64)
    created_at: datetime
    replayed_at: datetime | None = None
    replay_count: int = 0
    replay_entry_id: str | None = Field(default=None, max_length=40)


class AuditChain(SQLModel, table=True):
    """The tamper-evident chain over the hub's append-only records (`hub.store.audit_chain`).

    One row per chained record, in one sequence across every kind of record: `content_hash`
    is the SHA-256 of the record's canonical content, `hash` links it to the row before
    (`prev_hash`). The records' own tables stay as they are; a record joins by kind and key.
    """

    __tablename__ = "audit_chain"
    __table_args__ = (UniqueConstraint("kind", "record_key", name="uq_audit_chain_record"),)

    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    kind: str = Field(max_length=40)
    record_key: str = Field(max_length=200)
    content_hash: str = Field(max_length=64)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditCheckpoint(SQLModel, table=True):
    """Retention pruned the chain: its rows up to `through_seq` (and their records) are gone; the
    next row links to `through_hash`. Itself a chained record, so it cannot be forged unseen."""

    __tablename__ = "audit_checkpoint"

    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(unique=True, max_length=40)
    through_seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    through_hash: str = Field(max_length=64)
    records: int  # how many records were deleted with the pruned rows
    created_at: datetime


class DeadLetterAccess(SQLModel, table=True):
    """Who showed a dead letter's payload or replayed it, when and why. Chained (audit log).

    No foreign key to the dead letter: the record outlives it (dead letters are kept shorter)."""

    __tablename__ = "deadletter_access"

    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(unique=True, max_length=40)
    deadletter_id: int = Field(index=True)
    stream: str = Field(max_length=200)
    entry_id: str = Field(max_length=40)
    action: str = Field(max_length=20)  # show, replay
    actor: str = Field(max_length=100)  # as the operator gave it (`--by`)
    os_user: str = Field(max_length=100)  # the operating-system account the command ran under
    reason: str = Field(max_length=500)
    new_entry_id: str | None = Field(default=None, max_length=40)
    at: datetime


# --- the staff workspace (migration 0006) --------------------------------------------------------


class Staff(SQLModel, table=True):
    """A member of staff who logs in to the workspace. `role`: triage, jurist or admin."""

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(unique=True, max_length=64)
    display_name: str = Field(max_length=100)
    role: str = Field(max_length=20)
    password_hash: str = Field(max_length=200)  # argon2id, PHC string
    disabled: bool = False
    failed_logins: int = 0
    locked_until: datetime | None = None
    created_at: datetime


class StaffSession(SQLModel, table=True):
    """A server-side login session. The cookie holds a random token; only its SHA-256 is stored,
    so a copy of this table logs no one in. Deleting the row ends the session at once."""

    token_sha256: str = Field(primary_key=True, max_length=64)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    csrf_token: str = Field(max_length=64)
    created_at: datetime
    last_seen_at: datetime
    # Cases opened by break-glass in this session: report ref -> the written reason.
    break_glass: dict[str, Any] = _json()


class ClaimEvent(SQLModel, table=True):
    """Append-only history of claims on triage items: claim, release, takeover (with the previous
    owner), assign (`staff` is the new owner, `assigned_by` who gave it to them). The current
    owner is `TriageItem.claimed_by`."""

    id: int | None = Field(default=None, primary_key=True)
    report_ref: str = Field(foreign_key="report.ref", index=True, max_length=40)
    action: str = Field(max_length=20)
    staff: str = Field(max_length=64)
    previous: str | None = Field(default=None, max_length=64)
    at: datetime
    assigned_by: str | None = Field(default=None, max_length=64)


class AccessRecord(SQLModel, table=True):
    """Append-only access log: who viewed which case's personal data, when and on what ground
    (own_claim, assigned, break_glass). Written only by `hub.store.access.record_access`."""

    id: int | None = Field(default=None, primary_key=True)
    staff: str = Field(index=True, max_length=64)
    report_ref: str = Field(foreign_key="report.ref", index=True, max_length=40)
    case_id: int | None = Field(default=None, index=True)
    ground: str = Field(max_length=20)
    reason: str | None = None  # the written break-glass reason
    flagged: bool = False  # for the jurist's review
    at: datetime


class AdminAction(SQLModel, table=True):
    """Append-only record of what an administrator changed (accounts, source tokens): who, what,
    on which account or source, when. Never a password or a token: `detail` holds at most a role
    or a token's id. Written only by `hub.store.admin_log.record`, chained in the audit chain."""

    id: int | None = Field(default=None, primary_key=True)
    actor: str = Field(index=True, max_length=80)
    action: str = Field(max_length=40)
    target: str = Field(max_length=80)
    detail: str | None = Field(default=None, max_length=200)
    at: datetime
class ReporterMessage(SQLModel, table=True):
    """What the reporter heard back (`hub.services.reporter`): the kvittering (`acknowledgement`)
    and each feedback (`feedback`, with its closed `outcome`), from the staff event that asked
    for it (`source_id`, `event_id`; a kvittering sent with a decision has the decision's)."""

    __table_args__ = (
        UniqueConstraint("source_id", "event_id", "kind", name="uq_reportermessage_source_event_kind"),
        Index("ix_reportermessage_report_ref", "report_ref"),
    )

    id: int | None = Field(default=None, primary_key=True)
    report_ref: str = Field(foreign_key="report.ref", max_length=40)
    kind: str = Field(max_length=20)  # acknowledgement, feedback
    outcome: str | None = Field(default=None, max_length=20)  # feedback: investigation, measures, ...
    source_id: str = Field(max_length=64)  # the staff system that asked (dke-triage)
    event_id: str = Field(max_length=200)
    sent_by: str = Field(max_length=100)  # the member of staff
    message_event_id: str = Field(max_length=200)  # the id of the event the reporter got
    created_at: datetime
