"""The API's operational endpoints against the real database."""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketDenialResponse

from api.app import create_app
from api.security.auth import Role
from api.security.tokens import mint_token
from graph.errors import AuthenticationFailedError
from graph.localserver.manager import LocalServerStatus
from graph.queries.schema import SCHEMA_VERSION
from graph.repositories.schema import SchemaRepository
from graph.settings import CrkgSettings, Environment
from graph.store import GraphStore, open_driver
from tests.conftest import make_test_settings

pytestmark = pytest.mark.db


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


# --- bad input is a client error with a code, and every 5xx is counted ------------------------
@pytest.fixture(scope="module")
def app_client(
    local_server: LocalServerStatus, test_settings: CrkgSettings
) -> Iterator[TestClient]:
    with TestClient(create_app(test_settings)) as client:
        yield client


def _post_raw(client: TestClient, settings: CrkgSettings, body: bytes) -> httpx.Response:
    headers = {**_admin_headers(settings), "Content-Type": "application/json"}
    return client.post("/graphql", content=body, headers=headers)


def _counted(client: TestClient, method: str, route: str, status: int) -> float:
    wanted = f'crkg_http_requests_total{{method="{method}",route="{route}",status="{status}"}}'
    for line in client.get("/metrics").text.splitlines():
        if line.startswith(wanted):
            return float(line.split()[-1])
    return 0.0


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b'"x"', "INVALID_REQUEST_BODY"),
        (b"42", "INVALID_REQUEST_BODY"),
        (b"null", "INVALID_REQUEST_BODY"),
        (b'[{"query": "{ me { role } }"}]', "INVALID_REQUEST_BODY"),
        (b'{"query": ' + b"[" * 990 + b"]" * 990 + b"}", "JSON_TOO_DEEP"),
        (
            b'{"query": "{ me { role } }", "variables": {"x": ' + b"[" * 100 + b"]" * 100 + b"}}",
            "JSON_TOO_DEEP",
        ),
        (b'{"query": "\xff"}', "INVALID_JSON"),
        (b'{"query": ', "INVALID_JSON"),
    ],
)
def test_a_body_that_is_not_a_graphql_request_is_a_400_with_a_code(
    app_client: TestClient, test_settings: CrkgSettings, body: bytes, code: str
) -> None:
    before = _counted(app_client, "POST", "/graphql", 400)
    response = _post_raw(app_client, test_settings, body)
    assert response.status_code == 400, response.text
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == code
    assert _counted(app_client, "POST", "/graphql", 400) == before + 1


LONE_SURROGATE = "\ud800"


@pytest.mark.parametrize(
    ("query", "variables", "where"),
    [
        (
            "query($id: ID!) { customer(id: $id) { id } }",
            {"id": f"C{LONE_SURROGATE}"},
            "variables.id",
        ),
        (
            "query($s: String) { customers(search: $s) { edges { node { id } } } }",
            {"s": f"张{LONE_SURROGATE}"},
            "variables.s",
        ),
        (
            "mutation($rows: [CustomerInput!]!) { upsertCustomers(input: $rows) { received } }",
            {"rows": [{"customerId": "API9", "kind": "PERSON", "name": f"王{LONE_SURROGATE}"}]},
            "variables.rows[0].name",
        ),
        (
            "mutation($rows: [TieInput!]!) { upsertTies(input: $rows) { received } }",
            {"rows": [{"srcId": f"{LONE_SURROGATE}1", "dstId": "C2", "kind": "FRIEND"}]},
            "variables.rows[0].srcId",
        ),
        (f'{{ customer(id: "C{LONE_SURROGATE}") {{ id }} }}', {}, "query"),
    ],
)
def test_a_lone_surrogate_anywhere_is_a_400_naming_where(
    app_client: TestClient,
    test_settings: CrkgSettings,
    query: str,
    variables: dict[str, Any],
    where: str,
) -> None:
    # json.dumps writes the surrogate as the escape \ud800, as a client's JSON would
    body = json.dumps({"query": query, "variables": variables}).encode()
    response = _post_raw(app_client, test_settings, body)
    assert response.status_code == 400, response.text
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "INVALID_UNICODE"
    assert error["message"].startswith(f"{where}: a lone UTF-16 surrogate (\\ud800)")


def _graphql(client: TestClient, settings: CrkgSettings, query: str, **variables: Any) -> Any:
    response = client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers=_admin_headers(settings),
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_a_search_of_too_many_words_is_a_client_error(
    app_client: TestClient, test_settings: CrkgSettings
) -> None:
    body = _graphql(
        app_client,
        test_settings,
        "query($s: String) { customers(search: $s) { edges { node { id } } } }",
        # 15 short words: within the argument-length bound, beyond the search's word limit
        s=" ".join(f"word{i}" for i in range(15)),
    )
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert "15 words" in error["message"]
    assert "at most 100 characters in 10 words" in error["message"]
    fits = _graphql(
        app_client,
        test_settings,
        "query($s: String) { customers(search: $s) { edges { node { id } } } }",
        s="张伟 王芳 李娜",
    )
    assert not fits.get("errors"), fits


@pytest.mark.parametrize("offset", ["12345678901234567890", "²", "-1", "1e3"])
def test_a_cursor_with_a_number_it_cannot_be_is_a_client_error(
    app_client: TestClient, test_settings: CrkgSettings, offset: str
) -> None:
    cursor = base64.urlsafe_b64encode(f"community:{offset}".encode()).decode()
    body = _graphql(
        app_client,
        test_settings,
        "query($a: String) { communities(after: $a) { edges { node { id } } } }",
        a=cursor,
    )
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert "is not a communities cursor" in error["message"]


def test_a_websocket_upgrade_on_graphql_is_refused_with_a_code(app_client: TestClient) -> None:
    before = _counted(app_client, "WEBSOCKET", "/graphql", 400)
    with pytest.raises(WebSocketDenialResponse) as denied:  # noqa: SIM117
        with app_client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]):
            pass
    assert denied.value.status_code == 400
    assert denied.value.json()["errors"][0]["extensions"]["code"] == "WEBSOCKET_NOT_SUPPORTED"
    assert _counted(app_client, "WEBSOCKET", "/graphql", 400) == before + 1


def test_every_5xx_is_counted_and_answered_with_a_reference(
    local_server: LocalServerStatus, test_settings: CrkgSettings
) -> None:
    app = create_app(test_settings)

    @app.get("/broken")
    async def broken() -> None:
        raise RuntimeError("MATCH (c:Customer) RETURN c")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/broken")
        assert response.status_code == 500
        [error] = response.json()["errors"]
        assert error["extensions"]["code"] == "INTERNAL_ERROR"
        assert error["extensions"]["ref"] in error["message"]
        assert "MATCH" not in response.text
        assert _counted(client, "GET", "/broken", 500) == 1
        assert client.get("/readyz").status_code in (200, 503)
        assert _counted(client, "GET", "/readyz", client.get("/readyz").status_code) >= 1


# --- GraphiQL renders from the package alone ------------------------------------------------
class _References(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [v for k, v in attrs if k in ("src", "href") and v]


def test_graphiql_loads_only_assets_of_its_own_origin(local_server: LocalServerStatus) -> None:
    settings = make_test_settings(environment=Environment.DEVELOPMENT)
    with TestClient(create_app(settings)) as client:
        page = client.get("/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 200, page.text
        assert "GraphiQL" in page.text
        policy = page.headers["content-security-policy"]
        assert "default-src 'self'" in policy
        assert "http" not in policy  # no other origin is allowed to serve anything
        parser = _References()
        parser.feed(page.text)
        assert len(parser.urls) >= 5  # the styles, React, ReactDOM, GraphiQL, its setup
        for url in parser.urls:
            parts = urlsplit(url)
            assert (parts.scheme, parts.netloc) == ("", ""), f"{url} leaves the origin"
            asset = client.get(url)
            assert asset.status_code == 200, url
            assert asset.content, url
            kind = asset.headers["content-type"]
            if url.endswith(".js"):
                assert "javascript" in kind, (url, kind)
            elif url.endswith(".css"):
                assert kind.startswith("text/css"), (url, kind)
        scripts = "".join(client.get(u).text for u in parser.urls if u.endswith(".js"))
        assert "GraphiQL.createFetcher" in scripts  # the page's own setup is among them
        assert "createFetcher" in client.get("/static/vendor/graphiql.min.js").text


def test_graphiql_is_for_development_only(local_server: LocalServerStatus) -> None:
    settings = make_test_settings(environment=Environment.TEST)
    with TestClient(create_app(settings)) as client:
        assert client.get("/graphql", headers={"Accept": "text/html"}).status_code != 200
        assert client.get("/static/vendor/graphiql.min.js").status_code == 404
