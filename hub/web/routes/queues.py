"""The four triage queues with counts, most urgent first; claim, release and take over.

The table is also served alone (`/koer/tabel`), which `static/poll.js` fetches every 10 s so new
entries appear without a reload; polling does not count as activity for the idle expiry.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from hub.entrypoints import labels as da
from hub.store import claims, queries
from hub.web.forms import Form
from hub.web.render import PREFIX, page
from hub.web.session import CheckedForm, Polling, Reader, Triage, deps_of

router = APIRouter()

QUEUES = tuple(da.QUEUE)  # urgent, reactive, proactive, operative
READERS = ("triage", "jurist")


def _slug(queue: str) -> str:
    return da.QUEUE[queue].lower()


def _context(request: Request, koe: str | None) -> dict[str, Any]:
    deps = deps_of(request)
    kinds = {s.id: s.kind.value for s in deps.registry.sources}
    with queries.reading(deps.engine) as session:
        rows = queries.queue_rows(session, source_kinds=kinds)
    counts = {q: sum(1 for r in rows if r.queue == q) for q in QUEUES}
    chosen = da.queue_key(koe) if koe else None
    shown = [r for r in rows if chosen is None or r.queue == chosen]
    return {"rows": shown, "counts": counts, "chosen": chosen, "total": len(rows), "slug": _slug}


@router.get("/koer")
def queue_page(request: Request, v: Reader, koe: str | None = None) -> Response:
    context = _context(request, koe)
    title = f"Kø: {da.QUEUE[context['chosen']]}" if context["chosen"] else "Alle køer"
    return page(request, "queues.html", viewer=v, title=title, koe=koe or "", **context)


@router.get("/koer/tabel")
def queue_table(request: Request, v: Polling, koe: str | None = None) -> Response:
    if v.staff.role not in READERS:
        return Response(status_code=403)
    return page(request, "_queue_table.html", viewer=v, koe=koe or "", **_context(request, koe))


def _back(form: Form, ref: str) -> RedirectResponse:
    target = form.get("tilbage")
    url = f"{PREFIX}/sager/{ref}" if target == "sag" else f"{PREFIX}/koer"
    return RedirectResponse(url, status_code=303)


@router.post("/sager/{ref}/tag")
def claim(request: Request, v: Triage, ref: str, form: CheckedForm) -> Response:
    with Session(deps_of(request).engine) as session:
        done = claims.claim(session, ref, v.username, datetime.now(UTC))
        session.commit()
    if not done:
        return page(
            request,
            "error.html",
            409,
            viewer=v,
            title="Sagen er taget",
            message="Sagen er allerede taget af en kollega (eller findes ikke). Du kan overtage den fra sagen.",
        )
    return _back(form, ref)


@router.post("/sager/{ref}/frigiv")
def release(request: Request, v: Triage, ref: str, form: CheckedForm) -> Response:
    with Session(deps_of(request).engine) as session:
        claims.release(session, ref, v.username, datetime.now(UTC))
        session.commit()
    return RedirectResponse(f"{PREFIX}/koer", status_code=303)


@router.post("/sager/{ref}/overtag")
def take_over(request: Request, v: Triage, ref: str, form: CheckedForm) -> Response:
    previous = form.get("fra")
    with Session(deps_of(request).engine) as session:
        done = bool(previous) and claims.take_over(session, ref, v.username, previous, datetime.now(UTC))
        session.commit()
    if not done:
        return page(
            request,
            "error.html",
            409,
            viewer=v,
            title="Sagen blev ikke overtaget",
            message="Sagen har skiftet ejer i mellemtiden. Hent sagen igen.",
        )
    return RedirectResponse(f"{PREFIX}/sager/{ref}", status_code=303)
