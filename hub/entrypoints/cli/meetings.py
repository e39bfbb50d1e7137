"""`hub triage decide`'s meeting options (`--meeting`, `--convene`, …) and how a convened meeting
is printed (`decide`'s outcome, `show`): the meeting of the decision's level, per convened partner
what it received or why not."""

from __future__ import annotations

from datetime import datetime
from typing import NoReturn

import typer
from pydantic import ValidationError

from hub.entrypoints import labels as da
from hub.schemas.dates import danish_time
from hub.schemas.decision import Meeting, Structure
from hub.store import queries


def stop(message: str, code: int = 2) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(code)


def meeting_lines(m: queries.MeetingView, names: dict[str, str] | None = None) -> list[str]:
    """The meeting a decision convened, in Danish: per convened partner what it received or why not."""
    names = names or {}
    head = f"{da.label(da.FORUM, m.forum)} i {da.label(da.STRUCTURE, m.structure)}"
    if m.proposed_at:
        head += f", foreslået {da.when(m.proposed_at)}"
    out = [f"{head}:"]
    if m.agenda:
        out.append(f"  Formål med mødet: {m.agenda}")
    for r in m.convened:
        who = names.get(r.recipient, r.recipient)
        if r.shared:
            out.append(f"  Indkaldt: {who}, får {', '.join(r.fields) or 'ingen felter'}")
            out.append(f"    Hjemmel: {'; '.join(r.legal_basis)}")
        else:
            out.append(f"  Indkaldt: {who}, men oplysningerne er {da.label(da.EFFECT, r.effect)}:")
            out += [f"    [{x.rule_id}] {x.da}" for x in r.reasons]
    return out


def meeting_option(
    wanted: bool, convene: list[str], structure: str | None, at: str | None, agenda: str
) -> Meeting | None:
    """The decision's meeting from the options; None when none of them is given."""
    if not (wanted or convene or structure or at or agenda):
        return None
    if structure is not None and structure.lower() not in {s.value for s in Structure}:
        stop(f"--meeting-structure {structure}: skriv ssp, psp eller ksp.")
    proposed = None
    if at:
        try:
            proposed = datetime.fromisoformat(at)
        except ValueError:
            stop(f"--meeting-at {at}: skriv tidspunktet som ÅÅÅÅ-MM-DD TT:MM (dansk tid).")
        if proposed.tzinfo is None:  # staff write Danish local time
            proposed = proposed.replace(tzinfo=danish_time())
    try:
        return Meeting(
            convene=tuple(convene),
            structure=Structure(structure.lower()) if structure else None,
            proposed_at=proposed,
            agenda=agenda,
        )
    except ValidationError as exc:
        problem = exc.errors()[0]
        stop(f"Ugyldigt møde: {'.'.join(map(str, problem['loc']))}: {problem['msg']}.")
