"""The jurist answers a request for access (indsigt) in the workspace: find the person by CPR
number or by name and birth date (a POSTed form: the CPR number is never in a URL or a log
line), see what `hub access` shows (what was received, each disclosure, who in DKE opened the
person's cases), and download the same Danish letter `hub access --out` writes
(`hub.entrypoints.access_document`).

The look-up is itself a view of the person's data: each of the person's reports gets an access
record on the ground `access_request` (`hub.store.access.record_access`), in the transaction
that reads them, so the letter lists it too. A search that finds nothing records nothing: no
case was opened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from hub.entrypoints import access_document
from hub.schemas.cpr import normalise
from hub.store import access
from hub.store.models import Report
from hub.store.queries import access as access_q
from hub.web.forms import Form
from hub.web.render import page
from hub.web.session import CheckedForm, Jurist, Viewer, deps_of

router = APIRouter()

LETTER_NAME = "indsigtsbrev.html"  # no personal data in the file name either


@dataclass(frozen=True)
class Query:
    cpr: str | None
    name: str | None
    born: date | None


def parse_born(text: str) -> date | None:
    """A birth date as staff write it: 17.05.2012, 17-05-2012 or 2012-05-17."""
    text = text.strip()
    try:
        if len(text) == 10 and text[2] in ".-/" and text[5] == text[2]:
            return date(int(text[6:]), int(text[3:5]), int(text[:2]))
        return date.fromisoformat(text)
    except ValueError:
        return None


def _query(form: Form) -> tuple[Query | None, list[tuple[str, str]]]:
    cpr, name, born_text = form.get("cpr").strip(), " ".join(form.get("navn").split()), form.get("foedt").strip()
    if cpr and (name or born_text):
        return None, [("cpr", "Søg enten på CPR-nummer eller på navn og fødselsdato, ikke begge.")]
    if cpr:
        try:
            return Query(normalise(cpr), None, None), []
        except ValueError:
            return None, [("cpr", "CPR-nummeret er ikke gyldigt. Skriv det som 10 cifre, fx 170512-1234.")]
    errors = []
    if not name:
        errors.append(("navn", "Skriv et CPR-nummer, eller personens navn og fødselsdato."))
    born = parse_born(born_text) if born_text else None
    if born is None:
        errors.append(("foedt", "Skriv fødselsdatoen som dd.mm.åååå, fx 17.05.2012."))
    return (Query(None, name, born), []) if not errors else (None, errors)


def _look_up(request: Request, v: Viewer, q: Query) -> access_document.AccessDocument | str:
    """The access document, with the look-up recorded; or why there is none (Danish)."""
    deps = deps_of(request)
    now = datetime.now(UTC)
    with Session(deps.engine, expire_on_commit=False) as session:
        if q.cpr is not None:
            person = access_q.person_by_cpr(session, q.cpr)
        else:
            assert q.name is not None and q.born is not None
            person = access_q.person_by_name(session, q.name, q.born)
            if len(person.subject_keys) > 1:
                return "Navn og fødselsdato passer på flere personer. Søg på CPR-nummeret."
        for received in access_q.reports_about(session, person):
            report = session.get(Report, received.report_ref)
            access.record_access(
                session,
                staff=v.username,
                report_ref=received.report_ref,
                case_id=report.case_id if report else None,
                ground=access.ACCESS_REQUEST,
                reason=None,
                at=now,
            )
        session.commit()
        return access_document.build(session, person, deps.registry.municipality, now)


def _form_page(request: Request, v: Viewer, status: int = 200, **extra: object) -> Response:
    extra.setdefault("errors", [])
    extra.setdefault("values", {"cpr": "", "navn": "", "foedt": ""})
    return page(request, "access_request.html", status, viewer=v, title="Indsigt", **extra)


@router.get("/indsigt")
def access_form(request: Request, v: Jurist) -> Response:
    return _form_page(request, v)


@router.post("/indsigt")
async def access_request(request: Request, v: Jurist, form: CheckedForm) -> Response:
    values = {"cpr": form.get("cpr"), "navn": form.get("navn"), "foedt": form.get("foedt")}
    q, errors = _query(form)
    if q is None:
        return _form_page(request, v, 400, errors=errors, values=values)
    found = await anyio.to_thread.run_sync(_look_up, request, v, q)
    if isinstance(found, str):
        return _form_page(request, v, 409, errors=[("cpr", found)], values=values)
    partners = {p.id: p.name for p in deps_of(request).registry.partners}
    sources = {s.id: s.name for s in deps_of(request).registry.sources}
    return _form_page(request, v, values=values, doc=found, partners=partners, sources=sources)


@router.post("/indsigt/brev")
async def access_letter(request: Request, v: Jurist, form: CheckedForm) -> Response:
    """The letter as a download (the same HTML `hub access --out` writes)."""
    q, errors = _query(form)
    if q is None:
        return _form_page(request, v, 400, errors=errors, values={"cpr": "", "navn": "", "foedt": ""})
    found = await anyio.to_thread.run_sync(_look_up, request, v, q)
    if isinstance(found, str):
        return _form_page(request, v, 409, errors=[("cpr", found)], values={"cpr": "", "navn": "", "foedt": ""})
    html = access_document.render_html(found, deps_of(request).registry)
    return HTMLResponse(
        html,
        headers={"Content-Disposition": f'attachment; filename="{LETTER_NAME}"', "Cache-Control": "no-store"},
    )
