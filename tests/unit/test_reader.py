"""One reader per consumer group (`read_forever`): every stream in one XREADGROUP, a pause after
a read that was not full (so a steady trickle is read, stored and acked in batches), none
after a full one (a burst is read as fast as it is stored)."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from hub.runtime.worker import Reading, read_forever
from hub.schemas.entry import Entry


class ScriptedRedis:
    """Answers each XREADGROUP with the next scripted reply (then blocks), noting when."""

    def __init__(self, replies: list[Any]) -> None:
        self.replies = replies
        self.reads: list[tuple[float, dict[str, str]]] = []

    async def xreadgroup(self, group: str, consumer: str, streams: dict[str, str], **_: Any) -> Any:
        self.reads.append((asyncio.get_running_loop().time(), dict(streams)))
        if not self.replies:
            await asyncio.sleep(3600)
        return self.replies.pop(0)


def reply(stream: str, n: int, first: int = 1) -> tuple[bytes, list[tuple[bytes, dict[bytes, bytes]]]]:
    return stream.encode(), [(f"{i}-0".encode(), {b"event": b"{}"}) for i in range(first, first + n)]


async def run_reader(replies: list[Any], reading: Reading, reads: int) -> tuple[ScriptedRedis, list[Any]]:
    client = ScriptedRedis(replies)
    handed: list[Any] = []

    async def handle(batches: list[tuple[str, list[Entry]]]) -> None:
        handed.append([(stream, [e.entry_id for e in entries]) for stream, entries in batches])

    task = asyncio.create_task(read_forever(client, ["a", "b"], reading, handle))  # type: ignore[arg-type]
    try:
        while len(client.reads) < reads:
            await asyncio.sleep(0.005)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    return client, handed


async def test_every_stream_in_one_read_and_each_reply_handed_over_whole() -> None:
    reading = Reading("intake", "g", "c", count=10, block_ms=5)
    replies = [[reply("a", 2), reply("b", 1)], None, [(b"b", [(b"7-0", None)])]]  # an empty read, a deleted entry
    client, handed = await run_reader(replies, reading, reads=4)
    assert [streams for _, streams in client.reads] == [{"a": ">", "b": ">"}] * 4
    assert handed == [[("a", ["1-0", "2-0"]), ("b", ["1-0"])], [], []]


async def test_after_a_read_that_was_not_full_the_next_waits_for_the_linger() -> None:
    reading = Reading("intake", "g", "c", count=10, block_ms=5, linger_ms=150)
    client, _ = await run_reader([[reply("a", 3)], [reply("b", 2)]], reading, reads=3)
    starts = [t for t, _ in client.reads]
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
    assert all(gap >= 0.14 for gap in gaps), gaps  # a trickle is read every 150 ms, not per entry


async def test_after_a_full_read_the_next_follows_at_once() -> None:
    reading = Reading("intake", "g", "c", count=10, block_ms=5, linger_ms=500)
    client, _ = await run_reader([[reply("a", 10)], [reply("b", 10)], [reply("a", 10, first=11)]], reading, reads=4)
    starts = [t for t, _ in client.reads]
    assert starts[-1] - starts[0] < 0.25  # a burst is not held back by the linger


async def test_an_empty_read_is_not_followed_by_a_pause() -> None:
    """A read that timed out empty has waited already; the next blocks at once, so an entry
    that arrives after a quiet spell is read the moment it arrives."""
    reading = Reading("intake", "g", "c", count=10, block_ms=5, linger_ms=500)
    client, _ = await run_reader([None, None, [reply("a", 1)]], reading, reads=3)
    starts = [t for t, _ in client.reads]
    assert starts[-1] - starts[0] < 0.25
