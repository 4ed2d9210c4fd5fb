"""Root fields of the network: who a customer is tied to, the warmest paths between two
customers, communities, and the most influential customers.

Neighbourhoods and paths are bounded Cypher reads (a path search reads the ties around both
ends, then searches in a worker thread that stops at the request's deadline); communities
and scores are what algorithm runs stored.
"""

from __future__ import annotations

import asyncio
import re

import strawberry

from algorithms.graphdata import UnknownNodeError
from algorithms.paths import search_slots, warmest_paths_between
from api.graphql.common.checks import (
    check_range,
    checked_min_strength,
    community_key,
    require,
    require_community,
    require_customer,
)
from api.graphql.common.coverage import known_if_empty, writer_of
from api.graphql.common.cursors import decode_cursor, encode_cursor
from api.graphql.common.enums import CommunityAlgorithm, customer_property
from api.graphql.common.numbers import significant
from api.graphql.common.types import PageInfo, load_customers, with_customers
from api.graphql.context import context_value
from api.graphql.errors import ClientError
from api.graphql.network.types import (
    Community,
    CommunityConnection,
    CommunityEdge,
    InfluenceMetric,
    InfluenceScore,
    Path,
    ScopeInput,
    Subgraph,
    SubgraphNode,
    Tie,
)
from api.graphql.permissions import guarded_field
from api.security.auth import Permission
from graph.errors import NotFoundError, QueryTimeoutError
from graph.model import NodeLabel, TieKind
from graph.results import ResultProperty


async def warm_paths(
    info: strawberry.Info,
    sources: list[str],
    target: str,
    *,
    k: int,
    max_hops: int,
    kinds: list[TieKind],
    screen: bool = False,
) -> list[Path]:
    """Yen's k warmest paths (cost −log strength), read from the ties around both ends.

    ``screen``: no path starts from or goes through a customer who may not be contacted
    (no consent, or risk-flagged). A role that reads risk gets, instead, each path's
    uncontactable customers marked (``uncontactableIds``).
    """
    context = context_value(info)
    targets = context.repositories.referral_targets
    marks = context.principal.can(Permission.READ_RISK)
    deadline, timeout = context.search_deadline()
    by_request = timeout < context.settings.api_query_timeout_seconds
    what, limit = (
        ("the request", context.settings.api_request_timeout_seconds)
        if by_request
        else ("the warm-path search", timeout)
    )
    if timeout <= 0:
        raise QueryTimeoutError(what, limit)
    try:
        # the reads have the server-side timeout; the search in its thread stops at the
        # deadline, so the timeout ends the work and not only the wait; one search per
        # user at a time (the caller's subject owns its slot)
        found = await asyncio.wait_for(
            warmest_paths_between(
                context.store,
                sources,
                target,
                k=k,
                max_hops=max_hops,
                tie_kinds=tuple(kinds),
                deadline=deadline,
                slots=search_slots(context.settings.api_max_concurrent_searches),
                slot_wait=context.settings.api_search_wait_seconds,
                owner=context.principal.subject,
                screen=targets.uncontactable if screen else None,
            ),
            timeout=timeout,
        )
    except UnknownNodeError:
        return []  # the prospect is not in the graph: no path
    except TimeoutError:  # the wait's, or the search's own SearchDeadlineExceeded
        raise QueryTimeoutError(what, limit) from None
    barred: set[str] = set()
    if marks and found:
        barred = await targets.uncontactable([n for path in found for n in path.nodes])
    return [
        Path(
            customer_ids=[strawberry.ID(n) for n in path.nodes],
            hops=path.hops,
            strength=significant(path.strength),
            cost=significant(path.cost),
            screened=screen,
            uncontactable_ids=[strawberry.ID(n) for n in path.nodes if n in barred]
            if marks
            else None,
        )
        for path in found
    ]


async def require_scope(info: strawberry.Info, scope: ScopeInput | None) -> None:
    if scope is None:
        return
    if scope.scenario_id is not None:
        await require(info, NodeLabel.SCENARIO, str(scope.scenario_id))
    if scope.community_id is not None:
        await require_community(info, str(scope.community_id))
    customers = context_value(info).repositories.customers
    if scope.branch_id is not None and not await customers.branch_exists(scope.branch_id):
        raise NotFoundError("branch", scope.branch_id)


@guarded_field(Permission.READ_NETWORK, "Who a customer is tied to, up to `depth` ties away")
async def connections(
    info: strawberry.Info,
    customer_id: strawberry.ID,
    depth: int = 1,
    types: list[TieKind] | None = None,
    min_strength: float | None = None,
    first: int | None = 100,
) -> Subgraph | None:
    context = context_value(info)
    check_range("depth", depth, 1, 3)
    size = context.page_size(first)
    strength = checked_min_strength(min_strength)
    center = await require_customer(info, str(customer_id))
    found = await context.repositories.ties.neighbourhood(
        str(customer_id),
        kinds=types or list(TieKind),
        depth=depth,
        min_strength=strength,
        limit=size + 1,
    )
    kept = await with_customers(info, found.nodes[:size], lambda node: node[0])
    members = {str(customer_id), *(node[0] for node, _ in kept)}
    return Subgraph(
        center=center,
        nodes=[SubgraphNode(hops=hop, customer=customer) for (_, hop), customer in kept],
        ties=[
            Tie(
                from_id=strawberry.ID(t.src),
                to_id=strawberry.ID(t.dst),
                kind=TieKind(t.kind),
                strength=t.strength,
                since=t.since,
            )
            for t in found.ties
            if t.src in members and t.dst in members
        ],
        truncated=len(found.nodes) > size,
    )


@guarded_field(Permission.READ_NETWORK, "The k warmest paths of ties between two customers")
async def paths(
    info: strawberry.Info,
    from_id: strawberry.ID,
    to_id: strawberry.ID,
    k: int = 1,
    max_hops: int = 4,
    types: list[TieKind] | None = None,
) -> list[Path] | None:
    check_range("k", k, 1, 10)
    check_range("maxHops", max_hops, 1, 6)
    if from_id == to_id:
        raise ClientError("fromId and toId are the same customer")
    await require(info, NodeLabel.CUSTOMER, str(from_id), str(to_id))
    return await warm_paths(
        info, [str(from_id)], str(to_id), k=k, max_hops=max_hops, kinds=types or list(TieKind)
    )


@guarded_field(
    Permission.READ_NETWORK,
    "Communities with their profiles, largest first, each with the run that found it "
    "(`coverage`); NOT_COMPUTED for an algorithm that has no whole-graph run stored",
)
async def communities(
    info: strawberry.Info,
    algorithm: CommunityAlgorithm | None = CommunityAlgorithm.LOUVAIN,
    min_size: int = 1,
    first: int | None = 50,
    after: str | None = None,
) -> CommunityConnection | None:
    context = context_value(info)
    size = context.page_size(first)
    offset_text = decode_cursor("community", after)
    # ASCII digits only (isdigit() takes "²"), and an offset the database can skip to
    if offset_text is not None and not re.fullmatch(r"[0-9]{1,9}", offset_text):
        raise ClientError(f"after: {after!r} is not a communities cursor")
    offset = 0 if offset_text is None else int(offset_text) + 1
    records = await context.repositories.communities.page(
        algorithm=None if algorithm is None else algorithm.value,
        min_size=min_size,
        offset=offset,
        limit=size + 1,
    )
    edges = [
        CommunityEdge(cursor=encode_cursor("community", offset + i), node=Community.from_record(r))
        for i, r in enumerate(records[:size])
    ]
    if algorithm is not None:
        # no communities of an algorithm that never ran on the whole graph: unknown, not none
        await known_if_empty(info, algorithm.value, edges, whole_graph=True)
    return CommunityConnection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=len(records) > size, end_cursor=edges[-1].cursor if edges else None
        ),
    )


@guarded_field(Permission.READ_NETWORK)
async def community(info: strawberry.Info, id: strawberry.ID) -> Community | None:
    community_key(str(id))  # a clear error for a malformed id
    record = await context_value(info).loaders.community.load(str(id))
    if record is None:
        raise NotFoundError(NodeLabel.COMMUNITY.value, str(id))
    return Community.from_record(record)


@guarded_field(
    Permission.READ_NETWORK,
    "Highest stored influence scores, optionally within a scope: the whole-graph run's "
    "scores ranked among the scope's customers, each row with its run (`coverage`); "
    "NOT_COMPUTED when the metric's algorithm has no whole-graph run stored",
)
async def influencers(
    info: strawberry.Info,
    scope: ScopeInput | None = None,
    metric: InfluenceMetric = InfluenceMetric.PAGERANK,
    first: int | None = 20,
) -> list[InfluenceScore] | None:
    context = context_value(info)
    if metric is InfluenceMetric.EXPOSURE:
        context.principal.require(Permission.READ_RISK)
    if metric is InfluenceMetric.NETWORK_VALUE:
        # a blend of the AUM rank: ranking by it ranks wealth, which only those who read
        # exact figures may do (an RM's own-book variant is not offered)
        context.principal.require(Permission.READ_FINANCIALS)
    size = context.page_size(first)
    await require_scope(info, scope)
    community_property = community_id = None
    if scope is not None and scope.community_id is not None:
        algorithm, community_id = community_key(str(scope.community_id))
        community_property = customer_property(algorithm)
    found = await context.repositories.customers.influencers(
        metric.value,
        limit=size,
        scenario_id=None if scope is None or scope.scenario_id is None else str(scope.scenario_id),
        community_property=community_property,
        community=community_id,
        branch_id=None if scope is None else scope.branch_id,
        # marketing sees only customers it may contact (consent, not risk-flagged: the
        # screen of referral targets); risk roles see everyone, with the flag reasons
        contactable_only=not context.principal.can(Permission.READ_RISK),
    )
    writer = writer_of(metric.value)
    if writer is not None:
        # the scores are a whole-graph run's, ranked within the scope: none if it never ran
        await known_if_empty(info, writer, found, whole_graph=True)
    customers = await load_customers(info, [r.customer_id for r in found])
    # a personalised score means closeness to a seed set: say which, from its run
    seeds: dict[str | None, dict[str, object]] = {}
    if metric.value == ResultProperty.SCORE_PERSONALIZED_PAGERANK.value:
        for run_id in {r.run_id for r in found if r.run_id is not None}:
            run = await context.repositories.runs.get(run_id)
            seeds[run_id] = (run.parameters or {}) if run is not None else {}

    def seed(run_id: str | None, key: str) -> strawberry.ID | None:
        value = seeds.get(run_id, {}).get(key)
        return None if value is None else strawberry.ID(str(value))

    return [
        InfluenceScore(
            rank=rank,
            scope_rank=r.scope_rank,
            score=r.score
            if metric.value == ResultProperty.SCORE_EXPOSURE.value
            else significant(r.score),
            metric=metric,
            run_id=r.run_id,
            customer=customers[r.customer_id],
            flags=r.risk_flags,
            seed_product_id=seed(r.run_id, "seed_product_id"),
            seed_scenario_id=seed(r.run_id, "seed_scenario_id"),
        )
        for rank, r in enumerate(found, start=1)
        if r.customer_id in customers
    ]
