"""Root fields of risk: guarantee circles, shared-identifier rings and fund-flow cycles, one
customer's guarantee exposure, and related-party (control) groups."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from algorithms.params import today
from algorithms.risk import exposure_of
from api.graphql.common.checks import check_range, require, require_customer
from api.graphql.common.coverage import known_if_empty, note_if_empty, require_covered
from api.graphql.common.cursors import decode_cursor
from api.graphql.common.types import CustomerConnection, customer_connection
from api.graphql.common.values import amount
from api.graphql.context import context_value
from api.graphql.errors import ClientError
from api.graphql.permissions import guarded_field
from api.graphql.risk.types import (
    CircleOrder,
    Exposure,
    ExposureDirection,
    GroupOrder,
    GuaranteeCircle,
    RelatedPartyGroup,
    RingKind,
    RiskRing,
    party_rows,
)
from api.security.auth import Permission
from graph.errors import NotFoundError
from graph.model import NodeLabel, RiskLinkageKind

# Bounds of the on-request graph queries (beyond them the answer says it was cut).
MAX_EXPOSURE_EDGES = 50_000


@guarded_field(
    Permission.READ_RISK,
    "Guarantee circles up to maxLength customers, each with the run it was read from "
    "(`coverage`); NOT_COMPUTED beyond the max_length the stored run searched",
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
    run = await require_covered(
        info,
        "guarantee_circles",
        "max_length",
        0,
        asked=f"guaranteeCircles(maxLength: {max_length})",
        argument="maxLength",
        value=max_length,
    )
    found = await context.repositories.linkages.listed(
        RiskLinkageKind.GUARANTEE_CIRCLE.value,
        min_size=2,
        max_size=max_length,
        limit=size,
        order_by=order_by.value,
    )
    note_if_empty(info, run, found)
    return [GuaranteeCircle.from_record(info, record) for record in found]


@guarded_field(
    Permission.READ_RISK,
    "Shared-identifier rings or time-ordered fund-flow cycles, each with the run it was "
    "read from (`coverage`); NOT_COMPUTED for a minSize beyond the stored run's max_length, "
    "or below its min_size",
)
async def risk_rings(
    info: strawberry.Info, kind: RingKind, min_size: int = 2, first: int | None = 50
) -> list[RiskRing] | None:
    context = context_value(info)
    size = context.page_size(first)
    asked = f"riskRings(kind: {kind.value}, minSize: {min_size})"
    if kind.linkage_kind is RiskLinkageKind.FUND_CYCLE:
        # cycles of minSize or more customers: none was searched above max_length
        run = await require_covered(
            info, "fund_cycles", "max_length", 0, asked=asked, argument="minSize", value=min_size
        )
    else:
        run = await require_covered(
            info,
            "identifier_rings",
            "min_size",
            2,
            asked=asked,
            argument="minSize",
            value=max(min_size, 2),  # no ring is smaller than two customers
            at_least=True,
        )
    found = await context.repositories.linkages.listed(
        kind.linkage_kind.value, min_size=min_size, max_size=1_000_000, limit=size
    )
    note_if_empty(info, run, found)
    return [RiskRing.from_record(info, record) for record in found]


@guarded_field(
    Permission.READ_RISK,
    "Guarantee exposure within `hops`, decayed per hop; by default OUT (whom "
    "the customer guarantees, onwards), as the stored exposure score is computed",
)
async def exposure(
    info: strawberry.Info,
    customer_id: strawberry.ID,
    hops: int = 2,
    decay: float = 0.5,
    direction: ExposureDirection = ExposureDirection.OUT,
    as_of: Annotated[
        date | None,
        strawberry.argument(description="count guarantees in force on this date (today)"),
    ] = None,
) -> Exposure | None:
    context = context_value(info)
    check_range("hops", hops, 1, 4)
    if not 0.0 <= decay <= 1.0:
        raise ClientError(f"decay must be between 0 and 1, got {decay}")
    day = today() if as_of is None else as_of
    center = await require_customer(info, str(customer_id))
    links = await context.repositories.ties.guarantees_around(
        str(customer_id), hops=hops, limit=MAX_EXPOSURE_EDGES, as_of=day
    )
    result = await exposure_of(
        str(customer_id), [x.edge for x in links], hops=hops, decay=decay, direction=direction.value
    )
    parties = sorted(result.parties, key=lambda p: (p.hop, -p.weighted_amount, p.node_id))
    return Exposure(
        customer=center,
        hops=hops,
        decay=decay,
        direction=direction,
        as_of=day,
        total=amount(info, result.total),
        by_hop=[amount(info, v) for v in result.by_hop],
        party_count=len(parties),
        truncated=len(links) >= MAX_EXPOSURE_EDGES,
        party_rows=party_rows(str(customer_id), parties, links, direction.value),
    )


@guarded_field(Permission.READ_RISK, "The related-party (control) group a customer belongs to")
async def related_party_group(
    info: strawberry.Info, customer_id: strawberry.ID
) -> RelatedPartyGroup | None:
    await require(info, NodeLabel.CUSTOMER, str(customer_id))
    found = await context_value(info).repositories.linkages.control_group_of(str(customer_id))
    await known_if_empty(info, "control_groups", found)
    return None if found is None else RelatedPartyGroup.from_record(info, found)


@guarded_field(Permission.READ_RISK, "Related-party (control) groups, most at stake first")
async def related_party_groups(
    info: strawberry.Info,
    first: int | None = 50,
    order_by: GroupOrder = GroupOrder.TOTAL_EXPOSURE,
) -> list[RelatedPartyGroup] | None:
    context = context_value(info)
    found = await context.repositories.linkages.control_groups(
        context.page_size(first), order_by.value
    )
    await known_if_empty(info, "control_groups", found)
    return [RelatedPartyGroup.from_record(info, record) for record in found]


@guarded_field(
    Permission.READ_RISK,
    "Defaulted borrowers (defaultedAt set), in id order: risk only",
)
async def defaulted_borrowers(
    info: strawberry.Info, first: int | None = 50, after: str | None = None
) -> CustomerConnection | None:
    context = context_value(info)
    size = context.page_size(first)
    ids = await context.repositories.customers.defaulted(
        after=decode_cursor("customer", after) or "", limit=size + 1
    )
    return await customer_connection(info, ids, size)


RiskLinkage = Annotated[
    GuaranteeCircle | RiskRing | RelatedPartyGroup,
    strawberry.union(
        "RiskLinkage",
        description="A stored risk linkage: a guarantee circle, a ring (identifier ring or "
        "fund cycle) or a related-party group",
    ),
]


@guarded_field(
    Permission.READ_RISK,
    "One risk linkage by its id (`Customer.riskLinkages.linkageId`): risk only",
)
async def risk_linkage(info: strawberry.Info, id: strawberry.ID) -> RiskLinkage | None:
    found = await context_value(info).repositories.linkages.by_id(str(id))
    if found is None:
        raise NotFoundError(NodeLabel.RISK_LINKAGE.value, str(id))
    kind = RiskLinkageKind(found.kind)
    if kind is RiskLinkageKind.GUARANTEE_CIRCLE:
        return GuaranteeCircle.from_record(info, found)
    if kind is RiskLinkageKind.CONTROL_GROUP:
        return RelatedPartyGroup.from_record(info, found)
    return RiskRing.from_record(info, found)
