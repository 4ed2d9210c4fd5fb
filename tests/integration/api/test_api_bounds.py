"""The cost estimate is an upper bound on what responses really hold, on a loaded bank.

A generated bank is loaded and its algorithms run once for this module; nested queries over
every kind of list are then sent through HTTP, their responses' values counted field by
field, and the counts compared with the estimate the limits computed before execution.
"""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from graphql import (
    GraphQLObjectType,
    GraphQLSchema,
    get_named_type,
    parse,
)
from neo4j import AsyncDriver

from api.app import create_app
from api.graphql.schema import build_schema
from api.security.auth import Role
from api.security.cost import QueryLimits, measure_operations
from api.security.tokens import mint_token
from graph.settings import CrkgSettings
from graph.store import GraphStore
from tests.support.banks import generated_bank, loaded_with
from tests.support.graphql_types import is_list

pytestmark = pytest.mark.db

CUSTOMERS = 1200
ALGORITHMS = [
    "segmentation",
    "louvain",
    "wcc",
    "pagerank",
    "guarantee_circles",
    "identifier_rings",
    "control_groups",
    "referral_targets",
]


@pytest.fixture(scope="module")
async def loaded_bank(
    driver: AsyncDriver, test_settings: CrkgSettings, tmp_path_factory: pytest.TempPathFactory
) -> GraphStore:
    bank = generated_bank(tmp_path_factory, "bounds-bank", customers=CUSTOMERS, seed=23)
    return await loaded_with(driver, test_settings, bank, tmp_path_factory, ALGORITHMS)


@pytest.fixture(scope="module")
def client(loaded_bank: GraphStore, test_settings: CrkgSettings) -> Iterator[TestClient]:
    with TestClient(create_app(test_settings)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def schema(test_settings: CrkgSettings) -> GraphQLSchema:
    return build_schema(test_settings)._schema


def _post(
    client: TestClient,
    settings: CrkgSettings,
    query: str,
    subject: str = "bounds",
    **variables: Any,
) -> Any:
    token = mint_token(settings, role=Role.ADMIN, subject=subject)
    response = client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    return response.json()


def count_values(schema: GraphQLSchema, parent: GraphQLObjectType, data: dict[str, Any]) -> int:
    """Values in a response object the way the estimate counts them: one per field, one per
    item of a list of scalars, and the fields of every object (a JSON scalar is one value)."""
    total = 0
    for key, value in data.items():
        total += 1
        output = parent.fields[key].type
        named = get_named_type(output)
        items = value if is_list(output) and value is not None else None
        if not isinstance(named, GraphQLObjectType):
            total += len(items) if items is not None else 0
        elif items is not None:
            total += sum(count_values(schema, named, item) for item in items if item is not None)
        elif value is not None:
            total += count_values(schema, named, value)
    return total


async def _ids(loaded_bank: GraphStore, settings: CrkgSettings, query: str) -> list[str]:
    records, _, _ = await loaded_bank.driver.execute_query(query, database_=settings.neo4j_database)
    return [str(r["id"]) for r in records]


@pytest.fixture(scope="module")
async def examples(loaded_bank: GraphStore, test_settings: CrkgSettings) -> dict[str, str]:
    async def one(query: str) -> str:
        found = await _ids(loaded_bank, test_settings, query)
        assert found, query
        return found[0]

    return {
        "hub": await one(
            "MATCH (c:Customer)-[t]-(:Customer) WHERE type(t) IN "
            "['FAMILY','SPOUSE','FRIEND','COLLEAGUE','CLASSMATE','BUSINESS'] "
            "RETURN c.customer_id AS id, count(t) AS n ORDER BY n DESC, id LIMIT 1"
        ),
        "holder": await one(
            "MATCH (c:Customer)-[:HOLDS]->(p:Product) "
            "RETURN c.customer_id AS id, count(p) AS n ORDER BY n DESC, id LIMIT 1"
        ),
        "product": await one(
            "MATCH (:Customer)-[:REFERRAL_TARGET]->(p:Product) "
            "RETURN p.product_id AS id, count(*) AS n ORDER BY n DESC, id LIMIT 1"
        ),
        "company": await one(
            "MATCH (c:Customer)-[:MEMBER_OF]->(r:RiskLinkage {kind: 'CONTROL_GROUP'}) "
            "RETURN c.customer_id AS id ORDER BY id LIMIT 1"
        ),
        "rm": await one(
            "MATCH (c:Customer)-[:MANAGED_BY]->(m:RelationshipManager) "
            "RETURN m.rm_id AS id, count(c) AS n ORDER BY n DESC, id LIMIT 1"
        ),
    }


NESTED_QUERIES = {
    "the report's shape, smaller": """{ customers(first: 40) { edges { cursor node { id
        communities { algorithm community { id centralMembers { id communities { communityId
        community { size centralMembers { id } } } } } } } } pageInfo { hasNextPage } } }""",
    "a 360 with every list": """query($id: ID!) { customer(id: $id) { id
        products { productId name balance { amount } } scenarios { scenarioId role }
        communities { communityId } identifiers { kind sharedBy }
        riskLinkages { linkageId size } } }""",
    "a neighbourhood": """query($hub: ID!) { connections(customerId: $hub, depth: 2, first: 300) {
        center { id } truncated nodes { hops customer { id products { productId } } }
        ties { fromId toId kind strength } } }""",
    "communities with members": """{ communities(algorithm: LOUVAIN, first: 20) { edges { node {
        id size dominantScenarios { scenarioId members } centralMemberIds
        centralMembers { id scenarios { scenarioId } }
        members(first: 10) { edges { node { id products { productId } } } } } } } }""",
    "referral targets": """query($product: ID!) { referralTargets(productId: $product,
        first: 100) { rank customer { id } introducers { customerId pathIds customer { id } } } }""",
    "risk": """query($company: ID!) { guaranteeCircles(first: 50) { id members(first: 10) {
        customer { id riskLinkages { kind } identifiers { kind } } } }
        riskRings(kind: SHARED_IDENTIFIER, first: 30) { size members { customer { id } } }
        relatedPartyGroup(customerId: $company) { members { role customer { id } }
        shareholdings { holderId companyId pct } } }""",
    "warm paths": """query($hub: ID!, $rm: ID!) {
        referralPaths(toCustomerId: $hub, fromRmId: $rm, k: 5, maxHops: 4) {
        customerIds customers { id products { productId } } }
        me { permissions } }""",
}


@pytest.mark.parametrize("name", sorted(NESTED_QUERIES))
def test_the_estimate_bounds_the_values_returned(
    client: TestClient,
    test_settings: CrkgSettings,
    schema: GraphQLSchema,
    examples: dict[str, str],
    name: str,
) -> None:
    query = NESTED_QUERIES[name]
    document = parse(query)
    declared = {
        d.variable.name.value
        for op in document.definitions
        for d in getattr(op, "variable_definitions", None) or ()
    }
    variables = {
        key: value
        for key, value in {
            "id": examples["holder"],
            "hub": examples["hub"],
            "product": examples["product"],
            "company": examples["company"],
            "rm": examples["rm"],
        }.items()
        if key in declared
    }
    limits = QueryLimits(
        max_depth=test_settings.api_max_depth,
        max_aliases=test_settings.api_max_aliases,
        max_cost=test_settings.api_max_cost,
        max_page_size=test_settings.api_max_page_size,
        page_size_arguments=("first", "limit", "k"),
    )
    [measure] = measure_operations(schema, document, limits, variables=variables)
    body = _post(client, test_settings, query, **variables)
    assert not body.get("errors"), body["errors"]
    assert "truncated" not in (body.get("extensions") or {}), body["extensions"]
    query_type = schema.query_type
    assert query_type is not None
    returned = count_values(schema, query_type, body["data"])
    assert returned > 10, body  # the bank answered with something to count
    assert returned <= measure.cost, (returned, measure.cost)


def test_the_reported_query_is_refused_before_it_runs(
    client: TestClient, test_settings: CrkgSettings
) -> None:
    body = _post(
        client,
        test_settings,
        """{ customers(first: 1000) { edges { node { id communities { community {
        centralMembers { communities { community { centralMembers { id } } } } } } } } } }""",
    )
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert error["extensions"]["cost"] > 400_000


# --- a warm-path search that times out stops computing ---------------------------------------
SLOW_SIZE = 40
SEARCH_TIMEOUT = 1.5
PATHS = """query($to: ID!) { paths(fromId: "SLOW00", toId: $to, k: 10, maxHops: 6) {
    customerIds } }"""
# what a victim asks while the slow search runs: one hop, so it answers in milliseconds even on
# a loaded CI machine where the slow search's thread competes for the same interpreter
SHORT_PATHS = """query($to: ID!) { paths(fromId: "SLOW00", toId: $to, k: 1, maxHops: 1) {
    customerIds } }"""
REFERRAL_PATHS = """query($to: ID!) { referralPaths(toCustomerId: $to, fromRmId: "RMSLOW",
    k: 10, maxHops: 6) { customerIds } }"""


@pytest.fixture
async def slow_clique(loaded_bank: GraphStore, test_settings: CrkgSettings) -> AsyncIterator[str]:
    """40 customers all tied strongly to each other, and one weak tie on to the target: a
    hop-limited best-first search expands millions of cheap paths before reaching it."""
    database = test_settings.neo4j_database
    await loaded_bank.driver.execute_query(
        """
        CREATE (rm:RelationshipManager {rm_id: 'RMSLOW', name: 'slow', branch_id: 'B0'})
        WITH rm
        UNWIND range(0, $size - 1) AS i
        CREATE (c:Customer {customer_id: 'SLOW' + right('0' + toString(i), 2),
                            kind: 'PERSON', name: '慢' + toString(i)})
        WITH rm, c WHERE c.customer_id = 'SLOW00'
        CREATE (c)-[:MANAGED_BY]->(rm)
        """,
        size=SLOW_SIZE,
        database_=database,
    )
    await loaded_bank.driver.execute_query(
        """
        MATCH (a:Customer), (b:Customer)
        WHERE a.customer_id STARTS WITH 'SLOW' AND b.customer_id STARTS WITH 'SLOW'
          AND a.customer_id < b.customer_id
        CREATE (a)-[:FRIEND {strength: 0.99}]->(b)
        WITH count(*) AS ties
        MATCH (m:Customer {customer_id: 'SLOW01'})
        CREATE (m)-[:FRIEND {strength: 0.01}]->(:Customer {customer_id: 'SLOWTARGET',
                                                         kind: 'PERSON', name: '远'})
        """,
        database_=database,
    )
    yield "SLOWTARGET"
    await loaded_bank.driver.execute_query(
        "MATCH (c:Customer) WHERE c.customer_id STARTS WITH 'SLOW' DETACH DELETE c "
        "WITH count(*) AS gone MATCH (rm:RelationshipManager {rm_id: 'RMSLOW'}) DELETE rm",
        database_=database,
    )


@contextmanager
def _searches_limited(settings: CrkgSettings, *, searches: int) -> Iterator[TestClient]:
    """A client of an API whose path searches time out after SEARCH_TIMEOUT, ``searches``
    of them at a time, refused at once when none is free (no wait for a slot: the waiting is
    tests/unit/algorithms/test_search_slots.py's)."""
    limited = settings.model_copy(
        update={
            "api_query_timeout_seconds": SEARCH_TIMEOUT,
            "api_max_concurrent_searches": searches,
            "api_search_wait_seconds": 0.0,
        }
    )
    with TestClient(create_app(limited)) as test_client:
        yield test_client


@pytest.fixture
def slow_client(loaded_bank: GraphStore, test_settings: CrkgSettings) -> Iterator[TestClient]:
    with _searches_limited(test_settings, searches=1) as test_client:
        yield test_client


def _search_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "crkg-path-search"]


@pytest.mark.parametrize("query", [PATHS, REFERRAL_PATHS], ids=["paths", "referralPaths"])
def test_a_search_that_times_out_stops_computing(
    slow_client: TestClient, test_settings: CrkgSettings, slow_clique: str, query: str
) -> None:
    started = time.monotonic()
    body = _post(slow_client, test_settings, query, to=slow_clique)
    answered = time.monotonic() - started
    [error] = body["errors"]
    assert error["extensions"]["code"] == "TIMEOUT", error
    assert "took longer than its timeout of 1.5 s" in error["message"]
    assert answered < SEARCH_TIMEOUT + 3
    time.sleep(0.2)  # the search thread looks at the clock every few hundred paths
    assert not [t for t in _search_threads() if t.is_alive()]
    cpu_before = time.process_time()
    time.sleep(2.0)
    assert time.process_time() - cpu_before < 0.5  # quiet: nothing computes on


def test_searches_beyond_the_limit_are_refused_until_a_slot_frees(
    slow_client: TestClient,
    test_settings: CrkgSettings,
    slow_clique: str,
    examples: dict[str, str],
) -> None:
    with ThreadPoolExecutor(max_workers=1) as pool:
        slow = pool.submit(_post, slow_client, test_settings, PATHS, "slow-user", to=slow_clique)
        deadline = time.monotonic() + 5
        while not _search_threads() and time.monotonic() < deadline:
            time.sleep(0.02)  # until the slow one holds the only slot
        assert _search_threads(), "the slow search never started"
        busy = _post(slow_client, test_settings, PATHS, "another-user", to=examples["hub"])
        [error] = busy["errors"]
        assert error["extensions"]["code"] == "BUSY"
        assert "1 warm-path searches already running" in error["message"]
        assert slow.result()["errors"][0]["extensions"]["code"] == "TIMEOUT"
    time.sleep(0.2)
    again = _post(slow_client, test_settings, PATHS, "another-user", to="SLOW05")
    assert not again.get("errors"), again
    assert again["data"]["paths"][0]["customerIds"] == ["SLOW00", "SLOW05"]


@pytest.fixture
def fair_client(loaded_bank: GraphStore, test_settings: CrkgSettings) -> Iterator[TestClient]:
    with _searches_limited(test_settings, searches=2) as test_client:
        yield test_client


def test_one_user_cannot_take_every_search_slot(
    fair_client: TestClient, test_settings: CrkgSettings, slow_clique: str
) -> None:
    """The review: three threads of one marketer looping hub-to-hub searches made every
    RM's paths BUSY. One user holds one slot; the other slot stays free for everyone else."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        slow = pool.submit(_post, fair_client, test_settings, PATHS, "attacker", to=slow_clique)
        deadline = time.monotonic() + 5
        while not _search_threads() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _search_threads(), "the slow search never started"
        second = _post(fair_client, test_settings, PATHS, "attacker", to=slow_clique)
        [error] = second["errors"]
        assert error["extensions"]["code"] == "BUSY"
        assert "you already have 1 warm-path search running" in error["message"]
        victim = _post(fair_client, test_settings, SHORT_PATHS, "victim-rm", to="SLOW05")
        assert not victim.get("errors"), victim
        assert victim["data"]["paths"][0]["customerIds"] == ["SLOW00", "SLOW05"]
        assert slow.result()["errors"][0]["extensions"]["code"] == "TIMEOUT"


def test_aliased_searches_of_one_request_run_one_at_a_time(
    fair_client: TestClient, test_settings: CrkgSettings, slow_clique: str
) -> None:
    query = """{ a: paths(fromId: "SLOW00", toId: "SLOWTARGET", k: 10, maxHops: 6) { hops }
                 b: paths(fromId: "SLOW00", toId: "SLOWTARGET", k: 10, maxHops: 6) { hops } }"""
    body = _post(fair_client, test_settings, query, "aliases")
    found = sorted(e["extensions"]["code"] for e in body["errors"])
    assert found == ["BUSY", "TIMEOUT"], body["errors"]


def test_a_search_stops_at_the_requests_deadline(
    loaded_bank: GraphStore, test_settings: CrkgSettings, slow_clique: str
) -> None:
    # each transaction may take 30 s, but the whole request only 1.5 s
    settings = test_settings.model_copy(
        update={"api_query_timeout_seconds": 30.0, "api_request_timeout_seconds": SEARCH_TIMEOUT}
    )
    with TestClient(create_app(settings)) as client:
        started = time.monotonic()
        body = _post(client, settings, PATHS, to=slow_clique)
        answered = time.monotonic() - started
    [error] = body["errors"]
    assert error["extensions"]["code"] == "TIMEOUT"
    assert "the request took longer than its timeout of 1.5 s" in error["message"]
    assert answered < SEARCH_TIMEOUT + 3
    time.sleep(0.2)
    assert not [t for t in _search_threads() if t.is_alive()]
