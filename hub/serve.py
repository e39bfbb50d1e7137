"""`hub serve`: the workers and the HTTP API in one process, until SIGINT or SIGTERM."""

from __future__ import annotations

import uvicorn

from hub.app import running
from hub.http import create_http_app
from hub.logs import get_logger
from hub.settings import Settings
from hub.tokens import TokenStore

log = get_logger("hub.serve")


async def serve(settings: Settings) -> None:
    async with running(settings) as hub:
        api = create_http_app(hub.client, hub.registry, TokenStore(settings.tokens_path), settings.max_body_bytes)
        config = uvicorn.Config(
            api, host=settings.http_host, port=settings.http_port, log_config=None, access_log=False, lifespan="off"
        )
        log.info("http.listening", url=f"http://{settings.http_host}:{settings.http_port}")
        # uvicorn handles SIGINT/SIGTERM and returns; leaving the block stops the workers cleanly.
        await uvicorn.Server(config).serve()
