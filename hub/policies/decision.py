"""Decision values returned by the policies, and the one combining rule.

A decision is data: effect, matched rule ids, citations, reasons in Danish and English,
and the versions it was made under (`policy_version`: the policy's release and rule-table
hash, and the agreement's name, version and content hash). Withholding is a value, never an
exception.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple, TypeVar

from pydantic import BaseModel, ConfigDict

from hub.schemas.events import Informed, PlannedOffence, Reason
from hub.schemas.streams import Queue


class Effect(StrEnum):
    SHARE = "share"
    WITHHOLD = "withhold"
    ESCALATE = "escalate"  # needs a human decision, e.g. consent unclear


# Module names for the members: reading `Effect.SHARE` goes through the enum class each time.
_SHARE, _WITHHOLD, _ESCALATE = Effect.SHARE, Effect.WITHHOLD, Effect.ESCALATE


class Verdict(NamedTuple):
    """What one rule says about one request. A rule that does not apply returns None instead.

    `effect` None means the rule applies but decides nothing on its own (a condition that is
    met, or a note on the legal basis); it is recorded but does not take part in `combine`.
    """

    rule_id: str
    effect: Effect | None


def combine(verdicts: Iterable[Verdict]) -> Effect:
    """Default withhold; withhold wins over escalate, and escalate wins over share. Sharing
    needs at least one rule that allows it and none that forbids it or asks for a person.

    This is the hub's one combining rule: every disclosure is decided by it."""
    share = escalate = False
    for _, effect in verdicts:  # one pass, no set: this runs for every disclosure
        if effect is _WITHHOLD:
            return _WITHHOLD
        if effect is _ESCALATE:
            escalate = True
        elif effect is _SHARE:
            share = True
    if escalate:
        return _ESCALATE
    return _SHARE if share else _WITHHOLD


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


V = TypeVar("V", bound=_Value)
_setattr = object.__setattr__


def build(cls: type[V], values: dict[str, Any]) -> V:
    """A decision value from values the policy computed itself, skipping validation.

    The same as `cls.model_construct(**values)` with every field given (what pydantic does
    internally), at a fraction of the cost: decisions are built in the hot path. `values` must
    hold every field with a value of the declared type; a test checks that the result equals
    the validated model.
    """
    m = cls.__new__(cls)
    _setattr(m, "__dict__", values)
    _setattr(m, "__pydantic_fields_set__", set(values))
    _setattr(m, "__pydantic_extra__", None)
    _setattr(m, "__pydantic_private__", None)
    return m


class NotificationKind(StrEnum):
    POLICE_ALERT = "police_alert"  # Straffeloven § 141
    CHILDREN_NOTIFICATION = "children_notification"  # Barnets lov § 133 (underretning)


class Notification(_Value):
    """A notification the law requires. `grounds` are the rules that require it; `fields` what
    the recipient gets (the agreement's `notification_fields`)."""

    kind: NotificationKind
    rule_ids: tuple[str, ...]
    grounds: tuple[str, ...]
    fields: frozenset[str]
    offence: PlannedOffence | None = None  # a police alert: the planned offence and its sections
    informed: Informed | None = None  # a notification: who is to be told of it, and why


class Assessment(_Value):
    """The policy's answer to an incoming report. `citations[i]` is the source of `rule_ids[i]`."""

    accepted: bool
    queue: Queue | None
    suggested_level: str | None
    suggested_pillar: str | None
    notifications: tuple[Notification, ...]
    assess_by: datetime | None
    receipt_due_by: datetime | None
    rule_ids: tuple[str, ...]
    citations: tuple[str, ...]
    reasons: tuple[Reason, ...]
    policy_version: str


class Disclosure(_Value):
    """The policy's answer to 'may this recipient get this case, and which fields?'.

    `fields` is the exact set the recipient may get (empty unless `effect` is share).
    `rule_ids` holds every rule that applied, `citations[i]` the source of `rule_ids[i]`;
    `reasons` explains the effect (the rules that decided it, and for a share the notes on
    the fields).
    """

    effect: Effect
    structure: str
    partner_id: str
    fields: frozenset[str]
    # Purely private categories taken out of `concern.categories` for this recipient.
    withheld_categories: frozenset[str] = frozenset()
    # What the report holds that this recipient does not get, and the rule why: (field, or
    # `concern.categories:<category>`; rule id). For `hub policy explain`.
    removed: tuple[tuple[str, str], ...] = ()
    rule_ids: tuple[str, ...]
    citations: tuple[str, ...]
    reasons: tuple[Reason, ...]
    policy_version: str
