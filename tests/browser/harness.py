"""A real hub with the workspace, served by uvicorn on a free port in a thread of its own, for
the browser and HTTP tests of the workspace; and the helpers they share (accounts, reports)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import redis
import uvicorn
from sqlmodel import Session

from hub.bootstrap import running
from hub.config.settings import Settings
from hub.entrypoints.serve import build_app
from hub.schemas import streams
from hub.services.auth import hash_password
from hub.services.envelope import report_ref
from hub.store import staff as staff_store
from hub.store.db import make_engine
from hub.store.models import Report
from tests.factories import cloudevent, entry
from tests.logcapture import LogCapture

SCHOOL = "herstedlund-skole"
PASSWORD = "korrekt-hest-batteri-9"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveHub:
    url: str  # http://127.0.0.1:PORT
    settings: Settings
    redis: redis.Redis
    logs: LogCapture | None = None

    @property
    def workspace(self) -> str:
        return f"{self.url}/arbejdsrum"

    def add_staff(self, role: str, username: str | None = None) -> str:
        username = username or f"{role}-{uuid.uuid4().hex[:6]}"
        engine = make_engine(self.settings.effective_database_url)
        with Session(engine) as s:
            staff_store.add_staff(
                s, username, f"Test {role.capitalize()}", role, hash_password(PASSWORD), datetime.now(UTC)
            )
            s.commit()
        engine.dispose()
        return username

    def report(self, data: dict[str, Any], source: str = SCHOOL) -> str:
        """Send a report as a source's system would (XADD) and wait until the hub stored it."""
        event = cloudevent(source, data)
        self.redis.xadd(streams.intake(source), entry(event))  # type: ignore[arg-type]
        ref = report_ref(source, event["id"])
        engine = make_engine(self.settings.effective_database_url)
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                with Session(engine) as s:
                    if s.get(Report, ref) is not None:
                        return ref
                time.sleep(0.05)
        finally:
            engine.dispose()
        raise AssertionError("the hub did not store the report in time")


@contextlib.contextmanager
def live_hub(settings: Settings) -> Iterator[LiveHub]:
    """The hub (workers and HTTP with the workspace) running until the block ends."""
    port = free_port()
    settings = settings.model_copy(update={"http_host": "127.0.0.1", "http_port": port})
    ready, failed = threading.Event(), []
    holder: dict[str, uvicorn.Server] = {}

    async def main() -> None:
        async with running(settings) as hub:
            config = uvicorn.Config(
                build_app(hub), host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="off"
            )
            server = uvicorn.Server(config)
            holder["server"] = server
            task = asyncio.create_task(server.serve())
            while not server.started:
                await asyncio.sleep(0.02)
            ready.set()
            await task

    def run() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:  # noqa: BLE001  (reported to the test below)
            failed.append(exc)
            ready.set()

    thread = threading.Thread(target=run, name="live-hub", daemon=True)
    thread.start()
    assert ready.wait(60), "the hub did not start"
    if failed:
        raise failed[0]
    client = redis.Redis.from_url(settings.redis_url or "")
    try:
        yield LiveHub(f"http://127.0.0.1:{port}", settings, client)
    finally:
        holder["server"].should_exit = True
        thread.join(30)
        client.close()


def screenshot_dir(tmp: Path) -> Path:
    """Where the tests save screenshots: `HUB_SCREENSHOTS` if set (e.g. docs/screenshots), else tmp."""
    import os

    path = Path(os.environ.get("HUB_SCREENSHOTS") or tmp / "screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


def http_login(live: LiveHub, username: str, password: str = PASSWORD) -> httpx.Client:
    """An HTTP client logged in to the workspace as `username` (redirects not followed)."""
    client = httpx.Client(base_url=live.url, follow_redirects=False, timeout=20)
    page = client.get("/arbejdsrum/log-ind")
    token = CSRF_FIELD.search(page.text).group(1)  # type: ignore[union-attr]
    client.post("/arbejdsrum/log-ind", data={"csrf": token, "brugernavn": username, "adgangskode": password})
    return client


def csrf_from(client: httpx.Client, path: str) -> str:
    """The session's CSRF token, read from a page's form."""
    return CSRF_FIELD.search(client.get(path).text).group(1)  # type: ignore[union-attr]
def log_in(page: Any, live: LiveHub, username: str, password: str = PASSWORD) -> None:
    """Log in through the log-in page as a staff member would."""
    page.goto(f"{live.url}/")
    page.get_by_label("Brugernavn").fill(username)
    page.get_by_label("Adgangskode").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Log ind").click()


def events_on(live: LiveHub, stream: str, count: int) -> list[dict[str, Any]]:
    """The data of the events on `stream` once there are `count` (published after the commit)."""
    deadline = time.monotonic() + 10
    while live.redis.xlen(stream) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return [json.loads(f[b"event"])["data"] for _, f in live.redis.xrange(stream)]
