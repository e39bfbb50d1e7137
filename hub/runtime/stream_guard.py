"""Detection of entries deleted from a stream the hub reads before the hub processed them.

A source's Redis user may append to its intake stream and nothing else, but Redis 7 cannot
refuse the trimming arguments of the append itself: `XADD <key> MAXLEN 1 * ...` and
`XADD <key> MINID ...` need only the write permission `XADD` needs (its key spec is
`RW update`, not `insert`; ACL rules cannot look at arguments past the first). So a source
can delete its own reports before the hub has read them. What cannot be refused is noticed
here and logged as an error, with the stream, the group and the count (deploy/README.md).

Redis 7 facts this relies on (verified on 7.0.15): a trim removes entries from the head of
the stream and leaves `max-deleted-entry-id` alone; `entries-added` counts every entry ever
appended, and a consumer group's `entries-read` counts the entries it has read. So, for a
group that processes what it reads:

- deleted before the group read them = `entries-added - entries-read - (entries now after
  the group's last-delivered-id)`; the count stays in the counters after the group reads on,
  so a loss is seen however late the check runs;
- read but deleted before they were acked = pending entries older than the stream's first
  entry (only a consumer that still holds them in memory can store them: a crashed one
  cannot, and `XAUTOCLAIM` drops them from the pending list).

Redis 6.2 (an operator's older Redis; the embedded default is Valkey 8.1) keeps none of these counters: there the
groups are created without one and nothing is checked.

The hub itself never deletes entries it has not processed (retention trims only below its
groups' progress: `hub.services.retention`), so every count here is someone else's doing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aredis
from redis.exceptions import RedisError, ResponseError

from hub import metrics
from hub.logs import get_logger
from hub.schemas.catalogue import Catalogue

log = get_logger("hub.stream_guard")

# Counting the entries after a group's position reads them (XRANGE has no count-only form):
# beyond this backlog the unread part waits for a later round, when the group has caught up
# (the counters keep the loss until then). Small, so a burst of reports costs the check little.
SCAN_CAP = 64


@dataclass(frozen=True, slots=True)
class Loss:
    stream: str
    group: str
    unread: int  # deleted before the group read them
    pending: int  # read, but deleted before they were acked

    @property
    def total(self) -> int:
        return self.unread + self.pending


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _id(value: Any) -> tuple[int, int]:
    ms, _, seq = _text(value).partition("-")
    return int(ms), int(seq or 0)


def _entry_id(entry: Any) -> str | None:
    """The id of XINFO STREAM's `first-entry`/`last-entry` (None for an empty stream)."""
    if not entry:
        return None
    return _text(entry[0] if isinstance(entry, list | tuple) else entry)


async def create_groups(client: aredis.Redis, catalogue: Catalogue) -> None:
    """Create the hub's consumer groups (the catalogue's `groups`), each with a read counter.

    A group created without `ENTRIESREAD` has no counter until it catches up, and the
    counter Redis then estimates (the stream's `entries-added`) silently counts trimmed
    entries as read: the loss check would never see them. So the counter is set here: a
    group from `0` has "read" only what was already deleted (`entries-added - length`; an
    append racing this keeps the difference), a group from `$` everything. An existing
    group (BUSYGROUP) is left as it is."""
    counters = True  # Redis 7 and Valkey; Redis 6.2 has neither the counters nor ENTRIESREAD
    for stream, group in catalogue.hub_groups():
        try:
            info = await client.xinfo_stream(stream)
            counters = counters and "entries-added" in info
            added, length = int(info.get("entries-added", 0)), int(info["length"])
        except ResponseError:  # no such key: created empty here
            added = length = 0
        read = added if group.start == "$" else added - length
        try:
            await _create(client, stream, group.name, group.start, read if counters else None)
        except ResponseError:
            if not counters:
                raise
            counters = False  # Redis 6.2 misreads ENTRIESREAD (its error names no cause): without it
            await _create(client, stream, group.name, group.start, None)


async def _create(client: aredis.Redis, stream: str, group: str, start: str, read: int | None) -> None:
    try:
        await client.xgroup_create(stream, group, id=start, mkstream=True, entries_read=read)
    except ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def guarded(catalogue: Catalogue) -> list[tuple[str, str]]:
    """Every (stream, group) the hub processes from: the pairs this module checks."""
    return [(stream, g.name) for stream, g in catalogue.hub_groups() if g.processes]


async def _unread_now(client: aredis.Redis, stream: str, info: dict[str, Any], last: str) -> int | None:
    """How many entries now in the stream the group has not read yet (None: too many to count)."""
    first, newest = _entry_id(info.get("first-entry")), _entry_id(info.get("last-entry"))
    if first is None or newest is None:
        return 0
    if _id(first) > _id(last):
        return int(info["length"])
    if _id(newest) <= _id(last):
        return 0
    after = await client.xrange(stream, min=f"({last}", max="+", count=SCAN_CAP) or []
    return len(after) if len(after) < SCAN_CAP else None


async def loss(client: aredis.Redis, stream: str, group: str) -> Loss | None:
    """What was deleted from `stream` before `group` processed it (None: no stream or group, or a
    Redis before 7, which keeps no counters). The unread part is 0 while the group's read
    counter is unknown (a group created without one, until it catches up)."""
    try:
        info = await client.xinfo_stream(stream)
        groups = await client.xinfo_groups(stream)
    except ResponseError:  # no such key
        return None
    found = [g for g in groups if _text(g["name"]) == group]
    if not found or "entries-added" not in info:  # Redis before 7 keeps no counters: cannot tell
        return None
    g = found[0]
    last = _text(g["last-delivered-id"])
    unread = 0
    if g.get("entries-read") is not None:
        now = await _unread_now(client, stream, info, last)
        if now is not None:
            unread = max(0, int(info["entries-added"]) - int(g["entries-read"]) - now)
    pending = 0
    if int(g["pending"]):
        first = _entry_id(info.get("first-entry"))
        upper = f"({first}" if first is not None else "+"
        pending = len(await client.xpending_range(stream, group, min="-", max=upper, count=int(g["pending"])))
    return Loss(stream, group, unread, pending)


class LossWatch:
    """Checks the hub's groups and logs each new loss once per process, as an error."""

    def __init__(self, client: aredis.Redis, pairs: Sequence[tuple[str, str]]) -> None:
        self._client = client
        self._pairs = list(pairs)
        self._seen: dict[tuple[str, str], Loss] = {}

    async def check(self) -> list[Loss]:
        """The losses found now that grew since the last check (and logs them)."""
        grown: list[Loss] = []
        for stream, group in self._pairs:
            found = await loss(self._client, stream, group)
            if found is None:
                continue
            before = self._seen.get((stream, group))
            self._seen[(stream, group)] = found
            if found.unread > (before.unread if before else 0) or found.pending > (before.pending if before else 0):
                grown.append(found)
                metrics.ENTRIES_DELETED_UNPROCESSED.labels(group).inc(
                    found.total - (before.total if before else 0)
                )
                log.error(
                    "stream.entries_deleted_unprocessed",
                    stream=stream,
                    group=group,
                    unread=found.unread,
                    pending=found.pending,
                    count=found.total,
                    hint="a writer trimmed the stream (XADD MAXLEN/MINID or XTRIM); see deploy/README.md",
                )
        return grown

    async def run(self, interval_s: float) -> None:
        """Check every `interval_s` seconds until cancelled; a Redis error waits for the next round."""
        while True:
            try:
                await self.check()
            except (OSError, RedisError) as exc:
                log.warning("stream.guard_failed", error=type(exc).__name__)
            await asyncio.sleep(interval_s)
