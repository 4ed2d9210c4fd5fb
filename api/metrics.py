"""Prometheus metrics of one app (a registry per app, so tests can build many apps)."""

from __future__ import annotations

import time
from typing import Any

from fastapi import Response
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class ApiMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = self._counter(
            "crkg_http_requests", "HTTP requests by route and status", "method", "route", "status"
        )
        self.latency = self._histogram(
            "crkg_http_request_seconds",
            "HTTP request latency",
            (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            "route",
        )
        self.operations = self._counter(
            "crkg_graphql_operations",
            "GraphQL operations by outcome (ok, error, rejected before execution)",
            "outcome",
        )
        self.round_trips = self._histogram(
            "crkg_graphql_database_round_trips",
            "Neo4j transactions per GraphQL request",
            (0, 1, 2, 4, 8, 16, 32, 64, 128),
        )
        self.audit_events = self._counter("crkg_audit_events", "unmasked-PII audit records written")
        self.auth_failures = self._counter("crkg_auth_failures", "requests refused with 401")
        self.graphql_errors = self._counter(
            "crkg_graphql_errors", "GraphQL errors answered, by extensions.code", "code"
        )
        # internal errors answer HTTP 200 (the rest of the document stands), so the HTTP
        # status counter never sees them: this one is what to alert on
        self.internal_errors = self._counter(
            "crkg_graphql_internal_errors",
            "GraphQL errors answered as INTERNAL_ERROR, by field path (schema field names, "
            "list indices left out)",
            "field",
        )

    def _counter(self, name: str, documentation: str, *labels: str) -> Counter:
        return Counter(name, documentation, labels, registry=self.registry)

    def _histogram(
        self, name: str, documentation: str, buckets: tuple[float, ...], *labels: str
    ) -> Histogram:
        return Histogram(name, documentation, labels, buckets=buckets, registry=self.registry)

    def exposition(self) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)

    def record(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(route).observe(seconds)


class MetricsMiddleware:
    """Counts every HTTP response and WebSocket handshake by route and status.

    A plain ASGI middleware, inside Starlette's error middleware: a request whose handler
    raised counts as the 500 that the error middleware answers with (an ``http`` middleware
    never sees it), and WebSocket handshakes count too (101 accepted, their denial status,
    or 403 when closed before accepting).
    """

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status: int | None = None

        async def sending(message: Message) -> None:
            nonlocal status
            kind = message["type"]
            if kind in ("http.response.start", "websocket.http.response.start"):
                status = status or int(message["status"])
            elif kind == "websocket.accept":
                status = status or 101
            elif kind == "websocket.close":
                status = status or 403
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception:
            status = status or 500  # what the error middleware answers
            raise
        finally:
            method = scope.get("method", "WEBSOCKET") if scope["type"] == "http" else "WEBSOCKET"
            # 499: nothing was answered (the client went away, the task was cancelled)
            self.metrics.record(
                method, _route_label(scope), status or 499, time.perf_counter() - started
            )


def _route_label(scope: Scope) -> str:
    """The matched route's path (its template), or ``unmatched``: never a raw URL, so the
    labels stay few."""
    route: Any = scope.get("route")
    if route is None:
        return "unmatched"
    # routes of an included router (GraphQL's) have an empty path of their own
    return getattr(route, "path", "") or str(scope.get("path", "unmatched"))
