"""What a new agreement would change: re-decide the stored referrals and compare.

`load_referrals` reads the disclosure log's referral rows with their report and triage
decision; `resimulate` (pure) decides each again with a policy engine made from a new agreement and returns the
ones whose effect or field set would differ. Each referral is re-decided at the time it
was made, unless a time is given, so the comparison shows the agreement's effect and not
the passing of time (people growing older, release windows closing).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from hub.config.registry import Registry
from hub.policies import Disclosure, Effect, PolicyEngine, Request
from hub.policies.fields import project
from hub.schemas.decision import Structure
from hub.schemas.report import ConcernReport, Purpose
from hub.store.models import Decision, Report
from hub.store.models import Disclosure as DisclosureRow


@dataclass(frozen=True, slots=True)
class StoredReferral:
    """One referral decision as the disclosure log holds it."""

    ref: str
    report_ref: str
    partner_id: str
    structure: str | None
    effect: str
    fields: tuple[str, ...]
    rule_ids: tuple[str, ...]
    policy_version: str
    decided_at: datetime
    purpose: str
    justification: str
    report: dict[str, Any] | None  # None: erased after its retention period
    description_justification: str = ""


@dataclass(frozen=True, slots=True)
class Change:
    stored: StoredReferral
    effect: str | None  # None: could not be decided again (see `problem`)
    fields: tuple[str, ...]
    rule_ids: tuple[str, ...]
    problem: str | None = None

    @property
    def added(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.fields) - set(self.stored.fields)))

    @property
    def removed(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.stored.fields) - set(self.fields)))


@dataclass(frozen=True, slots=True)
class SimulationResult:
    total: int
    changes: tuple[Change, ...]
    policy_version: str


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; the hub stores UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def load_referrals(engine: Engine) -> list[StoredReferral]:
    """Every referral row of the disclosure log, oldest first, with its report and decision."""
    query = (
        select(DisclosureRow, Report, Decision)
        .join(Report, col(Report.ref) == col(DisclosureRow.report_ref))
        .join(Decision, col(Decision.id) == col(DisclosureRow.decision_id), isouter=True)
        .where(DisclosureRow.kind == "referral")
        .order_by(col(DisclosureRow.id))
    )
    out = []
    with Session(engine) as s:
        for row, report, decision in s.exec(query):
            out.append(StoredReferral(
                ref=row.ref, report_ref=row.report_ref, partner_id=row.recipient, structure=row.structure,
                effect=row.effect, fields=tuple(sorted(row.fields or ())), rule_ids=tuple(row.rule_ids or ()),
                policy_version=row.policy_version,
                decided_at=_aware(decision.decided_at if decision is not None else row.created_at),
                purpose=row.purpose, justification=decision.justification if decision is not None else "",
                report=report.payload,
                description_justification=decision.description_justification if decision is not None else "",
            ))
    return out


def redecide(stored: StoredReferral, registry: Registry, policy: PolicyEngine,
             now: datetime | None = None) -> Change:
    """Decide one stored referral again with `policy` (at its own time unless `now`)."""
    if stored.report is None:
        return Change(stored, None, (), (), problem="henvendelsen er slettet efter slettefristen")
    partner = registry.partner(stored.partner_id)
    if partner is None:
        return Change(stored, None, (), (), problem="partneren findes ikke længere i registeret")
    try:
        report = ConcernReport.model_validate(stored.report)
        structure = Structure(stored.structure or "")
        purpose = Purpose(stored.purpose)
    except (ValidationError, ValueError):
        return Change(stored, None, (), (), problem="den gemte henvendelse kan ikke læses med det nuværende skema")
    decision: Disclosure = policy.disclose(
        Request(report=report, recipient=partner.recipient, structure=structure, purpose=purpose,
                justification=stored.justification,
                description_justification=stored.description_justification),
        now or stored.decided_at,
    )
    # Compare what would actually be sent: the fields the report holds a value for.
    fields = tuple(sorted(project(report, decision.fields))) if decision.effect is Effect.SHARE else ()
    return Change(stored, decision.effect.value, fields, decision.rule_ids)


def resimulate(stored: Sequence[StoredReferral], registry: Registry, policy: PolicyEngine,
               now: datetime | None = None) -> SimulationResult:
    """The stored referrals whose effect or field set would change under `policy`'s agreement."""
    changes = [c for c in (redecide(s, registry, policy, now) for s in stored) if changed(c)]
    return SimulationResult(total=len(stored), changes=tuple(changes), policy_version=policy.policy_version)


def changed(c: Change) -> bool:
    return c.problem is not None or c.effect != c.stored.effect or c.fields != c.stored.fields


def summarise(changes: Iterable[Change]) -> dict[str, int]:
    """Counts per kind of change: 'share -> withhold' and so on."""
    counts: dict[str, int] = {}
    for c in changes:
        key = f"{c.stored.effect} -> {c.effect or 'fejl'}"
        if c.effect == c.stored.effect:
            key = f"{c.effect}: andre felter"
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))
