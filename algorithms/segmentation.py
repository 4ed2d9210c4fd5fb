"""Segmentation: value tier and lifecycle stage per customer, and network value (value plus
influence). In-process, from the customers' AUM and dates (and stored PageRank)."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime
from typing import Any, TypedDict

from algorithms.context import Computed, RunContext
from algorithms.engines import tie_graph
from algorithms.influence import pagerank
from algorithms.inproc import segmentation
from algorithms.params import NetworkValueParams, PageRankParams, SegmentationParams
from graph.results import ResultProperty


class SegmentationSummary(TypedDict):
    reference_date: str
    tiers: dict[str, int]
    stages: dict[str, int]
    profiles_refreshed: dict[str, int]  # community algorithm -> profiles refreshed


async def tiers_and_stages(run: RunContext, params: SegmentationParams) -> Computed:
    """Value tier from AUM and lifecycle stage from onboarding and activity dates."""
    await run.progress(0.02, "read")
    rows = await run.customers.segment_inputs()
    await run.progress(0.3, "compute")
    aum = {r.customer_id: r.aum_minor for r in rows}
    onboarded = {r.customer_id: r.onboarded_at for r in rows}
    active = {r.customer_id: r.last_active_at for r in rows}
    reference = params.reference_date or max(
        (d for d in active.values() if d is not None), default=datetime.now(UTC).date()
    )
    tiers = segmentation.value_tiers(
        aum, thresholds=params.tier_thresholds, quantiles=params.tier_quantiles
    )
    stages = segmentation.lifecycle_stages(
        onboarded,
        active,
        reference_date=reference,
        new_days=params.new_days,
        dormant_days=params.dormant_days,
    )
    summary = {
        "reference_date": reference.isoformat(),
        "tiers": dict(sorted(Counter(v.value for v in tiers.values()).items())),
        "stages": dict(sorted(Counter(v.value for v in stages.values()).items())),
    }
    return Computed(
        {k: [tiers.get(k), stages.get(k)] for k in aum},
        summary,
        node_count=len(rows),
        properties={
            ResultProperty.TIER: {k: v.value for k, v in tiers.items()},
            ResultProperty.LIFECYCLE_STAGE: {k: v.value for k, v in stages.items()},
        },
        written=len(rows),
        write_from=0.4,
    )


async def network_value(run: RunContext, params: NetworkValueParams) -> Computed:
    """A blend of the AUM and PageRank percentile ranks (PageRank read, or computed now)."""
    await run.progress(0.02, "read")
    customers = await run.projections.customer_ids()
    aum = {r.customer_id: r.aum_minor for r in await run.customers.segment_inputs()}
    summary: dict[str, Any] = {}
    relationships = 0
    influence = (
        {}
        if params.recompute_pagerank
        else await run.customers.read_result(ResultProperty.SCORE_PAGERANK)
    )
    if not influence:
        summary["pagerank"] = "computed in this run (score_pagerank was not stored)"
        ties = await run.projections.tie_columns(
            params.tie_kinds, min_strength=params.min_strength, customers=customers
        )
        relationships = len(ties)
        await run.progress(0.3, "compute")
        pagerank_params = PageRankParams(
            tie_kinds=params.tie_kinds, min_strength=params.min_strength, seed=params.seed
        )
        scores, _ = await asyncio.to_thread(
            lambda: pagerank(tie_graph(customers, ties), pagerank_params)
        )
        influence = dict(scores)
    else:
        summary["pagerank"] = "read from score_pagerank"
    await run.progress(0.4, "compute")
    values: dict[str, Any] = segmentation.network_value(
        aum, {k: float(v) for k, v in influence.items()}, value_weight=params.value_weight
    )
    summary["nonzero"] = sum(1 for v in values.values() if v)
    return Computed(values, summary, len(customers), relationships)
