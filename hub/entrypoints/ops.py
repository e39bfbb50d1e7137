"""The operators' endpoints: `GET /healthz` (the process lives), `GET /readyz` (Redis answers,
the database answers, its schema is at the newest migration) and `GET /metrics` (Prometheus
text format, the process's default registry: `hub.metrics`).

None of them asks for a token: operators and Prometheus reach them on the internal network
(deploy/README.md says to keep the port off the public one). None of them says more than a
check's name and a fixed word about it: never a URL, a host or a driver's message.
"""

# No `from __future__ import annotations` here: FastAPI resolves the route annotations at runtime.

from typing import Any

import anyio
import redis.asyncio as aredis
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from hub.logs import get_logger
from hub.store.db import MIGRATIONS

log = get_logger("hub.entrypoints.ops")

CHECK_TIMEOUT_S = 3.0  # each readiness check; a probe's own timeout is usually longer


def ops_router(client: aredis.Redis, engine: Engine | None, *, timeout_s: float = CHECK_TIMEOUT_S) -> APIRouter:
    """The three endpoints for `client` (Redis) and `engine` (the database; None: not ready)."""
    router = APIRouter(tags=["operations"])
    heads: set[str] | None = None  # the migrations' heads, read from the package once

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        """The process lives and serves HTTP. Asks nothing of Redis or the database."""
        return {"status": "ok"}

    @router.get("/readyz", responses={503: {"description": "Not ready: `failed` names the checks that failed."}})
    async def readyz() -> Any:
        """Redis answers, the database answers and its schema is at the newest migration."""
        nonlocal heads
        checks = {"redis": await _redis(client, timeout_s)}
        if engine is None:
            checks["database"], checks["migrations"] = "not_configured", "skipped"
        else:
            if heads is None:
                heads = set(ScriptDirectory(str(MIGRATIONS)).get_heads())
            checks["database"], checks["migrations"] = await _database(engine, heads, timeout_s)
        failed = [name for name, state in checks.items() if state not in ("ok", "skipped")]
        if failed:
            log.warning("http.not_ready", failed=failed)
            return JSONResponse(status_code=503, content={"status": "not_ready", "failed": failed, "checks": checks})
        return {"status": "ready", "checks": checks}

    @router.get("/metrics", response_class=Response)
    async def prometheus_metrics() -> Response:
        """Every `hub_…` metric of this process, in Prometheus text format."""
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    return router


async def _redis(client: aredis.Redis, timeout_s: float) -> str:
    try:
        with anyio.fail_after(timeout_s):
            await client.ping()
    except (RedisError, OSError, TimeoutError):
        return "unreachable"
    return "ok"


async def _database(engine: Engine, heads: set[str], timeout_s: float) -> tuple[str, str]:
    """(database, migrations): `ok`, or what is wrong with it."""

    def check() -> tuple[str, str]:
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
                current = set(MigrationContext.configure(conn).get_current_heads())
        except SQLAlchemyError:
            return "unreachable", "skipped"
        return "ok", "ok" if current == heads else "behind"

    try:
        with anyio.fail_after(timeout_s):
            # abandon_on_cancel: a connect that hangs is left to its own timeout, not waited for.
            return await anyio.to_thread.run_sync(check, abandon_on_cancel=True)
    except TimeoutError:
        return "unreachable", "skipped"
