"""The composition root's container: one per process, made from settings read once; the engine
it hands out is migrated (an empty data directory works), Redis is made on demand (an embedded
server when none is configured), and `close()` lets go of all of it."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import redis
from sqlalchemy import inspect

from hub.bootstrap import Container, build
from hub.config.settings import Settings


def test_engine_is_migrated_and_closed(tmp_path: Path) -> None:
    container = Container(Settings(env="test", data_dir=tmp_path / "new", database_url=None))
    assert not (tmp_path / "new").exists()
    assert container.registry.sources  # made on first use, no database needed for it
    engine = container.engine
    assert engine is container.engine  # one engine per container
    assert {"report", "triageitem", "deadletterrecord"} <= set(inspect(engine).get_table_names())
    container.close()
    assert container.database(migrate_first=False) is not engine  # a new one after close()
    container.close()


def test_redis_on_demand_embedded_when_unconfigured() -> None:
    # Unix socket paths are limited to ~107 bytes: keep the directory short.
    with tempfile.TemporaryDirectory(prefix="hubc-") as d:
        container = Container(Settings(env="test", data_dir=Path(d), redis_url=None))
        client = container.redis()
        assert client.ping() and container.redis() is client
        url = container.redis_url()
        container.close()
        with pytest.raises(redis.ConnectionError):
            redis.Redis.from_url(url).ping()  # the embedded server is stopped


def test_build_and_roles_start_from_the_container(tmp_path: Path, clean_redis: str) -> None:
    settings = Settings(env="test", data_dir=tmp_path, redis_url=clean_redis)
    container = Container(settings)
    hub = build(container)
    try:
        assert hub.registry is container.registry and hub.agreement is container.agreement
        role = container.derive(settings.model_copy(update={"batch_size": 7}))
        assert role.registry is container.registry and role.settings.batch_size == 7
    finally:
        hub.engine.dispose()
        container.close()
