"""The HTTP API: `POST /v1/reports` for sources that cannot speak Redis, and `GET /healthz`.

A posted report goes onto the same intake stream a Redis client would write, so it gets the
same processing, the same receipt on `hub.receipts.<source>.v1` and the same dead-letter
record if it is bad. Obvious problems are also answered at once, with 422 and what is wrong.
"""

# No `from __future__ import annotations` here: FastAPI resolves the dependency annotations
# of the nested route functions at runtime.

from datetime import UTC, datetime
from typing import Annotated, Any

import redis.asyncio as aredis
from fastapi import Depends, FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse
from redis.exceptions import RedisError

from hub.config.registry import Registry
from hub.schemas import streams
from hub.schemas.cloudevents import EVENT_FIELD
from hub.schemas.entry import Entry
from hub.services.envelope import Rejection, parse_entry, report_ref
from hub.store.tokens import TokenStore


def create_http_app(client: aredis.Redis, registry: Registry, tokens: TokenStore, max_bytes: int) -> FastAPI:
    app = FastAPI(
        title="DKE referral hub",
        version="1",
        description="Concern reports in, receipts out on `hub.receipts.<source_id>.v1`.",
    )

    def authenticated_source(authorization: Annotated[str | None, Header()] = None) -> str:
        scheme, _, token = (authorization or "").partition(" ")
        source_id = tokens.source_for(token.strip()) if scheme.lower() == "bearer" and token else None
        if source_id is None or registry.source(source_id) is None:
            raise HTTPException(
                401, "A valid bearer token for a configured source is required.", headers={"WWW-Authenticate": "Bearer"}
            )
        return source_id

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        try:
            await client.ping()
        except RedisError:
            raise HTTPException(503, "Redis is unavailable") from None
        return {"status": "ok"}

    @app.post("/v1/reports", status_code=202)
    async def post_report(request: Request, source_id: Annotated[str, Depends(authenticated_source)]) -> Any:
        declared = int(request.headers.get("content-length") or 0)
        if declared > max_bytes:
            raise HTTPException(413, f"The body is over the limit of {max_bytes} bytes.")
        body = await request.body()
        if len(body) > max_bytes:
            raise HTTPException(413, f"The body is over the limit of {max_bytes} bytes.")
        stream = streams.intake(source_id)
        try:
            entry_id = await client.xadd(stream, {EVENT_FIELD: body})
        except RedisError:
            raise HTTPException(503, "The hub cannot take reports right now; try again.") from None
        # The worker makes the binding decision; this check only answers the sender at once.
        check = parse_entry(Entry(stream, "0-0", {EVENT_FIELD.encode(): body}), source_id, datetime.now(UTC), max_bytes)
        if isinstance(check, Rejection):
            return JSONResponse(
                status_code=422,
                content={
                    "status": "rejected",
                    "code": check.code,
                    "message": check.message,
                    "errors": [e.model_dump() for e in check.errors],
                    "receipts_stream": streams.receipts(source_id),
                },
            )
        return {
            "status": "queued",
            "report_ref": report_ref(source_id, check.event_id),
            "entry_id": entry_id.decode() if isinstance(entry_id, bytes) else entry_id,
            "receipts_stream": streams.receipts(source_id),
        }

    return app
