"""The benchmark's workload: realistic, obviously fake concern reports and triage decisions.

Reports come from every kind of source in the registry (schools, police, social services,
psychiatry, the prison and probation service, a municipal department), about children,
young people and adults, or about no one in particular (area observations). Some children
are at risk (a notification to social services, Barnets lov § 133), some reports are about a
planned serious crime (an alert to the police, Straffeloven § 141), a few are sent for an
unlawful purpose (refused). Subjects recur, so cases are found as well as created.

Everything is built and encoded before a clock starts; the expected outcome of each report
(accepted or not, which notifications) comes from the same policy the hub runs.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from hub.config.registry import Registry
from hub.policies import Agreement, PolicyEngine
from hub.schemas import streams
from hub.schemas.cpr import make_cpr
from hub.schemas.decision import DECISION_MADE
from hub.schemas.report import CONCERN_REPORTED, ConcernReport
from hub.services.envelope import report_ref

DECISION_SOURCE = "dke-triage"
JUSTIFICATION = (
    "Eleven har brug for en samlet indsats fra skole og sagsbehandler; deling er nødvendig "
    "for at koordinere en handleplan (benchmark)."
)
DECISION_TARGET = ("ssp", "bkv")  # a child at risk, referred to social services in SSP

_TEXT = (
    "Eleven virker utryg og trækker sig fra fællesskabet. Har flere gange været i konflikt med "
    "ældre unge ved stationen efter skoletid, og forældrene er svære at få i tale. Fraværet er "
    "steget gennem kvartalet. Vi har talt med eleven, som fortæller om pres fra andre. "
)
_SCHOOL_CATS = ["wellbeing", "school_absence", "risk_behaviour", "substance_misuse", "vandalism", "neglect"]
_POLICE_CATS = ["crime", "violence", "weapons", "gang_affiliation", "risk_behaviour", "serious_crime"]
_SOCIAL_CATS = ["neglect", "wellbeing", "risk_behaviour", "substance_misuse", "crime"]
_PSYCH_CATS = ["mental_health", "violence", "substance_misuse", "crime"]
_AREA_CATS = ["area_safety", "vandalism", "risk_behaviour"]
_DISTRICTS = [None, "Herstedlund", "Galgebakken", "Hyldespjældet", "Albertslund Syd", "Kanalens Kvarter"]


@dataclass(frozen=True, slots=True)
class Report:
    """One encoded intake entry and what the hub is expected to publish for it."""

    stream: str
    fields: dict[str, bytes]
    ref: str
    accepted: bool
    alert: bool
    notification: bool
    decidable: bool  # a child at risk from a school: a decision referring it to BKV in SSP


@dataclass(frozen=True, slots=True)
class Workload:
    reports: list[Report]

    @property
    def accepted(self) -> int:
        return sum(r.accepted for r in self.reports)

    @property
    def alerts(self) -> int:
        return sum(r.alert for r in self.reports)

    @property
    def notifications(self) -> int:
        return sum(r.notification for r in self.reports)

    def by_stream(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.reports:
            out[r.stream] = out.get(r.stream, 0) + 1
        return out


def _born(now: datetime, rng: random.Random, years: int) -> date:
    # Away from birthdays, so the age the bench expects is the age the hub computes.
    return (now - timedelta(days=int(365.25 * years) + rng.randint(40, 300))).date()


def _subject(now: datetime, rng: random.Random, years: int, serial: int) -> dict[str, Any]:
    return {
        "cpr": make_cpr(_born(now, rng, years), serial),
        "name": f"Testperson {serial}",
        "district": rng.choice(_DISTRICTS),
        "psychiatric_contact": rng.random() < 0.05,
    }


def _teacher() -> dict[str, Any]:
    return {"name": "Lærer Testesen", "role": "SSP-lærer", "contact": "ssp@skole.example", "public_employee": True}


def _officer() -> dict[str, Any]:
    return {"name": "Betjent Testesen", "role": "lokalbetjent", "contact": "politi@example.dk", "public_employee": True}


def _description(rng: random.Random) -> str:
    return _TEXT[: rng.randint(80, len(_TEXT))]


def _cats(rng: random.Random, pool: list[str]) -> list[str]:
    return rng.sample(pool, rng.randint(1, 3))


def report_data(
    now: datetime, rng: random.Random, serial: int, *, planned_crime: bool = False
) -> tuple[str, dict[str, Any]]:
    """(source id, data of `concern.reported`) for one fake report."""
    if planned_crime:
        return "politi-vestegn", {
            "reporter": _officer(),
            "subject": _subject(now, rng, 17, serial),
            "concern": {
                "categories": ["weapons", "violence"],
                "planned_offence": "grov-vold",
                "location": "Albertslund Station",
                "observed_at": (now - timedelta(hours=2)).isoformat(),
                "description": "Har fortalt venner om planer om knivoverfald lørdag (benchmark).",
            },
        }
    roll = rng.random()
    if roll < 0.45:
        source = rng.choice(
            ["herstedlund-skole", "herstedoester-skole", "herstedvester-skole", "kongsholm-skole", "det-10-element"]
        )
        child_at_risk = rng.random() < 0.4
        data: dict[str, Any] = {
            "reporter": _teacher(),
            "subject": _subject(now, rng, rng.randint(7, 16), serial),
            "concern": {
                "categories": _cats(rng, _SCHOOL_CATS),
                "description": _description(rng),
                "child_at_risk": child_at_risk,
                "school_absence_pct": rng.choice([None, 4.0, 12.5, 18.0, 31.0]),
            },
            "consent": {"subject": rng.random() < 0.3, "guardians": rng.random() < 0.3},
        }
    elif roll < 0.62:
        source = "politi-vestegn"
        data = {
            "reporter": _officer(),
            "subject": _subject(now, rng, rng.randint(13, 25), serial),
            "concern": {
                "categories": _cats(rng, _POLICE_CATS),
                "description": _description(rng),
                "planned_serious_crime": rng.random() < 0.05,
                "location": rng.choice([None, "Albertslund Station", "Galgebakken"]),
            },
        }
    elif roll < 0.72:
        source = "bkv"
        data = {
            "reporter": {"name": "Sagsbehandler Testesen", "role": "sagsbehandler", "public_employee": True},
            "subject": _subject(now, rng, rng.randint(10, 22), serial),
            "concern": {
                "categories": _cats(rng, _SOCIAL_CATS),
                "description": _description(rng),
                "child_at_risk": rng.random() < 0.3,
            },
        }
    elif roll < 0.80:
        source = "psykiatri"
        data = {
            "reporter": {"name": "Overlæge Testesen", "role": "overlæge", "public_employee": True},
            "subject": {**_subject(now, rng, rng.randint(18, 45), serial), "psychiatric_contact": True},
            "concern": {"categories": _cats(rng, _PSYCH_CATS), "description": _description(rng)},
        }
    elif roll < 0.88:
        source = "kriminalforsorgen"
        subject = _subject(now, rng, rng.randint(18, 40), serial)
        subject["custody"] = {
            "kind": rng.choice(["prison", "remand"]),
            "convicted": True,
            "release_date": (now + timedelta(days=rng.randint(-60, 90))).date().isoformat(),
        }
        data = {
            "reporter": {"name": "Tilsynsførende Testesen", "role": "tilsynsførende", "public_employee": True},
            "subject": subject,
            "concern": {"categories": ["release", "crime"], "description": _description(rng)},
        }
    else:
        source = rng.choice(["kultur-fritid", "ungdomsskolen"])
        data = {
            "reporter": {"name": "Klubleder Testesen", "role": "klubleder", "public_employee": True},
            "concern": {
                "categories": _cats(rng, _AREA_CATS),
                "location": "Albertslund Station",
                "description": _description(rng),
            },
        }
    if rng.random() < 0.02:
        data["purpose"] = "investigation"  # refused: not a lawful purpose (Rpl. § 115, stk. 2)
    return source, data


def encode_event(source: str, event_id: str, data: dict[str, Any], now: datetime, type_: str) -> dict[str, bytes]:
    """The wire form any Redis client writes: one field, `event`, holding a CloudEvent."""
    doc = {
        "specversion": "1.0",
        "id": event_id,
        "source": source,
        "type": type_,
        "time": now.isoformat(),
        "datacontenttype": "application/json",
        "data": data,
    }
    return {"event": json.dumps(doc, ensure_ascii=False).encode()}


def build_reports(
    count: int,
    registry: Registry,
    agreement: Agreement,
    now: datetime,
    *,
    seed: int,
    planned_crime: bool = False,
    serial_base: int = 0,
) -> Workload:
    """`count` encoded reports with their expected outcome (the hub's own policy decides)."""
    policy = PolicyEngine(agreement)
    rng = random.Random(seed)
    subjects = max(1, count // 3)  # subjects recur: some reports land on an existing case
    reports = []
    for _ in range(count):
        serial = serial_base + rng.randrange(subjects)
        source_id, data = report_data(now, rng, serial, planned_crime=planned_crime)
        source = registry.source(source_id)
        assert source is not None, source_id
        event_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        a = policy.assess(ConcernReport.model_validate(data), source.facts, now)
        kinds = {n.kind.value for n in a.notifications} if a.accepted else set()
        reports.append(
            Report(
                stream=streams.intake(source_id),
                fields=encode_event(source_id, event_id, data, now, CONCERN_REPORTED),
                ref=report_ref(source_id, event_id),
                accepted=a.accepted,
                alert="police_alert" in kinds,
                notification="children_notification" in kinds,
                decidable=a.accepted
                and source.kind.value == "school"
                and bool(data["concern"].get("child_at_risk"))
                and "purpose" not in data,
            )
        )
    return Workload(reports)


def decision_entry(report: str, now: datetime, rng: random.Random) -> dict[str, bytes]:
    structure, partner = DECISION_TARGET
    data = {
        "report_ref": report,
        "level": "I",
        "pillar": "reactive",
        "justification": JUSTIFICATION,
        "purpose": "crime_prevention",
        "decided_by": "TT",
        "referrals": [{"structure": structure, "partner_id": partner}],
    }
    event_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    return encode_event(DECISION_SOURCE, event_id, data, now, DECISION_MADE)


def chunks(items: list[Report], size: int) -> Iterator[list[Report]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
