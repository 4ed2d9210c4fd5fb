"""The FastAPI application: one Neo4j driver per process, created in the lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from api.deps import SettingsDep, StoreDep
from graph.errors import CrkgError
from graph.queries.schema import SCHEMA_VERSION
from graph.repositories.schema import SchemaRepository
from graph.settings import CrkgSettings, get_settings
from graph.store import GraphStore, open_driver

logger = logging.getLogger(__name__)


def create_app(settings: CrkgSettings | None = None) -> FastAPI:
    """Build the app; the driver is opened (and verified) on startup and closed on shutdown."""
    app_settings = settings if settings is not None else get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        driver = await open_driver(app_settings)
        app.state.settings = app_settings
        app.state.store = GraphStore.from_settings(driver, app_settings)
        try:
            yield
        finally:
            await driver.close()

    app = FastAPI(
        title="crkg",
        summary="Customer relationship knowledge graph",
        version="0.1.0",
        lifespan=lifespan,
        docs_url="/docs" if app_settings.environment != "production" else None,
        redoc_url=None,
    )

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
