"""Escalated questions and a person's answers (issue #18 point 7).

A rule that escalates leaves a judgment to a person and declares the question it asks
(`hub.policies.rules.QUESTIONS`). Here, for a decision: which questions its referral targets ask
(from the policy's verdict without answers), whether the decision's answers answer exactly those
(an answer to a question that was not asked is refused, never silently dropped: a typo in a rule id
or a recipient must not pass for an answer), which answers apply to one target (its
`Request.answers`), and what the referral event and the disclosure log record of them: the
answering rule, who answered and the basis; the written reason stays with the decision row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from hub.policies import Disclosure
from hub.policies.agreement import Derived
from hub.policies.rules import QUESTIONS, REASONS, Question
from hub.schemas.decision import Answer, TriageDecision
from hub.schemas.events import AnswerNote, ErrorItem
from hub.services.envelope import Rejection


@dataclass(frozen=True, slots=True)
class Asked:
    """One question a decision must answer: the asking rule, the recipient where the question is
    asked per recipient, the Danish text and the allowed answers (value, Danish label)."""

    rule_id: str
    partner_id: str | None
    da: str
    choices: tuple[tuple[str, str], ...]

    @property
    def key(self) -> str:
        """How the CLI and the form name it: `RULE_ID`, or `RULE_ID@partner` per recipient."""
        return self.rule_id if self.partner_id is None else f"{self.rule_id}@{self.partner_id}"


def key_of(a: Answer) -> str:
    return a.rule_id if a.partner_id is None else f"{a.rule_id}@{a.partner_id}"


def asked_by(verdict: Disclosure, derived: Derived) -> list[Asked]:
    """The questions one target's unanswered verdict asks: the escalating rules among its rule ids
    (also when another rule withholds: the answer is recorded, and never overrides it)."""
    out = []
    for rule_id in verdict.rule_ids:
        q: Question | None = QUESTIONS.get(rule_id)
        if q is not None:
            out.append(
                Asked(
                    rule_id,
                    verdict.partner_id if q.per_recipient else None,
                    q.da,
                    q.offered(derived.ssp_max_age, derived.ssp_plus_max_age),
                )
            )
    return out


def merged(asked: Iterable[Asked]) -> dict[str, Asked]:
    """The questions of several targets, each once (a question about the person is asked once)."""
    return {a.key: a for a in asked}


def for_target(d: TriageDecision, partner_id: str) -> dict[str, str]:
    """The answers that apply to one target: `Request.answers`."""
    return {a.rule_id: a.answer for a in d.answers if a.partner_id is None or a.partner_id == partner_id}


def check(d: TriageDecision, asked: dict[str, Asked], min_reason_chars: int) -> Rejection | None:
    """Refuse answers that do not answer exactly the questions asked: an unasked question or one
    answered twice (`unasked_question`), a value that is not an allowed answer (`invalid_answer`),
    a reason shorter than the agreement's minimum justification (`answer_reason_missing`)."""
    errors: dict[str, list[ErrorItem]] = {"unasked_question": [], "invalid_answer": [], "answer_reason_missing": []}
    seen: set[str] = set()
    for i, a in enumerate(d.answers):
        field, key = f"data.answers.{i}", key_of(a)
        q = asked.get(key)
        if q is None or key in seen:
            problem = "answered twice" if key in seen else f"no referral target asks {key}"
            errors["unasked_question"].append(ErrorItem(field=f"{field}.rule_id", problem=problem))
        elif a.answer not in {value for value, _ in q.choices}:
            allowed = ", ".join(value for value, _ in q.choices)
            errors["invalid_answer"].append(ErrorItem(field=f"{field}.answer", problem=f"allowed: {allowed}"))
        elif len(a.reason.strip()) < min_reason_chars:
            problem = f"at least {min_reason_chars} characters"
            errors["answer_reason_missing"].append(ErrorItem(field=f"{field}.reason", problem=problem))
        seen.add(key)
    for code, items in errors.items():
        if items:
            return Rejection(code, _ENGLISH[code], tuple(items))
    return None


_ENGLISH = {
    "unasked_question": "An answer names a question no referral target of the decision asks.",
    "invalid_answer": "An answer is not one of the question's allowed answers.",
    "answer_reason_missing": "An answer needs a written reason of at least the minimum justification length.",
}


def notes(d: TriageDecision, partner_id: str, verdict: Disclosure) -> tuple[AnswerNote, ...]:
    """What a target's event carries of the answers the policy decided with: per answer the
    answering rule (one of the question's, among the verdict's rule ids), who and the basis."""
    out = []
    for a in d.answers:
        if a.partner_id is not None and a.partner_id != partner_id:
            continue
        q = QUESTIONS.get(a.rule_id)
        answering = [c.rule.id for c in q.choices if c.rule.id in verdict.rule_ids] if q is not None else []
        if answering:
            out.append(
                AnswerNote(
                    question=a.rule_id,
                    answer=a.answer,
                    rule_id=answering[0],
                    answered_by=d.decided_by,
                    basis=a.basis.value,
                )
            )
    return tuple(out)


def logged_reasons(verdict: Disclosure, answered: tuple[AnswerNote, ...]) -> list[dict[str, Any]]:
    """The disclosure log row's reasons: the verdict's, and for each answer the answering rule's
    reason with who answered, the answer and its basis (added where the rule did not decide the
    effect, e.g. a withhold by another rule), so the chained row itself says a person answered."""
    reasons: list[dict[str, Any]] = [r.model_dump() for r in verdict.reasons]
    by_rule = {r["rule_id"]: r for r in reasons}
    for n in answered:
        entry = by_rule.get(n.rule_id)
        if entry is None:
            entry = REASONS[n.rule_id].model_dump()
            reasons.append(entry)
        entry.update(question=n.question, answer=n.answer, answered_by=n.answered_by, basis=n.basis)
    return reasons
