"""Traces: the W3C trace context an event carries, and the hub's spans (OpenTelemetry).

A foundation module, like `hub.metrics`. Two things live here:

- The trace context of the CloudEvents distributed-tracing extension: the attributes
  `traceparent` and `tracestate` (W3C Trace Context, sections 3.2 and 3.3). The extension is
  optional, so a malformed value never refuses an event: it is ignored, as W3C tells a receiver
  to do (`traceparent_of`, `tracestate_of`).
- `Tracing`: the spans the hub makes, through the OpenTelemetry API only. Off (`OFF`, the
  default) it makes none and costs one attribute test; the SDK, its exporter and the privacy
  filter are composed in `hub.bootstrap` (`hub.tracing_export`) only when tracing is configured.

Whether on or off, the hub forwards the trace context it received (W3C's advice to
intermediaries): a report's `traceparent` travels onto the events the hub publishes for it and,
stored with its receipt, onto the referrals of the decision made on it. On, those events carry
the hub's own span instead: a child in the same trace.

Privacy: span names are fixed, and only the attributes in `ATTRIBUTES` are kept (references,
event ids, codes, configured ids; never a name, a CPR number or free text). `hub.tracing_export`
enforces it on every span before export, whatever set it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import Link, NonRecordingSpan, Span, SpanContext, SpanKind, TraceFlags, TraceState

TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"

# Version 00 exactly; a later version may append `-` and more (W3C: parse its first four fields).
TRACEPARENT_PATTERN = r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}(-[^\s]*)?$"
_TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-\S*)?\Z")
_KEY = r"(?:[a-z][a-z0-9_\-*/]{0,255}|[a-z0-9][a-z0-9_\-*/]{0,240}@[a-z][a-z0-9_\-*/]{0,13})"
_VALUE = r"[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]"
_MEMBER = re.compile(f"{_KEY}={_VALUE}\\Z")
TRACESTATE_MAX = 512  # W3C: propagate at least 512 characters; longer is cut by others, refused here
_TRACESTATE_MEMBERS = 32


def traceparent_of(value: object) -> str | None:
    """A valid `traceparent` in its version-00 form, or None (absent or malformed: ignored)."""
    if not isinstance(value, str) or len(value) > 512:
        return None
    m = _TRACEPARENT.match(value)
    if m is None:
        return None
    version, trace_id, span_id, flags, rest = m.groups()
    if version == "ff" or (version == "00" and rest) or trace_id == "0" * 32 or span_id == "0" * 16:
        return None
    return f"00-{trace_id}-{span_id}-{flags}"


def tracestate_of(value: object) -> str | None:
    """A valid `tracestate` (list members joined by `,`), or None: W3C forbids propagating part of one."""
    if not isinstance(value, str) or len(value) > TRACESTATE_MAX:
        return None
    members = [m.strip(" \t") for m in value.split(",")]
    members = [m for m in members if m]
    if not members or len(members) > _TRACESTATE_MEMBERS or not all(_MEMBER.match(m) for m in members):
        return None
    return ",".join(members)


@dataclass(frozen=True, slots=True)
class TraceContext:
    """The trace context of one event: a valid `traceparent`, and its `tracestate` if any."""

    traceparent: str
    tracestate: str | None = None

    @property
    def trace_id(self) -> str:
        return self.traceparent[3:35]

    @classmethod
    def of(cls, traceparent: object, tracestate: object = None) -> TraceContext | None:
        """From an event's (or HTTP request's) attributes; None if `traceparent` is absent or malformed."""
        parent = traceparent_of(traceparent)
        return cls(parent, tracestate_of(tracestate)) if parent is not None else None

    @classmethod
    def in_event(cls, event: Mapping[str, Any] | None) -> TraceContext | None:
        """The trace context a CloudEvent document (a dict, as stored) carries."""
        return cls.of(event.get(TRACEPARENT), event.get(TRACESTATE)) if isinstance(event, Mapping) else None

    def attributes(self) -> dict[str, str]:
        """The CloudEvent attributes of this context."""
        out = {TRACEPARENT: self.traceparent}
        if self.tracestate:
            out[TRACESTATE] = self.tracestate
        return out

    def span_context(self) -> SpanContext:
        _, trace_id, span_id, flags = self.traceparent.split("-")
        state = TraceState.from_header([self.tracestate]) if self.tracestate else TraceState()
        return SpanContext(int(trace_id, 16), int(span_id, 16), True, TraceFlags(int(flags, 16)), state)


# The span attributes the hub sets, and the only ones exported (`hub.tracing_export`). Values
# are references, ids and codes: the report reference is the hub's (a digest, not personal data);
# event ids and stream names are chosen by configured systems, and a value that looks like a
# CPR number is dropped all the same.
ATTRIBUTES = frozenset(
    {
        "messaging.system",
        "messaging.operation.type",
        "messaging.destination.name",
        "messaging.batch.message_count",
        "messaging.message.id",
        "cloudevents.event_id",
        "cloudevents.event_type",
        "cloudevents.event_source",
        "hub.report_ref",
        "hub.outcome",
        "hub.code",
        "hub.queue",
        "hub.partner_id",
        "hub.structure",
        "hub.referrals",
        "hub.http.status_code",
        "exception.type",
    }
)
# The spans the hub makes; any other name (another library's) is exported as `hub.other`.
SPAN_NAMES = frozenset({"hub.intake process", "hub.report", "hub.decisions process", "hub.decision", "hub.http report"})
_CPR_LIKE = re.compile(r"\d{6}-?\d{4}")


def allowed(attributes: Mapping[str, Any] | None) -> dict[str, Any]:
    """The attributes that may leave the process: named in `ATTRIBUTES`, with a short printable
    text, a number or a flag as value, never one that looks like a CPR number."""
    out: dict[str, Any] = {}
    for key, value in (attributes or {}).items():
        if key not in ATTRIBUTES:
            continue
        if isinstance(value, bool | int | float) or (
            isinstance(value, str) and len(value) <= 200 and value.isprintable() and not _CPR_LIKE.search(value)
        ):
            out[key] = value
    return out


class Tracing:
    """The hub's spans, or none. Built in the composition root and handed to what makes spans;
    the code on the hot path asks `enabled` before it makes anything."""

    def __init__(self, tracer: trace.Tracer | None = None, *, close: Any = None) -> None:
        self.tracer = tracer
        self.enabled = tracer is not None
        self._close = close

    def start(
        self,
        name: str,
        *,
        parent: TraceContext | None = None,
        links: Iterable[TraceContext] = (),
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: Mapping[str, Any] | None = None,
    ) -> Span:
        """A started span (end it): a child of `parent` (an event's context) or a new trace."""
        assert self.tracer is not None, "ask `enabled` first"
        ctx = trace.set_span_in_context(NonRecordingSpan(parent.span_context())) if parent is not None else None
        return self.tracer.start_span(
            name,
            context=ctx,
            kind=kind,
            attributes=allowed(attributes),
            links=[Link(c.span_context()) for c in links],
            record_exception=False,  # an exception's message may quote input
        )

    def close(self) -> None:
        """Export what is left and stop the exporter (the process ends)."""
        if self._close is not None:
            self._close()


def context_of(span: Span, carried: TraceContext | None = None) -> TraceContext:
    """The trace context of `span` for the events it publishes; the `tracestate` received is kept."""
    c = span.get_span_context()
    state = c.trace_state.to_header() if c.trace_state else (carried.tracestate if carried else None)
    return TraceContext(f"00-{c.trace_id:032x}-{c.span_id:016x}-{c.trace_flags:02x}", state or None)


def links_of(contexts: Iterable[TraceContext | None], limit: int = 128) -> Sequence[TraceContext]:
    """At most `limit` distinct contexts (the SDK keeps 128 links per span by default)."""
    seen: dict[str, TraceContext] = {}
    for c in contexts:
        if c is not None and len(seen) < limit:
            seen.setdefault(c.traceparent, c)
    return list(seen.values())


OFF = Tracing()
