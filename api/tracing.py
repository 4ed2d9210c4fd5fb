"""OpenTelemetry tracing: a span per HTTP request, and inside it one per database call.

The request spans are FastAPI's own (it traces every request once a tracer provider is set,
and continues an incoming W3C ``traceparent``); the database spans are made in
``graph/store.py`` (one per transaction, named by the
operation every repository passes, never with parameter values), so a slow customer 360 can
be followed from the request into each Cypher round trip. Nothing is exported unless
``CRKG_TRACING_EXPORTER`` says where: ``console`` (stdout, for a developer) or ``otlp``
(OTLP over HTTP to ``CRKG_TRACING_OTLP_ENDPOINT``, a collector).
"""

from __future__ import annotations

import logging

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)

from graph.settings import CrkgSettings

logger = logging.getLogger(__name__)

_configured: TracerProvider | None = None


def configure_tracing(settings: CrkgSettings) -> TracerProvider | None:
    """Install the exporter the settings name, once per process; None when tracing is off."""
    global _configured  # OpenTelemetry's provider is process-wide too
    if settings.tracing_exporter == "none":
        return None
    if _configured is not None:
        return _configured
    exporter: SpanExporter
    if settings.tracing_exporter == "console":
        exporter = ConsoleSpanExporter()
        processor: SimpleSpanProcessor | BatchSpanProcessor = SimpleSpanProcessor(exporter)
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(endpoint=settings.tracing_otlp_endpoint)
        processor = BatchSpanProcessor(exporter)
    provider = TracerProvider(
        resource=Resource.create({"service.name": settings.tracing_service_name})
    )
    provider.add_span_processor(processor)
    trace.set_tracer_provider(provider)
    _configured = provider
    logger.info("tracing: exporting spans to %s", settings.tracing_exporter)
    return provider
