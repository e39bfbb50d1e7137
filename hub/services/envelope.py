"""The one parser for what arrives on a hub stream or over HTTP: raw entry fields to a typed
CloudEvent, or a `Rejection` that says what is wrong (a stable code and a message).

Intake (`parse_entry`), triage decisions (`parse_decision`) and the HTTP API all parse here.
Nothing in this module raises for bad input.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from pydantic import ValidationError

from hub.config.registry import Registry
from hub.schemas.cloudevents import EVENT_FIELD, CloudEvent
from hub.schemas.decision import DECISION_MADE, TriageDecision
from hub.schemas.entry import Entry
from hub.schemas.events import ErrorItem
from hub.schemas.report import CONCERN_REPORTED, ConcernReport

CLOCK_SKEW = timedelta(minutes=5)


_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_B32_PAIRS = tuple(a + b for a in _B32 for b in _B32)


def report_ref(source_id: str, event_id: str) -> str:
    """The hub's reference for a report: derived from its identity, so a duplicate gets the
    same one and `POST /v1/reports` can answer with it before the report is processed."""
    # The first 60 bits of the digest in base32 (RFC 4648), as `b32encode(digest[:8])[:12]`
    # spells them, two letters (10 bits) per lookup: the stdlib's b32encode is pure Python.
    bits = int.from_bytes(hashlib.sha256(f"{source_id}\x00{event_id}".encode()).digest()[:8]) >> 4
    return "DKE-" + "".join([_B32_PAIRS[(bits >> shift) & 1023] for shift in (50, 40, 30, 20, 10, 0)])


@dataclass(frozen=True, slots=True)
class Rejection:
    code: str
    message: str
    errors: tuple[ErrorItem, ...] = ()
    event_id: str | None = None
    reasons: tuple[Any, ...] = ()


@dataclass(frozen=True, slots=True)
class ParsedReport:
    event_id: str
    source_id: str
    report: ConcernReport
    ref: str


def errors_of(exc: ValidationError, prefix: str = "") -> tuple[ErrorItem, ...]:
    """Field and problem only: never the offending input (it may be personal data)."""
    items = []
    for err in exc.errors(include_input=False, include_url=False, include_context=False):
        loc = ".".join(str(p) for p in err["loc"])
        items.append(ErrorItem(field=f"{prefix}{loc}" if loc else prefix.rstrip(".") or "event", problem=err["msg"]))
    return tuple(items[:20])


def _future_dates(report: ConcernReport, now: datetime) -> tuple[ErrorItem, ...]:
    problems = []
    if report.concern.observed_at and report.concern.observed_at > now + CLOCK_SKEW:
        problems.append(ErrorItem(field="data.concern.observed_at", problem="date is in the future"))
    born = report.subject.born() if report.subject else None
    if born and born > now.date():
        problems.append(ErrorItem(field="data.subject.birth_date", problem="date is in the future"))
    return tuple(problems)


_REPORT_EVENT = CloudEvent[ConcernReport]
_EVENT_KEY = EVENT_FIELD.encode()


def parse_entry(entry: Entry, source_id: str, now: datetime, max_bytes: int) -> ParsedReport | Rejection:
    """Validate one intake entry written by `source_id`. Never raises for bad input.

    A well-formed report is parsed in one pass, straight from the JSON bytes. Anything else
    takes the step-by-step path, which says exactly what is wrong (envelope or report)."""
    raw = entry.fields.get(_EVENT_KEY)
    if raw is None:
        return Rejection(
            "missing_event_field",
            "The entry has no `event` field; write the CloudEvent JSON document in a field named `event`.",
        )
    if len(raw) > max_bytes:
        return Rejection("too_large", f"The event is {len(raw)} bytes; the limit is {max_bytes}.")
    try:
        event = _REPORT_EVENT.model_validate_json(raw)
    except ValidationError:
        pass  # the step-by-step path below explains why
    else:
        if event.source == source_id and event.type == CONCERN_REPORTED:
            if future := _future_dates(event.data, now):
                return Rejection("invalid_report", "The report is not valid.", future, event.id)
            return ParsedReport(
                event_id=event.id, source_id=source_id, report=event.data, ref=report_ref(source_id, event.id)
            )
    return _parse_stepwise(raw, source_id, now)


def _parse_stepwise(raw: bytes, source_id: str, now: datetime) -> ParsedReport | Rejection:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return Rejection("not_utf8", "The `event` field is not UTF-8 text.")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        return Rejection(
            "invalid_json", f"The `event` field is not valid JSON (line {exc.lineno}, column {exc.colno})."
        )
    if not isinstance(doc, dict):
        return Rejection("invalid_envelope", "The `event` field must hold a JSON object (a CloudEvent).")
    event_id = doc.get("id") if isinstance(doc.get("id"), str) else None
    try:
        envelope = CloudEvent[dict[str, Any]].model_validate(doc)
    except ValidationError as exc:
        return Rejection("invalid_envelope", "The CloudEvent envelope is not valid.", errors_of(exc), event_id)
    if envelope.source != source_id:
        return Rejection(
            "source_mismatch",
            "The event's `source` does not match the intake stream it was "
            "written to; a source may only write to its own stream.",
            (),
            event_id,
        )
    if envelope.type != CONCERN_REPORTED:
        return Rejection("unknown_type", f"Intake accepts only events of type {CONCERN_REPORTED}.", (), event_id)
    try:
        report = ConcernReport.model_validate(envelope.data)
    except ValidationError as exc:
        return Rejection("invalid_report", "The report is not valid.", errors_of(exc, "data."), event_id)
    if future := _future_dates(report, now):
        return Rejection("invalid_report", "The report is not valid.", future, event_id)
    return ParsedReport(
        event_id=envelope.id, source_id=source_id, report=report, ref=report_ref(source_id, envelope.id)
    )


def parse_decision(entry: Entry, registry: Registry) -> CloudEvent[TriageDecision] | Rejection:
    raw = entry.fields.get(EVENT_FIELD.encode())
    if raw is None:
        return Rejection("missing_event_field", "The entry has no `event` field.")
    try:
        doc = json.loads(raw.decode("utf-8"))
        event = CloudEvent[TriageDecision].model_validate(doc)
    except UnicodeDecodeError:
        return Rejection("not_utf8", "The `event` field is not UTF-8 text.")
    except json.JSONDecodeError:
        return Rejection("invalid_json", "The `event` field is not valid JSON.")
    except ValidationError as exc:
        return Rejection(
            "invalid_decision",
            "The decision is not valid.",
            errors_of(exc),
            doc.get("id") if isinstance(doc, dict) and isinstance(doc.get("id"), str) else None,
        )
    if event.type != DECISION_MADE:
        return Rejection("unknown_type", f"The decisions stream accepts only {DECISION_MADE}.", (), event.id)
    if event.source not in registry.decision_sources:
        return Rejection("unknown_decision_source", "This source may not write triage decisions.", (), event.id)
    return event


def event_id_of(fields: Mapping[bytes, bytes]) -> str | None:
    """The CloudEvent id of an entry if it has a readable one (the sender matches receipts by
    it), else None. For entries that may not parse at all: never raises."""
    raw = fields.get(_EVENT_KEY)
    if raw is None:
        return None
    try:
        doc = orjson.loads(raw)  # C parser with a depth limit: deep nesting fails, does not recurse
    except (orjson.JSONDecodeError, TypeError, ValueError):
        return None
    event_id = doc.get("id") if isinstance(doc, dict) else None
    return event_id if isinstance(event_id, str) and 0 < len(event_id) <= 200 else None
