"""The engines behind one interface: in-process on a :class:`GraphData`, and GDS inside Neo4j.

An algorithm on the customer tie graph (undirected, weighted by strength) is two small
functions — one computing on a :class:`~algorithms.graphdata.GraphData`, one streaming a GDS
procedure on the projected graph — and :class:`InProcess` / :class:`OnGds` turn each into an
engine of the registry: they read (or project) the scoped tie graph, call the function in a
worker thread and hand the runner one value per customer id. Algorithms that read other
edges (risk linkages, cascades, segmentation) are engines of their own, in their modules.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import neo4j.exceptions as neo4j_errors
import numpy as np

from algorithms.context import Computed, RunContext
from algorithms.graphdata import GraphData
from algorithms.params import AlgorithmParams
from graph import gds as gds_client
from graph.errors import QueryFailedError
from graph.queries.projections import gds_cypher_projection
from graph.read_models import TieColumns
from graph.store import ConnectionTarget

P = TypeVar("P", bound=AlgorithmParams)
NodeValues = dict[str, float | int]
EngineFunction = Callable[[RunContext, Any], Awaitable[Computed]]
"""An engine: read what the algorithm needs, compute, return what to write."""
InProcessFunction = Callable[[GraphData, P], tuple[NodeValues, dict[str, Any]]]
"""Values per node id and a summary, from the tie graph (pure, CPU-bound)."""
GdsFunction = Callable[[Any, Any, P], tuple[Any, str]]
"""(the GDS client, the projected graph, params) -> (a stream's DataFrame, its value column)."""
Seeds = Callable[[RunContext, Any], Awaitable[list[str]]]
"""The customers a seeded algorithm starts from (personalised PageRank: holders, members)."""


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


@dataclass(frozen=True)
class InProcess:
    """The in-process engine of a tie-graph algorithm: read the scoped graph, compute.

    A seeded algorithm's ``compute`` is called as ``compute(graph, params, seeds)``.
    """

    compute: InProcessFunction[Any]
    seeds: Seeds | None = None

    async def __call__(self, run: RunContext, params: Any) -> Computed:
        chosen = await self.seeds(run, params) if self.seeds is not None else None
        customers, ties = await run.read_tie_graph(params)
        await run.progress(0.3, "compute")

        def work() -> tuple[NodeValues, dict[str, Any]]:
            graph = tie_graph(customers, ties)
            if chosen is None:
                return self.compute(graph, params)
            return self.compute(graph, params, chosen)  # type: ignore[call-arg]

        values, summary = await asyncio.to_thread(work)
        if chosen is not None:
            summary.setdefault("seeds", len(chosen))
        return Computed(dict(values), summary, len(customers), len(ties), ties=(customers, ties))


@dataclass(frozen=True)
class OnGds:
    """The GDS engine of a tie-graph algorithm: project the scoped graph, stream, map ids.

    Without a scope or ``min_strength`` the tie kinds are projected natively; with one, the
    Cypher projection of :mod:`graph.queries.projections`. A seeded ``stream`` is called as
    ``stream(gds, graph, params, source_nodes)`` with the seeds' Neo4j node ids.
    """

    stream: GdsFunction[Any]
    seeds: Seeds | None = None

    async def __call__(self, run: RunContext, params: Any) -> Computed:
        chosen = await self.seeds(run, params) if self.seeds is not None else None
        projection = None
        if not run.scope.is_whole_graph or params.min_strength > 0:
            projection = run.customer_scope.gds_projection(params.tie_kinds, params.min_strength)
        source_nodes = await run.projections.gds_node_ids(chosen) if chosen else None
        await run.progress(0.05, "compute")
        values, summary = await asyncio.to_thread(
            run_on_gds, run.spec.name, self.stream, params, run.gds_target, projection, source_nodes
        )
        if chosen is not None:
            summary.setdefault("seeds", len(chosen))
        return Computed(
            dict(values),
            summary,
            summary.get("projected_nodes"),
            summary.get("projected_relationships"),
        )


def run_on_gds(
    name: str,
    stream: GdsFunction[Any],
    params: AlgorithmParams,
    target: ConnectionTarget,
    cypher_projection: tuple[str, dict[str, Any]] | None = None,
    source_nodes: Sequence[int] | None = None,
) -> tuple[NodeValues, dict[str, Any]]:
    """Project, stream and drop inside Neo4j (blocking: call it from a worker thread).

    The projection is uniquely named and dropped when the run ends, whatever happens.
    """
    gds = gds_client.gds_client(target)
    try:
        return _run_on_gds(gds, name, stream, params, cypher_projection, source_nodes)
    except (neo4j_errors.ServiceUnavailable, neo4j_errors.SessionExpired):
        # the server went away under the process's client (a restart): once more, anew
        gds_client.close_gds_clients()
        gds = gds_client.gds_client(target)
        return _run_on_gds(gds, name, stream, params, cypher_projection, source_nodes)
    except neo4j_errors.Neo4jError as error:  # one clear error, never the client's traceback
        detail = (error.message or str(error)).strip().splitlines()
        raise QueryFailedError(
            f"GDS {name}", error.code, detail[0] if detail else type(error).__name__
        ) from error


def _run_on_gds(
    gds: Any,
    name: str,
    stream: GdsFunction[Any],
    params: AlgorithmParams,
    cypher_projection: tuple[str, dict[str, Any]] | None,
    source_nodes: Sequence[int] | None,
) -> tuple[NodeValues, dict[str, Any]]:
    summary: dict[str, Any] = {}
    # GDS refuses a native projection of a relationship type the database has never held
    # (a bank without CLASSMATE ties): project the kinds present; none present -> Cypher.
    present = gds_client.present_relationship_types(gds)
    kinds = tuple(kind for kind in params.tie_kinds if kind.value in present)
    summary["tie_kinds_absent"] = [k.value for k in params.tie_kinds if k.value not in present]
    if cypher_projection is None and not kinds:
        cypher_projection = (gds_cypher_projection(tuple(params.tie_kinds)), {"min_strength": 0.0})
    graph_name = f"crkg-{name}-{uuid.uuid4().hex[:12]}"
    with gds_client.projected_ties(
        gds, graph_name, kinds, cypher_projection=cypher_projection
    ) as graph:
        if source_nodes is None:
            frame, column = stream(gds, graph, params)
        else:
            frame, column = stream(gds, graph, params, source_nodes)  # type: ignore[call-arg]
        summary["projected_nodes"] = int(graph.node_count())
        summary["projected_relationships"] = int(graph.relationship_count())
    ids = gds_client.customer_ids_of(gds, [int(i) for i in frame["nodeId"]])
    integer = np.issubdtype(frame[column].dtype, np.integer)
    values: NodeValues = {
        ids[int(node)]: (int(value) if integer else float(value))
        for node, value in zip(frame["nodeId"], frame[column], strict=True)
    }
    return values, summary
