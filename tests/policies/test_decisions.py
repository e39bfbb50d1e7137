"""Decisions are frozen values that callers can store and compare; the combining rule as a table;
deadlines need an aware clock; and the shape hub/intake.py and hub/decisions.py rely on."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from hub.policies import Assessment, Disclosure, Effect, Verdict, combine
from hub.policies.deadlines import WorkingDays, assess_by
from hub.policies.examples import examples
from hub.policies.fields import project

S, W, E = Effect.SHARE, Effect.WITHHOLD, Effect.ESCALATE


@pytest.mark.parametrize(("effects", "expected"), [
    ((), W),  # default withhold
    ((None,), W),  # conditions alone decide nothing
    ((S,), S),
    ((S, None), S),
    ((S, W), W),  # withhold wins over share
    ((W, S, S), W),
    ((S, E), E),
    ((E, W), W),  # withhold wins over escalate
    ((E,), E),
], ids=["nothing", "only-conditions", "share", "share-and-condition", "share-withhold", "withhold-first",
        "share-escalate", "escalate-withhold", "escalate"])
def test_combining_rule(effects: tuple[Effect | None, ...], expected: Effect) -> None:
    assert combine(Verdict(f"R{i}", e) for i, e in enumerate(effects)) is expected


@pytest.mark.parametrize("example", examples(), ids=lambda e: e.rule_id)
def test_decisions_are_frozen_valid_values(example: object) -> None:
    d = example.run()  # type: ignore[attr-defined]
    cls = type(d)
    assert cls in (Assessment, Disclosure)
    assert cls.model_validate(d.model_dump()) == d
    assert cls.model_validate_json(d.model_dump_json()) == d
    with pytest.raises(ValidationError):
        d.policy_version = "tampered"
    assert hash(d) == hash(cls.model_validate(d.model_dump()))


def test_the_assessment_fits_what_intake_stores_and_sends() -> None:
    from hub.policies.examples import example_for

    e = example_for("STRFL141")
    a = e.run()
    assert isinstance(a, Assessment)
    stored = a.model_dump(mode="json")  # hub/intake.py stores this
    assert stored["queue"] == "urgent" and stored["suggested_level"] == "III"
    for n in a.notifications:  # hub/intake.py pairs citations with rule ids, strictly
        basis = tuple(c for c, r in zip(a.citations, a.rule_ids, strict=True) if r in n.rule_ids)
        assert basis and set(project(e.report, n.fields)) <= n.fields
        assert [r for r in a.reasons if r.rule_id in n.rule_ids]


def test_deadlines_need_an_aware_time() -> None:
    receipt_due_by = WorkingDays().receipt_due_by
    with pytest.raises(ValueError, match="timezone-aware"):
        assess_by(datetime(2026, 11, 20, 10))
    with pytest.raises(ValueError, match="timezone-aware"):
        receipt_due_by(datetime(2026, 11, 20, 10))
    assert receipt_due_by(datetime(2026, 11, 20, 10, tzinfo=UTC)).isoformat() == "2026-11-30T23:59:59+01:00"
