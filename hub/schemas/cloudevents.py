"""CloudEvents 1.0 in structured JSON mode: the envelope of every stream entry.

Every entry on every hub stream has exactly one field, `event`, whose value is one of
these documents, so any Redis client in any language can read and write the hub.
"""

from __future__ import annotations

import functools
import json
import os
import threading
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from hub.tracing import TRACEPARENT_PATTERN, TRACESTATE_MAX, TraceContext, traceparent_of, tracestate_of

EVENT_FIELD = "event"
HUB_SOURCE = "/dk/albertslund/hub"
TYPE_PREFIX = "dk.albertslund.hub."

DataT = TypeVar("DataT")


def event_type(noun: str, verb: str) -> str:
    """`dk.albertslund.hub.<noun>.<past-tense-verb>.v1`."""
    return f"{TYPE_PREFIX}{noun}.{verb}.v1"


def printable(value: object) -> object:
    """Identifiers (ids, sources, types, references) hold no control or format characters:
    no NUL (PostgreSQL refuses it), no newline or bidi override that would make one id look
    like another in a log or a review. The error type is the rejection code."""
    if isinstance(value, str) and not value.isprintable():
        raise PydanticCustomError("control_character", "an identifier must not contain control characters")
    return value


# Before the type's own checks, so a pattern or length error does not hide it.
Identifier = Annotated[str, BeforeValidator(printable)]

# The distributed-tracing extension (W3C Trace Context). Optional: a malformed value is ignored
# (read as absent), never a reason to refuse the event (`hub.tracing`).
TraceParent = Annotated[
    str | None,
    BeforeValidator(traceparent_of),
    Field(
        json_schema_extra={"pattern": TRACEPARENT_PATTERN},  # a schema hint: the value is read, not refused
        description="W3C Trace Context `traceparent` (CloudEvents distributed-tracing extension). Optional; "
        "a malformed value is ignored, not refused. The hub continues the trace and puts a `traceparent` of "
        "the same trace on the events it publishes for this one.",
    ),
]
TraceState = Annotated[
    str | None,
    BeforeValidator(tracestate_of),
    Field(
        json_schema_extra={"maxLength": TRACESTATE_MAX},
        description="W3C Trace Context `tracestate`, with `traceparent` only. Optional; a malformed value "
        "(or one over 512 characters) is ignored.",
    ),
]


class CloudEvent(BaseModel, Generic[DataT]):
    """A CloudEvents 1.0 envelope. `extra="forbid"`: unknown attributes are refused, not ignored."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    specversion: Literal["1.0"]
    id: Identifier = Field(min_length=1, max_length=200)
    source: Identifier = Field(min_length=1, max_length=200)
    type: Identifier = Field(min_length=1, max_length=200)
    time: AwareDatetime
    datacontenttype: Literal["application/json"] = "application/json"
    subject: Identifier | None = Field(default=None, max_length=200)
    traceparent: TraceParent = None
    tracestate: TraceState = None
    data: DataT

    @property
    def trace(self) -> TraceContext | None:
        """The event's trace context, if it carries a valid one."""
        return TraceContext(self.traceparent, self.tracestate) if self.traceparent is not None else None

    @field_validator("time", mode="before")
    @classmethod
    def _rfc3339_text(cls, value: object) -> object:
        # CloudEvents' `time` is an RFC 3339 string; pydantic would also take a number.
        if not isinstance(value, str | datetime):
            raise ValueError("time must be an RFC 3339 timestamp string")
        return value


def new_event(
    type_: str,
    data: BaseModel,
    *,
    now: datetime | None = None,
    subject: str | None = None,
    event_id: str | None = None,
    source: str = HUB_SOURCE,
    trace: TraceContext | None = None,
) -> dict[str, Any]:
    """A CloudEvent as a plain JSON-ready dict (what goes on the wire); `trace`: its trace context."""
    event: dict[str, Any] = {
        "specversion": "1.0",
        "id": event_id or uuid4_text(),
        "source": source,
        "type": type_,
        "time": (now or datetime.now(UTC)).isoformat(),
        "datacontenttype": "application/json",
        "data": data.model_dump(mode="json", exclude_none=True),
    }
    if subject is not None:
        event["subject"] = subject
    if trace is not None:
        event.update(trace.attributes())
    return event


def new_event_json(
    type_: str,
    data: BaseModel,
    *,
    now: datetime,
    subject: str | None = None,
    event_id: str | None = None,
    source: str = HUB_SOURCE,
    trace: TraceContext | None = None,
) -> tuple[str, str]:
    """(id, JSON text) of the same CloudEvent `new_event` builds, serialized in one pass:
    `data` goes straight from the model to JSON, without a dict in between. The hot path
    makes several per report, so the envelope is put together from escaped strings."""
    event_id = event_id or uuid4_text()
    text = (
        '{"specversion":"1.0","id":'
        + _quote(event_id)
        + ',"source":'
        + _quote(source)
        + ',"type":'
        + _quote(type_)
        + ',"time":"'
        + _isoformat(now)
        + '","datacontenttype":"application/json","data":'
        + data.model_dump_json(exclude_none=True)
    )
    if subject is not None:
        text += ',"subject":' + _quote(subject)
    if trace is not None:  # both valid W3C values: nothing to escape
        text += ',"traceparent":"' + trace.traceparent + '"'
        if trace.tracestate:
            text += ',"tracestate":"' + trace.tracestate + '"'
    return event_id, text + "}"


def _quote(text: str) -> str:
    """A JSON string literal, non-ASCII kept as it is (as `json.dumps(..., ensure_ascii=False)`)."""
    return _encode_basestring(text)


_encode_basestring = json.encoder.encode_basestring  # the C implementation where available


@functools.lru_cache(maxsize=16)
def _isoformat(now: datetime) -> str:
    return now.isoformat()  # one `now` per batch: formatted once


class _RandomPool(threading.local):
    """Random bytes from the OS, taken 4 KiB at a time per thread.

    `os.urandom` is a system call that lets go of the GIL; on a busy process each call then
    waits for the GIL again (up to the 5 ms switch interval), and the hot path makes several
    ids per report. The bytes are the same CSPRNG output, only fetched in bulk."""

    def __init__(self) -> None:
        self.buf = b""
        self.pos = 0

    def take16(self) -> bytes:
        if self.pos + 16 > len(self.buf):
            self.buf, self.pos = os.urandom(4096), 0
        self.pos += 16
        return self.buf[self.pos - 16 : self.pos]


_POOL = _RandomPool()


def _fresh_pool() -> None:
    global _POOL
    _POOL = _RandomPool()  # a forked child must not hand out its parent's next ids


os.register_at_fork(after_in_child=_fresh_pool)


def uuid4_text() -> str:
    """A random (version 4) UUID as text, as `str(uuid.uuid4())` gives, from the pooled bytes."""
    b = bytearray(_POOL.take16())
    b[6] = (b[6] & 0x0F) | 0x40  # version 4
    b[8] = (b[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
