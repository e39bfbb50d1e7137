"""What the workspace needs from the running hub, handed over by the entry point that mounts it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import redis.asyncio as aredis
from sqlalchemy.engine import Engine

from hub.config.registry import Registry
from hub.services.auth import Authenticator
from hub.services.decisions import DecisionService
from hub.store.tokens import TokenStore


@dataclass(frozen=True)
class WebDeps:
    engine: Engine
    client: aredis.Redis
    registry: Registry
    decisions: DecisionService  # the preview's policy code is the decision service's own
    authenticator: Authenticator
    cookie_secure: bool = True
    idle_timeout: timedelta = timedelta(minutes=30)
    outcome_timeout_s: float = 15.0
    decision_source: str = field(default="dke-triage")
    tokens: TokenStore | None = None  # the source tokens (the admin's page); the HTTP API's own store
