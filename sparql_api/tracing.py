"""OpenTelemetry tracing, off by default: a span per request (the ASGI instrumentation) with the
catalog's own spans beneath it (journal.commit, shapes.validate, store.query, search.run,
reasoning and rules), exported to the console or over OTLP/HTTP (OTEL_EXPORTER_OTLP_ENDPOINT
and the other standard OTEL_* variables configure the exporter)."""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SpanExporter,
)

_configured: str | None = None


def setup_tracing(kind: str) -> None:
    """Install the exporter once per process (OpenTelemetry's provider is process-wide)."""
    global _configured
    if kind == "off" or _configured is not None:
        return
    exporter: SpanExporter
    if kind == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        exporter = OTLPSpanExporter()
    else:
        exporter = ConsoleSpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "semcat"}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    _configured = kind
