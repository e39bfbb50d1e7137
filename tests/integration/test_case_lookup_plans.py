"""The statements that find subjects' cases go through the subject-key index whatever the
planner knows of `case`: on a table never analysed (a new deployment, or a burst autovacuum
has not caught up with) a batch of keys looked up as `subject_key = ANY(keys)` was planned as
a sequential scan of the whole table, in every intake transaction (issue #17). The same for
those cases' reports and `report`: with the cases' ids as an array, the plan was a few per cent
of cost from a scan of the whole table, which the urgent watch's connection settled on in
benchmark runs (15 to 28 ms for each urgent report). PostgreSQL only: SQLite plans by its own
rules (`sqlite_stat1` is not kept by the hub)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from hub.store.bulk import _PG_CASE_IDS
from hub.store.db import migrate
from hub.store.lookups import _PG_SUBJECT_REPORTS, subject_key

CASES = 20_000
REPORTS = 20_000  # 2 kB each, as a report's payload is: the table's pages weigh in the plan


@pytest.fixture
def never_analysed(database_url: str) -> Iterator[psycopg.Connection[Any]]:
    """`case` and `report` with 20,000 rows each, as the planner sees tables no ANALYZE has reached."""
    migrate(database_url)
    with psycopg.connect(database_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(
            'INSERT INTO "case" (subject_key, created_at) '
            "SELECT encode(sha256(i::text::bytea), 'hex'), now() FROM generate_series(1, %s) AS i",
            (CASES,),
        )
        # What ANALYZE and VACUUM would have left: nothing (the server's own autovacuum may
        # have been quicker than this test). Only a superuser may do this, as in the tests.
        conn.execute(
            "INSERT INTO report (ref, source_id, event_id, received_at, case_id, payload) "
            "SELECT 'R-' || i, 'src', i::text, now(), 1 + i %% %s, json_build_object('filler', repeat('x', 2000)) "
            "FROM generate_series(1, %s) AS i",
            (CASES, REPORTS),
        )
        for table in ('"case"', "report"):
            conn.execute(f"DELETE FROM pg_statistic WHERE starelid = '{table}'::regclass")
            conn.execute(f"UPDATE pg_class SET reltuples = -1, relpages = 0 WHERE oid = '{table}'::regclass")
        yield conn


def _scans(conn: psycopg.Connection[Any], sql: str, params: dict[str, Any], table: str = "case") -> list[str]:
    """The plan's scans of `table` by node type (a generic plan, as a prepared statement gets)."""
    conn.execute("SET plan_cache_mode = force_generic_plan")
    row = conn.execute(f"EXPLAIN (FORMAT JSON) {sql}", params).fetchone()
    assert row is not None
    found: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        if node.get("Relation Name") == table:
            found.append(node["Node Type"])
        for child in node.get("Plans", []):
            walk(child)

    walk(row[0][0]["Plan"] if isinstance(row[0], list) else json.loads(row[0])[0]["Plan"])
    return found


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("batch", [1, 40, 400])
@pytest.mark.parametrize(
    "statement",
    [_PG_CASE_IDS, _PG_SUBJECT_REPORTS],
    ids=["the subjects' oldest cases", "the subjects' recent reports"],
)
def test_finding_the_subjects_cases_never_scans_the_whole_table(
    never_analysed: psycopg.Connection[Any], batch: int, statement: str
) -> None:
    keys = [subject_key(f"{n:010d}") or "" for n in range(batch)]
    since = datetime.now(UTC) - timedelta(days=30)
    scans = _scans(never_analysed, statement, {"keys": keys, "since": since})
    assert scans and "Seq Scan" not in scans, scans


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("random_page_cost", [4, 8])  # the default, and a setting for slower disks
def test_the_subjects_reports_are_read_through_the_case_index_only(
    never_analysed: psycopg.Connection[Any], random_page_cost: int
) -> None:
    never_analysed.execute(f"SET random_page_cost = {random_page_cost}")
    keys = [subject_key(f"{n:010d}") or "" for n in range(40)]
    since = datetime.now(UTC) - timedelta(days=30)
    scans = _scans(never_analysed, _PG_SUBJECT_REPORTS, {"keys": keys, "since": since}, table="report")
    assert scans and "Seq Scan" not in scans, scans
