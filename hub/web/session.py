"""Log-in sessions, roles and CSRF for the workspace.

Sessions are rows in the database (`staffsession`), found by the SHA-256 of a random token in
an HttpOnly, SameSite=Strict cookie (Secure unless serving plain HTTP on loopback): one row
deleted ends a session at once (log-out, `hub staff disable`, idle expiry). Each session has a
synchroniser CSRF token that every form posts back; the log-in form, which has no session yet,
uses a double-submit cookie instead.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import Response
from sqlmodel import Session

from hub.store import staff as staff_store
from hub.store.staff import StaffView
from hub.web.deps import WebDeps
from hub.web.forms import Form, read_form

COOKIE = "dke_session"
LOGIN_CSRF_COOKIE = "dke_login_csrf"


class LoginRequired(Exception):
    """Answered with a redirect to the log-in page (`expired`: after idle expiry)."""

    def __init__(self, expired: bool = False) -> None:
        self.expired = expired


class Forbidden(Exception):
    """Answered with 403 and a Danish page."""

    def __init__(self, message: str) -> None:
        self.message = message


@dataclass(frozen=True, slots=True)
class Viewer:
    staff: StaffView
    digest: str
    csrf_token: str
    break_glass: dict[str, str]

    @property
    def username(self) -> str:
        return self.staff.username


def deps_of(request: Request) -> WebDeps:
    deps: WebDeps = request.app.state.deps
    return deps


def _load(request: Request, touch: bool) -> Viewer:
    deps = deps_of(request)
    token = request.cookies.get(COOKIE)
    if not token:
        raise LoginRequired()
    now = datetime.now(UTC)
    with Session(deps.engine, expire_on_commit=False) as db:
        found = staff_store.load_session(db, token)
        if found is None or found.staff.disabled:
            raise LoginRequired()
        if now - found.last_seen_at > deps.idle_timeout:
            staff_store.close_session(db, found.token_sha256)
            db.commit()
            raise LoginRequired(expired=True)
        if touch:
            staff_store.touch_session(db, found.token_sha256, now)
            db.commit()
    return Viewer(found.staff, found.token_sha256, found.csrf_token, found.break_glass)


def viewer(request: Request) -> Viewer:
    """The logged-in staff member; the request counts as activity (idle expiry starts again)."""
    return _load(request, touch=True)


def polling_viewer(request: Request) -> Viewer:
    """The same, for the queue page's automatic refresh, which is not activity."""
    return _load(request, touch=False)


def require(*roles: str) -> Any:
    """A dependency: the viewer, if their role is one of `roles` (else 403)."""

    def check(v: Annotated[Viewer, Depends(viewer)]) -> Viewer:
        if v.staff.role not in roles:
            raise Forbidden("Din rolle giver ikke adgang til denne side.")
        return v

    return Depends(check)


async def checked_form(request: Request, v: Annotated[Viewer, Depends(viewer)]) -> Form:
    """The posted form, if its CSRF token is the session's (else 403)."""
    form = await read_form(request)
    if not hmac.compare_digest(form.get("csrf").encode(), v.csrf_token.encode()):
        raise Forbidden("Formularen kunne ikke godkendes (sikkerhedsnøglen mangler eller er forældet). Prøv igen.")
    return form


def start_session(deps: WebDeps, staff_id: int, response: Response) -> None:
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    with Session(deps.engine) as db:
        staff_store.open_session(db, staff_id, token, csrf, datetime.now(UTC))
        db.commit()
    response.set_cookie(COOKIE, token, httponly=True, secure=deps.cookie_secure, samesite="strict", path="/")
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")


def end_session(deps: WebDeps, v: Viewer, response: Response) -> None:
    with Session(deps.engine) as db:
        staff_store.close_session(db, v.digest)
        db.commit()
    response.delete_cookie(COOKIE, path="/")


def login_csrf(request: Request) -> str:
    """The log-in form's token: the cookie's if there is one, else a new one (set by the page)."""
    return request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)


def set_login_csrf(deps: WebDeps, response: Response, token: str) -> None:
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, secure=deps.cookie_secure, samesite="strict", path="/")


# The route signatures: who may call a page, and a form whose CSRF token was checked.
AnyStaff = Annotated[Viewer, Depends(viewer)]
Polling = Annotated[Viewer, Depends(polling_viewer)]
Triage = Annotated[Viewer, require("triage")]
Reader = Annotated[Viewer, require("triage", "jurist")]
Jurist = Annotated[Viewer, require("jurist")]
Admin = Annotated[Viewer, require("admin")]
CheckedForm = Annotated[Form, Depends(checked_form)]
