"""Look-ups of the referral-update path (`hub.services.referral_updates`) and of the clocks of
referrals and alerts (`hub.services.referral_clocks`).

What a partner's update is about is a row of the disclosure log: its `ref` is the id of the
`referral.issued` or `alert.raised` event the partner received, `recipient` the partner it was
sent to. What happened to it since is the `referral_update` rows with that `ref`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from hub.store.bulk import table_of
from hub.store.models import Disclosure, ReferralUpdate, Report

_disclosure = table_of(Disclosure).c
_update = table_of(ReferralUpdate).c
_report = table_of(Report).c


@dataclass(frozen=True, slots=True)
class Target:
    """What an update names: a disclosure log row (a referral or a police alert)."""

    ref: str
    report_ref: str
    recipient: str
    kind: str  # referral, police_alert, children_notification
    effect: str  # share, withhold, escalate


@dataclass(slots=True)
class UpdateContext:
    """What one batch of a partner's updates needs to know, found in one look-up each."""

    targets: dict[str, Target] = field(default_factory=dict)  # by ref
    recorded: dict[str, list[str]] = field(default_factory=dict)  # ref -> states recorded
    stored: dict[str, str] = field(default_factory=dict)  # the partner's event ids stored already -> report ref


def update_context(session: Session, partner_id: str, event_ids: Iterable[str], refs: Iterable[str]) -> UpdateContext:
    conn = session.connection()
    out = UpdateContext()
    if wanted := sorted(set(refs)):
        rows = conn.execute(
            select(
                _disclosure.ref, _disclosure.report_ref, _disclosure.recipient, _disclosure.kind, _disclosure.effect
            ).where(_disclosure.ref.in_(wanted))
        )
        out.targets = {r[0]: Target(*r) for r in rows}
        for ref, state in conn.execute(select(_update.ref, _update.state).where(_update.ref.in_(wanted))):
            out.recorded.setdefault(ref, []).append(state)
    if ids := sorted(set(event_ids)):
        query = select(_update.event_id, _update.report_ref).where(
            _update.partner_id == partner_id, _update.event_id.in_(ids)
        )
        out.stored = {event_id: report_ref for event_id, report_ref in conn.execute(query)}
    return out


def target(session: Session, ref: str) -> Target | None:
    """The disclosure log row with this ref, if any."""
    row = (
        session.connection()
        .execute(
            select(
                _disclosure.ref, _disclosure.report_ref, _disclosure.recipient, _disclosure.kind, _disclosure.effect
            ).where(_disclosure.ref == ref)
        )
        .first()
    )
    return Target(*row) if row is not None else None


def disclosure_row(session: Session, ref: str) -> dict[str, Any] | None:
    """The whole disclosure log row with this ref (the columns a copy of it needs)."""
    row = session.connection().execute(select(table_of(Disclosure)).where(_disclosure.ref == ref)).mappings().first()
    return dict(row) if row is not None else None


def stored_report(session: Session, ref: str) -> tuple[str, str, dict[str, Any] | None, dict[str, Any] | None] | None:
    """A report's source, event id, payload and assessment (payload None once erased)."""
    row = (
        session.connection()
        .execute(
            select(_report.source_id, _report.event_id, _report.payload, _report.assessment).where(_report.ref == ref)
        )
        .first()
    )
    return (row[0], row[1], row[2], row[3]) if row is not None else None
