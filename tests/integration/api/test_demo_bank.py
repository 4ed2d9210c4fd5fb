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
from collections import Counter, defaultdict
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
        Role.CHANNEL: "channel-demo",
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
    campaign = await demo.one(  # the demo's own campaign (the bank's campaigns have no channel)
        "MATCH (k:Campaign) WHERE k.channel IS NOT NULL RETURN k.campaign_id ORDER BY 1 LIMIT 1"
    )
    # a version someone other than the marketer drew, so the marketer's approval is the
    # second person's (the demo's own version is the marketer's: approving it is refused)
    drawn = admin.data(
        f'mutation {{ drawListVersion(campaignId: "{campaign}", seed: 7) '
        "{ version { listVersionId } } }"
    )
    version = drawn["drawListVersion"]["version"]["listVersionId"]
    # a version with a hold-out, so its effect has both arms (no outcomes: no conversions)
    held = admin.data(
        f'mutation {{ drawListVersion(campaignId: "{campaign}", seed: 7, holdoutShare: 0.5) '
        "{ version { listVersionId } } }"
    )
    held_out = held["drawListVersion"]["version"]["listVersionId"]
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
        # the campaign area (api/graphql/campaigns/): the demo's campaign, the version above
        "campaignId": campaign,
        "Query.listVersions.first": 2,  # 50 versions × 50 rows × paths is over the cost limit
        "Query.listVersion.id": version,
        "Query.listVersionEffect.id": held_out,
        "Query.listVersionEffect.segmentBy": "KIND",  # so that segments are reached
        "Mutation.approveListVersion.id": version,
        "Mutation.exportListVersion.id": version,
        "Mutation.exportListContacts.id": version,
        "Mutation.createCampaign.input": {  # the same campaign again is the same campaign
            "campaignId": "GUARD-CAMPAIGN",
            "name": "schema guard",
            "productId": product,
            "channel": "SMS",
            "purpose": "MARKETING",
            "owner": "guard-owner",
        },
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


# (role, type) pairs the demo bank rightly leaves empty: an RM sees the suppressed customers of
# their own book only (the demo's list suppresses none of the largest book), and only admin reads
# leftOutIntroducers, which the first target of the probed product does not have. Both are read
# with planted cases in tests/integration/api/test_campaign_api.py.
# The demo loads no outcomes, so a list version's effect credits no conversion to anyone
# (read with planted referrals in tests/integration/graph/test_campaign_effect.py).
RIGHTLY_EMPTY = {
    (Role.RM, "SuppressedCustomer"),
    (Role.ADMIN, "LeftOut"),
    *((role, "ConversionCredit") for role in (Role.MARKETER, Role.RISK, Role.ADMIN)),
}


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
                if parent == [] and (role, probe.type_name) in RIGHTLY_EMPTY:
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


async def _contactable(demo: DemoBank) -> set[str]:
    """The customers marketing may contact (the screen's own rule, read in the database)."""
    from graph.queries.screens import RiskFlagRule, may_contact

    rule = RiskFlagRule()
    return set(
        await demo.one(
            f"MATCH (c:Customer) WHERE {may_contact('c', rule)} RETURN collect(c.customer_id)",
            **rule.parameters(),
        )
    )


# --- users review #2: marketing influencer lists hold only contactable customers ------------
INFLUENCERS_IN_SCENARIO = """query($s: ID!) {
  bank: influencers(metric: PAGERANK, first: 300) { rank customer { id } }
  scoped: influencers(scope: { scenarioId: $s }, metric: PAGERANK, first: 50) { customer { id } }
}"""


async def test_marketing_influencers_consented_and_are_not_flagged(
    apis: dict[Role, Api], demo: DemoBank
) -> None:
    scenario = await demo.one(
        "MATCH (s:Scenario)<-[:PARTICIPATES_IN]-(c:Customer) WITH s, count(c) AS members "
        "RETURN s.scenario_id ORDER BY members DESC, s.scenario_id LIMIT 1"
    )
    contactable = await _contactable(demo)
    listed: dict[Role, set[str]] = {}
    for role in (Role.MARKETER, Role.RM, Role.RISK, Role.ADMIN):
        data = apis[role].data(INFLUENCERS_IN_SCENARIO, s=scenario)
        ids = [r["customer"]["id"] for key in ("bank", "scoped") for r in data[key]]
        assert ids, role
        listed[role] = set(ids)
    for role in (Role.MARKETER, Role.RM):
        barred = sorted(listed[role] - contactable)
        assert not barred, f"{role.value} sees uncontactable influencers {barred[:5]}"
    for role in (Role.RISK, Role.ADMIN):  # the full list, with the reasons
        assert listed[role] - contactable, f"{role.value} lost the uncontactable influencers"


# --- users review #7: nobody on an introduction path is someone marketing may not contact ---
async def test_introducer_paths_go_only_through_contactable_customers(
    apis: dict[Role, Api], demo: DemoBank
) -> None:
    product = await demo.one(
        "MATCH (:Customer)-[:REFERRAL_TARGET {scenario_id: '*'}]->(p:Product) "
        "RETURN p.product_id ORDER BY p.product_id LIMIT 1"
    )
    contactable = await _contactable(demo)
    targets = apis[Role.MARKETER].data(
        "query($p: ID!) { referralTargets(productId: $p, first: 200) "
        "{ customer { id } introducers { customerId pathIds } } }",
        p=product,
    )["referralTargets"]
    paths = [i["pathIds"] for t in targets for i in t["introducers"]]
    assert any(len(p) == 3 for p in paths), "some introducers are two ties away"
    barred = sorted({n for p in paths for n in p[1:]} - contactable)
    assert not barred, f"introduction paths go through uncontactable customers {barred[:5]}"


async def test_warm_paths_avoid_uncontactable_customers_for_marketing_and_mark_them_for_admin(
    apis: dict[Role, Api], demo: DemoBank
) -> None:
    rm = demo.largest_book_rm
    contactable = await _contactable(demo)
    book = set(demo.books[rm])
    # prospects two ties from the book, reached (also) through someone not to be contacted
    prospects = await demo.one(
        """MATCH (:RelationshipManager {rm_id: $rm})<-[:MANAGED_BY]-(:Customer)
             -[:FRIEND|FAMILY|COLLEAGUE|CLASSMATE|SPOUSE|BUSINESS]-(m:Customer)
             -[:FRIEND|FAMILY|COLLEAGUE|CLASSMATE|SPOUSE|BUSINESS]-(p:Customer)
           WHERE NOT m.customer_id IN $contactable AND NOT p.customer_id IN $book
             AND NOT m.customer_id IN $book
           WITH DISTINCT p.customer_id AS id ORDER BY id LIMIT 6 RETURN collect(id)""",
        rm=rm,
        contactable=sorted(contactable),
        book=sorted(book),
    )
    query = """query($to: ID!, $rm: ID) { referralPaths(toCustomerId: $to, fromRmId: $rm, k: 3) {
        customerIds screened uncontactableIds } }"""
    marked = 0
    for prospect in prospects:
        for role in (Role.RM, Role.MARKETER):
            for path in apis[role].data(query, to=prospect, rm=rm)["referralPaths"]:
                on_path = set(path["customerIds"][:-1])
                assert not on_path - contactable, (role, prospect, path)
                assert path["screened"] is True
                assert path["uncontactableIds"] is None
        for path in apis[Role.ADMIN].data(query, to=prospect, rm=rm)["referralPaths"]:
            expected = [c for c in path["customerIds"] if c not in contactable]
            assert path["uncontactableIds"] == expected
            assert path["screened"] is False
            marked += bool(set(expected) - {prospect})
    assert marked, "the unscreened warm paths do pass through uncontactable customers"


# --- users review #19: an empty field is masked too, so the mask does not tell absence -------
async def test_an_empty_phone_or_email_is_masked_for_a_role_that_may_not_read_it(
    apis: dict[Role, Api], demo: DemoBank
) -> None:
    rm = demo.largest_book_rm
    loaded = set(await demo.one("MATCH (c:Customer) RETURN collect(c.customer_id)"))
    book = set(demo.books[rm]) & loaded
    query = """query($id: ID!) { customer(id: $id) {
        phone { value masked } email { value masked } } }"""
    for column, field in (("email", "email"), ("phone", "phone")):
        other = next(
            c
            for c, row in sorted(demo.customers.items())
            if c in loaded and not row[column] and c not in book
        )
        own = next((c for c in sorted(book) if not demo.customers[c][column]), None)
        with_value = next(
            c
            for c, row in sorted(demo.customers.items())
            if c in loaded and row[column] and c not in book
        )
        for role in (Role.RM, Role.MARKETER, Role.RISK):
            absent = apis[role].data(query, id=other)["customer"][field]
            present = apis[role].data(query, id=with_value)["customer"][field]
            assert absent["masked"] is True, (role, other, absent)
            assert present["masked"] is True
            assert absent["value"], "an empty field is shown masked, not as null"
        assert apis[Role.ADMIN].data(query, id=other)["customer"][field] == {
            "value": None,
            "masked": False,
        }
        if own is not None:  # their own customer: the RM reads it, empty as it is
            assert apis[Role.RM].data(query, id=own)["customer"][field]["masked"] is False


# --- users review #9: answers say what they cover ------------------------------------------
async def test_referral_targets_say_which_run_and_cut_they_come_from(
    apis: dict[Role, Api], demo: DemoBank
) -> None:
    from datetime import UTC, datetime

    product = await demo.one(
        "MATCH (:Customer)-[t:REFERRAL_TARGET {scenario_id: '*'}]->(p:Product) "
        "WITH p, count(t) AS kept ORDER BY kept DESC, p.product_id LIMIT 1 RETURN p.product_id"
    )
    run_id, top_n, as_of = await demo.one(
        """MATCH (:Customer)-[t:REFERRAL_TARGET {scenario_id: '*'}]->(:Product {product_id: $p})
           WITH t.run_id AS run_id LIMIT 1
           MATCH (r:AlgorithmRun {run_id: run_id})
           RETURN [run_id, r.parameters_json, r.summary_json]""",
        p=product,
    )
    top_n = json.loads(top_n)["top_n"]
    as_of = json.loads(as_of)["eligibility_as_of"]
    query = """query($p: ID!, $first: Int) { referralTargets(productId: $p, first: $first) {
        rank introducersDropped
        coverage { runId productId scenarioId topN first cutByRun eligibilityAsOf
                   runEligibilityAsOf note } } }"""
    beyond = apis[Role.MARKETER].data(query, p=product, first=top_n + 100)["referralTargets"]
    assert len(beyond) <= top_n
    coverage = beyond[0]["coverage"]
    assert {r["coverage"]["runId"] for r in beyond} == {run_id}
    assert coverage["productId"] == product
    assert coverage["scenarioId"] is None  # bank-wide
    assert coverage["topN"] == top_n
    assert coverage["first"] == top_n + 100
    assert coverage["cutByRun"] is True
    assert str(top_n) in coverage["note"]
    assert coverage["runEligibilityAsOf"] == as_of
    assert coverage["eligibilityAsOf"] == datetime.now(UTC).date().isoformat()
    assert all(isinstance(r["introducersDropped"], int) for r in beyond)
    within = apis[Role.MARKETER].data(query, p=product, first=5)["referralTargets"]
    assert within[0]["coverage"]["cutByRun"] is False


async def test_personalised_influencers_and_community_profiles_name_their_runs(
    apis: dict[Role, Api], demo: DemoBank
) -> None:
    parameters = json.loads(
        await demo.one(
            "MATCH (c:Customer) WHERE c.score_personalized_pagerank IS NOT NULL "
            "WITH c.score_personalized_pagerank_run_id AS run_id LIMIT 1 "
            "MATCH (r:AlgorithmRun {run_id: run_id}) RETURN r.parameters_json"
        )
    )
    rows = apis[Role.MARKETER].data(
        "{ influencers(metric: PERSONALIZED_PAGERANK, first: 5) { seedProductId seedScenarioId } }"
    )["influencers"]
    assert rows
    for row in rows:
        assert row["seedProductId"] == parameters.get("seed_product_id")
        assert row["seedScenarioId"] == parameters.get("seed_scenario_id")
    assert any(row["seedProductId"] or row["seedScenarioId"] for row in rows)
    plain = apis[Role.MARKETER].data(
        "{ influencers(metric: PAGERANK, first: 1) { seedProductId } }"
    )
    assert plain["influencers"][0]["seedProductId"] is None
    community, profile_run = await demo.one(
        "MATCH (k:Community) WHERE k.profile_run_id IS NOT NULL "
        "RETURN [k.community_id, k.profile_run_id] ORDER BY k.community_id LIMIT 1"
    )
    found = apis[Role.MARKETER].data(
        "query($id: ID!) { community(id: $id) { runId profileRunId } }", id=community
    )["community"]
    assert found["profileRunId"] == profile_run


# --- users review #13, #15: an RM lists their own book; names by surname; id-only roles told --
async def test_an_rm_lists_their_own_book(apis: dict[Role, Api], demo: DemoBank) -> None:
    rm = demo.largest_book_rm
    loaded = set(await demo.one("MATCH (c:Customer) RETURN collect(c.customer_id)"))
    query = """query($after: String) { customers(mine: true, first: 100, after: $after) {
        edges { node { id managedByYou } } pageInfo { hasNextPage endCursor } } }"""
    seen: list[str] = []
    after = None
    while True:
        page = apis[Role.RM].data(query, after=after)["customers"]
        assert all(e["node"]["managedByYou"] for e in page["edges"])
        seen += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == sorted(set(demo.books[rm]) & loaded)
    errors = apis[Role.MARKETER].errors("{ customers(mine: true) { edges { cursor } } }")
    assert codes(errors) == {"BAD_REQUEST"}
    assert "RM" in errors[0]["message"]


async def test_a_one_character_name_search_finds_the_surname(
    apis: dict[Role, Api], demo: DemoBank
) -> None:
    rm = demo.largest_book_rm
    loaded = set(await demo.one("MATCH (c:Customer) RETURN collect(c.customer_id)"))
    book = [c for c in demo.books[rm] if c in loaded]
    surname = Counter(demo.customers[c]["name"][:1] for c in book if demo.customers[c]["name"])
    initial = surname.most_common(1)[0][0]
    query = """query($s: String!) { customers(search: $s, first: 500) {
        edges { node { id name { value } } } } }"""
    expected_own = sorted(c for c in book if demo.customers[c]["name"].startswith(initial))
    found = [e["node"]["id"] for e in apis[Role.RM].data(query, s=initial)["customers"]["edges"]]
    assert found == expected_own
    everyone = sorted(
        c for c, row in demo.customers.items() if c in loaded and row["name"].startswith(initial)
    )
    admin = apis[Role.ADMIN].data(query, s=initial)["customers"]["edges"]
    assert [e["node"]["id"] for e in admin] == everyone[:500]
    errors = apis[Role.MARKETER].errors(query, s=demo.customers[book[0]]["name"])
    assert codes(errors) == {"BAD_REQUEST"}
    assert "search by customer id only for your role" in errors[0]["message"]


# --- users review #14: warm paths say when the prospect is yours, or when nothing was in reach --
async def test_referral_paths_note_an_own_prospect_and_an_empty_search(
    apis: dict[Role, Api], demo: DemoBank
) -> None:
    rm = demo.largest_book_rm
    own = await demo.one(
        """MATCH (p:Customer)-[:MANAGED_BY]->(:RelationshipManager {rm_id: $rm})
           WHERE EXISTS { (p)-[:FRIEND|FAMILY|COLLEAGUE]-(:Customer) }
           RETURN p.customer_id ORDER BY 1 LIMIT 1""",
        rm=rm,
    )
    query = """query($to: ID!, $hops: Int) { referralPaths(toCustomerId: $to, maxHops: $hops, k: 2)
        { customerIds } }"""
    body = apis[Role.RM].post(query, to=own, hops=4)
    notes = [n["message"] for n in body["extensions"]["notes"]]
    assert any(f"{own} is already managed by {rm}" in n for n in notes), notes
    assert body["extensions"]["notes"][0]["path"] == ["referralPaths"]
    # a prospect with no tie to the book: nothing within one tie, and the answer says so
    far = await demo.one(
        """MATCH (p:Customer) WHERE NOT EXISTS { (p)-[:MANAGED_BY]->(:RelationshipManager {rm_id: $rm}) }
             AND NOT EXISTS { (p)-[:FRIEND|FAMILY|COLLEAGUE|CLASSMATE|SPOUSE|BUSINESS]-(:Customer)
                              -[:MANAGED_BY]->(:RelationshipManager {rm_id: $rm}) }
           RETURN p.customer_id ORDER BY 1 LIMIT 1""",
        rm=rm,
    )
    empty = apis[Role.RM].post(query, to=far, hops=1)
    assert empty["data"]["referralPaths"] == []
    [note] = empty["extensions"]["notes"]
    assert f"to {far} within 1 tie;" in note["message"]
    assert "maxHops goes up to 6" in note["message"]
    found = apis[Role.RM].post(query, to=own, hops=4)
    assert found["data"]["referralPaths"], "the own prospect with ties is reached"


# --- users review #18: influenceExplanation.share is a fraction of the customer's PageRank ----
async def test_influence_shares_are_fractions_of_what_the_ties_pass(
    apis: dict[Role, Api], demo: DemoBank
) -> None:
    customer_id = await demo.one(
        "MATCH (c:Customer)-[:FRIEND|FAMILY|COLLEAGUE]-(n:Customer) WHERE c.score_pagerank > 0 "
        "WITH c, count(DISTINCT n) AS ties WHERE ties >= 3 "
        "RETURN c.customer_id ORDER BY ties, c.customer_id LIMIT 1"
    )
    found = apis[Role.RM].data(
        """query($id: ID!) { customer(id: $id) { scores { pagerank }
             influenceExplanation { share contribution customerId } } }""",
        id=customer_id,
    )["customer"]
    rows = found["influenceExplanation"]
    assert rows
    assert all(0 < r["share"] <= 1 for r in rows)
    assert sum(r["share"] for r in rows) <= 1 + 1e-5
    # the share is the contribution relative to the others: same order, same ratios
    top = rows[0]
    for r in rows[1:]:
        assert r["share"] / top["share"] == pytest.approx(
            r["contribution"] / top["contribution"], rel=1e-4
        )
    assert top["contribution"] < found["scores"]["pagerank"] * 10


# --- users review #10: the lifecycle stage says which day it was judged on ------------------
async def test_the_lifecycle_stage_names_its_as_of_day(
    apis: dict[Role, Api], demo: DemoBank
) -> None:
    customer_id, summary = await demo.one(
        "MATCH (c:Customer) WHERE c.lifecycle_stage IS NOT NULL "
        "WITH c ORDER BY c.customer_id LIMIT 1 "
        "MATCH (r:AlgorithmRun {run_id: c.lifecycle_stage_run_id}) "
        "RETURN [c.customer_id, r.summary_json]"
    )
    reference = json.loads(summary)["reference_date"]
    for role in (Role.RM, Role.MARKETER):
        found = apis[role].data(
            "query($id: ID!) { customer(id: $id) { lifecycleStage lifecycleAsOf } }",
            id=customer_id,
        )["customer"]
        assert found["lifecycleStage"]
        assert found["lifecycleAsOf"] == reference


# --- users review #11: one rank for the same customer, whoever asks -------------------------
def test_influencer_scope_rank_is_the_same_for_every_role(apis: dict[Role, Api]) -> None:
    query = "{ influencers(metric: PAGERANK, first: 200) { rank scopeRank customer { id } } }"
    risk = apis[Role.RISK].data(query)["influencers"]
    marketer = apis[Role.MARKETER].data(query)["influencers"]
    by_risk = {r["customer"]["id"]: r["scopeRank"] for r in risk}
    assert [r["scopeRank"] for r in risk] == list(range(1, 201))
    assert [r["rank"] for r in marketer] == list(range(1, 201))
    shared = [r for r in marketer if r["customer"]["id"] in by_risk]
    assert shared
    for row in shared:
        assert row["scopeRank"] == by_risk[row["customer"]["id"]]
    assert any(r["scopeRank"] > r["rank"] for r in marketer), "gaps where someone was left out"


# --- users review #17: no float noise in what the API shows ---------------------------------
def _digits(value: float) -> int:
    """Significant digits of the shortest text that reads back as ``value``."""
    mantissa = repr(abs(value)).split("e")[0].replace(".", "")
    return len(mantissa.strip("0"))


def test_ratios_are_shown_to_six_significant_digits(apis: dict[Role, Api], demo: DemoBank) -> None:
    rm = demo.largest_book_rm
    data = apis[Role.RM].data(
        """{ influencers(metric: PAGERANK, first: 20) { score customer { scores {
               pagerank betweenness referralInfluence } } }
             communities(first: 5) { edges { node { density } } } }"""
    )
    values = [r["score"] for r in data["influencers"]]
    values += [r["customer"]["scores"]["pagerank"] for r in data["influencers"]]
    values += [e["node"]["density"] for e in data["communities"]["edges"] if e["node"]["density"]]
    assert all(
        isinstance(r["customer"]["scores"]["referralInfluence"], int | None)
        for r in data["influencers"]
    )
    prospect = demo.customers and next(
        c for c in sorted(demo.customers) if c and c not in set(demo.books[rm])
    )
    paths = apis[Role.RM].data(
        "query($to: ID!) { referralPaths(toCustomerId: $to, k: 3, maxHops: 6) { strength cost } }",
        to=prospect,
    )["referralPaths"]
    values += [p["strength"] for p in paths] + [p["cost"] for p in paths]
    assert len(values) > 20
    noisy = [v for v in values if _digits(v) > 6]
    assert not noisy, noisy[:5]
