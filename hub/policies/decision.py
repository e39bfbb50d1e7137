"""Decision values returned by the policies, and the one combining rule.

A decision is data: effect, matched rule ids, citations, reasons in Danish and English,
and the versions it was made under. Withholding is a value, never an exception.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from hub.schemas.events import Reason
from hub.schemas.streams import Queue


class Effect(StrEnum):
    SHARE = "share"
    WITHHOLD = "withhold"
    ESCALATE = "escalate"  # needs a human decision, e.g. consent unclear


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Verdict(_Value):
    """What one rule says about one case. Rules that do not apply return None instead."""

    rule_id: str
    effect: Effect
    reason: Reason
    citation: str


def combine(verdicts: Iterable[Verdict]) -> Effect:
    """The combining rule, stated once: default withhold; withhold wins over escalate,
    escalate wins over share. Sharing needs at least one rule that allows it and none
    that forbids it."""
    effects = {v.effect for v in verdicts}
    if Effect.WITHHOLD in effects or not effects:
        return Effect.WITHHOLD
    if Effect.ESCALATE in effects:
        return Effect.ESCALATE
    return Effect.SHARE


class NotificationKind(StrEnum):
    POLICE_ALERT = "police_alert"  # Straffeloven § 141
    CHILDREN_NOTIFICATION = "children_notification"  # Barnets lov § 133 (underretning)


class Notification(_Value):
    kind: NotificationKind
    rule_ids: tuple[str, ...]
    grounds: tuple[str, ...]
    fields: frozenset[str]


class Assessment(_Value):
    """The policy's answer to an incoming report."""

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
    """The policy's answer to 'may this recipient get this case, and which fields?'."""

    effect: Effect
    structure: str
    partner_id: str
    fields: frozenset[str]
    rule_ids: tuple[str, ...]
    citations: tuple[str, ...]
    reasons: tuple[Reason, ...]
    policy_version: str
