"""What the explorer page draws that the rest of the API does not answer in one request.

* ``explorerNeighbourhood`` / ``explorerCommunity``: views of up to 20,000 customers with
  their positions computed here (igraph's Fruchterman–Reingold, grid variant, seeded), in
  columns: one JSON object of arrays for the nodes and one for the ties. A view that large
  does not fit the cost model of typed lists (20,000 × a few fields is above
  ``CRKG_API_MAX_COST``), so these fields bound themselves instead: ``maxNodes`` at most
  :data:`MAX_NODES`, ties at most :data:`MAX_EDGES` (the answer says when it was cut). Names
  in the columns are masked exactly as ``Customer.name`` is (the same function, which also
  writes the audit record for an unmasked one).
* ``explorerExpand``: a customer's neighbours strongest first, a page at a time (the page's
  supernode safeguard), with their ties to what is already drawn.
* ``explorerTies``: the strongest tie of each pair (the ties along a drawn path).
* ``explorerLinkage`` / ``explorerGuarantees``: the relationships that draw a risk linkage
  (guarantees with amounts, transfers in time order, shareholdings with percentages, the
  shared identifiers as keyed hashes) and the guarantees around a customer.

Every field checks its permission first, like the other root fields.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Final

import igraph  # type: ignore[import-untyped]
import strawberry
from strawberry.scalars import JSON

from algorithms.inproc._igraph import seeded
from api.graphql.context import context_value
from api.graphql.errors import ClientError
from api.graphql.types import (
    CommunityAlgorithm,
    InfluenceMetric,
    LinkageMember,
    Tie,
    _masked,
    community_key,
    member_page,
)
from api.security.auth import Permission
from api.security.masking import mask_name
from graph.errors import NotFoundError
from graph.model import NodeLabel, TieKind
from graph.repositories.explorer import ExplorerRepository
from graph.repositories.views import Row

MAX_NODES: Final = 20_000
"""The largest view drawn; above it the page refuses and says how to narrow the view."""
MAX_EDGES: Final = 200_000
MAX_EXPAND: Final = 100
"""Neighbours one expansion adds at most (the supernode safeguard's largest step)."""
MAX_DRAWN: Final = MAX_NODES
MAX_PAIRS: Final = 60
MAX_LINKAGE_EDGES: Final = 200
MAX_LINKAGE_IDENTIFIERS: Final = 20
MAX_IDENTIFIER_USERS: Final = 100
LAYOUT_SEED: Final = 7
LAYOUT_ITERATIONS: Final = 300
LARGE_LAYOUT: Final = 2_000
"""Above this many customers a layout takes 100 iterations (0.5 s for 20,000 here), not 300."""


def layout_positions(
    node_count: int, edges: Sequence[tuple[int, int]], *, seed: int = LAYOUT_SEED
) -> list[tuple[float, float]]:
    """Positions for a graph drawn on screen: Fruchterman–Reingold, grid variant, seeded.

    The grid variant only repels nodes in neighbouring cells, so it takes ~0.05 s for 2,000
    nodes and ~0.5 s for 20,000 on one core here; the result is scaled to about 70 screen
    units per node so labels have room, centred on the origin.

    Parameters
    ----------
    node_count : int
        Nodes ``0 … node_count-1``.
    edges : sequence of (int, int)
        Undirected ties between node indices.
    seed : int
        Seed of the random start; the same graph and seed give the same positions.

    Returns
    -------
    list of (float, float)
        One ``(x, y)`` per node.

    Examples
    --------
    >>> a = layout_positions(4, [(0, 1), (1, 2), (2, 3)])
    >>> a == layout_positions(4, [(0, 1), (1, 2), (2, 3)])
    True
    >>> len(a), layout_positions(1, [])
    (4, [(0.0, 0.0)])
    """
    if node_count <= 1:
        return [(0.0, 0.0)] * node_count
    graph = igraph.Graph(n=node_count, edges=list(edges))
    # igraph's random numbers come from one process-wide generator: `seeded` gives this
    # layout its own under a lock, so a view is laid out the same way every time
    iterations = LAYOUT_ITERATIONS if node_count <= LARGE_LAYOUT else 100
    with seeded(seed):
        layout = graph.layout_fruchterman_reingold(niter=iterations, grid=True)
    coords = layout.coords
    xs = [c[0] for c in coords]
    ys = [c[1] for c in coords]
    cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
    span = max(max(xs) - min(xs), max(ys) - min(ys)) or 1.0
    # about 70 units per node along each side of the square the nodes fill
    scale = 70.0 * max(node_count, 4) ** 0.5 / span
    return [(round((x - cx) * scale, 1), round((y - cy) * scale, 1)) for x, y in coords]


def _iso(value: Any) -> str | None:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return None if value is None else str(value)


def _score(row: Row, metric: InfluenceMetric) -> float | None:
    value = row.get(metric.value)
    return None if value is None else float(value)


def _node_columns(
    info: strawberry.Info,
    rows: list[Row],
    *,
    hops: dict[str, int] | None,
    color_by: CommunityAlgorithm,
    size_by: InfluenceMetric,
) -> dict[str, list[Any]]:
    columns: dict[str, list[Any]] = {
        "id": [],
        "label": [],
        "labelMasked": [],
        "kind": [],
        "hop": [],
        "community": [],
        "score": [],
    }
    prop = color_by.customer_property
    for row in rows:
        name = _masked(info, row, "name", mask_name)  # as Customer.name: masked, audited
        customer_id = str(row["customer_id"])
        columns["id"].append(customer_id)
        columns["label"].append(name.value)
        columns["labelMasked"].append(name.masked)
        columns["kind"].append(row.get("kind"))
        columns["hop"].append(None if hops is None else hops.get(customer_id))
        community = row.get(prop)
        columns["community"].append(None if community is None else f"{color_by.value}:{community}")
        columns["score"].append(_score(row, size_by))
    return columns


def _edge_columns(ties: list[Row]) -> dict[str, list[Any]]:
    return {
        "source": [t["src"] for t in ties],
        "target": [t["dst"] for t in ties],
        "kind": [t["kind"] for t in ties],
        "strength": [None if t.get("strength") is None else float(t["strength"]) for t in ties],
        "since": [_iso(t.get("since")) for t in ties],
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
    member_rows: strawberry.Private[list[Row]]

    @strawberry.field(description="in position order")
    async def members(self, info: strawberry.Info, first: int | None = 50) -> list[LinkageMember]:
        return await member_page(info, self.member_rows, first)


def _check(name: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise ClientError(f"{name} must be between {low} and {high}, got {value}")


def _strength(min_strength: float | None) -> float:
    strength = 0.0 if min_strength is None else min_strength
    if not 0.0 <= strength <= 1.0:
        raise ClientError(f"minStrength must be between 0 and 1, got {strength}")
    return strength


def _require_metric(info: strawberry.Info, size_by: InfluenceMetric) -> None:
    if size_by is InfluenceMetric.EXPOSURE:  # as Scores.exposure: risk roles only
        context_value(info).principal.require(Permission.READ_RISK)


async def _customer_rows(
    info: strawberry.Info,
    ids: Sequence[str],
    color_by: CommunityAlgorithm,
    size_by: InfluenceMetric,
) -> list[Row]:
    """What drawing needs of each customer (not the whole 360 row: 20,000 of those are slow)."""
    return await ExplorerRepository(context_value(info).store).drawn_customers(
        ids, community_property=color_by.customer_property, score_property=size_by.value
    )


async def _drawn(
    info: strawberry.Info,
    reach: list[tuple[str, int]],
    ties: list[Row],
    *,
    truncated: bool,
    color_by: CommunityAlgorithm,
    size_by: InfluenceMetric,
) -> ExplorerGraph:
    hops = dict(reach)
    rows = await _customer_rows(info, [i for i, _ in reach], color_by, size_by)
    ids = [str(r["customer_id"]) for r in rows]
    index = {i: n for n, i in enumerate(ids)}
    ties = [t for t in ties if t["src"] in index and t["dst"] in index]
    cut = len(ties) > MAX_EDGES
    ties = ties[:MAX_EDGES]
    started = time.perf_counter()
    positions = await asyncio.to_thread(
        layout_positions, len(ids), [(index[t["src"]], index[t["dst"]]) for t in ties]
    )
    seconds = time.perf_counter() - started
    nodes: Any = _node_columns(info, rows, hops=hops, color_by=color_by, size_by=size_by)
    edges: Any = _edge_columns(ties)
    nodes["x"] = [p[0] for p in positions]
    nodes["y"] = [p[1] for p in positions]
    return ExplorerGraph(
        nodes=nodes,
        edges=edges,
        node_count=len(ids),
        edge_count=len(ties),
        truncated=truncated or cut,
        layout=f"igraph Fruchterman-Reingold (grid), "
        f"{LAYOUT_ITERATIONS if len(ids) <= LARGE_LAYOUT else 100} iterations, seed {LAYOUT_SEED}",
        layout_seconds=round(seconds, 3),
    )


@strawberry.type
class ExplorerQuery:
    @strawberry.field(
        description="A customer's neighbourhood laid out for drawing (nearest first, then by "
        "id, as `connections`), up to 20,000 customers"
    )
    async def explorer_neighbourhood(
        self,
        info: strawberry.Info,
        customer_id: strawberry.ID,
        depth: int = 1,
        types: list[TieKind] | None = None,
        min_strength: float | None = None,
        max_nodes: int = 500,
        color_by: CommunityAlgorithm = CommunityAlgorithm.LOUVAIN,
        size_by: InfluenceMetric = InfluenceMetric.PAGERANK,
    ) -> ExplorerGraph | None:
        context = context_value(info)
        context.principal.require(Permission.READ_NETWORK)
        _require_metric(info, size_by)
        _check("depth", depth, 1, 3)
        _check("maxNodes", max_nodes, 1, MAX_NODES)
        strength = _strength(min_strength)
        kinds = list(types or [])
        if await context.views.missing(NodeLabel.CUSTOMER, [str(customer_id)]):
            raise NotFoundError(NodeLabel.CUSTOMER.value, str(customer_id))
        repository = ExplorerRepository(context.store)
        reach = await repository.reach(
            [str(customer_id)], kinds=kinds, depth=depth, min_strength=strength, limit=max_nodes
        )
        ties = await repository.ties_among(
            [i for i, _ in reach.nodes], kinds=kinds, min_strength=strength
        )
        return await _drawn(
            info,
            reach.nodes,
            ties,
            truncated=reach.truncated,
            color_by=color_by,
            size_by=size_by,
        )

    @strawberry.field(description="A community's members and the ties among them, laid out")
    async def explorer_community(
        self,
        info: strawberry.Info,
        community_id: strawberry.ID,
        max_nodes: int = 2_000,
        size_by: InfluenceMetric = InfluenceMetric.PAGERANK,
    ) -> ExplorerGraph | None:
        context = context_value(info)
        context.principal.require(Permission.READ_NETWORK)
        _require_metric(info, size_by)
        _check("maxNodes", max_nodes, 1, MAX_NODES)
        algorithm, local_id = community_key(str(community_id))
        if await context.loaders.community.load(str(community_id)) is None:
            raise NotFoundError("Community", str(community_id))
        key = "\x1f".join((algorithm.customer_property, local_id, "", str(max_nodes + 1)))
        ids = await context.loaders.community_members.load(key)
        members = ids[:max_nodes]
        ties = await ExplorerRepository(context.store).ties_among(
            members, kinds=[], min_strength=0.0
        )
        return await _drawn(
            info,
            [(i, 0) for i in members],
            ties,
            truncated=len(ids) > max_nodes,
            color_by=algorithm,
            size_by=size_by,
        )

    @strawberry.field(
        description="A customer's neighbours, strongest tie first, `first` at a time from "
        "`offset`, with their ties to the customer and to the `drawn` customers"
    )
    async def explorer_expand(
        self,
        info: strawberry.Info,
        customer_id: strawberry.ID,
        types: list[TieKind] | None = None,
        min_strength: float | None = None,
        first: int = 25,
        offset: int = 0,
        drawn: list[strawberry.ID] | None = None,
        color_by: CommunityAlgorithm = CommunityAlgorithm.LOUVAIN,
        size_by: InfluenceMetric = InfluenceMetric.PAGERANK,
    ) -> ExplorerExpansion | None:
        context = context_value(info)
        context.principal.require(Permission.READ_NETWORK)
        _require_metric(info, size_by)
        _check("first", first, 1, MAX_EXPAND)
        _check("offset", offset, 0, 10_000_000)
        strength = _strength(min_strength)
        on_screen = [str(i) for i in drawn or []]
        if len(on_screen) > MAX_DRAWN:
            raise ClientError(f"drawn lists {len(on_screen)} customers; at most {MAX_DRAWN}")
        kinds = list(types or [])
        centre = str(customer_id)
        if await context.views.missing(NodeLabel.CUSTOMER, [centre]):
            raise NotFoundError(NodeLabel.CUSTOMER.value, centre)
        repository = ExplorerRepository(context.store)
        page = await repository.strongest_neighbours(
            centre, kinds=kinds, min_strength=strength, offset=offset, limit=first
        )
        new = [i for i, _ in page.page]
        among = list(dict.fromkeys([centre, *new, *on_screen]))
        ties = await repository.ties_touching(new, among, kinds=kinds, min_strength=strength)
        rows = await _customer_rows(info, new, color_by, size_by)
        nodes: Any = _node_columns(info, rows, hops=None, color_by=color_by, size_by=size_by)
        edges: Any = _edge_columns(ties)
        end = offset + len(page.page)
        return ExplorerExpansion(
            total=page.total,
            offset=offset,
            next_offset=end if end < page.total else None,
            nodes=nodes,
            edges=edges,
        )

    @strawberry.field(description="The strongest tie of each pair [a, b] (the ties of a path)")
    async def explorer_ties(
        self,
        info: strawberry.Info,
        pairs: list[list[strawberry.ID]],
        types: list[TieKind] | None = None,
    ) -> list[Tie] | None:
        context = context_value(info)
        context.principal.require(Permission.READ_NETWORK)
        if len(pairs) > MAX_PAIRS:
            raise ClientError(f"pairs has {len(pairs)} entries; at most {MAX_PAIRS}")
        for position, pair in enumerate(pairs):
            if len(pair) != 2:
                raise ClientError(f"pairs[{position}] must be [a, b], got {len(pair)} ids")
        rows = await ExplorerRepository(context.store).strongest_ties(
            [(str(a), str(b)) for a, b in pairs], kinds=list(types or [])
        )
        return [
            Tie(
                from_id=strawberry.ID(r["src"]),
                to_id=strawberry.ID(r["dst"]),
                kind=TieKind(r["kind"]),
                strength=r.get("strength"),
                since=None if r.get("since") is None else date.fromisoformat(str(r["since"])),
            )
            for r in rows
        ]

    @strawberry.field(description="A risk linkage with the relationships that draw it")
    async def explorer_linkage(
        self, info: strawberry.Info, id: strawberry.ID
    ) -> ExplorerLinkage | None:
        context = context_value(info)
        context.principal.require(Permission.READ_RISK)
        drawing = await ExplorerRepository(context.store).linkage(
            str(id), limit=MAX_LINKAGE_EDGES, identifiers=MAX_LINKAGE_IDENTIFIERS
        )
        if drawing is None:
            raise NotFoundError("RiskLinkage", str(id))
        members = drawing.members
        identifiers = [
            {**i, "users": [str(u) for u in i["users"]][:MAX_IDENTIFIER_USERS]}
            for i in drawing.identifiers
        ]
        if identifiers:
            context.principal.require(Permission.READ_IDENTIFIERS)
        props = drawing.properties
        kind = str(props.get("kind"))
        order = [str(m["id"]) for m in members]
        return ExplorerLinkage(
            id=strawberry.ID(str(id)),
            kind=kind,
            subtype=props.get("subtype"),
            size=int(props.get("size") or len(members)),
            amount=props.get("amount"),
            score=props.get("score"),
            run_id=props.get("run_id"),
            edges=[  # the linkage's own relationships first, then the identifiers' uses
                *_ordered_edges(kind, order, drawing.edges),
                *(
                    RiskEdge(
                        from_id=strawberry.ID(user),
                        to_id=strawberry.ID(i["key"]),
                        kind="USES",
                        amount=None,
                        pct=None,
                        at=None,
                        order=None,
                    )
                    for i in identifiers
                    for user in i["users"]
                ),
            ][:MAX_LINKAGE_EDGES],
            identifiers=[
                SharedIdentifier(
                    key=i["key"],
                    kind=i["kind"],
                    customer_ids=[strawberry.ID(u) for u in i["users"]],
                )
                for i in identifiers
            ],
            member_rows=members,
        )

    @strawberry.field(description="Guarantees within `hops` of a customer, either direction")
    async def explorer_guarantees(
        self,
        info: strawberry.Info,
        customer_id: strawberry.ID,
        hops: int = 2,
        first: int | None = 500,
    ) -> list[RiskEdge] | None:
        context = context_value(info)
        context.principal.require(Permission.READ_RISK)
        _check("hops", hops, 1, 4)
        size = context.page_size(first)
        if await context.views.missing(NodeLabel.CUSTOMER, [str(customer_id)]):
            raise NotFoundError(NodeLabel.CUSTOMER.value, str(customer_id))
        edges = await context.views.guarantees_around(str(customer_id), hops=hops, limit=size)
        return [
            RiskEdge(
                from_id=strawberry.ID(s),
                to_id=strawberry.ID(d),
                kind="GUARANTEES",
                amount=a,
                pct=None,
                at=None,
                order=None,
            )
            for s, d, a in edges
        ]


def _ordered_edges(kind: str, members: list[str], edges: list[Row]) -> list[RiskEdge]:
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
                (str(e.get("at") or ""), n)
                for n, e in enumerate(edges)
                if e["src"] == src and e["dst"] == dst and n not in steps
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
            from_id=strawberry.ID(e["src"]),
            to_id=strawberry.ID(e["dst"]),
            kind={
                "GUARANTEE_CIRCLE": "GUARANTEES",
                "FUND_CYCLE": "TRANSFERRED_TO",
                "CONTROL_GROUP": "HOLDS_SHARES",
            }.get(kind, kind),
            amount=None if e.get("amount") is None else float(e["amount"]),
            pct=None if e.get("pct") is None else float(e["pct"]),
            at=_iso(e.get("at")),
            order=steps.get(n),
        )
        for n, e in enumerate(edges)
    ]
