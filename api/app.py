"""The FastAPI application: one Neo4j driver per process, created in the lifespan."""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from api.deps import SettingsDep, StoreDep
from api.explorer.router import mount_explorer
from api.graphql.jobs import JobRegistry
from api.graphql.router import STATIC_DIR, CrkgGraphQLRouter, make_context_getter
from api.graphql.schema import build_schema
from api.metrics import ApiMetrics, MetricsMiddleware
from api.security.auth import TokenVerifier
from api.security.errors import ErrorCode
from api.security.requests import RequestRefused
from graph.errors import CrkgError
from graph.queries.schema import SCHEMA_VERSION
from graph.repositories.schema import SchemaRepository
from graph.settings import CrkgSettings, Environment, get_settings
from graph.store import GraphStore, open_driver

logger = logging.getLogger(__name__)


def create_app(settings: CrkgSettings | None = None) -> FastAPI:
    """Build the app; the driver is opened (and verified) on startup and closed on shutdown."""
    app_settings = settings if settings is not None else get_settings()

    verifier = TokenVerifier.from_settings(app_settings)  # a bad key setting stops startup
    metrics = ApiMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        driver = await open_driver(app_settings)
        app.state.settings = app_settings
        app.state.store = GraphStore.from_settings(driver, app_settings)
        app.state.jobs = JobRegistry(app.state.store, app_settings)
        try:
            yield
        finally:
            await app.state.jobs.shutdown()
            await driver.close()

    app = FastAPI(
        title="crkg",
        summary="Customer relationship knowledge graph",
        version="0.1.0",
        lifespan=lifespan,
        docs_url="/docs" if app_settings.environment is not Environment.PRODUCTION else None,
        redoc_url=None,
    )

    app.state.metrics = metrics
    app.add_middleware(MetricsMiddleware, metrics=metrics)

    @app.exception_handler(RequestRefused)
    async def refused(request: Request, error: RequestRefused) -> JSONResponse:
        logger.info("refused %s %s: %s", request.method, request.url.path, error.message)
        return JSONResponse(error.body(), status_code=error.status)

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

    development = app_settings.environment is Environment.DEVELOPMENT
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
        """Ready when Neo4j answers and carries the schema version this code expects."""
        try:
            state = await SchemaRepository(store).state()
        except CrkgError as error:
            logger.warning("readiness check failed: %s", error.message)
            return JSONResponse({"status": "unavailable", "reason": error.message}, status_code=503)
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
