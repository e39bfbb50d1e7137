"""The audit chain's use cases: verify it, and publish its head as an anchor.

The chain itself is `hub.store.audit_chain` (appends happen where the records are written);
verification is `hub.store.audit_verify`. An anchor is the head (sequence number and hash) as
an `audit.anchored` event on `hub.audit.anchor.v1`: a copy kept outside the database (the
stream, a partner's log, a printout in the DPO's file) lets `hub audit verify --anchor SEQ:HASH`
prove that nothing up to it was changed since, even by someone who rewrote the whole chain.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
import redis.asyncio as aredis
from sqlalchemy.engine import Engine
from sqlmodel import Session

from hub.errors import HubError
from hub.schemas import streams
from hub.schemas.cloudevents import EVENT_FIELD, new_event
from hub.schemas.events import AUDIT_ANCHORED, AuditAnchor
from hub.store import audit_chain
from hub.store.audit_chain import Head
from hub.store.audit_verify import Verdict, verify

__all__ = ["Head", "Verdict", "anchor_event", "chain_head", "parse_anchor", "publish_anchor", "verify"]


class BadAnchor(HubError):
    """`--anchor` is not `SEQ:HASH` (a number, a colon and 64 hexadecimal digits)."""


def parse_anchor(text: str) -> Head:
    seq, _, digest = text.strip().partition(":")
    digest = digest.lower()
    if not seq.isdigit() or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise BadAnchor("anchor must be SEQ:HASH")
    return Head(int(seq), digest)


def chain_head(engine: Engine) -> Head | None:
    with Session(engine) as session:
        return audit_chain.head(session)


def anchor_event(head: Head, now: datetime) -> dict[str, Any]:
    return new_event(AUDIT_ANCHORED, AuditAnchor(seq=head.seq, hash=head.hash), now=now)


async def last_anchor(client: aredis.Redis) -> Head | None:
    """The newest anchor on the stream, if any."""
    found = await client.xrevrange(streams.AUDIT_ANCHOR, count=1)
    if not found:
        return None
    fields = {_text(k): v for k, v in (found[0][1] or {}).items()}
    data = orjson.loads(fields[EVENT_FIELD])["data"]
    return Head(int(data["seq"]), str(data["hash"]))


async def publish_anchor(client: aredis.Redis, head: Head | None, now: datetime) -> bool:
    """Publish `head` unless it is the newest anchor already (or the chain is empty)."""
    if head is None or await last_anchor(client) == head:
        return False
    await client.xadd(streams.AUDIT_ANCHOR, {EVENT_FIELD: orjson.dumps(anchor_event(head, now))})
    return True


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
