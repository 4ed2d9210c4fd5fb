"""The repositories and their Cypher builders without a database, on a recording runner:
every statement gets every parameter it names, names only the model's labels and types, and
the repositories batch, page and check what they write as they promise."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from graph.errors import CrkgError, QueryFailedError
from graph.model import NodeLabel, TieKind
from graph.queries.screens import RiskFlagRule
from graph.repositories.algorithm_runs import AlgorithmRunRepository
from graph.repositories.communities import CommunityRepository, member_key
from graph.repositories.customers import CustomerRepository
from graph.repositories.loads import LoadRepository, WriteOp
from graph.repositories.projections import CustomerScope, ProjectionRepository
from graph.repositories.referral_targets import ReferralTargetRepository
from graph.repositories.risk_linkages import RiskLinkageRepository
from graph.repositories.schema import SchemaRepository
from graph.repositories.ties import TieRepository
from graph.targets import CUSTOMER, RelationshipTarget
from tests.support.recording import RecordingRunner

SCOPE = CustomerScope(
    scenario_id="S1",
    branch_id="B1",
    community_property="community_louvain",
    community_id="C1",
    since_from=date(2024, 1, 1),
    since_to=date(2024, 12, 31),
)


async def test_every_read_the_api_and_algorithms_make_is_complete() -> None:
    runner = RecordingRunner()
    rule = RiskFlagRule(default_hops=2)
    customers = CustomerRepository(runner, risk_rule=rule)
    ids = ["C1", "C2"]
    await customers.by_ids(ids)
    await customers.managers(ids)
    await customers.holdings(ids)
    await customers.scenarios(ids)
    await customers.identifiers(ids)
    await customers.missing(NodeLabel.PRODUCT, ids)
    await customers.missing_customers(ids)
    await customers.branch_exists("B1")
    for mode in ("names", "book_names", "id"):
        await customers.page(
            after="",
            limit=10,
            search="张伟",
            search_mode=mode,  # type: ignore[arg-type]
            book_rm_id="RM1",
            tier="MASS",
            scenario_id="S1",
            community_property="community_wcc",
            community="3",
        )
    await customers.influencers(
        "score_pagerank",
        limit=5,
        scenario_id="S1",
        community_property="community_leiden",
        community="2",
        branch_id="B1",
        contactable_only=True,
    )
    for example in (
        customers.largest_book_rm(),
        customers.most_held_product(),
        customers.scenario_targeting_example(),
        customers.prospect_near_book("RM1"),
        customers.product_ids("P1"),
        customers.holders("P1"),
        customers.scenario_members("S1"),
        customers.rm_book("RM1"),
        customers.segment_inputs(),
        customers.read_result("score_pagerank_scoped"),
    ):
        await example
    ties = TieRepository(runner)
    await ties.neighbourhood("C1", kinds=list(TieKind), depth=3, min_strength=0.2, limit=10)
    await ties.pagerank_contributions(ids, list(TieKind), 5)
    await ties.guarantees_around("C1", hops=4, limit=100, as_of=date(2026, 1, 1))
    communities = CommunityRepository(runner)
    await communities.by_ids(["louvain:1"])
    await communities.page(algorithm="louvain", min_size=2, offset=0, limit=10)
    await communities.penetration("louvain:1", "P1")
    await communities.members([member_key("community_louvain", "1", "", 11)])
    await communities.breakdown("community_louvain")
    await communities.profiled_algorithms()
    linkages = RiskLinkageRepository(runner)
    await linkages.of_customers(ids)
    await linkages.listed("FUND_CYCLE", min_size=2, max_size=6, limit=10, order_by="amount")
    await linkages.control_groups(10)
    await linkages.control_group_of("C1")
    await linkages.group_shareholdings(["CONTROL_GROUP:x"])
    targets = ReferralTargetRepository(runner, risk_rule=rule)
    await targets.contactable()
    await targets.eligible_targets("P1", date(2026, 1, 1))
    await targets.risk_flags(ids)
    await targets.screened("P1", scenario_key="*", scenario_id=None, limit=10)
    projections = ProjectionRepository(runner)
    await projections.customer_ids(SCOPE)
    await projections.tie_columns(list(TieKind), min_strength=0.1, scope=SCOPE, customers=ids)
    await projections.ties_around(ids, list(TieKind))
    await projections.gds_node_ids(ids)
    for edges in (
        projections.guarantees(date(2026, 1, 1)),
        projections.identifier_uses(),
        projections.transfers(),
        projections.loan_balances(),
        projections.shareholdings(),
        projections.converted_referrals(),
    ):
        await edges
    runs = AlgorithmRunRepository(runner)
    await runs.latest("pagerank", 5)
    await runs.get("algo-1")
    await SchemaRepository(runner).state()
    recorded = runner.checked()
    assert len(recorded) > 50
    assert all(not r.writes for r in recorded)  # reads are routed as reads


async def test_results_are_staged_in_batches_published_at_once_and_none_may_vanish() -> None:
    runner = RecordingRunner(
        answers={
            "write score_degree": lambda r: [{"written": len(r.params["rows"])}],
            "publish score_degree": [{"written": 5}],
        }
    )
    repository = CustomerRepository(runner, batch_size=2)
    values = {f"C{i}": float(i) for i in range(5)}
    seen: list[tuple[int, int]] = []
    written = await repository.write_result(
        "score_degree", values, "run-1", on_batch=lambda done, total: seen.append((done, total))
    )
    assert written == 5
    *batches, publish, dropped, published = runner.checked()
    assert [len(b.params["rows"]) for b in batches] == [2, 2, 1]
    assert all(b.writes for b in batches)
    # the batches touch only the stage; the served property changes in the one publish
    assert all("SET c[$stage] = row.value" in b.query for b in batches)
    assert all(b.params["stage"] == "score_degree_pending:run-1" for b in batches)
    assert all("c.score_degree =" not in b.query for b in batches)
    assert "SET c.score_degree = c[$stage]" in publish.query
    assert publish.params["stage"] == "score_degree_pending:run-1"
    assert publish.writes
    assert publish.params["run_id"] == "run-1"
    assert dropped.params["prefix"] == "score_degree_pending"  # other, dead runs' stages
    assert dropped.params["stage"] == publish.params["stage"]  # never this run's
    assert published.params["properties"] == ["score_degree"]
    assert seen == [(2, 5), (4, 5), (5, 5)]

    half_published = RecordingRunner(
        answers={
            "write score_degree": lambda r: [{"written": len(r.params["rows"])}],
            "publish score_degree": [{"written": 4}],
        }
    )
    with pytest.raises(QueryFailedError, match="1 of the 5 staged values vanished"):
        await CustomerRepository(half_published).write_result("score_degree", values, "r")

    vanishing = RecordingRunner(answers={"write score_degree": [{"written": 1}]})
    with pytest.raises(QueryFailedError, match="vanished"):
        await CustomerRepository(vanishing, batch_size=2).write_result("score_degree", values, "r")


async def test_only_result_properties_reach_the_statement() -> None:
    with pytest.raises(ValueError, match="not a result property"):
        await CustomerRepository(RecordingRunner()).write_result("name", {"C1": "x"}, "r")
    with pytest.raises(ValueError, match="not a community property"):
        await ProjectionRepository(RecordingRunner()).customer_ids(
            CustomerScope(community_property="score_pagerank", community_id="1")
        )


async def test_ties_are_read_in_pages_of_customers() -> None:
    runner = RecordingRunner()
    repository = ProjectionRepository(runner, page_customers=2)
    await repository.tie_columns([TieKind.FRIEND], customers=["e", "a", "c", "b", "d"])
    pages = [(r.params["lo"], r.params["hi"]) for r in runner.checked()]
    assert pages == [("a", "c"), ("c", "e"), ("e", None)]
    assert all("FRIEND" in r.query and "FAMILY" not in r.query for r in runner.recorded)


async def test_a_search_is_plain_terms_and_bounded() -> None:
    runner = RecordingRunner()
    await CustomerRepository(runner).page(after="", limit=5, search='name:"x" OR *')
    assert runner.recorded[0].params["search"] == 'name\\:\\"x\\" or \\*'
    with pytest.raises(CrkgError, match="at most 100 characters"):
        await CustomerRepository(runner).page(after="", limit=5, search="张" * 101)


async def test_referral_targets_are_replaced_in_one_transaction() -> None:
    runner = RecordingRunner(answers={"write referral targets": [{"written": 1}]})
    repository = ReferralTargetRepository(runner)
    rows: list[dict[str, Any]] = [{"customer_id": "C1", "props": {"rank": 1}}]
    assert await repository.replace("P1", "*", rows, "run-1") == 1
    delete, write = runner.checked()
    assert delete.operation == write.operation  # one transaction: execute_all
    assert "DELETE r" in delete.query
    assert "CREATE" in write.query
    runner.recorded.clear()
    assert await repository.replace("P1", "*", [], "run-2") == 0
    assert [r.query for r in runner.recorded] == [delete.query]  # nothing to write


async def test_a_batch_whose_rows_lose_an_endpoint_fails_loudly() -> None:
    friend = RelationshipTarget(TieKind.FRIEND.rel_type, CUSTOMER, CUSTOMER)
    rows = [{"src": "a", "dst": "b", "props": {}, "hash": "h"}] * 2
    op = WriteOp("upsert social FRIEND", "upsert_rels", rows, rel=friend)
    runner = RecordingRunner(answers={op.name: [{"written": 1, "changed": 1}]})
    with pytest.raises(QueryFailedError, match="1 of 2 rows found no endpoint"):
        await LoadRepository(runner).write(op, load_id="L1", loaded_at=date(2026, 1, 1))  # type: ignore[arg-type]
    (recorded,) = runner.checked()
    assert ":FRIEND" in recorded.query
    assert recorded.params["load_id"] == "L1"
