"""The embedded default is supervised: its server is started again when it dies, and a hub
running in this process carries on (FastStream's reader, the relay, the reclaimer reconnect)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import redis.asyncio as aredis

from hub.config.settings import Settings
from hub.runtime.embedded_redis import EmbeddedRedis
from hub.schemas import streams
from tests.factories import cloudevent, entry, report_data
from tests.integration.wire import read_events
from tests.logcapture import LogCapture

SCHOOL = "herstedlund-skole"


@contextlib.contextmanager
def logged() -> Iterator[list[dict[str, Any]]]:
    """The hub's log events (JSON) written inside the block, filled in at its end."""
    capture, events = LogCapture(), []
    capture.attach()
    try:
        yield events
    finally:
        capture.detach()
        events += [json.loads(line) for line in capture.text.splitlines() if line.startswith("{")]


def named(events: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [e for e in events if e["event"] == name]


@pytest.fixture
def data_dir() -> Iterator[Path]:
    # Unix socket paths are limited to ~107 bytes: a short directory, not tmp_path.
    with tempfile.TemporaryDirectory(prefix="hube-") as d:
        yield Path(d)


def kill(server: EmbeddedRedis) -> int:
    pid = server.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    return pid


def wait_for_new_server(server: EmbeddedRedis, old_pid: int, timeout_s: float = 10) -> None:
    for _ in range(int(timeout_s / 0.05)):
        if server.pid not in (None, old_pid) and server._alive():
            return
        time.sleep(0.05)
    raise AssertionError("the embedded server was not started again")


def wait_until(check: Any, timeout_s: float = 10) -> None:
    for _ in range(int(timeout_s / 0.02)):
        if check():
            return
        time.sleep(0.02)
    raise AssertionError("timed out")


def test_a_killed_server_is_started_again_with_its_data(data_dir: Path) -> None:
    server = EmbeddedRedis(data_dir)
    url = server.start()
    try:
        client = redis.Redis.from_url(url)
        client.xadd("s", {"event": "1"})
        client.execute_command("WAITAOF", 1, 0, 2000)  # on disk before the kill
        old = kill(server)
        wait_for_new_server(server, old)
        assert client.xlen("s") == 1  # the same socket, the same append-only file; the client reconnects
        assert server.restarts == 1
        client.close()
    finally:
        server.stop()
    assert not server.socket.exists() or not server._alive()


def test_restarts_back_off_and_are_logged_once_each(data_dir: Path) -> None:
    server = EmbeddedRedis(data_dir, backoff_first_s=0.2, backoff_max_s=0.8)
    server.start()
    try:
        with logged() as events:
            for n in range(1, 5):
                old = kill(server)
                wait_for_new_server(server, old)
                # The supervisor has confirmed the launch (and logged it) before the next kill: a
                # kill while it still waits for the new server to answer is a failed start instead.
                wait_until(lambda n=n: server.restarts == n)
            time.sleep(0.3)  # nothing more is logged while it runs
        restarted = named(events, "embedded_redis.restarted")
        # One line per restart, the wait doubling to the cap: the server died within seconds each time.
        assert [e["retry_in_s"] for e in restarted] == [0.2, 0.4, 0.8, 0.8]
        assert [e["attempt"] for e in restarted] == [1, 2, 3, 4]
        assert len([e for e in events if e.get("level") in {"warning", "error"}]) == 4
    finally:
        server.stop()


def test_a_stopped_server_is_not_started_again(data_dir: Path) -> None:
    server = EmbeddedRedis(data_dir, backoff_first_s=0.05)
    server.start()
    server.stop()
    time.sleep(0.5)
    assert server.pid is None and server.restarts == 0


def test_start_up_prints_the_socket_and_a_redis_cli_line(data_dir: Path) -> None:
    server = EmbeddedRedis(data_dir)
    with logged() as events:
        server.start()
    try:
        [started] = named(events, "embedded_redis.started")
        assert started["socket"] == str(data_dir.resolve() / "redis.sock")
        assert started["cli"].endswith(f"-s {data_dir.resolve() / 'redis.sock'}")
        cli, *_ = started["cli"].split()
        assert cli in {"redis-cli", "valkey-cli"} or Path(cli).is_file()
    finally:
        server.stop()


async def test_a_hub_in_process_accepts_reports_after_its_embedded_server_was_killed(
    data_dir: Path, database_url: str
) -> None:
    from hub.bootstrap import running

    settings = Settings(
        env="test",
        data_dir=data_dir,
        redis_url=None,  # the embedded default
        database_url=database_url,
        poll_ms=20,
        relay_interval_s=0.05,
        reclaim_interval_s=0.2,
        reclaim_idle_ms=500,
        batch_size=50,
    )
    async with running(settings) as hub:
        assert hub.embedded is not None
        school = aredis.Redis.from_url(hub.redis_url)
        await school.xadd(streams.intake(SCHOOL), entry(cloudevent(SCHOOL, report_data())))
        [first] = await read_events(school, streams.receipts(SCHOOL), 1)
        assert first["type"] == "dk.albertslund.hub.report.accepted.v1"
        await school.execute_command("WAITAOF", 1, 0, 2000)

        with logged() as events:
            old = kill(hub.embedded)
            await asyncio.to_thread(wait_for_new_server, hub.embedded, old)
            after = cloudevent(SCHOOL, report_data())
            await school.xadd(streams.intake(SCHOOL), entry(after))
            receipts = await read_events(school, streams.receipts(SCHOOL), 2, timeout_s=15)
        # The server's restart is one line; each reader notices the short outage once or twice.
        assert len(named(events, "embedded_redis.restarted")) == 1
        assert len(events) < 60
        assert receipts[-1]["data"]["report_event_id"] == after["id"]
        assert receipts[-1]["type"] == "dk.albertslund.hub.report.accepted.v1"
        await school.aclose()
