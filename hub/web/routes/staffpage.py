"""The administrator's accounts page: list, add (with a role and an initial password, set by the
admin or made here and shown once), disable and enable, a new password (every session of the
account ends), a new role; and the newest administrator actions.

Every change goes through `hub.services.staff`, the service `hub staff` uses, which records it
in the administrators' action log with the admin's user name (never the password)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

import anyio
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from hub.services import staff as accounts
from hub.services.auth import MIN_PASSWORD_CHARS, hash_password
from hub.services.staff import AccountError
from hub.store import admin_log, queries
from hub.store import staff as staff_store
from hub.store.staff import StaffView
from hub.web.forms import Form
from hub.web.render import PREFIX, page
from hub.web.session import Admin, CheckedForm, Viewer, deps_of

router = APIRouter()

ACTION = {
    admin_log.STAFF_ADD: "oprettede kontoen",
    admin_log.STAFF_DISABLE: "deaktiverede kontoen",
    admin_log.STAFF_ENABLE: "aktiverede kontoen",
    admin_log.STAFF_PASSWORD: "gav ny adgangskode til",
    admin_log.STAFF_ROLE: "ændrede rollen for",
    admin_log.TOKEN_ISSUE: "udstedte en nøgle til",
    admin_log.TOKEN_ROTATE: "fornyede nøglen til",
    admin_log.TOKEN_REVOKE: "tilbagekaldte en nøgle til",
}


def generated_password() -> str:
    """An initial or reset password, made here and shown once (16 characters)."""
    return secrets.token_urlsafe(12)


def _accounts_page(request: Request, v: Viewer, status: int = 200, **extra: Any) -> Response:
    with queries.reading(deps_of(request).engine) as session:
        rows = staff_store.list_staff(session)
        actions = admin_log.recent(session, limit=20)
    extra.setdefault("errors", [])
    return page(request, "staff.html", status, viewer=v, title="Medarbejdere", rows=rows, actions=actions,
                ACTION=ACTION, **extra)  # fmt: skip


@router.get("/medarbejdere")
def staff_page(request: Request, v: Admin) -> Response:
    return _accounts_page(request, v)


def _new_form(request: Request, v: Viewer, status: int = 200, **extra: Any) -> Response:
    extra.setdefault("errors", [])
    extra.setdefault("values", {"brugernavn": "", "navn": "", "rolle": "triage"})
    return page(request, "staff_new.html", status, viewer=v, title="Opret medarbejder", roles=accounts.ROLES, **extra)


@router.get("/medarbejdere/ny")
def new_form(request: Request, v: Admin) -> Response:
    return _new_form(request, v)


def _password(form: Form, errors: list[tuple[str, str]]) -> tuple[str | None, bool]:
    """The password the admin typed, or a new one (and whether it was made here)."""
    typed = form.get("adgangskode")
    if not typed:
        return generated_password(), True
    if len(typed) < MIN_PASSWORD_CHARS:
        errors.append(("adgangskode", f"Adgangskoden skal være mindst {MIN_PASSWORD_CHARS} tegn."))
        return None, False
    if typed != form.get("gentag"):
        errors.append(("gentag", "Adgangskoderne er ikke ens."))
        return None, False
    return typed, False


@router.post("/medarbejdere/ny")
async def add(request: Request, v: Admin, form: CheckedForm) -> Response:
    values = {"brugernavn": form.get("brugernavn").strip(), "navn": " ".join(form.get("navn").split()),
              "rolle": form.get("rolle")}  # fmt: skip
    errors: list[tuple[str, str]] = []
    if not accounts.valid_username(values["brugernavn"]):
        errors.append(("brugernavn", accounts.USERNAME_RULE))
    if not values["navn"] or len(values["navn"]) > 100:
        errors.append(("navn", "Skriv medarbejderens navn (højst 100 tegn)."))
    if values["rolle"] not in accounts.ROLES:
        errors.append(("rolle", "Vælg en rolle."))
    password, generated = _password(form, errors)
    if errors or password is None:
        return _new_form(request, v, 400, errors=errors, values=values)
    hashed = await anyio.to_thread.run_sync(hash_password, password)
    deps = deps_of(request)

    def create() -> None:
        username, name, role = values["brugernavn"], values["navn"], values["rolle"]
        accounts.add(deps.engine, username, name, role, hashed, datetime.now(UTC), actor=v.username)

    try:
        await anyio.to_thread.run_sync(create)
    except AccountError as exc:
        return _new_form(request, v, 409, errors=[("brugernavn", str(exc))], values=values)
    return _done(request, v, f"Medarbejderen {values['brugernavn']} er oprettet", values["brugernavn"],
                 password if generated else None)  # fmt: skip


def _done(request: Request, v: Viewer, headline: str, username: str, password: str | None) -> Response:
    """What happened; a password made here is shown on this page only (no-store, never in a URL)."""
    return page(request, "staff_done.html", viewer=v, title="Medarbejdere", headline=headline, username=username,
                password=password)  # fmt: skip


def _account(request: Request, username: str) -> StaffView:
    with queries.reading(deps_of(request).engine) as session:
        row = staff_store.find(session, username)
        if row is None:
            raise HTTPException(404)
        return staff_store.view_of(row)


def _account_page(request: Request, v: Viewer, username: str, status: int = 200, **extra: Any) -> Response:
    extra.setdefault("errors", [])
    return page(request, "staff_account.html", status, viewer=v, title="Medarbejder", s=_account(request, username),
                roles=accounts.ROLES, **extra)  # fmt: skip


@router.get("/medarbejdere/{username}")
def account_page(request: Request, v: Admin, username: str) -> Response:
    return _account_page(request, v, username)


def _apply(request: Request, v: Viewer, username: str, field: str, change: Any) -> Response | None:
    """Run a change of the service; its refusal as the account page with an error."""
    _account(request, username)  # 404 for an unknown account
    try:
        change()
    except AccountError as exc:
        return _account_page(request, v, username, 409, errors=[(field, str(exc))])
    return None


@router.post("/medarbejdere/{username}/deaktiver")
def disable(request: Request, v: Admin, username: str, form: CheckedForm) -> Response:
    engine = deps_of(request).engine
    refused = _apply(request, v, username, "status", lambda: accounts.disable(engine, username, actor=v.username))
    return refused or RedirectResponse(f"{PREFIX}/medarbejdere/{username}", status_code=303)


@router.post("/medarbejdere/{username}/aktiver")
def enable(request: Request, v: Admin, username: str, form: CheckedForm) -> Response:
    engine = deps_of(request).engine
    refused = _apply(request, v, username, "status", lambda: accounts.enable(engine, username, actor=v.username))
    return refused or RedirectResponse(f"{PREFIX}/medarbejdere/{username}", status_code=303)


@router.post("/medarbejdere/{username}/rolle")
def set_role(request: Request, v: Admin, username: str, form: CheckedForm) -> Response:
    role, engine = form.get("rolle"), deps_of(request).engine
    if role not in accounts.ROLES:
        return _account_page(request, v, username, 400, errors=[("rolle", "Vælg en rolle.")])
    refused = _apply(request, v, username, "rolle", lambda: accounts.set_role(engine, username, role, actor=v.username))
    return refused or RedirectResponse(f"{PREFIX}/medarbejdere/{username}", status_code=303)


@router.post("/medarbejdere/{username}/adgangskode")
async def reset_password(request: Request, v: Admin, username: str, form: CheckedForm) -> Response:
    errors: list[tuple[str, str]] = []
    password, generated = _password(form, errors)
    if errors or password is None:
        return await anyio.to_thread.run_sync(lambda: _account_page(request, v, username, 400, errors=errors))
    hashed = await anyio.to_thread.run_sync(hash_password, password)
    engine = deps_of(request).engine

    def change() -> None:
        accounts.set_password(engine, username, hashed, actor=v.username)

    refused = await anyio.to_thread.run_sync(lambda: _apply(request, v, username, "adgangskode", change))
    if refused is not None:
        return refused
    return _done(request, v, f"{username} har fået en ny adgangskode og er logget ud overalt", username,
                 password if generated else None)  # fmt: skip
