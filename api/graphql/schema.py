"""The root fields: what RMs, marketers, risk analysts and admins ask the graph.

Resolvers read stored algorithm results or run bounded Cypher (k-hop neighbourhoods, the
ties around two customers for a warm-path search); nothing recomputes a whole-graph
algorithm per request. Permissions are checked first in every resolver that needs one.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Any, Literal

import strawberry
from pydantic import ValidationError
from strawberry.scalars import JSON
from strawberry.tools import merge_types

from algorithms.graphdata import GraphData, UnknownNodeError
from algorithms.inproc import risk
from algorithms.paths import search_slots, warmest_paths_between
from algorithms.registry import REGISTRY, AlgorithmSpec, Engine
from algorithms.runner import RISK_RATING_LIMIT
from api.graphql.context import context_value
from api.graphql.errors import ClientError
from api.graphql.explorer_layout import ExplorerQuery
from api.graphql.performance import CrkgSchema, cached_validation
from api.graphql.types import (
    AlgorithmName,
    AlgorithmRun,
    Community,
    CommunityAlgorithm,
    CommunityConnection,
    CommunityEdge,
    Customer,
    CustomerConnection,
    CustomerInput,
    Exposure,
    ExposureDirection,
    GuaranteeCircle,
    InfluenceMetric,
    InfluenceScore,
    Introducer,
    Job,
    PageInfo,
    Path,
    Principal,
    ReferralReasons,
    ReferralTarget,
    RejectedRow,
    RelatedPartyGroup,
    RingKind,
    RiskRing,
    ScopeInput,
    Shareholding,
    Subgraph,
    SubgraphNode,
    Tie,
    TieInput,
    UpsertResult,
    community_key,
    customer_connection,
    decode_cursor,
    encode_cursor,
    load_customer,
    load_customers,
)
from api.security.auth import ROLE_PERMISSIONS, Permission
from api.security.limits import schema_config, security_extensions
from graph.errors import NotComputedError, NotFoundError, QueryTimeoutError
from graph.model import NodeLabel, TieKind, Tier
from graph.repositories.analytics import AnalyticsRepository
from graph.settings import CrkgSettings

# Bounds of the on-request graph queries (beyond them the answer says it was cut).
MAX_EXPOSURE_EDGES = 50_000


async def _warm_paths(
    info: strawberry.Info,
    sources: list[str],
    target: str,
    *,
    k: int,
    max_hops: int,
    kinds: list[TieKind],
) -> list[Path]:
    """Yen's k warmest paths (cost −log strength), read from the ties around both ends."""
    context = context_value(info)
    timeout = context.settings.api_query_timeout_seconds
    try:
        # the reads have the server-side timeout; the search in its thread stops at the
        # deadline, so the timeout ends the work and not only the wait
        found = await asyncio.wait_for(
            warmest_paths_between(
                context.store,
                sources,
                target,
                k=k,
                max_hops=max_hops,
                tie_kinds=tuple(kinds),
                deadline=time.monotonic() + timeout,
                slots=search_slots(context.settings.api_max_concurrent_searches),
            ),
            timeout=timeout,
        )
    except UnknownNodeError:
        return []  # the prospect is not in the graph: no path
    except TimeoutError:  # the wait's, or the search's own SearchDeadlineExceeded
        raise QueryTimeoutError("the warm-path search", timeout) from None
    return [
        Path(
            customer_ids=[strawberry.ID(n) for n in path.nodes],
            hops=path.hops,
            strength=path.strength,
            cost=path.cost,
        )
        for path in found
    ]


async def _require(info: strawberry.Info, label: NodeLabel, *ids: str) -> None:
    """NOT_FOUND for the first of ``ids`` that names no ``label``: unknown is not empty."""
    missing = await context_value(info).views.missing(label, list(ids))
    if missing:
        raise NotFoundError(label.value, missing[0])


async def _require_customer(info: strawberry.Info, customer_id: str) -> Customer:
    customer = await load_customer(info, customer_id)
    if customer is None:
        raise NotFoundError(NodeLabel.CUSTOMER.value, customer_id)
    return customer


async def _require_community(info: strawberry.Info, community_id: str) -> None:
    community_key(community_id)  # a clear error for a malformed id first
    if await context_value(info).loaders.community.load(community_id) is None:
        raise NotFoundError("Community", community_id)


async def _require_scope(info: strawberry.Info, scope: ScopeInput | None) -> None:
    if scope is None:
        return
    if scope.scenario_id is not None:
        await _require(info, NodeLabel.SCENARIO, str(scope.scenario_id))
    if scope.community_id is not None:
        await _require_community(info, str(scope.community_id))
    if scope.branch_id is not None and not await context_value(info).views.branch_exists(
        scope.branch_id
    ):
        raise NotFoundError("branch", scope.branch_id)


def _check_range(name: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise ClientError(f"{name} must be between {low} and {high}, got {value}")


@strawberry.type
class Query:
    @strawberry.field(description="Who you are, as the API sees you")
    def me(self, info: strawberry.Info) -> Principal:
        principal = context_value(info).principal
        return Principal(
            subject=principal.subject,
            role=principal.role.value,
            rm_id=None if principal.rm_id is None else strawberry.ID(principal.rm_id),
            permissions=sorted(p.value for p in ROLE_PERMISSIONS[principal.role]),
        )

    @strawberry.field(description="A customer's 360 view")
    async def customer(self, info: strawberry.Info, id: strawberry.ID) -> Customer | None:
        context_value(info).principal.require(Permission.READ_CUSTOMERS)
        return await _require_customer(info, str(id))

    @strawberry.field(description="Customers in id order, filtered; Relay-style pages")
    async def customers(
        self,
        info: strawberry.Info,
        search: str | None = None,
        tier: Tier | None = None,
        scenario_id: strawberry.ID | None = None,
        community_id: strawberry.ID | None = None,
        first: int | None = 50,
        after: str | None = None,
    ) -> CustomerConnection | None:
        context_value(info).principal.require(Permission.READ_CUSTOMERS)
        context = context_value(info)
        size = context.page_size(first)
        if search is not None and not search.strip():
            raise ClientError("search must not be blank")
        community_property = community = None
        if community_id is not None:
            await _require_community(info, str(community_id))
            algorithm, community = community_key(str(community_id))
            community_property = algorithm.customer_property
        if scenario_id is not None:
            await _require(info, NodeLabel.SCENARIO, str(scenario_id))
        principal = context.principal
        # who may match names: admins all; an RM their own book (names they may unmask);
        # everyone else exact ids only, so masked names cannot be probed by search
        if principal.can(Permission.READ_PII_ALL):
            search_mode: Literal["names", "book_names", "id"] = "names"
        elif principal.can(Permission.READ_PII_OWN_BOOK) and principal.rm_id is not None:
            search_mode = "book_names"
        else:
            search_mode = "id"
        ids = await context.views.customer_page(
            after=decode_cursor("customer", after) or "",
            limit=size + 1,
            search=search,
            search_mode=search_mode,
            book_rm_id=principal.rm_id,
            tier=None if tier is None else tier.value,
            scenario_id=None if scenario_id is None else str(scenario_id),
            community_property=community_property,
            community=community,
        )
        return await customer_connection(info, ids, size)

    @strawberry.field(description="Who a customer is tied to, up to `depth` ties away")
    async def connections(
        self,
        info: strawberry.Info,
        customer_id: strawberry.ID,
        depth: int = 1,
        types: list[TieKind] | None = None,
        min_strength: float | None = None,
        first: int | None = 100,
    ) -> Subgraph | None:
        context_value(info).principal.require(Permission.READ_NETWORK)
        context = context_value(info)
        _check_range("depth", depth, 1, 3)
        size = context.page_size(first)
        strength = 0.0 if min_strength is None else min_strength
        if not 0.0 <= strength <= 1.0:
            raise ClientError(f"minStrength must be between 0 and 1, got {strength}")
        center = await _require_customer(info, str(customer_id))
        found = await context.views.neighbourhood(
            str(customer_id),
            kinds=types or list(TieKind),
            depth=depth,
            min_strength=strength,
            limit=size + 1,
        )
        kept = found.nodes[:size]
        customers = {
            str(c.row["customer_id"]): c for c in await load_customers(info, [i for i, _ in kept])
        }
        members = {str(customer_id), *customers}
        return Subgraph(
            center=center,
            nodes=[
                SubgraphNode(hops=hop, customer=customers[i]) for i, hop in kept if i in customers
            ],
            ties=[
                Tie(
                    from_id=strawberry.ID(t["src"]),
                    to_id=strawberry.ID(t["dst"]),
                    kind=TieKind(t["kind"]),
                    strength=t.get("strength"),
                    since=t.get("since"),
                )
                for t in found.ties
                if t["src"] in members and t["dst"] in members
            ],
            truncated=len(found.nodes) > size,
        )

    @strawberry.field(description="The k warmest paths of ties between two customers")
    async def paths(
        self,
        info: strawberry.Info,
        from_id: strawberry.ID,
        to_id: strawberry.ID,
        k: int = 1,
        max_hops: int = 4,
        types: list[TieKind] | None = None,
    ) -> list[Path] | None:
        context_value(info).principal.require(Permission.READ_NETWORK)
        _check_range("k", k, 1, 10)
        _check_range("maxHops", max_hops, 1, 6)
        if from_id == to_id:
            raise ClientError("fromId and toId are the same customer")
        await _require(info, NodeLabel.CUSTOMER, str(from_id), str(to_id))
        return await _warm_paths(
            info, [str(from_id)], str(to_id), k=k, max_hops=max_hops, kinds=types or list(TieKind)
        )

    @strawberry.field(
        description="Warmest paths from an RM's book (yours by default) to a prospect"
    )
    async def referral_paths(
        self,
        info: strawberry.Info,
        to_customer_id: strawberry.ID,
        from_rm_id: strawberry.ID | None = None,
        k: int = 3,
        max_hops: int = 4,
    ) -> list[Path] | None:
        context_value(info).principal.require(Permission.READ_TARGETS)
        context = context_value(info)
        _check_range("k", k, 1, 10)
        _check_range("maxHops", max_hops, 1, 6)
        rm_id = str(from_rm_id) if from_rm_id is not None else context.principal.rm_id
        if rm_id is None:
            raise ClientError("fromRmId is required unless you are an RM")
        await _require(info, NodeLabel.RELATIONSHIP_MANAGER, rm_id)
        await _require(info, NodeLabel.CUSTOMER, str(to_customer_id))
        book = await AnalyticsRepository(context.store).rm_book(rm_id)
        book = [c for c in book if c != str(to_customer_id)]
        if not book:
            return []
        return await _warm_paths(
            info, book, str(to_customer_id), k=k, max_hops=max_hops, kinds=list(TieKind)
        )

    @strawberry.field(description="Communities with their profiles, largest first")
    async def communities(
        self,
        info: strawberry.Info,
        algorithm: CommunityAlgorithm | None = CommunityAlgorithm.LOUVAIN,
        min_size: int = 1,
        first: int | None = 50,
        after: str | None = None,
    ) -> CommunityConnection | None:
        context_value(info).principal.require(Permission.READ_NETWORK)
        context = context_value(info)
        size = context.page_size(first)
        offset_text = decode_cursor("community", after)
        # ASCII digits only (isdigit() takes "²"), and an offset the database can skip to
        if offset_text is not None and not re.fullmatch(r"[0-9]{1,9}", offset_text):
            raise ClientError(f"after: {after!r} is not a communities cursor")
        offset = 0 if offset_text is None else int(offset_text) + 1
        rows = await context.views.community_page(
            algorithm=None if algorithm is None else algorithm.value,
            min_size=min_size,
            offset=offset,
            limit=size + 1,
        )
        edges = [
            CommunityEdge(cursor=encode_cursor("community", offset + i), node=Community.from_row(r))
            for i, r in enumerate(rows[:size])
        ]
        return CommunityConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=len(rows) > size, end_cursor=edges[-1].cursor if edges else None
            ),
        )

    @strawberry.field
    async def community(self, info: strawberry.Info, id: strawberry.ID) -> Community | None:
        context_value(info).principal.require(Permission.READ_NETWORK)
        community_key(str(id))  # a clear error for a malformed id
        row = await context_value(info).loaders.community.load(str(id))
        if row is None:
            raise NotFoundError("Community", str(id))
        return Community.from_row(row)

    @strawberry.field(description="Highest stored influence scores, optionally within a scope")
    async def influencers(
        self,
        info: strawberry.Info,
        scope: ScopeInput | None = None,
        metric: InfluenceMetric = InfluenceMetric.PAGERANK,
        first: int | None = 20,
    ) -> list[InfluenceScore] | None:
        context_value(info).principal.require(Permission.READ_NETWORK)
        context = context_value(info)
        if metric is InfluenceMetric.EXPOSURE:
            context.principal.require(Permission.READ_RISK)
        size = context.page_size(first)
        await _require_scope(info, scope)
        community_property = community = None
        if scope is not None and scope.community_id is not None:
            algorithm, community = community_key(str(scope.community_id))
            community_property = algorithm.customer_property
        rows = await context.views.influencers(
            metric.value,
            limit=size,
            scenario_id=None
            if scope is None or scope.scenario_id is None
            else str(scope.scenario_id),
            community_property=community_property,
            community=community,
            branch_id=None if scope is None else scope.branch_id,
        )
        customers = {
            str(c.row["customer_id"]): c
            for c in await load_customers(info, [r["id"] for r in rows])
        }
        return [
            InfluenceScore(
                rank=rank,
                score=float(r["score"]),
                metric=metric,
                run_id=r.get("run_id"),
                customer=customers[r["id"]],
            )
            for rank, r in enumerate(rows, start=1)
            if r["id"] in customers
        ]

    @strawberry.field(description="Whom to target for a product (consenting, not risk-flagged)")
    async def referral_targets(
        self,
        info: strawberry.Info,
        product_id: strawberry.ID,
        scenario_id: strawberry.ID | None = None,
        first: int | None = 50,
    ) -> list[ReferralTarget] | None:
        context = context_value(info)
        context.principal.require(Permission.READ_TARGETS)
        size = context.page_size(first)
        product = str(product_id)
        scenario = None if scenario_id is None else str(scenario_id)
        await _require(info, NodeLabel.PRODUCT, product)
        if scenario is not None:
            await _require(info, NodeLabel.SCENARIO, scenario)
        # answered from a run for exactly this (product, scenario); the bank-wide run is not
        # filtered to a scenario silently: a missing run is an error that says what to run
        scenario_key = scenario or "*"
        if not await _referral_run_covers(info, product, scenario):
            where = "bank-wide" if scenario is None else f"in scenario {scenario}"
            command = f"crkg algo run referral_targets -p product_id={product}"
            if scenario is not None:
                command += f" -p scenario_id={scenario}"
            raise NotComputedError(
                f"no referral_targets run has scored product {product} {where}",
                hint=f"run `{command}` (or the runAlgorithm mutation with these params)",
            )
        rows = await context.views.referral_targets(
            product,
            scenario_key=scenario_key,
            scenario_id=scenario,
            limit=size,
            risk_rating_limit=RISK_RATING_LIMIT,
        )
        customers = {
            str(c.row["customer_id"]): c
            for c in await load_customers(info, [r["id"] for r in rows])
        }
        return [_referral_target(r, customers[r["id"]]) for r in rows if r["id"] in customers]

    @strawberry.field(description="Guarantee circles up to maxLength customers")
    async def guarantee_circles(
        self, info: strawberry.Info, max_length: int = 6, first: int | None = 50
    ) -> list[GuaranteeCircle] | None:
        context = context_value(info)
        context.principal.require(Permission.READ_RISK)
        _check_range("maxLength", max_length, 2, 10)
        size = context.page_size(first)
        rows = await context.views.linkages(
            "GUARANTEE_CIRCLE", min_size=2, max_size=max_length, limit=size
        )
        return [
            GuaranteeCircle(
                id=strawberry.ID(r.properties["linkage_id"]),
                kind=str(r.properties.get("subtype")),
                length=int(r.properties["size"]),
                total_amount=r.properties.get("amount"),
                member_rows=r.members,
                run_id=r.properties.get("run_id"),
            )
            for r in rows
        ]

    @strawberry.field(description="Shared-identifier rings or time-ordered fund-flow cycles")
    async def risk_rings(
        self, info: strawberry.Info, kind: RingKind, min_size: int = 2, first: int | None = 50
    ) -> list[RiskRing] | None:
        context = context_value(info)
        context.principal.require(Permission.READ_RISK)
        size = context.page_size(first)
        rows = await context.views.linkages(
            kind.value, min_size=min_size, max_size=1_000_000, limit=size
        )
        return [
            RiskRing(
                id=strawberry.ID(r.properties["linkage_id"]),
                kind=kind,
                size=int(r.properties["size"]),
                score=r.properties.get("score"),
                amount=r.properties.get("amount"),
                run_id=r.properties.get("run_id"),
                member_rows=r.members,
            )
            for r in rows
        ]

    @strawberry.field(
        description="Guarantee exposure within `hops`, decayed per hop; by default OUT (whom "
        "the customer guarantees, onwards), as the stored exposure score is computed"
    )
    async def exposure(
        self,
        info: strawberry.Info,
        customer_id: strawberry.ID,
        hops: int = 2,
        decay: float = 0.5,
        direction: ExposureDirection = ExposureDirection.OUT,
    ) -> Exposure | None:
        context = context_value(info)
        context.principal.require(Permission.READ_RISK)
        _check_range("hops", hops, 1, 4)
        if not 0.0 <= decay <= 1.0:
            raise ClientError(f"decay must be between 0 and 1, got {decay}")
        center = await _require_customer(info, str(customer_id))
        edges = await context.views.guarantees_around(
            str(customer_id), hops=hops, limit=MAX_EXPOSURE_EDGES
        )
        graph = GraphData.from_edges(
            [(s, d) for s, d, _ in edges],
            nodes=[str(customer_id)],
            directed=True,
            amount=[a for _, _, a in edges],
        )
        result = await asyncio.to_thread(
            risk.exposure,
            graph,
            str(customer_id),
            hops=hops,
            decay=decay,
            direction=direction.value,
        )
        parties = sorted(result.parties, key=lambda p: (p.hop, -p.weighted_amount, p.node_id))
        return Exposure(
            customer=center,
            hops=hops,
            decay=decay,
            direction=direction,
            total=result.total,
            by_hop=list(result.by_hop),
            party_count=len(parties),
            truncated=len(edges) >= MAX_EXPOSURE_EDGES,
            party_rows=parties,
        )

    @strawberry.field(description="The related-party (control) group a customer belongs to")
    async def related_party_group(
        self, info: strawberry.Info, customer_id: strawberry.ID
    ) -> RelatedPartyGroup | None:
        context = context_value(info)
        context.principal.require(Permission.READ_RISK)
        await _require(info, NodeLabel.CUSTOMER, str(customer_id))
        found = await context.views.control_group(str(customer_id))
        if found is None:
            return None
        row, holdings = found
        controller_id = next((m["id"] for m in row.members if m.get("role") == "CONTROLLER"), None)
        return RelatedPartyGroup(
            id=strawberry.ID(row.properties["linkage_id"]),
            size=len(row.members),
            controller=None if controller_id is None else await load_customer(info, controller_id),
            member_rows=row.members,
            shareholdings=[
                Shareholding(
                    holder_id=strawberry.ID(h["src"]),
                    company_id=strawberry.ID(h["dst"]),
                    pct=float(h["pct"]),
                )
                for h in holdings
            ],
            run_id=row.properties.get("run_id"),
        )

    @strawberry.field(description="Recorded algorithm runs, newest first")
    async def algorithm_runs(
        self,
        info: strawberry.Info,
        name: AlgorithmName | None = None,
        first: int | None = 20,
    ) -> list[AlgorithmRun] | None:
        context = context_value(info)
        context.principal.require(Permission.READ_RUNS)
        size = context.page_size(first)
        rows = await context.views.algorithm_runs(None if name is None else name.value, size)
        return [AlgorithmRun.from_row(r) for r in rows]

    @strawberry.field(description="An algorithm job started with runAlgorithm")
    def job(self, info: strawberry.Info, id: strawberry.ID) -> Job | None:
        context = context_value(info)
        context.principal.require(Permission.READ_RUNS)
        job = context.jobs.get(str(id))
        if job is None:
            raise NotFoundError("job", str(id))
        return _job(job)


async def _referral_run_covers(info: strawberry.Info, product: str, scenario: str | None) -> bool:
    """Whether a succeeded ``referral_targets`` run scored ``product`` for ``scenario``.

    A run covers the product it names (or every product, with ``product_id`` null) within
    the scenario it names (or bank-wide, with ``scenario_id`` null).
    """
    views = context_value(info).views
    for run in await views.algorithm_runs("referral_targets", REFERRAL_RUNS_SEARCHED):
        if run.get("status") != "SUCCEEDED":
            continue
        parameters = json.loads(run.get("parameters_json") or "{}")
        if parameters.get("scenario_id") == scenario and parameters.get("product_id") in (
            None,
            product,
        ):
            return True
    return False


# the newest referral_targets runs searched for one that covers a (product, scenario)
REFERRAL_RUNS_SEARCHED = 1_000


def _referral_target(row: dict[str, Any], customer: Customer) -> ReferralTarget:
    introducers = json_list(row.get("introducers_json"))
    return ReferralTarget(
        rank=int(row["rank"]),
        score=float(row["score"]),
        reasons=ReferralReasons(
            adamic_adar=row.get("adamic_adar"),
            common_neighbors=row.get("common_neighbors"),
            resource_allocation=row.get("resource_allocation"),
            adoption_rate=row.get("adoption_rate"),
            tie_strength=row.get("tie_strength"),
            introducer_influence=row.get("introducer_influence"),
        ),
        introducers=[
            Introducer(
                score=float(i.get("score", 0.0)),
                common_neighbors=int(i.get("common_neighbors", 0)),
                customer_id=strawberry.ID(str(i["customer_id"])),
                path_ids=[strawberry.ID(str(p)) for p in i.get("path") or []],
            )
            for i in introducers
        ],
        run_id=row.get("run_id"),
        customer=customer,
    )


def json_list(text: Any) -> list[dict[str, Any]]:
    if not isinstance(text, str) or not text:
        return []
    value = json.loads(text)
    return value if isinstance(value, list) else []


def _job(job: Any) -> Job:
    return Job(
        id=strawberry.ID(job.job_id),
        algorithm=job.algorithm,
        status=job.status.value,
        engine=job.engine.value,
        parameters=job.parameters,
        requested_by=job.requested_by,
        created_at=job.created_at,
        finished_at=job.finished_at,
        error=job.error,
        run_id=None if job.run_id is None else strawberry.ID(job.run_id),
    )


def _snake_case(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _camel_case(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def algorithm_parameters(spec: AlgorithmSpec, params: dict[str, Any]) -> dict[str, Any]:
    """``params`` in GraphQL's spelling (camelCase; snake_case is accepted too), validated.

    A refusal is one line per bad parameter, in the API's words and spelling.
    """
    parameters: dict[str, Any] = {}
    for given, value in params.items():
        key = _snake_case(given)
        if key in parameters:
            raise ClientError(f"{spec.name}: parameter {_camel_case(key)} is given twice")
        parameters[key] = value
    try:
        spec.params.model_validate(parameters)
    except ValidationError as error:
        known = ", ".join(_camel_case(f) for f in spec.params.model_fields)
        lines = []
        for problem in error.errors():
            field = ".".join(_camel_case(str(p)) for p in problem["loc"]) or "params"
            if problem["type"] == "extra_forbidden":
                lines.append(f"  {field}: not a parameter of {spec.name} (known: {known})")
            else:
                got = "" if problem["type"] == "missing" else f" (got {problem['input']!r})"
                message = problem["msg"].removeprefix("Value error, ")
                lines.append(f"  {field}: {message[:1].lower()}{message[1:]}{got}")
        noun = "parameter" if len(lines) == 1 else "parameters"
        raise ClientError("\n".join([f"{spec.name}: {len(lines)} bad {noun}", *lines])) from None
    return parameters


MAX_UPSERT_ROWS = 1_000


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Start an algorithm run; poll job(id) until it is done")
    async def run_algorithm(
        self,
        info: strawberry.Info,
        name: AlgorithmName,
        params: JSON | None = None,
        engine: Engine = Engine.AUTO,
    ) -> Job | None:
        context = context_value(info)
        context.principal.require(Permission.RUN_ALGORITHMS)
        if params is not None and not isinstance(params, dict):
            raise ClientError("params must be a JSON object of parameter names to values")
        spec = REGISTRY[name.value]
        parameters = algorithm_parameters(spec, params or {})  # refused now, not in the background
        if engine is not Engine.AUTO and engine not in spec.engines:
            raise ClientError(f"{spec.name} has no {engine.value} engine")
        job = context.jobs.submit(spec.name, parameters, engine, context.principal.subject)
        return _job(job)

    @strawberry.mutation(description="Create or update customers (the customers.csv rules)")
    async def upsert_customers(
        self, info: strawberry.Info, input: list[CustomerInput]
    ) -> UpsertResult | None:
        records = [{k: v for k, v in vars(row).items() if v is not None} for row in input]
        return await _upsert(info, "customers", records)

    @strawberry.mutation(description="Create or update social ties (the social.csv rules)")
    async def upsert_ties(
        self, info: strawberry.Info, input: list[TieInput]
    ) -> UpsertResult | None:
        records = [
            {
                k: (v.value if isinstance(v, TieKind) else v)
                for k, v in vars(row).items()
                if v is not None
            }
            for row in input
        ]
        return await _upsert(info, "social", records)


async def _upsert(
    info: strawberry.Info, file_name: str, records: list[dict[str, Any]]
) -> UpsertResult:
    from loaders.pipeline import Loader  # the file loader's rules, for rows from the API

    context = context_value(info)
    context.principal.require(Permission.WRITE_DATA)
    if not records:
        raise ClientError("input is empty")
    if len(records) > MAX_UPSERT_ROWS:
        raise ClientError(
            f"input has {len(records)} rows; at most {MAX_UPSERT_ROWS} per request "
            "(use `crkg load` for files)"
        )
    text_records = [{k: _as_text(v) for k, v in r.items()} for r in records]
    loader = Loader(context.store, context.settings)
    outcome = await loader.load_records(
        file_name, text_records, source=f"graphql:{context.principal.subject}"
    )
    return UpsertResult(
        load_run_id=outcome.run_id,
        received=len(records),
        loaded=outcome.report.rows_loaded,
        changed=outcome.report.rows_changed,
        rejected=[
            RejectedRow(
                index=reject.line - 1,
                field=reject.column,
                reason=reject.reason.value,
                message=reject.message,
            )
            for reject in outcome.rejects
        ],
    )


def _as_text(value: Any) -> Any:
    """GraphQL gives typed values; the file rules read text (as CSV cells)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    return value


def build_schema(settings: CrkgSettings) -> strawberry.Schema:
    """The schema with the abuse limits and error masking of ``api.security``."""
    return CrkgSchema(
        query=merge_types("Query", (Query, ExplorerQuery)),  # the explorer page's own fields
        mutation=Mutation,
        extensions=[*security_extensions(settings), cached_validation()],
        config=schema_config(settings),
    )
