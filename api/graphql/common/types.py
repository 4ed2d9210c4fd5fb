"""The customer 360 type (the value types it returns are in :mod:`api.graphql.common.values`).

A :class:`Customer` is built from a :class:`~graph.read_models.CustomerRecord` and resolves its
related data through the request's DataLoaders; PII fields come back masked unless the caller
may see them, and say which they are; financial figures are exact or banded by role. Every
unmasked value a response carries is recorded for the audit trail.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import fields
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import strawberry

from api.graphql.common.cursors import encode_cursor
from api.graphql.common.enums import CommunityAlgorithm, customer_property
from api.graphql.common.numbers import significant
from api.graphql.common.values import (
    MaskedMoney,
    MaskedRating,
    MaskedScore,
    MaskedString,
    Money,
    masked_money,
    money,
)
from api.graphql.context import context_value
from api.graphql.permissions import guarded_field
from api.security.auth import ForbiddenError, Permission
from api.security.masking import (
    Masked,
    mask_absent,
    mask_email,
    mask_id_number,
    mask_name,
    mask_phone,
)
from graph.model import LifecycleStage, Tier
from graph.read_models import CustomerRecord
from graph.results import ResultProperty

if TYPE_CHECKING:
    from api.graphql.network.types import Community

T = TypeVar("T")


def one_to_one(cls: type[T], record: Any) -> T:
    """The GraphQL type whose fields are those of the read model ``record``, one to one (an
    ``ID`` is its string): how Participation, IdentifierView and LinkageMembership are built."""
    return cls(**{f.name: getattr(record, f.name) for f in fields(record)})


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


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


@strawberry.type(description="Stored algorithm scores, ratios to 6 significant digits")
class Scores:
    pagerank: float | None
    degree: float | None = strawberry.field(
        description="ties at the customer (a count), or their total strength when the degree "
        "run was weighted"
    )
    betweenness: float | None
    personalized_pagerank: float | None
    referral_influence: int | None = strawberry.field(
        description="customers below this one in its cascade of converted referrals (a count)"
    )
    exposure_minor: strawberry.Private[int | None]
    record: strawberry.Private[CustomerRecord]

    @strawberry.field(
        description="value × percentile rank of AUM + (1 − value) × percentile rank of "
        "PageRank: the AUM rank can be solved for, so it is a financial figure, exact only "
        "where aum is (audited like it) and withheld elsewhere"
    )
    def network_value(self, info: strawberry.Info) -> MaskedScore | None:
        value = self.record.result(ResultProperty.SCORE_NETWORK_VALUE)
        if value is None:
            return None
        if _financials_exact(info, self.record, "network_value"):
            return MaskedScore(value=float(value), masked=False)
        return MaskedScore(value=None, masked=True)

    @guarded_field(
        Permission.READ_RISK,
        "guarantee exposure within k hops, as the latest exposure run stored it "
        "(its hops, decay and direction are that run's parameters; risk roles only)",
    )
    def exposure(self, info: strawberry.Info) -> Money | None:
        return money(info, self.exposure_minor)

    @classmethod
    def from_record(cls, record: CustomerRecord) -> Scores:
        def score(prop: ResultProperty) -> float | None:
            value = record.result(prop)
            return None if value is None else significant(float(value))

        exposure = record.result(ResultProperty.SCORE_EXPOSURE)
        cascade = record.result(ResultProperty.SCORE_REFERRAL_INFLUENCE)
        return cls(
            pagerank=score(ResultProperty.SCORE_PAGERANK),
            degree=score(ResultProperty.SCORE_DEGREE),
            betweenness=score(ResultProperty.SCORE_BETWEENNESS),
            personalized_pagerank=score(ResultProperty.SCORE_PERSONALIZED_PAGERANK),
            referral_influence=None if cascade is None else round(float(cascade)),
            exposure_minor=None if exposure is None else int(exposure),
            record=record,
        )


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
    """What a neighbour passes to a customer's PageRank through their ties."""

    share: float = strawberry.field(
        description="the fraction (0–1) of the PageRank this customer receives through ties "
        "that comes from this neighbour; over all neighbours the shares sum to 1 (the list "
        "shows the largest), rounded to 6 significant digits"
    )
    contribution: float = strawberry.field(
        description="the PageRank mass itself: the neighbour's PageRank × tie strength / "
        "the neighbour's total tie strength (before damping), 6 significant digits"
    )
    customer_id: strawberry.ID

    @strawberry.field
    async def customer(self, info: strawberry.Info) -> Customer | None:
        return await load_customer(info, str(self.customer_id))


@strawberry.type
class CommunityMembership:
    algorithm: CommunityAlgorithm
    community_id: strawberry.ID

    @strawberry.field
    async def community(
        self, info: strawberry.Info
    ) -> Annotated[Community, strawberry.lazy("api.graphql.network.types")] | None:
        from api.graphql.network.types import Community

        record = await context_value(info).loaders.community.load(str(self.community_id))
        return None if record is None else Community.from_record(record)


# --- the customer --------------------------------------------------------------------------------
def _financials_exact(info: strawberry.Info, record: CustomerRecord, field_name: str) -> bool:
    """Whether this caller reads the customer's exact figures (audited like unmasked PII)."""
    context = context_value(info)
    exact = context.principal.may_read_financials([record.rm_id] if record.rm_id else [])
    if exact:
        context.audit.record(record.customer_id, field_name)
    return exact


# The customer's stored fields, declared as annotations with these resolvers (strawberry lists
# annotated fields before method fields: together they keep the published field order).
def _customer_id(self: Customer) -> strawberry.ID:
    return strawberry.ID(self.record.customer_id)


def _kind(self: Customer) -> str:
    return str(self.record.kind)


def _aum(self: Customer, info: strawberry.Info) -> MaskedMoney | None:
    minor = self.record.aum_minor
    if minor is None:
        return None
    return masked_money(info, minor, exact=_financials_exact(info, self.record, "aum"))


def _risk_rating(self: Customer, info: strawberry.Info) -> MaskedRating | None:
    rating = self.record.risk_rating
    if rating is None:
        return None
    if _financials_exact(info, self.record, "risk_rating"):
        return MaskedRating(value=rating, masked=False)
    return MaskedRating(value=None, masked=True)


def _pii(field_name: str, masker: Callable[..., Masked]) -> Any:
    """A PII field of the customer: as stored (and audited) for who may see it, else masked."""

    def resolve(self: Customer, info: strawberry.Info) -> MaskedString:
        return self._masked(info, field_name, getattr(self.record, field_name), masker)

    return strawberry.field(resolver=resolve)


def _stored(field_name: str) -> Any:
    """A field of the customer as its record holds it (typed by the annotation beside it)."""

    def resolve(self: Customer) -> Any:
        return getattr(self.record, field_name)

    return strawberry.field(resolver=resolve)


@strawberry.type(description="A customer's 360 view; PII masked by role (see `masked`).")
class Customer:
    record: strawberry.Private[CustomerRecord]

    def _masked(
        self, info: strawberry.Info, field_name: str, raw: str | None, masker: Callable[..., Masked]
    ) -> MaskedString:
        context = context_value(info)
        if context.pii_visible(self.record):
            if raw is not None:
                context.audit.record(self.record.customer_id, field_name)
            return MaskedString(value=raw, masked=False)
        # an empty field is masked too: "nothing on file" is itself something to hide
        masked = masker(raw) if raw and raw.strip() else mask_absent(field_name)
        return MaskedString(value=masked.value, masked=masked.masked)

    id: strawberry.ID = strawberry.field(resolver=_customer_id)
    kind: str = strawberry.field(resolver=_kind)
    name: MaskedString = _pii("name", mask_name)
    phone: MaskedString = _pii("phone", mask_phone)
    id_number: MaskedString = _pii("id_number", mask_id_number)
    email: MaskedString = _pii("email", mask_email)
    city: str | None = _stored("city")
    branch_id: str | None = _stored("branch_id")
    aum: MaskedMoney | None = strawberry.field(
        resolver=_aum, description="assets under management: exact or banded by role"
    )
    risk_rating: MaskedRating | None = strawberry.field(
        resolver=_risk_rating, description="1 (lowest) .. 5: withheld unless you may read it"
    )
    consent_marketing: bool = _stored("consent_marketing")
    onboarded_at: date | None = _stored("onboarded_at")
    last_active_at: date | None = _stored("last_active_at")

    @strawberry.field
    def tier(self) -> Tier | None:
        value = self.record.result(ResultProperty.TIER)
        return None if value is None else Tier(value)

    @strawberry.field(
        description="NEW, ACTIVE, CHURN_RISK or DORMANT as of `lifecycleAsOf`, the reference "
        "day of the segmentation run that computed it (by default the latest activity in the "
        "bank's data, not today)"
    )
    def lifecycle_stage(self) -> LifecycleStage | None:
        value = self.record.result(ResultProperty.LIFECYCLE_STAGE)
        return None if value is None else LifecycleStage(value)

    @strawberry.field(
        description="the day `lifecycleStage` was judged on (its run's reference date); null "
        "when no segmentation run computed it"
    )
    async def lifecycle_as_of(self, info: strawberry.Info) -> date | None:
        run_id = self.record.result_runs.get(ResultProperty.LIFECYCLE_STAGE)
        if run_id is None:
            return None
        run = await context_value(info).loaders.run.load(run_id)
        reference = ((run.summary or {}) if run is not None else {}).get("reference_date")
        return date.fromisoformat(reference) if isinstance(reference, str) else None

    @strawberry.field
    def managed_by_you(self, info: strawberry.Info) -> bool:
        rm_id = context_value(info).principal.rm_id
        return rm_id is not None and self.record.rm_id == rm_id

    @strawberry.field
    async def relationship_manager(self, info: strawberry.Info) -> RelationshipManager | None:
        if self.record.rm_id is None:
            return None
        manager = await context_value(info).loaders.manager.load(self.record.rm_id)
        if manager is None:
            return None
        return RelationshipManager(
            id=strawberry.ID(manager.rm_id), name=manager.name, branch_id=manager.branch_id
        )

    @strawberry.field
    async def products(self, info: strawberry.Info) -> list[Holding] | None:
        holdings = await context_value(info).loaders.holdings.load(self.record.customer_id)
        exact = bool(holdings) and _financials_exact(info, self.record, "balance")
        return [
            Holding(
                product_id=strawberry.ID(h.product_id),
                name=h.name,
                category=h.category,
                since=h.since,
                balance=masked_money(info, h.balance_minor, exact=exact),
                status=h.status,
            )
            for h in holdings
        ]

    @strawberry.field
    async def scenarios(self, info: strawberry.Info) -> list[Participation] | None:
        found = await context_value(info).loaders.scenarios.load(self.record.customer_id)
        return [one_to_one(Participation, p) for p in found]

    @strawberry.field
    def communities(self) -> list[CommunityMembership] | None:
        memberships = []
        for algorithm in CommunityAlgorithm:
            local_id = self.record.result(ResultProperty(customer_property(algorithm)))
            if local_id is not None:
                memberships.append(
                    CommunityMembership(
                        algorithm=algorithm,
                        community_id=strawberry.ID(f"{algorithm.value}:{local_id}"),
                    )
                )
        return memberships

    @strawberry.field
    def scores(self) -> Scores:
        return Scores.from_record(self.record)

    @strawberry.field(description="The neighbours contributing most to this customer's PageRank")
    async def influence_explanation(self, info: strawberry.Info) -> list[Contribution] | None:
        found = await context_value(info).loaders.contributions.load(self.record.customer_id)
        return [
            Contribution(
                share=significant(c.share),
                contribution=significant(c.contribution),
                customer_id=strawberry.ID(c.customer_id),
            )
            for c in found
        ]

    @guarded_field(
        Permission.READ_IDENTIFIERS,
        "Phones, devices, addresses, e-mails (keyed hashes): risk only",
    )
    async def identifiers(self, info: strawberry.Info) -> list[IdentifierView] | None:
        found = await context_value(info).loaders.identifiers.load(self.record.customer_id)
        return [one_to_one(IdentifierView, i) for i in found]

    @guarded_field(
        Permission.READ_RISK,
        "when this customer defaulted (a defaulted borrower; null: never): risk only",
    )
    def defaulted_at(self) -> date | None:
        return self.record.defaulted_at

    @strawberry.field(
        description="date of birth: PII, for roles that read this customer's PII unmasked "
        "(else null with FORBIDDEN on its path; audited when read)"
    )
    def birth_date(self, info: strawberry.Info) -> date | None:
        context = context_value(info)
        if not context.pii_visible(self.record):
            # a birth date would unmask the id number's birth digits: withheld, not banded
            raise ForbiddenError(context.principal.role, Permission.READ_PII_ALL)
        if self.record.birth_date is not None:
            context.audit.record(self.record.customer_id, "birth_date")
        return self.record.birth_date

    @guarded_field(
        Permission.READ_RISK,
        "why this customer is risk-flagged (RISK_RATING, RISK_LINKAGE, "
        "NEAR_DEFAULT: the one rule marketing screens with); empty when not: risk only",
    )
    async def risk_flags(self, info: strawberry.Info) -> list[str] | None:
        return await context_value(info).loaders.risk_flags.load(self.record.customer_id)

    @guarded_field(Permission.READ_RISK, "Risk linkages this customer belongs to: risk only")
    async def risk_linkages(self, info: strawberry.Info) -> list[LinkageMembership] | None:
        found = await context_value(info).loaders.linkages.load(self.record.customer_id)
        return [one_to_one(LinkageMembership, m) for m in found]


async def load_customers(info: strawberry.Info, ids: Iterable[str]) -> dict[str, Customer]:
    """The customers of ``ids`` that exist, by id, in the order of ``ids`` (one batched read,
    through the request's DataLoader). Every list of customers the API returns is built with
    this and :func:`with_customers`: a customer deleted since its id was read drops out."""
    wanted = list(dict.fromkeys(ids))
    records = await context_value(info).loaders.customer.load_many(wanted)
    return {
        customer_id: Customer(record=record)
        for customer_id, record in zip(wanted, records, strict=True)
        if record is not None
    }


async def load_customer(info: strawberry.Info, customer_id: str) -> Customer | None:
    return (await load_customers(info, [customer_id])).get(customer_id)


async def with_customers(
    info: strawberry.Info, items: Iterable[T], customer_id: Callable[[T], str]
) -> list[tuple[T, Customer]]:
    """Each item whose customer exists, with it, in the items' order (one batched read)."""
    kept = list(items)
    customers = await load_customers(info, [customer_id(item) for item in kept])
    return [(item, customers[customer_id(item)]) for item in kept if customer_id(item) in customers]


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
    found = await with_customers(info, page, lambda i: i)
    return CustomerConnection(
        edges=[CustomerEdge(cursor=encode_cursor("customer", i), node=c) for i, c in found],
        page_info=PageInfo(
            has_next_page=len(ids) > page_size,
            # from the page, not the customers that loaded: a customer deleted between the
            # two reads must not end the pagination
            end_cursor=encode_cursor("customer", page[-1]) if page else None,
        ),
    )
