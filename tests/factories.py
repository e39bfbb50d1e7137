"""Builders for obviously fake test data: CloudEvents, reports, decisions."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hub.schemas.cpr import make_cpr
from hub.schemas.decision import DECISION_MADE
from hub.schemas.report import CONCERN_REPORTED

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)

# Strings that must never show up in a log line (see test_no_personal_data_in_logs).
CHILD_NAME = "Testbarn Hemmeligsen"
CHILD_DESCRIPTION = "Fortroligt: barnet fortæller om vold i hjemmet"


def born(years: int, now: datetime | None = None) -> date:
    return ((now or datetime.now(UTC)) - timedelta(days=int(365.25 * years) + 30)).date()


def child_cpr(years: int = 13, serial: int = 1, now: datetime | None = None) -> str:
    return make_cpr(born(years, now), serial)


def report_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "reporter": {
            "name": "Lærer Testesen",
            "role": "SSP-lærer",
            "contact": "ssp@skole.example",
            "public_employee": True,
        },
        "subject": {"cpr": child_cpr(), "name": CHILD_NAME, "district": "Herstedlund"},
        "concern": {"categories": ["wellbeing"], "description": CHILD_DESCRIPTION, "child_at_risk": True},
    }
    for key, value in overrides.items():
        data[key] = value
    return data


def planned_crime_data() -> dict[str, Any]:
    """A report that names a planned offence on the § 141 list (grov vold): the police are alerted."""
    return report_data(
        concern={
            "categories": ["weapons"],
            "description": "Planlægger overfald.",
            "planned_offence": "grov-vold",
            "location": "Stationen",
        }
    )


def cloudevent(
    source: str,
    data: dict[str, Any],
    *,
    event_id: str | None = None,
    type_: str = CONCERN_REPORTED,
    time: datetime | None = None,
) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": event_id or str(uuid.uuid4()),
        "source": source,
        "type": type_,
        "time": (time or datetime.now(UTC)).isoformat(),
        "datacontenttype": "application/json",
        "data": data,
    }


def entry(event: dict[str, Any]) -> dict[str, str]:
    """The wire form any Redis client writes: one field, `event`."""
    return {"event": json.dumps(event, ensure_ascii=False)}


def decision(
    report_ref: str,
    referrals: list[tuple[str, str]],
    *,
    justification: str = "Nødvendigt for en koordineret indsats omkring barnet.",
    purpose: str = "crime_prevention",
    level: str = "I",
    pillar: str = "reactive",
    source: str = "dke-triage",
    time: datetime | None = None,
    description_justification: str | None = None,
    revision_reason: str | None = None,
    meeting: dict[str, Any] | None = None,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "report_ref": report_ref,
        "level": level,
        "pillar": pillar,
        "justification": justification,
        "purpose": purpose,
        "decided_by": "TT",
        "referrals": [{"structure": s, "partner_id": p} for s, p in referrals],
    }
    if description_justification is not None:
        data["description_justification"] = description_justification
    if revision_reason is not None:
        data["revision_reason"] = revision_reason
    if meeting is not None:
        data["meeting"] = meeting
    return cloudevent(source, data, type_=DECISION_MADE, time=time)


def json_paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path (keys and indexes) into a JSON document, for tests that mutate one place."""
    out = [prefix] if prefix else []
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += json_paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += json_paths(v, (*prefix, i))
    return out
