"""Staff accounts as `hub staff`, the administrator's pages and the demo change them: create,
list, disable, enable, new password, new role.

Disabling an account or setting a new password ends every session of it at once (server-side
sessions: the rows go). With an `actor` (the administrator, or `cli:<os user>` for `hub staff`),
each change is recorded in the administrators' action log (`hub.store.admin_log`) in the same
transaction; the demo's set-up passes none. No change leaves the hub without an active admin."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from hub.store import admin_log
from hub.store import staff as store
from hub.store.models import Staff
from hub.store.staff import ROLES, StaffView

__all__ = [
    "ROLES",
    "USERNAME_RULE",
    "AccountError",
    "add",
    "disable",
    "enable",
    "listed",
    "set_password",
    "set_role",
    "valid_username",
]

LAST_ADMIN = "Der skal være mindst én aktiv administrator. Opret eller aktivér en anden administrator først."


USERNAME_RULE = "Brugernavnet må kun indeholde bogstaverne a-z, tal, punktum og bindestreg (højst 64 tegn)."


def valid_username(username: str) -> bool:
    return bool(username) and username.isascii() and username.replace("-", "").replace(".", "").isalnum() and len(
        username
    ) <= 64


class AccountError(Exception):
    """A change that cannot be made; the message is Danish, for the person who asked for it."""


def _log(session: Session, actor: str | None, action: str, target: str, detail: str | None = None) -> None:
    if actor is not None:
        admin_log.record(session, actor=actor, action=action, target=target, detail=detail, at=datetime.now(UTC))


def add(
    engine: Engine,
    username: str,
    display_name: str,
    role: str,
    password_hash: str,
    now: datetime,
    *,
    actor: str | None = None,
) -> None:
    if role not in ROLES:
        raise AccountError(f"Ukendt rolle: {role}. Kendte roller: {', '.join(ROLES)}.")
    with Session(engine) as session:
        store.add_staff(session, username, display_name, role, password_hash, now)
        try:
            session.flush()
        except IntegrityError:
            raise AccountError(f"Brugernavnet {username} findes allerede.") from None
        _log(session, actor, admin_log.STAFF_ADD, username, role)
        session.commit()


def listed(engine: Engine) -> list[StaffView]:
    with Session(engine) as session:
        return store.list_staff(session)


def _other_active_admins(session: Session, username: str) -> int:
    query = select(func.count()).select_from(Staff).where(
        Staff.role == "admin", col(Staff.disabled).is_(False), Staff.username != username
    )
    return int(session.exec(query).one())


def _change(
    engine: Engine,
    username: str,
    *,
    actor: str | None,
    disabled: bool | None = None,
    password_hash: str | None = None,
    role: str | None = None,
) -> None:
    if role is not None and role not in ROLES:
        raise AccountError(f"Ukendt rolle: {role}. Kendte roller: {', '.join(ROLES)}.")
    with Session(engine) as session:
        row = store.find(session, username)
        if row is None or row.id is None:
            raise AccountError(f"Ukendt medarbejder: {username}.")
        losing_admin = row.role == "admin" and not row.disabled and (disabled or (role is not None and role != "admin"))
        if losing_admin and _other_active_admins(session, username) == 0:
            raise AccountError(LAST_ADMIN)
        if disabled is not None:
            row.disabled = disabled
            _log(session, actor, admin_log.STAFF_DISABLE if disabled else admin_log.STAFF_ENABLE, username)
        if password_hash is not None:
            row.password_hash, row.failed_logins, row.locked_until = password_hash, 0, None
            _log(session, actor, admin_log.STAFF_PASSWORD, username)  # that it changed; never the password
        if role is not None:
            _log(session, actor, admin_log.STAFF_ROLE, username, f"{row.role} -> {role}")
            row.role = role
        session.add(row)
        if disabled or password_hash is not None:
            store.end_sessions(session, row.id)  # logged out everywhere, at once
        session.commit()


def disable(engine: Engine, username: str, *, actor: str | None = None) -> None:
    _change(engine, username, actor=actor, disabled=True)


def enable(engine: Engine, username: str, *, actor: str | None = None) -> None:
    _change(engine, username, actor=actor, disabled=False)


def set_role(engine: Engine, username: str, role: str, *, actor: str | None = None) -> None:
    """A new role; it applies from the account's next request (roles are read per request)."""
    _change(engine, username, actor=actor, role=role)


def set_password(
    engine: Engine,
    username: str,
    password_hash: str,
    *,
    create_as: tuple[str, str] | None = None,
    now: datetime | None = None,
    actor: str | None = None,
) -> None:
    """A new password (lifts a lock-out); with `create_as` (display name, role) the account is
    made first if it does not exist (the demo's account)."""
    if create_as is not None:
        with Session(engine) as session:
            exists = store.find(session, username) is not None
        if not exists:
            assert now is not None
            add(engine, username, create_as[0], create_as[1], password_hash, now, actor=actor)
            return
    _change(engine, username, actor=actor, password_hash=password_hash)
