"""The acknowledgement clocks of referrals and § 141 police alerts, on the durable deadline rows.

They are `deadline` rows of the report (`hub.store.deadlines`) keyed by the referral's or
alert's event id (`ref`), so the scheduler of `hub.services.deadlines` claims and fires them
like the statutory clocks, each once however many processes tick:
- a referral's clock is written in the decision's transaction that issues it
  (`hub.services.decisions`), due the agreement's `referrals.acknowledge_within_hours` later;
  the partner's first update on it (`referral.received` or a later state) meets it. Unmet,
  DKE gets `referral.overdue` on `hub.deadlines.v1` (the stream DKE already watches for
  deadlines passed unmet).
- an alert's clock is written in the intake transaction that raises it, due the agreement's
  `straffeloven_141.acknowledge_within_minutes` later; `alert.acknowledged` meets it. Unmet, the
  same alert goes to the police once more, marked as a reminder (`reminder_of`, a new event id
  derived from the first one, and its own disclosure log row), and DKE gets `alert.escalated`.

These clocks have no warning stage: their `approaching_at` is their due time, so the scheduler's
one stage for them is the breach.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session

from hub.policies import Assessment, Notification, NotificationKind
from hub.policies.fields import project
from hub.schemas import streams
from hub.schemas.cloudevents import new_event_json
from hub.schemas.events import ALERT_RAISED, AlertData
from hub.schemas.lifecycle import ALERT_ESCALATED, REFERRAL_OVERDUE, AlertEscalatedData, ReferralOverdueData
from hub.schemas.report import ConcernReport
from hub.store import deadlines as store
from hub.store import referral_updates as lookups
from hub.store.db import JsonText
from hub.store.models import Deadline, Disclosure
from hub.store.rows import RowBatch

REFERRAL, ALERT = "referral", "alert"
KINDS = (REFERRAL, ALERT)
_IDS = uuid.UUID("0b9d6f0e-64a1-4b8e-9f0c-2a7d3c1e5b40")  # namespace of the reminders' event ids


def stage_clock(rows: RowBatch, kind: str, report_ref: str, ref: str, within: timedelta, now: datetime) -> None:
    """A referral's or alert's clock as a row of the transaction that sends it."""
    due_at = (now + within).astimezone(UTC)  # SQLite keeps a time without its zone: always UTC
    rows.add(
        Deadline,
        report_ref=report_ref,
        kind=kind,
        ref=ref,
        due_at=due_at,
        approaching_at=due_at,  # no warning stage
        state=store.PENDING,
        next_at=due_at,
        created_at=now.astimezone(UTC),
        met_at=None,
    )


def alert_data(report_ref: str, report: ConcernReport, a: Assessment, n: Notification) -> AlertData:
    """What a § 141 police alert discloses: the fields its rules allow, with their citations (the
    first alert and its reminder alike)."""
    return AlertData(
        report_ref=report_ref,
        fields=project(report, n.fields),
        rule_ids=n.rule_ids,
        policy_version=a.policy_version,
        legal_basis=tuple(c for c, r in zip(a.citations, a.rule_ids, strict=True) if r in n.rule_ids),
        offence=n.offence,
    )


def reminder_id(alert_ref: str) -> str:
    """The reminder's event id: the same for the same alert, whoever writes it."""
    return str(uuid.uuid5(_IDS, f"{alert_ref}/reminder"))


def write_breach(session: Session, rows: RowBatch, fired: store.Fired, event_id: str, now: datetime) -> None:
    """The events of a referral's or alert's clock that passed unmet, as rows of the claiming
    transaction. `event_id`: the escalation's (derived from the clock and its stage)."""
    if fired.kind == REFERRAL:
        target = lookups.target(session, fired.ref)
        data: Any = ReferralOverdueData(
            report_ref=fired.report_ref,
            referral_ref=fired.ref,
            partner_id=target.recipient if target is not None else "",
            due_at=fired.due_at,
        )
        _, text = new_event_json(REFERRAL_OVERDUE, data, now=now, subject=fired.report_ref, event_id=event_id)
        rows.outbox(streams.DEADLINES, JsonText(text))
        return
    reminder = reminder_id(fired.ref)
    _remind(session, rows, fired, reminder, now)
    data = AlertEscalatedData(
        report_ref=fired.report_ref, alert_ref=fired.ref, reminder_event_id=reminder, due_at=fired.due_at
    )
    _, text = new_event_json(ALERT_ESCALATED, data, now=now, subject=fired.report_ref, event_id=event_id)
    rows.outbox(streams.DEADLINES, JsonText(text))


def _remind(session: Session, rows: RowBatch, fired: store.Fired, reminder: str, now: datetime) -> None:
    """The same alert once more to the police, with its own disclosure log row. Rebuilt from the
    stored report and assessment by the function that built the first (so the same content);
    nothing to send if the report's content is erased already."""
    found = lookups.stored_report(session, fired.report_ref)
    first = lookups.disclosure_row(session, fired.ref)
    if found is None or found[2] is None or found[3] is None or first is None:
        return
    _, _, payload, assessment = found
    a = Assessment.model_validate(assessment)
    n = next((n for n in a.notifications if n.kind is NotificationKind.POLICE_ALERT), None)
    if n is None:
        return
    data = alert_data(fired.report_ref, ConcernReport.model_validate(payload), a, n)
    data = data.model_copy(update={"reminder_of": fired.ref})
    _, text = new_event_json(ALERT_RAISED, data, now=now, subject=fired.report_ref, event_id=reminder)
    copied = {k: v for k, v in first.items() if k not in ("id", "ref", "created_at", "decision_id")}
    rows.add(Disclosure, **copied, ref=reminder, decision_id=None, created_at=now)
    rows.outbox(streams.POLICE_ALERTS, JsonText(text))
