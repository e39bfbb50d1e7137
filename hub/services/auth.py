"""Who a member of staff is: the identity seam of the workspace.

`Authenticator` is the one interface the web layer logs in through. `PasswordAuthenticator`
checks argon2id hashes in the `staff` table, with lock-out after repeated failures. An OIDC
provider plugs in as another `Authenticator` whose `authenticate` is replaced by the
authorisation-code flow's callback: it maps the provider's verified subject (and a group claim
for the role) to a `staff` row and returns that row's `StaffView`; sessions, CSRF, roles and
the access log stay as they are (docs/workspace.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.engine import Engine
from sqlmodel import Session

from hub.store import staff as staff_store
from hub.store.staff import StaffView

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD_CHARS = 12

_hasher = PasswordHasher()  # argon2id with the library's (RFC 9106 low-memory) parameters


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValueError(f"Adgangskoden skal være mindst {MIN_PASSWORD_CHARS} tegn.")
    return _hasher.hash(password)


@dataclass(frozen=True, slots=True)
class LoginRefused:
    """Why a log-in was refused: `code` is `bad_credentials`, `locked` or `disabled`."""

    code: str
    locked_until: datetime | None = None


class Authenticator(Protocol):
    def authenticate(self, username: str, password: str, now: datetime) -> StaffView | LoginRefused: ...


class PasswordAuthenticator:
    """Username and password against the `staff` table. After `MAX_FAILED_LOGINS` failures in a
    row the account is locked for `LOCKOUT`; an unknown user name costs the same hash check."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._dummy = _hasher.hash("no-such-user-dummy-password")

    def authenticate(self, username: str, password: str, now: datetime) -> StaffView | LoginRefused:
        with Session(self.engine, expire_on_commit=False) as session:
            row = staff_store.find(session, username.strip())
            if row is None:
                _verify(self._dummy, password)  # the same time as for a real account
                return LoginRefused("bad_credentials")
            until = staff_store.view_of(row).locked_until  # aware UTC (SQLite stores naive)
            if until is not None and until > now:
                return LoginRefused("locked", until)
            if not _verify(row.password_hash, password):
                row.failed_logins += 1
                refused = LoginRefused("bad_credentials")
                if row.failed_logins >= MAX_FAILED_LOGINS:
                    row.locked_until, row.failed_logins = now + LOCKOUT, 0
                    refused = LoginRefused("locked", now + LOCKOUT)
                session.add(row)
                session.commit()
                return refused
            if row.disabled:
                return LoginRefused("disabled")
            row.failed_logins, row.locked_until = 0, None
            if _hasher.check_needs_rehash(row.password_hash):
                row.password_hash = _hasher.hash(password)
            session.add(row)
            session.commit()
            return staff_store.view_of(row)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
