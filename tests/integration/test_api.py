"""The API's operational endpoints against the real database."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from graph.errors import AuthenticationFailedError
from graph.localserver.manager import LocalServerStatus
from graph.queries.schema import SCHEMA_VERSION
from graph.repositories.schema import SchemaRepository
from graph.settings import CrkgSettings
from graph.store import GraphStore, open_driver
from tests.conftest import make_test_settings


async def test_health_and_readiness(store: GraphStore, test_settings: CrkgSettings) -> None:
    await SchemaRepository(store).apply()
    with TestClient(create_app(test_settings)) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        ready = client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["schemaVersion"] == SCHEMA_VERSION


async def test_a_wrong_password_gives_a_clear_error(local_server: LocalServerStatus) -> None:
    settings = make_test_settings(neo4j_uri=local_server.uri, neo4j_password="not-the-password")
    with pytest.raises(AuthenticationFailedError, match="rejected the credentials"):
        await open_driver(settings)
    with pytest.raises(AuthenticationFailedError), TestClient(create_app(settings)):
        pass  # the app refuses to start rather than serve errors
