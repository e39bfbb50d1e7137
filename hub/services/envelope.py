"""The one parser for what arrives on a hub stream or over HTTP: raw entry fields to a typed
CloudEvent, or a `Rejection` that says what is wrong (a stable code and a message).

Intake (`parse_entry`), triage decisions (`parse_decision`), partners' updates on referrals
(`parse_update`) and the HTTP API all parse here.
Intake (`parse_entry`), triage decisions (`parse_decision`), everything staff write to the decisions
stream (`parse_staff_event`: decisions and the reporter's kvittering and feedback) and the HTTP API
all parse here.
Nothing in this module raises for bad input.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import orjson
from pydantic import ValidationError

from hub.config.registry import Registry
from hub.schemas import lifecycle
from hub.schemas.cloudevents import EVENT_FIELD, CloudEvent
from hub.schemas.dates import danish_date
from hub.schemas.decision import DECISION_MADE, TriageDecision
from hub.schemas.entry import Entry
from hub.schemas.events import ErrorItem
from hub.schemas.limits import DEFAULT_LIMITS, Limits
from hub.schemas.report import CONCERN_REPORTED, ConcernReport
from hub.schemas.reporter import (
    ACKNOWLEDGEMENT_REQUESTED,
    FEEDBACK_REQUESTED,
    AcknowledgementRequest,
    FeedbackRequest,
)
from hub.services import safe_json
from hub.tracing import TraceContext

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
    trace: TraceContext | None = None  # the refused event's, for its receipt (`hub.tracing`)


@dataclass(frozen=True, slots=True)
class ParsedReport:
    event_id: str
    source_id: str
    report: ConcernReport
    ref: str
    trace: TraceContext | None = None  # the event's trace context, if it carries a valid one


def errors_of(exc: ValidationError, prefix: str = "") -> tuple[ErrorItem, ...]:
    """Field and problem only: never the offending input (it may be personal data)."""
    items = []
    for err in exc.errors(include_input=False, include_url=False, include_context=False):
        loc = ".".join(str(p) for p in err["loc"])
        items.append(ErrorItem(field=f"{prefix}{loc}" if loc else prefix.rstrip(".") or "event", problem=err["msg"]))
    return tuple(items[:20])


def _invalid(code: str, message: str, exc: ValidationError, event_id: str | None, prefix: str = "") -> Rejection:
    # A control character in an identifier has its own code, whatever else is wrong.
    if any(e["type"] == "control_character" for e in exc.errors(include_url=False, include_context=False)):
        code, message = "control_character", "An identifier holds a control character."
    return Rejection(code, message, errors_of(exc, prefix), event_id)


_REPORT_EVENT = CloudEvent[ConcernReport]
_DECISION_EVENT = CloudEvent[TriageDecision]
_EVENT_KEY = EVENT_FIELD.encode()
_FASTSTREAM_KEY = b"__data__"
_ID_READ_BYTES = 65_536
EVENT_FIELD_TEXT = "The `event` field"


def load_event(
    fields: Mapping[bytes, bytes], max_bytes: int, limits: Limits, what: str = EVENT_FIELD_TEXT
) -> dict[str, Any] | Rejection:
    """The `event` field of an entry as a JSON object under `limits`, or why not."""
    raw = fields.get(_EVENT_KEY)
    if raw is None:
        if _FASTSTREAM_KEY in fields:
            return Rejection(
                "extra_fields", "The entry is in FastStream's envelope (`__data__`); write one field, `event`."
            )
        return Rejection(
            "missing_event_field",
            "The entry has no `event` field; write the CloudEvent JSON document in a field named `event`.",
        )
    if len(fields) != 1:
        return Rejection("extra_fields", "The entry must have exactly one field, `event`.", (), event_id_of(fields))
    if len(raw) > max_bytes:
        return Rejection("too_large", f"{what} is {len(raw)} bytes; the limit is {max_bytes}.")
    doc = safe_json.load(raw, limits, what)
    if isinstance(doc, safe_json.Refused):
        # The sender matches receipts by the id; read it (orjson, in C) unless that is costly.
        return Rejection(doc.code, doc.message, (), event_id_of(fields) if len(raw) <= _ID_READ_BYTES else None)
    if not isinstance(doc, dict):
        return Rejection("invalid_envelope", f"{what} must hold a JSON object (a CloudEvent).")
    return doc


def _id_in(doc: dict[str, Any]) -> str | None:
    event_id = doc.get("id")
    return event_id if isinstance(event_id, str) and 0 < len(event_id) <= 200 and event_id.isprintable() else None


def parse_entry(
    entry: Entry,
    source_id: str,
    now: datetime,
    max_bytes: int,
    *,
    limits: Limits = DEFAULT_LIMITS,
    what: str = EVENT_FIELD_TEXT,
) -> ParsedReport | Rejection:
    """Validate one intake entry written by `source_id`. Never raises, for any fields.

    `max_bytes` is the size limit (it wins over `limits.max_bytes`); `what` names the JSON
    text in messages ("The body" over HTTP). A well-formed report is validated in one pass;
    anything else takes the step-by-step path, which says what is wrong (envelope or report)."""
    doc = load_event(entry.fields, max_bytes, limits, what)
    if isinstance(doc, Rejection):
        return doc
    try:
        event = _REPORT_EVENT.model_validate(doc)
    except ValidationError:
        return _parse_stepwise(doc, source_id, now, limits)
    if event.source != source_id or event.type != CONCERN_REPORTED:
        return _parse_stepwise(doc, source_id, now, limits)
    if (late := _report_times(event.time, event.data, event.id, now, limits)) is not None:
        return late
    return ParsedReport(event.id, source_id, event.data, report_ref(source_id, event.id), event.trace)


def _parse_stepwise(doc: dict[str, Any], source_id: str, now: datetime, limits: Limits) -> ParsedReport | Rejection:
    event_id = _id_in(doc)
    try:
        envelope = CloudEvent[dict[str, Any]].model_validate(doc)
    except ValidationError as exc:
        return _invalid("invalid_envelope", "The CloudEvent envelope is not valid.", exc, event_id)
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
        return _invalid("invalid_report", "The report is not valid.", exc, event_id, "data.")
    if (late := _report_times(envelope.time, report, envelope.id, now, limits)) is not None:
        return late
    return ParsedReport(envelope.id, source_id, report, report_ref(source_id, envelope.id), envelope.trace)


@dataclass(frozen=True, slots=True)
class _Windows:
    """The accepted windows at one `now` (a batch shares one, so they are worked out once)."""

    time: tuple[datetime, datetime]
    observed: tuple[datetime, datetime]
    born: tuple[date, date]
    release: tuple[date, date]


@functools.lru_cache(maxsize=8)
def _windows(now: datetime, limits: Limits) -> _Windows | None:
    today = danish_date(now)  # birth and release dates are Danish calendar dates
    try:
        return _Windows(
            time=(now - limits.event_max_age, now + limits.clock_skew),
            observed=(now - limits.observed_max_age, now + limits.clock_skew),
            born=(today - limits.birth_max_age, today),
            release=(today - limits.release_max_past, today + limits.release_max_ahead),
        )
    except OverflowError:  # a window past year 1 or 9999: settings bound the limits, `now` could be odd
        return None


_OUT_OF_WINDOW = "outside the accepted window"


def _time_problems(time: datetime, w: _Windows | None) -> list[ErrorItem]:
    """The CloudEvent `time`: not older than `event_max_age`, not ahead by more than the skew."""
    if w is None or not w.time[0] <= time <= w.time[1]:
        return [ErrorItem(field="time", problem=f"time is {_OUT_OF_WINDOW}")]
    return []


def _report_times(
    time: datetime, report: ConcernReport, event_id: str, now: datetime, limits: Limits
) -> Rejection | None:
    """The event's time and the times a report may hold, each within its window (`Limits`)."""
    w = _windows(now, limits)
    problems = _time_problems(time, w)
    if w is not None:
        observed = report.concern.observed_at
        if observed is not None and not w.observed[0] <= observed <= w.observed[1]:
            problems.append(ErrorItem(field="data.concern.observed_at", problem=f"date is {_OUT_OF_WINDOW}"))
        subject = report.subject
        if subject is not None:
            born = subject.born()
            if born is not None and not w.born[0] <= born <= w.born[1]:
                field = "data.subject.birth_date" if subject.birth_date else "data.subject.cpr"
                problems.append(ErrorItem(field=field, problem=f"birth date is {_OUT_OF_WINDOW}"))
            released = subject.custody.release_date if subject.custody is not None else None
            if released is not None and not w.release[0] <= released <= w.release[1]:
                field = "data.subject.custody.release_date"
                problems.append(ErrorItem(field=field, problem=f"date is {_OUT_OF_WINDOW}"))
    if not problems:
        return None
    return Rejection("time_out_of_range", "A time in the event is outside the accepted window.", (*problems,), event_id)


def parse_decision(
    entry: Entry, registry: Registry, *, now: datetime | None = None, limits: Limits = DEFAULT_LIMITS
) -> CloudEvent[TriageDecision] | Rejection:
    """Validate one entry of `hub.decisions.v1`. Never raises, for any fields.

    `now` (default: the clock) bounds the event's `time`."""
    doc = load_event(entry.fields, limits.max_bytes, limits)
    if isinstance(doc, Rejection):
        return doc
    return _decision(doc, registry, now, limits)


def _decision(
    doc: dict[str, Any], registry: Registry, now: datetime | None, limits: Limits
) -> CloudEvent[TriageDecision] | Rejection:
    try:
        event = _DECISION_EVENT.model_validate(doc)
    except ValidationError as exc:
        return _invalid("invalid_decision", "The decision is not valid.", exc, _id_in(doc))
    if event.type != DECISION_MADE:
        accepted = ", ".join((DECISION_MADE, ACKNOWLEDGEMENT_REQUESTED, FEEDBACK_REQUESTED))
        return Rejection("unknown_type", f"The decisions stream accepts only {accepted}.", (), event.id)
    if event.source not in registry.decision_sources:
        return Rejection("unknown_decision_source", "This source may not write triage decisions.", (), event.id)
    if late := _time_problems(event.time, _windows(now or datetime.now(UTC), limits)):
        return Rejection("time_out_of_range", "The event's `time` is outside the accepted window.", (*late,), event.id)
    return event


# What else staff may write to `hub.decisions.v1`: the reporter's kvittering and feedback.
StaffAction = CloudEvent[AcknowledgementRequest] | CloudEvent[FeedbackRequest]
_ACTIONS: dict[str, type[StaffAction]] = {
    ACKNOWLEDGEMENT_REQUESTED: CloudEvent[AcknowledgementRequest],
    FEEDBACK_REQUESTED: CloudEvent[FeedbackRequest],
}
STAFF_EVENT_TYPES = (DECISION_MADE, *_ACTIONS)
StaffEvent = CloudEvent[TriageDecision] | StaffAction  # what staff may write to `hub.decisions.v1`


def parse_staff_event(
    entry: Entry, registry: Registry, *, now: datetime | None = None, limits: Limits = DEFAULT_LIMITS
) -> StaffEvent | Rejection:
    """Validate one entry of `hub.decisions.v1`, of any type staff may write there: a triage
    decision (`parse_decision`) or a staff action for the reporter. Never raises."""
    doc = load_event(entry.fields, limits.max_bytes, limits)
    if isinstance(doc, Rejection):
        return doc
    type_ = doc.get("type")
    model = _ACTIONS.get(type_) if isinstance(type_, str) else None
    if model is None:
        return _decision(doc, registry, now, limits)
    try:
        event = model.model_validate(doc)
    except ValidationError as exc:
        return _invalid("invalid_staff_action", "The staff action is not valid.", exc, _id_in(doc))
    if event.source not in registry.decision_sources:
        return Rejection("unknown_decision_source", "This source may not write staff actions.", (), event.id)
    if late := _time_problems(event.time, _windows(now or datetime.now(UTC), limits)):
        return Rejection("time_out_of_range", "The event's `time` is outside the accepted window.", (*late,), event.id)
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
    return event_id if isinstance(event_id, str) and 0 < len(event_id) <= 200 and event_id.isprintable() else None


@dataclass(frozen=True, slots=True)
class ParsedUpdate:
    """A partner's update on a referral or police alert it received (`hub.schemas.lifecycle`)."""

    event_id: str
    partner_id: str
    state: str  # received, accepted, declined, completed, acknowledged
    ref: str  # the event id of the referral.issued / alert.raised it is about
    alert: bool  # about a police alert (`alert.acknowledged`), not a referral
    code: str | None  # the decline reason or the completion outcome
    text: str | None  # the partner's short note (never logged)
    time: datetime
    trace: TraceContext | None = None


def parse_update(
    entry: Entry, partner_id: str, now: datetime, *, limits: Limits = DEFAULT_LIMITS
) -> ParsedUpdate | Rejection:
    """Validate one entry of a partner's update stream (`hub.referral-updates.<partner>.v1`)
    written by `partner_id`. Never raises, for any fields."""
    doc = load_event(entry.fields, limits.max_bytes, limits)
    if isinstance(doc, Rejection):
        return doc
    event_id = _id_in(doc)
    try:
        envelope = CloudEvent[dict[str, Any]].model_validate(doc)
    except ValidationError as exc:
        return _invalid("invalid_envelope", "The CloudEvent envelope is not valid.", exc, event_id)
    if envelope.source != partner_id:
        message = (
            "The event's `source` does not match the update stream it was written to; "
            "a partner may only write to its own stream."
        )
        return Rejection("source_mismatch", message, (), envelope.id)
    model = lifecycle.UPDATE_DATA.get(envelope.type)
    if model is None:
        types = ", ".join(sorted(lifecycle.UPDATE_DATA))
        return Rejection("unknown_type", f"An update stream accepts only events of types {types}.", (), envelope.id)
    try:
        data = model.model_validate(envelope.data)
    except ValidationError as exc:
        return _invalid("invalid_update", "The update is not valid.", exc, envelope.id, "data.")
    if late := _time_problems(envelope.time, _windows(now, limits)):
        message = "The event's `time` is outside the accepted window."
        return Rejection("time_out_of_range", message, (*late,), envelope.id)
    state = lifecycle.STATE_OF[envelope.type]
    code: str | None = None
    text: str | None = None
    if isinstance(data, lifecycle.ReferralDeclinedData):
        code, text = data.reason.code.value, data.reason.text
    elif isinstance(data, lifecycle.ReferralCompletedData):
        code, text = data.outcome.code.value, data.outcome.text
    if isinstance(data, lifecycle.AlertAcknowledgedData):
        ref, alert = data.alert_ref, True
    else:
        assert isinstance(data, lifecycle.ReferralUpdateData)
        ref, alert = data.referral_ref, False
    return ParsedUpdate(envelope.id, partner_id, state, ref, alert, code, text, envelope.time, envelope.trace)
