"""Every answer read from a stored run names that run and what it covered; a question beyond
the coverage is refused (NOT_COMPUTED with ``extensions.coverage``), never answered partly.

One generated bank, the algorithms run once with their defaults (identifier rings with
``min_size`` 3, so that a bound below the run's can be asked); every expectation is read from
the ``AlgorithmRun`` records those runs left, not written down here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.security.auth import Role
from graph.settings import CrkgSettings
from graph.store import GraphStore
from tests.integration.api_client import Api, api_for, codes
from tests.support.banks import module_bank, query

pytestmark = pytest.mark.db

ALGORITHMS = [
    "segmentation",
    "louvain",
    "pagerank",
    "guarantee_circles",  # the default max_length: 6
    ("identifier_rings", {"min_size": 3}),
    "fund_cycles",
    "control_groups",
    "referral_targets",
]

bank, covered_bank = module_bank(
    "coverage-bank", customers=600, seed=5, algorithms=ALGORITHMS, db_fixture="covered_bank"
)


@pytest.fixture(scope="module")
def client(covered_bank: GraphStore, test_settings: CrkgSettings) -> Iterator[TestClient]:
    with TestClient(create_app(test_settings)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def apis(client: TestClient, test_settings: CrkgSettings) -> dict[Role, Api]:
    return {role: api_for(client, test_settings, role, f"coverage-{role.value}") for role in Role}


async def _run(store: GraphStore, name: str) -> dict[str, Any]:
    """The newest succeeded run of ``name``, as recorded."""
    rows = await query(
        store,
        """MATCH (r:AlgorithmRun {name: $name, status: 'SUCCEEDED'})
           RETURN r.run_id AS run_id, r.finished_at AS finished_at,
                  r.parameters_json AS parameters
           ORDER BY r.started_at DESC LIMIT 1""",
        name=name,
    )
    assert rows, f"no {name} run"
    run = rows[0]
    run["parameters"] = json.loads(run["parameters"])
    run["finished_at"] = run["finished_at"].to_native().astimezone(UTC)
    return run


COVERAGE = "coverage { runId algorithm bounds asOf finishedAt wholeGraph description }"


def _check_coverage(coverage: dict[str, Any], run: dict[str, Any], algorithm: str) -> None:
    assert coverage["runId"] == run["run_id"]
    assert coverage["algorithm"] == algorithm
    assert coverage["wholeGraph"] is True
    assert datetime.fromisoformat(coverage["finishedAt"]) == run["finished_at"]
    assert run["run_id"] in coverage["description"]


def _beyond(errors: list[dict[str, Any]]) -> tuple[str, dict[str, Any], str]:
    assert codes(errors) == {"NOT_COMPUTED"}, errors
    extensions = errors[0]["extensions"]
    return errors[0]["message"], extensions["coverage"], extensions["hint"]


# --- guarantee circles: the case ---------------------------------------------------------
async def test_circles_longer_than_the_default_run_searched_are_refused_naming_the_run(
    apis: dict[Role, Api], covered_bank: GraphStore
) -> None:
    run = await _run(covered_bank, "guarantee_circles")
    searched = run["parameters"]["max_length"]
    assert searched == 6  # the default, recorded with the run
    message, coverage, hint = _beyond(
        apis[Role.RISK].errors("{ guaranteeCircles(maxLength: 7) { length } }")
    )
    assert message == (
        f"guaranteeCircles(maxLength: 7) asks beyond the stored run {run['run_id']} "
        "(max_length 6); run the algorithm with max_length ≥ 7"
    )
    assert coverage == {
        "runId": run["run_id"],
        "algorithm": "guarantee_circles",
        "parameter": "max_length",
        "covered": 6,
        "argument": "maxLength",
        "asked": 7,
    }
    assert "crkg algo run guarantee_circles -p max_length=7" in hint


async def test_circles_within_the_run_say_which_run_found_them(
    apis: dict[Role, Api], covered_bank: GraphStore
) -> None:
    run = await _run(covered_bank, "guarantee_circles")
    circles = apis[Role.RISK].data(
        f"{{ guaranteeCircles(maxLength: 6, first: 100) {{ length {COVERAGE} run: coverage "
        "{ run { runId parameters } } } }"
    )["guaranteeCircles"]
    assert circles, "the bank plants guarantee circles"
    for circle in circles:
        assert circle["length"] <= 6
        _check_coverage(circle["coverage"], run, "guarantee_circles")
        assert circle["coverage"]["bounds"]["max_length"] == 6
        assert circle["coverage"]["bounds"]["as_of"] == run["parameters"]["as_of"]
        assert circle["coverage"]["asOf"] == run["parameters"]["as_of"]
        # risk reads runs: the full record is there
        assert circle["run"]["run"]["runId"] == run["run_id"]
        assert circle["run"]["run"]["parameters"] == run["parameters"]


# --- rings and cycles ----------------------------------------------------------------------------
async def test_fund_cycles_beyond_the_runs_max_length_are_refused(
    apis: dict[Role, Api], covered_bank: GraphStore
) -> None:
    run = await _run(covered_bank, "fund_cycles")
    searched = run["parameters"]["max_length"]
    message, coverage, _ = _beyond(
        apis[Role.RISK].errors(
            f"{{ riskRings(kind: FUND_CYCLE, minSize: {searched + 1}) {{ size }} }}"
        )
    )
    assert f"stored run {run['run_id']} (max_length {searched})" in message
    assert (coverage["covered"], coverage["asked"]) == (searched, searched + 1)
    cycles = apis[Role.RISK].data(
        f"{{ riskRings(kind: FUND_CYCLE, minSize: 2) {{ size {COVERAGE} }} }}"
    )["riskRings"]
    assert cycles, "the bank plants fund-flow cycles"
    for cycle in cycles:
        assert cycle["size"] <= searched
        _check_coverage(cycle["coverage"], run, "fund_cycles")
        assert cycle["coverage"]["bounds"]["window_days"] == run["parameters"]["window_days"]


async def test_rings_smaller_than_the_run_kept_are_refused(
    apis: dict[Role, Api], covered_bank: GraphStore
) -> None:
    run = await _run(covered_bank, "identifier_rings")
    assert run["parameters"]["min_size"] == 3
    message, coverage, hint = _beyond(
        apis[Role.RISK].errors("{ riskRings(kind: IDENTIFIER_RING, minSize: 2) { size } }")
    )
    assert "(min_size 3); run the algorithm with min_size ≤ 2" in message
    assert coverage["runId"] == run["run_id"]
    assert (coverage["covered"], coverage["asked"]) == (3, 2)
    assert "-p min_size=2" in hint
    rings = apis[Role.RISK].data(
        f"{{ riskRings(kind: IDENTIFIER_RING, minSize: 3) {{ size {COVERAGE} }} }}"
    )["riskRings"]
    assert rings, "the bank plants identifier rings of three or more"
    for ring in rings:
        assert ring["size"] >= 3
        _check_coverage(ring["coverage"], run, "identifier_rings")
        assert ring["coverage"]["bounds"]["min_size"] == 3


# --- related-party groups ------------------------------------------------------------------------
async def test_related_party_groups_name_their_run_and_an_empty_answer_too(
    apis: dict[Role, Api], covered_bank: GraphStore
) -> None:
    run = await _run(covered_bank, "control_groups")
    groups = apis[Role.RISK].data(f"{{ relatedPartyGroups(first: 20) {{ size {COVERAGE} }} }}")[
        "relatedPartyGroups"
    ]
    assert groups, "the bank plants control groups"
    for group in groups:
        _check_coverage(group["coverage"], run, "control_groups")
        assert group["coverage"]["bounds"]["threshold_pct"] == run["parameters"]["threshold_pct"]
    outsider = (
        await query(
            covered_bank,
            """MATCH (c:Customer) WHERE NOT (c)-[:MEMBER_OF]->(:RiskLinkage {kind: 'CONTROL_GROUP'})
               RETURN c.customer_id AS id ORDER BY id LIMIT 1""",
        )
    )[0]["id"]
    body = apis[Role.RISK].post(
        "query($id: ID!) { relatedPartyGroup(customerId: $id) { size } }", id=outsider
    )
    assert body["data"] == {"relatedPartyGroup": None}
    notes = [n["message"] for n in body["extensions"]["notes"]]
    assert any(run["run_id"] in n and "control_groups" in n for n in notes), notes


# --- communities and influencers -----------------------------------------------------------------
async def test_communities_and_influencers_name_their_run(
    apis: dict[Role, Api], covered_bank: GraphStore
) -> None:
    louvain = await _run(covered_bank, "louvain")
    found = apis[Role.MARKETER].data(
        f"{{ communities(algorithm: LOUVAIN, first: 5) {{ edges {{ node {{ id {COVERAGE} }} }} }} }}"
    )["communities"]["edges"]
    assert found
    for edge in found:
        _check_coverage(edge["node"]["coverage"], louvain, "louvain")
        assert edge["node"]["coverage"]["bounds"]["resolution"] == 1.0
    one = apis[Role.MARKETER].data(
        f"query($id: ID!) {{ community(id: $id) {{ {COVERAGE} }} }}", id=found[0]["node"]["id"]
    )["community"]
    _check_coverage(one["coverage"], louvain, "louvain")
    pagerank = await _run(covered_bank, "pagerank")
    ranked = apis[Role.MARKETER].data(
        f"{{ influencers(metric: PAGERANK, first: 5) {{ runId {COVERAGE} }} }}"
    )["influencers"]
    assert ranked
    for row in ranked:
        _check_coverage(row["coverage"], pagerank, "pagerank")


def test_an_algorithm_that_never_ran_is_not_computed_not_empty(apis: dict[Role, Api]) -> None:
    errors = apis[Role.MARKETER].errors("{ communities(algorithm: LEIDEN) { edges { cursor } } }")
    assert codes(errors) == {"NOT_COMPUTED"}
    assert "no whole-graph leiden run" in errors[0]["message"]
    errors = apis[Role.MARKETER].errors("{ influencers(metric: BETWEENNESS) { rank } }")
    assert codes(errors) == {"NOT_COMPUTED"}
    assert "betweenness" in errors[0]["message"]


# --- referral targets ----------------------------------------------------------------------------
async def test_referral_targets_name_their_run_as_every_stored_answer_does(
    apis: dict[Role, Api], covered_bank: GraphStore
) -> None:
    run = await _run(covered_bank, "referral_targets")
    product = (
        await query(
            covered_bank,
            """MATCH (:Customer)-[:REFERRAL_TARGET {scenario_id: '*'}]->(p:Product)
               RETURN p.product_id AS id, count(*) AS n ORDER BY n DESC, id LIMIT 1""",
        )
    )[0]["id"]
    body = apis[Role.MARKETER].post(
        """query($p: ID!) { referralTargets(productId: $p, first: 5) {
              coverage { runId topN run { runId algorithm bounds finishedAt wholeGraph
                                             description run { runId } } } } }""",
        p=product,
    )
    targets = body["data"]["referralTargets"]
    assert targets
    for target in targets:
        coverage = target["coverage"]
        assert coverage["run"]["runId"] == coverage["runId"] == run["run_id"]
        assert coverage["run"]["bounds"]["top_n"] == coverage["topN"] == run["parameters"]["top_n"]
        assert coverage["run"]["run"] is None  # a marketer does not read run records
    # the full record is withheld with FORBIDDEN on its own path; the rows stand
    assert codes(body["errors"]) == {"FORBIDDEN"}
    assert all(e["path"][-1] == "run" for e in body["errors"])
