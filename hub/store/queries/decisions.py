"""One decision found by the id of the `decision.made` event that made it (how a workspace or
the CLI learns the outcome of the decision it just sent)."""

from __future__ import annotations

from sqlmodel import Session, col, select

from hub.store.models import Decision, Disclosure
from hub.store.queries.cases import _disclosure, decision_view
from hub.store.queries.views import DecisionView


def decision_by_event(session: Session, source_id: str, event_id: str) -> DecisionView | None:
    d = session.exec(select(Decision).where(Decision.source_id == source_id, Decision.event_id == event_id)).first()
    if d is None:
        return None
    rows = session.exec(select(Disclosure).where(Disclosure.decision_id == d.id).order_by(col(Disclosure.id)))
    return decision_view(d, (_disclosure(x) for x in rows))
