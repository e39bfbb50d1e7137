"""Traces: a report's W3C trace context travels from intake to the referral (CloudEvents'
`traceparent`), with tracing on (the hub's spans, exported through the privacy filter) and off
(the context received is forwarded as it is, and nothing is exported)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import redis.asyncio as aredis
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import ProxyTracerProvider

from hub.bootstrap import running
from hub.config.settings import Settings
from hub.entrypoints.http import create_http_app
from hub.schemas import streams
from hub.schemas.events import REPORT_ACCEPTED
from hub.schemas.reporter import REPORT_ACKNOWLEDGED
from hub.store.tokens import TokenStore
from hub.tracing import OFF
from hub.tracing_export import sdk_tracing
from tests.factories import CHILD_DESCRIPTION, CHILD_NAME, cloudevent, decision, entry, report_data
from tests.integration.wire import read_events

SCHOOL = "herstedlund-skole"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
SCHOOL_SPAN = "00f067aa0ba902b7"
PARENT = f"00-{TRACE_ID}-{SCHOOL_SPAN}-01"
STATE = "skole=t61rcWkgMzE"
DECISION_TRACE = "0af7651916cd43dd8448eb211c80319c"
DECISION_PARENT = f"00-{DECISION_TRACE}-b7ad6b7169203331-01"
REFERRAL = streams.referrals("ssp", "bkv")


def traced(event: dict[str, Any], traceparent: str, tracestate: str | None = None) -> dict[str, Any]:
    out = {**event, "traceparent": traceparent}
    if tracestate is not None:
        out["tracestate"] = tracestate
    return out


def trace_id(traceparent: str) -> str:
    return traceparent.split("-")[1]


@pytest.fixture(autouse=True)
def _no_otel_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_SDK_DISABLED"):
        monkeypatch.delenv(name, raising=False)


async def _report_then_decision(
    hub: Any, report: dict[str, Any], decision_traceparent: str | None
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Send `report`, decide on it (a referral to bkv under SSP): its receipt, triage entry and referral."""
    client = aredis.Redis.from_url(hub.redis_url)
    await client.xadd(streams.intake(SCHOOL), entry(report))
    [receipt] = await read_events(client, streams.receipts(SCHOOL), 1)
    assert receipt["data"]["status"] == "accepted", receipt
    [queued] = [e for key in await client.keys("hub.triage.*") for e in await read_events(client, key.decode(), 1)]
    made = decision(receipt["data"]["report_ref"], [("ssp", "bkv")])
    await client.xadd(
        streams.DECISIONS, entry(made if decision_traceparent is None else traced(made, decision_traceparent))
    )
    [referral] = await read_events(client, REFERRAL, 1)
    await client.aclose()
    return receipt, queued, referral


async def test_the_trace_of_a_report_reaches_its_referral_and_its_spans_hold_no_personal_data(
    settings: Settings,
) -> None:
    exporter = InMemorySpanExporter()
    data = report_data()
    async with running(settings, tracing=sdk_tracing(exporter)) as hub:
        receipt, queued, referral = await _report_then_decision(
            hub, traced(cloudevent(SCHOOL, data), PARENT, STATE), DECISION_PARENT
        )
        client = aredis.Redis.from_url(hub.redis_url)
        # A malformed traceparent is ignored, not refused: the report is accepted in a new trace.
        # Its sender put the child's CPR number into the event id (it happens): no span may show it.
        careless = cloudevent(SCHOOL, report_data(), event_id=f"elev-{data['subject']['cpr']}")
        await client.xadd(streams.intake(SCHOOL), entry(traced(careless, "00-NOT-A-TRACE")))
        # The receipts, and the kvittering the decision sent the teacher.
        to_school = await read_events(client, streams.receipts(SCHOOL), 3)
        [_, other] = [e for e in to_school if e["type"] == REPORT_ACCEPTED]
        [kvittering] = [e for e in to_school if e["type"] == REPORT_ACKNOWLEDGED]
        await client.aclose()
    spans = exporter.get_finished_spans()  # all of them: `running` closed the tracer, which flushes

    # The hub's events for the report are in the school's trace, as children of the hub's span.
    for event in (receipt, queued, referral, kvittering):
        assert trace_id(event["traceparent"]) == TRACE_ID, event["type"]
        assert event["tracestate"] == STATE
    report_span = next(s for s in spans if s.name == "hub.report" and s.context.trace_id == int(TRACE_ID, 16))
    assert report_span.parent is not None and report_span.parent.span_id == int(SCHOOL_SPAN, 16)
    assert receipt["traceparent"] == f"00-{TRACE_ID}-{report_span.context.span_id:016x}-01"
    assert queued["traceparent"] == receipt["traceparent"]
    # The decision's span: in the report's trace, under the report's span, linked to the decision's trace.
    [decision_span] = [s for s in spans if s.name == "hub.decision"]
    assert decision_span.context.trace_id == int(TRACE_ID, 16)
    assert decision_span.parent is not None and decision_span.parent.span_id == report_span.context.span_id
    assert [f"{link.context.trace_id:032x}" for link in decision_span.links] == [DECISION_TRACE]
    assert referral["traceparent"] == f"00-{TRACE_ID}-{decision_span.context.span_id:016x}-01"
    assert dict(decision_span.attributes or {})["hub.report_ref"] == receipt["data"]["report_ref"]
    # One span per batch, linked to the traces of its entries.
    batches = [s for s in spans if s.name == "hub.intake process"]
    assert any(f"{link.context.trace_id:032x}" == TRACE_ID for s in batches for link in s.links)
    assert {s.name for s in spans} <= {"hub.intake process", "hub.report", "hub.decisions process", "hub.decision"}

    # The malformed one started a trace of its own, which its events carry.
    assert "traceparent" in other and trace_id(other["traceparent"]) != TRACE_ID
    assert any(f"{s.context.trace_id:032x}" == trace_id(other["traceparent"]) for s in spans if s.name == "hub.report")

    # Nothing personal in any span: names, attributes, events, links, resource.
    exported = "".join(s.to_json() for s in spans)
    for secret in (data["subject"]["cpr"], CHILD_NAME, CHILD_DESCRIPTION, data["reporter"]["name"]):
        assert secret not in exported


async def test_off_the_trace_context_received_is_forwarded_and_nothing_is_made(settings: Settings) -> None:
    async with running(settings) as hub:
        assert hub.tracing is OFF  # no endpoint configured: no SDK, no exporter, no span
        assert isinstance(trace.get_tracer_provider(), ProxyTracerProvider)  # and no global provider either
        receipt, queued, referral = await _report_then_decision(
            hub, traced(cloudevent(SCHOOL, report_data()), PARENT, STATE), None
        )
    # W3C's advice to intermediaries: the context received is forwarded unchanged.
    for event in (receipt, queued, referral):
        assert event["traceparent"] == PARENT and event["tracestate"] == STATE, event["type"]


async def test_off_a_decision_s_trace_is_used_when_the_report_came_without_one(settings: Settings) -> None:
    async with running(settings) as hub:
        receipt, queued, referral = await _report_then_decision(hub, cloudevent(SCHOOL, report_data()), DECISION_PARENT)
    assert "traceparent" not in receipt and "traceparent" not in queued
    assert referral["traceparent"] == DECISION_PARENT


async def test_http_intake_puts_the_request_s_trace_into_the_event(settings: Settings, tmp_path) -> None:
    exporter = InMemorySpanExporter()
    tracing = sdk_tracing(exporter)
    async with running(settings, tracing=tracing) as hub:
        tokens = TokenStore(tmp_path / "tokens.toml")
        token = tokens.issue(SCHOOL)
        app = create_http_app(hub.client, hub.registry, tokens, max_bytes=100_000, engine=hub.engine, tracing=tracing)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub") as http:
            auth = {"Authorization": f"Bearer {token}"}
            by_header = await http.post(
                "/v1/reports",
                json=cloudevent(SCHOOL, report_data()),
                headers={**auth, "traceparent": PARENT, "tracestate": STATE},
            )
            # The event's own traceparent wins over the request's.
            in_event = await http.post(
                "/v1/reports",
                json=traced(cloudevent(SCHOOL, report_data()), DECISION_PARENT),
                headers={**auth, "traceparent": PARENT},
            )
            garbled = await http.post(
                "/v1/reports", json=cloudevent(SCHOOL, report_data()), headers={**auth, "traceparent": "garbage"}
            )
        assert [r.status_code for r in (by_header, in_event, garbled)] == [202, 202, 202]
        client = aredis.Redis.from_url(hub.redis_url)
        receipts = await read_events(client, streams.receipts(SCHOOL), 3)
        queued = await client.xrange(streams.intake(SCHOOL))
        await client.aclose()
    by_ref = {r["data"]["report_ref"]: r for r in receipts}
    [http_span] = [
        s
        for s in exporter.get_finished_spans()
        if s.name == "hub.http report" and (s.attributes or {}).get("hub.report_ref") == by_header.json()["report_ref"]
    ]
    assert http_span.parent is not None and http_span.parent.span_id == int(SCHOOL_SPAN, 16)
    assert (http_span.attributes or {}).get("hub.http.status_code") == 202
    assert trace_id(by_ref[by_header.json()["report_ref"]]["traceparent"]) == TRACE_ID
    # On the intake stream: the HTTP span's context, put into the event.
    first = queued[0][1][b"event"].decode()
    assert f'"traceparent":"00-{TRACE_ID}-{http_span.context.span_id:016x}-01"' in first
    assert trace_id(by_ref[in_event.json()["report_ref"]]["traceparent"]) == DECISION_TRACE
    assert trace_id(by_ref[garbled.json()["report_ref"]]["traceparent"]) not in (TRACE_ID, DECISION_TRACE)


async def test_http_intake_forwards_the_request_s_trace_with_tracing_off(settings: Settings, tmp_path) -> None:
    async with running(settings) as hub:
        tokens = TokenStore(tmp_path / "tokens.toml")
        token = tokens.issue(SCHOOL)
        app = create_http_app(hub.client, hub.registry, tokens, max_bytes=100_000, engine=hub.engine)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub") as http:
            resp = await http.post(
                "/v1/reports",
                json=cloudevent(SCHOOL, report_data()),
                headers={"Authorization": f"Bearer {token}", "traceparent": PARENT, "tracestate": STATE},
            )
        assert resp.status_code == 202, resp.text
        client = aredis.Redis.from_url(hub.redis_url)
        [receipt] = await read_events(client, streams.receipts(SCHOOL), 1)
        await client.aclose()
    assert receipt["traceparent"] == PARENT and receipt["tracestate"] == STATE
