"""`hub serve`: the workers and the HTTP API, until SIGINT or SIGTERM; with PostgreSQL, one
more worker process per further CPU (`HUB_PROCESSES`, see `hub.entrypoints.processes`)."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import signal
import sys
from datetime import UTC, datetime, timedelta
from types import FrameType

import anyio
import uvicorn
from fastapi import FastAPI

from hub.bootstrap import Container, Hub, resolve_redis, running
from hub.config.settings import Environment, Settings
from hub.entrypoints.http import create_http_app
from hub.entrypoints.processes import Workers, roles
from hub.logs import get_logger
from hub.runtime import collector
from hub.services import staff as accounts
from hub.services.auth import PasswordAuthenticator, hash_password
from hub.services.decisions import DecisionService
from hub.store.tokens import TokenStore
from hub.web import PREFIX, WebDeps, mount_workspace

log = get_logger("hub.entrypoints.serve")


async def serve(container: Container) -> None:
    settings = container.settings
    server: uvicorn.Server | None = None
    stop_requested = False

    def on_signal(sig: int, frame: FrameType | None) -> None:
        nonlocal stop_requested
        stop_requested = True
        if server is not None:
            server.should_exit = True

    # uvicorn handles SIGINT/SIGTERM while it serves, and afterwards raises the signal again
    # under the handlers it found. With these, that lands here and the hub stops cleanly
    # (transactions in progress, the relay, the other processes) instead of the default action
    # ending the process first; a signal during start-up stops it too.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)
    embedded = None
    if settings.effective_processes > 1 and settings.redis_url is None:
        # The other processes use this process's embedded Redis.
        url, embedded = resolve_redis(settings)
        settings = settings.model_copy(update={"redis_url": url})
    settings, others = roles(settings)
    workers = Workers(others)
    workers.start()
    watcher = asyncio.create_task(workers.watch(), name="worker-processes")
    try:
        async with running(container.derive(settings)) as hub:
            api = build_app(hub)
            config = uvicorn.Config(
                api, host=settings.http_host, port=settings.http_port, log_config=None, access_log=False, lifespan="off"
            )
            server = uvicorn.Server(config)
            collector.settle()  # this process runs this one hub until it ends
            if not stop_requested:
                url = f"http://{settings.http_host}:{settings.http_port}"
                log.info("http.listening", url=url, count=1 + len(others))
                log.info("web.workspace", url=f"{url}{PREFIX}/")  # where staff log in
                first_account(container.settings, hub, f"{url}{PREFIX}/")
                await server.serve()
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
        await anyio.to_thread.run_sync(workers.stop)
        if embedded is not None:
            embedded.stop()


def build_app(hub: Hub) -> FastAPI:
    """The HTTP API with the staff workspace mounted at `/arbejdsrum/` (one process, one port)."""
    settings = hub.settings
    tokens = TokenStore(settings.tokens_path)
    api = create_http_app(
        hub.client,
        hub.registry,
        tokens,
        settings.max_body_bytes,
        policy=hub.policy,
        limits=settings.limits,
        engine=hub.engine,
        tracing=hub.tracing,
    )
    deps = WebDeps(
        engine=hub.engine,
        client=hub.client,
        registry=hub.registry,
        decisions=DecisionService(hub.registry, hub.policy, limits=settings.limits),
        authenticator=PasswordAuthenticator(hub.engine),
        cookie_secure=settings.effective_cookie_secure,
        idle_timeout=timedelta(minutes=settings.web_idle_minutes),
        decision_source=sorted(hub.registry.decision_sources)[0],
        tokens=tokens,
    )
    mount_workspace(api, deps)
    return api


def first_account(s: Settings, hub: Hub, url: str) -> None:
    """A developer's first `hub serve` on the embedded default (`s` as configured: no Redis or
    database server; no staff account yet) makes the account `demo` (triage) with a random
    password and prints it once on stdout, never in the log, so the workspace can be tried at
    once. Never in production or with a configured server: there accounts come from `hub staff add`."""
    if s.env is not Environment.DEVELOPMENT or s.redis_url is not None or s.database_url is not None:
        return
    if accounts.listed(hub.engine):
        return
    password = secrets.token_urlsafe(12)
    accounts.set_password(
        hub.engine, "demo", hash_password(password), create_as=("Demo Triage", "triage"), now=datetime.now(UTC)
    )
    sys.stdout.write(
        f"Arbejdsrummet: {url}\nLog ind som brugernavn: demo  adgangskode: {password}\n"
        "(en demokonto til udvikling; opret rigtige konti med `hub staff add`)\n"
    )
    sys.stdout.flush()
