"""A referral's states after it was issued, and which update may follow which (pure).

    issued → received → accepted | declined;  accepted → completed
    (a police alert: raised → acknowledged)

Only forward. A partner may skip `received` (accepting says it received it). Each step holds at
most one state: `accepted` and `declined` are the same step, so a referral is never both, and a
state already recorded cannot be recorded again under another event id: that is refused
(`invalid_transition`), so the partner learns that its second update did not count. (The same
event id again is a duplicate, answered with the first one's receipt: not this module's concern.)
The store keeps one update per (referral, step) as a unique key, so two processes racing
cannot both record a step either.
"""

from __future__ import annotations

from collections.abc import Iterable

ISSUED, RECEIVED, ACCEPTED, DECLINED, COMPLETED = "issued", "received", "accepted", "declined", "completed"
RAISED, ACKNOWLEDGED = "raised", "acknowledged"

# The step of each recorded state: one update per referral and step.
STEP: dict[str, int] = {RECEIVED: 1, ACCEPTED: 2, DECLINED: 2, COMPLETED: 3, ACKNOWLEDGED: 1}
# States that need another one before them (not merely an earlier step).
_REQUIRES: dict[str, str] = {COMPLETED: ACCEPTED}
# Referral states that acknowledge it (meet its clock): any the partner records.
REFERRAL_STATES = (RECEIVED, ACCEPTED, DECLINED, COMPLETED)

# Danish labels for staff (CLI, workspace).
STATE_DA: dict[str, str] = {
    ISSUED: "sendt, ikke kvitteret",
    RECEIVED: "modtaget",
    ACCEPTED: "accepteret",
    DECLINED: "afvist",
    COMPLETED: "afsluttet",
    RAISED: "sendt, ikke kvitteret",
    ACKNOWLEDGED: "kvitteret",
}


def current(recorded: Iterable[str], *, initial: str = ISSUED) -> str:
    """The current state: the recorded state of the highest step (`initial` if none)."""
    best = max(recorded, key=lambda s: STEP[s], default=None)
    return initial if best is None else best


def refusal(recorded: Iterable[str], new: str) -> str | None:
    """Why `new` may not follow the states `recorded` for one referral (an English message;
    the code is `invalid_transition`), or None if it may."""
    states = set(recorded)
    now = current(states)
    if now != ISSUED and STEP[new] <= STEP[now]:
        if new == now:
            return f"The referral is {now} already; an update is recorded once."
        return f"The referral is {now}; it cannot become {new} (updates only go forward)."
    if (needed := _REQUIRES.get(new)) is not None and needed not in states:
        return f"Only an accepted referral can become {new}; this one is {now}."
    return None
