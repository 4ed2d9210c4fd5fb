"""Prometheus metrics of one app (a registry per app, so tests can build many apps)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import Request, Response
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST


class ApiMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "crkg_http_requests",
            "HTTP requests by route and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "crkg_http_request_seconds",
            "HTTP request latency",
            ["route"],
            buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.operations = Counter(
            "crkg_graphql_operations",
            "GraphQL operations by outcome (ok, error, rejected before execution)",
            ["outcome"],
            registry=self.registry,
        )
        self.round_trips = Histogram(
            "crkg_graphql_database_round_trips",
            "Neo4j transactions per GraphQL request",
            buckets=(0, 1, 2, 4, 8, 16, 32, 64, 128),
            registry=self.registry,
        )
        self.audit_events = Counter(
            "crkg_audit_events", "unmasked-PII audit records written", registry=self.registry
        )
        self.auth_failures = Counter(
            "crkg_auth_failures", "requests refused with 401", registry=self.registry
        )

    def exposition(self) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)

    async def middleware(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = getattr(request.scope.get("route"), "path", "unmatched")
        self.requests.labels(request.method, route, str(response.status_code)).inc()
        self.latency.labels(route).observe(time.perf_counter() - started)
        return response
