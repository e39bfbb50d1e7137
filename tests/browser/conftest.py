"""A live hub with the workspace for the browser and HTTP tests, one per module and database
(SQLite and PostgreSQL), and Debian's Chromium driven by Playwright (never `playwright install`)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from hub.config.settings import Settings
from tests.browser.harness import LiveHub, live_hub
from tests.databases import REQUIRE_ALL, fresh_database_url
from tests.logcapture import LogCapture

CHROMIUM = os.environ.get("HUB_TEST_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, redis_url: str, postgres_url: str | None
) -> Iterator[LiveHub]:
    tmp = tmp_path_factory.mktemp("web")
    database_url = fresh_database_url(request.param, tmp, postgres_url)
    redis.Redis.from_url(redis_url).flushdb()
    settings = Settings(
        env="test",
        data_dir=tmp / "data",
        redis_url=redis_url,
        database_url=database_url,
        poll_ms=20,
        relay_interval_s=0.05,
        web_cookie_secure=False,
    )
    logs = LogCapture()  # the hub's own log lines, to prove no personal data reaches them
    logs.attach()
    try:
        with live_hub(settings) as hub:
            hub.logs = logs
            yield hub
    finally:
        logs.detach()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        if REQUIRE_ALL:
            pytest.fail(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
        pytest.skip(f"no Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.browser.harness import screenshot_dir

    return screenshot_dir(tmp_path_factory.getbasetemp())
