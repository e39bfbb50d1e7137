"""The event loop a process runs its one hub on: uvloop where it is installed, unless
`HUB_EVENT_LOOP=asyncio` asks for Python's own.

A hub process makes thousands of small socket reads and writes and timers a second (stream
reads, acks, publishes, the relay's wake-ups). uvloop runs them on libuv, in C, with less CPU
than asyncio's selector loop, which is written in Python (`docs/performance.md`). Used where a
process runs one hub for its life (`hub serve` and its processes, the benchmark), as
`hub.runtime.collector`; the tests run on pytest-asyncio's loop, and the short CLI commands on
asyncio's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from hub.config.settings import EventLoop

T = TypeVar("T")


def loop_factory(choice: EventLoop) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's, if chosen and installed; None: asyncio's default."""
    if choice is not EventLoop.UVLOOP:
        return None
    try:
        import uvloop
    except ImportError:  # no wheel for this platform (Windows): asyncio's loop, which `name` reports
        return None
    return uvloop.new_event_loop


def run(main: Coroutine[Any, Any, T], choice: EventLoop) -> T:
    """`asyncio.run(main)` on the chosen loop."""
    with asyncio.Runner(loop_factory=loop_factory(choice)) as runner:
        return runner.run(main)


def name() -> str:
    """The running loop's implementation, for the start-up log: "uvloop" or "asyncio"."""
    return type(asyncio.get_running_loop()).__module__.partition(".")[0]
