"""The event loop `hub serve`'s processes run on (`hub.runtime.event_loop`): uvloop by default,
asyncio's own when `HUB_EVENT_LOOP=asyncio` asks for it. The test process's own loop is not
touched: each run has a loop of its own, closed afterwards."""

from __future__ import annotations

import asyncio

import pytest

from hub.config.settings import EventLoop, Settings
from hub.runtime import event_loop


async def _where() -> tuple[str, str]:
    await asyncio.sleep(0)  # the loop runs a task's steps, not only its first
    return event_loop.name(), type(asyncio.get_running_loop()).__module__


def test_the_default_is_uvloop() -> None:
    assert Settings().event_loop is EventLoop.UVLOOP


def test_uvloop_runs_where_it_is_chosen() -> None:
    pytest.importorskip("uvloop")  # a dependency wherever it has wheels (not on Windows)
    assert event_loop.run(_where(), EventLoop.UVLOOP) == ("uvloop", "uvloop")


def test_asyncio_runs_where_it_is_asked_for() -> None:
    name, module = event_loop.run(_where(), EventLoop.ASYNCIO)
    assert name == "asyncio" and module.startswith("asyncio.")


def test_the_setting_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_EVENT_LOOP", "asyncio")
    assert Settings().event_loop is EventLoop.ASYNCIO
    monkeypatch.setenv("HUB_EVENT_LOOP", "trio")
    with pytest.raises(ValueError, match="event_loop"):
        Settings()
