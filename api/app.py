"""The FastAPI application: one Neo4j driver per process, created in the lifespan.

The ASGI layers, outermost first: Starlette's error middleware (any exception is a 500 with
a reference), the metrics (every response counted, 413s and 5xx included), the body size
limit (``CRKG_API_MAX_BODY_BYTES``, enforced while the body streams in), the cancellation of
requests whose client went away, then the routes. Every 4xx the app answers — refusals at
the edge, Starlette's own 404 and 405 — is ``{"errors": [{"message", "extensions":
{"code"}}]}``. The OpenAPI document and ``/docs`` exist in development only.
"""

from __future__ import annotations

import ipaddress
import logging
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.deps import SettingsDep, StoreDep
from api.explorer.router import mount_explorer
from api.graphql.jobs import JobRegistry
from api.graphql.router import (
    STATIC_DIR,
    CrkgGraphQLRouter,
    make_context_getter,
    manager_check,
)
from api.graphql.schema import build_schema
from api.metrics import ApiMetrics, MetricsMiddleware
from api.security.auth import AuthConfigurationError
from api.security.errors import ErrorCode
from api.security.requests import BodySizeLimit, CancelOnDisconnect, RequestRefused
from api.security.tokens import TokenVerifier
from api.tracing import configure_tracing
from graph.errors import CrkgError, closed_transport
from graph.production_checks import check_production_settings
from graph.queries.schema import SCHEMA_VERSION
from graph.repositories.schema import SchemaRepository
from graph.settings import CrkgSettings, Environment, get_settings
from graph.store import GraphStore, open_driver

logger = logging.getLogger(__name__)


def create_app(settings: CrkgSettings | None = None) -> FastAPI:
    """Build the app; the driver is opened (and verified) on startup and closed on shutdown."""
    app_settings = settings if settings is not None else get_settings()

    check_production_settings(app_settings)  # every unsafe production setting, one line each
    verifier = TokenVerifier.from_settings(app_settings)  # a bad key setting stops startup
    metrics = ApiMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        driver = await open_driver(app_settings)
        app.state.settings = app_settings
        app.state.store = GraphStore.from_settings(driver, app_settings)
        app.state.jobs = JobRegistry(app.state.store, app_settings)
        await app.state.jobs.start()  # fails the jobs a dead process left running
        app.state.managers = manager_check(app.state.store, app_settings)
        try:
            yield
        finally:
            await app.state.jobs.shutdown()
            try:
                await driver.close()
            except RuntimeError as error:  # uvloop on a connection the network reset
                if not closed_transport(error):
                    raise
                logger.warning("closing the driver: a connection was already reset")

    development = app_settings.environment is Environment.DEVELOPMENT
    app = FastAPI(
        title="crkg",
        summary="Customer relationship knowledge graph",
        version="0.1.0",
        lifespan=lifespan,
        # the route map is for developers: outside development it only helps an attacker
        openapi_url="/openapi.json" if development else None,
        docs_url="/docs" if development else None,
        redoc_url=None,
    )

    app.state.metrics = metrics
    # added innermost first: the metrics see the size limit's 413s
    app.add_middleware(CancelOnDisconnect)
    app.add_middleware(BodySizeLimit, max_bytes=app_settings.api_max_body_bytes)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    # FastAPI traces each request once a provider is set; off unless CRKG_TRACING_EXPORTER
    configure_tracing(app_settings)

    @app.exception_handler(RequestRefused)
    async def refused(request: Request, error: RequestRefused) -> JSONResponse:
        logger.info("refused %s %s: %s", request.method, request.url.path, error.message)
        return JSONResponse(error.body(), status_code=error.status, headers=error.headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        """Starlette's own refusals (an unknown path, a method a route does not take)."""
        code = {
            404: ErrorCode.NOT_FOUND,
            405: ErrorCode.METHOD_NOT_ALLOWED,
            401: ErrorCode.UNAUTHENTICATED,
            413: ErrorCode.REQUEST_TOO_LARGE,
            415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
        }.get(error.status_code, ErrorCode.BAD_REQUEST)
        message = {
            404: f"nothing is served at {request.url.path}",
            405: f"{request.method} is not served at {request.url.path}"
            + (" (GraphQL: POST application/json)" if request.url.path == "/graphql" else ""),
        }.get(error.status_code, str(error.detail))
        body = {"errors": [{"message": message, "extensions": {"code": str(code)}}]}
        return JSONResponse(body, status_code=error.status_code, headers=error.headers)

    @app.exception_handler(Exception)
    async def internal_error(request: Request, error: Exception) -> JSONResponse:
        """Any error nothing else handled: a 500 with a reference, never a traceback."""
        ref = secrets.token_hex(6)
        logger.error(
            "internal error (ref %s) on %s %s",
            ref,
            request.method,
            request.url.path,
            exc_info=(type(error), error, error.__traceback__),
        )
        body = {
            "errors": [
                {
                    "message": f"internal error (ref {ref})",
                    "extensions": {"code": str(ErrorCode.INTERNAL_ERROR), "ref": ref},
                }
            ]
        }
        return JSONResponse(body, status_code=500)

    router = CrkgGraphQLRouter(
        build_schema(app_settings),
        graphql_ide="graphiql" if development else None,
        allow_queries_via_get=False,  # GET never executes, so it can never mutate
        context_getter=make_context_getter(
            app_settings,
            verifier,
            lambda request: request.app.state.jobs,
            lambda request: request.app.state.store,
            metrics,
            lambda request: request.app.state.managers,
        ),
        subscription_protocols=(),
        multipart_uploads_enabled=False,
    )
    router.metrics = metrics
    router.settings = app_settings
    app.include_router(router, prefix="/graphql", include_in_schema=False)
    if development:
        # GraphiQL's page and the assets vendored from npm (make install builds vendor/)
        for part in ("graphiql", "vendor"):
            app.mount(
                f"/static/{part}",
                StaticFiles(directory=STATIC_DIR / part, check_dir=False),
                name=f"static-{part}",
            )

    mount_explorer(app)  # /explorer: the page and its assets, in every environment

    @app.get("/metrics", tags=["operations"], include_in_schema=False)
    async def prometheus_metrics() -> Response:
        """Prometheus exposition (bind the API to a private interface, as by default)."""
        return metrics.exposition()

    @app.get("/healthz", tags=["operations"])
    async def healthz() -> dict[str, str]:
        """The process is up (says nothing about Neo4j: see /readyz)."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"], response_model=None)
    async def readyz(store: StoreDep, settings: SettingsDep) -> JSONResponse:
        """Ready when Neo4j answers and carries the schema version this code expects
        (within READY_CHECK_SECONDS: a probe must not hang on an unreachable server)."""
        bounded = store.scoped(
            transaction_timeout=READY_CHECK_SECONDS,
            deadline=time.monotonic() + READY_CHECK_SECONDS,
            deadline_seconds=READY_CHECK_SECONDS,
        )
        try:
            state = await SchemaRepository(bounded).state()
        except CrkgError as error:
            # The detail names the server (bolt://host:port): log it, never show it to the
            # unauthenticated caller of the probe.
            logger.warning("readiness check failed: %s", error.message)
            return JSONResponse(
                {"status": "unavailable", "reason": READY_UNAVAILABLE_REASON}, status_code=503
            )
        ready = state.version == SCHEMA_VERSION
        body = {
            "status": "ready" if ready else "schema-mismatch",
            "database": settings.neo4j_database,
            "schemaVersion": state.version,
            "expectedSchemaVersion": SCHEMA_VERSION,
        }
        if not ready:
            body["reason"] = "run `crkg init`" if state.version is None else "schema differs"
        return JSONResponse(body, status_code=200 if ready else 503)

    return app


READY_CHECK_SECONDS = 5.0  # /readyz answers within about this, reachable or not
READY_UNAVAILABLE_REASON = "database unavailable"  # fixed: the detail goes to the log only

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def is_loopback(host: str) -> bool:
    """Whether binding to ``host`` keeps the API on this machine.

    >>> is_loopback("127.0.0.1"), is_loopback("::1"), is_loopback("localhost")
    (True, True, True)
    >>> is_loopback("0.0.0.0"), is_loopback("10.1.2.3"), is_loopback("api.bank.internal")
    (False, False, False)
    """
    name = host.strip().strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def check_bind_host(settings: CrkgSettings, host: str) -> None:
    """Refuse to serve the development API beyond this machine.

    Development turns on GraphiQL, introspection, "did you mean" suggestions, the OpenAPI
    document and locally minted tokens; bound to a non-loopback address, anyone who reaches
    the port gets them. Refused unless ``CRKG_API_ALLOW_REMOTE_DEV=true``, and then with a
    loud warning.
    """
    if settings.environment is not Environment.DEVELOPMENT or is_loopback(host):
        return
    if not settings.api_allow_remote_dev:
        raise AuthConfigurationError(
            f"refusing to serve the development API on {host}: development turns on "
            "GraphiQL, introspection and locally minted tokens for anyone who reaches it",
            hint="bind to 127.0.0.1, set CRKG_ENVIRONMENT=production (or test), or set "
            "CRKG_API_ALLOW_REMOTE_DEV=true if you really mean it",
        )
    logger.warning(
        "SERVING THE DEVELOPMENT API ON %s (CRKG_API_ALLOW_REMOTE_DEV=true): GraphiQL, "
        "introspection and locally minted tokens are reachable from other machines",
        host,
    )
