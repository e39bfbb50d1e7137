"""Staff accounts as `hub staff` and the demo change them: create, list, disable, new password.

Disabling an account or setting a new password ends every session of it at once (server-side
sessions: the rows go)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from hub.store import staff as store
from hub.store.staff import ROLES, StaffView

__all__ = ["ROLES", "AccountError", "add", "disable", "listed", "set_password"]


class AccountError(Exception):
    """A change that cannot be made; the message is Danish, for the person at the terminal."""


def add(engine: Engine, username: str, display_name: str, role: str, password_hash: str, now: datetime) -> None:
    if role not in ROLES:
        raise AccountError(f"Ukendt rolle: {role}. Kendte roller: {', '.join(ROLES)}.")
    with Session(engine) as session:
        store.add_staff(session, username, display_name, role, password_hash, now)
        try:
            session.commit()
        except IntegrityError:
            raise AccountError(f"Brugernavnet {username} findes allerede.") from None


def listed(engine: Engine) -> list[StaffView]:
    with Session(engine) as session:
        return store.list_staff(session)


def _change(engine: Engine, username: str, *, disable: bool = False, password_hash: str | None = None) -> None:
    with Session(engine) as session:
        row = store.find(session, username)
        if row is None or row.id is None:
            raise AccountError(f"Ukendt medarbejder: {username}.")
        if disable:
            row.disabled = True
        if password_hash is not None:
            row.password_hash, row.failed_logins, row.locked_until = password_hash, 0, None
        session.add(row)
        store.end_sessions(session, row.id)  # logged out everywhere, at once
        session.commit()


def disable(engine: Engine, username: str) -> None:
    _change(engine, username, disable=True)


def set_password(
    engine: Engine,
    username: str,
    password_hash: str,
    *,
    create_as: tuple[str, str] | None = None,
    now: datetime | None = None,
) -> None:
    """A new password (lifts a lock-out); with `create_as` (display name, role) the account is
    made first if it does not exist (the demo's account)."""
    if create_as is not None:
        with Session(engine) as session:
            exists = store.find(session, username) is not None
        if not exists:
            assert now is not None
            add(engine, username, create_as[0], create_as[1], password_hash, now)
            return
    _change(engine, username, password_hash=password_hash)
