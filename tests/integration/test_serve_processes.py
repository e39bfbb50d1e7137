"""`hub serve` with `HUB_PROCESSES=2`: a second hub process in the same consumer groups and a
third that runs the urgent watch alone, started again if they die, and stopped with the first
(real processes, real Redis and database)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis

from hub.bootstrap import Container, load_settings
from hub.schemas import streams
from hub.services.auth import PasswordAuthenticator
from hub.store.staff import StaffView
from tests.factories import cloudevent, entry, report_data

SCHOOL = "herstedlund-skole"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(what: str, check: Callable[[], Any], timeout_s: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def log_events(path: Path, event: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("event") == event]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def start_serve(
    tmp_path: Path, redis_url: str | None, database_url: str | None, processes: int = 2, hub_env: str = "test"
) -> tuple[subprocess.Popen[bytes], Path]:
    """`hub serve` in a process group of its own (as in a terminal); None: the embedded default."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update(
        HUB_ENV=hub_env,
        HUB_DATA_DIR=str(tmp_path / "data"),
        HUB_PROCESSES=str(processes),
        HUB_HTTP_PORT=str(free_port()),
        HUB_LOG_JSON="true",
    )
    env.update({k: v for k, v in (("HUB_REDIS_URL", redis_url), ("HUB_DATABASE_URL", database_url)) if v})
    tmp_path.mkdir(parents=True, exist_ok=True)
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        serve = subprocess.Popen(
            [sys.executable, "-c", "from hub.entrypoints.cli import main; main()", "serve"],
            env=env,
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
    return serve, log


def test_two_processes_share_the_streams_and_stop_together(tmp_path: Path, clean_redis: str, database_url: str) -> None:
    serve, log = start_serve(tmp_path, clean_redis, database_url)
    client = redis.Redis.from_url(clean_redis)
    stream = streams.intake(SCHOOL)
    try:
        wait_for("two more processes", lambda: len(log_events(log, "worker_process.started")) == 2)
        started = log_events(log, "worker_process.started")
        assert sorted(p["role"] for p in started) == ["hub", "urgent_watch"]
        child = next(int(p["pid"]) for p in started if p["role"] == "hub")
        watch = next(int(p["pid"]) for p in started if p["role"] == "urgent_watch")
        wait_for("three hubs", lambda: len(log_events(log, "hub.started")) == 3)
        hubs = log_events(log, "hub.started")
        assert len({h["consumer"] for h in hubs}) == 3  # three consumers, same groups
        assert sorted(h["role"] for h in hubs) == ["hub", "hub", "urgent_watch"]
        wait_for("every process's collector settled", lambda: len(log_events(log, "gc.settled")) == 3)
        for n in range(40):
            client.xadd(stream, entry(cloudevent(SCHOOL, report_data(), event_id=f"serve-{n}")))  # type: ignore[arg-type]
        wait_for("40 receipts", lambda: client.xlen(streams.receipts(SCHOOL)) == 40)

        os.kill(child, signal.SIGKILL)  # a worker process dies: it is started again, as a hub
        wait_for("a replacement", lambda: len(log_events(log, "worker_process.started")) == 3)
        wait_for("the replacement's hub", lambda: len(log_events(log, "hub.started")) == 4)
        replaced = log_events(log, "worker_process.started")[2]
        replacement = int(replaced["pid"])
        assert replacement != child and replaced["role"] == "hub" and log_events(log, "worker_process.died")

        serve.send_signal(signal.SIGTERM)
        assert serve.wait(60) == 0
        assert not alive(replacement) and not alive(watch)  # stopped with the first, not left behind
    finally:
        if serve.poll() is None:
            serve.kill()
        client.close()


def test_the_other_processes_stop_when_the_first_is_killed(tmp_path: Path, clean_redis: str) -> None:
    serve, log = start_serve(tmp_path, clean_redis, f"sqlite:///{tmp_path / 'hub.sqlite3'}")
    try:
        wait_for("two more processes", lambda: len(log_events(log, "worker_process.started")) == 2)
        wait_for("three hubs", lambda: len(log_events(log, "hub.started")) == 3)
        serve.kill()  # no chance to stop the others
        serve.wait(10)
        pids = [int(p["pid"]) for p in log_events(log, "worker_process.started")]
        wait_for("the orphans to stop", lambda: not any(alive(pid) for pid in pids), timeout_s=20)
    finally:
        if serve.poll() is None:
            serve.kill()


def test_ctrl_c_stops_the_embedded_default_cleanly(tmp_path: Path) -> None:
    """SIGINT to the whole process group, as a terminal sends it: the hub finishes and stops its
    embedded Redis itself, and nothing fails on the way (Redis is not stopped under it)."""
    serve, log = start_serve(tmp_path, None, None, processes=1)
    try:
        wait_for("the HTTP API", lambda: log_events(log, "http.listening"))
        os.killpg(serve.pid, signal.SIGINT)
        assert serve.wait(60) == 0
        assert log_events(log, "hub.stopped")
        errors = [line for line in log.read_text().splitlines() if '"level": "error"' in line]
        assert errors == []
    finally:
        if serve.poll() is None:
            serve.kill()


def test_a_first_serve_on_the_embedded_default_prints_a_working_demo_log_in(tmp_path: Path) -> None:
    """A developer's first `hub serve` (development, embedded default, no staff yet) prints the
    workspace's address and a demo log-in that works, on stdout and not in the log; in any other
    environment nothing is made."""
    serve, log = start_serve(tmp_path, None, None, processes=1, hub_env="development")
    try:
        found = wait_for("the demo log-in", lambda: re.search(r"adgangskode: (\S+)", log.read_text()))
        password = found.group(1)
        assert "/arbejdsrum/" in log.read_text()
        assert not [line for line in log.read_text().splitlines() if password in line and line.startswith("{")]
        os.killpg(serve.pid, signal.SIGINT)
        assert serve.wait(60) == 0
    finally:
        if serve.poll() is None:
            serve.kill()
    container = Container(load_settings(data_dir=tmp_path / "data", redis_url=None, database_url=None))
    try:
        who = PasswordAuthenticator(container.engine).authenticate("demo", password, datetime.now(UTC))
        assert isinstance(who, StaffView) and who.role == "triage"
    finally:
        container.close()
    # The test environment (as everywhere but a developer's machine): no account.
    again, log2 = start_serve(tmp_path / "t", None, None, processes=1)
    try:
        wait_for("the HTTP API", lambda: log_events(log2, "http.listening"))
        os.killpg(again.pid, signal.SIGINT)
        assert again.wait(60) == 0
    finally:
        if again.poll() is None:
            again.kill()
    assert "adgangskode" not in log2.read_text()
