"""Decide a case with a preview: level, pillar, recipients from the registry, the necessity
justification. "Forhåndsvis" runs the hub's own decision parser and the decision service's
policy call (`DecisionService.preview`) on exactly what would be sent; "Afgør" sends it on
`hub.decisions.v1` like every client and shows the outcome per recipient, or the refusal.

Where the policy leaves a judgment to a person (issue #18 point 7), the preview asks each open
question (`DecisionService.questions`) as a fieldset of the form: an answer, a reason and its basis
(`svar:KEY`, `svar_begrundelse:KEY`, `svar_grundlag:KEY`; KEY is `RULE_ID` or `RULE_ID@partner`);
"Forhåndsvis" again decides with the answers, and "Afgør" sends them with the decision.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session, func, select

from hub.entrypoints import labels as da
from hub.entrypoints.outcome import Pending, Refused, send_and_wait
from hub.schemas import streams
from hub.schemas.cloudevents import EVENT_FIELD, new_event
from hub.schemas.decision import (
    DECISION_MADE,
    Answer,
    AnswerBasis,
    Level,
    Pillar,
    ReferralTarget,
    Structure,
    TriageDecision,
)
from hub.schemas.entry import Entry
from hub.schemas.messages import danish
from hub.schemas.report import Purpose
from hub.services.answers import key_of
from hub.services.envelope import Rejection, parse_decision
from hub.store.models import Decision, Report, TriageItem
from hub.web import meeting_form
from hub.web.forms import Form
from hub.web.render import page
from hub.web.routes.cases import open_case
from hub.web.session import CheckedForm, Triage, Viewer, deps_of

router = APIRouter()
CHANGED = "Sagen er afgjort eller revideret, siden du åbnede formularen. Se afgørelsen, før du afgør igen."
_locks: dict[str, asyncio.Lock] = {}  # one decision at a time per case in this process


def _targets(request: Request) -> list[tuple[str, str, str]]:
    """(value, partner name, structure) for every partner and structure in the registry."""
    out = []
    for p in sorted(deps_of(request).registry.partners, key=lambda p: p.name):
        for s in sorted(p.structures):
            out.append((f"{s.value}:{p.id}", p.name, s.value))
    return out


ANSWER = "svar:"  # form field prefixes of an answer, its reason and its basis, by question key
ANSWER_REASON = "svar_begrundelse:"
ANSWER_BASIS = "svar_grundlag:"


def _answer_values(form: Form) -> dict[str, dict[str, str]]:
    """The answers the form holds, by question key (for the decision and to show them again)."""
    out = {}
    for name in form.values:
        if name.startswith(ANSWER) and (key := name[len(ANSWER) :]):
            out[key] = {
                "answer": form.get(name),
                "reason": form.get(ANSWER_REASON + key).strip(),
                "basis": form.get(ANSWER_BASIS + key),
            }
    return out


def _answers(values: dict[str, dict[str, str]], errors: list[tuple[str, str]]) -> tuple[Answer, ...]:
    out = []
    for key, v in values.items():
        rule_id, _, partner = key.partition("@")
        if v["basis"] not in {b.value for b in AnswerBasis}:
            errors.append(("forhaandsvisning", "Vælg, hvad hvert svar bygger på."))
            break
        # Not validated here: the hub's own parser and decision service judge it.
        out.append(
            Answer.model_construct(
                rule_id=rule_id,
                partner_id=partner or None,
                answer=v["answer"],
                reason=v["reason"],
                basis=AnswerBasis(v["basis"]),
            )
        )
    return tuple(out)


def _decision(
    form: Form, ref: str, v: Viewer, revision: str | None
) -> tuple[TriageDecision | None, list[tuple[str, str]]]:
    """The decision the form describes; errors for what the form itself must hold."""
    errors = []
    level, pillar = form.get("niveau"), form.get("soejle")
    if level not in {x.value for x in Level}:
        errors.append(("niveau", "Vælg et niveau."))
    if pillar not in {x.value for x in Pillar}:
        errors.append(("soejle", "Vælg en søjle."))
    targets = []
    for value in form.all("modtager"):
        structure, _, partner = value.partition(":")
        if structure not in {x.value for x in Structure} or not partner:
            errors.append(("modtager", "En modtager er ukendt. Hent siden igen."))
            break
        targets.append(ReferralTarget.model_construct(structure=Structure(structure), partner_id=partner))
    meeting, meeting_errors = meeting_form.meeting_of(form, level)
    errors += meeting_errors
    answers = _answers(_answer_values(form), errors)
    if errors:
        return None, errors
    # Not validated here: the hub's own parser judges it (preview and decision alike).
    return TriageDecision.model_construct(
        report_ref=ref,
        level=Level(level),
        pillar=Pillar(pillar),
        referrals=tuple(targets),
        justification=form.get("begrundelse").strip(),
        description_justification=form.get("beskrivelse_begrundelse").strip(),
        purpose=Purpose.CRIME_PREVENTION,
        decided_by=v.username,
        revision_reason=revision,
        meeting=meeting,
        answers=answers,
    ), []


def _state(request: Request, ref: str) -> tuple[dict[str, Any], str | None, str | None, int]:
    """The report, its item's status and owner, and how many decisions it has."""
    with Session(deps_of(request).engine) as session:
        report = session.get(Report, ref)
        item = session.exec(select(TriageItem).where(TriageItem.report_ref == ref)).first()
        assert report is not None
        count = session.exec(select(func.count()).select_from(Decision).where(Decision.report_ref == ref)).one()
        return report.payload, item.status if item else None, item.claimed_by if item else None, int(count)



def _form_page(request: Request, v: Viewer, ref: str, status: int = 200, **extra: Any) -> Response:
    opened = open_case(request, v, ref)
    if isinstance(opened, Response):
        return opened
    view, owner, _ = opened
    extra.setdefault(
        "values",
        {
            "niveau": view.assessment.suggested_level,
            "soejle": view.assessment.suggested_pillar,
            "modtager": [],
            "begrundelse": "",
            "beskrivelse_begrundelse": "",
            **meeting_form.default_values(deps_of(request).registry),
            "svar": {},
        },
    )
    extra.setdefault("errors", [])
    return page(
        request,
        "decide.html",
        status,
        viewer=v,
        title=f"Afgør sag {ref}",
        v=view,
        owner=owner,
        targets=_targets(request),
        partners={p.id: p.name for p in deps_of(request).registry.partners},
        meeting_levels=meeting_form.levels(deps_of(request).registry),
        bases=da.ANSWER_BASIS,
        **extra,
    )


@router.get("/sager/{ref}/afgoer")
def decide_form(request: Request, v: Triage, ref: str) -> Response:
    return _form_page(request, v, ref)


@router.post("/sager/{ref}/afgoer")
async def decide(request: Request, v: Triage, ref: str, form: CheckedForm) -> Response:
    deps = deps_of(request)
    values = {
        "niveau": form.get("niveau"),
        "soejle": form.get("soejle"),
        "modtager": form.all("modtager"),
        "begrundelse": form.get("begrundelse"),
        "beskrivelse_begrundelse": form.get("beskrivelse_begrundelse"),
        **meeting_form.form_values(form),
        "svar": _answer_values(form),
    }
    revision = " ".join(form.get("revision").split()) or None
    values["revision"] = form.get("revision")
    decision, errors = _decision(form, ref, v, revision)
    payload, status, owner, count = await anyio.to_thread.run_sync(_state, request, ref)
    if owner != v.username:
        errors.append(("afgoerelse", "Du skal have taget sagen (eller overtaget den), før du kan afgøre den."))
    elif status == "decided" and not revision:
        errors.append(("revision", "Sagen er allerede afgjort. Skriv en begrundelse for revisionen."))
    elif form.get("afgoerelser") != str(count):
        errors.append(("afgoerelse", CHANGED))
    if errors or decision is None:
        return await anyio.to_thread.run_sync(lambda: _form_page(request, v, ref, 400, values=values, errors=errors))
    if form.get("handling") != "afgoer":
        preview = _preview(request, payload, decision)
        return await anyio.to_thread.run_sync(lambda: _form_page(request, v, ref, values=values, preview=preview))
    lock = _locks.setdefault(ref, asyncio.Lock())
    async with lock:  # a double submit waits here, then finds the case changed
        *_, now_count = await anyio.to_thread.run_sync(_state, request, ref)
        if now_count != count:
            errors = [("afgoerelse", CHANGED)]
            return await anyio.to_thread.run_sync(
                lambda: _form_page(request, v, ref, 409, values=values, errors=errors)
            )
        outcome = await send_and_wait(deps.client, deps.engine, deps.decision_source, decision, deps.outcome_timeout_s)
    if isinstance(outcome, Refused | Pending):
        code = 422 if isinstance(outcome, Refused) else 202
        # A refused decision with answers shows the preview again: its questions keep the answers
        # to correct (otherwise they would leave the form with the preview).
        again = _preview(request, payload, decision) if isinstance(outcome, Refused) and decision.answers else None
        return await anyio.to_thread.run_sync(
            lambda: _form_page(
                request,
                v,
                ref,
                code,
                values=values,
                refused=outcome if isinstance(outcome, Refused) else None,
                pending=outcome if isinstance(outcome, Pending) else None,
                preview=again,
            )
        )
    partners = {p.id: p.name for p in deps.registry.partners}
    return page(request, "outcome.html", viewer=v, title=f"Sag {ref} er afgjort", ref=ref, d=outcome, partners=partners)


def _preview(request: Request, payload: dict[str, Any], decision: TriageDecision) -> dict[str, Any]:
    """What the hub would do with this decision: its parser's refusal, or per recipient the
    decision service's verdict."""
    deps = deps_of(request)
    now = datetime.now(UTC)
    # The questions the recipients ask, from their verdicts without answers: shown while they stay
    # asked, also once answered. Answers to questions no longer asked (recipients changed) are left
    # out of the preview, and so of the form it shows.
    questions = list(deps.decisions.questions(payload, decision, now).values())
    asked = {q.key for q in questions}
    decision = decision.model_copy(update={"answers": tuple(a for a in decision.answers if key_of(a) in asked)})
    event = new_event(DECISION_MADE, decision, now=now, source=deps.decision_source, subject=decision.report_ref)
    entry = Entry(streams.DECISIONS, "0-0", {EVENT_FIELD.encode(): json.dumps(event).encode()})
    parsed = parse_decision(entry, deps.registry, now=now)
    if isinstance(parsed, Rejection):
        return {"refused": danish(parsed.code), "errors": parsed.errors, "questions": questions}
    lines = deps.decisions.preview(payload, parsed.data, now)
    if isinstance(lines, Rejection):
        return {"refused": danish(lines.code), "errors": lines.errors, "questions": questions}
    meeting = deps.decisions.preview_meeting(payload, parsed.data, now)
    if isinstance(meeting, Rejection):
        return {"refused": danish(meeting.code), "errors": meeting.errors, "questions": questions}
    return {"lines": lines, "meeting": meeting, "questions": questions}
