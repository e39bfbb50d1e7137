"""The case view: the report, the assessment with its rules and Danish reasons, what was raised
and decided (per recipient: shared or withheld, and why), the person's chronology.

Every view is recorded in the access log (`hub.store.access.record_access`) with its ground:
the viewer's own claim, an assignment by a colleague, or break-glass, which needs a written
reason first and is flagged for the jurist's review.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from hub.store import access, claims, queries
from hub.store import staff as staff_store
from hub.store.models import Report
from hub.store.queries.referrals import referral_states
from hub.web.render import PREFIX, page
from hub.web.session import CheckedForm, Reader, Viewer, deps_of

router = APIRouter()

READERS = ("triage", "jurist")
MIN_REASON_CHARS = 20


def ground_for(v: Viewer, ref: str, owner: str | None, assigned_by: str | None = None) -> str | None:
    """On what ground `v` may see this case now, or None (break-glass needed first)."""
    if owner is not None and owner == v.username:
        return access.ASSIGNED if assigned_by is not None else access.OWN_CLAIM
    if ref in v.break_glass:
        return access.BREAK_GLASS
    return None


def open_case(request: Request, v: Viewer, ref: str) -> tuple[queries.CaseView, str | None, str] | Response:
    """The case view with its owner and the ground it was opened on (the access is recorded), or
    the page that asks for a break-glass reason."""
    deps = deps_of(request)
    kinds = {s.id: s.kind.value for s in deps.registry.sources}
    with Session(deps.engine, expire_on_commit=False) as session:
        report = session.get(Report, ref)
        if report is None:
            raise HTTPException(404)
        owner, assigned_by = claims.holder(session, ref)
        ground = ground_for(v, ref, owner, assigned_by)
        if ground is None:
            return page(request, "break_glass.html", viewer=v, title=f"Sag {ref}", ref=ref, owner=owner, errors=[])
        access.record_access(
            session,
            staff=v.username,
            report_ref=ref,
            case_id=report.case_id,
            ground=ground,
            reason=v.break_glass.get(ref),
            at=datetime.now(UTC),
        )
        session.commit()
        view = queries.case_view(session, ref, source_kinds=kinds)
    assert view is not None
    return view, owner, ground


@router.get("/sager/{ref}")
def case_page(request: Request, v: Reader, ref: str) -> Response:
    opened = open_case(request, v, ref)
    if isinstance(opened, Response):
        return opened
    view, owner, ground = opened
    with Session(deps_of(request).engine) as session:
        history = claims.history(session, ref)
        # Where each referral and police alert stands: the partners' answers (`hub referrals`).
        states = {s.ref: s for s in referral_states(session, [ref]).get(ref, [])}
    partners = {p.id: p.name for p in deps_of(request).registry.partners}
    return page(
        request,
        "case.html",
        viewer=v,
        title=f"Sag {ref}",
        v=view,
        owner=owner,
        ground=ground,
        history=history,
        partners=partners,
        states=states,
    )


@router.post("/sager/{ref}/noedadgang")
def break_glass(request: Request, v: Reader, ref: str, form: CheckedForm) -> Response:
    reason = " ".join(form.get("begrundelse").split())
    deps = deps_of(request)
    with Session(deps.engine) as session:
        if session.get(Report, ref) is None:
            raise HTTPException(404)
        if len(reason) < MIN_REASON_CHARS:
            owner = claims.owner(session, ref)
            error = f"Skriv en begrundelse på mindst {MIN_REASON_CHARS} tegn for, hvorfor du skal se sagen."
            return page(
                request,
                "break_glass.html",
                400,
                viewer=v,
                title=f"Sag {ref}",
                ref=ref,
                owner=owner,
                errors=[("begrundelse", error)],
                reason=reason,
            )
        staff_store.grant_break_glass(session, v.digest, ref, reason[:1000])
        session.commit()
    return RedirectResponse(f"{PREFIX}/sager/{ref}", status_code=303)
