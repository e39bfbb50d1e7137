"""A referral's states after it was sent (`hub.policies.lifecycle`): only forward, one state per step."""

from __future__ import annotations

import pytest

from hub.policies import lifecycle as lc


@pytest.mark.parametrize(
    ("recorded", "new"),
    [
        ([], lc.RECEIVED),
        ([], lc.ACCEPTED),  # accepting says it was received
        ([], lc.DECLINED),
        ([lc.RECEIVED], lc.ACCEPTED),
        ([lc.RECEIVED], lc.DECLINED),
        ([lc.RECEIVED, lc.ACCEPTED], lc.COMPLETED),
        ([lc.ACCEPTED], lc.COMPLETED),
        ([], lc.ACKNOWLEDGED),  # a police alert
    ],
)
def test_forward_steps_are_allowed(recorded: list[str], new: str) -> None:
    assert lc.refusal(recorded, new) is None


@pytest.mark.parametrize(
    ("recorded", "new", "says"),
    [
        ([lc.RECEIVED], lc.RECEIVED, "already"),  # the same state under another event id
        ([lc.ACCEPTED], lc.RECEIVED, "only go forward"),
        ([lc.ACCEPTED], lc.DECLINED, "only go forward"),  # never both
        ([lc.DECLINED], lc.ACCEPTED, "only go forward"),
        ([lc.ACCEPTED, lc.COMPLETED], lc.COMPLETED, "already"),
        ([], lc.COMPLETED, "Only an accepted referral"),
        ([lc.RECEIVED], lc.COMPLETED, "Only an accepted referral"),
        ([lc.DECLINED], lc.COMPLETED, "Only an accepted referral"),
        ([lc.ACKNOWLEDGED], lc.ACKNOWLEDGED, "already"),
    ],
)
def test_anything_else_is_refused_with_a_reason(recorded: list[str], new: str, says: str) -> None:
    refusal = lc.refusal(recorded, new)
    assert refusal is not None and says in refusal


def test_the_current_state_is_that_of_the_highest_step() -> None:
    assert lc.current([]) == lc.ISSUED
    assert lc.current([], initial=lc.RAISED) == lc.RAISED
    assert lc.current([lc.COMPLETED, lc.RECEIVED, lc.ACCEPTED]) == lc.COMPLETED
    assert lc.current([lc.RECEIVED, lc.DECLINED]) == lc.DECLINED


def test_every_state_has_a_danish_label() -> None:
    assert set(lc.STEP) | {lc.ISSUED, lc.RAISED} == set(lc.STATE_DA)
