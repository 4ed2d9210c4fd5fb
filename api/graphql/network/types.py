"""Types of the network: neighbourhoods and paths of ties, communities with their profiles,
and influence scores."""

from __future__ import annotations

from datetime import date
from enum import Enum
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from api.graphql.common.coverage import COVERAGE, RunCoverage, run_coverage
from api.graphql.common.cursors import decode_cursor
from api.graphql.common.enums import CommunityAlgorithm, customer_property
from api.graphql.common.numbers import significant
from api.graphql.common.types import (
    Customer,
    CustomerConnection,
    PageInfo,
    customer_connection,
    load_customers,
)
from api.graphql.common.values import Money, money
from api.graphql.context import context_value
from api.graphql.permissions import guarded_field
from api.security.auth import Permission
from graph.errors import NotFoundError
from graph.model import NodeLabel, TieKind
from graph.money import MINOR_SUFFIX, to_decimal
from graph.read_models import CommunityRecord
from graph.repositories.communities import member_key
from graph.results import SCORE_PROPERTIES

# every stored score an influencer list can rank by
_METRICS: Any = Enum(  # type: ignore[misc]  # members come from graph.results
    "InfluenceMetric", {p.name.removeprefix("SCORE_"): p.value for p in SCORE_PROPERTIES}
)
InfluenceMetric: Any = strawberry.enum(_METRICS, name="InfluenceMetric")


@strawberry.input
class ScopeInput:
    scenario_id: strawberry.ID | None = None
    community_id: strawberry.ID | None = None
    branch_id: str | None = None


# --- neighbourhoods and paths --------------------------------------------------------------------
@strawberry.type
class Tie:
    from_id: strawberry.ID
    to_id: strawberry.ID
    kind: TieKind
    strength: float | None
    since: date | None


@strawberry.type
class SubgraphNode:
    hops: int
    customer: Customer


@strawberry.type
class Subgraph:
    center: Customer
    nodes: list[SubgraphNode]
    ties: list[Tie]
    truncated: bool = strawberry.field(description="more customers were in reach than `first`")


@strawberry.type
class Path:
    customer_ids: list[strawberry.ID]
    hops: int
    strength: float = strawberry.field(
        description="product of the tie strengths along the path (6 significant digits)"
    )
    cost: float = strawberry.field(description="-log(strength): lower is warmer (6 digits)")
    screened: bool = strawberry.field(
        default=False,
        description="true when no customer on the path (but the prospect at its end) is one "
        "who may not be contacted for marketing (no consent, or risk-flagged): the search "
        "went around them (referral paths for roles without read_risk)",
    )
    uncontactable_ids: list[strawberry.ID] | None = strawberry.field(
        default=None,
        description="the customers on the path who may not be contacted for marketing (no "
        "consent, or risk-flagged), for roles that read risk; null for other roles",
    )

    @strawberry.field
    async def customers(self, info: strawberry.Info) -> list[Customer]:
        return list((await load_customers(info, [str(i) for i in self.customer_ids])).values())


# --- communities ---------------------------------------------------------------------------------
@strawberry.type
class ScenarioShare:
    scenario_id: strawberry.ID
    members: int


@strawberry.type
class Community:
    id: strawberry.ID
    algorithm: str
    size: int
    internal_ties: int | None
    density: float | None
    tier_mix: JSON | None = strawberry.field(description="{tier: members}")
    product_penetration: JSON | None = strawberry.field(
        description="{product_id: share of members holding it (ACTIVE, DORMANT or status-less "
        "HOLDS; not CLOSED)}, every product (zeros included)"
    )
    stale: bool = strawberry.field(
        description="a load changed customers, holdings or participation since the profile "
        "was computed; the next segmentation or community run refreshes it"
    )
    stale_reason: str | None
    dominant_scenarios: list[ScenarioShare]
    central_member_ids: list[strawberry.ID]
    run_id: str | None
    profile_run_id: str | None = strawberry.field(
        description="the community or segmentation run that computed the profile (tier mix, "
        "penetration, density, central members, dominant scenarios); `runId` found the members"
    )
    local_id: strawberry.Private[str]

    @classmethod
    def from_record(cls, record: CommunityRecord) -> Community:
        return cls(
            id=strawberry.ID(record.community_id),
            algorithm=record.algorithm,
            size=record.size,
            internal_ties=record.internal_ties,
            density=None if record.density is None else significant(record.density),
            tier_mix=cast(JSON, record.tier_mix),
            stale=record.stale,
            stale_reason=record.stale_reason,
            product_penetration=cast(JSON, record.product_penetration),
            dominant_scenarios=[
                ScenarioShare(scenario_id=strawberry.ID(s), members=n)
                for s, n in record.dominant_scenarios
            ],
            central_member_ids=[strawberry.ID(i) for i in record.central_members],
            run_id=record.run_id,
            profile_run_id=record.profile_run_id,
            local_id=record.local_id,
        )

    @strawberry.field(
        description="the share of members holding this product, for any product id: a member "
        "holds it with a HOLDS whose status is ACTIVE, DORMANT or none (CLOSED does not count)"
    )
    async def penetration(self, info: strawberry.Info, product_id: strawberry.ID) -> float:
        shares: dict[str, Any] = (
            self.product_penetration if isinstance(self.product_penetration, dict) else {}
        )
        if str(product_id) in shares:
            return float(shares[str(product_id)])
        # one check per product per request (a DataLoader), not one per community
        if not await context_value(info).loaders.product_exists.load(str(product_id)):
            raise NotFoundError(NodeLabel.PRODUCT.value, str(product_id))
        return 0.0  # a product added after the profile was computed: nobody held it then

    @strawberry.field(description=COVERAGE)
    async def coverage(self, info: strawberry.Info) -> RunCoverage | None:
        return await run_coverage(info, self.run_id)

    @strawberry.field
    async def central_members(self, info: strawberry.Info) -> list[Customer]:
        ids = [str(i) for i in self.central_member_ids]
        return list((await load_customers(info, ids)).values())

    @strawberry.field
    async def members(
        self, info: strawberry.Info, first: int | None = 50, after: str | None = None
    ) -> CustomerConnection:
        context = context_value(info)
        size = context.page_size(first)
        key = member_key(
            customer_property(CommunityAlgorithm(self.algorithm)),
            self.local_id,
            decode_cursor("customer", after) or "",
            size + 1,
        )
        ids = await context.loaders.community_members.load(key)
        return await customer_connection(info, ids, size)


@strawberry.type
class CommunityEdge:
    cursor: str
    node: Community


@strawberry.type
class CommunityConnection:
    edges: list[CommunityEdge]
    page_info: PageInfo


# --- influence -----------------------------------------------------------------------------------
@strawberry.type
class InfluenceScore:
    rank: int = strawberry.field(
        description="the row's place in this list (1, 2, …); for roles without read_risk the "
        "list leaves out whom marketing may not contact, so see `scopeRank` to compare"
    )
    scope_rank: int = strawberry.field(
        description="the rank among every customer of the scope with this score, the ones "
        "left out of a marketing list included: the same for every role (gaps mark "
        "customers left out)"
    )
    score: float = strawberry.field(
        description="the stored score; for a money metric (EXPOSURE) the amount in currency "
        "units, as `amount` (exact) holds it"
    )
    metric: InfluenceMetric
    run_id: str | None
    customer: Customer
    flags: strawberry.Private[list[str]]
    seed_product_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="PERSONALIZED_PAGERANK: the product whose holders the run's PageRank "
        "teleported to (the score is closeness to them); null otherwise",
    )
    seed_scenario_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="PERSONALIZED_PAGERANK: the scenario whose participants were the seeds; "
        "null otherwise",
    )
    minor: strawberry.Private[int | None] = None

    def __post_init__(self) -> None:
        # a money metric is stored as integer minor units: the row speaks currency units, one
        # unit for one quantity (Money's), and keeps the exact integer for `amount`
        if self.minor is None and str(self.metric.value).endswith(MINOR_SUFFIX):
            self.minor = int(self.score)
            self.score = float(to_decimal(self.minor))

    @strawberry.field(description=COVERAGE)
    async def coverage(self, info: strawberry.Info) -> RunCoverage | None:
        return await run_coverage(info, self.run_id)

    @strawberry.field(description="money metrics (EXPOSURE): the exact amount; otherwise null")
    def amount(self, info: strawberry.Info) -> Money | None:
        return money(info, self.minor)

    @guarded_field(
        Permission.READ_RISK,
        "why this customer is risk-flagged (RISK_RATING, RISK_LINKAGE, "
        "NEAR_DEFAULT); empty when not. Risk roles only: for everyone else flagged customers "
        "are left out of the list",
    )
    def risk_flags(self) -> list[str] | None:
        return self.flags
