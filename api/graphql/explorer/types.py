"""Types of the explorer page: views in columns, expansions, and the relationships that draw
a risk linkage.

Columns are built from the typed read models: customers from
:class:`~graph.read_models.CustomerRecord` (names masked by the same method as
``Customer.name``, which also audits an unmasked one), ties from
:class:`~graph.read_models.TieRecord`, linkages from the explorer repository's
:class:`~graph.repositories.explorer.LinkageDrawing`. Amounts are stored in integer minor
units and shown here in currency units, as the page has always read them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Final

import strawberry
from strawberry.scalars import JSON

from api.graphql.common.coverage import COVERAGE, RunCoverage, run_coverage
from api.graphql.common.enums import customer_property
from api.graphql.common.numbers import significant
from api.graphql.common.types import Customer, _financials_exact
from api.graphql.risk.types import LinkageMember, member_page
from api.security.masking import mask_name
from graph.money import to_decimal
from graph.read_models import CustomerRecord, LinkageRecord, TieRecord
from graph.repositories.explorer import LinkageDrawing, LinkageEdge
from graph.results import ResultProperty

MAX_IDENTIFIER_USERS: Final = 100

# the relationship that draws each kind of linkage, as the page names it
_DRAWN_BY: Final = {
    "GUARANTEE_CIRCLE": "GUARANTEES",
    "FUND_CYCLE": "TRANSFERRED_TO",
    "CONTROL_GROUP": "HOLDS_SHARES",
}


def _iso(value: Any) -> str | None:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return None if value is None else str(value)


def _units(minor: int | None) -> float | None:
    """Integer minor units as currency units (the explorer's amounts are plain numbers)."""
    return None if minor is None else float(to_decimal(minor))


def _score(info: strawberry.Info, record: CustomerRecord, metric: Any) -> float | None:
    prop = ResultProperty(metric.value)
    value = record.result(prop)
    if value is None:
        return None
    if prop is ResultProperty.SCORE_EXPOSURE:
        return _units(int(value))
    # as Scores.networkValue: a function of the AUM rank, exact only where aum is (audited)
    if prop is ResultProperty.SCORE_NETWORK_VALUE and not _financials_exact(
        info, record, "network_value"
    ):
        return None
    return significant(float(value))  # shown as `influencers` and `scores` show it


def node_columns(
    info: strawberry.Info,
    records: Sequence[CustomerRecord],
    *,
    hops: dict[str, int] | None,
    color_by: Any,
    size_by: Any,
) -> dict[str, list[Any]]:
    """The customers as columns: id, label, labelMasked, kind, hop, community, score."""
    columns: dict[str, list[Any]] = {
        "id": [],
        "label": [],
        "labelMasked": [],
        "kind": [],
        "hop": [],
        "community": [],
        "score": [],
    }
    prop = ResultProperty(customer_property(color_by))
    for record in records:
        # as Customer.name: masked unless the caller may see it, an unmasked one audited
        name = Customer(record=record)._masked(info, "name", record.name, mask_name)
        customer_id = record.customer_id
        columns["id"].append(customer_id)
        columns["label"].append(name.value)
        columns["labelMasked"].append(name.masked)
        columns["kind"].append(record.kind)
        columns["hop"].append(None if hops is None else hops.get(customer_id))
        community = record.result(prop)
        columns["community"].append(None if community is None else f"{color_by.value}:{community}")
        columns["score"].append(_score(info, record, size_by))
    return columns


def edge_columns(ties: Sequence[TieRecord]) -> dict[str, list[Any]]:
    """The ties as columns: source, target, kind, strength, since."""
    return {
        "source": [t.src for t in ties],
        "target": [t.dst for t in ties],
        "kind": [t.kind for t in ties],
        "strength": [None if t.strength is None else float(t.strength) for t in ties],
        "since": [_iso(t.since) for t in ties],
    }


@strawberry.type(description="A drawn view in columns: arrays of equal length, one per field")
class ExplorerGraph:
    nodes: JSON = strawberry.field(
        description="{id, label (name, masked as for Customer.name), labelMasked, kind, hop, "
        "community, score, x, y}: one array each, one entry per customer"
    )
    edges: JSON = strawberry.field(
        description="{source, target, kind, strength, since}: one entry per tie"
    )
    node_count: int
    edge_count: int
    truncated: bool = strawberry.field(
        description="more customers (or ties) were within reach than the view draws"
    )
    layout: str = strawberry.field(description="how the positions were computed")
    layout_seconds: float


@strawberry.type
class ExplorerExpansion:
    total: int = strawberry.field(description="neighbours in all (at the minimum strength)")
    offset: int
    next_offset: int | None = strawberry.field(description="for “show more”; null at the end")
    nodes: JSON = strawberry.field(description="the page's neighbours, strongest tie first")
    edges: JSON = strawberry.field(description="their ties to the customer and to `drawn`")


@strawberry.type(description="A relationship that draws a risk linkage")
class RiskEdge:
    from_id: strawberry.ID
    to_id: strawberry.ID = strawberry.field(
        description="a customer, or for a shared identifier its key (kind + keyed hash)"
    )
    kind: str = strawberry.field(description="GUARANTEES, TRANSFERRED_TO, HOLDS_SHARES or USES")
    amount: float | None
    pct: float | None
    at: str | None = strawberry.field(description="transfer time or guarantee start")
    order: int | None = strawberry.field(
        description="a fund cycle's steps in time order (1, 2, …); a guarantee circle's in "
        "member order; null for relationships among members that are not a step"
    )

    @classmethod
    def guarantee(cls, guarantor_id: str, borrower_id: str, amount_minor: int) -> RiskEdge:
        return cls(
            from_id=strawberry.ID(guarantor_id),
            to_id=strawberry.ID(borrower_id),
            kind="GUARANTEES",
            amount=_units(amount_minor),
            pct=None,
            at=None,
            order=None,
        )


@strawberry.type(description="An identifier shared by a ring's members: never the raw value")
class SharedIdentifier:
    key: str = strawberry.field(description="kind + keyed hash")
    kind: str
    customer_ids: list[strawberry.ID]


@strawberry.type
class ExplorerLinkage:
    id: strawberry.ID
    kind: str
    subtype: str | None
    size: int
    amount: float | None
    score: float | None
    run_id: str | None
    edges: list[RiskEdge]
    identifiers: list[SharedIdentifier]
    linkage: strawberry.Private[LinkageRecord]

    @classmethod
    def from_drawing(cls, drawing: LinkageDrawing, *, max_edges: int) -> ExplorerLinkage:
        linkage = drawing.linkage
        identifiers = [(i, i.users[:MAX_IDENTIFIER_USERS]) for i in drawing.identifiers]
        order = [m.customer_id for m in linkage.members]
        uses = [
            RiskEdge(
                from_id=strawberry.ID(user),
                to_id=strawberry.ID(i.key),
                kind="USES",
                amount=None,
                pct=None,
                at=None,
                order=None,
            )
            for i, users in identifiers
            for user in users
        ]
        return cls(
            id=strawberry.ID(linkage.linkage_id),
            kind=linkage.kind,
            subtype=linkage.subtype,
            size=linkage.size or len(linkage.members),
            amount=_units(linkage.amount_minor),
            score=linkage.score,
            run_id=linkage.run_id,
            # the linkage's own relationships first, then the identifiers' uses
            edges=[*ordered_edges(linkage.kind, order, drawing.edges), *uses][:max_edges],
            identifiers=[
                SharedIdentifier(
                    key=i.key, kind=i.kind, customer_ids=[strawberry.ID(u) for u in users]
                )
                for i, users in identifiers
            ],
            linkage=linkage,
        )

    @strawberry.field(description="in position order")
    async def members(self, info: strawberry.Info, first: int | None = 50) -> list[LinkageMember]:
        return await member_page(info, self.linkage.members, first)

    @strawberry.field(description=COVERAGE)
    async def coverage(self, info: strawberry.Info) -> RunCoverage | None:
        return await run_coverage(info, self.run_id)


def ordered_edges(kind: str, members: list[str], edges: Sequence[LinkageEdge]) -> list[RiskEdge]:
    """The linkage's relationships, its steps numbered.

    A guarantee circle's step ``i`` is member ``i`` guaranteeing member ``i+1`` (round to the
    first); a fund cycle's is the earliest transfer from member ``i`` to member ``i+1`` after
    the previous step's, so the numbers follow the money in time order.
    """
    steps: dict[int, int] = {}  # edge index -> order
    if kind in ("GUARANTEE_CIRCLE", "FUND_CYCLE") and len(members) >= 2:
        after: str | None = None
        for i, src in enumerate(members):
            dst = members[(i + 1) % len(members)]
            candidates = [
                (_iso(e.at) or "", n)
                for n, e in enumerate(edges)
                if e.src == src and e.dst == dst and n not in steps
            ]
            if kind == "FUND_CYCLE" and after is not None:
                candidates = [c for c in candidates if c[0] >= after]
            if not candidates:
                continue
            at, chosen = min(candidates)
            steps[chosen] = i + 1
            after = at
    return [
        RiskEdge(
            from_id=strawberry.ID(e.src),
            to_id=strawberry.ID(e.dst),
            kind=_DRAWN_BY.get(kind, kind),
            amount=_units(e.amount_minor),
            pct=e.pct,
            at=_iso(e.at),
            order=steps.get(n),
        )
        for n, e in enumerate(edges)
    ]
