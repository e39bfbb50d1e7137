"""The decide form's meeting part (`_meeting_form.html`): whom to convene to the meeting of the
decision's level, read into the decision's `meeting`.

Per level a group of checkboxes, prefilled with the level's members from the registry (Niveau I
koordinationsmøde, II sagsmøde: the standing participants; III: the Operativgruppe, of whom DKE
chooses). The group of the level chosen in the form is the one sent. Nothing is judged here
beyond what the form itself must hold: membership, structure and what each partner would
receive are the hub's (`DecisionService.meeting_plan` / `preview_meeting`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hub.config.registry import Registry
from hub.schemas.dates import danish_time
from hub.schemas.decision import Level, Meeting, Structure
from hub.web.forms import Form

ON = "moede"  # the checkbox that convenes a meeting at all
STRUCTURE = "moede_samarbejde"
AT = "moede_tid"
AGENDA = "moede_formaal"


def convene_field(level: str) -> str:
    return f"indkald_{level}"


@dataclass(frozen=True, slots=True)
class LevelMembers:
    """One level's meeting as the form shows it: its name and members (id, partner name)."""

    level: str
    name: str
    members: tuple[tuple[str, str], ...]


def levels(registry: Registry) -> list[LevelMembers]:
    names = {p.id: p.name for p in registry.partners}
    return [
        LevelMembers(level.value, m.name, tuple((p, names.get(p, p)) for p in m.members))
        for level, m in sorted(registry.meetings.items())
    ]


def default_values(registry: Registry) -> dict[str, Any]:
    """The form's meeting values before anything is chosen: every level's members ticked."""
    values: dict[str, Any] = {ON: False, STRUCTURE: "", AT: "", AGENDA: ""}
    for level, m in registry.meetings.items():
        values[convene_field(level.value)] = list(m.members)
    return values


def form_values(form: Form) -> dict[str, Any]:
    """What was sent, to show again."""
    values: dict[str, Any] = {
        ON: form.get(ON) == "ja",
        STRUCTURE: form.get(STRUCTURE),
        AT: form.get(AT),
        AGENDA: form.get(AGENDA),
    }
    for level in Level:
        values[convene_field(level.value)] = form.all(convene_field(level.value))
    return values


def meeting_of(form: Form, level: str | None) -> tuple[Meeting | None, list[tuple[str, str]]]:
    """The decision's meeting from the form (None unless it convenes one); errors for what the
    form itself must hold (a readable time, a known structure)."""
    if form.get(ON) != "ja" or level not in {x.value for x in Level}:
        return None, []
    errors = []
    structure = form.get(STRUCTURE)
    if structure and structure not in {x.value for x in Structure}:
        errors.append((STRUCTURE, "Vælg et samarbejde for mødet."))
    proposed = None
    if text := form.get(AT).strip():
        try:
            proposed = datetime.fromisoformat(text)
        except ValueError:
            errors.append((AT, "Skriv mødetidspunktet som dato og klokkeslæt."))
        else:  # a datetime-local field: Danish time
            proposed = proposed.replace(tzinfo=danish_time()) if proposed.tzinfo is None else proposed
    if errors:
        return None, errors
    # Not validated here: the hub's own parser judges it (preview and decision alike).
    return Meeting.model_construct(
        convene=tuple(form.all(convene_field(str(level)))),
        structure=Structure(structure) if structure else None,
        proposed_at=proposed,
        agenda=form.get(AGENDA).strip(),
    ), []
