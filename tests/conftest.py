"""Shared fixtures: a real Redis and a real database for the integration tests.

Redis: `HUB_TEST_REDIS_URL` if set (CI uses the machine's server), else one embedded server
for the whole session; a Redis Cluster too for the modules marked so (`tests/redis_cluster.py`).
Databases: SQLite always; PostgreSQL too when `HUB_TEST_DATABASE_URL` is set. With
`HUB_TEST_REQUIRE_ALL=1` (CI) a missing PostgreSQL (or cluster) fails the run instead of
skipping, so a green CI means both databases were exercised.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from hub.config.settings import Settings
from hub.runtime.embedded_redis import EmbeddedRedis
from hub.runtime.transport import sync_redis_client
from hub.store.db import migrate
from tests.databases import REQUIRE_ALL, fresh_database_url
from tests.redis_cluster import CLUSTER, STANDALONE, cluster_url


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    url = os.environ.get("HUB_TEST_REDIS_URL")
    if url:
        yield url
        return
    # Unix socket paths are limited to ~107 bytes: keep the directory short.
    with tempfile.TemporaryDirectory(prefix="hubt-") as d:
        server = EmbeddedRedis(Path(d))
        yield server.start()
        server.stop()


@pytest.fixture
def redis_kind() -> str:
    """Standalone Redis; a module marked `tests.redis_cluster.ON_CLUSTER_TOO` runs on a cluster too."""
    return STANDALONE


@pytest.fixture
def clean_redis(redis_url: str, redis_kind: str) -> Iterator[str]:
    url = cluster_url() if redis_kind == CLUSTER else redis_url
    client = sync_redis_client(url)
    client.flushdb()  # on a cluster: on every master
    yield url
    client.flushdb()
    client.close()


@pytest.fixture(scope="session")
def postgres_url() -> str | None:
    url = os.environ.get("HUB_TEST_DATABASE_URL")
    if url:
        migrate(url)
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, postgres_url: str | None) -> Iterator[str]:
    yield fresh_database_url(request.param, tmp_path, postgres_url)


@pytest.fixture
def settings(tmp_path: Path, clean_redis: str, database_url: str) -> Settings:
    return Settings(
        env="test",
        data_dir=tmp_path / "data",
        redis_url=clean_redis,
        database_url=database_url,
        poll_ms=20,
        read_linger_ms=20,  # the linger's path, without the production pause in every test
        relay_interval_s=0.05,
        reclaim_interval_s=0.2,
        reclaim_idle_ms=500,
        batch_size=50,
    )


@pytest.fixture
async def hub(settings: Settings) -> AsyncIterator[object]:
    from hub.bootstrap import running

    async with running(settings) as running_hub:
        yield running_hub


# --- order: the browser tests last ------------------------------------------------------------


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The browser tests (tests/browser, minutes of real Chromium) run after everything else.
    Several unit modules take their `NOW` at import and parse events stamped at run time, which
    the clock-skew window (5 min) admits only if they run within minutes of collection."""
    items.sort(key=lambda item: item.path.parent.name == "browser")  # stable: the rest keep their order


# --- CI: a skipped test is a failed run ------------------------------------------------------

_skipped: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if REQUIRE_ALL and _skipped:
        print(f"\nHUB_TEST_REQUIRE_ALL=1 and {len(_skipped)} test(s) were skipped:")
        for nodeid in _skipped:
            print(f"  {nodeid}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
