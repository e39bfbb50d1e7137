"""`hub tokens issue|list|revoke|rotate` and what the HTTP API makes of them: a revoked, expired
or rotated-out token is refused (401) by the running API at its next request, no restart."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aredis
from typer.testing import CliRunner

from hub.config.registry import default_registry_path, load_registry
from hub.entrypoints.cli import app
from hub.entrypoints.http import create_http_app
from hub.logs import configure
from hub.store.tokens import TokenStore, hash_token
from tests.factories import cloudevent, report_data

SCHOOL = "herstedlund-skole"
runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"HUB_DATA_DIR": str(tmp_path / "data"), "HUB_LOG_LEVEL": "INFO", "HUB_LOG_JSON": "true"}


def hub(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["tokens", *args], env=env)
    configure(json=False, level="WARNING")  # the command logged to its own stderr, now closed
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout, result.stderr


def issue(env: dict[str, str], source: str = SCHOOL, *more: str) -> str:
    code, out, err = hub(env, "issue", source, *more)
    assert code == 0, err
    [token] = out.splitlines()  # the token alone on stdout, for a script to capture
    return token


def listed(env: dict[str, str]) -> list[dict[str, str]]:
    code, out, err = hub(env, "list", "--json")
    assert code == 0, err
    rows: list[dict[str, str]] = json.loads(out)
    return rows


def token_id(token: str) -> str:
    return hash_token(token)[:12]


def test_issue_list_revoke(env: dict[str, str], tmp_path: Path) -> None:
    token = issue(env)
    other = issue(env, "bkv", "--expires-in-days", "30")
    rows = listed(env)
    assert [(r["id"], r["source_id"], r["state"]) for r in rows] == [
        (token_id(token), SCHOOL, "active"),
        (token_id(other), "bkv", "active"),
    ]
    assert rows[0]["expires"] is None and rows[0]["revoked"] is None
    expires = datetime.fromisoformat(rows[1]["expires"]) - datetime.fromisoformat(rows[1]["created"])
    assert expires == timedelta(days=30)
    tokens_file = (tmp_path / "data" / "tokens.toml").read_text()
    assert token not in tokens_file and other not in tokens_file  # hashes only

    code, out, err = hub(env, "revoke", token_id(token))
    assert code == 0 and f"token {token_id(token)} of {SCHOOL} is revoked" in out
    assert '"event": "token.revoked"' in err and token_id(token) in err  # logged, by id
    assert [r["state"] for r in listed(env)] == ["revoked", "active"]
    code, out, _ = hub(env, "list")
    assert token_id(token) in out and "revoked" in out and token not in out

    code, _, err = hub(env, "revoke", "000000000000")
    assert code == 2 and "unknown token id" in err
    code, _, err = hub(env, "issue", "no-such-source")
    assert code == 2 and "unknown source" in err


def test_expiry(env: dict[str, str], tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "data" / "tokens.toml")
    token = issue(env, SCHOOL, "--expires-in-days", "1")
    now = datetime.now(UTC)
    assert store.source_for(token, now) == SCHOOL
    assert store.source_for(token, now + timedelta(days=1, minutes=1)) is None
    # One issued two days ago for a day: listed as expired.
    old = store.create(SCHOOL, expires_in=timedelta(days=1), now=now - timedelta(days=2))
    assert store.source_for(old.token) is None
    states = {r["id"]: r["state"] for r in listed(env)}
    assert states == {token_id(token): "active", old.record.id: "expired"}


def test_rotate_keeps_the_old_token_for_the_grace_then_refuses_it(env: dict[str, str], tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "data" / "tokens.toml")
    first = issue(env)
    code, out, err = hub(env, "rotate", SCHOOL, "--grace-hours", "2")
    assert code == 0, err
    [second] = out.splitlines()
    assert second != first and f"previous token {token_id(first)}: valid until" in err
    assert '"event": "token.issued"' in err and '"event": "token.expiry_set"' in err
    assert first not in err and second not in err  # the log names ids, never tokens
    now = datetime.now(UTC)
    assert store.source_for(first, now) == SCHOOL and store.source_for(second, now) == SCHOOL
    later = now + timedelta(hours=2, minutes=1)
    assert store.source_for(first, later) is None and store.source_for(second, later) == SCHOOL

    code, out, err = hub(env, "rotate", SCHOOL, "--grace-hours", "0")  # at once (a leaked token)
    [third] = out.splitlines()
    assert store.source_for(second) is None and store.source_for(first) is None
    assert store.source_for(third) == SCHOOL
    assert {r["id"]: r["state"] for r in listed(env)}[token_id(second)] == "revoked"


def test_a_token_file_of_the_first_format_still_works_and_is_rewritten(env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "data" / "tokens.toml"
    path.parent.mkdir(parents=True)
    legacy = "hub_herstedlund-skole_legacylegacylegacylegacylegacy1"
    path.write_text(f'[sources]\n"{SCHOOL}" = ["{hash_token(legacy)}"]\n')
    assert TokenStore(path).source_for(legacy) == SCHOOL
    assert [(r["id"], r["created"]) for r in listed(env)] == [(token_id(legacy), None)]
    issue(env)
    assert "[sources]" not in path.read_text() and TokenStore(path).source_for(legacy) == SCHOOL


def test_the_api_store_reads_the_file_again_only_when_it_changed(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "tokens.toml"
    store = TokenStore(path)
    token = TokenStore(path).issue(SCHOOL)
    reads = []
    original = TokenStore._read

    def counting(self: TokenStore):  # type: ignore[no-untyped-def]
        if self is store:  # the API's store; the CLI's reads before it writes
            reads.append(1)
        return original(self)

    monkeypatch.setattr(TokenStore, "_read", counting)
    for _ in range(100):
        assert store.source_for(token) == SCHOOL
    assert len(reads) == 1  # a stat per request, a read per change
    TokenStore(path).issue("bkv")
    assert store.source_for(token) == SCHOOL and len(reads) == 2


def test_a_broken_tokens_file_refuses_every_token_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "tokens.toml"
    store = TokenStore(path)
    token = store.issue(SCHOOL)
    path.write_text("[[tokens]\n")
    assert store.source_for(token) is None  # refused, not a crash (the API answers 401)
    runner_env = {"HUB_DATA_DIR": str(tmp_path), "HUB_TOKENS_FILE": str(path)}
    result = runner.invoke(app, ["tokens", "list"], env=runner_env)
    configure(json=False, level="WARNING")
    assert result.exit_code != 0 and "HUB_TOKENS_FILE" in str(result.exception)


async def test_the_running_api_refuses_a_token_right_after_revoke(
    env: dict[str, str], tmp_path: Path, clean_redis: str
) -> None:
    """The same app instance, no restart: 202 before `hub tokens revoke`, 401 right after."""
    client = aredis.Redis.from_url(clean_redis)
    api = create_http_app(
        client, load_registry(default_registry_path()), TokenStore(tmp_path / "data" / "tokens.toml"), 1_000_000
    )
    token = issue(env)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api), base_url="http://hub") as http:

        async def post(n: int) -> int:
            event = cloudevent(SCHOOL, report_data(), event_id=f"tok-{n}")
            resp = await http.post("/v1/reports", json=event, headers={"Authorization": f"Bearer {token}"})
            return resp.status_code

        assert await post(1) == 202
        code, _, _ = hub(env, "revoke", token_id(token))
        assert code == 0
        assert await post(2) == 401
        token = issue(env)  # a new token works at once too
        assert await post(3) == 202
    await client.aclose()
