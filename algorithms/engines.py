"""The two engines behind one interface: GDS inside Neo4j, and in-process.

Both take the same undirected, strength-weighted customer tie graph and return one value per
customer id, so the runner (and the parity tests) treat them alike.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import neo4j.exceptions as neo4j_errors
import numpy as np

from algorithms.graphdata import GraphData
from algorithms.inproc import centrality, community, risk
from algorithms.registry import (
    AlgorithmParams,
    AlgorithmSpec,
    BetweennessParams,
    CommunityParams,
    ControlGroupParams,
    FundCycleParams,
    GuaranteeCircleParams,
    IdentifierRingParams,
    PageRankParams,
    PersonalizedPageRankParams,
)
from graph.errors import QueryFailedError
from graph.model import TieKind
from graph.queries.analytics import GDS_NODE_KEYS, RELATIONSHIP_TYPES, gds_cypher_projection
from graph.repositories.analytics import TieColumns
from graph.store import ConnectionTarget

NodeValues = dict[str, float | int]


def tie_graph(
    customers: Sequence[str], ties: Sequence[tuple[str, str, float]] | TieColumns
) -> GraphData:
    """The undirected customer tie graph weighted by strength, every customer a node.

    Ties whose ends are not among ``customers`` are left out (a scope cuts them off).
    """
    if not isinstance(ties, TieColumns):
        ties = TieColumns([s for s, _, _ in ties], [d for _, d, _ in ties], [w for *_, w in ties])
    index = {customer: i for i, customer in enumerate(customers)}
    src = np.fromiter((index.get(s, -1) for s in ties.src), dtype=np.int64, count=len(ties))
    dst = np.fromiter((index.get(d, -1) for d in ties.dst), dtype=np.int64, count=len(ties))
    weight = np.asarray(ties.weight, dtype=np.float64)
    inside = (src >= 0) & (dst >= 0)
    return GraphData.from_arrays(
        list(index), src[inside], dst[inside], directed=False, weight=weight[inside]
    )


def run_inproc(
    spec: AlgorithmSpec,
    params: AlgorithmParams,
    customers: Sequence[str],
    ties: Sequence[tuple[str, str, float]] | TieColumns,
    *,
    seeds: Sequence[str] = (),
) -> tuple[NodeValues, dict[str, Any]]:
    """Compute in this process (CPU-bound: call it from a worker thread)."""
    return compute_inproc(spec, params, tie_graph(customers, ties), seeds=seeds)


def compute_inproc(
    spec: AlgorithmSpec, params: AlgorithmParams, graph: GraphData, *, seeds: Sequence[str] = ()
) -> tuple[NodeValues, dict[str, Any]]:
    """The algorithm alone, on a graph already built (what the benchmark times)."""
    summary: dict[str, Any] = {}
    if spec.name in ("wcc", "louvain", "leiden", "label_propagation"):
        modularity: float | None = None
        if spec.name == "wcc":
            found = community.weakly_connected_components(graph)
            modularity = community.component_modularity(graph, found.labels)
        elif spec.name == "louvain":
            assert isinstance(params, CommunityParams)
            found = community.louvain(graph, resolution=params.resolution, seed=params.seed)
        elif spec.name == "leiden":
            assert isinstance(params, CommunityParams)
            found = community.leiden(graph, resolution=params.resolution, seed=params.seed)
        else:
            found = community.label_propagation(graph, seed=params.seed)
        if modularity is None and getattr(params, "resolution", 1.0) == 1.0:
            modularity = found.modularity  # Louvain, Leiden, label propagation computed it

        summary["communities"] = found.n_communities
        summary["modularity"] = (
            community.modularity(graph, found.labels) if modularity is None else modularity
        )
        return dict(zip(found.node_ids, found.labels.tolist(), strict=True)), summary
    scores: centrality.NodeScores
    if spec.name == "personalized_pagerank":
        assert isinstance(params, PersonalizedPageRankParams)
        in_graph = set(graph.node_ids)  # once: a product can have 100k holders
        known = [seed for seed in seeds if seed in in_graph]
        if not known:
            raise ValueError("no seed customer (holder or participant) in the graph")
        summary["seeds"] = len(known)
        scores = centrality.personalized_pagerank(graph, known, **_pagerank_options(params))
    elif spec.name == "pagerank":
        assert isinstance(params, PageRankParams)
        scores = centrality.pagerank(graph, **_pagerank_options(params))
    elif spec.name == "degree":
        scores = centrality.degree(graph)
    elif spec.name == "betweenness":
        assert isinstance(params, BetweennessParams)
        pivots = None if params.samples is None else min(params.samples, len(graph.node_ids))
        scores = centrality.betweenness(graph, k=pivots, seed=params.seed, normalized=False)
    else:
        raise ValueError(f"no in-process implementation of {spec.name}")
    return scores.as_dict(), summary


def _pagerank_options(params: PageRankParams) -> dict[str, Any]:
    """The same PageRank settings for the plain and the personalised run."""
    return {
        "alpha": params.damping,
        "weighted": True,
        "tol": params.tolerance,
        "max_iter": params.max_iterations,
    }


def run_gds(
    spec: AlgorithmSpec,
    params: AlgorithmParams,
    target: ConnectionTarget,
    *,
    cypher_projection: tuple[str, dict[str, Any]] | None = None,
    source_nodes: Sequence[int] = (),
) -> tuple[NodeValues, dict[str, Any]]:
    """Project, compute and drop inside Neo4j with the graphdatascience client (blocking).

    Without ``cypher_projection`` the whole tie graph is projected natively; with it (a scope
    or ``min_strength``) the query from :func:`graph.queries.analytics.gds_cypher_projection`
    and its parameters (``$graph_name`` is added here) project the scoped graph. Either way the
    projection is uniquely named and dropped when the run ends. ``source_nodes`` are the
    Neo4j node ids personalised PageRank teleports to.
    """
    gds = gds_client(target)
    name = f"crkg-{spec.name}-{uuid.uuid4().hex[:12]}"
    summary: dict[str, Any] = {}
    try:
        return _run_gds(gds, spec, params, name, summary, cypher_projection, source_nodes)
    except neo4j_errors.Neo4jError as error:  # one clear error, never the client's traceback
        detail = (error.message or str(error)).strip().splitlines()
        raise QueryFailedError(
            f"GDS {spec.name}", error.code, detail[0] if detail else type(error).__name__
        ) from error
    finally:
        gds.close()


def _run_gds(
    gds: Any,
    spec: AlgorithmSpec,
    params: AlgorithmParams,
    name: str,
    summary: dict[str, Any],
    cypher_projection: tuple[str, dict[str, Any]] | None,
    source_nodes: Sequence[int],
) -> tuple[NodeValues, dict[str, Any]]:
    # GDS refuses a native projection of a relationship type the database has never held
    # (a bank without CLASSMATE ties): project the kinds present; none present -> Cypher.
    present = set(gds.run_cypher(RELATIONSHIP_TYPES)["types"][0])
    kinds = tuple(kind for kind in params.tie_kinds if kind.value in present)
    summary["tie_kinds_absent"] = [k.value for k in params.tie_kinds if k.value not in present]
    if cypher_projection is None and not kinds:
        cypher_projection = (gds_cypher_projection(tuple(params.tie_kinds)), {"min_strength": 0.0})
    with _projected(gds, name, kinds, params.min_strength, cypher_projection) as graph:
        frame = _gds_stream(gds, spec, params, graph, source_nodes)
        summary["projected_nodes"] = int(graph.node_count())
        summary["projected_relationships"] = int(graph.relationship_count())
    column = (
        "componentId"
        if spec.name == "wcc"
        else ("communityId" if "communityId" in frame.columns else "score")
    )
    keys = gds.run_cypher(GDS_NODE_KEYS, {"ids": [int(i) for i in frame["nodeId"]]})
    ids = dict(zip(keys["ids"][0], keys["customer_ids"][0], strict=True))
    values: NodeValues = {
        ids[int(node)]: (int(value) if column != "score" else float(value))
        for node, value in zip(frame["nodeId"], frame[column], strict=True)
    }
    if spec.name in ("pagerank", "personalized_pagerank"):
        # GDS does not normalise; stored scores sum to 1 on both engines
        total = sum(values.values()) or 1.0
        values = {k: float(v) / total for k, v in values.items()}
    return values, summary


def gds_client(target: ConnectionTarget) -> Any:
    """A ``graphdatascience`` client over Bolt (no Arrow: the open GDS has no Arrow server)."""
    from graphdatascience import GraphDataScience

    return GraphDataScience(
        target.uri,
        auth=(target.user, target.password),
        database=target.database,
        arrow=False,
        show_progress=False,
    )


def native_tie_projection(tie_kinds: Sequence[TieKind]) -> dict[str, Any]:
    """The relationship projection of the tie graph: undirected, weighted by strength."""
    return {
        kind.value: {
            "type": kind.value,
            "orientation": "UNDIRECTED",
            "properties": {"strength": {"property": "strength", "defaultValue": 1.0}},
        }
        for kind in tie_kinds
    }


@contextmanager
def _projected(
    gds: Any,
    name: str,
    kinds: Sequence[TieKind],
    min_strength: float,
    cypher_projection: tuple[str, dict[str, Any]] | None,
) -> Iterator[Any]:
    """The tie graph projected under ``name``, dropped on exit whatever happens."""
    if cypher_projection is None:
        if min_strength > 0:
            raise ValueError("min_strength on GDS needs the Cypher projection")
        with gds.graph.project.native(name, "Customer", native_tie_projection(kinds)) as graph:
            yield graph
        return
    query, query_params = cypher_projection
    gds.run_cypher(query, {**query_params, "graph_name": name})
    try:
        yield gds.graph.get(name)
    finally:
        gds.graph.drop(name, fail_if_missing=False)


def _gds_stream(
    gds: Any,
    spec: AlgorithmSpec,
    params: AlgorithmParams,
    graph: Any,
    source_nodes: Sequence[int] = (),
) -> Any:
    weight = "strength"
    if spec.name == "wcc":
        return gds.wcc.stream(graph)
    if spec.name == "louvain":
        assert isinstance(params, CommunityParams)
        if params.resolution != 1.0:
            raise ValueError("GDS Louvain has no resolution parameter; use engine inproc")
        # one thread: GDS Louvain is deterministic only without parallel moves
        return gds.louvain.stream(graph, relationship_weight_property=weight, concurrency=1)
    if spec.name == "leiden":
        assert isinstance(params, CommunityParams)
        return gds.leiden.stream(
            graph,
            relationship_weight_property=weight,
            concurrency=1,
            random_seed=params.seed,
            gamma=params.resolution,
        )
    if spec.name == "label_propagation":
        return gds.label_propagation.stream(
            graph, relationship_weight_property=weight, concurrency=1
        )
    if spec.name == "personalized_pagerank":
        assert isinstance(params, PersonalizedPageRankParams)
        if not source_nodes:
            raise ValueError("no seed customer (holder or participant) in the graph")
        return gds.page_rank.stream(
            graph,
            damping_factor=params.damping,
            max_iterations=params.max_iterations,
            tolerance=params.tolerance,
            relationship_weight_property=weight,
            source_nodes=[int(i) for i in source_nodes],
        )
    if spec.name == "pagerank":
        assert isinstance(params, PageRankParams)
        return gds.page_rank.stream(
            graph,
            damping_factor=params.damping,
            max_iterations=params.max_iterations,
            tolerance=params.tolerance,
            relationship_weight_property=weight,
        )
    if spec.name == "degree":
        return gds.degree.stream(graph)
    if spec.name == "betweenness":
        assert isinstance(params, BetweennessParams)
        pivots = None if params.samples is None else min(params.samples, graph.node_count())
        return gds.betweenness.stream(
            graph, sampling_size=pivots, sampling_seed=params.seed if pivots else None
        )
    raise ValueError(f"no GDS implementation of {spec.name}")


# --- risk linkages (in-process: structure searches, not per-node scores) ----------------------
def _linkage_id(kind: str, members: Sequence[str]) -> str:
    digest = hashlib.blake2b("|".join([kind, *members]).encode("utf-8"), digest_size=10)
    return f"{kind}:{digest.hexdigest()}"


def _linkage(
    kind: str,
    members: Sequence[str],
    *,
    ordered: bool,
    subtype: str | None = None,
    score: float | None = None,
    roles: Sequence[str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """One RiskLinkage row; ``extra`` are kind-specific properties (money in minor units)."""
    key_members = list(members) if ordered else sorted(members)
    return {
        "linkage_id": _linkage_id(kind, key_members),
        "props": {
            "kind": kind,
            "size": len(members),
            "subtype": subtype,
            "score": score,
            **extra,
        },
        "members": [
            {"customer_id": m, "position": i, "role": roles[i] if roles else None}
            for i, m in enumerate(members)
        ],
    }


def run_risk(
    spec: AlgorithmSpec,
    params: AlgorithmParams,
    edges: Sequence[Any],
    *,
    loan_balances: Mapping[str, int] | None = None,
    guarantees: Sequence[tuple[str, str, int]] = (),
) -> list[dict[str, Any]]:
    """Find one kind of risk linkage in the edges read for it (CPU-bound: use a thread).

    Money is integer minor units. Control groups also need ``loan_balances`` (customer ->
    open LOAN balances) and every guarantee, for their exposure.
    """
    kind = spec.result_property
    if isinstance(params, GuaranteeCircleParams):
        graph = GraphData.from_edges(
            [(s, d) for s, d, _ in edges], directed=True, amount=[a for _, _, a in edges]
        )
        return [
            _linkage(
                kind, c.members, ordered=True, subtype=c.kind.value, amount_minor=c.total_amount
            )
            for c in risk.guarantee_circles(graph, max_length=params.max_length)
        ]
    if isinstance(params, IdentifierRingParams):
        graph = GraphData.from_edges(list(edges), directed=True)
        return [
            _linkage(
                kind,
                r.members,
                ordered=False,
                score=r.score,
                shared_kinds=list(r.shared_kinds),
                identifier_count=len(r.identifiers),
            )
            for r in risk.shared_identifier_rings(
                graph, min_size=params.min_size, max_sharing=params.max_sharing
            )
        ]
    if isinstance(params, FundCycleParams):
        graph = GraphData.from_edges(
            [(s, d) for s, d, _, _ in edges],
            directed=True,
            amount=[a for _, _, a, _ in edges],
            time=[t for _, _, _, t in edges],
        )
        return [
            _linkage(
                kind,
                c.members,
                ordered=True,
                amount_minor=c.total_amount,
                min_amount_minor=c.min_amount,
            )
            for c in risk.fund_flow_cycles(
                graph, window=params.window_days * 86_400, max_length=params.max_length
            )
        ]
    if isinstance(params, ControlGroupParams):
        graph = GraphData.from_edges(
            [(s, d) for s, d, _ in edges], directed=True, weight=[p for _, _, p in edges]
        )
        given: dict[str, list[tuple[str, str, int]]] = {}
        for guarantee in guarantees:  # by guarantor: each group reads only its members'
            given.setdefault(guarantee[0], []).append(guarantee)
        found = []
        for g in risk.related_party_groups(
            graph, threshold=params.threshold_pct, ultimate_only=True
        ):
            members = (g.controller, *g.controlled)
            loans, out, total = risk.control_group_exposure(
                members,
                loan_balances=loan_balances or {},
                guarantees=[x for m in members for x in given.get(m, ())],
            )
            found.append(
                _linkage(
                    kind,
                    members,
                    ordered=True,
                    roles=["CONTROLLER", *["CONTROLLED"] * len(g.controlled)],
                    loan_balance_minor=loans,
                    guarantees_out_minor=out,
                    total_exposure_minor=total,
                )
            )
        return found
    raise ValueError(f"{spec.name} is not a risk-linkage algorithm")
