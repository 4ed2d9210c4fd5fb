"""The API as its users meet it: on the demo bank that `crkg demo` builds.

The module runs `crkg demo --no-serve` (the README's main command) against the test instance,
so the bank, the load and the algorithm runs are exactly the demo's; the tests then ask what
RMs, marketers, risk analysts and admins ask, through HTTP with a token per role.
"""

from __future__ import annotations

import asyncio
import csv
import json
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from neo4j import AsyncDriver

from api.app import create_app
from api.security.auth import Role
from graph.settings import CrkgSettings
from graph.store import GraphStore
from tests.conftest import cli_env
from tests.integration.api_client import Api, api_for, codes

pytestmark = pytest.mark.db

DEMO_CUSTOMERS = 10_000


@dataclass(frozen=True)
class DemoBank:
    store: GraphStore
    export: Path  # the generated files the demo loaded
    customers: dict[str, dict[str, str]]  # customers.csv by id
    books: dict[str, list[str]]  # rm_id -> the customers they manage

    @property
    def largest_book_rm(self) -> str:
        return max(sorted(self.books), key=lambda rm: len(self.books[rm]))

    async def one(self, cypher: str, **params: Any) -> Any:
        """The first column of the first record of a read (for choosing test subjects)."""
        records, _, _ = await self.store.driver.execute_query(
            cypher, params, database_=self.store.database
        )
        assert records, f"no subject found by {cypher}"
        return records[0][0]


def _rows(path: Path) -> list[dict[str, str]]:
    # the demo plants a few rows that are not UTF-8 (the loader rejects them)
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
async def demo(driver: AsyncDriver, test_settings: CrkgSettings) -> DemoBank:
    await driver.execute_query("MATCH (n) DETACH DELETE n", database_=test_settings.neo4j_database)
    crkg = Path(sys.executable).parent / "crkg"
    completed = await asyncio.to_thread(
        subprocess.run,
        [str(crkg), "demo", "--no-serve", "--customers", str(DEMO_CUSTOMERS)],
        env=cli_env(test_settings),
        capture_output=True,
        timeout=900,
        check=False,
    )
    output = (completed.stdout + completed.stderr).decode("utf-8", errors="replace")
    assert completed.returncode == 0, output[-6000:]
    export = test_settings.resolved_data_dir / "demo" / f"bank-{DEMO_CUSTOMERS}"
    customers = {row["customer_id"]: row for row in _rows(export / "customers.csv")}
    books: dict[str, list[str]] = defaultdict(list)
    for customer_id, row in sorted(customers.items()):
        if row.get("rm_id"):
            books[row["rm_id"]].append(customer_id)
    store = GraphStore.from_settings(driver, test_settings)
    return DemoBank(store, export, customers, dict(books))


@pytest.fixture(scope="module")
def client(demo: DemoBank, test_settings: CrkgSettings) -> Iterator[TestClient]:
    with TestClient(create_app(test_settings)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def apis(client: TestClient, test_settings: CrkgSettings, demo: DemoBank) -> dict[Role, Api]:
    """One client per role, with the subjects the demo prints tokens for."""
    subjects = {
        Role.RM: demo.largest_book_rm,
        Role.MARKETER: "marketer-demo",
        Role.RISK: "risk-demo",
        Role.ADMIN: "admin-demo",
    }
    return {
        role: api_for(client, test_settings, role, subject) for role, subject in subjects.items()
    }


# --- defect: influenceExplanation failed on every call ------------------------------------------
async def test_influence_explanation_names_the_neighbours_carrying_pagerank(
    apis: dict[Role, Api], demo: DemoBank
) -> None:
    customer_id = await demo.one(
        "MATCH (c:Customer)-[:FRIEND|FAMILY|COLLEAGUE]-(:Customer) WHERE c.score_pagerank > 0 "
        "RETURN c.customer_id ORDER BY c.score_pagerank DESC LIMIT 1"
    )
    data = apis[Role.MARKETER].data(
        """query($id: ID!) { customer(id: $id) { id
             influenceExplanation { share customerId customer { id } } } }""",
        id=customer_id,
    )
    contributions = data["customer"]["influenceExplanation"]
    assert contributions, "a customer with ties and PageRank has contributing neighbours"
    shares = [c["share"] for c in contributions]
    assert shares == sorted(shares, reverse=True)
    assert all(c["customer"]["id"] == c["customerId"] for c in contributions)


# --- defect: one forbidden sub-field wiped out the whole 360 ------------------------------------
FULL_360 = """
query($id: ID!) { customer(id: $id) {
  id name { value masked } tier
  scores { pagerank exposure { amount } }
  riskLinkages { kind }
  identifiers { kind }
  influenceExplanation { share }
  products { productId }
} }
"""


async def test_a_forbidden_sub_field_does_not_null_the_customer(
    apis: dict[Role, Api], demo: DemoBank
) -> None:
    customer_id = await demo.one(
        "MATCH (c:Customer)-[:MEMBER_OF]->(:RiskLinkage) RETURN c.customer_id ORDER BY 1 LIMIT 1"
    )
    for role in (Role.MARKETER, Role.RM):
        body = apis[role].post(FULL_360, id=customer_id)
        customer = body["data"]["customer"]
        assert customer is not None, body
        assert customer["id"] == customer_id
        assert customer["tier"] is not None
        assert customer["riskLinkages"] is None
        assert customer["identifiers"] is None
        assert customer["scores"]["exposure"] is None
        assert customer["scores"]["pagerank"] is not None
        forbidden = {
            tuple(e["path"]) for e in body["errors"] if e["extensions"]["code"] == "FORBIDDEN"
        }
        assert forbidden == {
            ("customer", "riskLinkages"),
            ("customer", "identifiers"),
            ("customer", "scores", "exposure"),
        }, body["errors"]
    risk = apis[Role.RISK].data(FULL_360, id=customer_id)["customer"]
    assert risk["riskLinkages"], "the risk role reads the linkages"


# --- defect: unknown ids answered like empty results --------------------------------------------
UNKNOWN_ID_QUERIES = [
    ("customer", '{ customer(id: "C9999999") { id } }'),
    ("connections", '{ connections(customerId: "C9999999") { truncated } }'),
    ("paths", '{ paths(fromId: "C0000001", toId: "C9999999") { hops } }'),
    ("paths", '{ paths(fromId: "C9999999", toId: "C0000001") { hops } }'),
    ("referralPaths", '{ referralPaths(toCustomerId: "C9999999", fromRmId: "RM0001") { hops } }'),
    ("referralPaths", '{ referralPaths(toCustomerId: "C0000001", fromRmId: "RM9999") { hops } }'),
    ("referralTargets", '{ referralTargets(productId: "PRD9999") { rank } }'),
    ("referralTargets", '{ referralTargets(productId: "PRD0001", scenarioId: "S99999") { rank } }'),
    ("exposure", '{ exposure(customerId: "C9999999") { total { amount } } }'),
    ("relatedPartyGroup", '{ relatedPartyGroup(customerId: "C9999999") { id } }'),
    ("community", '{ community(id: "louvain:C999999") { id } }'),
    ("customers", '{ customers(scenarioId: "S99999") { edges { cursor } } }'),
    ("customers", '{ customers(communityId: "louvain:C999999") { edges { cursor } } }'),
    ("influencers", '{ influencers(scope: { scenarioId: "S99999" }) { rank } }'),
    ("influencers", '{ influencers(scope: { branchId: "B9999" }) { rank } }'),
    ("job", '{ job(id: "job-does-not-exist") { id } }'),
]


@pytest.mark.parametrize(("field", "query"), UNKNOWN_ID_QUERIES)
def test_an_unknown_id_is_not_found_not_empty(
    apis: dict[Role, Api], field: str, query: str
) -> None:
    errors = apis[Role.ADMIN].errors(query)
    assert codes(errors) == {"NOT_FOUND"}, errors
    assert errors[0]["path"] == [field]
    assert "9999" in errors[0]["message"] or "does-not-exist" in errors[0]["message"]


def test_a_token_for_an_rm_that_does_not_exist_is_told_so(
    client: TestClient, test_settings: CrkgSettings, demo: DemoBank
) -> None:
    # refused at the edge on every request (users review #5: a mistyped or mis-cased rm_id
    # used to see the whole bank masked and no reason why)
    for subject in ("RM9999", demo.largest_book_rm.lower()):
        ghost = api_for(client, test_settings, Role.RM, subject)
        for query in ('{ referralPaths(toCustomerId: "C0000001") { hops } }', "{ me { rmId } }"):
            response = client.post(
                "/graphql",
                json={"query": query},
                headers={"Authorization": f"Bearer {ghost.token}"},
            )
            assert response.status_code == 403
            [error] = response.json()["errors"]
            assert error["extensions"]["code"] == "NOT_FOUND"
            assert subject in error["message"]


# --- defect: scenario targeting silently filtered the bank-wide list ---------------------------
async def test_targets_for_a_scenario_without_its_own_run_say_what_to_run(
    apis: dict[Role, Api], demo: DemoBank
) -> None:
    product, scenario = await demo.one(
        """MATCH (s:Scenario) WHERE NOT EXISTS {
             MATCH (:Customer)-[t:REFERRAL_TARGET]->(:Product) WHERE t.scenario_id = s.scenario_id }
           MATCH (p:Product) WHERE EXISTS { (:Customer)-[:REFERRAL_TARGET {scenario_id: '*'}]->(p) }
           RETURN [p.product_id, s.scenario_id] ORDER BY s.scenario_id, p.product_id LIMIT 1"""
    )
    errors = apis[Role.MARKETER].errors(
        "query($p: ID!, $s: ID!) { referralTargets(productId: $p, scenarioId: $s) { rank } }",
        p=product,
        s=scenario,
    )
    assert codes(errors) == {"NOT_COMPUTED"}, errors
    message = errors[0]["message"] + errors[0]["extensions"].get("hint", "")
    assert scenario in message
    assert product in message
    assert "referral_targets" in message


# --- defect: runAlgorithm parameters -----------------------------------------------------------
def test_bad_algorithm_parameters_get_one_line_each_in_graphql_spelling(
    apis: dict[Role, Api],
) -> None:
    errors = apis[Role.ADMIN].errors(
        "mutation { runAlgorithm(name: PAGERANK, params: {damping: 2, maxIterations: 0, bogus: 1}) { id } }"
    )
    message = errors[0]["message"]
    assert codes(errors) == {"BAD_REQUEST"}
    lines = message.splitlines()
    assert lines[0].startswith("pagerank: 3 bad parameters")
    assert any(line.strip().startswith("damping:") for line in lines[1:])
    assert any(line.strip().startswith("maxIterations:") for line in lines[1:])
    assert any(line.strip().startswith("bogus:") for line in lines[1:])
    assert "validation error" not in message
    assert "https://" not in message
    assert "max_iterations" not in message  # the GraphQL spelling, not Python's


def test_algorithm_parameters_take_the_graphql_spelling(apis: dict[Role, Api]) -> None:
    job = apis[Role.ADMIN].data(
        'mutation { runAlgorithm(name: DEGREE, params: {tieKinds: ["FRIEND"], minStrength: 0.1}) '
        "{ id parameters } }"
    )["runAlgorithm"]
    assert job["parameters"]["tie_kinds"] == ["FRIEND"]
    assert job["parameters"]["min_strength"] == 0.1


# --- the guard: every field of the schema, for every role ---------------------------------------
PII_COLUMNS = ("name", "phone", "id_number", "email")


async def _probe_fills(demo: DemoBank, admin: Api) -> dict[str, Any]:
    """Arguments for every field that needs one, chosen on the demo bank so every probed type
    is reached (a rich customer: RM, products, scenarios, identifiers, ties, a risk linkage)."""
    rich = await demo.one(
        """MATCH (c:Customer)-[:MANAGED_BY]->(:RelationshipManager)
           WHERE EXISTS { (c)-[:HOLDS]->(:Product) } AND EXISTS { (c)-[:PARTICIPATES_IN]->() }
             AND EXISTS { (c)-[:USES]->(:Identifier) } AND EXISTS { (c)-[:MEMBER_OF]->() }
             AND EXISTS { (c)-[:FRIEND|FAMILY|COLLEAGUE|CLASSMATE|SPOUSE|BUSINESS]-() }
             AND c.score_pagerank IS NOT NULL
           RETURN c.customer_id ORDER BY c.customer_id LIMIT 1"""
    )
    group_member = await demo.one(
        "MATCH (c:Customer)-[:MEMBER_OF]->(:RiskLinkage {kind: 'CONTROL_GROUP'}) "
        "RETURN c.customer_id ORDER BY c.customer_id LIMIT 1"
    )
    guarantor = await demo.one(
        "MATCH (c:Customer)-[:GUARANTEES]->() RETURN c.customer_id ORDER BY c.customer_id LIMIT 1"
    )
    community = await demo.one(
        "MATCH (k:Community) RETURN k.community_id ORDER BY k.size DESC, k.community_id LIMIT 1"
    )
    product = await demo.one(
        "MATCH (:Customer)-[:REFERRAL_TARGET {scenario_id: '*'}]->(p:Product) "
        "RETURN p.product_id ORDER BY p.product_id LIMIT 1"
    )
    tie = await demo.one(
        "MATCH (a:Customer)-[r:FRIEND]->(b:Customer) "
        "RETURN [a.customer_id, b.customer_id, r.strength] ORDER BY a.customer_id LIMIT 1"
    )
    prospect = await demo.one(
        """MATCH (:RelationshipManager {rm_id: $rm})<-[:MANAGED_BY]-(:Customer)
             -[:FRIEND|FAMILY|COLLEAGUE]-(p:Customer)
           WHERE NOT (p)-[:MANAGED_BY]->(:RelationshipManager {rm_id: $rm})
           RETURN p.customer_id ORDER BY 1 LIMIT 1""",
        rm=demo.largest_book_rm,
    )
    ring = await demo.one(  # a ring draws every explorerLinkage type (shared identifiers too)
        "MATCH (l:RiskLinkage {kind: 'IDENTIFIER_RING'}) RETURN l.linkage_id ORDER BY 1 LIMIT 1"
    )
    linkage = await demo.one(
        "MATCH (l:RiskLinkage {kind: 'FUND_CYCLE'}) RETURN l.linkage_id ORDER BY 1 LIMIT 1"
    )
    job = admin.data("mutation { runAlgorithm(name: DEGREE) { id } }")["runAlgorithm"]["id"]
    row = demo.customers[rich]
    return {
        "Query.customer.id": rich,
        "Query.community.id": community,
        "Query.job.id": job,
        "Query.connections.customerId": rich,
        "Query.exposure.customerId": guarantor,
        "Query.relatedPartyGroup.customerId": group_member,
        "Query.paths.fromId": tie[0],
        "Query.paths.toId": tie[1],
        "Query.referralPaths.toCustomerId": prospect,
        "Query.referralPaths.fromRmId": demo.largest_book_rm,
        "Query.referralTargets.productId": product,
        "Query.riskRings.kind": "FUND_CYCLE",  # its transfers reach CycleTransfer
        "Query.riskLinkage.id": linkage,
        # the explorer page's own fields (api/graphql/explorer/)
        "Query.explorerNeighbourhood.customerId": rich,
        "Query.explorerExpand.customerId": rich,
        "Query.explorerCommunity.communityId": community,
        "Query.explorerCommunity.maxNodes": 200,
        "Query.explorerTies.pairs": [[tie[0], tie[1]]],
        "Query.explorerLinkage.id": ring,
        "Query.explorerGuarantees.customerId": guarantor,
        "productId": product,
        "Mutation.runAlgorithm.name": "DEGREE",
        "Mutation.upsertCustomers.input": [
            {"customerId": rich, "kind": row["kind"], "name": row["name"]},
            {"customerId": "C-GUARD", "kind": "NOT-A-KIND", "name": "x"},  # rejected, with a row
        ],
        "Mutation.upsertTies.input": [
            {"srcId": tie[0], "dstId": tie[1], "kind": "FRIEND", "strength": tie[2]}
        ],
    }


def _at(data: Any, path: tuple[Any, ...]) -> tuple[Any, tuple[Any, ...]]:
    """The value at ``path`` (first element of every list on the way) and its response path."""
    value, where = data, ()
    for step in path:
        if value is None:
            return None, where
        value = value.get(step.field)
        where = (*where, step.field)
        if step.is_list and isinstance(value, list):
            if not value:
                return [], where
            value, where = value[0], (*where, 0)
    return value, where


def _forbidden_above(errors: list[dict[str, Any]], where: tuple[Any, ...]) -> bool:
    return any(
        tuple(e.get("path") or ())[: len(where)] == tuple(e.get("path") or ())
        and e["extensions"]["code"] == "FORBIDDEN"
        for e in errors
        if len(e.get("path") or ()) <= len(where)
    )


async def test_every_field_answers_safely_for_every_role(
    apis: dict[Role, Api], demo: DemoBank, client: TestClient, test_settings: CrkgSettings
) -> None:
    from api.graphql.schema import build_schema
    from tests.integration.schema_probe import probes

    fills = await _probe_fills(demo, apis[Role.ADMIN])
    schema = build_schema(test_settings)._schema
    found = probes(schema, fills)
    own_book = set(demo.books[demo.largest_book_rm])
    pii = {
        customer_id: [row[c] for c in PII_COLUMNS if len(row.get(c) or "") >= 3]
        for customer_id, row in demo.customers.items()
    }
    own_values = {v for c in own_book for v in pii.get(c, [])}
    seen_by_role = {role: own_values if role is Role.RM else set() for role in apis}
    checked = refused = 0
    problems: list[str] = []
    for role, api in apis.items():
        for probe in found:
            body = api.post(probe.document)
            errors = body.get("errors") or []
            label = f"{role.value} {probe.type_name}"
            for error in errors:
                code = (error.get("extensions") or {}).get("code")
                if code != "FORBIDDEN":
                    problems.append(f"{label}: {code} at {error.get('path')}: {error['message']}")
            data = body.get("data") or {}
            parent, where = _at(data, probe.path)
            if parent is None or parent == []:
                if _forbidden_above(errors, where):
                    refused += len(probe.fields)
                    continue
                why = "null" if parent is None else "an empty list"
                problems.append(f"{label}: not reached, {'.'.join(map(str, where))} is {why}")
                continue
            for field in probe.fields:
                if field not in parent:
                    problems.append(f"{label}.{field}: missing from the answer")
                elif parent[field] is None and _forbidden_above(errors, (*where, field)):
                    refused += 1  # withheld, with FORBIDDEN on its own path; the parent stands
                else:
                    checked += 1
            if role is not Role.ADMIN:
                text = json.dumps(body, ensure_ascii=False)
                for customer_id, values in pii.items():
                    if role is Role.RM and customer_id in own_book:
                        continue
                    # an RM sees their own customers' names unmasked, and two customers can
                    # share a name: that value is no leak of the other customer's
                    leaked = [v for v in values if v in text and v not in seen_by_role[role]]
                    if leaked:
                        problems.append(f"{label}: unmasked PII of {customer_id} in the answer")
    print(f"schema guard: {checked} (role, type, field) triples answered, {refused} refused")
    assert checked > 500  # the walk reached the schema, not a corner of it
    assert not problems, "\n".join(problems[:60])


# --- the README's examples, verbatim ------------------------------------------------------------
README = Path(__file__).resolve().parents[3] / "README.md"
ROLES_IN_README = {
    "relationship manager": Role.RM,
    "marketer": Role.MARKETER,
    "risk analyst": Role.RISK,
    "admin": Role.ADMIN,
}


def readme_examples() -> list[tuple[Role, str]]:
    """The GraphQL examples of the README's API section, each with the role its comment names."""
    text = README.read_text(encoding="utf-8")
    block = text.split("Example queries", 1)[1].split("```graphql\n", 1)[1].split("```", 1)[0]
    examples: list[tuple[Role, str]] = []
    role: Role | None = None
    current: list[str] = []
    depth = 0
    for line in block.splitlines():
        if not current and line.startswith("#"):
            named = [
                r for words, r in ROLES_IN_README.items() if line[1:].strip().startswith(words)
            ]
            assert named, f"README example comment names no role: {line}"
            role = named[0]
            continue
        if not line.strip():
            continue
        assert role is not None, "a README example before any role comment"
        current.append(line)
        depth += line.count("{") - line.count("}")
        if depth == 0:
            examples.append((role, "\n".join(current)))
            current = []
    assert not current, "an unbalanced README example"
    return examples


def _answers_something(value: Any) -> bool:
    if value is None or value == [] or value == {}:
        return False
    if isinstance(value, dict) and "edges" in value:
        return bool(value["edges"])
    return True


def test_the_readme_examples_answer_on_the_demo_bank(apis: dict[Role, Api]) -> None:
    examples = readme_examples()
    assert len(examples) >= 10
    job_id: str | None = None
    for role, query in examples:
        if "job-…" in query:
            assert job_id is not None, "the README polls a job before starting one"
            query = query.replace("job-…", job_id)
        data = apis[role].data(query)
        for value in data.values():
            assert _answers_something(value), f"README example answered nothing: {query}"
        if "runAlgorithm" in data:
            job_id = data["runAlgorithm"]["id"]


# --- defect: the exposure query and the stored exposure score disagreed -----------------------
async def test_exposure_by_default_is_the_stored_exposure_score(
    apis: dict[Role, Api], demo: DemoBank
) -> None:
    # a customer who both guarantees and is guaranteed: OUT and BOTH differ for them
    customer_id = await demo.one(
        "MATCH (c:Customer) WHERE (c)-[:GUARANTEES]->() AND ()-[:GUARANTEES]->(c) "
        "RETURN c.customer_id ORDER BY c.customer_id LIMIT 1"
    )
    data = apis[Role.RISK].data(
        """query($id: ID!) { exposure(customerId: $id) { total { amount } direction hops }
             both: exposure(customerId: $id, direction: BOTH) { total { amount } }
             customer(id: $id) { scores { exposure { amount } } } }""",
        id=customer_id,
    )
    assert data["exposure"]["direction"] == "OUT"
    assert data["exposure"]["total"] == data["customer"]["scores"]["exposure"]
    assert data["both"]["total"] != data["exposure"]["total"]


# --- user review #3: the exposure influencer list spoke minor units as a float ------------------
async def test_exposure_influencers_carry_the_exposure_as_money(
    apis: dict[Role, Api], demo: DemoBank
) -> None:
    rows = apis[Role.RISK].data(
        """{ influencers(metric: EXPOSURE, first: 5) { score amount { amount currency }
             customer { id scores { exposure { amount currency } } } } }"""
    )["influencers"]
    assert rows
    for row in rows:
        assert row["amount"] == row["customer"]["scores"]["exposure"], row
        assert Decimal(str(row["score"])) == Decimal(row["amount"]["amount"])  # currency units
    ranked = apis[Role.RISK].data(
        "{ influencers(metric: PAGERANK, first: 1) { amount { amount } } }"
    )
    assert ranked["influencers"][0]["amount"] is None  # not a money metric
    run = apis[Role.ADMIN].data("{ algorithmRuns(name: EXPOSURE, first: 1) { summary } }")
    summary = run["algorithmRuns"][0]["summary"]
    top_id, top_amount = summary["top"][0]
    assert top_id == rows[0]["customer"]["id"]
    assert top_amount == rows[0]["amount"]["amount"]  # a decimal in currency units, labelled
    assert summary["top_unit"] == "CNY"


# --- user review #6: a risk analyst could not see who defaulted, or why one is flagged -------------
RISK_360 = """query($id: ID!) { customer(id: $id) { id tier defaultedAt birthDate riskFlags } }"""


async def test_risk_sees_defaults_and_risk_flags_on_the_360(
    apis: dict[Role, Api], demo: DemoBank
) -> None:
    defaulted = sorted(c for c, row in demo.customers.items() if row.get("defaulted_at"))
    customer_id = await demo.one(
        "MATCH (c:Customer) WHERE c.defaulted_at IS NOT NULL RETURN c.customer_id ORDER BY 1 LIMIT 1"
    )
    row = demo.customers[customer_id]
    risk = apis[Role.RISK].post(RISK_360, id=customer_id)
    seen = risk["data"]["customer"]
    assert seen["defaultedAt"] == row["defaulted_at"]
    assert "NEAR_DEFAULT" in seen["riskFlags"]
    # birth dates are PII: risk reads masked PII, so it is withheld (FORBIDDEN on its path)
    assert seen["birthDate"] is None
    assert {tuple(e["path"]) for e in risk["errors"]} == {("customer", "birthDate")}
    admin = apis[Role.ADMIN].data(RISK_360, id=customer_id)["customer"]
    assert admin["birthDate"] == (row.get("birth_date") or None)
    assert admin["riskFlags"] == seen["riskFlags"]
    for role in (Role.MARKETER, Role.RM):
        body = apis[role].post(RISK_360, id=customer_id)
        customer = body["data"]["customer"]
        assert customer["id"] == customer_id  # the 360 stands
        assert customer["tier"] is not None
        assert customer["defaultedAt"] is None
        assert customer["riskFlags"] is None
        forbidden = {tuple(e["path"]) for e in body["errors"]}
        assert {("customer", "defaultedAt"), ("customer", "riskFlags")} <= forbidden, body
    unflagged = await demo.one(
        """MATCH (c:Customer) WHERE coalesce(c.risk_rating, 0) < 4 AND c.defaulted_at IS NULL
             AND NOT (c)-[:MEMBER_OF]->()
             AND NOT EXISTS { MATCH (c)--(d:Customer) WHERE d.defaulted_at IS NOT NULL }
           RETURN c.customer_id ORDER BY 1 LIMIT 1"""
    )
    plain = apis[Role.RISK].post(RISK_360, id=unflagged)["data"]["customer"]
    assert plain["riskFlags"] == []

    # every defaulted borrower, paged, in id order
    found: list[str] = []
    after = None
    while True:
        page = apis[Role.RISK].data(
            """query($after: String) { defaultedBorrowers(first: 4, after: $after) {
                 edges { node { id defaultedAt } } pageInfo { hasNextPage endCursor } } }""",
            after=after,
        )["defaultedBorrowers"]
        found += [e["node"]["id"] for e in page["edges"]]
        assert all(e["node"]["defaultedAt"] for e in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    loaded = await demo.one(
        "MATCH (c:Customer) WHERE c.defaulted_at IS NOT NULL RETURN collect(c.customer_id)"
    )
    assert found
    assert found == sorted(loaded)
    assert set(found) <= set(defaulted)
    refused = apis[Role.MARKETER].post("{ defaultedBorrowers(first: 2) { edges { node { id } } } }")
    assert refused["data"] == {"defaultedBorrowers": None}
    assert codes(refused["errors"]) == {"FORBIDDEN"}


# --- user review #16: one vocabulary, what a ring shares, a linkage by id, hops of a cycle ---------
async def test_risk_linkages_speak_one_vocabulary_and_say_what_they_share(
    apis: dict[Role, Api], demo: DemoBank
) -> None:
    risk = apis[Role.RISK]
    ring = risk.data(
        """{ riskRings(kind: IDENTIFIER_RING, first: 1) { id kind sharedKinds identifierCount
             sharedKeys members(first: 50) { customer { id identifiers { key sharedBy } } } } }"""
    )["riskRings"][0]
    assert ring["kind"] == "IDENTIFIER_RING"
    assert len(ring["sharedKeys"]) == ring["identifierCount"]
    for key in ring["sharedKeys"]:  # keyed hashes every member's identifiers show, not values
        assert all(
            any(i["key"] == key for i in m["customer"]["identifiers"]) for m in ring["members"]
        )
    member = ring["members"][0]["customer"]["id"]
    linkages = risk.data(
        "query($id: ID!) { customer(id: $id) { riskLinkages { linkageId kind } } }", id=member
    )["customer"]["riskLinkages"]
    assert {"linkageId": ring["id"], "kind": "IDENTIFIER_RING"} in linkages
    # the old spelling still answers, as a deprecated alias
    alias = risk.data("{ riskRings(kind: SHARED_IDENTIFIER, first: 1) { id kind } }")["riskRings"]
    assert alias == [{"id": ring["id"], "kind": "IDENTIFIER_RING"}]

    cycle = risk.data(
        """{ riskRings(kind: FUND_CYCLE, first: 1) { id kind size amount { amount }
             members(first: 10) { position customer { id } }
             transfers { fromId toId amount { amount } at } } }"""
    )["riskRings"][0]
    assert cycle["kind"] == "FUND_CYCLE"
    ids = [m["customer"]["id"] for m in cycle["members"]]
    hops = cycle["transfers"]
    assert [(t["fromId"], t["toId"]) for t in hops] == list(
        zip(ids, ids[1:] + ids[:1], strict=True)
    )
    assert sum(Decimal(t["amount"]["amount"]) for t in hops) == Decimal(cycle["amount"]["amount"])
    assert [t["at"] for t in hops] == sorted(t["at"] for t in hops)  # time-ordered

    by_id = """query($id: ID!) { riskLinkage(id: $id) { __typename
                 ... on RiskRing { id kind size } ... on GuaranteeCircle { id length }
                 ... on RelatedPartyGroup { id size members(first: 1) { role } } } }"""
    assert risk.data(by_id, id=cycle["id"])["riskLinkage"] == {
        "__typename": "RiskRing",
        "id": cycle["id"],
        "kind": "FUND_CYCLE",
        "size": cycle["size"],
    }
    circle = risk.data("{ guaranteeCircles(first: 1) { id length } }")["guaranteeCircles"][0]
    assert risk.data(by_id, id=circle["id"])["riskLinkage"] == {
        "__typename": "GuaranteeCircle",
        **circle,
    }
    group = await demo.one(
        "MATCH (l:RiskLinkage {kind: 'CONTROL_GROUP'}) RETURN l.linkage_id LIMIT 1"
    )
    opened = risk.data(by_id, id=group)["riskLinkage"]
    assert opened["__typename"] == "RelatedPartyGroup"
    assert opened["members"][0]["role"] == "CONTROLLER"
    assert codes(risk.errors(by_id, id="IDENTIFIER_RING:nothing")) == {"NOT_FOUND"}
    assert apis[Role.MARKETER].post(by_id, id=cycle["id"])["data"] == {"riskLinkage": None}


# --- attacker review #1: no visible score gives back a masked figure -------------------------
def _visible_scores(schema: Any) -> list[str]:
    """Every number of `Customer.scores` a role can be shown (new scores join by themselves)."""
    from graphql import GraphQLObjectType, get_named_type, is_leaf_type

    scores = schema.type_map["Scores"]
    selections = []
    for name, field in scores.fields.items():
        named = get_named_type(field.type)
        if is_leaf_type(named):
            selections.append(name)
        elif isinstance(named, GraphQLObjectType):
            selections.append(f"{name} {{ {' '.join(named.fields)} }}")
    return selections


def _numbers(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, dict):
        inner = value.get("value", value.get("amount"))
        return float(inner) if isinstance(inner, int | float | str) and inner is not None else None
    return None


@pytest.mark.parametrize("role", [Role.MARKETER, Role.RM])
async def test_no_visible_score_is_a_function_of_a_masked_aum(
    apis: dict[Role, Api], demo: DemoBank, test_settings: CrkgSettings, role: Role
) -> None:
    """The review recovered every customer's AUM rank from networkValue and PageRank. For
    the customers whose AUM a role sees only as a band (every one for a marketer, other
    books for an RM), no visible score — alone or with another — may predict where in its
    band a customer's AUM lies (tests/support/leakage.py; a leak predicts it with R² near 1)."""
    from decimal import Decimal

    from api.graphql.schema import build_schema
    from tests.support.leakage import worst_leak

    selection = " ".join(_visible_scores(build_schema(test_settings)._schema))
    query = f"""query($after: String) {{ customers(first: 1000, after: $after) {{
        edges {{ node {{ id tier aum {{ masked low }} scores {{ {selection} }} }} }}
        pageInfo {{ hasNextPage endCursor }} }} }}"""
    rows: list[dict[str, Any]] = []
    after = None
    while True:
        body = apis[role].post(query, after=after)
        # refused scores (exposure) are FORBIDDEN on their own paths; nothing else may fail
        assert {e["extensions"]["code"] for e in body.get("errors") or []} <= {"FORBIDDEN"}
        page = body["data"]["customers"]
        rows += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    masked = [
        r
        for r in rows
        if r["aum"] and r["aum"]["masked"] and demo.customers.get(r["id"], {}).get("aum")
    ]
    assert len(masked) > 5_000
    visible: dict[str, list[float]] = {}
    for name in [*masked[0]["scores"], "tier"]:
        values = [
            _numbers(r["scores"].get(name))
            if name != "tier"
            else float(["MASS", "AFFLUENT", "HIGH_NET_WORTH", "PRIVATE"].index(r["tier"]))
            if r["tier"]
            else None
            for r in masked
        ]
        if all(v is not None for v in values):  # shown for every masked customer
            visible[name] = [float(v) for v in values if v is not None]
    assert "pagerank" in visible, visible.keys()
    hidden = [float(Decimal(demo.customers[r["id"]]["aum"])) for r in masked]
    leak = worst_leak(hidden, [r["aum"]["low"] for r in masked], visible)
    print(f"{role.value}: worst predictor of the AUM inside its band {leak}")
    assert leak.r2 < 0.3, leak
    assert "networkValue" not in visible  # withheld wherever aum is masked
