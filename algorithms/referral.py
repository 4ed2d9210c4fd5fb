"""Referral: whom to target for a product (and who should introduce them), and the warmest
paths from an RM's book to a prospect. In-process, on the tie graph.

Targets are written per (product, scenario) as ``REFERRAL_TARGET`` relationships, replacing
the previous run's; paths are kept in the run's summary only.
"""

from __future__ import annotations

import asyncio
import functools
import json
from datetime import date
from typing import Any, Final, TypedDict

from algorithms.context import Computed, RunContext
from algorithms.engines import tie_graph
from algorithms.inproc import centrality, referral
from algorithms.params import InvalidParametersError, ReferralPathParams, ReferralTargetParams
from algorithms.paths import warmest_paths_between
from algorithms.referral_model.served import ServedModel, StoredHistory, fit_on_history
from algorithms.referral_serve import FIXED_LABEL, fixed_parts, learned_ranking, reason_facts
from graph import clock
from graph.reasons import ReasonFacts, reason_sentences
from graph.repositories.referral_targets import ReferralHistoryRows
from graph.results import ResultProperty

EPOCH: Final = date(1970, 1, 1)


class ReferralTargetSummary(TypedDict):
    model: str  # the model asked for; each product says which it used
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


def target_row(
    target: referral.ScoredTarget,
    scenario: str,
    model: str = FIXED_LABEL,
    parts: list[dict[str, Any]] | None = None,
    facts: ReasonFacts | None = None,
) -> dict[str, Any]:
    """A REFERRAL_TARGET's properties, with its introducers (ids and, as JSON, their reasons),
    the model that scored it, the parts of its score and its reasons in words."""
    facts = facts or ReasonFacts()
    first = target.introducers[0].path if target.introducers else ()
    reason_zh, reason_en = reason_sentences(
        facts, first[-1] if first else None, first[1] if len(first) == 3 else None
    )
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
            "model": model,
            "parts_json": json.dumps(
                parts if parts is not None else fixed_parts(target), ensure_ascii=False
            ),
            "reason_facts_json": json.dumps(facts.to_json(), ensure_ascii=False),
            "reason_zh": reason_zh,
            "reason_en": reason_en,
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
    the target: consented and not risk-flagged. ``model="learned"`` ranks them by a model
    fitted on the product's own history (:mod:`algorithms.referral_model.served`), or, when
    the history is too thin or the model does not beat them, by the fixed weights;
    ``summary["products"][p]["model"]`` says which, with the model's record (version, window,
    features, metrics, seed) or the reason.
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
    base = await targets_repository.history_base(params.tie_kinds, min_strength=params.min_strength)
    summary: dict[str, Any] = {
        "model": params.model,
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
        history = await targets_repository.history(base, product, as_of)
        served, model = await _served_model(params, history, as_of)
        targets = await asyncio.to_thread(
            functools.partial(
                referral.score_referral_targets,
                graph,
                holders,
                eligible=eligible,
                influence=influence,
                method=params.method,
                # learned: every candidate, for the model to rank
                top_n=params.top_n if served is None else max(len(eligible), 1),
                top_introducers=params.top_introducers,
                introducers=contactable,
                intermediaries=intermediaries,
            )
        )
        if served is not None:
            targets = await asyncio.to_thread(learned_ranking, targets, served, params.top_n)
            parts = await asyncio.to_thread(served.parts, [t.candidate for t in targets])
        else:
            parts = {t.candidate: fixed_parts(t, params.method) for t in targets}
        facts = await asyncio.to_thread(
            reason_facts, history, holders, [t.candidate for t in targets]
        )
        label = FIXED_LABEL if served is None else served.label
        rows = [
            target_row(t, scenario_key, label, parts.get(t.candidate), facts[t.candidate])
            for t in targets
        ]
        written += await targets_repository.replace(product, scenario_key, rows, run.run_id)
        values[product] = [t.candidate for t in targets]
        summary["products"][product] = {
            "holders": len(holders),
            "eligible": len(eligible),
            "targets": len(targets),
            "top": [[t.candidate, round(t.score, 4)] for t in targets[:3]],
            "model": model,
        }
        await run.progress(0.3 + 0.68 * (position + 1) / len(products), "compute and write")
    return Computed(values, summary, len(customers), len(ties), written=written, write_from=None)


async def _served_model(
    params: ReferralTargetParams, history: ReferralHistoryRows, today: date
) -> tuple[ServedModel | None, dict[str, Any]]:
    """The learned model for one product, or None and why not; and what the run records."""
    if params.model == "fixed":
        return None, {"name": FIXED_LABEL, "requested": "fixed"}
    outcome = await asyncio.to_thread(
        functools.partial(
            fit_on_history,
            StoredHistory.from_rows(history),
            today=(today - EPOCH).days,
            horizon_days=params.horizon_days,
            min_adopters=params.min_adopters,
            seed=params.seed,
        )
    )
    if isinstance(outcome, str):
        return None, {"name": FIXED_LABEL, "requested": "learned", "fallback": outcome}
    record: dict[str, Any] = json.loads(outcome.fitted.record.to_json())
    fixed = round(outcome.fixed_validation_auc, 4)
    return outcome, {
        **record,
        "served_as": outcome.label,
        "requested": "learned",
        "fixed_weight_validation_auc": fixed,
    }


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
