"""Assign a triage item to a colleague: a triage member gives an unclaimed item, or their own,
to a named active triage colleague. Compare-and-set like a claim (`hub.store.claims.assign`),
recorded in the claim history with who assigned it; the assignee's views are recorded on the
ground `assigned` (`routes/cases.py`)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from hub.store import claims
from hub.store import staff as staff_store
from hub.store.models import Report
from hub.store.staff import StaffView
from hub.web.render import PREFIX, page
from hub.web.session import CheckedForm, Triage, Viewer, deps_of

router = APIRouter()

NOT_YOURS = "Sagen er taget af en kollega. Du kan kun tildele en sag, som ingen har taget, eller som er din egen."


def _colleagues(session: Session, v: Viewer) -> list[StaffView]:
    """The active triage colleagues an item can go to (not the viewer)."""
    return [
        s for s in staff_store.list_staff(session) if s.role == "triage" and not s.disabled and s.username != v.username
    ]


def _form(request: Request, v: Viewer, ref: str, status: int = 200, errors: list[tuple[str, str]] | None = None,
          chosen: str = "") -> Response:  # fmt: skip
    with Session(deps_of(request).engine) as session:
        if session.get(Report, ref) is None:
            raise HTTPException(404)
        owner, _ = claims.holder(session, ref)
        colleagues = _colleagues(session, v)
    if owner not in (None, v.username):
        return page(request, "error.html", 409, viewer=v, title="Sagen kan ikke tildeles", message=NOT_YOURS)
    return page(
        request,
        "assign.html",
        status,
        viewer=v,
        title=f"Tildel sag {ref}",
        ref=ref,
        owner=owner,
        colleagues=colleagues,
        errors=errors or [],
        chosen=chosen,
    )


@router.get("/sager/{ref}/tildel")
def assign_form(request: Request, v: Triage, ref: str) -> Response:
    return _form(request, v, ref)


@router.post("/sager/{ref}/tildel")
def assign(request: Request, v: Triage, ref: str, form: CheckedForm) -> Response:
    to, expected = form.get("til").strip(), form.get("ejer").strip() or None
    with Session(deps_of(request).engine) as session:
        if session.get(Report, ref) is None:
            raise HTTPException(404)
        if to not in {c.username for c in _colleagues(session, v)}:
            error = ("til", "Vælg en aktiv kollega med rollen triage.")
            return _form(request, v, ref, 400, [error], to)
        done = claims.assign(session, ref, to, v.username, expected, datetime.now(UTC))
        session.commit()
    if not done:
        message = "Sagen har skiftet ejer, siden du åbnede siden. Hent sagen igen."
        return page(request, "error.html", 409, viewer=v, title="Sagen blev ikke tildelt", message=message)
    return RedirectResponse(f"{PREFIX}/koer", status_code=303)
