"""Staff accounts and their server-side sessions (the workspace's log-in).

Passwords arrive here already hashed (`hub.services.auth`); session tokens are stored as their
SHA-256, never as they are. Times are aware UTC.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, delete, select

from hub.store.models import Staff, StaffSession
from hub.store.queries.views import as_utc, utc_or_none

ROLES = ("triage", "jurist", "admin")


@dataclass(frozen=True, slots=True)
class StaffView:
    """A staff member as the workspace and `hub staff list` show them (no password hash)."""

    id: int
    username: str
    display_name: str
    role: str
    disabled: bool
    failed_logins: int
    locked_until: datetime | None


def _view(s: Staff) -> StaffView:
    return StaffView(
        s.id or 0, s.username, s.display_name, s.role, s.disabled, s.failed_logins, utc_or_none(s.locked_until)
    )


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_staff(session: Session, username: str, display_name: str, role: str, password_hash: str, now: datetime) -> None:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    session.add(
        Staff(username=username, display_name=display_name, role=role, password_hash=password_hash, created_at=now)
    )


def find(session: Session, username: str) -> Staff | None:
    return session.exec(select(Staff).where(Staff.username == username)).first()


def list_staff(session: Session) -> list[StaffView]:
    return [_view(s) for s in session.exec(select(Staff).order_by(col(Staff.username)))]


def view_of(staff: Staff) -> StaffView:
    return _view(staff)


def end_sessions(session: Session, staff_id: int) -> None:
    """Every session of this staff member ends now (disable, new password)."""
    session.exec(delete(StaffSession).where(col(StaffSession.staff_id) == staff_id))


def open_session(session: Session, staff_id: int, token: str, csrf_token: str, now: datetime) -> None:
    session.add(
        StaffSession(
            token_sha256=token_digest(token),
            staff_id=staff_id,
            csrf_token=csrf_token,
            created_at=now,
            last_seen_at=now,
            break_glass={},
        )
    )


@dataclass(frozen=True, slots=True)
class SessionView:
    token_sha256: str
    staff: StaffView
    csrf_token: str
    last_seen_at: datetime
    break_glass: dict[str, str]


def load_session(session: Session, token: str) -> SessionView | None:
    found = session.exec(
        select(StaffSession, Staff)
        .join(Staff, col(Staff.id) == col(StaffSession.staff_id))
        .where(StaffSession.token_sha256 == token_digest(token))
    ).first()
    if found is None:
        return None
    row, staff = found
    return SessionView(
        row.token_sha256, _view(staff), row.csrf_token, as_utc(row.last_seen_at), dict(row.break_glass or {})
    )


def touch_session(session: Session, digest: str, now: datetime) -> None:
    row = session.get(StaffSession, digest)
    if row is not None:
        row.last_seen_at = now
        session.add(row)


def grant_break_glass(session: Session, digest: str, report_ref: str, reason: str) -> None:
    row = session.get(StaffSession, digest)
    if row is not None:
        row.break_glass = {**(row.break_glass or {}), report_ref: reason}
        session.add(row)


def close_session(session: Session, digest: str) -> None:
    row = session.get(StaffSession, digest)
    if row is not None:
        session.delete(row)
