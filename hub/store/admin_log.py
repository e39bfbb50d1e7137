"""The administrators' action log: who changed which account or source token, when.

`record` is the only writer of `adminaction` (append-only) and chains each row in the audit
chain (`hub.store.audit_chain.ADMIN_ACTION`) in the caller's transaction, so the change and its
record commit together. Never a password or a token: `detail` is at most a role or a token id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from hub.store import audit_chain
from hub.store.models import AdminAction
from hub.store.queries.views import as_utc

# What an administrator can do (the `action` column); the workspace shows them in Danish.
STAFF_ADD, STAFF_DISABLE, STAFF_ENABLE, STAFF_PASSWORD, STAFF_ROLE = (
    "staff.add",
    "staff.disable",
    "staff.enable",
    "staff.password",
    "staff.role",
)
TOKEN_ISSUE, TOKEN_ROTATE, TOKEN_REVOKE = "token.issue", "token.rotate", "token.revoke"


@dataclass(frozen=True, slots=True)
class AdminActionView:
    actor: str
    action: str
    target: str
    detail: str | None
    at: datetime


def record(session: Session, *, actor: str, action: str, target: str, detail: str | None, at: datetime) -> None:
    """Append one action and chain it (in the caller's transaction)."""
    detail = detail[:200] if detail else None
    row = AdminAction(actor=actor[:80], action=action, target=target[:80], detail=detail, at=at)
    session.add(row)
    session.flush()  # the id is the record's key in the chain
    audit_chain.append(session, audit_chain.ADMIN_ACTION, [row.model_dump()])


def recent(session: Session, limit: int = 50) -> list[AdminActionView]:
    """The newest actions first."""
    query = select(AdminAction).order_by(col(AdminAction.at).desc(), col(AdminAction.id).desc()).limit(limit)
    return [AdminActionView(r.actor, r.action, r.target, r.detail, as_utc(r.at)) for r in session.exec(query)]
