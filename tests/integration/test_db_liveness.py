"""Pooled PostgreSQL connections are checked without a round trip (`hub.store.db._liveness`):
one the server has closed is replaced before use, one in steady use is not pinged, and one left
unused for a while is pinged first. And the hub's sessions compile no statement (JIT)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from hub.store import db


@pytest.fixture
def engine(postgres_url: str | None) -> Iterator[Engine]:
    if postgres_url is None:
        pytest.skip("PostgreSQL not configured (set HUB_TEST_DATABASE_URL)")
    engine = db.make_engine(postgres_url)
    yield engine
    engine.dispose()


def _backend(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _pings(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    pinged: list[Any] = []
    real = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda conn: pinged.append(conn) or real(conn))
    return pinged


def test_a_connection_the_server_ended_is_replaced_before_use(engine: Engine, postgres_url: str) -> None:
    """A restart or `pg_terminate_backend` ends the pooled session: the next transaction gets a
    new connection instead of failing on the dead one."""
    before = _backend(engine)
    admin = db.make_engine(postgres_url)
    with admin.begin() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": before})
    for _ in range(100):  # the backend's goodbye reaches the socket
        with admin.connect() as conn:
            gone = conn.execute(text("SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = :pid"), {"pid": before})
            if gone.scalar_one():
                break
        time.sleep(0.05)
    admin.dispose()
    after = _backend(engine)  # no OperationalError: the dead connection was not handed out
    assert after != before


def test_a_connection_in_steady_use_is_not_pinged(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """`pool_pre_ping` would send a round trip at every checkout; a connection used again at once
    is handed out as it is."""
    _backend(engine)
    pinged = _pings(engine, monkeypatch)
    for _ in range(5):
        _backend(engine)
    assert pinged == []


def test_a_connection_left_unused_is_pinged_first(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """A connection idle longer than `PG_PING_IDLE_S` may have been dropped silently on the way
    (a firewall): it answers a ping before it is used."""
    _backend(engine)
    pinged = _pings(engine, monkeypatch)
    monkeypatch.setattr(db, "PG_PING_IDLE_S", 0.0)
    time.sleep(0.01)
    _backend(engine)
    assert len(pinged) == 1


def test_the_hubs_sessions_do_not_compile_statements(engine: Engine) -> None:
    with engine.connect() as conn:
        assert conn.execute(text("SHOW jit")).scalar_one() == "off"
        conn.rollback()  # a transaction that rolls back keeps the session's setting
    with engine.connect() as conn:
        assert conn.execute(text("SHOW jit")).scalar_one() == "off"
