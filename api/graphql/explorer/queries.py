"""Root fields of the explorer page: what it draws that the rest of the API does not answer in
one request.

* ``explorerNeighbourhood`` / ``explorerCommunity``: views of up to 20,000 customers with
  their positions computed here (:func:`~api.graphql.explorer.layout.layout_positions`), in
  columns: one JSON object of arrays for the nodes and one for the ties. A view that large
  does not fit the cost model of typed lists (20,000 × a few fields is above
  ``CRKG_API_MAX_COST``), so these fields bound themselves instead: ``maxNodes`` at most
  :data:`MAX_NODES`, ties at most :data:`MAX_EDGES` (the answer says when it was cut). Names
  in the columns are masked exactly as ``Customer.name`` is.
* ``explorerExpand``: a customer's neighbours strongest first, a page at a time (the page's
  supernode safeguard), with their ties to what is already drawn.
* ``explorerTies``: the strongest tie of each pair (the ties along a drawn path).
* ``explorerLinkage`` / ``explorerGuarantees``: the relationships that draw a risk linkage
  (guarantees with amounts, transfers in time order, shareholdings with percentages, the
  shared identifiers as keyed hashes) and the guarantees around a customer.

Each field's permission is declared with it; a size by exposure also needs ``read_risk``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any, Final

import strawberry

from algorithms.params import today
from api.graphql.common.checks import (
    check_range,
    checked_min_strength,
    community_key,
    require,
    require_community,
)
from api.graphql.common.enums import CommunityAlgorithm, customer_property
from api.graphql.context import context_value
from api.graphql.errors import ClientError
from api.graphql.explorer.layout import layout_name, layout_positions
from api.graphql.explorer.types import (
    ExplorerExpansion,
    ExplorerGraph,
    ExplorerLinkage,
    RiskEdge,
    edge_columns,
    node_columns,
)
from api.graphql.network.types import InfluenceMetric, Tie
from api.graphql.permissions import guarded_field
from api.security.auth import Permission
from graph.errors import NotFoundError
from graph.model import NodeLabel, TieKind
from graph.read_models import CustomerRecord, TieRecord
from graph.repositories.communities import member_key
from graph.repositories.explorer import ExplorerRepository

MAX_NODES: Final = 20_000
"""The largest view drawn; above it the page refuses and says how to narrow the view."""
MAX_EDGES: Final = 200_000
MAX_EXPAND: Final = 100
"""Neighbours one expansion adds at most (the supernode safeguard's largest step)."""
MAX_DRAWN: Final = MAX_NODES
MAX_PAIRS: Final = 60
MAX_LINKAGE_EDGES: Final = 200
MAX_LINKAGE_IDENTIFIERS: Final = 20


def _require_metric(info: strawberry.Info, size_by: Any) -> None:
    if size_by is InfluenceMetric.EXPOSURE:  # as Scores.exposure: risk roles only
        context_value(info).principal.require(Permission.READ_RISK)


def _repository(info: strawberry.Info) -> ExplorerRepository:
    return ExplorerRepository(context_value(info).store)


async def _records(
    info: strawberry.Info, ids: Sequence[str], color_by: Any, size_by: Any
) -> list[CustomerRecord]:
    """What drawing needs of the customers of ``ids`` that exist, in that order (not the whole
    profile the DataLoader reads: 20,000 of those are slow)."""
    return await _repository(info).drawn_customers(
        ids, community_property=customer_property(color_by), score_property=size_by.value
    )


async def _drawn(
    info: strawberry.Info,
    reach: list[tuple[str, int]],
    ties: list[TieRecord],
    *,
    truncated: bool,
    color_by: Any,
    size_by: Any,
) -> ExplorerGraph:
    hops = dict(reach)
    records = await _records(info, [i for i, _ in reach], color_by, size_by)
    index = {r.customer_id: n for n, r in enumerate(records)}
    ties = [t for t in ties if t.src in index and t.dst in index]
    cut = len(ties) > MAX_EDGES
    ties = ties[:MAX_EDGES]
    started = time.perf_counter()
    positions = await asyncio.to_thread(
        layout_positions, len(records), [(index[t.src], index[t.dst]) for t in ties]
    )
    seconds = time.perf_counter() - started
    nodes: Any = node_columns(info, records, hops=hops, color_by=color_by, size_by=size_by)
    nodes["x"] = [p[0] for p in positions]
    nodes["y"] = [p[1] for p in positions]
    return ExplorerGraph(
        nodes=nodes,
        edges=edge_columns(ties),  # type: ignore[arg-type]  # JSON
        node_count=len(records),
        edge_count=len(ties),
        truncated=truncated or cut,
        layout=layout_name(len(records)),
        layout_seconds=round(seconds, 3),
    )


@guarded_field(
    Permission.READ_NETWORK,
    "A customer's neighbourhood laid out for drawing (nearest first, then by "
    "id, as `connections`), up to 20,000 customers",
)
async def explorer_neighbourhood(
    info: strawberry.Info,
    customer_id: strawberry.ID,
    depth: int = 1,
    types: list[TieKind] | None = None,
    min_strength: float | None = None,
    max_nodes: int = 500,
    color_by: CommunityAlgorithm = CommunityAlgorithm.LOUVAIN,
    size_by: InfluenceMetric = InfluenceMetric.PAGERANK,
) -> ExplorerGraph | None:
    _require_metric(info, size_by)
    check_range("depth", depth, 1, 3)
    check_range("maxNodes", max_nodes, 1, MAX_NODES)
    strength = checked_min_strength(min_strength)
    kinds = list(types or [])
    await require(info, NodeLabel.CUSTOMER, str(customer_id))
    repository = _repository(info)
    reach = await repository.reach(
        [str(customer_id)], kinds=kinds, depth=depth, min_strength=strength, limit=max_nodes
    )
    ties = await repository.ties_among(
        [i for i, _ in reach.nodes], kinds=kinds, min_strength=strength
    )
    return await _drawn(
        info, reach.nodes, ties, truncated=reach.truncated, color_by=color_by, size_by=size_by
    )


@guarded_field(Permission.READ_NETWORK, "A community's members and the ties among them, laid out")
async def explorer_community(
    info: strawberry.Info,
    community_id: strawberry.ID,
    max_nodes: int = 2_000,
    size_by: InfluenceMetric = InfluenceMetric.PAGERANK,
) -> ExplorerGraph | None:
    _require_metric(info, size_by)
    check_range("maxNodes", max_nodes, 1, MAX_NODES)
    algorithm, local_id = community_key(str(community_id))
    await require_community(info, str(community_id))
    key = member_key(customer_property(algorithm), local_id, "", max_nodes + 1)
    ids = await context_value(info).loaders.community_members.load(key)
    members = ids[:max_nodes]
    ties = await _repository(info).ties_among(members, kinds=[], min_strength=0.0)
    return await _drawn(
        info,
        [(i, 0) for i in members],
        ties,
        truncated=len(ids) > max_nodes,
        color_by=algorithm,
        size_by=size_by,
    )


@guarded_field(
    Permission.READ_NETWORK,
    "A customer's neighbours, strongest tie first, `first` at a time from "
    "`offset`, with their ties to the customer and to the `drawn` customers",
)
async def explorer_expand(
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
    _require_metric(info, size_by)
    check_range("first", first, 1, MAX_EXPAND)
    check_range("offset", offset, 0, 10_000_000)
    strength = checked_min_strength(min_strength)
    on_screen = [str(i) for i in drawn or []]
    if len(on_screen) > MAX_DRAWN:
        raise ClientError(f"drawn lists {len(on_screen)} customers; at most {MAX_DRAWN}")
    kinds = list(types or [])
    centre = str(customer_id)
    await require(info, NodeLabel.CUSTOMER, centre)
    repository = _repository(info)
    page = await repository.strongest_neighbours(
        centre, kinds=kinds, min_strength=strength, offset=offset, limit=first
    )
    new = [i for i, _ in page.page]
    among = list(dict.fromkeys([centre, *new, *on_screen]))
    ties = await repository.ties_touching(new, among, kinds=kinds, min_strength=strength)
    records = await _records(info, new, color_by, size_by)
    end = offset + len(page.page)
    return ExplorerExpansion(
        total=page.total,
        offset=offset,
        next_offset=end if end < page.total else None,
        nodes=node_columns(info, records, hops=None, color_by=color_by, size_by=size_by),  # type: ignore[arg-type]
        edges=edge_columns(ties),  # type: ignore[arg-type]
    )


@guarded_field(
    Permission.READ_NETWORK,
    "The strongest tie of each pair [a, b] (the ties of a path)",
)
async def explorer_ties(
    info: strawberry.Info,
    pairs: list[list[strawberry.ID]],
    types: list[TieKind] | None = None,
) -> list[Tie] | None:
    if len(pairs) > MAX_PAIRS:
        raise ClientError(f"pairs has {len(pairs)} entries; at most {MAX_PAIRS}")
    for position, pair in enumerate(pairs):
        if len(pair) != 2:
            raise ClientError(f"pairs[{position}] must be [a, b], got {len(pair)} ids")
    found = await _repository(info).strongest_ties(
        [(str(a), str(b)) for a, b in pairs], kinds=list(types or [])
    )
    return [
        Tie(
            from_id=strawberry.ID(t.src),
            to_id=strawberry.ID(t.dst),
            kind=TieKind(t.kind),
            strength=t.strength,
            since=t.since,
        )
        for t in found
    ]


@guarded_field(Permission.READ_RISK, "A risk linkage with the relationships that draw it")
async def explorer_linkage(info: strawberry.Info, id: strawberry.ID) -> ExplorerLinkage | None:
    drawing = await _repository(info).linkage(
        str(id), limit=MAX_LINKAGE_EDGES, identifiers=MAX_LINKAGE_IDENTIFIERS
    )
    if drawing is None:
        raise NotFoundError(NodeLabel.RISK_LINKAGE.value, str(id))
    if drawing.identifiers:
        context_value(info).principal.require(Permission.READ_IDENTIFIERS)
    return ExplorerLinkage.from_drawing(drawing, max_edges=MAX_LINKAGE_EDGES)


@guarded_field(Permission.READ_RISK, "Guarantees within `hops` of a customer, either direction")
async def explorer_guarantees(
    info: strawberry.Info,
    customer_id: strawberry.ID,
    hops: int = 2,
    first: int | None = 500,
) -> list[RiskEdge] | None:
    context = context_value(info)
    check_range("hops", hops, 1, 4)
    size = context.page_size(first)
    await require(info, NodeLabel.CUSTOMER, str(customer_id))
    # the guarantees in force today, as exposure() counts them by default
    edges = await context.repositories.ties.guarantees_around(
        str(customer_id), hops=hops, limit=size, as_of=today()
    )
    return [RiskEdge.guarantee(e.guarantor_id, e.borrower_id, e.amount_minor) for e in edges]


@strawberry.type
class ExplorerQuery:
    """The explorer's root fields, merged into ``Query`` by :mod:`api.graphql.schema`."""

    explorer_neighbourhood = explorer_neighbourhood
    explorer_community = explorer_community
    explorer_expand = explorer_expand
    explorer_ties = explorer_ties
    explorer_linkage = explorer_linkage
    explorer_guarantees = explorer_guarantees
