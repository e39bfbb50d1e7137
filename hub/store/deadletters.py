"""Dead-letter rows: an entry kept whole (its fields, losslessly encoded) for inspection and
replay. Plain values in, no transport types; the redacted event for `hub.deadletter.v1` is
built by the services and goes out as an outbox row. The replay (`hub.services.replay`) loads
a record locked and records its replay here; who showed or replayed one is recorded here too
(`record_access`, chained); listings are in the query layer (`hub.store.queries.dead_letters`)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, select

from hub.store import audit_chain
from hub.store.bulk import table_of
from hub.store.models import PAYLOAD_FIELDS_V1, PAYLOAD_KV_LINES, DeadLetterAccess, DeadLetterRecord


def encode_fields(fields: Mapping[bytes, bytes]) -> bytes:
    """An entry's fields as bytes, losslessly: `<len>:<key><len>:<value>` for each, in order."""
    out = bytearray()
    for key, value in fields.items():
        for part in (key, value):
            out += b"%d:" % len(part) + part
    return bytes(out)


def decode_fields(payload: bytes, encoding: str = PAYLOAD_FIELDS_V1) -> dict[bytes, bytes]:
    """The fields `encode_fields` wrote. Raises ValueError if the payload cannot be restored exactly."""
    if encoding == PAYLOAD_KV_LINES:
        # The old form joined `key=value` with newlines: only a lone `event` field is unambiguous.
        if payload.startswith(b"event="):
            return {b"event": payload[len(b"event=") :]}
        raise ValueError("this dead letter predates lossless storage and holds no `event` field")
    if encoding != PAYLOAD_FIELDS_V1:
        raise ValueError(f"unknown payload encoding {encoding!r}")
    parts: list[bytes] = []
    pos = 0
    while pos < len(payload):
        colon = payload.index(b":", pos)
        length = int(payload[pos:colon])
        end = colon + 1 + length
        if length < 0 or end > len(payload):
            raise ValueError("truncated dead-letter payload")
        parts.append(payload[colon + 1 : end])
        pos = end
    if len(parts) % 2:
        raise ValueError("dead-letter payload has a key without a value")
    return dict(zip(parts[::2], parts[1::2], strict=True))


def deadletter_record(
    stream: str,
    entry_id: str,
    fields: Mapping[bytes, bytes],
    deliveries: int,
    reason: str,
    detail: str,
    now: datetime,
) -> dict[str, Any]:
    """The dead-letter row of an entry (for `RowBatch.deadletter`): its fields losslessly, with
    their digest and size (which the redacted event reports instead of the content)."""
    payload = encode_fields(fields)
    return {
        "stream": stream,
        "entry_id": entry_id,
        "reason": reason,
        "detail": detail,
        "deliveries": deliveries,
        "payload": payload,
        "payload_encoding": PAYLOAD_FIELDS_V1,
        "payload_sha256": hashlib.sha256(payload).hexdigest(),
        "created_at": now,
    }


def deadletter(session: Session, record_id: int, *, for_update: bool = False) -> DeadLetterRecord | None:
    """The record with this id (locked until the transaction ends with `for_update`, on PostgreSQL)."""
    query = select(DeadLetterRecord).where(DeadLetterRecord.id == record_id)
    if for_update:
        query = query.with_for_update()
    return session.exec(query).first()


def record_replay(record: DeadLetterRecord, new_entry_id: str, now: datetime) -> None:
    """The record was written to its stream again, as `new_entry_id` (the caller adds and commits it)."""
    record.replayed_at = now
    record.replay_count += 1
    record.replay_entry_id = new_entry_id


def record_access(
    session: Session,
    record: DeadLetterRecord,
    *,
    action: str,
    actor: str,
    os_user: str,
    reason: str,
    now: datetime,
    new_entry_id: str | None = None,
) -> None:
    """Who showed the record's payload or replayed it (`action`: show, replay), when and why:
    a `DeadLetterAccess` row, chained (`hub.store.audit_chain`), in the session's transaction."""
    row = {
        "ref": uuid.uuid4().hex,
        "deadletter_id": record.id,
        "stream": record.stream,
        "entry_id": record.entry_id,
        "action": action,
        "actor": actor,
        "os_user": os_user,
        "reason": reason,
        "new_entry_id": new_entry_id,
        "at": now,
    }
    session.connection().execute(insert(table_of(DeadLetterAccess)), [row])
    audit_chain.append(session, audit_chain.DEADLETTER_ACCESS, [row])
