"""`hub asyncapi --out FILE` writes a document the official AsyncAPI parser accepts, and the HTTP API
serves the same document at `GET /asyncapi.json`.

The parser is the npm package `@asyncapi/parser`, pinned in `.ci/node/package.json` and installed
by `.ci/run` (`npm ci --prefix .ci/node`). Without node or the package the parser tests skip,
except with `HUB_TEST_REQUIRE_ALL=1` (CI), where they fail.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aredis
from typer.testing import CliRunner

from hub.config.registry import default_registry_path, load_registry
from hub.entrypoints.cli import app
from hub.entrypoints.http import create_http_app
from hub.store.tokens import TokenStore
from tests.databases import REQUIRE_ALL

NODE_DIR = Path(__file__).resolve().parents[2] / ".ci" / "node"
VALIDATOR = NODE_DIR / "validate.mjs"
PASSWORD = "Xq7-never-in-the-document"


def node_validator() -> list[str]:
    """The command that validates a file (append the path); skips or fails the test without it."""
    node = shutil.which("node")
    missing = (
        "node is not on PATH"
        if node is None
        else "@asyncapi/parser is not installed (npm ci --prefix .ci/node)"
        if not (NODE_DIR / "node_modules" / "@asyncapi" / "parser").is_dir()
        else None
    )
    if missing is not None:
        if REQUIRE_ALL:
            pytest.fail(f"{missing} but HUB_TEST_REQUIRE_ALL=1")
        pytest.skip(missing)
    assert node is not None
    return [node, str(VALIDATOR)]


def validate(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*node_validator(), str(path)], capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def generated(tmp_path: Path) -> Path:
    """The document as `hub asyncapi --out` writes it, with a password in the Redis URL the hub runs with."""
    out = tmp_path / "asyncapi.json"
    env = {
        "HUB_DATA_DIR": str(tmp_path / "data"),
        "HUB_REDIS_URL": f"redis://hub:{PASSWORD}@redis.internal:6379/0",
        "HUB_LOG_LEVEL": "WARNING",
    }
    result = CliRunner().invoke(app, ["asyncapi", "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == str(out)
    return out


def test_the_official_parser_accepts_the_generated_document(generated: Path) -> None:
    result = validate(generated)
    print(result.stdout, result.stderr)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "valid AsyncAPI 3.0.0" in result.stdout
    assert "Error" not in result.stdout
    text = generated.read_text(encoding="utf-8")
    assert PASSWORD not in text and "redis.internal" not in text  # the running hub's URL is not published


def test_the_parser_refuses_a_broken_document(generated: Path, tmp_path: Path) -> None:
    # The validator is not a formality: a dangling reference (what an un-rebased pydantic `$defs`
    # reference would be) is an error, and the exit code says so.
    doc = json.loads(generated.read_text(encoding="utf-8"))
    del doc["components"]["schemas"]["ConcernReport"]
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(doc), encoding="utf-8")
    result = validate(broken)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Error invalid-ref" in result.stdout and "#/components/schemas/ConcernReport" in result.stdout


async def test_http_serves_the_same_document(generated: Path, redis_url: str, tmp_path: Path) -> None:
    registry = load_registry(default_registry_path())
    client = aredis.Redis.from_url(redis_url)
    http_app = create_http_app(client, registry, TokenStore(tmp_path / "tokens.toml"), max_bytes=10_000)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=http_app), base_url="http://hub") as http:
        resp = await http.get("/asyncapi.json")  # no token: the contract is public, and holds no secret
    await client.aclose()
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/json"
    assert resp.json() == json.loads(generated.read_text(encoding="utf-8"))
