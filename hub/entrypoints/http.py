"""The HTTP API: `POST /v1/reports` for sources that cannot speak Redis, the receipt of a report
(`GET /v1/reports/{ref}/receipt`), health, readiness and metrics (`hub.entrypoints.ops`), the
AsyncAPI document, and the API's own documentation.

A posted report goes onto the same intake stream a Redis client would write, so it gets the
same processing and the same receipt on `hub.receipts.<source>.v1`. Everything that can be
refused at once is refused before anything is written: the content type (415), the size while
the body streams in (413, chunked bodies too), and whatever the one parser (`hub.services.envelope`)
or the policy refuses (422, with a stable code). A refusal leaves a redacted record on
`hub.deadletter.v1` (code, size and digest of the body; never the body) for review. Every
refusal carries its code and the message in English and Danish (`hub.schemas.messages`).

The OpenAPI document states the real request body and every answer (`http_models`); `/docs`
and `/redoc` load Swagger UI and ReDoc from the package (fastapi-offline), never from a CDN.
"""

# No `from __future__ import annotations` here: FastAPI resolves the dependency annotations
# of the nested route functions at runtime.

import hashlib
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
import redis.asyncio as aredis
import structlog
from fastapi import Depends, FastAPI, Header, HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi_offline import FastAPIOffline
from opentelemetry.trace import SpanKind
from redis.exceptions import RedisError
from sqlalchemy.engine import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException

from hub import metrics
from hub.config.registry import Registry, default_agreement_path, load_agreement
from hub.entrypoints.asyncapi_route import asyncapi_router
from hub.entrypoints.http_models import (
    JSON_MEDIA_TYPES,
    RECEIPT_ANSWERS,
    REPORT_ANSWERS,
    REPORT_BODY,
    with_report_body,
)
from hub.entrypoints.ops import ops_router
from hub.entrypoints.token_use import UseNotes
from hub.errors import TransientError
from hub.policies import PolicyEngine
from hub.policies.assess import REFUSAL_CODES
from hub.schemas import streams
from hub.schemas.cloudevents import EVENT_FIELD, new_event_json, uuid4_text
from hub.schemas.entry import Entry
from hub.schemas.events import MESSAGE_DEADLETTERED, DeadLetter, ErrorItem, Reason, ReceiptData
from hub.schemas.limits import Limits
from hub.schemas.messages import danish
from hub.schemas.report import CONCERN_REPORTED
from hub.services.envelope import Rejection, parse_entry, report_ref
from hub.store.db import transient_on_driver_errors
from hub.store.queries import reading, receipt_for
from hub.store.tokens import TokenStore
from hub.tracing import OFF, TraceContext, Tracing, context_of

log = structlog.get_logger(__name__)

REPORTS = "/v1/reports"
RECEIPT = "/v1/reports/{ref}/receipt"

# The parser's messages name the `event` field and the stream; a client of the API saw neither.
_HTTP_MESSAGES = {
    "source_mismatch": "The event's `source` is not the source your token belongs to.",
    "unknown_type": f"This endpoint takes only events of type {CONCERN_REPORTED}.",
}
# The API's answers that concern no body of the client's, with the code their body carries.
_PROBLEM_CODES = {401: "unauthorized", 404: "not_found", 503: "unavailable"}


async def _problem(request: Request, exc: Exception) -> Any:
    """401, 404 and 503 under /v1/ as `http_models.Problem`: a stable code and Danish text too."""
    assert isinstance(exc, StarletteHTTPException)
    code = _PROBLEM_CODES.get(exc.status_code)
    if code is None or not request.url.path.startswith("/v1/"):
        return await http_exception_handler(request, exc)
    content = {"detail": exc.detail, "code": code, "message_da": danish(code)}
    return JSONResponse(status_code=exc.status_code, content=content, headers=exc.headers)


_NO_RECEIPT = "No receipt for this reference: the report is not processed yet, or your source did not send it."


def _refusal(
    status: int, code: str, message: str, errors: tuple[ErrorItem, ...] = (), reasons: tuple[Reason, ...] = ()
) -> JSONResponse:
    """A refusal body (`http_models.Refusal`); an error about the whole document names the body."""
    content = {
        "status": "rejected",
        "code": code,
        "message": message,
        "message_da": danish(code, reasons[0].da if reasons else None),
        "errors": [{"field": "body" if e.field == "event" else e.field, "problem": e.problem} for e in errors],
        "reasons": [r.model_dump() for r in reasons],
    }
    return JSONResponse(status_code=status, content=content)


_bearer = HTTPBearer(auto_error=False, description="The token `hub tokens issue <source_id>` printed.")


def _json_media_type(content_type: str | None) -> bool:
    """`application/json` or `application/cloudevents+json`, parameters allowed, charset UTF-8."""
    media, _, params = (content_type or "").partition(";")
    if media.strip().lower() not in JSON_MEDIA_TYPES:
        return False
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            return False
    return True


def _declared_length(request: Request) -> int | None:
    try:
        return int(request.headers.get("content-length") or "")
    except ValueError:
        return None  # absent (chunked) or garbled: the streamed count decides


async def _body_within(request: Request, max_bytes: int) -> bytes | None:
    """The body, or None as soon as it is over `max_bytes`: the rest is never read."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            return None
    return bytes(body)


_TRACEPARENT_HEADER = (
    "W3C Trace Context: the trace the report belongs to. Optional; a malformed value is ignored. "
    "A `traceparent` in the CloudEvent itself wins; without one, the hub puts this trace into the event."
)
_TRACESTATE_HEADER = "W3C Trace Context `tracestate`, with `traceparent` only. Optional; a malformed value is ignored."


def with_trace(body: bytes, trace: TraceContext) -> bytes:
    """The CloudEvent `body` with `trace` as its distributed-tracing attributes; `body` unchanged
    if it does not read back (the parser's limits are wider than orjson's for numbers)."""
    try:
        doc = orjson.loads(body)
        doc.update(trace.attributes())
        return orjson.dumps(doc)
    except (orjson.JSONDecodeError, orjson.JSONEncodeError, TypeError, AttributeError):
        return body


def create_http_app(
    client: aredis.Redis,
    registry: Registry,
    tokens: TokenStore,
    max_bytes: int,
    *,
    policy: PolicyEngine | None = None,
    limits: Limits | None = None,
    engine: Engine | None = None,
    tracing: Tracing = OFF,
) -> FastAPI:
    """`policy` (default: an engine of the packaged agreement) lets the API refuse an unlawful purpose at once;
    `limits` (default: `Limits` with `max_bytes`) are the parser's; `engine` is the database receipts are
    read from (without it `GET /v1/reports/{ref}/receipt` answers 503); `tracing` makes a span per report."""
    policy = policy if policy is not None else PolicyEngine(load_agreement(default_agreement_path()))
    limits = limits if limits is not None else Limits(max_bytes=max_bytes)
    app = FastAPIOffline(
        title="DKE referral hub",
        version="1",
        description="Concern reports in; receipts from `GET /v1/reports/{ref}/receipt` or on "
        "`hub.receipts.<source_id>.v1`.",
    )
    app.openapi = with_report_body(app.openapi, (REPORTS, RECEIPT))  # type: ignore[method-assign]
    app.include_router(ops_router(client, engine))  # /healthz, /readyz, /metrics
    app.add_exception_handler(StarletteHTTPException, _problem)

    use_notes = UseNotes(client)  # when each token was last used, for the admin's token page

    async def authenticated_source(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> str:
        token = credentials.credentials.strip() if credentials is not None else ""
        source_id = tokens.source_for(token) if token else None
        if source_id is None or registry.source(source_id) is None:
            if request.method == "POST":  # a report refused (not a receipt asked for): counted
                metrics.report_refused_at_once("unknown", "unauthorized")
            raise HTTPException(
                401, "A valid bearer token for a configured source is required.", headers={"WWW-Authenticate": "Bearer"}
            )
        await use_notes.note(token)
        return source_id

    async def dead_letter(source_id: str, body: bytes, code: str, message: str) -> None:
        """A redacted record of a refusal for review; the client already has its answer."""
        data = DeadLetter(
            stream=streams.intake(source_id),
            entry_id=f"http-{uuid4_text()}",
            reason=code,
            detail=f"refused over HTTP: {message}"[:500],
            deliveries=0,
            payload_sha256=hashlib.sha256(body).hexdigest(),
            payload_bytes=len(body),
        )
        _, text = new_event_json(MESSAGE_DEADLETTERED, data, now=datetime.now(UTC))
        try:
            await client.xadd(streams.DEADLETTER, {EVENT_FIELD: text})
        except RedisError:
            log.warning("http.deadletter_failed", code=code, source_id=source_id)

    app.include_router(asyncapi_router(registry))  # GET /asyncapi.json

    @app.post(REPORTS, status_code=202, responses=REPORT_ANSWERS, openapi_extra=REPORT_BODY)
    async def post_report(
        request: Request,
        source_id: Annotated[str, Depends(authenticated_source)],
        traceparent: Annotated[str | None, Header(description=_TRACEPARENT_HEADER)] = None,
        tracestate: Annotated[str | None, Header(description=_TRACESTATE_HEADER)] = None,
    ) -> Any:
        """Queue a concern report (a CloudEvent, read raw up to the size limit)."""
        source = registry.source(source_id)
        assert source is not None  # authenticated_source checked it

        def refuse(status: int, code: str, message: str, *args: Any, **kwargs: Any) -> JSONResponse:
            metrics.report_refused_at_once(source.kind.value, code)  # as the intake counts its refusals
            return _refusal(status, code, message, *args, **kwargs)

        if not _json_media_type(request.headers.get("content-type")):
            return refuse(
                415,
                "unsupported_media_type",
                "Send the CloudEvent as JSON: Content-Type application/json or application/cloudevents+json (UTF-8).",
            )
        too_large = f"The body is over the limit of {max_bytes} bytes."
        declared = _declared_length(request)
        if declared is not None and declared > max_bytes:
            return refuse(413, "too_large", too_large)
        body = await _body_within(request, max_bytes)
        if body is None:
            return refuse(413, "too_large", too_large)
        stream = streams.intake(source_id)
        now = datetime.now(UTC)
        # The worker makes the binding decision on the same parser and policy; what they refuse
        # here is answered at once and never reaches the stream.
        check = parse_entry(
            Entry(stream, "0-0", {EVENT_FIELD.encode(): body}),
            source_id,
            now,
            max_bytes,
            limits=limits,
            what="The body",
        )
        if isinstance(check, Rejection):
            message = _HTTP_MESSAGES.get(check.code, check.message)
            await dead_letter(source_id, body, check.code, message)
            return refuse(422, check.code, message, check.errors, check.reasons)
        header = TraceContext.of(traceparent, tracestate)
        span = None
        if tracing.enabled:
            span = tracing.start(
                "hub.http report",
                parent=header or check.trace,
                kind=SpanKind.SERVER,
                attributes={
                    "cloudevents.event_id": check.event_id,
                    "cloudevents.event_source": source_id,
                    "hub.report_ref": check.ref,
                },
            )
        try:
            assessment = policy.assess(check.report, source.facts, now)
            if not assessment.accepted:
                message = "The report was refused: " + assessment.reasons[0].en
                code = REFUSAL_CODES[assessment.rule_ids[0]]
                await dead_letter(source_id, body, code, message)
                if span is not None:
                    span.set_attributes({"hub.http.status_code": 422, "hub.code": code})
                return refuse(422, code, message, reasons=assessment.reasons)
            # The event's own trace context wins (its creation's); else the request's, or this span's.
            carried = context_of(span, header) if span is not None else header
            if check.trace is None and carried:
                body = with_trace(body, carried)
            try:
                entry_id = await client.xadd(stream, {EVENT_FIELD: body})
            except RedisError:
                if span is not None:
                    span.set_attribute("hub.http.status_code", 503)
                raise HTTPException(503, "The hub cannot take reports right now; try again.") from None
            if span is not None:
                span.set_attribute("hub.http.status_code", 202)
        finally:
            if span is not None:
                span.end()
        return {
            "status": "queued",
            "report_ref": report_ref(source_id, check.event_id),
            "entry_id": entry_id.decode() if isinstance(entry_id, bytes) else entry_id,
            "receipts_stream": streams.receipts(source_id),
        }

    # A plain function: FastAPI runs it in a worker thread, so the database read blocks no request.
    @app.get(RECEIPT, response_model=ReceiptData, response_model_exclude_unset=True, responses=RECEIPT_ANSWERS)
    def get_receipt(ref: str, source_id: Annotated[str, Depends(authenticated_source)]) -> Any:
        """The receipt of a report your source sent; 404 for any other (whether or not it exists)."""
        if engine is None:
            raise HTTPException(503, "Receipts cannot be read here.")
        try:
            with transient_on_driver_errors(), reading(engine) as session:
                data = receipt_for(session, source_id, ref, lambda event_id: report_ref(source_id, event_id))
        except TransientError:
            raise HTTPException(503, "The hub cannot read receipts right now; try again.") from None
        if data is None:
            raise HTTPException(404, _NO_RECEIPT)
        return data

    return app
