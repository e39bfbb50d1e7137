"""The OpenTelemetry SDK behind `hub.tracing.Tracing`: a tracer provider whose spans pass the
privacy filter (`PrivateSpans`) and go to an OTLP/HTTP collector in batches, off the hot path.

Imported by `hub.bootstrap` only when tracing is configured: a hub without it never loads the SDK.
"""

from __future__ import annotations

from collections.abc import Sequence

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import Link, Status

from hub import __version__
from hub.tracing import SPAN_NAMES, Tracing, allowed

DEFAULT_SERVICE_NAME = "dke-hub"


class PrivateSpans(SpanExporter):
    """The last gate before a span leaves the process: the hub's span names, the attributes of
    `hub.tracing.ATTRIBUTES` (on the span, its events and its links), the status without its
    description. Whatever set them (the hub, a library, an exception recorded), nothing else goes."""

    def __init__(self, exporter: SpanExporter) -> None:
        self.exporter = exporter

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self.exporter.export([private(s) for s in spans])

    def shutdown(self) -> None:
        self.exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self.exporter.force_flush(timeout_millis)


def private(s: ReadableSpan) -> ReadableSpan:
    """`s` with only what may be exported (`PrivateSpans`)."""
    return ReadableSpan(
        name=s.name if s.name in SPAN_NAMES else "hub.other",
        context=s.context,
        parent=s.parent,
        resource=s.resource,
        attributes=allowed(s.attributes),
        events=[Event(e.name, allowed(e.attributes), e.timestamp) for e in s.events],
        links=[Link(link.context, allowed(link.attributes)) for link in s.links],
        kind=s.kind,
        status=Status(s.status.status_code),
        start_time=s.start_time,
        end_time=s.end_time,
        instrumentation_scope=s.instrumentation_scope,
    )


def sdk_tracing(exporter: SpanExporter, *, service_name: str | None = None) -> Tracing:
    """`Tracing` on: spans through the privacy filter to `exporter`, in a background thread.

    The resource and the sampler follow the standard `OTEL_*` variables where they are set
    (`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER`); the default
    sampler follows the sender's sampled flag and samples new traces."""
    attributes = {"service.version": __version__}
    if service_name:
        attributes["service.name"] = service_name
    resource = Resource.create(attributes)
    if str(resource.attributes.get("service.name", "")).startswith("unknown_service"):
        resource = resource.merge(Resource({"service.name": DEFAULT_SERVICE_NAME}))
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(PrivateSpans(exporter)))
    return Tracing(provider.get_tracer("hub", __version__), close=provider.shutdown)


def otlp_exporter(endpoint: str | None) -> SpanExporter:
    """OTLP over HTTP (protobuf). `endpoint` is the collector's base URL (`/v1/traces` is added);
    None: the exporter reads the standard `OTEL_EXPORTER_OTLP_*` variables itself."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    if endpoint is None:
        return OTLPSpanExporter()
    return OTLPSpanExporter(endpoint=endpoint.rstrip("/") + "/v1/traces")
