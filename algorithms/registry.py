"""Every algorithm crkg runs, declared once: its parameters, its engines, what it writes and
the summary it records.

``crkg algo list`` prints this table; ``crkg algo run NAME`` and the ``runAlgorithm``
mutation validate the parameters against the declared model before anything runs, so a typo
is an error, not a silent default. The runner reads nothing else: adding an algorithm is its
module, one entry here, its test, and (when it writes a new property) one line of
``graph.results.ResultProperty`` (see CONTRIBUTING.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from algorithms import communities, influence, k_core, referral, risk, segmentation
from algorithms.context import Computed, RunContext
from algorithms.engines import EngineFunction, InProcess, OnGds
from algorithms.params import (
    AlgorithmParams,
    BetweennessParams,
    CommunityParams,
    ControlGroupParams,
    ExposureParams,
    FundCycleParams,
    GuaranteeCircleParams,
    IdentifierRingParams,
    NetworkValueParams,
    PageRankParams,
    PersonalizedPageRankParams,
    ReferralPathParams,
    ReferralTargetParams,
    SegmentationParams,
)
from graph.model import RelType, RiskLinkageKind
from graph.results import ResultProperty


class Engine(StrEnum):
    AUTO = "auto"  # GDS when the algorithm and the server have it, else in-process
    GDS = "gds"
    INPROC = "inproc"


Writes = ResultProperty | tuple[ResultProperty, ...] | RiskLinkageKind | RelType | None
"""What a run writes: Customer properties, RiskLinkage nodes of a kind, REFERRAL_TARGET
relationships, or nothing but its AlgorithmRun (the summary holds the result)."""


@dataclass(frozen=True)
class Algorithm:
    name: str
    family: str
    description: str
    params: type[AlgorithmParams]
    writes: Writes
    summary: type  # a TypedDict: the keys of AlgorithmRun.summary_json
    engines: Mapping[Engine, EngineFunction]
    scopable: bool = True  # runs on a Scope (scenario, community, branch, tie window)
    refreshes_community_profiles: bool = False  # it changes what the profiles count

    async def compute(self, engine: Engine, run: RunContext, params: Any) -> Computed:
        return await self.engines[engine](run, params)

    @property
    def writes_label(self) -> str:
        """What it writes, for ``crkg algo list``."""
        if self.writes is None:
            return "(run summary)"
        if isinstance(self.writes, tuple):
            return ", ".join(p.value for p in self.writes)
        return self.writes.value


def _tie_graph(inproc: Any, gds: Any = None, *, seeds: Any = None) -> dict[Engine, Any]:
    engines: dict[Engine, Any] = {Engine.INPROC: InProcess(inproc, seeds)}
    if gds is not None:
        engines = {Engine.GDS: OnGds(gds, seeds), **engines}
    return engines


def _inproc(engine: EngineFunction) -> dict[Engine, EngineFunction]:
    return {Engine.INPROC: engine}


REGISTRY: dict[str, Algorithm] = {
    spec.name: spec
    for spec in (
        Algorithm(
            "wcc",
            "communities",
            "connected groups of customers (weakly connected components)",
            AlgorithmParams,
            ResultProperty.COMMUNITY_WCC,
            communities.CommunitySummary,
            _tie_graph(communities.wcc, communities.wcc_gds),
        ),
        Algorithm(
            "louvain",
            "communities",
            "modularity communities (Louvain)",
            CommunityParams,
            ResultProperty.COMMUNITY_LOUVAIN,
            communities.CommunitySummary,
            _tie_graph(communities.louvain, communities.louvain_gds),
        ),
        Algorithm(
            "leiden",
            "communities",
            "well-connected modularity communities (Leiden)",
            CommunityParams,
            ResultProperty.COMMUNITY_LEIDEN,
            communities.CommunitySummary,
            _tie_graph(communities.leiden, communities.leiden_gds),
        ),
        Algorithm(
            "label_propagation",
            "communities",
            "communities by label propagation",
            AlgorithmParams,
            ResultProperty.COMMUNITY_LABEL_PROPAGATION,
            communities.CommunitySummary,
            _tie_graph(communities.label_propagation, communities.label_propagation_gds),
        ),
        Algorithm(
            "pagerank",
            "influence",
            "influence through the tie network (PageRank, weighted by tie strength)",
            PageRankParams,
            ResultProperty.SCORE_PAGERANK,
            influence.ScoreSummary,
            _tie_graph(influence.pagerank, influence.pagerank_gds),
        ),
        Algorithm(
            "degree",
            "influence",
            "number of ties",
            AlgorithmParams,
            ResultProperty.SCORE_DEGREE,
            influence.ScoreSummary,
            _tie_graph(influence.degree, influence.degree_gds),
        ),
        Algorithm(
            "betweenness",
            "influence",
            "brokers between groups (betweenness; sampled with samples=k)",
            BetweennessParams,
            ResultProperty.SCORE_BETWEENNESS,
            influence.ScoreSummary,
            _tie_graph(influence.betweenness, influence.betweenness_gds),
        ),
        Algorithm(
            "k_core",
            "influence",
            "cohesive core: the largest k such that a customer sits in a group where every "
            "member has k ties inside it (k-core decomposition)",
            AlgorithmParams,
            ResultProperty.SCORE_K_CORE,
            influence.ScoreSummary,
            _tie_graph(k_core.k_core, k_core.k_core_gds),
        ),
        Algorithm(
            "guarantee_circles",
            "risk",
            "cycles of guarantees up to max_length (MUTUAL = two customers)",
            GuaranteeCircleParams,
            RiskLinkageKind.GUARANTEE_CIRCLE,
            risk.LinkageSummary,
            _inproc(risk.guarantee_circles),
            scopable=False,
        ),
        Algorithm(
            "identifier_rings",
            "risk",
            "customers linked by shared phones, devices, addresses or e-mails",
            IdentifierRingParams,
            RiskLinkageKind.IDENTIFIER_RING,
            risk.LinkageSummary,
            _inproc(risk.identifier_rings),
            scopable=False,
        ),
        Algorithm(
            "fund_cycles",
            "risk",
            "time-ordered transfer cycles within window_days",
            FundCycleParams,
            RiskLinkageKind.FUND_CYCLE,
            risk.LinkageSummary,
            _inproc(risk.fund_cycles),
            scopable=False,
        ),
        Algorithm(
            "control_groups",
            "risk",
            "related-party groups: control through > threshold_pct shareholding chains",
            ControlGroupParams,
            RiskLinkageKind.CONTROL_GROUP,
            risk.LinkageSummary,
            _inproc(risk.control_groups),
            scopable=False,
        ),
        Algorithm(
            "segmentation",
            "segmentation",
            "value tier from AUM and lifecycle stage from onboarding and activity dates",
            SegmentationParams,
            (ResultProperty.TIER, ResultProperty.LIFECYCLE_STAGE),
            segmentation.SegmentationSummary,
            _inproc(segmentation.tiers_and_stages),
            scopable=False,
            refreshes_community_profiles=True,
        ),
        Algorithm(
            "personalized_pagerank",
            "influence",
            "closeness to a product's holders or a scenario's members (personalised PageRank)",
            PersonalizedPageRankParams,
            ResultProperty.SCORE_PERSONALIZED_PAGERANK,
            influence.ScoreSummary,
            _tie_graph(
                influence.personalized_pagerank,
                influence.personalized_pagerank_gds,
                seeds=influence.seeds_of,
            ),
        ),
        Algorithm(
            "referral_influence",
            "influence",
            "converted referees in the REFERRED cascade below a customer (all depths)",
            AlgorithmParams,
            ResultProperty.SCORE_REFERRAL_INFLUENCE,
            influence.ScoreSummary,
            _inproc(influence.referral_influence),
            scopable=False,
        ),
        Algorithm(
            "network_value",
            "segmentation",
            "value plus influence: blend of the AUM and PageRank percentile ranks",
            NetworkValueParams,
            ResultProperty.SCORE_NETWORK_VALUE,
            influence.ScoreSummary,
            _inproc(segmentation.network_value),
            scopable=False,
        ),
        Algorithm(
            "exposure",
            "risk",
            "guarantee amounts within hops, decayed per hop (integer minor units)",
            ExposureParams,
            ResultProperty.SCORE_EXPOSURE,
            influence.ScoreSummary,
            _inproc(risk.exposure),
            scopable=False,
        ),
        Algorithm(
            "referral_targets",
            "referral",
            "whom to target for a product (link prediction, adoption, tie, introducer)",
            ReferralTargetParams,
            RelType.REFERRAL_TARGET,
            referral.ReferralTargetSummary,
            _inproc(referral.referral_targets),
            # stored per (product, scenario): a branch-scoped run would replace the whole
            # graph's targets; its own scenario_id parameter is the scope it supports
            scopable=False,
        ),
        Algorithm(
            "referral_paths",
            "referral",
            "warmest k paths (Yen, cost -log strength) from an RM's book to a prospect",
            ReferralPathParams,
            None,
            referral.ReferralPathSummary,
            _inproc(referral.referral_paths),
            scopable=False,
        ),
    )
}
