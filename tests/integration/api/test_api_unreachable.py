"""Issue 16 item 1: the API while Neo4j is unreachable, through the fault-injecting proxy.

The app talks to Neo4j only through :class:`~tests.support.faultproxy.FaultProxy`. While the
proxy cuts every connection, a GraphQL read answers HTTP 503 with ``DATABASE_UNAVAILABLE``
(and ``Retry-After``), quickly and without naming the server, and ``/readyz`` answers 503
``unavailable``; once the proxy lets connections through again the same app answers
normally, with nothing restarted.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from neo4j import AsyncDriver

from api.app import READY_CHECK_SECONDS, READY_UNAVAILABLE_REASON, create_app
from api.security.auth import Role
from api.security.tokens import mint_token
from graph.settings import CrkgSettings
from graph.store import GraphStore
from tests.conftest import load_into_empty_db
from tests.integration.exports import write_bank
from tests.support.faultproxy import FaultProxy

pytestmark = pytest.mark.db

REQUEST_TIMEOUT = 6.0
READ = '{ customer(id: "C0000003") { id kind } }'


@pytest.fixture(scope="module")
async def small_bank(
    driver: AsyncDriver, test_settings: CrkgSettings, tmp_path_factory: pytest.TempPathFactory
) -> GraphStore:
    bank = tmp_path_factory.mktemp("unreachable") / "bank"
    write_bank(bank, customers=20, ties=20)
    return await load_into_empty_db(driver, test_settings, bank, Path(bank.parent / "rejects"))


@pytest.fixture
def proxy(test_settings: CrkgSettings) -> Iterator[FaultProxy]:
    with FaultProxy(test_settings.local_bolt_port) as faulty:
        yield faulty


def _graphql(client: TestClient, token: str) -> tuple[int, dict[str, object], float]:
    started = time.monotonic()
    response = client.post(
        "/graphql", json={"query": READ}, headers={"Authorization": f"Bearer {token}"}
    )
    return response.status_code, response.json(), time.monotonic() - started


def test_the_api_answers_503_while_neo4j_is_unreachable_and_recovers_by_itself(
    small_bank: GraphStore, test_settings: CrkgSettings, proxy: FaultProxy
) -> None:
    settings = test_settings.model_copy(
        update={
            "local_bolt_port": proxy.port,  # the same server and credentials, via the proxy
            "neo4j_connection_timeout_seconds": 2.0,
            "api_request_timeout_seconds": REQUEST_TIMEOUT,
        }
    )
    token = mint_token(settings, role=Role.ADMIN, subject="ops")
    with TestClient(create_app(settings)) as client:
        assert client.get("/readyz").json()["status"] == "ready"
        status, body, _ = _graphql(client, token)
        assert (status, body.get("data")) == (
            200,
            {"customer": {"id": "C0000003", "kind": "PERSON"}},
        )
        assert proxy.open_connections > 0  # the app really goes through the proxy

        proxy.cut()
        status, body, seconds = _graphql(client, token)
        assert status == 503, body
        errors = body["errors"]
        assert isinstance(errors, list)
        assert [e["extensions"]["code"] for e in errors] == ["DATABASE_UNAVAILABLE"]
        assert seconds < REQUEST_TIMEOUT + 2  # bounded by the request's deadline
        text = str(body)
        assert str(test_settings.local_bolt_port) not in text
        assert str(proxy.port) not in text
        assert "127.0.0.1" not in text
        started = time.monotonic()
        ready = client.get("/readyz")
        assert time.monotonic() - started < READY_CHECK_SECONDS + 2  # a probe never hangs
        assert ready.status_code == 503
        assert ready.json() == {"status": "unavailable", "reason": READY_UNAVAILABLE_REASON}
        ready_text = ready.text  # an unauthenticated probe must not learn where Neo4j lives
        assert str(test_settings.local_bolt_port) not in ready_text
        assert str(proxy.port) not in ready_text
        assert "127.0.0.1" not in ready_text
        assert "bolt" not in ready_text.lower()

        proxy.restore()
        deadline = time.monotonic() + 30
        while client.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline, "/readyz did not recover"
            time.sleep(0.2)
        status, body, _ = _graphql(client, token)
        assert (status, body.get("data")) == (
            200,
            {"customer": {"id": "C0000003", "kind": "PERSON"}},
        )
