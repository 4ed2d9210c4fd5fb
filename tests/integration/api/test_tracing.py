"""A request's span holds one span per database transaction, so a slow 360 can be followed
into its Cypher; the spans name operations, never values.

The spans are the real OpenTelemetry SDK's, kept in its in-memory exporter."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from api.app import create_app
from api.security.auth import Role
from graph.settings import CrkgSettings
from tests.integration.api_client import api_for

pytestmark = pytest.mark.db

CALLER_TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


@pytest.fixture(scope="module")
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):  # the first in this process: install one
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield exporter
    exporter.shutdown()  # the provider stays (it is process-wide); it records nothing more


@pytest.mark.usefixtures("driver")  # the managed test server is up
def test_a_request_span_holds_its_database_calls(
    spans: InMemorySpanExporter, test_settings: CrkgSettings
) -> None:
    with TestClient(create_app(test_settings)) as client:
        spans.clear()
        api = api_for(client, test_settings, Role.ADMIN, "tracer")
        api.client.headers["traceparent"] = f"00-{CALLER_TRACE_ID}-00f067aa0ba902b7-01"
        secret_name = "no-such-customer-名字"
        api.post(
            "query($id: ID!) { customer(id: $id) { id } customers(first: 2) { edges { node { id } } } }",
            id=secret_name,
        )
    finished = spans.get_finished_spans()
    [request] = [s for s in finished if s.kind is SpanKind.SERVER]  # FastAPI's own
    assert request.name == "POST /graphql"
    assert request.attributes is not None
    assert request.attributes["http.response.status_code"] == 200
    assert format(request.context.trace_id, "032x") == CALLER_TRACE_ID  # the caller's trace
    database = [s for s in finished if s.kind is SpanKind.CLIENT]
    assert len(database) >= 2, [s.name for s in finished]
    for span in database:
        assert span.name.startswith("neo4j ")
        assert span.parent is not None
        assert span.context.trace_id == request.context.trace_id
        assert span.attributes is not None
        assert span.attributes["db.system"] == "neo4j"
        assert span.attributes["crkg.db.attempts"] >= 1
        assert secret_name not in repr(dict(span.attributes)) + span.name  # no values
