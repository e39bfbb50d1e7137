"""The benchmark's CPU accounting on a shared PostgreSQL: the backends of the benchmark's own
database count as `postgres`, those of other databases (another user's tests) as `other`."""

from __future__ import annotations

import pytest
from sqlalchemy import make_url, text

from bench.cpu import MACHINE, cpu_by_kind
from hub.store.db import make_engine

pytestmark = pytest.mark.integration


def test_backends_of_another_database_are_someone_elses(postgres_url: str | None) -> None:
    if postgres_url is None:
        pytest.skip("needs HUB_TEST_DATABASE_URL (PostgreSQL)")
    engine = make_engine(postgres_url)
    ours = make_url(postgres_url).database
    assert ours
    with engine.connect() as conn:
        backend = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        conn.execute(text("SELECT count(*) FROM generate_series(1, 3000000)")).scalar_one()  # some CPU
        as_ours = cpu_by_kind({}, ours)
        as_theirs = cpu_by_kind({}, ours + "_not")
        named = cpu_by_kind({backend: "named"}, ours)
    engine.dispose()
    assert named["named"] > 0  # the backend did use CPU
    # the same backend moves from ours to someone else's with the database named
    assert as_ours["postgres"] - as_theirs["postgres"] >= named["named"] - 0.05
    assert as_theirs["other"] - as_ours["other"] >= named["named"] - 0.05
    assert as_ours[MACHINE] > 0
