"""The answers of a decision against the questions its targets ask (`hub.services.answers`):
which answers reach which target, and the stable codes of answers that do not fit."""

from __future__ import annotations

from hub.policies import PolicyEngine, Request
from hub.policies.examples import DEPARTMENT, EXAMPLE_AGREEMENT, EXAMPLE_NOW, JUSTIFICATION, PSYCHIATRY, report
from hub.schemas.decision import Answer, AnswerBasis, Level, Pillar, ReferralTarget, Structure, TriageDecision
from hub.services import answers

WHY = "Oplyst af forældrene på mødet i dag."
ENGINE = PolicyEngine(EXAMPLE_AGREEMENT)


def _decision(*given: Answer) -> TriageDecision:
    return TriageDecision(
        report_ref="DKE-1",
        level=Level.I,
        pillar=Pillar.REACTIVE,
        referrals=(ReferralTarget(structure=Structure.SSP, partner_id="kultur-fritid"),),
        justification=JUSTIFICATION,
        decided_by="TT",
        answers=given,
    )


def _answer(rule_id: str, value: str, partner: str | None = None, reason: str = WHY) -> Answer:
    return Answer(rule_id=rule_id, partner_id=partner, answer=value, reason=reason, basis=AnswerBasis.GUARDIANS)


UNCLEAR = "RPL115-OUTSIDE-CONSENT-UNCLEAR"


def _asked() -> dict[str, answers.Asked]:
    verdict = ENGINE.disclose(
        Request(report=report(15, consent={"guardians": True}), recipient=DEPARTMENT, structure=Structure.SSP,
                purpose="crime_prevention", justification=JUSTIFICATION),
        EXAMPLE_NOW,
    )
    return answers.merged(answers.asked_by(verdict, ENGINE.derived))


def test_a_question_per_recipient_is_keyed_by_recipient_and_reaches_only_it() -> None:
    asked = _asked()
    assert list(asked) == [f"{UNCLEAR}@kultur-fritid"]
    assert [v for v, _ in asked[f"{UNCLEAR}@kultur-fritid"].choices] == ["yes", "no"]
    d = _decision(_answer(UNCLEAR, "yes", "kultur-fritid"), _answer("RPL115-1-2-CHECK", "no"))
    assert answers.for_target(d, "kultur-fritid") == {UNCLEAR: "yes", "RPL115-1-2-CHECK": "no"}
    assert answers.for_target(d, "psykiatri") == {"RPL115-1-2-CHECK": "no"}


def test_answers_that_do_not_fit_are_refused_with_a_stable_code() -> None:
    asked, key = _asked(), f"{UNCLEAR}@kultur-fritid"
    assert answers.check(_decision(_answer(UNCLEAR, "yes", "kultur-fritid")), asked, 10) is None
    cases = {
        "unasked_question": _decision(_answer(UNCLEAR, "yes")),  # not per recipient: another key
        "invalid_answer": _decision(_answer(UNCLEAR, "ssp", "kultur-fritid")),
        "answer_reason_missing": _decision(_answer(UNCLEAR, "yes", "kultur-fritid", reason="  ja  ")),
    }
    for code, d in cases.items():
        refused = answers.check(d, asked, 10)
        assert refused is not None and refused.code == code, (code, refused)
        assert refused.errors and refused.errors[0].field.startswith("data.answers.0")
    twice = _decision(_answer(UNCLEAR, "yes", "kultur-fritid"), _answer(UNCLEAR, "no", "kultur-fritid"))
    refused = answers.check(twice, asked, 10)
    assert refused is not None and refused.code == "unasked_question" and refused.errors[0].field == (
        "data.answers.1.rule_id"
    )
    assert key in asked


def test_the_event_notes_name_the_answering_rule_who_and_the_basis_not_the_reason() -> None:
    d = _decision(_answer("RPL115-1-2-CHECK", "yes"))
    verdict = ENGINE.disclose(
        Request(report=report(35, subject={"psychiatric_contact": True}), recipient=PSYCHIATRY,
                structure=Structure.PSP, purpose="crime_prevention", justification=JUSTIFICATION,
                answers=answers.for_target(d, "psykiatri")),
        EXAMPLE_NOW,
    )
    [note] = answers.notes(d, "psykiatri", verdict)
    assert note.model_dump() == {"question": "RPL115-1-2-CHECK", "answer": "yes", "rule_id": "RPL115-1-2-ANSWERED",
                                 "answered_by": "TT", "basis": "guardians"}
    logged = answers.logged_reasons(verdict, (note,))
    [entry] = [r for r in logged if r["rule_id"] == "RPL115-1-2-ANSWERED"]
    assert entry["answered_by"] == "TT" and WHY not in str(logged)
