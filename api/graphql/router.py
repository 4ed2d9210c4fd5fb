"""``/graphql``: authentication before anything else, audit before the response leaves.

* No or bad bearer token → HTTP 401 (nothing parsed, nothing read).
* Only ``application/json`` POST bodies run operations; GET serves GraphiQL in development
  and never executes anything (so GET can never mutate).
* A body that is not a JSON object, nests too deep or holds a lone UTF-16 surrogate → HTTP
  400 with a code (``api.security.requests``), before GraphQL sees it.
* There are no subscriptions: a WebSocket upgrade is refused with HTTP 400 and a code.
* GraphiQL (development only) is served from the package: its page and scripts come from
  ``api/static`` (vendored from npm by ``make install``), and its Content-Security-Policy
  lets the browser fetch nothing from any other origin.
* Unmasked PII in a response is written as ``AuditEvent`` nodes first; if that write fails
  the response carries no data (fail closed).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from fastapi import HTTPException, Request, Response, WebSocket
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.routing import APIWebSocketRoute
from graphql import GraphQLError
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLHTTPResponse, process_result
from strawberry.types import ExecutionResult

from api.graphql.context import RequestContext
from api.graphql.jobs import JobRegistry
from api.metrics import ApiMetrics
from api.security.auth import AuthenticationError, TokenVerifier
from api.security.errors import ErrorCode
from api.security.limits import truncated_lists
from api.security.requests import RequestRefused, graphql_body
from graph.errors import CrkgError
from graph.settings import CrkgSettings, Environment
from graph.store import GraphStore

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
GRAPHIQL_PAGE = STATIC_DIR / "graphiql" / "index.html"
VENDOR_MANIFEST = STATIC_DIR / "vendor" / "manifest.json"
# Everything from this origin; inline styles only because GraphiQL's editor sets them.
GRAPHIQL_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
_NAMED_OPERATION = re.compile(r"\s*(?:query|mutation)\s+([A-Za-z_][A-Za-z0-9_]*)")
ROUND_TRIPS_HEADER = "X-Crkg-Db-Round-Trips"
PURPOSE_HEADER = "X-Crkg-Purpose"


class CrkgGraphQLRouter(GraphQLRouter[RequestContext, None]):
    metrics: ApiMetrics
    settings: CrkgSettings

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # strawberry always routes WebSockets (for subscriptions, which crkg has none of)
        # through the HTTP context getter, which cannot serve them: refuse them instead.
        self.routes[:] = [r for r in self.routes if not isinstance(r, APIWebSocketRoute)]
        self.add_api_websocket_route("", _refuse_websocket)

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        """GraphiQL from the package's own assets (strawberry's page loads them from a CDN)."""
        if not VENDOR_MANIFEST.is_file():
            return HTMLResponse(
                "<!doctype html><title>GraphiQL not built</title><p>GraphiQL's assets are not "
                "built: run <code>make install</code> (npm ci and npm run build).</p>",
                status_code=503,
            )
        return HTMLResponse(
            GRAPHIQL_PAGE.read_text(encoding="utf-8"),
            headers={"Content-Security-Policy": GRAPHIQL_CSP},
        )

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        context: RequestContext | None = getattr(request.state, "crkg_context", None)
        if context is None or not context.authenticated:
            return process_result(result)
        events = context.audit.events(context.principal, context.operation, context.purpose)
        if events:
            try:
                await context.repositories.audit.record(events)
            except CrkgError as error:
                logger.error("audit write failed, response withheld: %s", error.message)
                result = ExecutionResult(
                    data=None,
                    errors=[
                        GraphQLError(
                            "the audit record could not be written, so no data is returned",
                            extensions={"code": "AUDIT_UNAVAILABLE"},
                        )
                    ],
                )
            else:
                self.metrics.audit_events.inc(len(events))
        trips = context.total_round_trips
        self.metrics.round_trips.observe(trips)
        outcome = "ok" if not result.errors else ("error" if result.data else "rejected")
        self.metrics.operations.labels(outcome).inc()
        if self.settings.environment is not Environment.PRODUCTION and context.response:
            context.response.headers[ROUND_TRIPS_HEADER] = str(trips)
        response = process_result(result)
        if cut := truncated_lists(context):
            # lists the data made longer than their declared bound: said, not hidden
            response["extensions"] = {**(response.get("extensions") or {}), "truncated": cut}
        return response


async def _refuse_websocket(websocket: WebSocket) -> None:
    refused = RequestRefused(
        400,
        ErrorCode.WEBSOCKET_NOT_SUPPORTED,
        "/graphql serves no WebSocket connections (there are no subscriptions); "
        "POST application/json instead",
    )
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(JSONResponse(refused.body(), refused.status))
    else:  # a server without the denial extension: closing before accepting is HTTP 403
        await websocket.close(code=1008, reason=refused.message[:120])


def _operation_of(body: dict[str, Any]) -> str:
    """The operation name, else the start of the document (for the audit record)."""
    name = body.get("operationName")
    if isinstance(name, str) and name:
        return name[:100]
    query = body.get("query")
    if not isinstance(query, str):
        return "graphql"
    named = _NAMED_OPERATION.match(query)
    return named.group(1) if named else " ".join(query.split())[:120]


def make_context_getter(
    settings: CrkgSettings,
    verifier: TokenVerifier,
    jobs_of: Any,
    store_of: Any,
    metrics: ApiMetrics,
) -> Any:
    """The FastAPI dependency that authenticates the request and builds its context."""

    async def get_context(request: Request, response: Response) -> RequestContext:
        store: GraphStore = store_of(request)
        jobs: JobRegistry = jobs_of(request)
        if request.method == "GET":  # the IDE page only; GET never executes operations
            context = RequestContext.anonymous(settings=settings, store=store, jobs=jobs)
            context.response = response
            return context
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            raise HTTPException(415, "GraphQL requests are JSON POST bodies (application/json)")
        try:
            principal = verifier.principal_from_authorization_header(
                request.headers.get("authorization")
            )
        except AuthenticationError as error:
            metrics.auth_failures.inc()
            raise HTTPException(
                401, error.message, headers={"WWW-Authenticate": 'Bearer realm="crkg"'}
            ) from None
        context = RequestContext(
            principal=principal,
            settings=settings,
            store=store,
            jobs=jobs,
            purpose=request.headers.get(PURPOSE_HEADER.lower()),
            # checked before strawberry decodes it again (Starlette keeps the raw body)
            operation=_operation_of(graphql_body(await request.body())),
        )
        context.request = request
        context.response = response
        request.state.crkg_context = context
        return context

    return get_context
