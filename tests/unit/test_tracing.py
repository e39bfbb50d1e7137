"""The W3C trace context of an event (`hub.tracing`), the privacy filter on spans
(`hub.tracing_export`) and when tracing is on (`hub.bootstrap.tracing_for`)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from hub.bootstrap import tracing_for
from hub.config.settings import Settings
from hub.schemas.cloudevents import CloudEvent, new_event, new_event_json
from hub.schemas.entry import Entry
from hub.schemas.events import ReceiptData
from hub.services.envelope import ParsedReport, parse_entry
from hub.tracing import OFF, TraceContext, allowed, traceparent_of, tracestate_of
from hub.tracing_export import sdk_tracing
from tests.factories import CHILD_NAME, child_cpr, cloudevent, entry, report_data

VALID = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (VALID, VALID),
        ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", VALID[:-2] + "00"),
        # A later version: its first four fields are read, and forwarded as version 00.
        ("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-holds", VALID),
        ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra", None),  # 00 has exactly 4 fields
        ("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", None),  # version ff is invalid
        ("00-00000000000000000000000000000000-00f067aa0ba902b7-01", None),  # all-zero trace id
        ("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", None),  # all-zero parent id
        ("00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01", None),  # upper case
        ("00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01", None),  # short trace id
        (" " + VALID, None),
        (VALID + "\n", None),
        ("", None),
        (None, None),
        (42, None),
        (["00"], None),
    ],
)
def test_traceparent_is_read_per_w3c(value: object, expected: str | None) -> None:
    assert traceparent_of(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE", "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"),
        ("rojo=00f067aa0ba902b7 , ,congo=t61rcWkgMzE", "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"),
        ("tenant@vendor=x", "tenant@vendor=x"),
        ("Rojo=1", None),  # keys are lower case
        ("rojo=a,b", None),  # a member without `=`
        ("rojo=a=b", None),  # `=` in a value
        ("rojo=" + "x" * 600, None),  # over 512 characters
        (",".join(f"k{i}=v" for i in range(33)), None),  # over 32 members
        ("", None),
        (7, None),
    ],
)
def test_tracestate_is_read_whole_or_not_at_all(value: object, expected: str | None) -> None:
    assert tracestate_of(value) == expected


def test_a_malformed_trace_context_is_ignored_never_a_reason_to_refuse() -> None:
    now = datetime.now(UTC)
    for traceparent in ("garbage", 12, {"a": 1}, VALID.upper()):
        event = {**cloudevent("herstedlund-skole", report_data()), "traceparent": traceparent, "tracestate": "%%"}
        parsed = parse_entry(
            Entry("s", "1-0", {b"event": entry(event)["event"].encode()}), "herstedlund-skole", now, 10**6
        )
        assert isinstance(parsed, ParsedReport), parsed
        assert parsed.trace is None
    good = {**cloudevent("herstedlund-skole", report_data()), "traceparent": VALID, "tracestate": "rojo=1"}
    parsed = parse_entry(Entry("s", "1-0", {b"event": entry(good)["event"].encode()}), "herstedlund-skole", now, 10**6)
    assert isinstance(parsed, ParsedReport)
    assert parsed.trace == TraceContext(VALID, "rojo=1")


def test_events_carry_the_trace_context_in_both_builders() -> None:
    trace = TraceContext(VALID, "rojo=1")
    data = ReceiptData(status="accepted", report_event_id="e-1", report_ref="DKE-X")
    now = datetime.now(UTC)
    _, text = new_event_json("t", data, now=now, event_id="id-1", trace=trace)
    assert json.loads(text) == new_event("t", data, now=now, event_id="id-1", trace=trace)
    assert json.loads(text)["traceparent"] == VALID and json.loads(text)["tracestate"] == "rojo=1"
    assert CloudEvent[ReceiptData].model_validate_json(text).trace == trace
    assert "traceparent" not in new_event("t", data, now=now)


def test_only_allowed_attributes_without_personal_data_pass() -> None:
    cpr = child_cpr()
    kept = allowed(
        {
            "hub.report_ref": "DKE-ABCDEFGHIJKL",
            "cloudevents.event_id": f"elev-{cpr}",  # a CPR number in an id: dropped
            "subject.name": CHILD_NAME,  # not an attribute the hub exports
            "hub.code": "line\nbreak",
            "messaging.batch.message_count": 3,
        }
    )
    assert kept == {"hub.report_ref": "DKE-ABCDEFGHIJKL", "messaging.batch.message_count": 3}


def test_the_exporter_lets_out_no_name_attribute_event_or_status_text_but_the_hub_s() -> None:
    exporter = InMemorySpanExporter()
    tracing = sdk_tracing(exporter)
    cpr = child_cpr()
    assert tracing.tracer is not None
    # What a library's instrumentation (or a careless line) could make: the filter is the last gate.
    span = tracing.tracer.start_span(f"SELECT * FROM report WHERE cpr = '{cpr}'", attributes={"db.statement": cpr})
    span.set_attribute("hub.report_ref", "DKE-ABCDEFGHIJKL")
    span.set_attribute("cloudevents.event_id", cpr)
    span.record_exception(RuntimeError(f"failed for {CHILD_NAME} {cpr}"))
    span.add_event("note", {"hub.code": "ok", "text": CHILD_NAME})
    span.set_status(StatusCode.ERROR, f"{CHILD_NAME} {cpr}")
    span.end()
    tracing.start("hub.report", attributes={"hub.report_ref": "DKE-2", "subject.name": CHILD_NAME}).end()
    tracing.close()
    spans = exporter.get_finished_spans()
    assert [s.name for s in spans] == ["hub.other", "hub.report"]
    assert dict(spans[0].attributes or {}) == {"hub.report_ref": "DKE-ABCDEFGHIJKL"}
    assert dict(spans[1].attributes or {}) == {"hub.report_ref": "DKE-2"}
    assert spans[0].status.status_code is StatusCode.ERROR and not spans[0].status.description
    exported = "".join(s.to_json() for s in spans)
    assert cpr not in exported and CHILD_NAME not in exported
    assert [dict(e.attributes or {}) for e in spans[0].events] == [
        {"exception.type": "RuntimeError"},
        {"hub.code": "ok"},
    ]


def _settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(env="test", data_dir=tmp_path, **values)  # type: ignore[arg-type]


def test_tracing_is_off_unless_configured(tmp_path: Path) -> None:
    assert tracing_for(_settings(tmp_path), {}) is OFF
    assert tracing_for(_settings(tmp_path), {"OTEL_SERVICE_NAME": "hub"}) is OFF
    on = tracing_for(_settings(tmp_path, traces_endpoint="http://127.0.0.1:9/"), {})
    assert on.enabled
    on.close()
    standard = tracing_for(_settings(tmp_path), {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"})
    assert standard.enabled
    standard.close()
    configured = _settings(tmp_path, traces_endpoint="http://127.0.0.1:9")
    assert tracing_for(configured, {"OTEL_SDK_DISABLED": "true"}) is OFF
    assert tracing_for(configured, {"OTEL_TRACES_EXPORTER": "none"}) is OFF


def test_a_traces_endpoint_must_be_an_http_url(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not an HTTP URL"):
        _settings(tmp_path, traces_endpoint="collector:4318")


def test_the_contracts_state_the_trace_context() -> None:
    from hub.config.registry import default_registry_path, load_registry
    from hub.entrypoints.http import create_http_app
    from hub.schemas.asyncapi import document
    from hub.store.tokens import TokenStore

    registry = load_registry(default_registry_path())
    doc = document(registry.catalogue())
    assert len(doc["components"]["messages"]) > 5
    for name, message in doc["components"]["messages"].items():
        schema = doc["components"]["schemas"][message["payload"]["$ref"].rsplit("/", 1)[1]]
        assert schema["properties"]["traceparent"]["pattern"].startswith("^[0-9a-f]{2}-"), name
        assert schema["properties"]["tracestate"]["maxLength"] == 512, name
        assert "traceparent" not in schema.get("required", []), name
    app = create_http_app(None, registry, TokenStore(Path("/nonexistent/tokens.toml")), 10_000)  # type: ignore[arg-type]
    parameters = app.openapi()["paths"]["/v1/reports"]["post"]["parameters"]
    assert {(p["name"], p["in"], p.get("required", False)) for p in parameters} >= {
        ("traceparent", "header", False),
        ("tracestate", "header", False),
    }
