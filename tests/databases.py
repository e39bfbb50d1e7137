"""The test databases: SQLite in a temporary directory, or the PostgreSQL database of
`HUB_TEST_DATABASE_URL` emptied (used by the `database_url` fixture and the contract tests)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import text

from hub.store.db import make_engine

REQUIRE_ALL = os.environ.get("HUB_TEST_REQUIRE_ALL") == "1"
TABLES = [
    *("accessrecord", "claimevent", "staffsession", "staff"),  # the staff workspace (migration 0006)
    *("audit_chain", "audit_checkpoint", "deadletter_access"),  # the audit chain's (migration 0007)
    *("disclosure", "decision", "triageitem", "report", "case", "outbox", "processedentry", "deadletterrecord"),
    "deadline",  # the statutory clocks (migration 0009)
    "adminaction",  # the administrators' action log (migration 0012)
    "referral_update",  # partners' updates on referrals and alerts (migration 0014)
    "reportermessage",  # what the reporter heard back (migration 0015)
]


def fresh_database_url(kind: str, tmp_path: Path, postgres_url: str | None) -> str:
    """An empty database of `kind` ("sqlite" or "postgresql"); skips the test if PostgreSQL is not
    configured (fails it with `HUB_TEST_REQUIRE_ALL=1`). PostgreSQL is migrated already."""
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'hub.sqlite3'}"
    if postgres_url is None:
        if REQUIRE_ALL:
            pytest.fail("HUB_TEST_DATABASE_URL is not set but HUB_TEST_REQUIRE_ALL=1")
        pytest.skip("PostgreSQL not configured (set HUB_TEST_DATABASE_URL)")
    engine = make_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in TABLES) + " RESTART IDENTITY CASCADE"))
    engine.dispose()
    return postgres_url
