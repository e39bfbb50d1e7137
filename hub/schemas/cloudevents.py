"""CloudEvents 1.0 in structured JSON mode: the envelope of every stream entry.

Every entry on every hub stream has exactly one field, `event`, whose value is one of
these documents, so any Redis client in any language can read and write the hub.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

EVENT_FIELD = "event"
HUB_SOURCE = "/dk/albertslund/hub"
TYPE_PREFIX = "dk.albertslund.hub."

DataT = TypeVar("DataT")


def event_type(noun: str, verb: str) -> str:
    """`dk.albertslund.hub.<noun>.<past-tense-verb>.v1`."""
    return f"{TYPE_PREFIX}{noun}.{verb}.v1"


class CloudEvent(BaseModel, Generic[DataT]):
    """A CloudEvents 1.0 envelope. `extra="forbid"`: unknown attributes are refused, not ignored."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    specversion: Literal["1.0"]
    id: str = Field(min_length=1, max_length=200)
    source: str = Field(min_length=1, max_length=200)
    type: str = Field(min_length=1, max_length=200)
    time: AwareDatetime
    datacontenttype: Literal["application/json"] = "application/json"
    subject: str | None = Field(default=None, max_length=200)
    data: DataT

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
) -> dict[str, Any]:
    """A CloudEvent as a plain JSON-ready dict (what goes on the wire)."""
    event: dict[str, Any] = {
        "specversion": "1.0",
        "id": event_id or str(uuid.uuid4()),
        "source": source,
        "type": type_,
        "time": (now or datetime.now(UTC)).isoformat(),
        "datacontenttype": "application/json",
        "data": data.model_dump(mode="json", exclude_none=True),
    }
    if subject is not None:
        event["subject"] = subject
    return event
