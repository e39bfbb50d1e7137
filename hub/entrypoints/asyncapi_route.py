"""`GET /asyncapi.json`: the AsyncAPI document of the hub's streams (`hub.schemas.asyncapi`), over HTTP.

The document describes this deployment's streams (the registry's sources and partners) and holds
no secret: its servers are templates, credentials come from the operators.
"""

# No `from __future__ import annotations`: FastAPI reads the route's annotations at runtime.

import functools
from typing import Any

from fastapi import APIRouter

from hub.config.registry import Registry
from hub.schemas.asyncapi import document


def asyncapi_router(registry: Registry) -> APIRouter:
    """A router with the one route. The document is built on the first request and kept: the
    registry does not change while the process runs."""
    router = APIRouter()
    built = functools.cache(lambda: document(registry.catalogue()))

    # A plain `def`: the first build (pydantic's schema generation) runs in the thread pool,
    # not on the event loop the workers share.
    @router.get("/asyncapi.json", summary="The AsyncAPI 3.0 document of every stream", tags=["contracts"])
    def asyncapi_json() -> dict[str, Any]:
        return built()

    return router
