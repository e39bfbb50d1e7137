"""Log-in and log-out; `/arbejdsrum/` sends each role to its start page."""

from __future__ import annotations

import hmac
from datetime import UTC, datetime

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from hub.logs import get_logger
from hub.services.auth import LoginRefused
from hub.web.format import danish_time
from hub.web.forms import read_form
from hub.web.render import PREFIX, page
from hub.web.session import (
    LOGIN_CSRF_COOKIE,
    AnyStaff,
    CheckedForm,
    Forbidden,
    deps_of,
    end_session,
    login_csrf,
    set_login_csrf,
    start_session,
)

router = APIRouter()
log = get_logger("hub.web.login")

START = {"triage": "koer", "jurist": "adgangslog", "admin": "medarbejdere"}


@router.get("/")
def home(v: AnyStaff) -> RedirectResponse:
    return RedirectResponse(f"{PREFIX}/{START.get(v.staff.role, 'koer')}", status_code=303)


def _login_page(
    request: Request, status: int = 200, errors: list[tuple[str, str]] | None = None, **extra: object
) -> Response:
    token = login_csrf(request)
    response = page(request, "login.html", status, title="Log ind", csrf=token, errors=errors or [], **extra)
    set_login_csrf(deps_of(request), response, token)
    return response


@router.get("/log-ind")
def login_form(request: Request, udloebet: str | None = None, logget_ud: str | None = None) -> Response:
    notice = None
    if udloebet:
        notice = "Du er blevet logget ud, fordi du ikke har været aktiv i et stykke tid. Log ind igen."
    elif logget_ud:
        notice = "Du er logget ud."
    return _login_page(request, notice=notice)


MESSAGES = {
    "bad_credentials": "Brugernavn eller adgangskode er forkert.",
    "disabled": "Kontoen er deaktiveret. Kontakt en administrator.",
}


@router.post("/log-ind")
async def login(request: Request) -> Response:
    form = await read_form(request)
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie or not hmac.compare_digest(form.get("csrf").encode(), cookie.encode()):
        raise Forbidden("Log-ind-formularen kunne ikke godkendes. Hent siden igen og prøv igen.")
    username, password = form.get("brugernavn").strip(), form.get("adgangskode")
    errors = []
    if not username:
        errors.append(("brugernavn", "Skriv dit brugernavn."))
    if not password:
        errors.append(("adgangskode", "Skriv din adgangskode."))
    if errors:
        return _login_page(request, 400, errors, username=username)
    deps = deps_of(request)
    result = await anyio.to_thread.run_sync(deps.authenticator.authenticate, username, password, datetime.now(UTC))
    if isinstance(result, LoginRefused):
        log.info("web.login_refused", code=result.code)  # no user name: it may be mistyped personal data
        if result.code == "locked":
            message = (
                "Kontoen er midlertidigt låst efter for mange mislykkede forsøg. "
                f"Prøv igen efter {danish_time(result.locked_until)}."
            )
        else:
            message = MESSAGES[result.code]
        return _login_page(request, 401, [("adgangskode", message)], username=username)
    response = RedirectResponse(f"{PREFIX}/", status_code=303)
    await anyio.to_thread.run_sync(start_session, deps, result.id, response)
    log.info("web.login", role=result.role)
    return response


@router.post("/log-ud")
async def logout(request: Request, v: AnyStaff, form: CheckedForm) -> Response:
    response = RedirectResponse(f"{PREFIX}/log-ind?logget_ud=1", status_code=303)
    await anyio.to_thread.run_sync(end_session, deps_of(request), v, response)
    return response
