"""Where each referral and § 141 police alert stands (`hub referrals`, the case view).

A referral is a disclosure log row with effect `share` (its `ref` is the id of the event the
partner received); its states are the partner's `referral_update` rows, the current one that of
the highest step (`hub.policies.lifecycle`); its acknowledgement clock is the `deadline` row
with that `ref`.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, col, select

from hub.policies import lifecycle
from hub.store.models import Deadline, Disclosure, ReferralUpdate
from hub.store.queries.views import ReferralStateView, UpdateView, as_utc, utc_or_none

REFERRAL, POLICE_ALERT = "referral", "police_alert"
_KINDS = (REFERRAL, POLICE_ALERT)


def _states(session: Session, disclosures: list[Disclosure]) -> list[ReferralStateView]:
    refs = [d.ref for d in disclosures]
    if not refs:
        return []
    found: dict[str, list[ReferralUpdate]] = {}
    query = select(ReferralUpdate).where(col(ReferralUpdate.ref).in_(refs)).order_by(col(ReferralUpdate.step))
    for u in session.exec(query):
        found.setdefault(u.ref, []).append(u)
    clocks = {c.ref: c for c in session.exec(select(Deadline).where(col(Deadline.ref).in_(refs)))}
    out = []
    for d in disclosures:
        rows = found.get(d.ref, [])
        initial = lifecycle.RAISED if d.kind == POLICE_ALERT else lifecycle.ISSUED
        state = lifecycle.current((u.state for u in rows), initial=initial)
        latest = next((u for u in reversed(rows) if u.state == state), None)
        clock = clocks.get(d.ref)
        out.append(
            ReferralStateView(
                ref=d.ref,
                report_ref=d.report_ref,
                partner_id=d.recipient,
                structure=d.structure,
                kind=d.kind,
                issued_at=as_utc(d.created_at),
                state=state,
                code=latest.code if latest is not None else None,
                updated_at=utc_or_none(latest.received_at) if latest is not None else None,
                due_at=utc_or_none(clock.due_at) if clock is not None else None,
                overdue=clock is not None and clock.breached_sent_at is not None,
                updates=tuple(
                    UpdateView(u.state, u.code, u.text, u.event_id, as_utc(u.sent_at), as_utc(u.received_at))
                    for u in rows
                ),
            )
        )
    return out


def referral_states(session: Session, report_refs: Iterable[str]) -> dict[str, list[ReferralStateView]]:
    """The referrals and alerts of these reports, oldest first, by report."""
    refs = list(set(report_refs))
    if not refs:
        return {}
    query = (
        select(Disclosure)
        .where(col(Disclosure.report_ref).in_(refs), col(Disclosure.kind).in_(_KINDS), Disclosure.effect == "share")
        .order_by(col(Disclosure.created_at), col(Disclosure.id))
    )
    out: dict[str, list[ReferralStateView]] = {}
    for view in _states(session, list(session.exec(query))):
        out.setdefault(view.report_ref, []).append(view)
    return out


def referral_list(
    session: Session, *, partner_id: str | None = None, state: str | None = None, limit: int = 100
) -> list[ReferralStateView]:
    """The newest referrals and alerts (of one partner, in one state), newest first."""
    query = select(Disclosure).where(col(Disclosure.kind).in_(_KINDS), Disclosure.effect == "share")
    if partner_id is not None:
        query = query.where(Disclosure.recipient == partner_id)
    # The state is known only with the updates: filter after, from a wider window.
    query = query.order_by(col(Disclosure.created_at).desc(), col(Disclosure.id).desc()).limit(
        limit if state is None else limit * 20
    )
    views = _states(session, list(session.exec(query)))
    if state is not None:
        views = [v for v in views if v.state == state or (state == "overdue" and v.overdue)]
    return views[:limit]


def referral_state(session: Session, ref: str) -> ReferralStateView | None:
    """One referral or alert, with every update its partner sent."""
    d = session.exec(
        select(Disclosure).where(Disclosure.ref == ref, col(Disclosure.kind).in_(_KINDS), Disclosure.effect == "share")
    ).first()
    return _states(session, [d])[0] if d is not None else None
