"""Escalations answered by a person (issue #18 point 7): every escalating rule asks a question,
every answer decides under a declared rule, and the engine's memo tables keep answers apart."""

from __future__ import annotations

from hub.policies import PolicyEngine, Request
from hub.policies.disclose import DISCLOSE_RULE_IDS
from hub.policies.examples import EXAMPLE_AGREEMENT, EXAMPLE_NOW, JUSTIFICATION, PSYCHIATRY, report
from hub.policies.rules import QUESTIONS, RULES, Outcome
from hub.schemas.decision import Structure
from hub.schemas.report import Purpose


def test_every_escalating_rule_asks_a_question_with_declared_answers() -> None:
    escalating = {r.id for r in RULES.values() if r.outcome is Outcome.ESCALATE}
    assert escalating == set(QUESTIONS)
    for q in QUESTIONS.values():
        assert q.da.endswith("?") and len(q.choices) >= 2, q.rule.id
        assert len({c.value for c in q.choices}) == len(q.choices), q.rule.id
        for c in q.choices:
            assert c.rule.id in DISCLOSE_RULE_IDS and c.rule.outcome is not Outcome.ESCALATE, c.rule.id


def test_no_ssp_plus_band_offers_no_ssp_plus_answer() -> None:
    age = QUESTIONS["RPL115-1-1-AGE"]
    assert [v for v, _ in age.offered(18, 25)] == ["ssp", "ssp_plus", "older"]
    assert [v for v, _ in age.offered(18, 18)] == ["ssp", "older"]
    assert dict(age.offered(18, 25))["ssp_plus"] == "Fra 18 til under 25 år (SSP+)"


def _request(answers: dict[str, str]) -> Request:
    return Request(report=report(35, subject={"psychiatric_contact": True}), recipient=PSYCHIATRY,
                   structure=Structure.PSP, purpose=Purpose.CRIME_PREVENTION, justification=JUSTIFICATION,
                   answers=answers)


def test_the_memo_tables_keep_answered_and_unanswered_requests_apart() -> None:
    """One engine decides the same case unanswered, answered yes and answered no, in turns: each
    answer gives its own decision, the same a fresh engine gives."""
    shared = PolicyEngine(EXAMPLE_AGREEMENT)
    seen = {}
    for answers in ({}, {"RPL115-1-2-CHECK": "yes"}, {"RPL115-1-2-CHECK": "no"}, {}, {"RPL115-1-2-CHECK": "yes"}):
        d = shared.disclose(_request(answers), EXAMPLE_NOW)
        assert d == PolicyEngine(EXAMPLE_AGREEMENT).disclose(_request(answers), EXAMPLE_NOW)
        seen[answers.get("RPL115-1-2-CHECK")] = (d.effect.value, d.rule_ids[0])
    assert seen == {
        None: ("escalate", "RPL115-1-2-CHECK"),
        "yes": ("share", "RPL115-1-2-ANSWERED"),
        "no": ("withhold", "RPL115-1-2-NOT-VULNERABLE"),
    }
