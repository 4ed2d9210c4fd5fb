"""The attacker review's findings, each against the real API on a loaded bank.

One generated bank is loaded and its algorithms run once for this module; the tests then
send what the review sent (oversized bodies, odd tokens, mistyped RMs, hostile cursors,
aliased searches) over HTTP and check the answer is the refusal, the mask or the bound the
README promises.
"""

from __future__ import annotations

import base64
import csv
import json
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import networkx as nx
import pytest
from fastapi.testclient import TestClient

from api.app import check_bind_host, create_app
from api.security.auth import AuthConfigurationError, Role
from api.security.tokens import hmac_secret, mint_token
from graph.errors import QueryTimeoutError
from graph.model import TieKind
from graph.queries.ties import neighbourhood
from graph.settings import CrkgSettings, Environment
from graph.store import GraphStore
from tests.conftest import make_test_settings
from tests.integration.api_client import api_for, codes
from tests.support.banks import module_bank
from tests.support.cli import run_crkg

pytestmark = pytest.mark.db

CUSTOMERS = 800
ALGORITHMS = ("segmentation", "louvain", "pagerank", "network_value", "control_groups")


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


bank, loaded = module_bank(
    "hardening-bank", customers=CUSTOMERS, seed=31, algorithms=ALGORITHMS, db_fixture="loaded"
)


@pytest.fixture(scope="module")
def client(loaded: GraphStore, test_settings: CrkgSettings) -> Iterator[TestClient]:
    with TestClient(create_app(test_settings), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def books(bank: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    for row in _rows(bank / "customers.csv"):
        if row["rm_id"]:
            found[row["rm_id"]].append(row["customer_id"])
    return dict(found)


@pytest.fixture(scope="module")
def rm_id(books: dict[str, list[str]]) -> str:
    return max(sorted(books), key=lambda rm: len(books[rm]))


@pytest.fixture(scope="module")
def own(books: dict[str, list[str]], rm_id: str) -> str:
    """The first customer of that RM's book."""
    return sorted(books[rm_id])[0]


@pytest.fixture(scope="module")
def other(books: dict[str, list[str]], rm_id: str) -> str:
    """The first customer of another RM's book."""
    return next(c for r, ids in sorted(books.items()) if r != rm_id for c in sorted(ids))


def _headers(
    settings: CrkgSettings, role: Role = Role.ADMIN, subject: str = "ops"
) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(settings, role=role, subject=subject)}"}


def _counter(client: TestClient, name: str, **labels: str) -> float:
    wanted = name + "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"
    for line in client.get("/metrics").text.splitlines():
        if line.startswith(wanted):
            return float(line.split()[-1])
    return 0.0


def _code(response: httpx.Response) -> str:
    body = response.json()
    return str(body["errors"][0]["extensions"]["code"])


# --- #3 request size -----------------------------------------------------------------------
def test_a_body_above_the_limit_is_refused_with_413_and_a_code(
    client: TestClient, test_settings: CrkgSettings
) -> None:
    before = _counter(
        client, "crkg_http_requests_total", method="POST", route="unmatched", status="413"
    )
    body = json.dumps({"query": "{ me { role } }", "variables": {"pad": "x" * 2_000_000}})
    headers = {**_headers(test_settings), "Content-Type": "application/json"}
    started = time.perf_counter()
    response = client.post("/graphql", content=body.encode(), headers=headers)
    assert time.perf_counter() - started < 2
    assert response.status_code == 413
    assert _code(response) == "REQUEST_TOO_LARGE"
    assert "1048576 bytes" in response.json()["errors"][0]["message"]
    after = _counter(
        client, "crkg_http_requests_total", method="POST", route="unmatched", status="413"
    )
    assert after == before + 1


def test_a_long_id_is_refused_and_not_echoed(
    client: TestClient, test_settings: CrkgSettings
) -> None:
    response = client.post(
        "/graphql",
        json={
            "query": "query($x: ID!) { customer(id: $x) { id } }",
            "variables": {"x": "C" * 500_000},
        },
        headers=_headers(test_settings),
    )
    assert response.status_code == 200
    assert _code(response) == "ARGUMENT_TOO_LONG"
    assert len(response.content) < 1_000  # the review got a 100 MB NOT_FOUND back
    assert response.headers.get("x-crkg-db-round-trips") == "0"


# --- #4 document size --------------------------------------------------------------------
def test_a_document_padded_with_a_comment_is_refused_unparsed(
    client: TestClient, test_settings: CrkgSettings
) -> None:
    query = "# " + "x" * 500_000 + "\n{ me { role } }"
    response = client.post("/graphql", json={"query": query}, headers=_headers(test_settings))
    assert response.status_code == 200
    assert _code(response) == "DOCUMENT_TOO_LARGE"
    assert response.json()["data"] is None
    assert len(response.content) < 1_000


# --- #10 every 4xx carries a code, no internals -------------------------------------------
@pytest.mark.parametrize(
    ("method", "kwargs", "status", "code"),
    [
        ("post", {"json": {"query": "{ me { role } }"}}, 401, "UNAUTHENTICATED"),
        (
            "post",
            {"json": {"query": "{ me { role } }"}, "headers": {"Authorization": "Bearer x.y.z"}},
            401,
            "UNAUTHENTICATED",
        ),
        (
            "post",
            {"content": b"{ me { role } }", "headers": {"Content-Type": "text/plain"}},
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        ),
        (
            "post",
            {"content": b"{ me { role } }", "headers": {"Content-Type": "application/graphql"}},
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        ),
        ("post", {"data": {"query": "{ me { role } }"}}, 415, "UNSUPPORTED_MEDIA_TYPE"),
        ("get", {"params": {"query": "{ me { role } }"}}, 400, "GET_NOT_ALLOWED"),
        ("put", {"json": {"query": "{ me { role } }"}}, 405, "METHOD_NOT_ALLOWED"),
        ("delete", {}, 405, "METHOD_NOT_ALLOWED"),
        ("post", {"json": {}}, 400, "INVALID_REQUEST_BODY"),
        ("post", {"json": {"query": 42}}, 400, "INVALID_REQUEST_BODY"),
        (
            "post",
            {"json": {"query": "{ me { role } }", "variables": "x"}},
            400,
            "INVALID_REQUEST_BODY",
        ),
        (
            "post",
            {
                "content": '{"query": "{ me { role } }"}'.encode("utf-16"),
                "headers": {"Content-Type": "application/json"},
            },
            400,
            "INVALID_JSON",
        ),
        (
            "post",
            {
                "content": b'{"query": "{ me { role } }", "variables": {"x": NaN}}',
                "headers": {"Content-Type": "application/json"},
            },
            400,
            "INVALID_JSON",
        ),
        (
            "post",
            {
                "content": b'{"query": "q", "variables": {"s": ' + b"9" * 5000 + b"}}",
                "headers": {"Content-Type": "application/json"},
            },
            400,
            "INVALID_JSON",
        ),
    ],
)
def test_every_refusal_is_json_with_a_code(
    client: TestClient,
    test_settings: CrkgSettings,
    method: str,
    kwargs: dict[str, Any],
    status: int,
    code: str,
) -> None:
    headers = dict(kwargs.pop("headers", {}))
    if status != 401:
        headers = {**_headers(test_settings), **headers}
    response = getattr(client, method)("/graphql", headers=headers, **kwargs)
    assert response.status_code == status, response.text
    assert _code(response) == code
    for internal in ("sys.", "set_int_max_str_digits", "Traceback", "detail"):
        assert internal not in response.text
    if status == 401:
        assert response.headers["www-authenticate"].lower().startswith("bearer")


@pytest.mark.parametrize(
    ("query", "variables", "code"),
    [
        ('{ custome(id: "C1") { id } }', {}, "GRAPHQL_VALIDATION_FAILED"),
        ("{ riskRings(kind: DEVICE) { size } }", {}, "GRAPHQL_VALIDATION_FAILED"),
        ("{ me { role } ", {}, "GRAPHQL_PARSE_FAILED"),
        (
            'query($s: Float) { connections(customerId: "C1", minStrength: $s) { truncated } }',
            {"s": "x"},
            "BAD_USER_INPUT",
        ),
    ],
)
def test_graphql_refusals_carry_a_code(
    client: TestClient,
    test_settings: CrkgSettings,
    query: str,
    variables: dict[str, Any],
    code: str,
) -> None:
    response = client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=_headers(test_settings)
    )
    assert response.status_code == 200
    errors = response.json()["errors"]
    assert {e["extensions"]["code"] for e in errors} == {code}, errors


def _me_signed(
    client: TestClient, settings: CrkgSettings, *, iat: object, exp: object
) -> httpx.Response:
    """``{ me }`` asked with a marketer's token signed with the API's own key, issued at
    ``iat`` and expiring at ``exp`` (whatever the token library writes for them)."""
    claims = {
        "iat": iat,
        "exp": exp,
        "iss": settings.auth_jwt_issuer,
        "aud": settings.auth_jwt_audience,
        "sub": "x",
        "role": "marketer",
    }
    token = jwt.encode(claims, hmac_secret(settings), algorithm="HS256")
    return client.post(
        "/graphql", json={"query": "{ me { role } }"}, headers={"Authorization": f"Bearer {token}"}
    )


def test_a_token_with_a_time_no_clock_holds_is_401_not_500(
    client: TestClient, test_settings: CrkgSettings
) -> None:
    response = _me_signed(client, test_settings, iat=int(time.time()), exp=1e20)
    assert response.status_code == 401
    assert _code(response) == "UNAUTHENTICATED"
    assert "malformed claims" in response.json()["errors"][0]["message"]


def test_a_token_living_a_hundred_years_is_refused(
    client: TestClient, test_settings: CrkgSettings
) -> None:
    now = datetime.now(UTC)
    response = _me_signed(client, test_settings, iat=now, exp=now + timedelta(days=36_500))
    assert response.status_code == 401
    assert "CRKG_AUTH_MAX_TOKEN_TTL_MINUTES" in response.json()["errors"][0]["message"]


def test_openapi_and_docs_are_for_development_only(loaded: GraphStore) -> None:
    for environment, served in ((Environment.TEST, False), (Environment.DEVELOPMENT, True)):
        with TestClient(create_app(make_test_settings(environment=environment))) as dev:
            for path in ("/openapi.json", "/docs"):
                response = dev.get(path)
                assert (response.status_code == 200) is served, (environment, path)
                if not served:
                    assert _code(response) == "NOT_FOUND"


@pytest.mark.parametrize("host", ["0.0.0.0", "10.0.0.5", "::", "api.bank.internal"])  # noqa: S104
def test_development_refuses_to_bind_beyond_loopback(host: str) -> None:
    development = make_test_settings(environment=Environment.DEVELOPMENT)
    with pytest.raises(AuthConfigurationError, match="CRKG_API_ALLOW_REMOTE_DEV"):
        check_bind_host(development, host)
    check_bind_host(development, "127.0.0.1")
    check_bind_host(development.model_copy(update={"api_allow_remote_dev": True}), host)
    check_bind_host(make_test_settings(environment=Environment.PRODUCTION), host)


# --- #7 audit ------------------------------------------------------------------------------
def test_a_purpose_longer_than_200_characters_is_refused(
    client: TestClient, test_settings: CrkgSettings
) -> None:
    for purpose in ("P" * 201, "case 1\x07"):
        response = client.post(
            "/graphql",
            json={"query": "{ me { role } }"},
            headers={**_headers(test_settings), "X-Crkg-Purpose": purpose},
        )
        assert response.status_code == 400
        assert _code(response) == "INVALID_PURPOSE"


async def test_the_audit_record_says_the_declared_operation_and_the_document_hash(
    client: TestClient,
    test_settings: CrkgSettings,
    loaded: GraphStore,
    rm_id: str,
    own: str,
) -> None:
    import hashlib

    query = f'# compliance review\n{{ customer(id: "{own}") {{ name {{ value }} }} }}'
    response = client.post(
        "/graphql",
        json={"query": query},
        headers={**_headers(test_settings, Role.RM, rm_id), "X-Crkg-Purpose": "case 42"},
    )
    assert not response.json().get("errors"), response.json()
    records, _, _ = await loaded.driver.execute_query(
        "MATCH (a:AuditEvent {subject: $s, customer_id: $c}) RETURN a ORDER BY a.at DESC LIMIT 1",
        s=rm_id,
        c=own,
        database_=test_settings.neo4j_database,
    )
    event = records[0]["a"]
    assert event["operation"] == "(anonymous)"  # the leading comment is no longer the label
    assert event["document_sha256"] == hashlib.sha256(query.encode()).hexdigest()
    assert event["purpose"] == "case 42"


async def test_a_groups_loan_balance_is_audited_for_its_members(
    client: TestClient, test_settings: CrkgSettings, loaded: GraphStore
) -> None:
    risk = api_for(client, test_settings, Role.RISK, "risk-audit")
    groups = risk.data(
        "{ relatedPartyGroups(first: 1) { loanBalance { amount } members { customer { id } } } }"
    )
    [group] = groups["relatedPartyGroups"]
    members = {m["customer"]["id"] for m in group["members"]}
    records, _, _ = await loaded.driver.execute_query(
        "MATCH (a:AuditEvent {subject: 'risk-audit'}) WHERE 'group_loan_balance' IN a.fields "
        "RETURN collect(a.customer_id) AS ids",
        database_=test_settings.neo4j_database,
    )
    assert set(records[0]["ids"]) == members


# --- users #5: a token for an RM that does not exist ---------------------------------------
@pytest.mark.parametrize("subject", ["RM9999", "rm-lower"])
def test_a_token_for_an_rm_that_does_not_exist_is_refused_on_every_request(
    client: TestClient, test_settings: CrkgSettings, rm_id: str, subject: str
) -> None:
    ghost = subject if subject == "RM9999" else rm_id.lower()
    for query in ("{ me { rmId } }", '{ customer(id: "C0000001") { managedByYou } }'):
        response = client.post(
            "/graphql", json={"query": query}, headers=_headers(test_settings, Role.RM, ghost)
        )
        assert response.status_code == 403
        [error] = response.json()["errors"]
        assert error["extensions"]["code"] == "NOT_FOUND"
        assert ghost in error["message"]
    real = client.post(
        "/graphql",
        json={"query": "{ me { rmId } }"},
        headers=_headers(test_settings, Role.RM, rm_id),
    )
    assert real.json()["data"]["me"]["rmId"] == rm_id


def test_crkg_token_warns_about_an_rm_the_database_does_not_have(
    loaded: GraphStore, test_settings: CrkgSettings, rm_id: str
) -> None:
    ghost = run_crkg(
        test_settings, "token", "--role", "rm", "--subject", rm_id.lower(), CRKG_ENVIRONMENT="test"
    )
    assert ghost.returncode == 0, ghost.stderr
    assert "no RelationshipManager" in ghost.stderr
    assert ghost.stdout.strip().startswith("eyJ")
    real = run_crkg(
        test_settings, "token", "--role", "rm", "--subject", rm_id, CRKG_ENVIRONMENT="test"
    )
    assert real.returncode == 0
    assert "warning" not in real.stderr


# --- #8 referral paths from another RM's book ----------------------------------------------
def test_an_rm_searches_referral_paths_only_from_their_own_book(
    client: TestClient, test_settings: CrkgSettings, rm_id: str, books: dict[str, list[str]]
) -> None:
    other_rm = next(r for r in sorted(books) if r != rm_id)
    prospect = sorted(books[other_rm])[0]
    query = "query($to: ID!, $rm: ID) { referralPaths(toCustomerId: $to, fromRmId: $rm, k: 1) { hops } }"
    rm = api_for(client, test_settings, Role.RM, rm_id)
    errors = rm.errors(query, to=prospect, rm=other_rm)
    assert codes(errors) == {"FORBIDDEN"}
    assert "search_any_book" in errors[0]["message"]
    assert errors[0]["path"] == ["referralPaths"]
    assert "referralPaths" in rm.post(query, to=prospect, rm=rm_id)["data"]
    for role in (Role.MARKETER, Role.ADMIN):
        body = api_for(client, test_settings, role, "someone").post(query, to=prospect, rm=other_rm)
        assert not body.get("errors"), body


# --- #1 network value is a financial figure -----------------------------------------------
NETWORK_VALUE = """query($id: ID!) { customer(id: $id) { id aum { masked }
    scores { pagerank networkValue { value masked } } } }"""


async def test_network_value_is_exact_only_where_aum_is(
    client: TestClient,
    test_settings: CrkgSettings,
    loaded: GraphStore,
    rm_id: str,
    own: str,
    other: str,
) -> None:
    records, _, _ = await loaded.driver.execute_query(
        "MATCH (c:Customer) WHERE c.customer_id IN $ids RETURN c.customer_id AS id, "
        "c.score_network_value AS nv",
        ids=[own, other],
        database_=test_settings.neo4j_database,
    )
    stored = {r["id"]: r["nv"] for r in records}
    assert all(v is not None for v in stored.values())
    seen = {
        (role, customer): api_for(client, test_settings, role, subject).data(
            NETWORK_VALUE, id=customer
        )["customer"]["scores"]["networkValue"]
        for role, subject in ((Role.RM, rm_id), (Role.MARKETER, "mkt"), (Role.RISK, "risk-nv"))
        for customer in (own, other)
    }
    assert seen[(Role.RM, own)] == {"value": stored[own], "masked": False}
    assert seen[(Role.RM, other)] == {"value": None, "masked": True}
    assert seen[(Role.MARKETER, own)] == {"value": None, "masked": True}
    assert seen[(Role.MARKETER, other)] == {"value": None, "masked": True}
    assert seen[(Role.RISK, other)] == {"value": stored[other], "masked": False}
    records, _, _ = await loaded.driver.execute_query(
        "MATCH (a:AuditEvent {subject: $s, customer_id: $c}) WHERE 'network_value' IN a.fields "
        "RETURN count(a) AS n",
        s=rm_id,
        c=own,
        database_=test_settings.neo4j_database,
    )
    assert records[0]["n"] >= 1, "an exact network value read leaves an audit record"


def test_ranking_by_network_value_needs_read_financials(
    client: TestClient, test_settings: CrkgSettings, rm_id: str
) -> None:
    query = "{ influencers(metric: NETWORK_VALUE, first: 5) { rank customer { id } } }"
    for role, subject in ((Role.MARKETER, "mkt"), (Role.RM, rm_id)):
        errors = api_for(client, test_settings, role, subject).errors(query)
        assert codes(errors) == {"FORBIDDEN"}
        assert "read_financials" in errors[0]["message"]
    assert api_for(client, test_settings, Role.RISK, "risk").data(query)["influencers"]


# --- #9 cursors and internal errors ---------------------------------------------------------
@pytest.mark.parametrize(
    "inner", ["customer:C0000001\x1fzz", "customer:C0000001\x00", "customer:" + "C" * 200]
)
def test_a_cursor_holding_what_no_id_holds_is_a_client_error(
    client: TestClient, test_settings: CrkgSettings, inner: str
) -> None:
    cursor = base64.urlsafe_b64encode(inner.encode()).decode()
    admin = api_for(client, test_settings, Role.ADMIN, "ops")
    community = admin.data("{ communities(first: 1) { edges { node { id } } } }")["communities"][
        "edges"
    ][0]["node"]["id"]
    for query, variables in (
        (
            "query($c: ID!, $a: String) { community(id: $c) { members(first: 2, after: $a) { edges { node { id } } } } }",
            {"c": community, "a": cursor},
        ),
        (
            "query($a: String) { customers(first: 2, after: $a) { edges { node { id } } } }",
            {"a": cursor},
        ),
    ):
        errors = admin.errors(query, **variables)
        assert codes(errors) == {"BAD_REQUEST"}, errors


def test_internal_errors_are_counted_by_field_path(
    client: TestClient, test_settings: CrkgSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from graph.repositories.communities import CommunityRepository

    async def defect(self: Any, keys: Any) -> Any:
        raise RuntimeError("a stand-in for a defect in the member pages")

    monkeypatch.setattr(CommunityRepository, "members", defect)
    field = "community.members"
    before = _counter(client, "crkg_graphql_internal_errors_total", field=field)
    admin = api_for(client, test_settings, Role.ADMIN, "ops")
    community = admin.data("{ communities(first: 1) { edges { node { id } } } }")["communities"][
        "edges"
    ][0]["node"]["id"]
    body = admin.post(
        "query($c: ID!) { x1: community(id: $c) { m: members(first: 2) { edges { node { id } } } } }",
        c=community,
    )
    assert codes(body["errors"]) == {"INTERNAL_ERROR"}
    assert _counter(client, "crkg_graphql_internal_errors_total", field=field) == before + 1
    assert _counter(client, "crkg_graphql_errors_total", code="INTERNAL_ERROR") >= 1


# --- #6 penetration of an unknown product: one check, not one per community ---------------
async def test_penetration_of_a_product_not_in_the_profiles_is_checked_once_per_request(
    client: TestClient, test_settings: CrkgSettings, loaded: GraphStore
) -> None:
    # a product created after the profiles were computed: in no stored map, so every
    # community has to ask whether it exists (the review: one query per community)
    await loaded.driver.execute_query(
        "CREATE (:Product {product_id: 'PRDNEW', name: 'new', category: 'DEPOSIT'})",
        database_=test_settings.neo4j_database,
    )
    try:
        marketer = api_for(client, test_settings, Role.MARKETER, "mkt")
        aliases = " ".join(
            f"a{i}: communities(algorithm: LOUVAIN, first: 50) "
            '{ edges { node { size penetration(productId: "PRDNEW") } } }'
            for i in range(3)
        )
        data = marketer.data("{ " + aliases + " }")
        shares = [e["node"]["penetration"] for e in data["a0"]["edges"]]
        assert len(shares) >= 5
        assert set(shares) == {0.0}
        # three pages and one batched product check
        assert marketer.last_round_trips is not None
        assert marketer.last_round_trips <= 4, marketer.last_round_trips
        unknown = marketer.errors(
            '{ communities(first: 5) { edges { node { penetration(productId: "PRD9999") } } } }'
        )
        assert codes(unknown) == {"NOT_FOUND"}
    finally:
        await loaded.driver.execute_query(
            "MATCH (p:Product {product_id: 'PRDNEW'}) DELETE p",
            database_=test_settings.neo4j_database,
        )


# --- #5 the neighbourhood, level by level ----------------------------------------------------
def _bfs_order(graph: nx.Graph, center: str, depth: int) -> list[tuple[str, int]]:
    hops = nx.single_source_shortest_path_length(graph, center, cutoff=depth)
    return sorted(((n, h) for n, h in hops.items() if n != center), key=lambda x: (x[1], x[0]))


def test_depth_three_connections_are_the_nearest_first_cut_to_the_page(
    client: TestClient, test_settings: CrkgSettings, bank: Path
) -> None:
    graph = nx.Graph()
    for row in _rows(bank / "social.csv"):
        if float(row["strength"] or 1.0) >= 0.2:
            graph.add_edge(row["src_id"], row["dst_id"])
    center = max(sorted(graph.nodes), key=graph.degree)
    order = _bfs_order(graph, center, 3)
    api = api_for(client, test_settings, Role.MARKETER, "mkt")
    for first in (5, graph.degree(center) + 3, 200, 1000):
        found = api.data(
            """query($id: ID!, $n: Int) { connections(customerId: $id, depth: 3, minStrength: 0.2,
                 first: $n) { truncated nodes { hops customer { id } } } }""",
            id=center,
            n=first,
        )["connections"]
        assert [(n["customer"]["id"], n["hops"]) for n in found["nodes"]] == order[:first]
        assert found["truncated"] is (len(order) > first)


async def test_a_hub_costs_one_bounded_expansion_per_level(
    loaded: GraphStore, test_settings: CrkgSettings
) -> None:
    """A planted tree: a hub with 30 friends, each with 30 more, each of those with 5
    (5,430 customers within three ties). A page of 20 is full at the first level, so
    nothing further is expanded; a pattern over paths walked all three levels first."""
    database = test_settings.neo4j_database
    await loaded.driver.execute_query(
        """CREATE (h:Customer {customer_id: 'TREE', kind: 'PERSON', name: 't'})
           WITH h UNWIND range(1, 30) AS i
           CREATE (h)-[:FRIEND {strength: 0.9}]->(a:Customer {customer_id: 'TREE-' + i,
                                                              kind: 'PERSON', name: 't'})
           WITH a UNWIND range(1, 30) AS j
           CREATE (a)-[:FRIEND {strength: 0.9}]->(b:Customer {
               customer_id: a.customer_id + '-' + j, kind: 'PERSON', name: 't'})
           WITH b UNWIND range(1, 5) AS k
           CREATE (b)-[:FRIEND {strength: 0.9}]->(:Customer {
               customer_id: b.customer_id + '-' + k, kind: 'PERSON', name: 't'})""",
        database_=database,
    )

    def hits(plan: Any) -> int:
        return int(plan.get("dbHits", 0)) + sum(hits(c) for c in plan.get("children", []))

    try:
        # measured on this tree: paths 25,363 / 26,708 db hits; levels 973 / 5,978
        for limit, most in ((21, 5_000), (101, 12_000)):
            async with loaded.driver.session(database=database) as session:
                result = await session.run(
                    "PROFILE " + neighbourhood(list(TieKind), 3),
                    customer_id="TREE",
                    min_strength=0.0,
                    limit=limit,
                )
                record = await result.single(strict=True)
                summary = await result.consume()
            assert len(record["nodes"]) == limit
            assert hits(summary.profile) < most, (limit, hits(summary.profile))
    finally:
        await loaded.driver.execute_query(
            "MATCH (c:Customer) WHERE c.customer_id STARTS WITH 'TREE' DETACH DELETE c",
            database_=database,
        )


# --- #5 the whole-request deadline ----------------------------------------------------------
async def test_no_transaction_of_a_request_runs_past_its_deadline(loaded: GraphStore) -> None:
    slow = "UNWIND range(1, 300000000) AS x WITH x WHERE x % 7 = 0 RETURN count(*) AS n"
    quick = "RETURN 1 AS n"

    trips: list[str] = []
    started = time.monotonic()
    request = loaded.scoped(
        transaction_timeout=30.0,
        on_round_trip=trips.append,
        deadline=started + 1.0,
        deadline_seconds=1.0,
    )
    assert await request.fetch_one("quick", quick) == {"n": 1}
    with pytest.raises(
        QueryTimeoutError,
        match=r"the request \(at slow count\) took longer than its timeout of 1 s",
    ):
        await request.fetch_one("slow count", slow)  # cut at what was left, not the 30 s
    assert time.monotonic() - started < 5
    with pytest.raises(QueryTimeoutError, match="the request"):
        await request.fetch_one("after the deadline", quick)
    assert trips == ["quick", "slow count"]  # nothing was sent after the deadline


def test_a_request_answers_timeout_at_its_deadline(
    loaded: GraphStore, test_settings: CrkgSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    from graph.repositories.communities import CommunityRepository

    async def stuck(self: Any, *args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(60)  # work that waits on something other than the database

    monkeypatch.setattr(CommunityRepository, "page", stuck)
    settings = test_settings.model_copy(update={"api_request_timeout_seconds": 1.0})
    with TestClient(create_app(settings)) as short:
        started = time.monotonic()
        response = short.post(
            "/graphql",
            json={"query": "{ communities { edges { node { id } } } }"},
            headers=_headers(settings),
        )
        took = time.monotonic() - started
    assert took < 4
    assert _code(response) == "TIMEOUT"
    assert "CRKG_API_REQUEST_TIMEOUT_SECONDS" in response.json()["errors"][0]["message"]
