"""Every algorithm crkg runs, declared once: name, family, typed parameters, result, engines.

``crkg algo list`` prints this table; ``crkg algo run NAME`` validates the parameters against
the declared model before anything runs, so a typo is an error, not a silent default.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

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
        ),
        AlgorithmSpec(
            "identifier_rings",
            "risk",
            "customers linked by shared phones, devices, addresses or e-mails",
            IdentifierRingParams,
            ResultKind.LINKAGE,
            "IDENTIFIER_RING",
            (Engine.INPROC,),
        ),
        AlgorithmSpec(
            "fund_cycles",
            "risk",
            "time-ordered transfer cycles within window_days",
            FundCycleParams,
            ResultKind.LINKAGE,
            "FUND_CYCLE",
            (Engine.INPROC,),
        ),
        AlgorithmSpec(
            "control_groups",
            "risk",
            "related-party groups: control through > threshold_pct shareholding chains",
            ControlGroupParams,
            ResultKind.LINKAGE,
            "CONTROL_GROUP",
            (Engine.INPROC,),
        ),
        AlgorithmSpec(
            "segmentation",
            "segmentation",
            "value tier from AUM and lifecycle stage from onboarding and activity dates",
            SegmentationParams,
            ResultKind.SEGMENT,
            "tier",
            (Engine.INPROC,),
        ),
    )
}
