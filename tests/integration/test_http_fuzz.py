"""The HTTP API fuzzed against its own OpenAPI document (schemathesis): bodies, references and
tokens generated from the schema, valid and not, sent to the app in process with real Redis and
the real database. No answer is a server error, and every answer is one the document states,
with the body it states.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import redis.asyncio as aredis
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from hub.bootstrap import Container
from hub.config.settings import Settings
from hub.entrypoints.http import create_http_app
from hub.schemas.report import CONCERN_REPORTED
from hub.store.tokens import TokenStore

pytestmark = pytest.mark.integration

SCHOOL = "herstedlund-skole"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = 300


@pytest.fixture
def api_schema(settings: Settings, tmp_path: Any) -> Iterator[tuple[Any, str]]:
    """The app as `hub serve` builds it (without the workers: nothing here waits for a receipt)."""
    assert settings.redis_url is not None
    container = Container(settings)
    token = TokenStore(tmp_path / "tokens.toml").issue(SCHOOL)
    # schemathesis runs every request on one event loop of its own: the client connects there.
    client = aredis.Redis.from_url(settings.redis_url)
    app = create_http_app(
        client,
        container.registry,
        TokenStore(tmp_path / "tokens.toml"),
        settings.max_body_bytes,
        policy=container.policy,
        limits=settings.limits,
        engine=container.engine,
    )
    yield schemathesis.openapi.from_asgi("/openapi.json", app), token
    container.close()


def test_no_generated_request_gets_a_server_error_or_an_undocumented_answer(api_schema: tuple[Any, str]) -> None:
    schema, token = api_schema
    cases = st.one_of(
        schema.as_strategy(generation_mode=GenerationMode.POSITIVE),
        schema.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )
    # Mostly the source's own token (to reach the parser and the policy), sometimes none or a guess.
    auths = st.sampled_from([f"Bearer {token}"] * 4 + [None, "Bearer hub_herstedlund-skole_guess"])
    statuses: list[int] = []

    @given(case=cases, auth=auths, own=st.booleans())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    )
    def run(case: Any, auth: str | None, own: bool) -> None:
        if own and isinstance(case.body, dict) and isinstance(case.body.get("data"), dict):
            # An envelope a source would send (its own id, the type, now), so that the report
            # itself meets the parser and the policy more often than an envelope refusal.
            case.body.update(source=SCHOOL, type=CONCERN_REPORTED, time=datetime.now(UTC).isoformat())
        headers = {"Authorization": auth} if auth is not None else {}
        if auth is None and case.headers:
            case.headers.pop("Authorization", None)
        response = case.call(headers=headers)
        statuses.append(response.status_code)
        case.validate_response(response, checks=CHECKS)

    run()
    # The run reached past the token check into the parser and the policy.
    assert 401 in statuses and 422 in statuses, sorted(set(statuses))
