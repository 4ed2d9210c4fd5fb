"""Types of risk: linkages with their members, exposure, related-party groups."""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry

from api.graphql.common.types import (
    Customer,
    Money,
    amount,
    load_customer,
    money,
    with_customers,
)
from api.graphql.context import context_value
from graph.model import RiskLinkageKind
from graph.read_models import LinkageMember as LinkageMemberRecord
from graph.read_models import LinkageRecord


@strawberry.enum
class RingKind(Enum):
    SHARED_IDENTIFIER = RiskLinkageKind.IDENTIFIER_RING.value
    FUND_FLOW = RiskLinkageKind.FUND_CYCLE.value


@strawberry.enum(description="how guarantee circles are ordered (largest first)")
class CircleOrder(Enum):
    SIZE = "size"
    AMOUNT = "amount"


@strawberry.enum(description="how related-party groups are ordered (largest first)")
class GroupOrder(Enum):
    TOTAL_EXPOSURE = "total_exposure"
    LOAN_BALANCE = "loan_balance"
    GUARANTEES_OUT = "guarantees_out"
    SIZE = "size"


@strawberry.enum
class ExposureDirection(Enum):
    OUT = "out"  # whom this customer guarantees (and onwards)
    IN = "in"  # who guarantees this customer (who loses if they default)
    BOTH = "both"


@strawberry.type
class LinkageMember:
    position: int | None
    role: str | None
    customer: Customer


async def member_page(
    info: strawberry.Info, members: list[LinkageMemberRecord], first: int | None
) -> list[LinkageMember]:
    """The first ``first`` members of a linkage (in position order), customers batched."""
    page = members[: context_value(info).page_size(first, default=100)]
    return [
        LinkageMember(position=m.position, role=m.role, customer=customer)
        for m, customer in await with_customers(info, page, lambda m: m.customer_id)
    ]


@strawberry.type
class GuaranteeCircle:
    id: strawberry.ID
    kind: str = strawberry.field(description="MUTUAL (two customers) or CIRCLE")
    length: int
    total_amount: Money | None = strawberry.field(description="the sum of the circle's guarantees")
    run_id: str | None
    linkage: strawberry.Private[LinkageRecord]

    @classmethod
    def from_record(cls, info: strawberry.Info, record: LinkageRecord) -> GuaranteeCircle:
        return cls(
            id=strawberry.ID(record.linkage_id),
            kind=str(record.subtype),
            length=record.size,
            total_amount=money(info, record.amount_minor),
            run_id=record.run_id,
            linkage=record,
        )

    @strawberry.field(description="in guarantee order")
    async def members(self, info: strawberry.Info, first: int | None = 10) -> list[LinkageMember]:
        return await member_page(info, self.linkage.members, first)


@strawberry.type
class RiskRing:
    id: strawberry.ID
    kind: RingKind
    size: int
    score: float | None = strawberry.field(
        description="SHARED_IDENTIFIER: the mean number of identifier-sharing links per member "
        "(1: two customers on one phone; 9: ten on one device); FUND_FLOW: null"
    )
    shared_kinds: list[str] = strawberry.field(
        description="SHARED_IDENTIFIER: which identifier kinds the members share (PHONE, "
        "DEVICE, ADDRESS, EMAIL); FUND_FLOW: empty"
    )
    identifier_count: int | None = strawberry.field(
        description="SHARED_IDENTIFIER: how many shared identifiers; FUND_FLOW: null"
    )
    amount: Money | None = strawberry.field(
        description="FUND_FLOW: the sum of the cycle's transfers; SHARED_IDENTIFIER: null"
    )
    min_amount: Money | None = strawberry.field(
        description="FUND_FLOW: the most that can have gone all the way round (the smallest "
        "transfer); SHARED_IDENTIFIER: null"
    )
    run_id: str | None
    linkage: strawberry.Private[LinkageRecord]

    @classmethod
    def from_record(cls, info: strawberry.Info, record: LinkageRecord) -> RiskRing:
        return cls(
            id=strawberry.ID(record.linkage_id),
            kind=RingKind(record.kind),
            size=record.size,
            score=record.score,
            shared_kinds=list(record.shared_kinds),
            identifier_count=record.identifier_count,
            amount=money(info, record.amount_minor),
            min_amount=money(info, record.min_amount_minor),
            run_id=record.run_id,
            linkage=record,
        )

    @strawberry.field(description="members in position order; `size` says how many in all")
    async def members(self, info: strawberry.Info, first: int | None = 100) -> list[LinkageMember]:
        return await member_page(info, self.linkage.members, first)


@strawberry.type
class ExposedParty:
    hop: int
    amount: Money = strawberry.field(description="the guarantees reaching this party")
    weighted_amount: Money = strawberry.field(description="amount × decay^(hop-1)")
    customer: Customer


@strawberry.type
class Exposure:
    customer: Customer
    hops: int
    decay: float
    direction: ExposureDirection
    total: Money
    by_hop: list[Money]
    party_count: int
    truncated: bool = strawberry.field(
        description="the guarantees around were more than one request reads; totals are partial"
    )
    party_rows: strawberry.Private[list[Any]]

    @strawberry.field(description="nearest first, then by weighted amount")
    async def parties(self, info: strawberry.Info, first: int | None = 100) -> list[ExposedParty]:
        page = self.party_rows[: context_value(info).page_size(first, default=100)]
        found = await with_customers(info, page, lambda p: p.node_id)
        return [
            ExposedParty(
                hop=p.hop,
                amount=amount(info, p.amount),
                weighted_amount=amount(info, p.weighted_amount),
                customer=customer,
            )
            for p, customer in found
        ]


@strawberry.type
class Shareholding:
    holder_id: strawberry.ID
    company_id: strawberry.ID
    pct: float


@strawberry.type(description="A related-party (control) group: a controller and what it controls")
class RelatedPartyGroup:
    id: strawberry.ID
    size: int
    guarantees_out: Money | None = strawberry.field(
        description="guarantees the members give for borrowers outside the group"
    )
    run_id: str | None
    linkage: strawberry.Private[LinkageRecord]

    @classmethod
    def from_record(cls, info: strawberry.Info, record: LinkageRecord) -> RelatedPartyGroup:
        return cls(
            id=strawberry.ID(record.linkage_id),
            size=len(record.members),
            guarantees_out=money(info, record.guarantees_out_minor),
            run_id=record.run_id,
            linkage=record,
        )

    def _audited(self, info: strawberry.Info, minor: int | None, field_name: str) -> Money | None:
        # a sum of the members' holding balances (with one borrowing member, that member's
        # balance): audited for every member, as reading the balances themselves is
        if minor is not None:
            audit = context_value(info).audit
            for member in self.linkage.members:
                audit.record(member.customer_id, field_name)
        return money(info, minor)

    @strawberry.field(description="the members' outstanding LOAN-category balances (audited)")
    def loan_balance(self, info: strawberry.Info) -> Money | None:
        return self._audited(info, self.linkage.loan_balance_minor, "group_loan_balance")

    @strawberry.field(
        description="loanBalance + guaranteesOut: what the bank has at stake on the group "
        "(audited, as loanBalance)"
    )
    def total_exposure(self, info: strawberry.Info) -> Money | None:
        return self._audited(info, self.linkage.total_exposure_minor, "group_total_exposure")

    @strawberry.field(description="who controls the group (position 0)")
    async def controller(self, info: strawberry.Info) -> Customer | None:
        controller_id = next(
            (m.customer_id for m in self.linkage.members if m.role == "CONTROLLER"), None
        )
        return None if controller_id is None else await load_customer(info, controller_id)

    @strawberry.field(description="shareholdings between the members")
    async def shareholdings(self, info: strawberry.Info) -> list[Shareholding]:
        found = await context_value(info).loaders.group_shareholdings.load(str(self.id))
        return [
            Shareholding(
                holder_id=strawberry.ID(h.holder_id),
                company_id=strawberry.ID(h.company_id),
                pct=h.pct,
            )
            for h in found
        ]

    @strawberry.field(description="the controller first, then the controlled companies")
    async def members(self, info: strawberry.Info, first: int | None = 100) -> list[LinkageMember]:
        return await member_page(info, self.linkage.members, first)
