"""The reporter hears back: the case's kvittering and feedback (Barnets lov § 137).

"Indberetteren" shows what the reporter has had from DKE and offers the two actions: "Send
kvittering" and a feedback form with the closed list of outcomes. Both travel like a decision
(`hub.entrypoints.reply`: an event on `hub.decisions.v1`, waited for) and show what happened,
or the hub's refusal in Danish. The page is opened like the case (access logged); only triage
staff who hold the case act on it.
"""

from __future__ import annotations

from typing import Any

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session

from hub.entrypoints.outcome import Pending, Refused
from hub.entrypoints.reply import Action, send_and_wait
from hub.policies.reporter import FEEDBACK_DA, FEEDBACK_LABELS_DA
from hub.schemas.reporter import AcknowledgementRequest, FeedbackOutcome, FeedbackRequest
from hub.store import claims
from hub.store.queries.reporter import reporter_messages
from hub.web.render import page
from hub.web.routes.cases import open_case
from hub.web.session import CheckedForm, Triage, Viewer, deps_of

router = APIRouter()
NOT_YOURS = "Du skal have taget sagen (eller overtaget den), før du kan svare indberetteren."
CHOOSE = "Vælg, hvad underretningen har ført til."


def _page(request: Request, v: Viewer, ref: str, status: int = 200, **extra: Any) -> Response:
    opened = open_case(request, v, ref)
    if isinstance(opened, Response):
        return opened
    view, owner, _ = opened
    with Session(deps_of(request).engine) as session:
        heard = reporter_messages(session, ref)
    extra.setdefault("errors", [])
    return page(
        request,
        "reporter.html",
        status,
        viewer=v,
        title=f"Indberetteren i sag {ref}",
        v=view,
        owner=owner,
        heard=heard,
        acknowledged=any(m.kind == "acknowledgement" for m in heard),
        outcomes=[(o.value, FEEDBACK_LABELS_DA[o], FEEDBACK_DA[o]) for o in FeedbackOutcome],
        labels={o.value: text for o, text in FEEDBACK_LABELS_DA.items()},
        **extra,
    )


def _owner(request: Request, ref: str) -> str | None:
    with Session(deps_of(request).engine) as session:
        return claims.owner(session, ref)


async def _send(request: Request, v: Viewer, ref: str, action: Action, values: dict[str, str]) -> Response:
    deps = deps_of(request)
    if await anyio.to_thread.run_sync(_owner, request, ref) != v.username:
        errors = [("indberetter", NOT_YOURS)]
        return await anyio.to_thread.run_sync(lambda: _page(request, v, ref, 400, errors=errors, values=values))
    outcome = await send_and_wait(deps.client, deps.engine, deps.decision_source, action, deps.outcome_timeout_s)
    status = 422 if isinstance(outcome, Refused) else 202 if isinstance(outcome, Pending) else 200
    sent = None if isinstance(outcome, Refused | Pending) else outcome
    return await anyio.to_thread.run_sync(
        lambda: _page(
            request,
            v,
            ref,
            status,
            values=values,
            refused=outcome if isinstance(outcome, Refused) else None,
            pending=outcome if isinstance(outcome, Pending) else None,
            sent=sent,
        )
    )


@router.get("/sager/{ref}/indberetter")
def reporter_page(request: Request, v: Triage, ref: str) -> Response:
    return _page(request, v, ref, values={})


@router.post("/sager/{ref}/kvittering")
async def send_receipt(request: Request, v: Triage, ref: str, form: CheckedForm) -> Response:
    action = AcknowledgementRequest.model_construct(report_ref=ref, requested_by=v.username)
    return await _send(request, v, ref, action, {})


@router.post("/sager/{ref}/tilbagemelding")
async def send_feedback(request: Request, v: Triage, ref: str, form: CheckedForm) -> Response:
    chosen = form.get("udfald")
    if chosen not in {o.value for o in FeedbackOutcome}:
        errors = [("udfald", CHOOSE)]
        return await anyio.to_thread.run_sync(lambda: _page(request, v, ref, 400, errors=errors, values={}))
    action = FeedbackRequest.model_construct(report_ref=ref, requested_by=v.username, outcome=FeedbackOutcome(chosen))
    return await _send(request, v, ref, action, {"udfald": chosen})
