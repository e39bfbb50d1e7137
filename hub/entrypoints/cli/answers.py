"""`hub triage decide --answer`: a person's answers to the questions the policy escalated (issue
#18 point 7), read from the command line, and how the outcome names them. What the hub asks is
declared with the rules (`hub.policies.rules.QUESTIONS`); which questions a decision's recipients
actually ask the hub says itself (`unasked_question`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NoReturn

from pydantic import ValidationError

from hub.policies.rules import ANSWERING_RULE_IDS, QUESTIONS, REASONS
from hub.schemas.decision import Answer, AnswerBasis, ReferralTarget

ANSWER_HELP = (
    "Answer a question the policy escalated: RULE_ID=VALUE, or RULE_ID@PARTNER=VALUE where it is asked per "
    "recipient (repeatable; the outcome of a decision without it shows the questions)"
)
REASON_HELP = "Why you answer so (one for all answers, or one per --answer)"
BASIS_HELP = (
    "What the answer rests on: records, person, guardians, partner or assessment (default: assessment, your own "
    "professional judgment; one for all, or one per --answer)"
)


class AnswerError(ValueError):
    """A bad `--answer` (or its reason or basis): the Danish one-line message."""


def _fail(message: str) -> NoReturn:
    raise AnswerError(message)


def parse_answers(
    items: list[str], reasons: list[str], bases: list[str], targets: list[ReferralTarget]
) -> tuple[Answer, ...]:
    """`--answer RULE_ID=VALUE` (`RULE_ID@PARTNER=VALUE` for a question asked per recipient), with
    one `--answer-reason` (and `--answer-basis`) for all answers or one per answer, in order. Which
    questions the hub actually asks it says itself (`unasked_question`)."""
    if not items:
        if reasons or bases:
            _fail("--answer-reason og --answer-basis hører til et --answer.")
        return ()
    for name, given in (("--answer-reason", reasons), ("--answer-basis", bases)):
        if len(given) > 1 and len(given) != len(items):
            _fail(f"{name}: angiv én for alle svar eller én pr. --answer ({len(items)}).")
    partners = {t.partner_id for t in targets}
    out = []
    for i, item in enumerate(items):
        key, sep, value = item.partition("=")
        rule_id, at, partner = key.partition("@")
        if not sep or not rule_id or not value or (at and not partner):
            _fail(f"--answer {item}: skriv REGEL=SVAR, eller REGEL@PARTNER=SVAR for et spørgsmål pr. modtager.")
        q = QUESTIONS.get(rule_id)
        if q is None:
            _fail(f"--answer {item}: {rule_id} stiller intet spørgsmål. Spørgsmål: {', '.join(sorted(QUESTIONS))}.")
        if value not in {c.value for c in q.choices}:
            _fail(f"--answer {item}: ugyldigt svar. Tilladte svar: {', '.join(c.value for c in q.choices)}.")
        if q.per_recipient and not partner:
            _fail(f"--answer {item}: spørgsmålet stilles pr. modtager; skriv {rule_id}@PARTNER={value}.")
        if partner and not q.per_recipient:
            _fail(f"--answer {item}: spørgsmålet gælder personen, ikke en modtager; skriv {rule_id}={value}.")
        if partner and partner not in partners:
            _fail(f"--answer {item}: {partner} er ikke blandt modtagerne (--refer).")
        if not reasons:
            _fail("--answer kræver --answer-reason: skriv, hvorfor du svarer sådan.")
        basis = (bases[i] if len(bases) > 1 else bases[0]) if bases else AnswerBasis.ASSESSMENT.value
        if basis not in {b.value for b in AnswerBasis}:
            _fail(f"--answer-basis {basis}: ukendt grundlag. Kendte: {', '.join(b.value for b in AnswerBasis)}.")
        reason = reasons[i] if len(reasons) > 1 else reasons[0]
        try:
            out.append(
                Answer(
                    rule_id=rule_id,
                    partner_id=partner or None,
                    answer=value,
                    reason=reason,
                    basis=AnswerBasis(basis),
                )
            )
        except ValidationError as exc:
            problem = exc.errors()[0]
            _fail(f"--answer {item}: {'.'.join(map(str, problem['loc']))}: {problem['msg']}.")
    return tuple(out)


def answered_lines(rule_ids: Iterable[str], by: str) -> list[str]:
    """A shared recipient's answering rules: who answered, and the rule's Danish reason."""
    return [f"    Besvaret af {by}: [{r}] {REASONS[r].da}" for r in rule_ids if r in ANSWERING_RULE_IDS]


def question_lines(rule_ids: Iterable[str], recipient: str) -> list[str]:
    """An escalated recipient's open questions, and how to answer them in a revision."""
    out = []
    for rule_id in (r for r in rule_ids if r in QUESTIONS):
        q = QUESTIONS[rule_id]
        key = f"{rule_id}@{recipient}" if q.per_recipient else rule_id
        choices = "|".join(c.value for c in q.choices)
        out.append(
            f"    Spørgsmål: {q.da} Svar i en revision: --answer {key}={choices} "
            '--answer-reason "..." --revision-reason "..."'
        )
    return out
