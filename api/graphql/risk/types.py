"""Types of risk: linkages with their members, exposure, related-party groups."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import Enum

import strawberry

from algorithms.inproc.exposures import ExposedParty as ExposedPartyResult
from api.graphql.common.coverage import COVERAGE, RunCoverage, run_coverage
from api.graphql.common.types import Customer, load_customer, with_customers
from api.graphql.common.values import Money, amount, money
from api.graphql.context import context_value
from graph.model import RiskLinkageKind
from graph.read_models import GuaranteeLink as GuaranteeLinkRecord
from graph.read_models import LinkageMember as LinkageMemberRecord
from graph.read_models import LinkageRecord

AS_OF = (
    "only guarantees in force on this date count: started by then, and not ended before it "
    "(the run's as_of parameter)"
)


@strawberry.enum(description="the kinds of ring, named as `Customer.riskLinkages.kind` names them")
class RingKind(Enum):
    IDENTIFIER_RING = RiskLinkageKind.IDENTIFIER_RING.value
    FUND_CYCLE = RiskLinkageKind.FUND_CYCLE.value
    SHARED_IDENTIFIER = strawberry.enum_value(
        "SHARED_IDENTIFIER", deprecation_reason="use IDENTIFIER_RING (one name per kind)"
    )
    FUND_FLOW = strawberry.enum_value("FUND_FLOW", deprecation_reason="use FUND_CYCLE")

    @property
    def linkage_kind(self) -> RiskLinkageKind:
        """The stored kind (the deprecated spellings are aliases of the current ones)."""
        aliases = {"SHARED_IDENTIFIER": "IDENTIFIER_RING", "FUND_FLOW": "FUND_CYCLE"}
        return RiskLinkageKind(aliases.get(self.value, self.value))


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
    position: int | None = strawberry.field(
        description="order in the linkage: circles in guarantee order, cycles in payment "
        "order, groups the controller first"
    )
    role: str | None = strawberry.field(
        description="CONTROLLER or CONTROLLED in a related-party group; null in circles, rings "
        "and cycles, where every member plays the same part (position gives the order)"
    )
    customer: Customer


@strawberry.type(description="One transfer of a fund-flow cycle: who paid whom, how much, when")
class CycleTransfer:
    from_id: strawberry.ID
    to_id: strawberry.ID
    amount: Money
    at: datetime


async def member_page(
    info: strawberry.Info, members: list[LinkageMemberRecord], first: int | None
) -> list[LinkageMember]:
    """The first ``first`` members of a linkage (in position order), customers batched."""
    page = members[: context_value(info).page_size(first, default=100)]
    return [
        LinkageMember(position=m.position, role=m.role, customer=customer)
        for m, customer in await with_customers(info, page, lambda m: m.customer_id)
    ]


@strawberry.type(description="A guarantee: who backs whom, how much, and when it runs")
class GuaranteeLink:
    guarantor_id: strawberry.ID
    borrower_id: strawberry.ID
    amount: Money
    start: date | None
    end: date | None = strawberry.field(description="null: open, in force until released")

    @classmethod
    def from_record(cls, info: strawberry.Info, record: GuaranteeLinkRecord) -> GuaranteeLink:
        return cls(
            guarantor_id=strawberry.ID(record.guarantor_id),
            borrower_id=strawberry.ID(record.borrower_id),
            amount=amount(info, record.amount_minor),
            start=record.start,
            end=record.end,
        )


@strawberry.type
class GuaranteeCircle:
    id: strawberry.ID
    kind: str = strawberry.field(description="MUTUAL (two customers) or CIRCLE")
    length: int
    total_amount: Money | None = strawberry.field(description="the sum of the circle's guarantees")
    as_of: date | None = strawberry.field(description=AS_OF)
    run_id: str | None
    linkage: strawberry.Private[LinkageRecord]

    @classmethod
    def from_record(cls, info: strawberry.Info, record: LinkageRecord) -> GuaranteeCircle:
        return cls(
            id=strawberry.ID(record.linkage_id),
            kind=str(record.subtype),
            length=record.size,
            total_amount=money(info, record.amount_minor),
            as_of=record.as_of,
            run_id=record.run_id,
            linkage=record,
        )

    @strawberry.field(description="in guarantee order")
    async def members(self, info: strawberry.Info, first: int | None = 10) -> list[LinkageMember]:
        return await member_page(info, self.linkage.members, first)

    @strawberry.field(description=COVERAGE)
    async def coverage(self, info: strawberry.Info) -> RunCoverage | None:
        return await run_coverage(info, self.run_id)

    @strawberry.field(
        description="the circle's guarantees in guarantee order (member i backs member i+1, "
        "the last backs the first), with their start and end; at most `length`"
    )
    async def links(self, info: strawberry.Info) -> list[GuaranteeLink]:
        found = await context_value(info).loaders.circle_links.load(str(self.id))
        return [GuaranteeLink.from_record(info, link) for link in found]


@strawberry.type
class RiskRing:
    id: strawberry.ID
    kind: RingKind
    size: int
    score: float | None = strawberry.field(
        description="IDENTIFIER_RING: the mean number of identifier-sharing links per member "
        "(1: two customers on one phone; 9: ten on one device); FUND_CYCLE: null"
    )
    shared_kinds: list[str] = strawberry.field(
        description="IDENTIFIER_RING: which identifier kinds the members share (PHONE, "
        "DEVICE, ADDRESS, EMAIL); FUND_CYCLE: empty"
    )
    identifier_count: int | None = strawberry.field(
        description="IDENTIFIER_RING: how many shared identifiers; FUND_CYCLE: null"
    )
    amount: Money | None = strawberry.field(
        description="FUND_CYCLE: the sum of the cycle's transfers; IDENTIFIER_RING: null"
    )
    min_amount: Money | None = strawberry.field(
        description="FUND_CYCLE: the most that can have gone all the way round (the smallest "
        "transfer); IDENTIFIER_RING: null"
    )
    shared_keys: list[str] = strawberry.field(
        description="IDENTIFIER_RING: the shared identifiers' keys (kind and keyed hash, as "
        "`Customer.identifiers.key`; never the raw value); FUND_CYCLE: empty"
    )
    run_id: str | None
    linkage: strawberry.Private[LinkageRecord]

    @classmethod
    def from_record(cls, info: strawberry.Info, record: LinkageRecord) -> RiskRing:
        return cls(
            id=strawberry.ID(record.linkage_id),
            kind=RingKind(record.kind),  # the stored kind: never a deprecated alias
            size=record.size,
            score=record.score,
            shared_kinds=list(record.shared_kinds),
            identifier_count=record.identifier_count,
            amount=money(info, record.amount_minor),
            min_amount=money(info, record.min_amount_minor),
            shared_keys=list(record.shared_keys),
            run_id=record.run_id,
            linkage=record,
        )

    @strawberry.field(description="members in position order; `size` says how many in all")
    async def members(self, info: strawberry.Info, first: int | None = 100) -> list[LinkageMember]:
        return await member_page(info, self.linkage.members, first)

    @strawberry.field(description=COVERAGE)
    async def coverage(self, info: strawberry.Info) -> RunCoverage | None:
        return await run_coverage(info, self.run_id)

    @strawberry.field(
        description="FUND_CYCLE: its transfers hop by hop in time order (member i paid member "
        "i+1, the last paid the first); IDENTIFIER_RING: empty"
    )
    def transfers(self, info: strawberry.Info) -> list[CycleTransfer]:
        ids = [m.customer_id for m in self.linkage.members]
        hops = zip(
            ids,
            ids[1:] + ids[:1],
            self.linkage.transfer_amounts_minor,
            self.linkage.transfer_times,
            strict=False,  # a cycle stored before per-hop transfers were kept has none
        )
        return [
            CycleTransfer(
                from_id=strawberry.ID(payer),
                to_id=strawberry.ID(payee),
                amount=amount(info, minor),
                at=datetime.fromtimestamp(at, tz=UTC),
            )
            for payer, payee, minor, at in hops
        ]


@strawberry.type
class ExposedParty:
    hop: int
    amount: Money = strawberry.field(description="the guarantees reaching this party")
    weighted_amount: Money = strawberry.field(description="amount × decay^(hop-1)")
    guarantees: list[GuaranteeLink] = strawberry.field(
        description="the guarantees in force reaching this party from the previous hop, with "
        "their start and end"
    )
    customer: Customer


@dataclass(frozen=True)
class PartyRow:
    """One exposed party and the guarantees that reach it from the previous hop."""

    party: ExposedPartyResult
    links: list[GuaranteeLinkRecord]


def party_rows(
    customer_id: str,
    parties: list[ExposedPartyResult],
    links: list[GuaranteeLinkRecord],
    direction: str,
) -> list[PartyRow]:
    """Each party with the guarantees joining it to a party one hop nearer (``direction``
    as the exposure walked: out from guarantor to borrower, in the reverse, or both)."""
    hop_of = {customer_id: 0, **{p.node_id: p.hop for p in parties}}

    def reaches(link: GuaranteeLinkRecord, party: ExposedPartyResult) -> bool:
        nearer = party.hop - 1
        forward = link.borrower_id == party.node_id and hop_of.get(link.guarantor_id) == nearer
        backward = link.guarantor_id == party.node_id and hop_of.get(link.borrower_id) == nearer
        return {"out": forward, "in": backward}.get(direction, forward or backward)

    return [PartyRow(p, [x for x in links if reaches(x, p)]) for p in parties]


@strawberry.type
class Exposure:
    customer: Customer
    hops: int
    decay: float
    direction: ExposureDirection
    as_of: date = strawberry.field(
        description="only guarantees in force on this date count (the asOf argument)"
    )
    total: Money
    by_hop: list[Money]
    party_count: int
    truncated: bool = strawberry.field(
        description="the guarantees around were more than one request reads; totals are partial"
    )
    party_rows: strawberry.Private[list[PartyRow]]

    @strawberry.field(description="nearest first, then by weighted amount")
    async def parties(self, info: strawberry.Info, first: int | None = 100) -> list[ExposedParty]:
        page = self.party_rows[: context_value(info).page_size(first, default=100)]
        found = await with_customers(info, page, lambda row: row.party.node_id)
        return [
            ExposedParty(
                hop=row.party.hop,
                amount=amount(info, row.party.amount),
                weighted_amount=amount(info, row.party.weighted_amount),
                guarantees=[GuaranteeLink.from_record(info, x) for x in row.links],
                customer=customer,
            )
            for row, customer in found
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
        description="guarantees in force the members give for borrowers outside the group"
    )
    as_of: date | None = strawberry.field(description=AS_OF)
    run_id: str | None
    linkage: strawberry.Private[LinkageRecord]

    @classmethod
    def from_record(cls, info: strawberry.Info, record: LinkageRecord) -> RelatedPartyGroup:
        return cls(
            id=strawberry.ID(record.linkage_id),
            size=len(record.members),
            guarantees_out=money(info, record.guarantees_out_minor),
            as_of=record.as_of,
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

    @strawberry.field(description=COVERAGE)
    async def coverage(self, info: strawberry.Info) -> RunCoverage | None:
        return await run_coverage(info, self.run_id)
