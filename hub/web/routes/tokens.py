"""The administrator's source tokens (bearer tokens for `POST /v1/reports`): each with its
source, expiry, state and last use; issue, rotate and revoke.

Changes go through `hub.services.source_tokens`, which `hub tokens` uses too (the HTTP API's own
`TokenStore`, so it notices at its next request) and which records each in the administrators'
action log. A new token is in the answer to the POST that made it and nowhere else: not in a
URL, not in a log, not on any later page (only its hash is kept)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from hub.entrypoints import token_use
from hub.services import source_tokens
from hub.store.tokens import TokenStore, UnknownToken
from hub.web.forms import Form
from hub.web.render import PREFIX, page
from hub.web.session import Admin, CheckedForm, Viewer, deps_of

router = APIRouter()

STATE = {"active": "aktiv", "expired": "udløbet", "revoked": "tilbagekaldt"}
DEFAULT_GRACE_HOURS = 24
MAX_DAYS = 3650
DAYS_ERROR = f"Skriv et antal dage fra 1 til {MAX_DAYS}, eller lad feltet stå tomt."


def _store(request: Request) -> TokenStore:
    store = deps_of(request).tokens
    if store is None:
        raise HTTPException(404)
    return store


async def _page(request: Request, v: Viewer, status: int = 200, **extra: Any) -> Response:
    deps = deps_of(request)
    store = _store(request)
    records = await anyio.to_thread.run_sync(store.records)
    used = await token_use.last_used(deps.client)
    names = {s.id: s.name for s in deps.registry.sources}
    extra.setdefault("errors", [])
    extra.setdefault("values", {"kilde": "", "dage": "", "timer": str(DEFAULT_GRACE_HOURS)})
    return page(request, "tokens.html", status, viewer=v, title="Kildenøgler", records=list(reversed(records)),
                used=used, names=names, sources=sorted(names.items(), key=lambda kv: kv[1]), STATE=STATE,
                at=datetime.now(UTC), **extra)  # fmt: skip


@router.get("/kildenoegler")
async def tokens_page(request: Request, v: Admin) -> Response:
    return await _page(request, v)


def _number(form: Form, name: str, low: int, high: int, errors: list[tuple[str, str]], message: str) -> int | None:
    text = form.get(name).strip()
    if not text:
        return None
    if not text.isdigit() or not low <= int(text) <= high:
        errors.append((name, message))
        return None
    return int(text)


def _source(request: Request, form: Form, errors: list[tuple[str, str]]) -> str:
    source_id = form.get("kilde")
    if deps_of(request).registry.source(source_id) is None:
        errors.append(("kilde", "Vælg en kilde."))
    return source_id


@router.post("/kildenoegler/udsted")
async def issue(request: Request, v: Admin, form: CheckedForm) -> Response:
    errors: list[tuple[str, str]] = []
    source_id = _source(request, form, errors)
    days = _number(form, "dage", 1, MAX_DAYS, errors, DAYS_ERROR)
    values = {"kilde": source_id, "dage": form.get("dage"), "timer": str(DEFAULT_GRACE_HOURS)}
    if errors:
        return await _page(request, v, 400, errors=errors, values=values)
    deps, store = deps_of(request), _store(request)
    expires = timedelta(days=days) if days else None
    issued = await anyio.to_thread.run_sync(
        lambda: source_tokens.issue(store, deps.engine, source_id, expires_in=expires, actor=v.username)
    )
    return await _page(request, v, issued=issued, old=[])


@router.post("/kildenoegler/roter")
async def rotate(request: Request, v: Admin, form: CheckedForm) -> Response:
    errors: list[tuple[str, str]] = []
    source_id = _source(request, form, errors)
    hours = _number(form, "timer", 0, 24 * 30, errors, "Skriv et antal timer fra 0 til 720.")
    days = _number(form, "dage", 1, MAX_DAYS, errors, DAYS_ERROR)
    values = {"kilde": source_id, "dage": form.get("dage"), "timer": form.get("timer")}
    if errors:
        return await _page(request, v, 400, errors=errors, values=values)
    deps, store = deps_of(request), _store(request)
    grace = timedelta(hours=DEFAULT_GRACE_HOURS if hours is None else hours)
    expires = timedelta(days=days) if days else None
    issued, old = await anyio.to_thread.run_sync(
        lambda: source_tokens.rotate(store, deps.engine, source_id, grace=grace, expires_in=expires, actor=v.username)
    )
    return await _page(request, v, issued=issued, old=old)


@router.post("/kildenoegler/{token_id}/tilbagekald")
async def revoke(request: Request, v: Admin, token_id: str, form: CheckedForm) -> Response:
    deps, store = deps_of(request), _store(request)
    try:
        await anyio.to_thread.run_sync(
            lambda: source_tokens.revoke(store, deps.engine, token_id, actor=v.username)
        )
    except UnknownToken:
        raise HTTPException(404) from None
    return RedirectResponse(f"{PREFIX}/kildenoegler", status_code=303)
