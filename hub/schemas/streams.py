"""Redis stream names and the hub's consumer-group names, spelled once.

Which streams exist, who writes and reads them, what they carry, which groups read them and
how long they are kept is the stream catalogue (`hub.schemas.catalogue`), built on these.
Keys are flat and carry their own version, so a Redis Cluster can shard them by key.
"""

from __future__ import annotations

from enum import StrEnum

DECISIONS = "hub.decisions.v1"
POLICE_ALERTS = "hub.alerts.police.v1"
CHILDREN_NOTIFICATIONS = "hub.notifications.children.v1"
REFERRALS_WITHHELD = "hub.referrals.withheld.v1"
DEADLETTER = "hub.deadletter.v1"
DEADLINES = "hub.deadlines.v1"
AUDIT_ANCHOR = "hub.audit.anchor.v1"

# Consumer groups the hub itself reads with.
INTAKE_GROUP = "hub-intake"
DECISIONS_GROUP = "hub-decisions"
# Reads every intake entry a second time, for planned-crime reports only (see `hub.bootstrap`).
URGENT_GROUP = "hub-urgent"
# Reads the partners' updates about referrals and alerts (`hub.services.referral_updates`).
REFERRAL_UPDATES_GROUP = "hub-referral-updates"


class Queue(StrEnum):
    """DKE's triage queues: the three PRO pillars plus `urgent`."""

    URGENT = "urgent"
    REACTIVE = "reactive"
    PROACTIVE = "proactive"
    OPERATIVE = "operative"


def intake(source_id: str) -> str:
    return f"hub.intake.{source_id}.v1"


def receipts(source_id: str) -> str:
    return f"hub.receipts.{source_id}.v1"


def triage(queue: Queue | str) -> str:
    return f"hub.triage.{Queue(queue).value}.v1"


def referrals(structure: str, partner_id: str) -> str:
    return f"hub.referrals.{structure}.{partner_id}.v1"


def referral_updates(partner_id: str) -> str:
    """What a partner writes about the referrals (and the police: alerts) it received."""
    return f"hub.referral-updates.{partner_id}.v1"


def referral_receipts(partner_id: str) -> str:
    """The hub's answers to a partner's updates (not `receipts()`: a partner id may equal a
    source id, and a source's reporting system must not get a partner's answers, nor the
    partner's ACL user a source's receipts)."""
    return f"hub.referral-receipts.{partner_id}.v1"


def partner_of_updates(stream: str) -> str | None:
    """The partner id an update stream belongs to, or None for any other stream."""
    prefix, suffix = "hub.referral-updates.", ".v1"
    if stream.startswith(prefix) and stream.endswith(suffix):
        return stream[len(prefix) : -len(suffix)] or None
    return None


def source_of_intake(stream: str) -> str | None:
    """The source id an intake stream belongs to, or None for any other stream."""
    prefix, suffix = "hub.intake.", ".v1"
    if stream.startswith(prefix) and stream.endswith(suffix):
        middle = stream[len(prefix) : -len(suffix)]
        return middle or None
    return None
