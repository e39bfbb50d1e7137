"""Fixtures of the hostile suite: a hub that never reclaims within a test, and log capture.

`reclaim_idle_ms` is two minutes: an entry the hub does not answer on its first delivery stays
unanswered for the whole test, so "answered within seconds" cannot lean on a reclaim round.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.config.settings import Settings
from hub.store.tokens import TokenStore
from tests.hostile.builders import SCHOOL
from tests.hostile.harness import LogCapture, http_app


@pytest.fixture
def hostile_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"reclaim_idle_ms": 120_000, "reclaim_interval_s": 1.0})


@pytest.fixture
def captured_logs() -> Iterator[LogCapture]:
    capture = LogCapture()
    capture.attach()
    yield capture
    capture.detach()


@pytest.fixture
async def hostile_hub(hostile_settings: Settings, captured_logs: LogCapture) -> AsyncIterator[Any]:
    from hub.bootstrap import running

    async with running(hostile_settings) as hub:
        yield hub


@pytest.fixture
async def hostile_http(hostile_hub: Any, tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """An HTTP client of the running hub's API and the school's bearer token; an exception in
    the app comes back as the 500 a client would see."""
    tokens = TokenStore(tmp_path / "tokens.toml")
    token = tokens.issue(SCHOOL)
    transport = httpx.ASGITransport(app=http_app(hostile_hub, tokens), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
        yield client, token
