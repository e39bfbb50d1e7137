"""The Jinja2 environment (templates in the package, autoescaped) and the page helper."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from hub.entrypoints import labels as da
from hub.policies.citations import parts
from hub.policies.fields import FIELD_LABELS_DA
from hub.policies.rules import ANSWERING_RULE_IDS, REASONS
from hub.schemas.events import Reason
from hub.web.format import danish_time, overdue, time_left

PREFIX = "/arbejdsrum"
ROLE = da.STAFF_ROLE
SOURCE_KIND = {
    "school": "skole",
    "police": "politi",
    "social_services": "socialforvaltning",
    "psychiatry": "psykiatri",
    "prison_probation": "kriminalforsorg",
    "municipal_department": "kommunal forvaltning",
    "housing": "boligorganisation",
    "other": "anden",
}
# The hub's parser names fields of the event; staff know them by the form's labels.
FIELD = {
    "data.justification": "Begrundelse",
    "data.level": "Niveau",
    "data.pillar": "Søjle",
    "data.referrals": "Modtagere",
    "data.meeting.agenda": "Mødets formål",
    "meeting.convene": "Indkaldelsen til mødet",
    "data.answers": "Svar på spørgsmål",
}
_AT_MOST = re.compile(r"at most (\d+) characters")


def problem_da(field: str, problem: str) -> str:
    """A parser error (English, for integrators) as staff read it."""
    name = FIELD.get(field) or FIELD.get(".".join(field.split(".")[:2]), "Et felt")
    found = _AT_MOST.search(problem)
    return f"{name} må højst være {found.group(1)} tegn." if found else f"{name} er ikke udfyldt korrekt."


GROUND = da.ACCESS_GROUND


@functools.cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("hub.web", "templates"),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["tid"] = danish_time
    env.globals.update(
        P=PREFIX,
        da=da,
        SOURCE_KIND=SOURCE_KIND,
        problem_da=problem_da,
        label=da.label,
        ROLE=ROLE,
        GROUND=GROUND,
        time_left=time_left,
        overdue=overdue,
        field_labels=field_labels,
        legal_basis=legal_basis,
        answered_rules=answered_rules,
    )
    return env


def answered_rules(rule_ids: Iterable[str]) -> list[Reason]:
    """The reasons of the rules among `rule_ids` that decided with a person's answer."""
    return [REASONS[r] for r in rule_ids if r in ANSWERING_RULE_IDS]


def legal_basis(citations: Iterable[str]) -> str:
    """The provisions a verdict rests on, each once (several rules cite the same article)."""
    seen: dict[str, str] = {}
    for citation in citations:
        for part in parts(citation):
            seen.setdefault(part.casefold(), part)
    return "; ".join(seen.values())


def field_labels(names: Iterable[str]) -> str:
    """Field paths in Danish, as staff read them (`Bekymringens kategorier`), sorted."""
    return ", ".join(sorted(FIELD_LABELS_DA.get(n, n) for n in names)) or "ingen"


def page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page for the logged-in viewer (or the log-in page): `no-store`, it may hold personal data."""
    context.setdefault("now", datetime.now(UTC))
    context.setdefault("viewer", None)
    html = environment().get_template(template).render(request=request, **context)
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})
