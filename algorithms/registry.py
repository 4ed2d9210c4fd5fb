"""Every algorithm crkg runs, declared once: name, family, typed parameters, result, engines.

``crkg algo list`` prints this table; ``crkg algo run NAME`` validates the parameters against
the declared model before anything runs, so a typo is an error, not a silent default.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from graph.model import TieKind


class Engine(StrEnum):
    AUTO = "auto"  # GDS when the server has it, else in-process
    GDS = "gds"
    INPROC = "inproc"


class ResultKind(StrEnum):
    COMMUNITY = "community"  # a community id per customer (stable across re-runs)
    SCORE = "score"  # a number per customer
    LINKAGE = "linkage"  # RiskLinkage nodes with their member customers
    SEGMENT = "segment"  # tier and lifecycle stage per customer
    REFERRAL = "referral"  # REFERRAL_TARGET relationships from customers to products
    PATHS = "paths"  # nothing per customer: the AlgorithmRun summary holds the paths


class AlgorithmParams(BaseModel):
    """Options every algorithm takes: which ties make the graph, and the seed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tie_kinds: tuple[TieKind, ...] = tuple(TieKind)
    min_strength: float = Field(default=0.0, ge=0.0, le=1.0)
    seed: int = 42


class CommunityParams(AlgorithmParams):
    resolution: float = Field(default=1.0, gt=0.0)


class PageRankParams(AlgorithmParams):
    damping: float = Field(default=0.85, gt=0.0, lt=1.0)
    max_iterations: int = Field(default=100, ge=1, le=10_000)
    tolerance: float = Field(default=1e-9, gt=0.0)


class PersonalizedPageRankParams(PageRankParams):
    """PageRank teleporting to a seed set: a product's holders or a scenario's members."""

    seed_product_id: str | None = Field(default=None, description="seeds: its holders")
    seed_scenario_id: str | None = Field(default=None, description="seeds: its participants")

    @model_validator(mode="after")
    def _one_seed_set(self) -> Self:
        if (self.seed_product_id is None) == (self.seed_scenario_id is None):
            raise ValueError("give exactly one of seed_product_id and seed_scenario_id")
        return self


class NetworkValueParams(AlgorithmParams):
    value_weight: float = Field(
        default=0.5, ge=0.0, le=1.0, description="weight of the AUM rank; the rest is PageRank's"
    )
    recompute_pagerank: bool = Field(
        default=False, description="compute PageRank now instead of reading score_pagerank"
    )


class ExposureParams(AlgorithmParams):
    hops: int = Field(default=2, ge=1, le=6)
    decay: float = Field(default=0.5, ge=0.0, le=1.0, description="factor per hop beyond the first")
    direction: Literal["out", "in", "both"] = Field(
        default="out", description="out: whom the customer guarantees (guarantor -> borrower)"
    )


class ReferralTargetParams(AlgorithmParams):
    product_id: str | None = Field(default=None, description="null = every product")
    scenario_id: str | None = Field(
        default=None, description="only the scenario's participants, as targets and as holders"
    )
    top_n: int = Field(default=500, ge=1, le=100_000, description="targets kept per product")
    method: Literal["adamic_adar", "common_neighbors", "resource_allocation"] = "adamic_adar"
    top_introducers: int = Field(default=3, ge=1, le=10)


class ReferralPathParams(AlgorithmParams):
    from_rm_id: str = Field(description="the RM whose book the paths start from")
    to_customer_id: str = Field(description="the prospect")
    k: int = Field(default=3, ge=1, le=20)
    max_hops: int = Field(default=4, ge=1, le=6)


class BetweennessParams(AlgorithmParams):
    samples: int | None = Field(
        default=256, ge=1, description="pivots (sampled Brandes); null = exact, O(nm)"
    )


class GuaranteeCircleParams(AlgorithmParams):
    max_length: int = Field(default=6, ge=2, le=10)


class IdentifierRingParams(AlgorithmParams):
    min_size: int = Field(default=2, ge=2)
    max_sharing: int | None = Field(default=50, ge=2, description="ignore switchboard-like ids")


class FundCycleParams(AlgorithmParams):
    window_days: float = Field(default=7.0, gt=0.0)
    max_length: int = Field(default=6, ge=2, le=10)


class ControlGroupParams(AlgorithmParams):
    threshold_pct: float = Field(default=50.0, gt=0.0, lt=100.0)


class SegmentationParams(AlgorithmParams):
    tier_thresholds: tuple[float, float, float] | None = Field(
        default=None, description="AUM lower bounds of AFFLUENT, HIGH_NET_WORTH, PRIVATE"
    )
    tier_quantiles: tuple[float, float, float] | None = None
    reference_date: date | None = Field(
        default=None, description="as-of date; default: the latest last_active_at loaded"
    )
    new_days: int = Field(default=90, ge=1)
    dormant_days: int = Field(default=180, ge=1)


@dataclass(frozen=True)
class AlgorithmSpec:
    name: str
    family: str
    description: str
    params: type[AlgorithmParams]
    result: ResultKind
    result_property: str  # the Customer property it writes, or the RiskLinkage kind
    engines: tuple[Engine, ...] = (Engine.GDS, Engine.INPROC)
    scopable: bool = True  # runs on a Scope (scenario, community, branch, tie window)


REGISTRY: dict[str, AlgorithmSpec] = {
    spec.name: spec
    for spec in (
        AlgorithmSpec(
            "wcc",
            "communities",
            "connected groups of customers (weakly connected components)",
            AlgorithmParams,
            ResultKind.COMMUNITY,
            "community_wcc",
        ),
        AlgorithmSpec(
            "louvain",
            "communities",
            "modularity communities (Louvain)",
            CommunityParams,
            ResultKind.COMMUNITY,
            "community_louvain",
        ),
        AlgorithmSpec(
            "leiden",
            "communities",
            "well-connected modularity communities (Leiden)",
            CommunityParams,
            ResultKind.COMMUNITY,
            "community_leiden",
        ),
        AlgorithmSpec(
            "label_propagation",
            "communities",
            "communities by label propagation",
            AlgorithmParams,
            ResultKind.COMMUNITY,
            "community_label_propagation",
        ),
        AlgorithmSpec(
            "pagerank",
            "influence",
            "influence through the tie network (PageRank, weighted by tie strength)",
            PageRankParams,
            ResultKind.SCORE,
            "score_pagerank",
        ),
        AlgorithmSpec(
            "degree",
            "influence",
            "number of ties",
            AlgorithmParams,
            ResultKind.SCORE,
            "score_degree",
        ),
        AlgorithmSpec(
            "betweenness",
            "influence",
            "brokers between groups (betweenness; sampled with samples=k)",
            BetweennessParams,
            ResultKind.SCORE,
            "score_betweenness",
        ),
        AlgorithmSpec(
            "guarantee_circles",
            "risk",
            "cycles of guarantees up to max_length (MUTUAL = two customers)",
            GuaranteeCircleParams,
            ResultKind.LINKAGE,
            "GUARANTEE_CIRCLE",
            (Engine.INPROC,),
            scopable=False,
        ),
        AlgorithmSpec(
            "identifier_rings",
            "risk",
            "customers linked by shared phones, devices, addresses or e-mails",
            IdentifierRingParams,
            ResultKind.LINKAGE,
            "IDENTIFIER_RING",
            (Engine.INPROC,),
            scopable=False,
        ),
        AlgorithmSpec(
            "fund_cycles",
            "risk",
            "time-ordered transfer cycles within window_days",
            FundCycleParams,
            ResultKind.LINKAGE,
            "FUND_CYCLE",
            (Engine.INPROC,),
            scopable=False,
        ),
        AlgorithmSpec(
            "control_groups",
            "risk",
            "related-party groups: control through > threshold_pct shareholding chains",
            ControlGroupParams,
            ResultKind.LINKAGE,
            "CONTROL_GROUP",
            (Engine.INPROC,),
            scopable=False,
        ),
        AlgorithmSpec(
            "segmentation",
            "segmentation",
            "value tier from AUM and lifecycle stage from onboarding and activity dates",
            SegmentationParams,
            ResultKind.SEGMENT,
            "tier",
            (Engine.INPROC,),
            scopable=False,
        ),
        AlgorithmSpec(
            "personalized_pagerank",
            "influence",
            "closeness to a product's holders or a scenario's members (personalised PageRank)",
            PersonalizedPageRankParams,
            ResultKind.SCORE,
            "score_personalized_pagerank",
        ),
        AlgorithmSpec(
            "referral_influence",
            "influence",
            "converted referees in the REFERRED cascade below a customer (all depths)",
            AlgorithmParams,
            ResultKind.SCORE,
            "score_referral_influence",
            (Engine.INPROC,),
            scopable=False,
        ),
        AlgorithmSpec(
            "network_value",
            "segmentation",
            "value plus influence: blend of the AUM and PageRank percentile ranks",
            NetworkValueParams,
            ResultKind.SCORE,
            "score_network_value",
            (Engine.INPROC,),
            scopable=False,
        ),
        AlgorithmSpec(
            "exposure",
            "risk",
            "guarantee amounts within hops, decayed per hop (integer minor units)",
            ExposureParams,
            ResultKind.SCORE,
            "score_exposure_minor",
            (Engine.INPROC,),
            scopable=False,
        ),
        AlgorithmSpec(
            "referral_targets",
            "referral",
            "whom to target for a product (link prediction, adoption, tie, introducer)",
            ReferralTargetParams,
            ResultKind.REFERRAL,
            "REFERRAL_TARGET",
            (Engine.INPROC,),
            # stored per (product, scenario): a branch-scoped run would replace the whole
            # graph's targets; its own scenario_id parameter is the scope it supports
            scopable=False,
        ),
        AlgorithmSpec(
            "referral_paths",
            "referral",
            "warmest k paths (Yen, cost -log strength) from an RM's book to a prospect",
            ReferralPathParams,
            ResultKind.PATHS,
            "",
            (Engine.INPROC,),
            scopable=False,
        ),
    )
}
