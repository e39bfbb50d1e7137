"""The HTTP API's contract: the bodies of its answers, and the request body of `POST /v1/reports`
as the OpenAPI document states it.

The request body is read raw (the size limit counts it while it streams in), so FastAPI does not
parse it and cannot derive its schema: `REPORT_BODY` declares it (a CloudEvent with a concern
report as `data`) for both JSON media types, and `REPORT_BODY_SCHEMAS` are the components it
refers to, added to the document by `with_report_body`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hub.schemas.cloudevents import CloudEvent
from hub.schemas.events import ErrorItem, Reason, ReceiptData
from hub.schemas.report import CONCERN_REPORTED, ConcernReport

JSON_MEDIA_TYPES = ("application/json", "application/cloudevents+json")


class _Answer(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Queued(_Answer):
    """202: the report is on its way; its receipt follows (`GET /v1/reports/{ref}/receipt`)."""

    status: Literal["queued"] = "queued"
    report_ref: str = Field(description="The hub's reference for the report (the same for a duplicate).")
    entry_id: str = Field(description="Where the report was queued (for support).")
    receipts_stream: str = Field(description="Where a source that reads Redis gets the receipt.")


class Refusal(_Answer):
    """413, 415 and 422: what was refused and why, with a stable code (the same as on receipts)."""

    status: Literal["rejected"] = "rejected"
    code: str = Field(description="Stable machine code, e.g. `invalid_report`, `unlawful_purpose`.")
    message: str = Field(description="What was wrong, in English, for the developer.")
    message_da: str = Field(description="The same in Danish, for the school's administrative staff.")
    errors: list[ErrorItem] = Field(default_factory=list, description="Field and problem; never the value sent.")
    reasons: list[Reason] = Field(default_factory=list, description="The law's reasons (`unlawful_purpose`).")


class Problem(_Answer):
    """401, 404 and 503: no body of the client's is involved, so a sentence and a stable code."""

    detail: str = Field(description="What happened, in English, for the developer.")
    code: str = Field(description="Stable machine code: `unauthorized`, `not_found` or `unavailable`.")
    message_da: str = Field(description="The same in Danish, for the school's administrative staff.")


def _refusal(description: str) -> dict[str, Any]:
    return {"model": Refusal, "description": description}


def _problem(description: str) -> dict[str, Any]:
    return {"model": Problem, "description": description}


Answers = dict[int | str, dict[str, Any]]  # FastAPI's `responses`

UNAUTHORIZED: Answers = {401: _problem("No bearer token, or not one of a configured source.")}
UNAVAILABLE: Answers = {503: _problem("Redis or the database is unavailable; try again later.")}

REPORT_ANSWERS: Answers = {
    202: {"model": Queued, "description": "Queued: the receipt follows."},
    **UNAUTHORIZED,
    413: _refusal("The body is over the size limit (`too_large`)."),
    415: _refusal("Not a JSON media type, or a charset other than UTF-8 (`unsupported_media_type`)."),
    422: _refusal("Refused by the parser or the law; `code` says why. Nothing was queued."),
    **UNAVAILABLE,
}

RECEIPT_ANSWERS: Answers = {
    200: {"model": ReceiptData, "description": "The receipt: accepted (with the reference) or rejected (why)."},
    **UNAUTHORIZED,
    404: _problem("No receipt yet, or no report with this reference from your source."),
    **UNAVAILABLE,
}

_BODY_NAME = "ConcernReportEvent"
_REF_TEMPLATE = "#/components/schemas/{model}"


def _report_body_schemas() -> dict[str, Any]:
    schema = CloudEvent[ConcernReport].model_json_schema(ref_template=_REF_TEMPLATE, mode="validation")
    defs: dict[str, Any] = schema.pop("$defs", {})
    schema["title"] = _BODY_NAME
    return {**defs, _BODY_NAME: schema}


REPORT_BODY_SCHEMAS = _report_body_schemas()
REPORT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": f"A CloudEvents 1.0 JSON document: `source` your source id, `type` `{CONCERN_REPORTED}`, "
        "the concern report as `data`.",
        "content": {media: {"schema": {"$ref": _REF_TEMPLATE.format(model=_BODY_NAME)}} for media in JSON_MEDIA_TYPES},
    }
}

# FastAPI documents a 422 of its own for any route with parameters; these routes answer 422
# only with a `Refusal` (declared above), or never.
_FASTAPI_422 = "HTTPValidationError"


def with_report_body(openapi: Callable[[], dict[str, Any]], paths: tuple[str, ...]) -> Callable[[], dict[str, Any]]:
    """`app.openapi` with the request body's schemas among the components, and FastAPI's own
    validation answer gone from `paths` (their parameters cannot fail it)."""

    def document() -> dict[str, Any]:
        doc = openapi()
        schemas = doc.setdefault("components", {}).setdefault("schemas", {})
        for name, schema in REPORT_BODY_SCHEMAS.items():
            assert schemas.get(name, schema) == schema, f"two schemas named {name}"
            schemas[name] = schema
        for path in paths:
            for operation in doc.get("paths", {}).get(path, {}).values():
                answer = operation.get("responses", {}).get("422", {})
                if _FASTAPI_422 in str(answer.get("content", {})):
                    del operation["responses"]["422"]
        if not any(_FASTAPI_422 in str(p) for p in doc.get("paths", {}).values()):
            schemas.pop(_FASTAPI_422, None)
            schemas.pop("ValidationError", None)
        return doc

    return document
