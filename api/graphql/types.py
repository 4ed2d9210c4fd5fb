"""The GraphQL types. Customers resolve their related data through the request's DataLoaders;
PII fields come back masked unless the caller may see them, and say which they are."""

from __future__ import annotations

import base64
import json
import unicodedata
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import strawberry
from strawberry.scalars import JSON

from algorithms.registry import REGISTRY, Engine
from api.graphql.context import context_value
from api.graphql.errors import ClientError
from api.security.auth import Permission
from api.security.limits import MAX_ID_LENGTH
from api.security.masking import (
    amount_band,
    mask_email,
    mask_id_number,
    mask_name,
    mask_phone,
)
from api.security.requests import shown
from graph.errors import NotFoundError
from graph.model import LifecycleStage, NodeLabel, TieKind, Tier
from graph.money import to_decimal
from graph.repositories.views import MEMBER_KEY_SEPARATOR, LinkageRow, Row

# --- enums (the only way a choice reaches Cypher) -------------------------------------------
# The domain's enums become GraphQL enums of the same values.
strawberry.enum(TieKind, name="TieType", description="kinds of social tie")
strawberry.enum(Tier, name="Tier")
strawberry.enum(LifecycleStage, name="LifecycleStage")
strawberry.enum(Engine, name="Engine")


@strawberry.enum
class CommunityAlgorithm(Enum):
    WCC = "wcc"
    LOUVAIN = "louvain"
    LEIDEN = "leiden"
    LABEL_PROPAGATION = "label_propagation"

    @property
    def customer_property(self) -> str:
        return f"community_{self.value}"


@strawberry.enum
class InfluenceMetric(Enum):
    PAGERANK = "score_pagerank"
    DEGREE = "score_degree"
    BETWEENNESS = "score_betweenness"
    PERSONALIZED_PAGERANK = "score_personalized_pagerank"
    REFERRAL_INFLUENCE = "score_referral_influence"
    NETWORK_VALUE = "score_network_value"
    EXPOSURE = "score_exposure_minor"


@strawberry.enum
class RingKind(Enum):
    SHARED_IDENTIFIER = "IDENTIFIER_RING"
    FUND_FLOW = "FUND_CYCLE"


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


# every registered algorithm, by name (runAlgorithm takes nothing else)
_ALGORITHM_NAMES: Any = Enum(  # type: ignore[misc]  # members come from the registry
    "AlgorithmName", {name.upper(): name for name in REGISTRY}
)
AlgorithmName: Any = strawberry.enum(_ALGORITHM_NAMES, name="AlgorithmName")


# --- cursors -----------------------------------------------------------------------------
def encode_cursor(kind: str, value: str | int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{value}".encode()).decode()


def decode_cursor(kind: str, cursor: str | None) -> str | None:
    """The value inside a cursor of ``kind``; a cursor the API cannot have issued (not
    base64 of ``kind:value``, a value longer than an id or holding control characters, which
    no id holds) is a ``BAD_REQUEST``."""
    if cursor is None:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        raise ClientError(f"after: {shown(cursor)!r} is not a cursor this API issued") from None
    prefix, _, value = text.partition(":")
    if prefix != kind or not value:
        raise ClientError(f"after: {shown(cursor)!r} is not a {kind} cursor")
    if len(value) > MAX_ID_LENGTH or any(unicodedata.category(c)[0] == "C" for c in value):
        raise ClientError(f"after: {shown(cursor)!r} is not a {kind} cursor this API issued")
    return value


def community_key(community_id: str) -> tuple[CommunityAlgorithm, str]:
    """``louvain:C12`` → (LOUVAIN, ``C12``)."""
    algorithm, _, local_id = community_id.partition(":")
    try:
        return CommunityAlgorithm(algorithm), local_id
    except ValueError:
        raise ClientError(
            f"communityId {shown(community_id)!r} is not <algorithm>:<id>, e.g. louvain:C12"
        ) from None


# --- small value types -----------------------------------------------------------------
@strawberry.type(description="A PII value: masked unless you may see it, and saying which.")
class MaskedString:
    value: str | None
    masked: bool


@strawberry.type(description="An exact amount of money in the bank's one currency (CRKG_CURRENCY)")
class Money:
    amount: Decimal
    currency: str


@strawberry.type(
    description="A financial figure: exact when your role may read it (risk and admin; an RM "
    "for their own book), otherwise only the band it lies in, saying it is masked"
)
class MaskedMoney:
    amount: Decimal | None = strawberry.field(description="exact; null when masked")
    low: Decimal | None = strawberry.field(description="the band's lower bound, when masked")
    high: Decimal | None = strawberry.field(
        description="the band's upper bound (exclusive; null: open-ended), when masked"
    )
    currency: str
    masked: bool


@strawberry.type(description="A risk rating 1..5: withheld (null, masked) unless you may read it")
class MaskedRating:
    value: int | None
    masked: bool


@strawberry.type(
    description="A score computed from a financial figure: exact when your role may read that "
    "figure (risk and admin; an RM for their own book), otherwise withheld (null, masked)"
)
class MaskedScore:
    value: float | None
    masked: bool


def money(info: strawberry.Info, minor: Any) -> Money | None:
    """Stored integer minor units as an exact amount (None stays None)."""
    if minor is None:
        return None
    return Money(amount=to_decimal(int(minor)), currency=context_value(info).settings.currency)


def _masked_money(info: strawberry.Info, minor: Any, *, exact: bool) -> MaskedMoney | None:
    if minor is None:
        return None
    amount = to_decimal(int(minor))
    currency = context_value(info).settings.currency
    if exact:
        return MaskedMoney(amount=amount, low=None, high=None, currency=currency, masked=False)
    low, high = amount_band(amount)
    return MaskedMoney(amount=None, low=low, high=high, currency=currency, masked=True)


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Principal:
    subject: str
    role: str
    rm_id: strawberry.ID | None
    permissions: list[str]


@strawberry.type
class RelationshipManager:
    id: strawberry.ID
    name: str
    branch_id: str | None


@strawberry.type
class Holding:
    product_id: strawberry.ID
    name: str
    category: str
    since: date | None
    balance: MaskedMoney | None
    status: str | None


@strawberry.type
class Participation:
    scenario_id: strawberry.ID
    name: str
    kind: str
    role: str | None
    since: date | None
    activity: float | None


@strawberry.type
class Scores:
    pagerank: float | None
    degree: float | None
    betweenness: float | None
    personalized_pagerank: float | None
    referral_influence: float | None
    exposure_minor: strawberry.Private[int | None]
    row: strawberry.Private[Row]

    @strawberry.field(
        description="value × percentile rank of AUM + (1 − value) × percentile rank of "
        "PageRank: the AUM rank can be solved for, so it is a financial figure, exact only "
        "where aum is (audited like it) and withheld elsewhere"
    )
    def network_value(self, info: strawberry.Info) -> MaskedScore | None:
        value = self.row.get("score_network_value")
        if value is None:
            return None
        if _financials_exact(info, self.row, "network_value"):
            return MaskedScore(value=float(value), masked=False)
        return MaskedScore(value=None, masked=True)

    @strawberry.field(
        description="guarantee exposure within k hops, as the latest exposure run stored it "
        "(its hops, decay and direction are that run's parameters; risk roles only)"
    )
    def exposure(self, info: strawberry.Info) -> Money | None:
        context_value(info).principal.require(Permission.READ_RISK)
        return money(info, self.exposure_minor)


@strawberry.type
class IdentifierView:
    kind: str
    key: str = strawberry.field(description="kind + keyed hash; raw values are never stored")
    shared_by: int = strawberry.field(description="customers using this identifier")


@strawberry.type
class LinkageMembership:
    linkage_id: strawberry.ID
    kind: str
    subtype: str | None
    size: int
    role: str | None


@strawberry.type
class Contribution:
    """A neighbour's share of a customer's PageRank (score × tie strength / its total)."""

    share: float
    customer_id: strawberry.ID

    @strawberry.field
    async def customer(self, info: strawberry.Info) -> Customer | None:
        return await load_customer(info, str(self.customer_id))


@strawberry.type
class CommunityMembership:
    algorithm: CommunityAlgorithm
    community_id: strawberry.ID

    @strawberry.field
    async def community(self, info: strawberry.Info) -> Community | None:
        row = await context_value(info).loaders.community.load(str(self.community_id))
        return None if row is None else Community.from_row(row)


# --- the customer ---------------------------------------------------------------------
def _masked(info: strawberry.Info, row: Row, field_name: str, masker: Any) -> MaskedString:
    raw = row.get(field_name)
    raw_text = None if raw is None else str(raw)
    context = context_value(info)
    if context.pii_visible(row):
        if raw_text is not None:
            context.audit.record(str(row["customer_id"]), field_name)
        return MaskedString(value=raw_text, masked=False)
    masked = masker(raw_text)
    return MaskedString(value=masked.value, masked=masked.masked)


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _financials_exact(info: strawberry.Info, row: Row, field_name: str) -> bool:
    """Whether this caller reads the customer's exact figures (audited like unmasked PII)."""
    context = context_value(info)
    rm_id = row.get("rm_id")
    exact = context.principal.may_read_financials([rm_id] if rm_id else [])
    if exact:
        context.audit.record(str(row["customer_id"]), field_name)
    return exact


@strawberry.type(description="A customer's 360 view; PII masked by role (see `masked`).")
class Customer:
    row: strawberry.Private[Row]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.row["customer_id"]))

    @strawberry.field
    def kind(self) -> str:
        return str(self.row.get("kind"))

    @strawberry.field
    def name(self, info: strawberry.Info) -> MaskedString:
        return _masked(info, self.row, "name", mask_name)

    @strawberry.field
    def phone(self, info: strawberry.Info) -> MaskedString:
        return _masked(info, self.row, "phone", mask_phone)

    @strawberry.field
    def id_number(self, info: strawberry.Info) -> MaskedString:
        return _masked(info, self.row, "id_number", mask_id_number)

    @strawberry.field
    def email(self, info: strawberry.Info) -> MaskedString:
        return _masked(info, self.row, "email", mask_email)

    @strawberry.field
    def city(self) -> str | None:
        return self.row.get("city")

    @strawberry.field
    def branch_id(self) -> str | None:
        return self.row.get("branch_id")

    @strawberry.field(description="assets under management: exact or banded by role")
    def aum(self, info: strawberry.Info) -> MaskedMoney | None:
        minor = self.row.get("aum_minor")
        if minor is None:
            return None
        return _masked_money(info, minor, exact=_financials_exact(info, self.row, "aum"))

    @strawberry.field(description="1 (lowest) .. 5: withheld unless you may read it")
    def risk_rating(self, info: strawberry.Info) -> MaskedRating | None:
        rating = self.row.get("risk_rating")
        if rating is None:
            return None
        if _financials_exact(info, self.row, "risk_rating"):
            return MaskedRating(value=int(rating), masked=False)
        return MaskedRating(value=None, masked=True)

    @strawberry.field
    def consent_marketing(self) -> bool:
        return bool(self.row.get("consent_marketing"))

    @strawberry.field
    def onboarded_at(self) -> date | None:
        return self.row.get("onboarded_at")

    @strawberry.field
    def last_active_at(self) -> date | None:
        return self.row.get("last_active_at")

    @strawberry.field
    def tier(self) -> Tier | None:
        value = self.row.get("tier")
        return None if value is None else Tier(value)

    @strawberry.field
    def lifecycle_stage(self) -> LifecycleStage | None:
        value = self.row.get("lifecycle_stage")
        return None if value is None else LifecycleStage(value)

    @strawberry.field
    def managed_by_you(self, info: strawberry.Info) -> bool:
        rm_id = context_value(info).principal.rm_id
        return rm_id is not None and self.row.get("rm_id") == rm_id

    @strawberry.field
    async def relationship_manager(self, info: strawberry.Info) -> RelationshipManager | None:
        rm_id = self.row.get("rm_id")
        if rm_id is None:
            return None
        row = await context_value(info).loaders.manager.load(str(rm_id))
        if row is None:
            return None
        return RelationshipManager(
            id=strawberry.ID(row["rm_id"]), name=row["name"], branch_id=row.get("branch_id")
        )

    @strawberry.field
    async def products(self, info: strawberry.Info) -> list[Holding] | None:
        rows = await context_value(info).loaders.holdings.load(str(self.row["customer_id"]))
        exact = bool(rows) and _financials_exact(info, self.row, "balance")
        return [
            Holding(
                product_id=strawberry.ID(r["product_id"]),
                name=r["name"],
                category=r["category"],
                since=r.get("since"),
                balance=_masked_money(info, r.get("balance_minor"), exact=exact),
                status=r.get("status"),
            )
            for r in rows
        ]

    @strawberry.field
    async def scenarios(self, info: strawberry.Info) -> list[Participation] | None:
        rows = await context_value(info).loaders.scenarios.load(str(self.row["customer_id"]))
        return [
            Participation(
                scenario_id=strawberry.ID(r["scenario_id"]),
                name=r["name"],
                kind=r["kind"],
                role=r.get("role"),
                since=r.get("since"),
                activity=_float(r.get("activity")),
            )
            for r in rows
        ]

    @strawberry.field
    def communities(self) -> list[CommunityMembership] | None:
        return [
            CommunityMembership(
                algorithm=algorithm,
                community_id=strawberry.ID(f"{algorithm.value}:{self.row[prop]}"),
            )
            for algorithm in CommunityAlgorithm
            if (prop := algorithm.customer_property) in self.row
        ]

    @strawberry.field
    def scores(self) -> Scores:
        return Scores(
            pagerank=_float(self.row.get("score_pagerank")),
            degree=_float(self.row.get("score_degree")),
            betweenness=_float(self.row.get("score_betweenness")),
            personalized_pagerank=_float(self.row.get("score_personalized_pagerank")),
            referral_influence=_float(self.row.get("score_referral_influence")),
            exposure_minor=self.row.get("score_exposure_minor"),
            row=self.row,
        )

    @strawberry.field(description="The neighbours contributing most to this customer's PageRank")
    async def influence_explanation(self, info: strawberry.Info) -> list[Contribution] | None:
        rows = await context_value(info).loaders.contributions.load(str(self.row["customer_id"]))
        return [
            Contribution(share=float(r["contribution"]), customer_id=strawberry.ID(r["id"]))
            for r in rows
        ]

    @strawberry.field(description="Phones, devices, addresses, e-mails (keyed hashes): risk only")
    async def identifiers(self, info: strawberry.Info) -> list[IdentifierView] | None:
        context = context_value(info)
        context.principal.require(Permission.READ_IDENTIFIERS)
        rows = await context.loaders.identifiers.load(str(self.row["customer_id"]))
        return [
            IdentifierView(kind=r["kind"], key=r["key"], shared_by=r["shared_by"]) for r in rows
        ]

    @strawberry.field(description="Risk linkages this customer belongs to: risk only")
    async def risk_linkages(self, info: strawberry.Info) -> list[LinkageMembership] | None:
        context = context_value(info)
        context.principal.require(Permission.READ_RISK)
        rows = await context.loaders.linkages.load(str(self.row["customer_id"]))
        return [
            LinkageMembership(
                linkage_id=strawberry.ID(r["linkage_id"]),
                kind=r["kind"],
                subtype=r.get("subtype"),
                size=int(r["size"]),
                role=r.get("role"),
            )
            for r in rows
        ]


async def load_customer(info: strawberry.Info, customer_id: str) -> Customer | None:
    row = await context_value(info).loaders.customer.load(customer_id)
    return None if row is None else Customer(row=row)


async def load_customers(info: strawberry.Info, ids: list[str]) -> list[Customer]:
    rows = await context_value(info).loaders.customer.load_many(ids)
    return [Customer(row=row) for row in rows if row is not None]


@strawberry.type
class CustomerEdge:
    cursor: str
    node: Customer


@strawberry.type
class CustomerConnection:
    edges: list[CustomerEdge]
    page_info: PageInfo


async def customer_connection(
    info: strawberry.Info, ids: list[str], page_size: int
) -> CustomerConnection:
    """``ids`` holds one more than the page when there is a next page."""
    page = ids[:page_size]
    customers = {c.row["customer_id"]: c for c in await load_customers(info, page)}
    edges = [
        CustomerEdge(cursor=encode_cursor("customer", i), node=customers[i])
        for i in page
        if i in customers
    ]
    return CustomerConnection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=len(ids) > page_size,
            # from the page, not the customers that loaded: a customer deleted between the
            # two reads must not end the pagination
            end_cursor=encode_cursor("customer", page[-1]) if page else None,
        ),
    )


# --- communities -------------------------------------------------------------------------
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
        description="{product_id: share of members holding it}, every product (zeros included)"
    )
    stale: bool = strawberry.field(
        description="a load changed customers, holdings or participation since the profile "
        "was computed; the next segmentation or community run refreshes it"
    )
    stale_reason: str | None
    dominant_scenarios: list[ScenarioShare]
    central_member_ids: list[strawberry.ID]
    run_id: str | None
    local_id: strawberry.Private[str]

    @classmethod
    def from_row(cls, row: Row) -> Community:
        return cls(
            id=strawberry.ID(row["community_id"]),
            algorithm=row["algorithm"],
            size=int(row["size"]),
            internal_ties=row.get("internal_ties"),
            density=_float(row.get("density")),
            tier_mix=row.get("tier_mix"),
            stale=bool(row.get("stale")),
            stale_reason=row.get("stale_reason"),
            product_penetration=row.get("product_penetration"),
            dominant_scenarios=[
                ScenarioShare(scenario_id=strawberry.ID(s), members=int(n))
                for s, n in (row.get("dominant_scenarios") or [])
            ],
            central_member_ids=[strawberry.ID(i) for i in row.get("central_members") or []],
            run_id=row.get("run_id"),
            local_id=str(row["local_id"]),
        )

    @strawberry.field(description="the share of members holding this product (any product)")
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

    @strawberry.field
    async def central_members(self, info: strawberry.Info) -> list[Customer]:
        return await load_customers(info, [str(i) for i in self.central_member_ids])

    @strawberry.field
    async def members(
        self, info: strawberry.Info, first: int | None = 50, after: str | None = None
    ) -> CustomerConnection:
        context = context_value(info)
        size = context.page_size(first)
        algorithm = CommunityAlgorithm(self.algorithm)
        key = MEMBER_KEY_SEPARATOR.join(
            (
                algorithm.customer_property,
                self.local_id,
                decode_cursor("customer", after) or "",
                str(size + 1),
            )
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


# --- neighbourhoods and paths ------------------------------------------------------------
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
    strength: float = strawberry.field(description="product of the tie strengths along the path")
    cost: float = strawberry.field(description="-log(strength): lower is warmer")

    @strawberry.field
    async def customers(self, info: strawberry.Info) -> list[Customer]:
        return await load_customers(info, [str(i) for i in self.customer_ids])


# --- influence and referral --------------------------------------------------------------
@strawberry.input
class ScopeInput:
    scenario_id: strawberry.ID | None = None
    community_id: strawberry.ID | None = None
    branch_id: str | None = None


@strawberry.type
class InfluenceScore:
    rank: int
    score: float
    metric: InfluenceMetric
    run_id: str | None
    customer: Customer
    flags: strawberry.Private[list[str]]

    @strawberry.field(
        description="why this customer is risk-flagged (RISK_RATING, RISK_LINKAGE, "
        "NEAR_DEFAULT); empty when not. Risk roles only: for everyone else flagged customers "
        "are left out of the list"
    )
    def risk_flags(self, info: strawberry.Info) -> list[str] | None:
        context_value(info).principal.require(Permission.READ_RISK)
        return self.flags


@strawberry.type
class ReferralReasons:
    adamic_adar: float | None
    common_neighbors: float | None
    resource_allocation: float | None
    adoption_rate: float | None = strawberry.field(description="share of their ties holding it")
    tie_strength: float | None = strawberry.field(description="strongest tie to a holder")
    introducer_influence: float | None


@strawberry.type
class Introducer:
    score: float
    common_neighbors: int
    customer_id: strawberry.ID
    path_ids: list[strawberry.ID] = strawberry.field(description="target … introducer")

    @strawberry.field
    async def customer(self, info: strawberry.Info) -> Customer | None:
        return await load_customer(info, str(self.customer_id))


@strawberry.type
class ReferralTarget:
    rank: int
    score: float
    reasons: ReferralReasons
    introducers: list[Introducer]
    run_id: str | None
    customer: Customer


# --- risk --------------------------------------------------------------------------------
@strawberry.type
class LinkageMember:
    position: int | None
    role: str | None
    customer: Customer


async def member_page(
    info: strawberry.Info, members: list[Row], first: int | None
) -> list[LinkageMember]:
    """The first ``first`` members of a linkage (in position order), customers batched."""
    page = members[: context_value(info).page_size(first, default=100)]
    customers = {
        str(c.row["customer_id"]): c for c in await load_customers(info, [m["id"] for m in page])
    }
    return [
        LinkageMember(position=m.get("position"), role=m.get("role"), customer=customers[m["id"]])
        for m in page
        if m["id"] in customers
    ]


@strawberry.type
class GuaranteeCircle:
    id: strawberry.ID
    kind: str = strawberry.field(description="MUTUAL (two customers) or CIRCLE")
    length: int
    total_amount: Money | None = strawberry.field(description="the sum of the circle's guarantees")
    run_id: str | None
    member_rows: strawberry.Private[list[Row]]

    @strawberry.field(description="in guarantee order")
    async def members(self, info: strawberry.Info, first: int | None = 10) -> list[LinkageMember]:
        return await member_page(info, self.member_rows, first)


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
    member_rows: strawberry.Private[list[Row]]

    @strawberry.field(description="members in position order; `size` says how many in all")
    async def members(self, info: strawberry.Info, first: int | None = 100) -> list[LinkageMember]:
        return await member_page(info, self.member_rows, first)


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
        currency = context_value(info).settings.currency
        customers = {
            str(c.row["customer_id"]): c
            for c in await load_customers(info, [p.node_id for p in page])
        }
        return [
            ExposedParty(
                hop=p.hop,
                amount=Money(amount=to_decimal(p.amount), currency=currency),
                weighted_amount=Money(amount=to_decimal(p.weighted_amount), currency=currency),
                customer=customers[p.node_id],
            )
            for p in page
            if p.node_id in customers
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
    member_rows: strawberry.Private[list[Row]]
    loan_balance_minor: strawberry.Private[int | None]
    total_exposure_minor: strawberry.Private[int | None]

    @classmethod
    def from_linkage(cls, info: strawberry.Info, row: LinkageRow) -> RelatedPartyGroup:
        properties = row.properties
        return cls(
            id=strawberry.ID(properties["linkage_id"]),
            size=len(row.members),
            guarantees_out=money(info, properties.get("guarantees_out_minor")),
            run_id=properties.get("run_id"),
            member_rows=row.members,
            loan_balance_minor=properties.get("loan_balance_minor"),
            total_exposure_minor=properties.get("total_exposure_minor"),
        )

    def _audited(self, info: strawberry.Info, minor: int | None, field_name: str) -> Money | None:
        # a sum of the members' holding balances (with one borrowing member, that member's
        # balance): audited for every member, as reading the balances themselves is
        if minor is not None:
            audit = context_value(info).audit
            for member in self.member_rows:
                audit.record(str(member["id"]), field_name)
        return money(info, minor)

    @strawberry.field(description="the members' outstanding LOAN-category balances (audited)")
    def loan_balance(self, info: strawberry.Info) -> Money | None:
        return self._audited(info, self.loan_balance_minor, "group_loan_balance")

    @strawberry.field(
        description="loanBalance + guaranteesOut: what the bank has at stake on the group "
        "(audited, as loanBalance)"
    )
    def total_exposure(self, info: strawberry.Info) -> Money | None:
        return self._audited(info, self.total_exposure_minor, "group_total_exposure")

    @strawberry.field(description="who controls the group (position 0)")
    async def controller(self, info: strawberry.Info) -> Customer | None:
        controller_id = next(
            (m["id"] for m in self.member_rows if m.get("role") == "CONTROLLER"), None
        )
        return None if controller_id is None else await load_customer(info, controller_id)

    @strawberry.field(description="shareholdings between the members")
    async def shareholdings(self, info: strawberry.Info) -> list[Shareholding]:
        rows = await context_value(info).loaders.group_shareholdings.load(str(self.id))
        return [
            Shareholding(
                holder_id=strawberry.ID(h["src"]),
                company_id=strawberry.ID(h["dst"]),
                pct=float(h["pct"]),
            )
            for h in rows
        ]

    @strawberry.field(description="the controller first, then the controlled companies")
    async def members(self, info: strawberry.Info, first: int | None = 100) -> list[LinkageMember]:
        return await member_page(info, self.member_rows, first)


# --- runs and jobs -----------------------------------------------------------------------
def _json(text: Any) -> Any:
    return json.loads(text) if isinstance(text, str) and text else None


@strawberry.type
class AlgorithmRun:
    run_id: strawberry.ID
    name: str
    engine: str | None
    status: str | None
    progress: float | None
    parameters: JSON | None
    scope: JSON | None
    summary: JSON | None
    node_count: int | None
    relationship_count: int | None
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def from_row(cls, row: Row) -> AlgorithmRun:
        return cls(
            run_id=strawberry.ID(row["run_id"]),
            name=row.get("name", ""),
            engine=row.get("engine"),
            status=row.get("status"),
            progress=_float(row.get("progress")),
            parameters=_json(row.get("parameters_json")),
            scope=_json(row.get("scope_json")),
            summary=_json(row.get("summary_json")),
            node_count=row.get("node_count"),
            relationship_count=row.get("relationship_count"),
            started_at=row.get("started_at"),
            finished_at=row.get("finished_at"),
        )


@strawberry.type
class Job:
    id: strawberry.ID
    algorithm: str
    status: str
    engine: str
    parameters: JSON
    requested_by: str
    created_at: datetime
    finished_at: datetime | None
    error: str | None
    run_id: strawberry.ID | None

    @strawberry.field
    async def run(self, info: strawberry.Info) -> AlgorithmRun | None:
        if self.run_id is None:
            return None
        row = await context_value(info).views.algorithm_run(str(self.run_id))
        return None if row is None else AlgorithmRun.from_row(row)


# --- mutations ---------------------------------------------------------------------------
@strawberry.input(description="A customer row; the same columns and rules as customers.csv")
class CustomerInput:
    customer_id: strawberry.ID
    kind: str
    name: str
    city: str | None = None
    branch_id: str | None = None
    rm_id: str | None = None
    aum: Decimal | None = None
    risk_rating: int | None = None
    consent_marketing: bool | None = None
    onboarded_at: date | None = None
    last_active_at: date | None = None
    phone: str | None = None
    id_number: str | None = None
    email: str | None = None


@strawberry.input(description="A social tie; the same columns and rules as social.csv")
class TieInput:
    src_id: strawberry.ID
    dst_id: strawberry.ID
    kind: TieKind
    strength: float | None = None
    since: date | None = None


@strawberry.type
class RejectedRow:
    index: int = strawberry.field(description="position in the input list (0-based)")
    field: str | None
    reason: str
    message: str


@strawberry.type
class UpsertResult:
    load_run_id: str
    received: int
    loaded: int
    changed: int
    rejected: list[RejectedRow]
