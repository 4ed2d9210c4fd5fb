"""Referral: whom to target for a product (and who should introduce them), and the warmest
paths from an RM's book to a prospect. In-process, on the tie graph.

Targets are written per (product, scenario) as ``REFERRAL_TARGET`` relationships, replacing
the previous run's; paths are kept in the run's summary only.
"""

from __future__ import annotations

import asyncio
import functools
import json
from typing import Any, TypedDict

from algorithms.context import Computed, RunContext
from algorithms.engines import tie_graph
from algorithms.inproc import centrality, referral
from algorithms.params import InvalidParametersError, ReferralPathParams, ReferralTargetParams
from algorithms.paths import warmest_paths_between
from graph import clock
from graph.results import ResultProperty


class ReferralTargetSummary(TypedDict):
    scenario_id: str  # "*": bank-wide
    contactable: int
    risk_flag_rule: dict[str, Any]
    eligibility_as_of: str
    products: dict[str, dict[str, Any]]  # holders, eligible, targets, top per product


class ReferralPathSummary(TypedDict):
    from_rm_id: str
    to_customer_id: str
    book_size: int
    in_book: bool
    paths: list[dict[str, Any]]  # nodes, strength, hops


def target_row(target: referral.ScoredTarget, scenario: str) -> dict[str, Any]:
    """A REFERRAL_TARGET's properties, with its introducers (ids and, as JSON, their reasons)."""
    return {
        "customer_id": target.candidate,
        "props": {
            "scenario_id": scenario,
            "rank": target.rank,
            "score": target.score,
            "adamic_adar": target.adamic_adar,
            "common_neighbors": target.common_neighbors,
            "resource_allocation": target.resource_allocation,
            "adoption_rate": target.adoption_rate,
            "tie_strength": target.tie_strength,
            "introducer_influence": target.introducer_influence,
            # the ids alone, so a read can screen introducers again without parsing JSON
            "introducer_ids": [i.node_id for i in target.introducers],
            # and the people in the middle of their paths, screened again the same way
            "intermediary_ids": sorted({m for i in target.introducers for m in i.path[1:-1]}),
            "introducers_json": json.dumps(
                [
                    {
                        "customer_id": i.node_id,
                        "score": i.score,
                        "common_neighbors": i.common_neighbors,
                        "path": list(i.path),
                    }
                    for i in target.introducers
                ],
                ensure_ascii=False,
            ),
        },
    }


async def referral_targets(run: RunContext, params: ReferralTargetParams) -> Computed:
    """REFERRAL_TARGET rows per product (and scenario), replacing the previous ones.

    Targets: consented, not risk-flagged (the deployment's rule) and eligible for the product
    (its eligibility rules on today's date); introducers, and the people between them and
    the target: consented and not risk-flagged.
    """
    as_of = clock.today()
    targets_repository = run.referral_targets
    products = await run.customers.product_ids(params.product_id)
    if params.product_id is not None and not products:
        raise InvalidParametersError(f"no product {params.product_id!r}")
    customers, ties = await run.read_tie_graph(params)
    graph = await asyncio.to_thread(tie_graph, customers, ties)
    in_scope = set(customers)
    contactable = set(await targets_repository.contactable()) & in_scope
    # the middle person of a path is asked too; they need not be in the scenario
    intermediaries = set(contactable)
    members: set[str] | None = None
    if params.scenario_id is not None:
        members = set(await run.customers.scenario_members(params.scenario_id))
        contactable &= members
    stored = await run.customers.read_result(ResultProperty.SCORE_PAGERANK)
    influence = {k: float(v) for k, v in stored.items()}
    if not influence:
        influence = (await asyncio.to_thread(centrality.pagerank, graph)).as_dict()
    scenario_key = params.scenario_id or "*"
    summary: dict[str, Any] = {
        "scenario_id": scenario_key,
        "contactable": len(contactable),
        "risk_flag_rule": run.risk_rule.describe(),
        "eligibility_as_of": as_of.isoformat(),
        "products": {},
    }
    values: dict[str, Any] = {}
    written = 0
    for position, product in enumerate(products):
        holders = [
            h
            for h in await run.customers.holders(product)
            if h in in_scope and (members is None or h in members)
        ]
        eligible = set(await targets_repository.eligible_targets(product, as_of)) & contactable
        targets = await asyncio.to_thread(
            functools.partial(
                referral.score_referral_targets,
                graph,
                holders,
                eligible=eligible,
                influence=influence,
                method=params.method,
                top_n=params.top_n,
                top_introducers=params.top_introducers,
                introducers=contactable,
                intermediaries=intermediaries,
            )
        )
        rows = [target_row(t, scenario_key) for t in targets]
        written += await targets_repository.replace(product, scenario_key, rows, run.run_id)
        values[product] = [t.candidate for t in targets]
        summary["products"][product] = {
            "holders": len(holders),
            "eligible": len(eligible),
            "targets": len(targets),
            "top": [[t.candidate, round(t.score, 4)] for t in targets[:3]],
        }
        await run.progress(0.3 + 0.68 * (position + 1) / len(products), "compute and write")
    return Computed(values, summary, len(customers), len(ties), written=written, write_from=None)


async def referral_paths(run: RunContext, params: ReferralPathParams) -> Computed:
    """Warmest paths from an RM's book to a prospect; kept in the run summary only."""
    sources = await run.customers.rm_book(params.from_rm_id)
    if not sources:
        raise InvalidParametersError(
            f"relationship manager {params.from_rm_id!r} manages no customers"
        )
    await run.progress(0.1, "search")
    paths = await warmest_paths_between(
        run.store,
        sources,
        params.to_customer_id,
        k=params.k,
        max_hops=params.max_hops,
        tie_kinds=params.tie_kinds,
        min_strength=params.min_strength,
    )
    found = [{"nodes": list(p.nodes), "strength": p.strength, "hops": p.hops} for p in paths]
    summary = {
        "from_rm_id": params.from_rm_id,
        "to_customer_id": params.to_customer_id,
        "book_size": len(sources),
        "in_book": params.to_customer_id in set(sources),
        "paths": found,
    }
    values = {str(i): p["nodes"] for i, p in enumerate(found)}
    return Computed(values, summary, node_count=len(sources), written=0, write_from=None)
