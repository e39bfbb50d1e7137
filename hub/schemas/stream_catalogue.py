"""The stream catalogue's types, and how a row's pattern is expanded into concrete streams.

The table itself is `hub.schemas.catalogue.STREAMS`; this module is its grammar.
"""

from __future__ import annotations

import string
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from hub.schemas import streams
from hub.schemas.cloudevents import TYPE_PREFIX

# Who writes or reads a stream. SOURCE, DECISION_SOURCE and PARTNER mean the one named in the
# stream's key (for DECISION_SOURCE on a key without one: every decision source).
Role = Literal["hub", "dke", "source", "decision_source", "partner"]
HUB: Role = "hub"
DKE: Role = "dke"  # DKE's staff, through the hub's own tools (CLI, workspace): no ACL user of its own
SOURCE: Role = "source"
DECISION_SOURCE: Role = "decision_source"
PARTNER: Role = "partner"


@dataclass(frozen=True, slots=True)
class HubGroup:
    """A consumer group the hub reads a stream with, created at start-up.

    `start="0"`: every entry, also those written before the group existed; `"$"`: from its
    creation on. `processes=False`: a group that reads beside the one that stores and acks
    (the urgent watch reads with NOACK), so its progress says nothing about what was stored.
    """

    name: str
    start: str = "0"
    processes: bool = True


@dataclass(frozen=True, slots=True)
class StreamRow:
    """One row of the catalogue: a stream, or a pattern of streams, and what it is for."""

    pattern: str
    writer: Role
    readers: tuple[Role, ...]
    events: tuple[tuple[str, type[BaseModel]], ...]
    summary: str
    groups: tuple[HubGroup, ...] = ()
    reader_kinds: tuple[str, ...] = ()  # partners of these kinds read it too (by law, not by structure)
    retention: str | None = "report"  # key of the agreement's `retention_days`; None: never trimmed


@dataclass(frozen=True, slots=True)
class PartnerInput:
    id: str
    kind: str
    structures: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Inputs:
    """What the patterns are expanded with (plain values: see `Registry.stream_inputs`)."""

    sources: tuple[str, ...] = ()
    decision_sources: tuple[str, ...] = ()
    partners: tuple[PartnerInput, ...] = ()


@dataclass(frozen=True, slots=True)
class Party:
    role: Role
    id: str  # the source, decision source or partner id; "hub" or "dke" for those


@dataclass(frozen=True, slots=True)
class Stream:
    """One concrete stream: a row with its placeholders filled in."""

    name: str
    row: StreamRow
    writers: tuple[Party, ...]
    readers: tuple[Party, ...]


# --- expansion --------------------------------------------------------------------------------


def _fields(pattern: str) -> frozenset[str]:
    return frozenset(name for _, name, _, _ in string.Formatter().parse(pattern) if name)


def _bindings(pattern: str, inputs: Inputs) -> Iterator[dict[str, str]]:
    fields = _fields(pattern)
    if fields == {"structure", "partner"}:
        for p in inputs.partners:
            for structure in sorted(p.structures):
                yield {"structure": structure, "partner": p.id}
        return
    if fields == {"partner"}:
        for p in inputs.partners:
            yield {"partner": p.id}
        return
    if len(fields) > 1:
        raise ValueError(f"stream pattern {pattern!r}: no expansion for {sorted(fields)}")
    if not fields:
        yield {}
        return
    [field] = fields
    values: Sequence[str] = {
        "source": inputs.sources,
        "decision_source": inputs.decision_sources,
        "queue": [q.value for q in streams.Queue],
    }.get(field, ())
    if field not in {"source", "decision_source", "queue"}:
        raise ValueError(f"stream pattern {pattern!r}: unknown placeholder {{{field}}}")
    for value in values:
        yield {field: value}


def _parties(roles: Sequence[Role], binding: Mapping[str, str], inputs: Inputs) -> list[Party]:
    out: list[Party] = []
    for role in roles:
        if role in (HUB, DKE):
            out.append(Party(role, role))
        elif role == SOURCE:
            out.append(Party(SOURCE, binding["source"]))
        elif role == PARTNER:
            out.append(Party(PARTNER, binding["partner"]))
        elif "decision_source" in binding:
            out.append(Party(DECISION_SOURCE, binding["decision_source"]))
        else:
            out += [Party(DECISION_SOURCE, d) for d in inputs.decision_sources]
    return out


@dataclass(frozen=True)
class Catalogue:
    """The catalogue expanded for one registry: every concrete stream, in table order."""

    streams: tuple[Stream, ...]

    def of(self, row: StreamRow) -> list[str]:
        """The names of one row's streams."""
        return [s.name for s in self.streams if s.row is row]

    def names(self) -> list[str]:
        return [s.name for s in self.streams]

    def written_by(self, party: Party) -> list[str]:
        return [s.name for s in self.streams if party in s.writers]

    def read_by(self, party: Party) -> list[str]:
        return [s.name for s in self.streams if party in s.readers]

    def hub_groups(self) -> list[tuple[str, HubGroup]]:
        """Every (stream, group) the hub reads, in table order: what start-up creates."""
        return [(s.name, g) for s in self.streams for g in s.row.groups]

    def retained(self) -> list[tuple[str, str]]:
        """Every (stream, retention key) the retention job trims."""
        return [(s.name, s.row.retention) for s in self.streams if s.row.retention is not None]

    def table(self) -> list[dict[str, Any]]:
        """One JSON-ready dict per stream: what `hub streams --json` prints."""
        return [
            {
                "stream": s.name,
                "writer": ",".join(p.id for p in s.writers),
                "readers": [p.id for p in s.readers],
                "event": " | ".join(short_type(t) for t, _ in s.row.events),
                "pattern": s.row.pattern,
                "event_types": [t for t, _ in s.row.events],
                "groups": [g.name for g in s.row.groups],
                "retention": s.row.retention,
                "summary": s.row.summary,
            }
            for s in self.streams
        ]


def expand(inputs: Inputs, rows: Sequence[StreamRow]) -> Catalogue:
    """Every concrete stream of `rows` for these sources, decision sources and partners."""
    out: list[Stream] = []
    for row in rows:
        for binding in _bindings(row.pattern, inputs):
            readers = _parties(row.readers, binding, inputs)
            readers += [Party(PARTNER, p.id) for p in inputs.partners if p.kind in row.reader_kinds]
            writers = _parties((row.writer,), binding, inputs)
            out.append(Stream(row.pattern.format(**binding), row, tuple(writers), tuple(readers)))
    return Catalogue(tuple(out))


def short_type(event_type: str) -> str:
    """`dk.albertslund.hub.concern.reported.v1` -> `concern.reported`."""
    return event_type.removeprefix(TYPE_PREFIX).removesuffix(".v1")
