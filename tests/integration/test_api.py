"""The API's operational endpoints against the real database."""

from __future__ import annotations

import secrets
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.security.auth import Role, mint_token
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


# --- heavy documents do not starve the health endpoints ---------------------------------------
def _admin_headers(settings: CrkgSettings) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(settings, role=Role.ADMIN, subject='ops')}"}


REPEATED_FIELDS = "{" + "me{role}" * 495 + "}"  # ~4 KB: the report's document


async def test_the_repeated_field_document_is_refused_fast(
    store: GraphStore, test_settings: CrkgSettings
) -> None:
    await SchemaRepository(store).apply()
    with TestClient(create_app(test_settings)) as client:
        started = time.perf_counter()
        response = client.post(
            "/graphql",
            json={"query": f"# {secrets.token_hex(8)}\n{REPEATED_FIELDS}"},
            headers=_admin_headers(test_settings),
        )
        elapsed = time.perf_counter() - started
    assert response.status_code == 200
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "TOO_MANY_FIELDS"
    assert error["extensions"]["fields"] == 990
    assert elapsed < 1.0


async def test_healthz_answers_promptly_while_heavy_documents_are_validated(
    store: GraphStore,
) -> None:
    await SchemaRepository(store).apply()
    # a field limit high enough to let the slow documents through to validation
    settings = make_test_settings(api_max_fields=5_000, api_max_tokens=10_000)
    with TestClient(create_app(settings)) as client:

        def heavy() -> float:
            started = time.perf_counter()
            # a fresh comment each time: the validation cache cannot answer for it
            query = f"# {secrets.token_hex(8)}\n{REPEATED_FIELDS}"
            response = client.post(
                "/graphql", json={"query": query}, headers=_admin_headers(settings)
            )
            assert response.status_code == 200  # its answer does not matter here
            return time.perf_counter() - started

        with ThreadPoolExecutor(max_workers=4) as pool:
            validating = [pool.submit(heavy) for _ in range(4)]
            time.sleep(0.3)  # the four are being validated now
            waits = []
            for _ in range(5):
                started = time.perf_counter()
                assert client.get("/healthz").status_code == 200
                waits.append(time.perf_counter() - started)
                time.sleep(0.05)
            still_validating = sum(not f.done() for f in validating)
            took = [f.result() for f in validating]
    assert max(waits) < 1.0, (waits, took)  # it waited for all four, ~6 s, on the loop
    assert max(took) > 1.0, took  # they really were slow to validate
    assert still_validating > 0, "the heavy documents finished before /healthz was asked"
