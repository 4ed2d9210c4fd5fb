"""``/graphql``: authentication before anything else, audit before the response leaves.

Every refusal before GraphQL is ``{"errors": [{"message", "extensions": {"code"}}]}``:

* No or bad bearer token → HTTP 401 ``UNAUTHENTICATED`` (nothing parsed, nothing read).
* An ``rm`` token whose rm_id names no RelationshipManager (a typo, another casing, a
  deleted RM) → HTTP 403 ``NOT_FOUND`` naming it, on every request, before anything runs
  (the answer is kept per token for ``CRKG_API_RM_CHECK_SECONDS``).
* Only ``application/json`` POST bodies run operations (else HTTP 415
  ``UNSUPPORTED_MEDIA_TYPE``); GET serves GraphiQL in development and never executes
  anything, so GET can never mutate (a GET with a ``query`` is HTTP 400 ``GET_NOT_ALLOWED``).
* A body that is not a JSON object in UTF-8, nests too deep or holds a lone UTF-16
  surrogate → HTTP 400 with a code (``api.security.requests``), before GraphQL sees it.
* ``X-Crkg-Purpose`` longer than :data:`MAX_PURPOSE_CHARACTERS` or holding control
  characters → HTTP 400 ``INVALID_PURPOSE`` (it is stored in every audit record).
* There are no subscriptions: a WebSocket upgrade is refused with HTTP 400 and a code.
* A request runs until ``CRKG_API_REQUEST_TIMEOUT_SECONDS`` (plus a second's grace for its
  transactions to report their own timeouts): then what still runs is cancelled and the
  answer is ``TIMEOUT``.
* GraphiQL (development only) is served from the package: its page and scripts come from
  ``api/static`` (vendored from npm by ``make install``), and its Content-Security-Policy
  lets the browser fetch nothing from any other origin.
* Unmasked PII in a response is written as ``AuditEvent`` nodes first; if that write fails
  the response carries no data (fail closed).
"""

from __future__ import annotations

import asyncio
import logging
import re
import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from cross_web import HTTPException as StrawberryHTTPException
from fastapi import Request, Response, WebSocket
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.routing import APIWebSocketRoute
from graphql import GraphQLError
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLHTTPResponse, process_result
from strawberry.types import ExecutionResult

from api.graphql.context import RequestContext
from api.graphql.jobs import JobRegistry
from api.metrics import ApiMetrics
from api.security.auth import AuthenticationError
from api.security.errors import ErrorCode
from api.security.limits import truncated_lists
from api.security.requests import RequestRefused, graphql_body, shown
from api.security.tokens import ManagerCheck, TokenVerifier
from graph.errors import CrkgError
from graph.model import NodeLabel
from graph.repositories.customers import CustomerRepository
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
# a named operation after any whitespace and comments (the name a client declares)
_NAMED_OPERATION = re.compile(
    r"(?:[\s,\ufeff]|#[^\n\r]*)*(?:query|mutation)\s+([A-Za-z_][A-Za-z0-9_]*)"
)
_OPERATION_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}")
ANONYMOUS_OPERATION = "(anonymous)"
ROUND_TRIPS_HEADER = "X-Crkg-Db-Round-Trips"
PURPOSE_HEADER = "X-Crkg-Purpose"
# errors that mean "the database is away", answered with HTTP 503 and Retry-After when no
# field of the document produced anything (see answers_unavailable)
UNAVAILABLE_CODES = frozenset({"DATABASE_UNAVAILABLE", "WRITE_OUTCOME_UNKNOWN"})
RETRY_AFTER_SECONDS = 5
MAX_PURPOSE_CHARACTERS = 200
# Time a request's transactions get past its deadline to report their own TIMEOUT (on their
# fields, the rest of the answer standing) before the router cancels whatever still runs.
DEADLINE_GRACE_SECONDS = 1.0


class CrkgGraphQLRouter(GraphQLRouter[RequestContext, None]):
    metrics: ApiMetrics
    settings: CrkgSettings

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # strawberry always routes WebSockets (for subscriptions, which crkg has none of)
        # through the HTTP context getter, which cannot serve them: refuse them instead.
        self.routes[:] = [r for r in self.routes if not isinstance(r, APIWebSocketRoute)]
        self.add_api_websocket_route("", _refuse_websocket)

    async def run(self, request: Any, context: Any = None, root_value: Any = None) -> Any:
        """strawberry's run, with its own HTTP refusals (plain text) given a code."""
        try:
            return await super().run(request, context=context, root_value=root_value)
        except StrawberryHTTPException as error:
            raise RequestRefused(
                error.status_code, _code_for_status(error.status_code), error.reason
            ) from None

    async def execute_operation(self, *args: Any, **kwargs: Any) -> Any:
        """The operation, cancelled if it outlives the request's deadline (plus a grace)."""
        context = kwargs.get("context")
        if not isinstance(context, RequestContext) or not context.authenticated:
            return await super().execute_operation(*args, **kwargs)
        budget = max(context.remaining(), 0.0) + DEADLINE_GRACE_SECONDS
        try:
            async with asyncio.timeout(budget):
                return await super().execute_operation(*args, **kwargs)
        except TimeoutError:
            seconds = self.settings.api_request_timeout_seconds
            logger.warning("request ran past its deadline of %g s: cancelled", seconds)
            return ExecutionResult(
                data=None,
                errors=[
                    GraphQLError(
                        f"the request took longer than its timeout of {seconds:g} s "
                        "(CRKG_API_REQUEST_TIMEOUT_SECONDS) and was stopped",
                        extensions={
                            "code": str(ErrorCode.TIMEOUT),
                            "hint": "ask for less at once (fewer aliases, smaller pages, "
                            "fewer hops)",
                        },
                    )
                ],
            )

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
        events = (
            context.audit.events(
                context.principal, context.operation, context.purpose, context.document_sha256
            )
            if result.data is not None  # nothing is returned, so nothing was read
            else []
        )
        if events:
            try:
                await context.audit_repository.record(events)
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
        for answered in result.errors or ():
            code = (answered.extensions or {}).get("code") or "NONE"
            self.metrics.graphql_errors.labels(str(code)).inc()
        for field in context.internal_error_fields:
            self.metrics.internal_errors.labels(field).inc()
        if self.settings.environment is not Environment.PRODUCTION and context.response:
            context.response.headers[ROUND_TRIPS_HEADER] = str(trips)
        if context.response and answers_unavailable(result.data, result.errors or ()):
            # Neo4j is away and nothing was done: a status a client and a load balancer retry on
            context.response.status_code = 503
            context.response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        response = process_result(result)
        if cut := truncated_lists(context):
            # lists the data made longer than their declared bound: said, not hidden
            response["extensions"] = {**(response.get("extensions") or {}), "truncated": cut}
        if context.notes and result.data is not None:
            response["extensions"] = {**(response.get("extensions") or {}), "notes": context.notes}
        return response


def answers_unavailable(data: Mapping[str, Any] | None, errors: Sequence[GraphQLError]) -> bool:
    """Whether the answer is HTTP 503: an error says Neo4j is away and no top-level field of
    the document produced anything. A field produced something when its value is not null,
    or when it is null with no error under it (it completed with null); a mutation field
    that committed before Neo4j went away is thus answered 200, with the others' errors.

    >>> away = GraphQLError("x", path=["b"], extensions={"code": "DATABASE_UNAVAILABLE"})
    >>> answers_unavailable({"a": {"id": 1}, "b": None}, [away])
    False
    >>> answers_unavailable({"b": None}, [away]), answers_unavailable(None, [away])
    (True, True)
    """
    if not any((e.extensions or {}).get("code") in UNAVAILABLE_CODES for e in errors):
        return False
    if not data:
        return True
    failed = {e.path[0] for e in errors if e.path}
    return all(value is None and key in failed for key, value in data.items())


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


def _code_for_status(status: int) -> ErrorCode:
    return {
        401: ErrorCode.UNAUTHENTICATED,
        403: ErrorCode.FORBIDDEN,
        404: ErrorCode.NOT_FOUND,
        405: ErrorCode.METHOD_NOT_ALLOWED,
        413: ErrorCode.REQUEST_TOO_LARGE,
        415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    }.get(status, ErrorCode.INVALID_REQUEST_BODY if status == 400 else ErrorCode.BAD_REQUEST)


def _operation_of(body: dict[str, Any]) -> str:
    """The operation name as the client declared it (``operationName``, else the name in
    the document after any comments), else ``(anonymous)``: a label for the audit record,
    never trusted (the record's document hash says what really ran)."""
    name = body.get("operationName")
    if isinstance(name, str) and name:
        return name if _OPERATION_NAME.fullmatch(name) else shown(name, 100)
    named = _NAMED_OPERATION.match(str(body.get("query") or ""))
    return named.group(1)[:100] if named else ANONYMOUS_OPERATION


def _purpose(request: Request) -> str | None:
    """The ``X-Crkg-Purpose`` header: at most 200 printable characters (it is written into
    every audit record of the request), or HTTP 400."""
    raw = request.headers.get(PURPOSE_HEADER.lower())
    if raw is None:
        return None
    # headers arrive as latin-1 text; a UTF-8 purpose (Chinese, …) is decoded as UTF-8
    try:
        purpose = raw.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        purpose = raw
    purpose = purpose.strip()
    if len(purpose) > MAX_PURPOSE_CHARACTERS:
        raise RequestRefused(
            400,
            ErrorCode.INVALID_PURPOSE,
            f"{PURPOSE_HEADER} is {len(purpose)} characters; at most "
            f"{MAX_PURPOSE_CHARACTERS} (a short reason: a case number, a campaign)",
        )
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in purpose):
        raise RequestRefused(
            400, ErrorCode.INVALID_PURPOSE, f"{PURPOSE_HEADER} holds control characters"
        )
    return purpose or None


def make_context_getter(
    settings: CrkgSettings,
    verifier: TokenVerifier,
    jobs_of: Any,
    store_of: Any,
    metrics: ApiMetrics,
    managers_of: Any = None,
) -> Any:
    """The FastAPI dependency that authenticates the request and builds its context.

    ``managers_of(request)`` gives the process's :class:`ManagerCheck` (None: rm tokens are
    not checked against the RelationshipManagers).
    """

    async def get_context(request: Request, response: Response) -> RequestContext:
        store: GraphStore = store_of(request)
        jobs: JobRegistry = jobs_of(request)
        if request.method == "GET":  # the IDE page only; GET never executes operations
            if "query" in request.query_params:
                raise RequestRefused(
                    400,
                    ErrorCode.GET_NOT_ALLOWED,
                    "GraphQL operations are POST application/json bodies; GET serves only "
                    "the GraphiQL page (development)",
                )
            context = RequestContext.anonymous(settings=settings, store=store, jobs=jobs)
            context.response = response
            return context
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            raise RequestRefused(
                415,
                ErrorCode.UNSUPPORTED_MEDIA_TYPE,
                "GraphQL requests are JSON POST bodies (Content-Type: application/json)",
            )
        try:
            principal = verifier.principal_from_authorization_header(
                request.headers.get("authorization")
            )
        except AuthenticationError as error:
            metrics.auth_failures.inc()
            raise RequestRefused(
                401,
                ErrorCode.UNAUTHENTICATED,
                error.message if error.hint is None else f"{error.message} ({error.hint})",
                headers={"WWW-Authenticate": 'Bearer realm="crkg"'},
            ) from None
        managers: ManagerCheck | None = None if managers_of is None else managers_of(request)
        if managers is not None and not await managers.exists(principal):
            raise RequestRefused(
                403,
                ErrorCode.NOT_FOUND,
                f"no {NodeLabel.RELATIONSHIP_MANAGER.value} with key "
                f"{shown(str(principal.rm_id))!r}: the subject of your rm token must be your "
                "rm_id exactly as the bank's data writes it (ids are case-sensitive); ask for "
                "a token for the right rm_id",
            )
        purpose = _purpose(request)
        # checked before strawberry decodes it again (Starlette keeps the raw body)
        body = graphql_body(await request.body())
        context = RequestContext(
            principal=principal,
            settings=settings,
            store=store,
            jobs=jobs,
            purpose=purpose,
            operation=_operation_of(body),
            document=body.get("query"),
        )
        context.request = request
        context.response = response
        request.state.crkg_context = context
        return context

    return get_context


def manager_check(store: GraphStore, settings: CrkgSettings) -> ManagerCheck:
    """The process's check of rm tokens against the RelationshipManagers (on the process's
    store: it is not a round trip of any one request)."""
    customers = CustomerRepository(
        store.scoped(transaction_timeout=settings.api_query_timeout_seconds)
    )

    async def missing(rm_ids: list[str]) -> list[str]:
        return await customers.missing(NodeLabel.RELATIONSHIP_MANAGER, rm_ids)

    return ManagerCheck(missing, ttl_seconds=settings.api_rm_check_seconds)
