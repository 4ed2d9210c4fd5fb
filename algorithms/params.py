"""Every algorithm's typed parameters: validated before anything runs, so a typo is an error,
not a silent default. Options every algorithm takes (which ties make the graph, the seed) are
:class:`AlgorithmParams`; each algorithm's model adds its own, keyword-only, with defaults.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from graph.errors import CrkgError
from graph.model import TieKind


class InvalidParametersError(CrkgError):
    """An algorithm's parameters (or scope, or engine) cannot run: the message says which."""

    exit_code = 2


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


def today() -> date:
    """The default as-of date: today (UTC)."""
    return datetime.now(UTC).date()


class InForceParams(AlgorithmParams):
    """Runs over guarantees: only those in force on ``as_of`` count (started on or before it,
    and with no ``end`` or an ``end`` on or after it); the date is recorded with the run."""

    as_of: date = Field(
        default_factory=today, description="count guarantees in force on this date (today)"
    )


class ExposureParams(InForceParams):
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
    model: Literal["learned", "fixed"] = Field(
        default="learned",
        description="learned: fitted per product on the graph's own history (HOLDS.since), "
        "falling back to fixed, said in the run, when it is too thin; fixed: 0.40 link + "
        "0.25 adoption + 0.20 tie + 0.15 influence",
    )
    horizon_days: int = Field(
        default=90, ge=7, le=730, description="learned: labels are adoptions in the last N days"
    )
    min_adopters: int = Field(
        default=30, ge=4, le=100_000, description="learned: fewest adopters to fit a model"
    )


class ReferralPathParams(AlgorithmParams):
    from_rm_id: str = Field(description="the RM whose book the paths start from")
    to_customer_id: str = Field(description="the prospect")
    k: int = Field(default=3, ge=1, le=20)
    max_hops: int = Field(default=4, ge=1, le=6)


class BetweennessParams(AlgorithmParams):
    samples: int | None = Field(
        default=256, ge=1, description="pivots (sampled Brandes); null = exact, O(nm)"
    )


class GuaranteeCircleParams(InForceParams):
    max_length: int = Field(default=6, ge=2, le=10)


class IdentifierRingParams(AlgorithmParams):
    min_size: int = Field(default=2, ge=2)
    max_sharing: int | None = Field(default=50, ge=2, description="ignore switchboard-like ids")


class FundCycleParams(AlgorithmParams):
    window_days: float = Field(default=7.0, gt=0.0)
    max_length: int = Field(default=6, ge=2, le=10)


class ControlGroupParams(InForceParams):
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
