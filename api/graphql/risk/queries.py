"""Root fields of risk: guarantee circles, shared-identifier rings and fund-flow cycles, one
customer's guarantee exposure, and related-party (control) groups."""

from __future__ import annotations

import strawberry

from algorithms.risk import exposure_of
from api.graphql.common.checks import check_range, require, require_customer
from api.graphql.common.types import amount
from api.graphql.context import context_value
from api.graphql.errors import ClientError
from api.graphql.permissions import requires
from api.graphql.risk.types import (
    CircleOrder,
    Exposure,
    ExposureDirection,
    GroupOrder,
    GuaranteeCircle,
    RelatedPartyGroup,
    RingKind,
    RiskRing,
)
from api.security.auth import Permission
from graph.model import NodeLabel, RiskLinkageKind

# Bounds of the on-request graph queries (beyond them the answer says it was cut).
MAX_EXPOSURE_EDGES = 50_000


@strawberry.field(
    description="Guarantee circles up to maxLength customers",
    extensions=requires(Permission.READ_RISK),
)
async def guarantee_circles(
    info: strawberry.Info,
    max_length: int = 6,
    first: int | None = 50,
    order_by: CircleOrder = CircleOrder.SIZE,
) -> list[GuaranteeCircle] | None:
    context = context_value(info)
    check_range("maxLength", max_length, 2, 10)
    size = context.page_size(first)
    found = await context.repositories.linkages.listed(
        RiskLinkageKind.GUARANTEE_CIRCLE.value,
        min_size=2,
        max_size=max_length,
        limit=size,
        order_by=order_by.value,
    )
    return [GuaranteeCircle.from_record(info, record) for record in found]


@strawberry.field(
    description="Shared-identifier rings or time-ordered fund-flow cycles",
    extensions=requires(Permission.READ_RISK),
)
async def risk_rings(
    info: strawberry.Info, kind: RingKind, min_size: int = 2, first: int | None = 50
) -> list[RiskRing] | None:
    context = context_value(info)
    size = context.page_size(first)
    found = await context.repositories.linkages.listed(
        kind.value, min_size=min_size, max_size=1_000_000, limit=size
    )
    return [RiskRing.from_record(info, record) for record in found]


@strawberry.field(
    description="Guarantee exposure within `hops`, decayed per hop; by default OUT (whom "
    "the customer guarantees, onwards), as the stored exposure score is computed",
    extensions=requires(Permission.READ_RISK),
)
async def exposure(
    info: strawberry.Info,
    customer_id: strawberry.ID,
    hops: int = 2,
    decay: float = 0.5,
    direction: ExposureDirection = ExposureDirection.OUT,
) -> Exposure | None:
    context = context_value(info)
    check_range("hops", hops, 1, 4)
    if not 0.0 <= decay <= 1.0:
        raise ClientError(f"decay must be between 0 and 1, got {decay}")
    center = await require_customer(info, str(customer_id))
    edges = await context.repositories.ties.guarantees_around(
        str(customer_id), hops=hops, limit=MAX_EXPOSURE_EDGES
    )
    result = await exposure_of(
        str(customer_id), edges, hops=hops, decay=decay, direction=direction.value
    )
    parties = sorted(result.parties, key=lambda p: (p.hop, -p.weighted_amount, p.node_id))
    return Exposure(
        customer=center,
        hops=hops,
        decay=decay,
        direction=direction,
        total=amount(info, result.total),
        by_hop=[amount(info, v) for v in result.by_hop],
        party_count=len(parties),
        truncated=len(edges) >= MAX_EXPOSURE_EDGES,
        party_rows=parties,
    )


@strawberry.field(
    description="The related-party (control) group a customer belongs to",
    extensions=requires(Permission.READ_RISK),
)
async def related_party_group(
    info: strawberry.Info, customer_id: strawberry.ID
) -> RelatedPartyGroup | None:
    await require(info, NodeLabel.CUSTOMER, str(customer_id))
    found = await context_value(info).repositories.linkages.control_group_of(str(customer_id))
    return None if found is None else RelatedPartyGroup.from_record(info, found)


@strawberry.field(
    description="Related-party (control) groups, most at stake first",
    extensions=requires(Permission.READ_RISK),
)
async def related_party_groups(
    info: strawberry.Info,
    first: int | None = 50,
    order_by: GroupOrder = GroupOrder.TOTAL_EXPOSURE,
) -> list[RelatedPartyGroup] | None:
    context = context_value(info)
    found = await context.repositories.linkages.control_groups(
        context.page_size(first), order_by.value
    )
    return [RelatedPartyGroup.from_record(info, record) for record in found]
