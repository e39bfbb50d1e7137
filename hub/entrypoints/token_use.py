"""When each source token was last used, for the administrator's token page.

The tokens file is written only by `hub tokens` and the admin page (a request must not rewrite
it); the HTTP API notes a token's use instead in one Redis hash, `hub.tokens.last_used` (token
id -> UTC ISO time), at most once a minute per token and process. Only the token's id (its
hash's first 12 hex digits, safe to show) goes there. A Redis error costs the note, never the
request.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import redis.asyncio as aredis
from redis.exceptions import RedisError

from hub.logs import get_logger
from hub.store.tokens import ID_LENGTH, hash_token

LAST_USED = "hub.tokens.last_used"
EVERY_S = 60.0

log = get_logger("hub.entrypoints.token_use")


class UseNotes:
    """Notes a token's use (throttled per token id in this process)."""

    def __init__(self, client: aredis.Redis, every_s: float = EVERY_S) -> None:
        self.client = client
        self.every_s = every_s
        self._noted: dict[str, float] = {}

    async def note(self, token: str, now: datetime | None = None) -> None:
        token_id = hash_token(token)[:ID_LENGTH]
        mono = time.monotonic()
        if mono - self._noted.get(token_id, -self.every_s) < self.every_s:
            return
        self._noted[token_id] = mono
        moment = (now or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")
        try:
            await self.client.hset(LAST_USED, token_id, moment)
        except RedisError:
            log.warning("tokens.last_used_unwritten", token_id=token_id)


async def last_used(client: aredis.Redis) -> dict[str, datetime]:
    """Token id -> when it was last used (as far as noted); empty if Redis does not answer."""
    try:
        raw = await client.hgetall(LAST_USED)
    except RedisError:
        return {}
    out = {}
    for key, value in raw.items():
        try:
            token_id = key.decode() if isinstance(key, bytes) else str(key)
            out[token_id] = datetime.fromisoformat(value.decode() if isinstance(value, bytes) else str(value))
        except (UnicodeDecodeError, ValueError):
            continue
    return out
